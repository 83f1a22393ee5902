"""Loading MNIST and Fashion-MNIST, and turning images into a training pipeline.

The loaders look for the data in this order:

1. the folder named by the ``INFOGAN_DATA_DIR`` environment variable, if set;
2. the repository's ``data/`` folder (the download cache);
3. for Fashion-MNIST, the IDX files of Debian's ``dataset-fashion-mnist`` package;
4. a download with :func:`keras.utils.get_file` into ``data/``, checked against its SHA-256.
"""

import gzip
import os
import pathlib
import zipfile

import numpy as np

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent
DEFAULT_DATA_DIR = PACKAGE_DIR.parent / "data"
DEBIAN_FASHION_MNIST_DIR = pathlib.Path("/usr/share/datasets/fashion-mnist")

MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz"
MNIST_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
FASHION_MNIST_URL = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
FASHION_MNIST_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
EXPECTED_SHAPES = {
    "x_train": (60000, 28, 28),
    "y_train": (60000,),
    "x_test": (10000, 28, 28),
    "y_test": (10000,),
}
DATASETS = ("mnist", "fashion_mnist")
VALIDATION_SIZE = 10000  # the last 10,000 training images: the labels development decisions may read


class DataError(ValueError):
    """Raised when a data file is missing, corrupt or has the wrong contents."""


def data_dirs():
    """The folders searched for data files, in order."""
    folders = []
    if os.environ.get("INFOGAN_DATA_DIR"):
        folders.append(pathlib.Path(os.environ["INFOGAN_DATA_DIR"]).expanduser())
    folders.append(DEFAULT_DATA_DIR)
    return folders


def load_mnist(path=None):
    """Return MNIST's official splits as ``(x_train, y_train), (x_test, y_test)``.

    Images are uint8 arrays of shape (n, 28, 28), labels uint8 of shape (n,).
    ``path`` names an ``mnist.npz`` file in Keras' layout; by default it is found
    in :func:`data_dirs` or downloaded into ``data/``.
    """
    if path is None:
        path = _find_file("mnist.npz") or _download_mnist()
    return _read_npz(pathlib.Path(path))


def load_fashion_mnist(path=None):
    """Return Fashion-MNIST's official splits as ``(x_train, y_train), (x_test, y_test)``.

    ``path`` may name a ``fashion_mnist.npz`` file in Keras' layout or a folder
    holding the four IDX ``.gz`` files (as Debian's ``dataset-fashion-mnist`` installs them).
    """
    if path is not None:
        path = pathlib.Path(path)
        return _read_idx_folder(path) if path.is_dir() else _read_npz(path)
    found = _find_file("fashion_mnist.npz")
    if found:
        return _read_npz(found)
    for folder in data_dirs() + [DEBIAN_FASHION_MNIST_DIR]:
        for candidate in (folder, folder / "fashion-mnist"):
            if all((candidate / name).exists() for name in FASHION_MNIST_FILES.values()):
                return _read_idx_folder(candidate)
    return _read_idx_folder(_download_fashion_mnist())


def load_dataset(name, path=None):
    """Load a dataset by name: ``"mnist"`` or ``"fashion_mnist"``."""
    if name == "mnist":
        return load_mnist(path)
    if name in ("fashion_mnist", "fashion-mnist"):
        return load_fashion_mnist(path)
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


def validation_split(train_images, train_labels, size=VALIDATION_SIZE):
    """The validation slice of a training set: its last ``size`` images and labels.

    Training is unsupervised and uses every training image; the validation labels are the only
    labels a development decision (a setting, an ablation, a diagnosis) may read. The test labels are
    read once per final configuration, for the results tables (``benchmarks/README.md``).
    """
    train_images, train_labels = np.asarray(train_images), np.asarray(train_labels)
    if len(train_images) != len(train_labels):
        raise ValueError(f"{len(train_images)} images but {len(train_labels)} labels")
    if not 0 < size < len(train_images):
        raise ValueError(f"the validation slice must hold between 1 and {len(train_images) - 1} images, got {size}")
    return train_images[-size:], train_labels[-size:]


def to_unit_range(images):
    """Convert uint8 images (n, 28, 28) to float32 (n, 28, 28, 1) in [0, 1], the generator's range."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"expected images of shape (n, height, width[, 1]), got {images.shape}")
    return images.astype("float32") / 255.0


def as_float_images(images):
    """Images as float32 in [0, 1]: integer images (uint8, 0..255, as the loaders return them) are scaled,
    float images are taken to be in [0, 1] already."""
    images = np.asarray(images)
    if np.issubdtype(images.dtype, np.integer):
        return images.astype("float32") / 255.0
    return images.astype("float32")


def make_dataset(images, batch_size=128, seed=0, repeat=True, start_step=0):
    """A shuffled, batched, prefetched ``tf.data.Dataset`` of images in [0, 1].

    Every pass over the images is a fresh permutation drawn from ``(seed, pass number)`` alone, and
    incomplete final batches are dropped, so every batch has ``batch_size`` images and batch ``s``
    is the same whatever came before it. ``start_step`` begins the stream at batch ``start_step``:
    a run resumed at step ``s`` sees exactly the batches a run that never stopped would have seen.
    """
    import tensorflow as tf

    if batch_size <= 0:
        raise ValueError(f"batch_size must be positive, got {batch_size}")
    if start_step < 0:
        raise ValueError(f"start_step must not be negative, got {start_step}")
    images = to_unit_range(images)
    if len(images) < batch_size:
        raise ValueError(f"need at least batch_size={batch_size} images, got {len(images)}")
    count = len(images)
    batches_per_pass = count // batch_size
    first_pass, skip = divmod(int(start_step), batches_per_pass)
    images = tf.constant(images)

    def batches_of_pass(number):
        order = tf.random.experimental.stateless_shuffle(
            tf.range(count, dtype=tf.int64), seed=tf.stack([tf.constant(seed, tf.int64), number]))
        return tf.data.Dataset.from_tensor_slices(order).batch(batch_size, drop_remainder=True)

    passes = tf.data.Dataset.counter(first_pass) if repeat else tf.data.Dataset.range(first_pass, first_pass + 1)
    dataset = passes.flat_map(batches_of_pass).skip(skip)
    return dataset.map(lambda indices: tf.gather(images, indices)).prefetch(tf.data.AUTOTUNE)


def _find_file(name):
    for folder in data_dirs():
        if (folder / name).is_file():
            return folder / name
    return None


def _read_npz(path):
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {key: archive[key] for key in EXPECTED_SHAPES if key in archive.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{path} is not a readable .npz file ({error}); delete it and load again") from None
    missing = [key for key in EXPECTED_SHAPES if key not in arrays]
    if missing:
        raise DataError(f"{path} lacks the arrays {', '.join(missing)} of Keras' mnist.npz layout")
    _check_arrays(arrays, path)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _read_idx_folder(folder):
    arrays = {key: _read_idx(folder / name) for key, name in FASHION_MNIST_FILES.items()}
    _check_arrays(arrays, folder)
    return (arrays["x_train"], arrays["y_train"]), (arrays["x_test"], arrays["y_test"])


def _read_idx(path):
    """Read one IDX file (optionally gzipped): a magic number, the dimensions, then uint8 data."""
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    try:
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rb") as handle:
            raw = handle.read()
    except (OSError, EOFError) as error:
        raise DataError(f"{path} is not a readable IDX file ({error})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes")
    ndim = raw[3]
    header = 4 + 4 * ndim
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if len(raw) != header + int(np.prod(shape)):
        raise DataError(f"{path} is truncated: its header promises shape {shape}")
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


def _check_arrays(arrays, source):
    for key, shape in EXPECTED_SHAPES.items():
        array = arrays[key]
        if array.shape != shape or array.dtype != np.uint8:
            raise DataError(
                f"{source}: {key} has shape {array.shape} and dtype {array.dtype}, "
                f"expected {shape} uint8"
            )
    for key in ("y_train", "y_test"):
        if arrays[key].max() > 9:
            raise DataError(f"{source}: {key} holds labels above 9")


def _download(url, name, sha256):
    import keras

    DEFAULT_DATA_DIR.mkdir(parents=True, exist_ok=True)
    try:
        path = keras.utils.get_file(
            fname=name, origin=url, file_hash=sha256, cache_dir=str(DEFAULT_DATA_DIR), cache_subdir="."
        )
    except Exception as error:  # offline, refused, or a hash mismatch
        raise DataError(
            f"could not download {name} ({type(error).__name__}); put the file in "
            f"{DEFAULT_DATA_DIR} or point INFOGAN_DATA_DIR at the folder that holds it"
        ) from None
    return pathlib.Path(path)


def _download_mnist():
    return _download(MNIST_URL, "mnist.npz", MNIST_SHA256)


def _download_fashion_mnist():
    folder = DEFAULT_DATA_DIR / "fashion-mnist"
    folder.mkdir(parents=True, exist_ok=True)
    for name in FASHION_MNIST_FILES.values():
        path = _download(FASHION_MNIST_URL + name, f"fashion-mnist/{name}", None)
        if path != folder / name:
            os.replace(path, folder / name)
    return folder

