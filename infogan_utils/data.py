"""Loading MNIST, Fashion-MNIST or a folder of your own images, and turning images into a training pipeline.

The loaders look for the data in this order:

1. the folder named by the ``INFOGAN_DATA_DIR`` environment variable, if set;
2. the download cache: the repository's ``data/`` folder in a checkout, ``~/.cache/infogan-utils`` for an
   installed package;
3. for Fashion-MNIST, the IDX files of Debian's ``dataset-fashion-mnist`` package;
4. a download with :func:`keras.utils.get_file` into the download cache, checked against its SHA-256.

:func:`load_image_folder` reads a folder of image files (any size, colour or not) into the same
uint8 (n, 28, 28) layout as MNIST's images, or into square RGB images of another size;
:func:`image_folder_format` tells which size and colour suit a folder.
"""

import gzip
import os
import pathlib
import warnings
import zipfile

import numpy as np

PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


def _default_data_dir():
    """The checkout's ``data/`` folder; for an installed package (Colab, pip), a per-user cache, so that a
    download never lands inside ``site-packages``."""
    checkout = PACKAGE_DIR.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "notebooks").is_dir():
        return checkout / "data"
    return pathlib.Path(os.environ.get("XDG_CACHE_HOME") or "~/.cache").expanduser() / "infogan-utils"


DEFAULT_DATA_DIR = _default_data_dir()
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
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm", ".pnm")
FITS = ("pad", "crop", "stretch")
# The image sides the package trains on, each with the name of the paper's network for that size (models.py).
IMAGE_SIZES = {28: "mnist", 32: "svhn", 64: "chairs"}
CHANNELS = (1, 3)  # greyscale or RGB
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


def load_image_folder(folder, image_size=28, invert="auto", fit="pad", recursive=False, with_labels=False,
                      skip_unreadable=False, skipped=None, channels=1):
    """Read every image file in ``folder`` into a uint8 array (n, image_size, image_size), MNIST's layout, or
    with ``channels=3`` into RGB images (n, image_size, image_size, 3).

    The result goes wherever MNIST's ``x_train`` goes (:func:`make_dataset`, :func:`to_unit_range`,
    the plots). Each file is read with Pillow and:

    1. turned upright by its EXIF orientation tag (photos from phones), first frame only (GIF, TIFF);
       transparent pixels are drawn over white, as an image viewer shows them;
    2. converted to greyscale (Pillow's ``L``: 0.299 R + 0.587 G + 0.114 B), or to RGB with ``channels=3``;
    3. inverted (255 - value) so that the ink is bright on a dark background, as in MNIST:
       ``invert="auto"`` inverts a greyscale image whose border (its outermost ring of pixels) has a mean
       above 127.5, i.e. dark-on-light images, image by image, and never an RGB one (a photograph is not
       ink on paper); ``True`` or ``False`` decide for all images;
    4. made square by ``fit``: ``"pad"`` (default) keeps the aspect ratio and pads the short side, on
       both sides equally, with the median of the border, channel by channel (after inversion: the background);
       ``"crop"`` keeps the central square; ``"stretch"`` changes the aspect ratio;
    5. resized to ``image_size`` x ``image_size``: box (area) averaging when shrinking, bilinear
       interpolation when enlarging; an image already of that size is left exactly as it is.

    Files are those whose suffix is in :data:`IMAGE_SUFFIXES` (any case), in sorted path order; other
    files and hidden ones (names starting with ``.``) are ignored. ``recursive=True`` also reads the
    subfolders. ``with_labels=True`` reads each first-level subfolder of ``folder`` as a class (with
    everything beneath it) and returns ``(images, labels, class_names)``: ``labels[i]`` is the index
    in the sorted ``class_names`` of image ``i``'s subfolder, for measuring the categories found
    (training itself never reads labels).

    Every problem is one ``ValueError`` (a :class:`DataError`) naming the folder or file: a missing
    folder, no image files, a file Pillow cannot decode, a bad ``image_size``. With
    ``skip_unreadable=True`` undecodable files are skipped with one warning that counts them; pass a list
    as ``skipped`` to get one line per skipped file (its path and why).
    """
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) or image_size < 1:
        raise DataError(f"image_size must be one positive whole number (images are made square), got {image_size!r}")
    if isinstance(channels, bool) or channels not in CHANNELS:
        raise DataError(f"channels must be 1 (greyscale) or 3 (RGB), got {channels!r}")
    if invert not in ("auto", True, False):
        raise DataError(f"invert must be 'auto', True or False, got {invert!r}")
    if fit not in FITS:
        raise DataError(f"fit must be one of {', '.join(FITS)}, got {fit!r}")
    folder = pathlib.Path(folder).expanduser()
    if not folder.exists():
        raise DataError(f"{folder}: no such folder")
    if not folder.is_dir():
        raise DataError(f"{folder} is a file, not a folder of images")
    if with_labels:
        class_names = sorted(path.name for path in folder.iterdir() if path.is_dir() and not path.name.startswith("."))
        loose = _image_files(folder, recursive=False)
        if loose:
            raise DataError(f"{loose[0]} lies directly in {folder}: with_labels=True reads the classes from "
                            f"subfolders, so put every image in the subfolder of its class")
        files, labels = [], []
        for label, name in enumerate(class_names):
            found = _image_files(folder / name, recursive=True)
            files += found
            labels += [label] * len(found)
    else:
        files, labels, class_names = _image_files(folder, recursive), None, None
    if not files:
        hint = ""
        if not recursive and not with_labels and _image_files(folder, recursive=True):
            hint = "; its subfolders do: pass recursive=True (or with_labels=True to use them as classes)"
        raise DataError(f"{folder} holds no image files ({', '.join(IMAGE_SUFFIXES)}){hint}")
    images, kept, problems = [], [], []
    for index, path in enumerate(files):
        try:
            pixels = _read_pixels(path, channels)
        except DataError as error:
            if not skip_unreadable:
                raise DataError(f"{error}; fix or remove it, or pass skip_unreadable=True") from None
            problems.append(str(error))
            continue
        images.append(_to_square(pixels, image_size, invert, fit))
        kept.append(index)
    if problems:
        warnings.warn(f"skipped {len(problems)} unreadable file(s) of {len(files)} in {folder}, "
                      f"the first: {problems[0]}", stacklevel=2)
        if skipped is not None:
            skipped.extend(problems)
    if not images:
        raise DataError(f"{folder} holds no readable image: all {len(files)} files failed to decode")
    images = np.stack(images)
    if not with_labels:
        return images
    return images, np.asarray(labels, dtype=np.int64)[kept], class_names


def _image_files(folder, recursive):
    """The image files in ``folder`` (and beneath it if ``recursive``), sorted, hidden ones left out."""
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(path for path in candidates
                  if path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()
                  and not any(part.startswith(".") for part in path.relative_to(folder).parts))


def _read_pixels(path, channels=1):
    """One image file as a uint8 array, (height, width) greyscale or (height, width, 3) RGB; any decoding
    problem is a one-line DataError."""
    from PIL import Image, ImageOps

    try:
        with Image.open(path) as image:
            image.load()
            image = ImageOps.exif_transpose(image)
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):  # 16-bit greyscale: scale 0..65535 to 0..255
                grey = np.clip(np.asarray(image, dtype=np.float64) / 257.0, 0, 255).round().astype(np.uint8)
                return grey if channels == 1 else np.repeat(grey[..., None], 3, axis=-1)
            if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in image.info:
                image = image.convert("RGBA")
                image = Image.alpha_composite(Image.new("RGBA", image.size, (255, 255, 255, 255)), image)
            return np.asarray(image.convert("L" if channels == 1 else "RGB"), dtype=np.uint8).copy()
    except Exception as error:  # Pillow's decoders raise many types (OSError, SyntaxError, ValueError, ...)
        reason = str(error).strip().splitlines()[0].replace(f" {str(path)!r}", "") if str(error).strip() \
            else type(error).__name__
        raise DataError(f"{path} is not a readable image ({reason})") from None


def _to_square(pixels, image_size, invert, fit):
    """Invert (if asked, or if a greyscale image's border is light), make square and resize one image,
    (height, width) greyscale or (height, width, 3) RGB."""
    from PIL import Image

    border = np.concatenate([pixels[0], pixels[-1], pixels[1:-1, 0], pixels[1:-1, -1]])
    if invert is True or (invert == "auto" and pixels.ndim == 2 and border.mean() > 127.5):
        pixels, border = 255 - pixels, 255 - border
    height, width = pixels.shape[:2]
    if fit == "pad" and height != width:
        side = max(height, width)
        top, left = (side - height) // 2, (side - width) // 2
        square = np.empty((side, side) + pixels.shape[2:], dtype=np.uint8)
        square[...] = np.median(border, axis=0).round()
        square[top:top + height, left:left + width] = pixels
        pixels = square
    elif fit == "crop" and height != width:
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        pixels = pixels[top:top + side, left:left + side]
    if pixels.shape[:2] == (image_size, image_size):
        return pixels
    shrinking = pixels.shape[0] >= image_size and pixels.shape[1] >= image_size
    resample = Image.Resampling.BOX if shrinking else Image.Resampling.BILINEAR
    return np.asarray(Image.fromarray(pixels).resize((image_size, image_size), resample), dtype=np.uint8)


GREY_MODES = ("1", "L", "LA", "La", "I", "I;16", "I;16B", "I;16L", "F")


def image_folder_format(folder, image_size=0):
    """``(image_size, channels)`` for training on ``folder`` (read with everything beneath it), from the
    files' headers alone: unless ``image_size`` is given, the largest of :data:`IMAGE_SIZES` no larger than
    the median image's longer side; and 3 (RGB) if any image is in colour, 1 otherwise. Files that cannot
    be opened are left to :func:`load_image_folder` to report. Images smaller than the smallest size are a
    DataError: enlarging them much would train on blur, so the reader decides (``image_size=28``)."""
    from PIL import Image

    folder = pathlib.Path(folder).expanduser()
    if not folder.is_dir():
        raise DataError(f"{folder}: no such folder")
    sides, colour = [], False
    for path in _image_files(folder, recursive=True):
        try:
            with Image.open(path) as image:
                sides.append(max(image.size))
                palette = image.getpalette() if image.mode == "P" else None
                grey_palette = palette is not None and palette[0::3] == palette[1::3] == palette[2::3]
                colour = colour or (image.mode not in GREY_MODES and not grey_palette)
        except Exception:  # Pillow raises many types; load_image_folder names the file and the reason
            continue
    if image_size or not sides:
        return image_size or min(IMAGE_SIZES), 3 if colour else 1
    median = int(np.median(sides))
    fitting = [size for size in IMAGE_SIZES if size <= median]
    if not fitting:
        raise DataError(f"the images of {folder} are about {median}x{median} pixels, smaller than the smallest "
                        f"size the networks serve ({min(IMAGE_SIZES)}x{min(IMAGE_SIZES)}); pass image_size="
                        f"{min(IMAGE_SIZES)} (--image-size {min(IMAGE_SIZES)}) to enlarge them")
    return max(fitting), 3 if colour else 1


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
    """Images (n, height, width[, channels]) as float32 (n, height, width, channels) in [0, 1], the generator's
    range: integer images (0..255) are scaled, float images are taken to be in [0, 1] already
    (:func:`as_float_images`). Greyscale images without a channel axis get one."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4:
        raise ValueError(f"expected images of shape (n, height, width[, channels]), got {images.shape}")
    return as_float_images(images)


def as_float_images(images):
    """Images as float32 in [0, 1]: integer images (uint8, 0..255, as the loaders return them) are scaled,
    float images are taken to be in [0, 1] already."""
    images = np.asarray(images)
    if np.issubdtype(images.dtype, np.integer):
        return images.astype("float32") / 255.0
    return images.astype("float32")


def make_dataset(images, batch_size=128, seed=0, repeat=True, start_step=0):
    """A shuffled, batched, prefetched ``tf.data.Dataset`` of images in [0, 1], without autotuning
    (:func:`without_autotuning`).

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
    return without_autotuning(dataset.map(lambda indices: tf.gather(images, indices)).prefetch(2))


def without_autotuning(dataset):
    """``dataset`` with tf.data's autotuning turned off, so that an iterator over it closes at once.

    An autotuned pipeline runs a thread that sleeps between tuning rounds, 10 ms, then 20, 40, ... up to
    a minute. When its iterator is destroyed (at the end of every ``model.fit`` call and every ``for``
    loop over the dataset) TensorFlow 2.21 often waits for that sleep to end, so ``fit`` can return up to
    the length of the current sleep after its last batch: 1 to 10 s for a call of a few seconds, up to a
    minute for a whole run (``benchmarks/STALL.md``). A fixed ``prefetch`` and cheap ``map`` steps, as in
    :func:`make_dataset`, need no tuning. ``InfoGAN.fit`` applies this to any ``tf.data.Dataset`` it gets.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


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


SHAPES = ("circle", "square", "triangle")


def write_shapes_folder(folder, per_class=40, size=64, seed=0):
    """Write a small labelled folder of RGB pictures to try the own-images workflow without a dataset at hand:
    ``per_class`` pictures of each of :data:`SHAPES` (a filled circle, square or triangle of random dark colour,
    size and place on a random light background), ``size`` pixels square, half of each class in a nested
    ``more/`` subfolder, as a reader's collection might be. Returns ``folder``."""
    from PIL import Image, ImageDraw

    folder = pathlib.Path(folder)
    rng = np.random.default_rng(seed)
    for name in SHAPES:
        for index in range(per_class):
            path = folder / name / ("more" if index % 2 else "") / f"{index:03d}.png"
            path.parent.mkdir(parents=True, exist_ok=True)
            picture = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(200, 256, 3)))
            draw = ImageDraw.Draw(picture)
            radius, x, y = rng.integers(size // 6, size // 3), *rng.integers(size // 3, 2 * size // 3, 2)
            colour = tuple(int(v) for v in rng.integers(0, 90, 3))
            box = [x - radius, y - radius, x + radius, y + radius]
            if name == "circle":
                draw.ellipse(box, fill=colour)
            elif name == "square":
                draw.rectangle(box, fill=colour)
            else:
                draw.polygon([(x, y - radius), (x - radius, y + radius), (x + radius, y + radius)], fill=colour)
            picture.save(path)
    return folder


def folder_has_classes(folder):
    """True when ``folder`` holds its images in first-level subfolders (one per class) and none loose."""
    folder = pathlib.Path(folder).expanduser()
    if not folder.is_dir():
        return False
    subfolders = [path for path in folder.iterdir() if path.is_dir() and not path.name.startswith(".")]
    return bool(subfolders) and not _image_files(folder, recursive=False)

