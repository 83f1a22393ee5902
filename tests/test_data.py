import gzip
import zipfile

import numpy as np
import pytest

from infogan_utils import data

MNIST_TRAIN_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
MNIST_TEST_COUNTS = [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_mnist_has_the_official_splits(mnist_path):
    (x_train, y_train), (x_test, y_test) = data.load_mnist(mnist_path)
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and y_test.dtype == np.uint8
    assert np.bincount(y_train).tolist() == MNIST_TRAIN_COUNTS
    assert np.bincount(y_test).tolist() == MNIST_TEST_COUNTS
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]


def test_mnist_is_found_through_the_data_dir_variable(mnist_path, monkeypatch):
    monkeypatch.setenv("INFOGAN_DATA_DIR", str(mnist_path.parent))
    (_, y_train), _ = data.load_mnist()
    assert len(y_train) == 60000


def _no_download(monkeypatch, tmp_path):
    import keras

    monkeypatch.setenv("INFOGAN_DATA_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(data, "DEFAULT_DATA_DIR", tmp_path / "cache")

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(keras.utils, "get_file", offline)


def test_offline_without_the_file_says_where_to_put_it(monkeypatch, tmp_path):
    _no_download(monkeypatch, tmp_path)
    with pytest.raises(data.DataError) as error:
        data.load_mnist()
    message = str(error.value)
    assert "mnist.npz" in message and str(tmp_path / "cache") in message and "INFOGAN_DATA_DIR" in message
    assert "\n" not in message


def test_a_file_of_garbage_is_named_in_the_error(tmp_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(b"not a zip archive at all")
    with pytest.raises(data.DataError, match="mnist.npz is not a readable .npz file"):
        data.load_mnist(path)


def test_a_truncated_file_is_named_in_the_error(tmp_path, mnist_path):
    path = tmp_path / "mnist.npz"
    path.write_bytes(mnist_path.read_bytes()[:200_000])
    with pytest.raises(data.DataError, match=str(path)):
        data.load_mnist(path)


def test_wrongly_shaped_arrays_are_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.zeros((100, 28, 28), np.uint8), y_train=np.zeros(100, np.uint8),
             x_test=np.zeros((10, 28, 28), np.uint8), y_test=np.zeros(10, np.uint8))
    with pytest.raises(data.DataError, match=r"x_train has shape \(100, 28, 28\)"):
        data.load_mnist(path)


def test_missing_arrays_are_refused(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, images=np.zeros((3, 2), np.uint8))
    with pytest.raises(data.DataError, match="lacks the arrays x_train, y_train, x_test, y_test"):
        data.load_mnist(path)


def test_pickled_arrays_are_never_loaded(tmp_path):
    path = tmp_path / "mnist.npz"
    np.savez(path, x_train=np.array([{"evil": 1}], dtype=object), y_train=np.zeros(1, np.uint8),
             x_test=np.zeros(1, np.uint8), y_test=np.zeros(1, np.uint8))
    with pytest.raises(data.DataError, match="not a readable .npz file"):
        data.load_mnist(path)


def _write_idx(path, array):
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


def test_idx_files_round_trip(tmp_path):
    images = np.arange(2 * 28 * 28).reshape(2, 28, 28) % 256
    _write_idx(tmp_path / "x.gz", images)
    assert np.array_equal(data._read_idx(tmp_path / "x.gz"), images)


def test_a_truncated_idx_file_is_refused(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    header = bytes([0, 0, 0x08, 3]) + b"".join(d.to_bytes(4, "big") for d in (60000, 28, 28))
    with gzip.open(path, "wb") as handle:
        handle.write(header + bytes(1000))
    with pytest.raises(data.DataError, match="is truncated"):
        data._read_idx(path)


def test_fashion_mnist_from_debian_package():
    if not data.DEBIAN_FASHION_MNIST_DIR.is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed (.ci/run installs it)")
    (x_train, y_train), (x_test, y_test) = data.load_fashion_mnist(data.DEBIAN_FASHION_MNIST_DIR)
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10


def test_unknown_dataset_name():
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        data.load_dataset("cifar")


def test_make_dataset_gives_full_batches_in_unit_range():
    images = np.random.default_rng(0).integers(0, 256, size=(70, 28, 28), dtype=np.uint8)
    batches = list(data.make_dataset(images, batch_size=32, seed=1, repeat=False))
    assert [tuple(b.shape) for b in batches] == [(32, 28, 28, 1), (32, 28, 28, 1)]
    values = np.concatenate([b.numpy() for b in batches])
    assert values.dtype == np.float32
    # every batch image is one of the inputs divided by 255, exactly, and none comes twice in a pass
    originals = {image.tobytes(): index for index, image in enumerate(images)}
    picked = [originals[np.rint(value[..., 0] * 255).astype(np.uint8).tobytes()] for value in values]
    assert len(set(picked)) == 64
    assert np.array_equal(values[..., 0], images[picked].astype(np.float32) / 255.0)


def test_make_dataset_starts_at_any_step_with_the_same_batches():
    """Batch s depends on (seed, s) alone: a stream started at s continues a stream from 0 exactly,
    across passes over the data (5 images a batch, 3 batches a pass)."""
    images = (np.arange(16)[:, None, None] * np.ones((1, 28, 28))).astype(np.uint8)

    def first_values(dataset, count):
        return [tuple(int(v) for v in np.rint(batch.numpy()[:, 0, 0, 0] * 255)) for batch in dataset.take(count)]

    from_zero = first_values(data.make_dataset(images, batch_size=5, seed=4), 9)
    for start in (1, 3, 4, 7):
        assert first_values(data.make_dataset(images, batch_size=5, seed=4, start_step=start), 9 - start) \
            == from_zero[start:]
    for number in range(3):  # each pass is a permutation: 15 distinct images of the 16
        values = sum(from_zero[3 * number:3 * number + 3], ())
        assert len(set(values)) == 15
    assert from_zero[:3] != from_zero[3:6]  # every pass is shuffled anew
    assert first_values(data.make_dataset(images, batch_size=5, seed=5), 3) != from_zero[:3]
    with pytest.raises(ValueError, match="start_step must not be negative"):
        data.make_dataset(images, batch_size=5, start_step=-1)


def test_make_dataset_shuffles_reproducibly():
    images = np.arange(64 * 28 * 28, dtype=np.int64).reshape(64, 28, 28) % 251
    first = next(iter(data.make_dataset(images.astype(np.uint8), 16, seed=5))).numpy()
    again = next(iter(data.make_dataset(images.astype(np.uint8), 16, seed=5))).numpy()
    other = next(iter(data.make_dataset(images.astype(np.uint8), 16, seed=6))).numpy()
    assert np.array_equal(first, again) and not np.array_equal(first, other)


@pytest.mark.parametrize("batch_size, n, message", [(0, 10, "batch_size must be positive"),
                                                    (32, 10, "need at least batch_size=32 images")])
def test_make_dataset_errors(batch_size, n, message):
    with pytest.raises(ValueError, match=message):
        data.make_dataset(np.zeros((n, 28, 28), np.uint8), batch_size=batch_size)


def test_the_validation_slice_is_the_last_10000_training_images(mnist_path):
    (x_train, y_train), _ = data.load_mnist(mnist_path)
    images, labels = data.validation_split(x_train, y_train)
    assert images.shape == (10000, 28, 28) and np.array_equal(images, x_train[50000:])
    assert np.array_equal(labels, y_train[50000:]) and np.bincount(labels).sum() == 10000
    with pytest.raises(ValueError, match="between 1 and 59999"):
        data.validation_split(x_train, y_train, size=60000)
    with pytest.raises(ValueError, match="60000 images but 10 labels"):
        data.validation_split(x_train, y_train[:10])
