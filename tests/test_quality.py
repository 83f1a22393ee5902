import warnings

import numpy as np
import pytest

from infogan_utils import quality
from infogan_utils.data import load_mnist, validation_split


def test_the_frechet_distance_of_shifted_and_scaled_copies():
    points = np.random.default_rng(0).normal(size=(400, 3))
    shift = np.array([1.0, -2.0, 0.5])
    assert quality.frechet_distance(points, points) == pytest.approx(0.0, abs=1e-8)
    # the same covariance: only the means' squared distance, 1 + 4 + 0.25
    assert quality.frechet_distance(points, points + shift) == pytest.approx(5.25, rel=1e-8)
    # doubled around the mean: S + 4S - 2 (4 S^2)^(1/2) = S, so the distance is Tr(S)
    doubled = 2 * (points - points.mean(axis=0)) + points.mean(axis=0)
    assert quality.frechet_distance(points, doubled) == pytest.approx(np.trace(np.cov(points, rowvar=False)), rel=1e-6)
    # a feature that never fires (zero variance in both sets) changes nothing, and warns of nothing
    silent = np.column_stack([points, np.zeros(len(points))])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert quality.frechet_distance(silent, silent + np.append(shift, 0.0)) == pytest.approx(5.25, rel=1e-8)
    with pytest.raises(ValueError, match="the same d"):
        quality.frechet_distance(points, points[:, :2])


class _OneDigitModel:
    """A stand-in InfoGAN with 3 categories whose digits are fixed real images: category k draws ``digits[k]``."""

    def __init__(self, digits):
        from infogan_utils.codes import LatentSpec

        self.spec, self.digits = LatentSpec(categorical_dims=(3,)), digits

    def generate(self, noise, categorical, continuous):
        return np.repeat(self.digits[categorical[:1, 0]], len(categorical), axis=0).astype(np.float32) / 255.0


def test_category_shares_read_each_category_through_the_map():
    classifier, _ = quality.load_classifier()
    (x_train, y_train), _ = load_mnist()
    images, labels = validation_split(x_train, y_train)
    read = quality.predict_digits(classifier, images[:200])
    picks = [int(np.flatnonzero((labels[:200] == digit) & (read == digit))[0]) for digit in (3, 7, 1)]
    model = _OneDigitModel(images[picks])  # category 0 draws a 3, 1 a 7, 2 a 1, each read right by the classifier
    assert quality.category_shares(classifier, model, [3, 7, 1], n=8) == [1.0, 1.0, 1.0]
    assert quality.category_shares(classifier, model, [7, 7, 1], n=8) == [0.0, 1.0, 1.0]


def test_the_shipped_classifier_scores_as_its_file_says_on_the_validation_slice():
    classifier, meta = quality.load_classifier()
    (x_train, y_train), _ = load_mnist()
    images, labels = validation_split(x_train, y_train)
    accuracy = np.mean(quality.predict_digits(classifier, images) == labels)
    assert meta["trained_on"] == "the first 50000 MNIST training images"
    assert accuracy == pytest.approx(meta["validation_accuracy"], abs=5e-4)  # 5 digits of 10,000: other kernels
    assert accuracy > 0.97


def test_a_classifier_round_trips_and_a_damaged_file_is_one_clear_error(tmp_path):
    model = quality.build_classifier()
    path = quality.save_classifier(model, tmp_path / "classifier.npz", {"trained_on": "nothing"})
    loaded, meta = quality.load_classifier(path)
    images = np.random.default_rng(0).uniform(size=(4, 28, 28, 1)).astype(np.float32)
    assert meta == {"trained_on": "nothing"}
    np.testing.assert_array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 truncated")
    with pytest.raises(ValueError, match="is damaged and cannot be read"):
        quality.load_classifier(tmp_path / "broken.npz")
