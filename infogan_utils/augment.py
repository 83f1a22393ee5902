"""Random affine distortions of image batches, differentiable and XLA-compatible.

InfoGAN's Q head can read the categorical code from a generated digit's style just as well as
from its identity: a 10-way code that splits the 4s and 9s by slant is as informative as one that
separates them. When Q reads the categorical code from a randomly rotated, sheared, rescaled and
shifted copy of each generated image, a code carried by slant or width no longer survives, and the
generator is pushed to carry it in what survives those distortions: the digit's shape.

TensorFlow's own image transform has no XLA kernel, so the bilinear warp is written with matrix products.
"""

import math

import keras
import tensorflow as tf

# What strength 1 means: the largest rotation (radians), shear, relative scale change and shift (pixels).
MAX_ROTATION = math.radians(20.0)
MAX_SHEAR = 0.3
MAX_SCALE_CHANGE = 0.15
MAX_SHIFT = 2.0


def affine_warp(images, matrices, offsets):
    """Resample ``images`` (n, h, w, c) with bilinear interpolation; pixels from outside are 0.

    Output pixel ``p`` (x, y coordinates about the image centre) takes the input at
    ``matrices[i] @ p + offsets[i]``: ``matrices`` is (n, 2, 2) and ``offsets`` (n, 2), in pixels.
    The identity matrix with zero offsets returns the images unchanged.
    """
    images = tf.convert_to_tensor(images)
    if images.shape.rank != 4:
        raise ValueError(f"images must have shape (n, height, width, channels), got {images.shape}")
    height, width, channels = images.shape[1:]
    dtype = images.dtype
    matrices = tf.cast(matrices, dtype)
    offsets = tf.cast(offsets, dtype)
    centre_y, centre_x = (height - 1) / 2.0, (width - 1) / 2.0
    rows, columns = tf.meshgrid(tf.range(height, dtype=dtype) - centre_y,
                                tf.range(width, dtype=dtype) - centre_x, indexing="ij")
    grid = tf.stack([tf.reshape(columns, [-1]), tf.reshape(rows, [-1])])  # (2, h*w) as (x, y)
    source = tf.einsum("nij,jp->nip", matrices, grid) + offsets[:, :, None]
    source_x, source_y = source[:, 0] + centre_x, source[:, 1] + centre_y  # (n, h*w)
    # Bilinear interpolation as two dense contractions with "tent" weights max(0, 1 - distance): a
    # pixel outside the image gets weight 0 (zero padding), and matrix products run fast under XLA
    # where per-pixel gathers (and their scatter gradients) do not.
    row_weights = tf.nn.relu(1.0 - tf.abs(source_y[..., None] - tf.range(height, dtype=dtype)))  # (n, h*w, h)
    column_weights = tf.nn.relu(1.0 - tf.abs(source_x[..., None] - tf.range(width, dtype=dtype)))  # (n, h*w, w)
    rows_sampled = tf.einsum("nph,nhwc->npwc", row_weights, images)
    warped = tf.einsum("npw,npwc->npc", column_weights, rows_sampled)
    return tf.reshape(warped, tf.shape(images))


def random_affine(images, strength, seed=None):
    """Distort each image by its own random rotation, shear, per-axis scale and shift.

    ``strength`` 1 draws rotations up to 20 degrees, shears up to 0.3, scale changes up to 15% on
    each axis and shifts up to 2 pixels, all uniformly; 0 returns the images unchanged. ``seed`` is a
    ``keras.random.SeedGenerator`` (or an int).
    """
    check_strength(strength)
    images = tf.convert_to_tensor(images)
    if strength == 0:
        return images
    return affine_warp(images, *random_affine_transforms(tf.shape(images)[0], strength, seed))


def random_affine_transforms(count, strength, seed=None):
    """The random ``(matrices, offsets)`` of :func:`random_affine` for ``count`` images, for :func:`affine_warp`."""
    check_strength(strength)

    def uniform(limit, size=1):
        return keras.random.uniform((count, size), -limit * strength, limit * strength, seed=seed)

    angle, shear = uniform(MAX_ROTATION)[:, 0], uniform(MAX_SHEAR)[:, 0]
    scale = 1.0 + uniform(MAX_SCALE_CHANGE, 2)
    cos, sin = tf.cos(angle), tf.sin(angle)
    rotation = tf.reshape(tf.stack([cos, -sin, sin, cos], axis=1), [-1, 2, 2])
    shearing = tf.reshape(tf.stack([tf.ones_like(shear), shear, tf.zeros_like(shear), tf.ones_like(shear)],
                                   axis=1), [-1, 2, 2])
    matrices = rotation @ shearing @ tf.linalg.diag(1.0 / scale)
    return matrices, uniform(MAX_SHIFT, 2)


def check_strength(strength):
    """Raise ValueError unless ``strength`` is a finite number that is not negative."""
    if not (math.isfinite(strength) and strength >= 0):
        raise ValueError(f"the augmentation strength must be a finite number that is not negative, got {strength}")
