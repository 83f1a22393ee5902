"""The paper's generators, and the discriminators whose trunk the Q head shares (Chen et al. 2016, Appendix C).

One architecture per image size, each the paper's network for the dataset of that size:

``"mnist"``, 28 x 28 (Table 1, MNIST)
    G: FC 1024-BN-ReLU -> FC 7*7*128-BN-ReLU -> 4x4 up-conv 64, stride 2-BN-ReLU -> 4x4 up-conv C, stride 2
    D: 4x4 conv 64, stride 2-LeakyReLU(0.1) -> 4x4 conv 128, stride 2-BN-LeakyReLU -> FC 1024-BN-LeakyReLU
``"svhn"``, 32 x 32 (Tables 2 and 3, SVHN and CelebA)
    G: FC 2*2*448-BN-ReLU -> 4x4 up-conv 256, stride 2-BN-ReLU -> 4x4 up-conv 128, stride 2-ReLU
       -> 4x4 up-conv 64, stride 2-ReLU -> 4x4 up-conv C, stride 2
    D: 4x4 conv 64, stride 2-LeakyReLU -> 4x4 conv 128, stride 2-BN-LeakyReLU -> 4x4 conv 256, stride 2-BN-LeakyReLU
``"chairs"``, 64 x 64 (the 3D Chairs table)
    G: FC 1024-BN-ReLU -> FC 8*8*256-BN-ReLU -> 4x4 up-conv 256-BN-ReLU -> 4x4 up-conv 256-BN-ReLU
       -> 4x4 up-conv 128, stride 2-BN-ReLU -> 4x4 up-conv 64, stride 2-BN-ReLU -> 4x4 up-conv C, stride 2
    D: 4x4 conv 64, stride 2-LeakyReLU -> 4x4 conv 128, stride 2-BN-LeakyReLU -> 4x4 conv 256, stride 2-BN-LeakyReLU
       -> 4x4 conv 256-BN-LeakyReLU -> 4x4 conv 256-BN-LeakyReLU -> FC 1024-BN-LeakyReLU

Each D trunk is followed by the D head (FC 1, the real/fake logit) and the Q head (FC 128-BN-LeakyReLU ->
categorical logits and continuous means). C is the number of channels: 1 (greyscale) or 3 (RGB).

Where we differ from the tables: every generator ends in a sigmoid, because the package's images are in [0, 1]
(the paper's colour networks end in tanh for [-1, 1]); and the chairs table gives a stride of 2 to only two
up-convolutions, which would end at 32 x 32 (reimplementations differ on where the third one goes), so here the
last one has stride 2 as well (8 -> 16 -> 32 -> 64).
"""

import keras
from keras import layers, ops

from .codes import LatentSpec
from .data import CHANNELS, IMAGE_SIZES

LEAKY_SLOPE = 0.1
# Batch-norm running statistics follow training quickly (as in most DCGAN code); Keras' default
# 0.99 leaves them far from the batch statistics for the first few hundred steps.
BATCH_NORM_MOMENTUM = 0.9

# Each network's layout, by the name data.IMAGE_SIZES gives it: the generator's hidden fully connected sizes,
# the feature map the last of them is reshaped to, and its hidden up-convolutions (filters, stride, batch norm);
# then the discriminator's convolutions (filters, stride, batch norm) and the size of its fully connected layer
# (None: the flattened convolutions are the shared features).
ARCHITECTURES = {
    "mnist": (((1024,), (7, 7, 128), ((64, 2, True),)),
              (((64, 2, False), (128, 2, True)), 1024)),
    "svhn": (((), (2, 2, 448), ((256, 2, True), (128, 2, False), (64, 2, False))),
             (((64, 2, False), (128, 2, True), (256, 2, True)), None)),
    "chairs": (((1024,), (8, 8, 256), ((256, 1, True), (256, 1, True), (128, 2, True), (64, 2, True))),
               (((64, 2, False), (128, 2, True), (256, 2, True), (256, 1, True), (256, 1, True)), 1024)),
}


def architecture_name(image_shape):
    """The name of the paper's network for images of ``image_shape`` (height, width, channels); a shape no
    network serves is a ValueError that lists the ones they do."""
    image_shape = tuple(image_shape)
    if (len(image_shape) != 3 or image_shape[0] != image_shape[1] or image_shape[0] not in IMAGE_SIZES
            or image_shape[2] not in CHANNELS):
        sizes = ", ".join(f"{size}x{size}" for size in IMAGE_SIZES)
        raise ValueError(f"the networks serve square images of {sizes} pixels with 1 (grey) or 3 (RGB) channels "
                         f"(Chen et al. 2016, Appendix C), got the shape {image_shape}")
    return IMAGE_SIZES[image_shape[0]]


def build_generator(input_dim, image_shape=(28, 28, 1), every_layer_inputs=0, name="generator"):
    """The generator for ``image_shape`` (28, 32 or 64 pixels square; 1 or 3 channels): a vector of size
    ``input_dim`` to an image in [0, 1], through the paper's network for that size (module docstring).

    ``every_layer_inputs`` > 0 feeds the last that many latent entries (the continuous codes, in
    :class:`LatentSpec`'s layout) to every layer, not only the first: they are concatenated to
    each dense layer's input and, as constant feature maps, to each up-convolution's input.
    """
    dense_sizes, start_shape, upconvolutions = ARCHITECTURES[architecture_name(image_shape)][0]
    if not 0 <= every_layer_inputs <= input_dim:
        raise ValueError(f"every_layer_inputs must lie between 0 and the latent size {input_dim}, "
                         f"got {every_layer_inputs}")
    inputs = keras.Input((input_dim,), name="latent")
    codes = inputs[:, input_dim - every_layer_inputs:] if every_layer_inputs else None

    def with_codes(x):
        if codes is None or x is inputs:
            return x
        extra = ops.cast(codes, x.dtype)
        if len(x.shape) == 4:  # one constant feature map per code
            extra = ops.ones_like(x[..., :1]) * extra[:, None, None, :]
        return ops.concatenate([x, extra], axis=-1)

    x = inputs
    for size in (*dense_sizes, start_shape[0] * start_shape[1] * start_shape[2]):
        x = layers.Dense(size, use_bias=False)(with_codes(x))
        x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
        x = layers.ReLU()(x)
    x = layers.Reshape(start_shape)(x)
    for filters, stride, batch_norm in upconvolutions:
        x = layers.Conv2DTranspose(filters, 4, strides=stride, padding="same", use_bias=not batch_norm)(with_codes(x))
        if batch_norm:
            x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
        x = layers.ReLU()(x)
    x = layers.Conv2DTranspose(image_shape[2], 4, strides=2, padding="same")(with_codes(x))
    # float32 output so that mixed precision never hands float16 images to the losses.
    outputs = layers.Activation("sigmoid", dtype="float32", name="image")(x)
    return keras.Model(inputs, outputs, name=name)


def build_discriminator(spec=None, image_shape=(28, 28, 1), q_hidden=128, learn_std=False, spectral_norm=False,
                        name="discriminator"):
    """The discriminator for ``image_shape`` (the paper's network for that size), with a Q head when ``spec``
    (a :class:`LatentSpec`) is given.

    Returns a model whose output is a dict: ``real_logit`` (n, 1) and, with a Q head,
    ``categorical_logits`` (n, sum of categorical sizes), ``continuous_mean`` (n, continuous_dim)
    and, if ``learn_std``, ``continuous_log_std`` (n, continuous_dim). ``spectral_norm`` wraps the trunk's
    convolutions and dense layer and the Q head's hidden layer in ``keras.layers.SpectralNormalization`` (as the
    InfoGAN-CR baseline does, Lin et al. 2020); the output layers stay plain.
    """
    normalised = _spectrally_normalised if spectral_norm else _unchanged
    inputs = keras.Input(tuple(image_shape), name="image")
    features = _trunk(inputs, image_shape, normalised, features_name="shared_features")
    outputs = {"real_logit": layers.Dense(1, dtype="float32", name="real_logit")(features)}
    if spec is not None:
        outputs.update(build_q_head(features, spec, q_hidden, learn_std, normalised))
    return keras.Model(inputs, outputs, name=name)


def build_contrastive_classifier(image_shape=(28, 28, 1), codes=2, name="contrastive_classifier"):
    """InfoGAN-CR's classifier H (Lin et al. 2020): two images stacked as channels, ``(h, w, 2 * channels)``, to
    ``codes`` logits saying which of the continuous codes the two were generated with the same value of. Its trunk
    is the discriminator's for ``image_shape`` (its own weights, not shared with D)."""
    if codes < 2:
        raise ValueError(f"the contrastive classifier tells which of the continuous codes a pair shares: it needs "
                         f"at least 2, got {codes}")
    height, width, channels = image_shape
    inputs = keras.Input((height, width, 2 * channels), name="image_pair")
    features = _trunk(inputs, image_shape)
    outputs = layers.Dense(codes, dtype="float32", name="shared_code_logits")(features)
    return keras.Model(inputs, outputs, name=name)


def _trunk(inputs, image_shape, normalised=None, features_name=None):
    """The discriminator's convolutions (and dense layer, for the sizes that have one) for ``image_shape``, each
    wrapped by ``normalised`` when given; the last layer is named ``features_name``."""
    normalised = normalised or _unchanged
    convolutions, dense_size = ARCHITECTURES[architecture_name(image_shape)][1]
    x = inputs
    for filters, stride, batch_norm in convolutions:
        x = normalised(layers.Conv2D(filters, 4, strides=stride, padding="same", use_bias=not batch_norm))(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
        x = layers.LeakyReLU(LEAKY_SLOPE)(x)
    x = layers.Flatten(name=None if dense_size else features_name)(x)
    if dense_size:
        x = normalised(layers.Dense(dense_size, use_bias=False))(x)
        x = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM)(x)
        x = layers.LeakyReLU(LEAKY_SLOPE, name=features_name)(x)
    return x


def _spectrally_normalised(layer):
    # One power iteration per training call, Miyato et al.'s setting; the wrapper rescales the kernel in place.
    return layers.SpectralNormalization(layer, power_iterations=1)


def _unchanged(layer):
    return layer


def build_q_head(features, spec, hidden=128, learn_std=False, normalised=_unchanged):
    """The Q head on the shared features: FC ``hidden``-BN-LeakyReLU, then one output per code type.
    ``normalised`` wraps the hidden layer (spectral normalisation, :func:`build_discriminator`)."""
    x = normalised(layers.Dense(hidden, use_bias=False, name="q_dense"))(features)
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
                         codes_every_layer=False, spectral_norm=False):
    """The generator and the discriminator-with-Q-head for ``spec`` (the paper's MNIST layout by default) and
    ``image_shape`` (28, 32 or 64 pixels square, 1 or 3 channels; the network is the paper's for that size).

    ``codes_every_layer`` feeds the continuous codes to every layer of the generator; ``spectral_norm``
    normalises the discriminator's trunk and Q's hidden layer (:func:`build_discriminator`).
    """
    spec = spec or LatentSpec()
    generator = build_generator(spec.input_dim, image_shape,
                                every_layer_inputs=spec.continuous_dim if codes_every_layer else 0)
    discriminator = build_discriminator(spec, image_shape, q_hidden=q_hidden, learn_std=learn_std,
                                        spectral_norm=spectral_norm)
    return generator, discriminator
