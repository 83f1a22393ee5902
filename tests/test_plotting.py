import io

import numpy as np
import pytest
from PIL import Image

from infogan_utils.plotting import image_to_png, tile_images


def test_greyscale_images_tile_into_one_padded_array():
    images = np.arange(3 * 2 * 2, dtype="float32").reshape(3, 2, 2, 1) / 12
    grid = tile_images(images, columns=2, padding=1, pad_value=1.0)
    assert grid.shape == (1 + 2 * 3, 1 + 2 * 3)  # 2 rows and 2 columns of 2x2 images, 1-pixel gaps
    assert np.array_equal(grid[1:3, 1:3], images[0, ..., 0]) and np.array_equal(grid[1:3, 4:6], images[1, ..., 0])
    assert np.array_equal(grid[4:6, 1:3], images[2, ..., 0]) and np.all(grid[4:6, 4:6] == 1.0)  # empty slot


def test_rgb_images_tile_with_their_colours():
    images = np.zeros((2, 2, 2, 3), "float32")
    images[0, ..., 0] = 1.0  # red
    images[1, ..., 2] = 1.0  # blue
    grid = tile_images(images, columns=2, padding=0)
    assert grid.shape == (2, 4, 3)
    assert grid[0, 0].tolist() == [1.0, 0.0, 0.0] and grid[0, 3].tolist() == [0.0, 0.0, 1.0]


def test_png_shows_grey_as_dark_ink_on_white_and_rgb_as_it_is():
    with Image.open(io.BytesIO(image_to_png(np.array([[0.0, 1.0]]), scale=2))) as picture:
        assert picture.mode == "L" and picture.size == (4, 2)
        assert np.asarray(picture)[0].tolist() == [255, 255, 0, 0]
    with Image.open(io.BytesIO(image_to_png(np.array([[[1.0, 0.5, 0.0]]])))) as picture:
        assert picture.mode == "RGB" and np.asarray(picture)[0, 0].tolist() == [255, 128, 0]


@pytest.mark.parametrize("shape", [(2, 4, 4, 2), (2, 4, 4, 4), (0, 4, 4), (4, 4)])
def test_other_shapes_are_refused(shape):
    with pytest.raises(ValueError, match=r"greyscale \(n, h, w\[, 1\]\) or RGB \(n, h, w, 3\)"):
        tile_images(np.zeros(shape, "float32"))


def test_the_history_plot_labels_its_axes_and_the_maximum_of_its_own_categories():
    import math

    import matplotlib

    matplotlib.use("Agg")
    from infogan_utils.plotting import plot_history

    history = {"step": [25, 50], "d_loss": [1.3, 1.2], "g_loss": [0.9, 1.0], "categorical_mi": [1.0, 1.5]}
    axes = plot_history(history, mi_max=math.log(3))
    assert (axes[0].get_xlabel(), axes[0].get_ylabel(), axes[1].get_ylabel()) == ("step", "loss", "nats")
    assert [text.get_text() for text in axes[1].get_legend().get_texts()] == ["categorical $L_I$", "ln 3 = 1.10"]
    assert axes[1].get_ylim() == (0.0, math.log(3) * 1.1)


def test_the_history_plot_shows_an_l_i_below_zero():
    """At the start of training Q can be worse than a uniform guess: L_I is then negative and must stay in view."""
    import math

    import matplotlib

    matplotlib.use("Agg")
    from infogan_utils.plotting import plot_history

    history = {"step": [25, 50], "d_loss": [1.3, 1.2], "g_loss": [0.9, 1.0], "categorical_mi": [-0.4, 2.0]}
    bottom, top = plot_history(history)[1].get_ylim()
    assert math.isclose(bottom, -0.44) and math.isclose(top, math.log(10) * 1.1)
