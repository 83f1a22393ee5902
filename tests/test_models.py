import numpy as np
import pytest

from infogan_utils.codes import LatentSpec
from infogan_utils.models import build_discriminator, build_generator, build_infogan_models


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


def test_other_image_sizes():
    generator = build_generator(20, image_shape=(32, 32, 3))
    assert generator.output_shape == (None, 32, 32, 3)
    with pytest.raises(ValueError, match="divisible by 4"):
        build_generator(20, image_shape=(30, 30, 1))


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
