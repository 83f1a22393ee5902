import gzip
import os
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
        message = "Debian's dataset-fashion-mnist is not installed (.ci/run installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI installs it: missing there is a broken .ci/run, not a reason to skip
        pytest.skip(message)
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


# A folder of your own images -------------------------------------------------------------------------------


def _save(path, pixels, **options):
    """Write an image file with Pillow; ``pixels`` is (h, w) greyscale or (h, w, 3|4) uint8."""
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(path, **options)
    return path


def _bar(size=28):
    image = np.zeros((size, size), np.uint8)
    image[6:22, 12:16] = 255
    image[6:8, 8:20] = 180
    return image


def test_a_28x28_greyscale_image_is_read_as_it_is(tmp_path):
    _save(tmp_path / "bar.png", _bar())
    images = data.load_image_folder(tmp_path)
    assert images.shape == (1, 28, 28) and images.dtype == np.uint8
    assert np.array_equal(images[0], _bar())


def test_dark_ink_on_white_is_inverted_automatically(tmp_path):
    _save(tmp_path / "white.png", np.stack([255 - _bar()] * 3, axis=-1))  # RGB, black on white
    assert np.array_equal(data.load_image_folder(tmp_path)[0], _bar())
    assert np.array_equal(data.load_image_folder(tmp_path, invert=False)[0], 255 - _bar())
    _save(tmp_path / "white.png", _bar())
    assert np.array_equal(data.load_image_folder(tmp_path, invert=True)[0], 255 - _bar())


def test_mnist_digits_round_trip_through_png_files_exactly(tmp_path, mnist_path):
    (x_train, _), _ = data.load_mnist(mnist_path)
    for index, digit in enumerate(x_train[:20]):
        _save(tmp_path / "as-is" / f"{index:02d}.png", digit)
        _save(tmp_path / "dark-on-light" / f"{index:02d}.png", 255 - digit)
    for name in ("as-is", "dark-on-light"):
        images = data.load_image_folder(tmp_path / name)
        assert images.dtype == x_train.dtype and np.array_equal(images, x_train[:20]), name


def test_a_wide_colour_image_is_padded_to_a_square_then_shrunk(tmp_path):
    """56 wide x 40 high: 8 rows of background above and below make it 56 x 56, then 2 x 2 box averaging
    halves it; every 2 x 2 block of the input is uniform, so every output pixel is known exactly."""
    small = np.random.default_rng(1).integers(0, 256, size=(20, 28), dtype=np.uint8)
    small[[0, -1], :] = 0
    small[:, [0, -1]] = 0
    colour = np.stack([np.kron(small, np.ones((2, 2), np.uint8))] * 3, axis=-1)  # grey pixels in RGB
    colour[10:12, 10:12] = (255, 0, 0)  # one pure red block: Pillow's luma L = 0.299 R + 0.587 G + 0.114 B
    _save(tmp_path / "wide.png", colour)
    expected = np.zeros((28, 28), np.uint8)
    expected[4:24] = small
    expected[4 + 5, 5] = 76  # 0.299 * 255
    assert np.array_equal(data.load_image_folder(tmp_path)[0], expected)


def test_crop_and_stretch_fits(tmp_path):
    wide = np.kron(np.random.default_rng(2).integers(0, 100, size=(28, 42), dtype=np.uint8), np.ones((2, 2), np.uint8))
    _save(tmp_path / "wide.png", wide)  # 84 x 56: the central square is columns 14..69
    cropped = data.load_image_folder(tmp_path, fit="crop", invert=False)[0]
    assert np.array_equal(cropped, wide[::2, 14:70:2])
    pattern = (np.arange(28 * 28).reshape(28, 28) % 100).astype(np.uint8)
    _save(tmp_path / "wide.png", np.kron(pattern, np.ones((1, 2), np.uint8)))  # 56 x 28: each pixel doubled in width
    assert np.array_equal(data.load_image_folder(tmp_path, fit="stretch", invert=False)[0], pattern)


def test_small_images_are_enlarged_and_other_sizes_asked_for(tmp_path):
    _save(tmp_path / "small.png", np.full((14, 10), 90, np.uint8))
    images = data.load_image_folder(tmp_path, invert=False)
    assert images.shape == (1, 28, 28) and np.all(images == 90)  # uniform stays uniform, padding included
    assert data.load_image_folder(tmp_path, image_size=64, invert=False).shape == (1, 64, 64)


def test_every_common_format_is_read(tmp_path):
    bar = _bar()
    for name in ("a.png", "b.BMP", "c.gif", "d.tif", "e.webp", "f.pgm"):
        _save(tmp_path / name, bar, **({"lossless": True} if name.endswith(".webp") else {}))
    _save(tmp_path / "g.jpg", bar, quality=95)
    images = data.load_image_folder(tmp_path)
    assert len(images) == 7 and all(np.array_equal(image, bar) for image in images[:6])
    assert np.abs(images[6].astype(int) - bar).max() < 40  # JPEG is lossy


def test_transparency_16_bits_and_exif_orientation(tmp_path):
    from PIL import Image

    rgba = np.zeros((28, 28, 4), np.uint8)
    rgba[..., 3] = 255 - _bar()  # black ink where opaque, transparent elsewhere: drawn over white
    _save(tmp_path / "transparent" / "a.png", rgba)
    assert np.array_equal(data.load_image_folder(tmp_path / "transparent")[0], _bar())
    path = tmp_path / "deep" / "a.png"
    path.parent.mkdir()
    Image.fromarray(_bar().astype(np.uint16) * 257).save(path)  # 16 bits: 0..65535
    assert np.array_equal(data.load_image_folder(path.parent)[0], _bar())
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 degrees clockwise to display"
    _save(tmp_path / "photo" / "a.png", _bar(), exif=exif)
    assert np.array_equal(data.load_image_folder(tmp_path / "photo")[0], np.rot90(_bar(), k=-1))


def test_files_are_sorted_and_other_files_ignored(tmp_path):
    for index, name in enumerate(["b.png", "a.png", "sub/c.png"]):
        _save(tmp_path / name, np.full((28, 28), 10 * (index + 1), np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "._a.png").write_bytes(b"macOS resource fork")  # hidden: never read
    (tmp_path / ".cache").mkdir()
    (tmp_path / ".cache" / "x.png").write_bytes(b"hidden folder")
    assert data.load_image_folder(tmp_path)[:, 0, 0].tolist() == [20, 10]  # a.png, b.png
    assert data.load_image_folder(tmp_path, recursive=True)[:, 0, 0].tolist() == [20, 10, 30]


def test_subfolders_as_classes(tmp_path):
    _save(tmp_path / "dogs" / "deeper" / "x.png", np.full((28, 28), 3, np.uint8))
    _save(tmp_path / "cats" / "b.png", np.full((28, 28), 2, np.uint8))
    _save(tmp_path / "cats" / "a.png", np.full((28, 28), 1, np.uint8))
    images, labels, class_names = data.load_image_folder(tmp_path, with_labels=True)
    assert class_names == ["cats", "dogs"] and labels.tolist() == [0, 0, 1]
    assert images[:, 0, 0].tolist() == [1, 2, 3]
    _save(tmp_path / "loose.png", np.zeros((28, 28), np.uint8))
    with pytest.raises(data.DataError, match="loose.png lies directly in .*put every image in the subfolder"):
        data.load_image_folder(tmp_path, with_labels=True)


def test_the_images_train_like_mnist(tmp_path):
    for index in range(40):
        _save(tmp_path / f"{index:02d}.png", np.roll(_bar(56), index, axis=1))
    images = data.load_image_folder(tmp_path)
    batch = next(iter(data.make_dataset(images, batch_size=32)))
    values = batch.numpy()
    assert values.shape == (32, 28, 28, 1) and 0.0 <= values.min() < values.max() <= 1.0


def _one_line(error):
    message = str(error.value)
    assert "\n" not in message and isinstance(error.value, ValueError)
    return message


def test_missing_folder_file_and_empty_folder(tmp_path):
    with pytest.raises(data.DataError, match="nowhere: no such folder") as error:
        data.load_image_folder(tmp_path / "nowhere")
    _one_line(error)
    _save(tmp_path / "a.png", _bar())
    with pytest.raises(data.DataError, match="a.png is a file, not a folder of images"):
        data.load_image_folder(tmp_path / "a.png")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.txt").write_text("no images here")
    with pytest.raises(data.DataError, match=r"empty holds no image files \(.png, .jpg") as error:
        data.load_image_folder(tmp_path / "empty")
    _one_line(error)
    _save(tmp_path / "nested" / "inner" / "a.png", _bar())
    with pytest.raises(data.DataError, match="its subfolders do: pass recursive=True"):
        data.load_image_folder(tmp_path / "nested")


def test_an_unreadable_file_is_named(tmp_path):
    import io

    from PIL import Image

    _save(tmp_path / "a.png", _bar())
    (tmp_path / "b.png").write_bytes(b"this is not a PNG file")
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(3).integers(0, 256, (64, 64), dtype=np.uint8)).save(buffer, format="PNG")
    (tmp_path / "c.png").write_bytes(buffer.getvalue()[:2000])
    with pytest.raises(data.DataError, match=r"b.png is not a readable image \(cannot identify image file\); "
                                             r"fix or remove it, or pass skip_unreadable=True") as error:
        data.load_image_folder(tmp_path)
    _one_line(error)
    (tmp_path / "b.png").unlink()
    with pytest.raises(data.DataError, match=r"c.png is not a readable image \(image file is truncated\)"):
        data.load_image_folder(tmp_path)
    (tmp_path / "b.png").write_bytes(b"")
    with pytest.warns(UserWarning, match=r"skipped 2 unreadable file\(s\) of 3 .*b.png is not a readable image"):
        images = data.load_image_folder(tmp_path, skip_unreadable=True)
    assert np.array_equal(images, _bar()[None])
    (tmp_path / "a.png").unlink()
    with pytest.warns(UserWarning), pytest.raises(data.DataError, match="holds no readable image: all 2 files failed"):
        data.load_image_folder(tmp_path, skip_unreadable=True)


def test_rgb_images_keep_their_colours_and_are_never_inverted_automatically(tmp_path):
    """channels=3: the pixels as they are (light background included), padded with the border's median colour
    channel by channel; a 2 x 2 block of one colour shrinks to that colour exactly."""
    picture = np.zeros((40, 56, 3), np.uint8)
    picture[...] = (250, 240, 200)  # a light, tinted background
    picture[10:12, 10:12] = (255, 0, 0)
    _save(tmp_path / "wide.png", picture)
    images = data.load_image_folder(tmp_path, channels=3)
    assert images.shape == (1, 28, 28, 3) and images.dtype == np.uint8
    expected = np.empty((28, 28, 3), np.uint8)
    expected[...] = (250, 240, 200)  # the 8 rows of padding above and below have the background's colour
    expected[4 + 5, 5] = (255, 0, 0)
    assert np.array_equal(images[0], expected)
    assert np.array_equal(data.load_image_folder(tmp_path, channels=3, invert=True)[0], 255 - expected)
    assert data.load_image_folder(tmp_path, channels=3, image_size=64).shape == (1, 64, 64, 3)
    _save(tmp_path / "wide.png", _bar())  # a greyscale file read as RGB: three equal channels
    assert np.array_equal(data.load_image_folder(tmp_path, channels=3)[0], np.stack([_bar()] * 3, axis=-1))


@pytest.mark.parametrize("sides, modes, expected", [
    ([28, 28, 30], ["L", "L", "L"], (28, 1)),
    ([32, 40, 50], ["L", "RGB", "L"], (32, 3)),
    ([64, 64, 200], ["RGB", "RGBA", "RGB"], (64, 3)),
    ([640, 480, 1024], ["L", "L", "L"], (64, 1)),
])
def test_the_image_format_is_chosen_from_the_files_headers(tmp_path, sides, modes, expected):
    from PIL import Image

    for index, (side, mode) in enumerate(zip(sides, modes)):
        Image.new(mode, (side, side * 3 // 4)).save(tmp_path / f"{index}.png")
    (tmp_path / "broken.png").write_bytes(b"not an image")  # left to load_image_folder to report
    assert data.image_folder_format(tmp_path) == expected


def test_images_smaller_than_the_smallest_network_are_refused_unless_a_size_is_asked_for(tmp_path):
    from PIL import Image

    Image.new("L", (7, 7)).save(tmp_path / "tiny.png")
    with pytest.raises(data.DataError, match=r"about 7x7 pixels, smaller than .* \(28x28\); pass image_size=28") \
            as error:
        data.image_folder_format(tmp_path)
    _one_line(error)
    assert data.image_folder_format(tmp_path, image_size=28) == (28, 1)


def test_the_shapes_folder_is_64x64_rgb_in_nested_class_folders(tmp_path):
    folder = data.write_shapes_folder(tmp_path / "shapes", per_class=4)
    images, labels, names = data.load_image_folder(folder, with_labels=True, channels=3, image_size=64)
    assert names == list(data.SHAPES) and labels.tolist() == [0] * 4 + [1] * 4 + [2] * 4
    assert images.shape == (12, 64, 64, 3) and len(list(folder.glob("*/more/*.png"))) == 6
    assert data.image_folder_format(folder) == (64, 3)


@pytest.mark.parametrize("options, message", [
    ({"channels": 2}, "channels must be 1 .greyscale. or 3 .RGB., got 2"),
    ({"image_size": 0}, "image_size must be one positive whole number .*got 0"),
    ({"image_size": -28}, "image_size must be one positive whole number"),
    ({"image_size": 28.0}, "image_size must be one positive whole number .*got 28.0"),
    ({"image_size": (28, 32)}, r"images are made square\), got \(28, 32\)"),
    ({"image_size": True}, "image_size must be one positive whole number"),
    ({"invert": "yes"}, "invert must be 'auto', True or False, got 'yes'"),
    ({"fit": "zoom"}, "fit must be one of pad, crop, stretch, got 'zoom'"),
])
def test_bad_options_are_refused_before_reading(tmp_path, options, message):
    with pytest.raises(data.DataError, match=message) as error:
        data.load_image_folder(tmp_path / "not even read", **options)
    _one_line(error)


def test_make_dataset_takes_float_images_in_the_unit_range_as_they_are():
    """Images already in [0, 1] (as a reader's own array may be) are not divided by 255 a second time."""
    rng = np.random.default_rng(4)
    integers = rng.integers(0, 256, size=(64, 28, 28), dtype=np.uint8)
    floats = integers.astype("float32") / 255.0
    from_integers = np.concatenate([b.numpy() for b in data.make_dataset(integers, 32, seed=2, repeat=False)])
    from_floats = np.concatenate([b.numpy() for b in data.make_dataset(floats, 32, seed=2, repeat=False)])
    assert from_floats.max() > 0.9 and np.array_equal(from_floats, from_integers)
