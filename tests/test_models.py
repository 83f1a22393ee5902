import keras
import numpy as np
import pytest

from infogan_utils.codes import LatentSpec
from infogan_utils.models import (architecture_name, build_contrastive_classifier, build_discriminator, build_generator,
                                  build_infogan_models)


def test_generator_maps_latents_to_images_in_unit_range():
    generator = build_generator(74)
    images = np.asarray(generator(np.random.default_rng(0).uniform(-1, 1, (3, 74)).astype("float32")))
    assert images.shape == (3, 28, 28, 1) and images.dtype == np.float32
    assert images.min() >= 0.0 and images.max() <= 1.0


def test_discriminator_with_q_head_outputs():
    spec = LatentSpec()
    discriminator = build_discriminator(spec)
    outputs = discriminator(np.zeros((4, 28, 28, 1), "float32"))
    assert {k: tuple(v.shape) for k, v in outputs.items()} == {
        "real_logit": (4, 1), "categorical_logits": (4, 10), "continuous_mean": (4, 2)}
    assert all(np.asarray(v).dtype == np.float32 for v in outputs.values())


def test_learned_std_adds_an_output():
    outputs = build_discriminator(LatentSpec(), learn_std=True)(np.zeros((2, 28, 28, 1), "float32"))
    assert tuple(outputs["continuous_log_std"].shape) == (2, 2)


def test_plain_gan_discriminator_has_no_q_head():
    outputs = build_discriminator(None)(np.zeros((2, 28, 28, 1), "float32"))
    assert list(outputs) == ["real_logit"]


def test_q_head_shares_the_discriminator_trunk():
    _, discriminator = build_infogan_models()
    shared = discriminator.get_layer("shared_features")
    q_dense = discriminator.get_layer("q_dense")
    real_logit = discriminator.get_layer("real_logit")
    assert q_dense.input is shared.output and real_logit.input is shared.output


def test_parameter_counts_of_the_papers_architecture():
    generator, discriminator = build_infogan_models()
    # FC 74->1024 (no bias) + BN, FC 1024->6272 + BN, up-conv 128->64 + BN, up-conv 64->1 (+bias)
    expected_g = 74 * 1024 + 4 * 1024 + 1024 * 6272 + 4 * 6272 + 16 * 128 * 64 + 4 * 64 + 16 * 64 + 1
    assert generator.count_params() == expected_g
    expected_d_trunk = (16 * 64 + 64) + 16 * 64 * 128 + 4 * 128 + 6272 * 1024 + 4 * 1024
    expected_heads = (1024 + 1) + 1024 * 128 + 4 * 128 + (128 * 10 + 10) + (128 * 2 + 2)
    assert discriminator.count_params() == expected_d_trunk + expected_heads


@pytest.mark.parametrize("size, channels", [(28, 3), (32, 1), (32, 3), (64, 1), (64, 3)])
def test_each_image_size_gets_the_papers_network_for_it(size, channels):
    spec = LatentSpec()
    generator, discriminator = build_infogan_models(spec, image_shape=(size, size, channels))
    images = np.asarray(generator(np.random.default_rng(0).uniform(-1, 1, (2, 74)).astype("float32")))
    assert images.shape == (2, size, size, channels) and 0.0 <= images.min() and images.max() <= 1.0
    outputs = discriminator(images)
    assert {k: tuple(v.shape) for k, v in outputs.items()} == {
        "real_logit": (2, 1), "categorical_logits": (2, 10), "continuous_mean": (2, 2)}
    assert architecture_name((size, size, channels)) == {28: "mnist", 32: "svhn", 64: "chairs"}[size]


def test_parameter_counts_of_the_papers_svhn_network():
    generator, discriminator = build_infogan_models(image_shape=(32, 32, 3))
    # FC 74->2*2*448 (no bias) + BN, up-conv 448->256 + BN, up-conv 256->128 (+bias), 128->64 (+bias), 64->3 (+bias)
    expected_g = (74 * 1792 + 4 * 1792 + 16 * 448 * 256 + 4 * 256 + 16 * 256 * 128 + 128 + 16 * 128 * 64 + 64
                  + 16 * 64 * 3 + 3)
    assert generator.count_params() == expected_g
    # conv 3->64 (+bias), 64->128 + BN, 128->256 + BN; the 4*4*256 flattened maps are the shared features
    expected_d_trunk = 16 * 3 * 64 + 64 + 16 * 64 * 128 + 4 * 128 + 16 * 128 * 256 + 4 * 256
    expected_heads = (4096 + 1) + 4096 * 128 + 4 * 128 + (128 * 10 + 10) + (128 * 2 + 2)
    assert discriminator.count_params() == expected_d_trunk + expected_heads


def test_the_chairs_network_keeps_8x8_maps_through_its_stride_1_layers():
    generator, discriminator = build_infogan_models(image_shape=(64, 64, 3))
    up_convolutions = [layer.output.shape[1:] for layer in generator.layers if "conv2d_transpose" in layer.name]
    assert up_convolutions == [(8, 8, 256), (8, 8, 256), (16, 16, 128), (32, 32, 64), (64, 64, 3)]
    convolutions = [layer.output.shape[1:] for layer in discriminator.layers if layer.name.startswith("conv2d")]
    assert convolutions == [(32, 32, 64), (16, 16, 128), (8, 8, 256), (8, 8, 256), (8, 8, 256)]
    assert discriminator.get_layer("shared_features").output.shape[1:] == (1024,)


@pytest.mark.parametrize("shape", [(30, 30, 1), (48, 48, 3), (28, 32, 1), (28, 28, 4), (28, 28)])
def test_a_shape_no_network_serves_is_refused_with_the_ones_they_do(shape):
    with pytest.raises(ValueError, match=r"serve square images of 28x28, 32x32, 64x64 pixels with 1 \(grey\) or 3"):
        build_generator(20, image_shape=shape)
    with pytest.raises(ValueError, match="serve square images"):
        build_discriminator(None, image_shape=shape)


def test_codes_every_layer_feeds_the_continuous_codes_to_each_layer():
    plain = build_generator(74)
    conditioned = build_generator(74, every_layer_inputs=2)
    # two more inputs to FC 1024->6272, to up-conv 128->64 (4x4x2x64) and to up-conv 64->1 (4x4x2x1)
    assert conditioned.count_params() - plain.count_params() == 2 * 6272 + 16 * 2 * 64 + 16 * 2 * 1
    spec = LatentSpec()
    generator, _ = build_infogan_models(spec, codes_every_layer=True)
    assert generator.count_params() == conditioned.count_params()
    latents = np.random.default_rng(0).uniform(-1, 1, (3, 74)).astype("float32")
    # zero the first layer's weights for the continuous codes: they still reach the image
    first = generator.layers[1]
    kernel = np.asarray(first.kernel)
    kernel[-2:] = 0.0
    first.kernel.assign(kernel)
    moved = latents.copy()
    moved[:, -1] += 1.0
    assert np.abs(np.asarray(generator(moved)) - np.asarray(generator(latents))).max() > 1e-3
    noise_moved = latents.copy()
    noise_moved[:, 0] += 1.0  # the noise only enters the first layer
    first.kernel.assign(np.zeros_like(kernel))
    assert np.array_equal(np.asarray(generator(noise_moved)), np.asarray(generator(latents)))
    assert np.abs(np.asarray(generator(moved)) - np.asarray(generator(latents))).max() > 1e-3


@pytest.mark.parametrize("count", [-1, 75])
def test_every_layer_inputs_must_fit_the_latent(count):
    with pytest.raises(ValueError, match="every_layer_inputs must lie between 0 and the latent size 74"):
        build_generator(74, every_layer_inputs=count)


def largest_singular_value(kernel):
    return np.linalg.svd(np.asarray(kernel).reshape(-1, kernel.shape[-1]), compute_uv=False)[0]


def test_spectral_norm_scales_the_trunk_and_q_hidden_layer_to_a_largest_singular_value_of_one():
    """One power iteration per training call: after 20 calls each wrapped kernel's largest singular value is 1
    within 5% (1.000 to 1.023 measured over 3 seeds; 0.49 to 1.84 before), and only those four layers change."""
    keras.utils.set_random_seed(0)
    discriminator = build_discriminator(LatentSpec(), spectral_norm=True)
    wrapped = [layer for layer in discriminator.layers if isinstance(layer, keras.layers.SpectralNormalization)]
    assert [type(layer.layer).__name__ for layer in wrapped] == ["Conv2D", "Conv2D", "Dense", "Dense"]
    assert wrapped[-1].layer.name == "q_dense"
    assert len(discriminator.weights) == len(build_discriminator(LatentSpec()).weights) + 4  # one vector u each
    before = [largest_singular_value(layer.layer.kernel) for layer in wrapped]
    real_logit = np.asarray(discriminator.get_layer("real_logit").kernel)
    images = np.random.default_rng(0).uniform(0, 1, (8, 28, 28, 1)).astype("float32")
    for _ in range(20):
        discriminator(images, training=True)
    after = [largest_singular_value(layer.layer.kernel) for layer in wrapped]
    assert max(abs(value - 1) for value in before) > 0.4
    assert all(abs(value - 1) < 0.05 for value in after), after
    assert np.array_equal(real_logit, np.asarray(discriminator.get_layer("real_logit").kernel))


@pytest.mark.parametrize("shape", [(28, 28, 1), (32, 32, 3)])
def test_the_contrastive_classifier_reads_two_stacked_images(shape):
    classifier = build_contrastive_classifier(shape, codes=3)
    assert classifier.input_shape == (None, shape[0], shape[1], 2 * shape[2])
    assert classifier(np.zeros((5, shape[0], shape[1], 2 * shape[2]), "float32")).shape == (5, 3)
    with pytest.raises(ValueError, match="needs at least 2, got 1"):
        build_contrastive_classifier(shape, codes=1)
