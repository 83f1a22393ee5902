import numpy as np
import pytest

from infogan_utils.codes import LatentSpec
from infogan_utils.selection import code_agreement, model_centrality


class CodesInPixels:
    """A stand-in for a trained model whose "images" are its codes, written in its own convention: the category
    through ``category_map`` and the continuous codes through ``mixing``. Its Q undoes its own convention, so it
    reads its own images perfectly and another model's images as well as their conventions agree."""

    def __init__(self, category_map=tuple(range(10)), mixing=np.eye(2), spec=LatentSpec()):
        self.spec = spec
        self.category_map = np.asarray(category_map)
        self.mixing = np.asarray(mixing, dtype=np.float64)

    def generate(self, noise, categorical, continuous):
        return np.concatenate([self.category_map[categorical[:, :1]], continuous @ self.mixing], axis=1)

    def predict_codes(self, images):
        category = np.argsort(self.category_map)[images[:, 0].astype(int)]
        means = images[:, 1:] @ np.linalg.inv(self.mixing)
        return np.eye(10, dtype=np.float32)[category], means.astype(np.float32)


def test_a_model_reads_its_own_codes_perfectly():
    assert code_agreement(CodesInPixels(), CodesInPixels()) == {"categorical": 1.0, "continuous": 1.0, "score": 1.0}


def test_agreement_does_not_depend_on_how_the_codes_are_numbered_or_signed():
    """Another seed may call the 3s category 7 and turn c2 into minus c3: the same codes, named otherwise."""
    source = CodesInPixels()
    reader = CodesInPixels(category_map=[3, 7, 0, 9, 1, 2, 8, 4, 6, 5], mixing=[[0.0, -1.0], [1.0, 0.0]])
    assert code_agreement(source, reader, n=500, seed=3) == {"categorical": 1.0, "continuous": 1.0, "score": 1.0}


def test_a_reader_that_merges_categories_and_mixes_codes_scores_what_it_gets_right():
    class HalfReader(CodesInPixels):
        def predict_codes(self, images):
            category = np.minimum(images[:, 0].astype(int), 5)  # 5 to 9 all read as 5
            means = np.stack([images[:, 1], np.random.default_rng(0).uniform(-1, 1, len(images))], axis=1)
            return np.eye(10, dtype=np.float32)[category], means.astype(np.float32)

    n, seed = 2000, 4
    categories = LatentSpec().sample(n, seed=seed)["categorical"][:, 0]
    expected = (np.sum(categories < 5) + np.bincount(categories[categories >= 5]).max()) / n
    report = code_agreement(CodesInPixels(), HalfReader(), n=n, seed=seed)
    assert report["categorical"] == pytest.approx(expected)
    # c2 is read exactly (rho 1), c3 not at all: an independent column's |rho| over 2,000 pairs is about 0.02
    assert report["continuous"] == pytest.approx(0.5, abs=0.04)
    assert report["score"] == pytest.approx((report["categorical"] + report["continuous"]) / 2)


def test_the_model_that_agrees_with_the_others_is_chosen():
    rotation = np.array([[1.0, 1.0], [-1.0, 1.0]]) / np.sqrt(2)  # c2 and c3 each half of two directions
    models = [CodesInPixels(mixing=rotation),
              CodesInPixels(category_map=[1, 0, 2, 3, 4, 5, 6, 7, 8, 9]),
              CodesInPixels(mixing=[[-1.0, 0.0], [0.0, 1.0]])]
    report = model_centrality(models, n=1000, seed=5)
    assert [report["scores"][i][i] for i in range(3)] == [None, None, None]
    assert report["scores"][1][2] == report["scores"][2][1] == 1.0
    assert report["scores"][0][1] < 0.9 and report["scores"][1][0] < 0.9  # the rotated codes are read as mixtures
    assert report["centrality"][1] == report["centrality"][2] > report["centrality"][0]
    assert report["chosen"] == 1  # the first of the two most central


def test_models_with_other_codes_or_too_few_are_refused():
    other = CodesInPixels(spec=LatentSpec(continuous_dim=3), mixing=np.eye(3))
    with pytest.raises(ValueError, match="same codes"):
        code_agreement(CodesInPixels(), other)
    with pytest.raises(ValueError, match="two or more models"):
        model_centrality([CodesInPixels()])
    with pytest.raises(ValueError, match="at least 10 images"):
        model_centrality([CodesInPixels(), CodesInPixels()], n=5)
