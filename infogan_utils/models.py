"""The paper's MNIST generator, and the discriminator whose trunk the Q head shares.

Generator (Chen et al. 2016, Table 1):
    FC 1024-BN-ReLU -> FC 7*7*128-BN-ReLU -> 4x4 up-conv 64, stride 2-BN-ReLU -> 4x4 up-conv 1, stride 2

Discriminator trunk:
    4x4 conv 64, stride 2-LeakyReLU(0.1) -> 4x4 conv 128, stride 2-BN-LeakyReLU -> FC 1024-BN-LeakyReLU
followed by the D head (FC 1, the real/fake logit) and the Q head
(FC 128-BN-LeakyReLU -> categorical logits and continuous means).
"""

import keras
from keras import layers, ops

from .codes import LatentSpec

LEAKY_SLOPE = 0.1
# Batch-norm running statistics follow training quickly (as in most DCGAN code); Keras' default
# 0.99 leaves them far from the batch statistics for the first few hundred steps.
BATCH_NORM_MOMENTUM = 0.9


def build_generator(input_dim, image_shape=(28, 28, 1), base_filters=64, every_layer_inputs=0, name="generator"):
    """The generator: a vector of size ``input_dim`` to an image in [0, 1].

    ``image_shape`` must have a height and width divisible by 4 (28 x 28 by default).
    ``every_layer_inputs`` > 0 feeds the last that many latent entries (the continuous codes, in
    :class:`LatentSpec`'s layout) to every layer, not only the first: they are concatenated to
    each dense layer's input and, as constant feature maps, to each up-convolution's input.
    """
    height, width, channels = image_shape
    if height % 4 or width % 4:
        raise ValueError(f"image height and width must be divisible by 4, got {image_shape}")
    if not 0 <= every_layer_inputs <= input_dim:
        raise ValueError(f"every_layer_inputs must lie between 0 and the latent size {input_dim}, "
                         f"got {every_layer_inputs}")
    inputs = keras.Input((input_dim,), name="latent")
    codes = inputs[:, input_dim - every_layer_inputs:] if every_layer_inputs else None

    def with_codes(x):
        if codes is None:
            return x
        extra = ops.cast(codes, x.dtype)
        if len(x.shape) == 4:  # one constant feature map per code
            extra = ops.ones_like(x[..., :1]) * extra[:, None, None, :]
        return ops.concatenate([x, extra], axis=-1)

    x = layers.Dense(1024, use_bias=False)(inputs)
    x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
    x = layers.ReLU()(x)
    x = layers.Dense((height // 4) * (width // 4) * base_filters * 2, use_bias=False)(with_codes(x))
    x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
    x = layers.ReLU()(x)
    x = layers.Reshape((height // 4, width // 4, base_filters * 2))(x)
    x = layers.Conv2DTranspose(base_filters, 4, strides=2, padding="same", use_bias=False)(with_codes(x))
    x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
    x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(channels, 4, strides=2, padding="same")(with_codes(x))
    # float32 output so that mixed precision never hands float16 images to the losses.
    outputs = layers.Activation("sigmoid", dtype="float32", name="image")(x)
    return keras.Model(inputs, outputs, name=name)


def build_discriminator(spec=None, image_shape=(28, 28, 1), base_filters=64, q_hidden=128,
                        learn_std=False, name="discriminator"):
    """The discriminator, with a Q head when ``spec`` (a :class:`LatentSpec`) is given.

    Returns a model whose output is a dict: ``real_logit`` (n, 1) and, with a Q head,
    ``categorical_logits`` (n, sum of categorical sizes), ``continuous_mean`` (n, continuous_dim)
    and, if ``learn_std``, ``continuous_log_std`` (n, continuous_dim).
    """
    inputs = keras.Input(image_shape, name="image")
    x = layers.Conv2D(base_filters, 4, strides=2, padding="same")(inputs)
    x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    x = layers.Conv2D(base_filters * 2, 4, strides=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
    x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, use_bias=False)(x)
    x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
    features = layers.LeakyReLU(LEAKY_SLOPE, name="shared_features")(x)
    outputs = {"real_logit": layers.Dense(1, dtype="float32", name="real_logit")(features)}
    if spec is not None:
        outputs.update(build_q_head(features, spec, q_hidden, learn_std))
    return keras.Model(inputs, outputs, name=name)


def build_q_head(features, spec, hidden=128, learn_std=False):
    """The Q head on the shared features: FC ``hidden``-BN-LeakyReLU, then one output per code type."""
    x = layers.Dense(hidden, use_bias=False, name="q_dense")(features)
    x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name="q_batch_norm")(x)
    x = layers.LeakyReLU(LEAKY_SLOPE, name="q_activation")(x)
    outputs = {}
    if spec.categorical_dims:
        outputs["categorical_logits"] = layers.Dense(
            sum(spec.categorical_dims), dtype="float32", name="categorical_logits")(x)
    if spec.continuous_dim:
        outputs["continuous_mean"] = layers.Dense(
            spec.continuous_dim, dtype="float32", name="continuous_mean")(x)
        if learn_std:
            outputs["continuous_log_std"] = layers.Dense(
                spec.continuous_dim, dtype="float32", name="continuous_log_std")(x)
    return outputs


def build_infogan_models(spec=None, image_shape=(28, 28, 1), q_hidden=128, learn_std=False,
                         codes_every_layer=False):
    """The generator and the discriminator-with-Q-head for ``spec`` (the paper's MNIST layout by default).

    ``codes_every_layer`` feeds the continuous codes to every layer of the generator.
    """
    spec = spec or LatentSpec()
    generator = build_generator(spec.input_dim, image_shape,
                                every_layer_inputs=spec.continuous_dim if codes_every_layer else 0)
    discriminator = build_discriminator(spec, image_shape, q_hidden=q_hidden, learn_std=learn_std)
    return generator, discriminator
