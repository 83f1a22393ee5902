"""Compiled inference for small batches: what lets the latent explorer redraw at the speed of a frame.

Calling a Keras model directly (``generator(latent, training=False)``) runs it eagerly, one layer
at a time, with Python dispatch around every operation; ``model.predict`` adds the set-up of a
whole prediction loop. For one digit the arithmetic takes well under a millisecond and that
overhead is most of the time. :func:`inference_function` traces the model once into a
``tf.function`` whose input signature fixes everything but the batch size, so every later call
runs one graph, whatever the number of images.

Usage::

    images = inference_function(generator)(latent).numpy()
    outputs = inference_function(discriminator)(images)  # a dict of tensors
"""

import weakref

import numpy as np
import tensorflow as tf

from .data import as_float_images

# Batches up to this size go through the compiled function in ``generate`` and ``predict_codes``;
# larger ones keep ``predict``, which splits them into batches and bounds the memory used.
SMALL_BATCH = 256

# One dictionary per model, keyed by ``jit_compile``. Weak keys, and functions that hold only a weak
# reference to their model, so that the cache never keeps a model alive.
_FUNCTIONS = weakref.WeakKeyDictionary()


def inference_function(network, jit_compile=False):
    """A compiled ``network(inputs, training=False)`` for any batch size, cached per network.

    Args:
        network: a built Keras model with one input (the generator or the discriminator).
        jit_compile: compile with XLA. XLA compiles anew for each batch size it meets, which takes
            a second or more, so the default is a plain TensorFlow graph.
    Returns:
        A function of a NumPy array or tensor of shape ``(n, *network.input_shape[1:])`` that returns
        what the network returns (a tensor or a dict of tensors). Inputs are converted to the
        network's input dtype.
    """
    cache = _FUNCTIONS.setdefault(network, {})
    jit_compile = bool(jit_compile)
    if jit_compile not in cache:
        inputs = network.inputs
        if len(inputs) != 1:
            raise ValueError(f"inference_function needs a model with one input, {network.name!r} has {len(inputs)}")
        spec = tf.TensorSpec((None, *inputs[0].shape[1:]), inputs[0].dtype)
        reference = weakref.ref(network)

        @tf.function(input_signature=[spec], jit_compile=jit_compile)
        def call(batch):
            return reference()(batch, training=False)

        cache[jit_compile] = call
    return cache[jit_compile]


def run_generator(generator, latent, jit_compile=False):
    """Images for a (n, input_dim) latent array as float32 NumPy, through :func:`inference_function`."""
    latent = np.asarray(latent, dtype="float32")
    expected = generator.inputs[0].shape[-1]
    if latent.ndim != 2 or latent.shape[1] != expected:
        raise ValueError(f"latent must have shape (n, {expected}), got {latent.shape}")
    return np.asarray(inference_function(generator, jit_compile)(latent), dtype="float32")


def generate_images(generator, latent, batch_size=500):
    """Images for a (n, input_dim) latent array as float32 NumPy: one compiled call for up to
    :data:`SMALL_BATCH` latents (a widget redraw), ``predict`` in batches of ``batch_size`` above."""
    if len(latent) <= SMALL_BATCH:
        return run_generator(generator, latent)
    return np.asarray(generator.predict(np.asarray(latent, dtype="float32"), batch_size=batch_size, verbose=0),
                      dtype="float32")


def predict_codes(discriminator, spec, images, batch_size=500):
    """Run the Q head: returns (n, sum of categorical sizes) probabilities and (n, continuous_dim) means.

    ``images`` are in [0, 1]; integer (uint8, 0..255) images are scaled to [0, 1] first.
    """
    images = as_float_images(images)
    if images.ndim == 3:
        images = images[..., None]
    if images.ndim != 4 or images.shape[1:] != tuple(discriminator.input_shape[1:]):
        raise ValueError(f"images must have shape (n, {', '.join(map(str, discriminator.input_shape[1:]))}),"
                         f" got {images.shape}")
    if len(images) <= SMALL_BATCH:  # a compiled call is much faster than predict() for a few images (widget redraws)
        outputs = inference_function(discriminator)(images)
    else:
        outputs = discriminator.predict(images, batch_size=batch_size, verbose=0)
    probabilities, start = [], 0
    for size in spec.categorical_dims:
        logits = outputs["categorical_logits"][:, start:start + size]
        probabilities.append(np.asarray(tf.nn.softmax(logits, axis=-1)))
        start += size
    probabilities = np.concatenate(probabilities, axis=1) if probabilities else np.zeros((len(images), 0))
    means = outputs.get("continuous_mean", np.zeros((len(images), 0), "float32"))
    return probabilities.astype("float32"), np.asarray(means, "float32")
