import math

import numpy as np
import pytest

from infogan_utils import losses
from infogan_utils.codes import LatentSpec


def value(x):
    return float(np.asarray(x))


def test_gan_losses_at_zero_logits_are_log_two():
    zeros = np.zeros((4, 1), "float32")
    assert value(losses.discriminator_loss(zeros, zeros)) == pytest.approx(2 * math.log(2), abs=1e-6)
    assert value(losses.generator_loss(zeros)) == pytest.approx(math.log(2), abs=1e-6)


def test_gan_losses_on_hand_values():
    real, fake = np.array([[2.0]], "float32"), np.array([[-1.0]], "float32")
    sigmoid = lambda x: 1 / (1 + math.exp(-x))  # noqa: E731
    expected_d = -math.log(sigmoid(2.0)) - math.log(1 - sigmoid(-1.0))
    assert value(losses.discriminator_loss(real, fake)) == pytest.approx(expected_d, rel=1e-6)
    assert value(losses.generator_loss(fake)) == pytest.approx(-math.log(sigmoid(-1.0)), rel=1e-6)


def test_categorical_cross_entropy_on_a_tiny_batch():
    codes = np.array([[1, 0, 0], [0, 0, 1]], "float32")
    logits = np.array([[math.log(0.5), math.log(0.25), math.log(0.25)],
                       [math.log(0.2), math.log(0.3), math.log(0.5)]], "float32")
    expected = -(math.log(0.5) + math.log(0.5)) / 2
    assert value(losses.categorical_cross_entropy(codes, logits)) == pytest.approx(expected, rel=1e-6)


def test_gaussian_nll_with_fixed_std_is_half_the_squared_error():
    codes = np.array([[0.5, -0.5], [1.0, 0.0]], "float32")
    mean = np.array([[0.0, 0.0], [0.0, 1.0]], "float32")
    assert value(losses.gaussian_negative_log_likelihood(codes, mean)) == pytest.approx((0.25 + 1.0) / 2, rel=1e-6)
    with_constant = value(losses.gaussian_negative_log_likelihood(codes, mean, include_constant=True))
    assert with_constant == pytest.approx((0.25 + 1.0) / 2 + math.log(2 * math.pi), rel=1e-6)


def test_gaussian_nll_with_learned_std():
    codes, mean, log_std = (np.array([[1.0]], "float32"), np.array([[0.0]], "float32"),
                            np.array([[math.log(2.0)]], "float32"))
    expected = 0.5 * 1.0 / 4.0 + math.log(2.0)
    assert value(losses.gaussian_negative_log_likelihood(codes, mean, log_std)) == pytest.approx(expected, rel=1e-6)


def test_a_perfect_q_reaches_the_entropy_of_the_code():
    categories = np.arange(10).repeat(3)
    codes = np.eye(10, dtype="float32")[categories]
    perfect_logits = 50.0 * codes
    estimate = value(losses.categorical_mutual_information(codes, perfect_logits, 10))
    assert estimate == pytest.approx(math.log(10), abs=1e-6)
    assert losses.categorical_entropy([10]) == pytest.approx(math.log(10))
    # a Q that knows nothing (uniform guess) gets L_I = 0
    assert value(losses.categorical_mutual_information(codes, np.zeros_like(codes), 10)) == pytest.approx(0, abs=1e-6)


def test_information_losses_split_the_code_vector():
    spec = LatentSpec(noise_dim=1, categorical_dims=(2,), continuous_dim=1)
    codes = np.array([[1, 0, 0.5], [0, 1, -0.5]], "float32")
    q_outputs = {"categorical_logits": np.zeros((2, 2), "float32"), "continuous_mean": np.zeros((2, 1), "float32")}
    result = {k: value(v) for k, v in losses.information_losses(spec, codes, q_outputs).items()}
    assert result["categorical"] == pytest.approx(math.log(2), rel=1e-6)
    assert result["categorical_mi"] == pytest.approx(0.0, abs=1e-6)
    assert result["continuous"] == pytest.approx(0.5 * 0.25, rel=1e-6)


def real_logits(rows):
    return {"categorical_logits": np.array(rows, "float32")}


def test_real_data_information_is_largest_for_confident_balanced_predictions():
    spec = LatentSpec(noise_dim=1, categorical_dims=(2,), continuous_dim=0)
    sure_and_balanced = real_logits([[30.0, -30.0], [-30.0, 30.0]])
    assert value(losses.real_data_information(spec, sure_and_balanced)) == pytest.approx(math.log(2), abs=1e-6)
    everything_in_one_category = real_logits([[30.0, -30.0], [30.0, -30.0]])
    assert value(losses.real_data_information(spec, everything_in_one_category)) == pytest.approx(0.0, abs=1e-6)
    undecided = real_logits([[0.0, 0.0], [0.0, 0.0]])
    assert value(losses.real_data_information(spec, undecided)) == pytest.approx(0.0, abs=1e-6)


def test_real_data_information_on_hand_values():
    # q(.|x1) = (0.75, 0.25), q(.|x2) = (0.25, 0.75): the mean is uniform, H = ln 2, and
    # each row's entropy is -(0.75 ln 0.75 + 0.25 ln 0.25).
    spec = LatentSpec(noise_dim=1, categorical_dims=(2,), continuous_dim=0)
    logits = real_logits([[math.log(3.0), 0.0], [0.0, math.log(3.0)]])
    row_entropy = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    assert value(losses.real_data_information(spec, logits)) == pytest.approx(math.log(2) - row_entropy, rel=1e-5)


def test_real_data_information_adds_over_categorical_codes():
    spec = LatentSpec(noise_dim=1, categorical_dims=(2, 3), continuous_dim=0)
    logits = real_logits([[30, -30, 30, -30, -30], [-30, 30, -30, 30, -30], [30, -30, -30, -30, 30]])
    # code 1 puts 2 of 3 images in one category, code 2 is sure and balanced over 3
    expected = -(2 / 3 * math.log(2 / 3) + 1 / 3 * math.log(1 / 3)) + math.log(3)
    assert value(losses.real_data_information(spec, logits)) == pytest.approx(expected, abs=1e-5)


def test_categorical_consistency_is_the_divergence_of_the_distorted_reading_from_the_undistorted_one():
    import tensorflow as tf

    spec = LatentSpec(noise_dim=4, categorical_dims=(2, 3), continuous_dim=0)
    # code 1: target (1/2, 1/2), distorted (3/4, 1/4); code 2: the same reading on both. The third target row has
    # no distorted copy (only the first share of a batch is distorted) and is not read.
    target = tf.constant([[0.0, 0.0, 1.0, 2.0, 3.0], [math.log(3.0), 0.0, 0.0, 0.0, 0.0],
                          [9.0, -9.0, 9.0, 0.0, 0.0]])
    distorted = tf.constant([[math.log(3.0), 0.0, 1.0, 2.0, 3.0], [math.log(3.0), 0.0, 5.0, 5.0, 5.0]])
    first_row = 0.5 * math.log(0.5 / 0.75) + 0.5 * math.log(0.5 / 0.25)  # KL((1/2, 1/2) || (3/4, 1/4))
    expected = (first_row + 0.0) / 2
    with tf.GradientTape(persistent=True) as tape:
        tape.watch([target, distorted])
        divergence = losses.categorical_consistency(spec, {"categorical_logits": target},
                                                    {"categorical_logits": distorted})
    assert value(divergence) == pytest.approx(expected, rel=1e-5)  # float32 logs: a few ulps
    assert tape.gradient(divergence, target) is None  # the undistorted reading is the target, not trained
    assert np.abs(np.asarray(tape.gradient(divergence, distorted))).max() > 0
    same = losses.categorical_consistency(spec, {"categorical_logits": distorted}, {"categorical_logits": distorted})
    assert value(same) == pytest.approx(0.0, abs=1e-6)


def test_contrastive_loss_is_the_cross_entropy_of_the_shared_code():
    logits = np.array([[0.0, 0.0], [2.0, 0.0], [0.0, 3.0]], "float32")
    shared = np.array([0, 1, 1])
    expected = np.mean([math.log(2), math.log(1 + math.exp(2)), math.log(1 + math.exp(-3))])
    assert float(losses.contrastive_loss(shared, logits)) == pytest.approx(expected, rel=1e-6)
