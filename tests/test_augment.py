import keras
import numpy as np
import pytest
import tensorflow as tf

from infogan_utils.augment import affine_warp, random_affine


def identity(count):
    return np.tile(np.eye(2, dtype="float32"), (count, 1, 1)), np.zeros((count, 2), "float32")


def test_the_identity_transform_returns_the_images():
    images = np.random.default_rng(0).random((3, 6, 5, 2)).astype("float32")
    assert np.array_equal(affine_warp(images, *identity(3)).numpy(), images)


def test_a_whole_pixel_shift_moves_the_image_and_fills_with_zeros():
    image = np.arange(16, dtype="float32").reshape(1, 4, 4, 1)
    matrices, offsets = identity(1)
    offsets[0] = [1.0, 0.0]  # output pixel (x, y) reads the input at (x + 1, y)
    shifted = affine_warp(image, matrices, offsets).numpy()[0, :, :, 0]
    assert np.array_equal(shifted, [[1, 2, 3, 0], [5, 6, 7, 0], [9, 10, 11, 0], [13, 14, 15, 0]])


def test_a_half_pixel_shift_interpolates_bilinearly():
    image = np.array([[0.0, 2.0], [4.0, 6.0]], "float32").reshape(1, 2, 2, 1)
    matrices, offsets = identity(1)
    offsets[0] = [0.5, 0.5]
    warped = affine_warp(image, matrices, offsets).numpy()[0, :, :, 0]
    # (0, 0) reads the middle of the four pixels; the others reach half or three quarters outside
    assert np.allclose(warped, [[3.0, 2.0], [2.5, 1.5]])


def test_a_quarter_turn_rotates_about_the_centre():
    image = np.arange(9, dtype="float32").reshape(1, 3, 3, 1)
    matrices = np.array([[[0.0, -1.0], [1.0, 0.0]]], "float32")  # output (x, y) reads input (-y, x)
    rotated = affine_warp(image, matrices, np.zeros((1, 2), "float32")).numpy()[0, :, :, 0]
    assert np.array_equal(rotated, np.rot90(image[0, :, :, 0]))  # [[2, 5, 8], [1, 4, 7], [0, 3, 6]]


def test_the_warp_passes_gradients_to_the_images():
    images = tf.Variable(np.ones((2, 4, 4, 1), "float32"))
    matrices, offsets = identity(2)
    offsets[:] = 0.5
    with tf.GradientTape() as tape:
        total = tf.reduce_sum(affine_warp(images, matrices, offsets))
    gradient = tape.gradient(total, images).numpy()
    # each input pixel's share of the output: 1 inside, less on the edge the shift pushes out
    assert gradient[0, 0, 0, 0] == pytest.approx(0.25)
    assert gradient[0, 3, 3, 0] == pytest.approx(1.0)


def test_random_affine_keeps_the_ink_and_differs_per_image():
    digit = np.zeros((1, 28, 28, 1), "float32")
    digit[0, 8:20, 12:16] = 1.0  # a bar well inside the frame
    images = np.repeat(digit, 8, axis=0)
    distorted = random_affine(images, 1.0, seed=keras.random.SeedGenerator(0)).numpy()
    assert distorted.shape == images.shape
    assert 0.0 <= distorted.min() and distorted.max() <= 1.0 + 1e-6
    ink = distorted.sum(axis=(1, 2, 3))
    assert np.all(np.abs(ink / images[0].sum() - 1.0) < 0.4)  # at most a 15% scale change on each axis
    assert len({round(float(value), 3) for value in ink}) == 8  # every image got its own transform
    assert not np.allclose(distorted[0], distorted[1])


def test_strength_zero_changes_nothing_and_a_negative_strength_is_refused():
    images = np.random.default_rng(0).random((2, 28, 28, 1)).astype("float32")
    assert np.array_equal(random_affine(images, 0.0).numpy(), images)
    for strength in (-0.5, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="must be a finite number that is not negative"):
            random_affine(images, strength)


def test_the_warp_rejects_images_without_a_channel_axis():
    with pytest.raises(ValueError, match=r"\(n, height, width, channels\)"):
        affine_warp(np.zeros((2, 28, 28), "float32"), *identity(2))
