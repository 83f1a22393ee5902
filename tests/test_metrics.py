import math

import numpy as np
import pytest

from infogan_utils import metrics


def test_hungarian_accuracy_is_one_on_permuted_labels():
    labels = np.repeat(np.arange(10), 7)
    permutation = np.array([3, 7, 0, 9, 1, 2, 8, 4, 6, 5])
    clusters = permutation[labels]
    assert metrics.hungarian_accuracy(labels, clusters) == 1.0
    assert metrics.majority_accuracy(labels, clusters) == 1.0
    assert metrics.normalized_mutual_information(labels, clusters) == pytest.approx(1.0)
    assert metrics.hungarian_mapping(labels, clusters)[permutation].tolist() == list(range(10))


def test_known_confusion_by_hand():
    # label 0: 4 in cluster 1, 1 in cluster 0; label 1: 3 in cluster 1, 2 in cluster 0
    labels = np.array([0] * 5 + [1] * 5)
    clusters = np.array([1, 1, 1, 1, 0, 1, 1, 1, 0, 0])
    assert metrics.confusion_matrix(labels, clusters).tolist() == [[1, 4], [2, 3]]
    # one-to-one: best is cluster1->0, cluster0->1: 4 + 2 = 6 of 10
    assert metrics.hungarian_accuracy(labels, clusters) == pytest.approx(0.6)
    # many-to-one: cluster 1 -> label 0 (4), cluster 0 -> label 1 (2)
    assert metrics.majority_accuracy(labels, clusters) == pytest.approx(0.6)


def test_mixed_categories_names_the_categories_that_hold_two_digits():
    # columns are categories: 0 is pure, 1 holds 60 fours and 40 nines, 2 holds 90 nines and 10 fours (10%)
    confusion = np.zeros((10, 3), int)
    confusion[0, 0] = 100
    confusion[4, 1], confusion[9, 1] = 60, 40
    confusion[9, 2], confusion[4, 2] = 90, 10
    assert metrics.mixed_categories(confusion) == [(1, (4, 60), (9, 40))]
    assert metrics.mixed_categories(confusion, share=0.1) == [(1, (4, 60), (9, 40)), (2, (9, 90), (4, 10))]
    with pytest.raises(ValueError, match="0 < share <= 0.5"):
        metrics.mixed_categories(confusion, share=0.6)


def test_majority_can_exceed_hungarian_when_a_category_splits_a_class():
    labels = np.array([0, 0, 0, 0, 1, 1])
    clusters = np.array([0, 0, 1, 1, 1, 1])
    assert metrics.hungarian_accuracy(labels, clusters) == pytest.approx(4 / 6)
    assert metrics.majority_accuracy(labels, clusters) == pytest.approx(4 / 6)
    clusters = np.array([0, 0, 1, 1, 2, 2])
    assert metrics.hungarian_accuracy(labels, clusters) == pytest.approx(4 / 6)
    assert metrics.majority_accuracy(labels, clusters) == pytest.approx(1.0)


def test_nmi_of_independent_assignments_is_zero():
    labels = np.array([0, 0, 1, 1])
    clusters = np.array([0, 1, 0, 1])
    assert metrics.normalized_mutual_information(labels, clusters) == pytest.approx(0.0, abs=1e-12)


def test_nmi_matches_the_formula_on_a_small_case():
    labels = np.array([0, 0, 1, 1])
    clusters = np.array([0, 0, 0, 1])
    # I = H(clusters) - H(clusters | labels) with H in nats
    h_labels = math.log(2)
    h_clusters = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    h_conditional = 0.5 * 0 + 0.5 * math.log(2)
    expected = (h_clusters - h_conditional) / ((h_labels + h_clusters) / 2)
    assert metrics.normalized_mutual_information(labels, clusters) == pytest.approx(expected)


def test_mutual_information_estimate():
    categories = np.array([0, 1, 2, 3])
    perfect = np.eye(4)[categories]
    assert metrics.mutual_information_estimate(perfect, categories) == pytest.approx(math.log(4))
    assert metrics.mutual_information_estimate(np.full((4, 4), 0.25), categories) == pytest.approx(0.0)


def test_input_errors():
    with pytest.raises(ValueError, match="differ in length"):
        metrics.hungarian_accuracy([0, 1], [0])
    with pytest.raises(ValueError, match="empty"):
        metrics.majority_accuracy([], [])
    with pytest.raises(ValueError, match="non-negative"):
        metrics.confusion_matrix([0, -1], [0, 1])


def _bar(shear=0.0, thickness=1):
    image = np.zeros((28, 28))
    for row in range(4, 24):
        center = 14 + shear * (14 - row)
        left = int(round(center - thickness / 2))
        image[row, left:left + thickness] = 1.0
    return image


def test_slant_of_sheared_bars():
    values = metrics.slant(np.stack([_bar(-0.3), _bar(0.0), _bar(0.3)]))
    assert values[0] < -0.2 and abs(values[1]) < 1e-9 and values[2] > 0.2


def test_width_grows_with_thickness():
    widths = metrics.stroke_width(np.stack([_bar(thickness=1), _bar(thickness=3), _bar(thickness=6)]))
    assert widths[0] < widths[1] < widths[2]
    assert widths[0] == pytest.approx(0.0, abs=1e-9)  # a one-pixel vertical line has no spread across it


def test_shape_measures_need_ink():
    with pytest.raises(ValueError, match="needs some ink"):
        metrics.slant(np.zeros((1, 28, 28)))


def test_the_cluster_map_has_k_entries_when_a_category_is_never_predicted():
    # labels 0..3; the model has K = 5 categories, category 4 is never predicted and 3 only once
    labels = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    clusters = np.array([2, 2, 0, 0, 1, 1, 3, 1])
    report = metrics.clustering_report(labels, clusters, n_clusters=5)
    assert report["cluster_to_label"][:4] == [1, 2, 0, 3]
    assert len(report["cluster_to_label"]) == 5 and report["cluster_to_label"][4] not in (0, 1, 2, 3)
    assert np.array(report["confusion_matrix"]).shape == (4, 5)
    assert report["hungarian_accuracy"] == pytest.approx(7 / 8)
    with pytest.raises(ValueError, match="more than n_clusters=3"):
        metrics.clustering_report(labels, clusters, n_clusters=3)


def test_evaluate_model_maps_all_k_categories_when_one_is_never_predicted():
    class AlwaysThree:
        """A stand-in model whose Q head reads every image as category 3 of 10."""

        from infogan_utils.codes import LatentSpec
        spec = LatentSpec()

        def predict_codes(self, images):
            probabilities = np.zeros((len(images), 10), "float32")
            probabilities[:, 3] = 1.0
            return probabilities, np.zeros((len(images), 2), "float32")

        def generate(self, noise, categorical, continuous):
            return np.zeros((len(noise), 28, 28, 1), "float32")

    report = metrics.evaluate_model(AlwaysThree(), np.zeros((20, 28, 28), np.uint8), np.arange(20) % 10,
                                    n_generated=50)
    assert sorted(report["cluster_to_label"]) == list(range(10))
    assert report["hungarian_accuracy"] == pytest.approx(0.1)


def test_stroke_thickness_of_bars_and_a_ring():
    bars = []
    for width in (2, 3, 4):
        image = np.zeros((28, 28))
        image[4:24, 14 - width // 2:14 - width // 2 + width] = 1.0
        bars.append(image)
    assert metrics.stroke_thickness(np.array(bars)[..., None]) == pytest.approx([2.0, 3.0, 4.0], abs=1e-9)
    rows, columns = np.mgrid[:28, :28]
    radius = np.hypot(rows - 13.5, columns - 13.5)
    ring = ((radius > 6) & (radius < 9)).astype(float)  # a stroke 3 pixels wide
    assert metrics.stroke_thickness(ring[None]) == pytest.approx([3.0], abs=0.15)


def test_stroke_thickness_refuses_blank_images_and_a_bad_factor():
    with pytest.raises(ValueError, match="needs some ink"):
        metrics.stroke_thickness(np.zeros((1, 28, 28)))
    with pytest.raises(ValueError, match="upsample must be a whole number"):
        metrics.stroke_thickness(np.ones((1, 28, 28)), upsample=0)
    with pytest.raises(ValueError, match=r"expected images \(n, h, w\[, 1\]\)"):
        metrics.stroke_thickness(np.ones((28, 28)))


def test_describe_code_names_the_strong_attributes_strongest_first_with_their_direction():
    assert metrics.describe_code({"slant": 0.45, "width": -0.31, "thickness": -0.1}) == "slant+ width-"
    assert metrics.describe_code({"slant": 0.2, "width": 0.05, "thickness": -0.82}) == "thickness-"
    assert metrics.describe_code({"slant": 0.29, "width": -0.29, "thickness": 0.0}) == "no clear attribute"
    assert metrics.describe_code({"slant": 0.29, "width": -0.5}, threshold=0.2) == "width- slant+"
    with pytest.raises(ValueError, match="threshold must lie in"):
        metrics.describe_code({"slant": 0.5}, threshold=1.5)


def test_code_roles_picks_the_slant_code_and_the_other_codes_attribute():
    roles = metrics.code_roles({"c2": {"slant": -0.25, "width": 0.01, "thickness": -0.77},
                                "c3": {"slant": -0.56, "width": 0.05, "thickness": 0.19}})
    assert roles == {"slant_code": "c3", "slant_rho": 0.56, "other_code": "c2", "other_attribute": "thickness",
                     "other_rho": 0.77, "cross_rho": 0.25}
    roles = metrics.code_roles({"c2": {"slant": 0.9, "width": 0.2, "thickness": 0.1},
                                "c3": {"slant": 0.1, "width": -0.8, "thickness": 0.3}})
    assert (roles["slant_code"], roles["other_attribute"], roles["other_rho"], roles["cross_rho"]) == \
        ("c2", "width", 0.8, 0.2)
    with pytest.raises(ValueError, match="exactly two continuous codes"):
        metrics.code_roles({"c2": {"slant": 0.9, "width": 0.2, "thickness": 0.1}})


def test_traversal_effect_on_small_tables():
    values = [-1.0, 0.0, 1.0]
    # two digits moved in opposite directions: no effect in the median, and the column means are flat
    assert metrics.traversal_effect(values, [[1, 2, 3], [3, 2, 1]]) == {"within_rho": 0.0, "share": 0.0}
    # both digits rise by 1 per step, 10 apart: column means 5, 6, 7 (variance 2/3) of a total variance 154/6
    effect = metrics.traversal_effect(values, [[0, 1, 2], [10, 11, 12]])
    assert effect["within_rho"] == pytest.approx(1.0)
    assert effect["share"] == pytest.approx((2 / 3) / (154 / 6))
    assert metrics.traversal_effect(values, [[5, 5, 5], [5, 5, 5]]) == {"within_rho": 0.0, "share": 0.0}
    with pytest.raises(ValueError, match=r"measures must have shape \(n, 3\)"):
        metrics.traversal_effect(values, [[1, 2], [3, 4]])


class _BarModel:
    """A stand-in generator: a vertical bar 2 to 6 pixels thick, set by the second continuous code (c3) alone."""

    def __init__(self):
        from infogan_utils.codes import LatentSpec
        self.spec = LatentSpec()

    def generate(self, noise, categorical, continuous):
        images = np.zeros((len(continuous), 28, 28, 1), "float32")
        for image, code in zip(images, continuous):
            width = 2 + int(round(2 * (code[1] + 1)))
            image[4:24, 12:12 + width] = 1.0
        return images


def test_code_effects_find_the_code_that_moves_an_attribute():
    effects = metrics.code_effects(_BarModel(), n=6, values=np.linspace(-1, 1, 5))
    assert set(effects) == {"c2", "c3"}
    assert effects["c3"]["thickness"]["within_rho"] == pytest.approx(1.0)
    assert effects["c3"]["thickness"]["share"] == pytest.approx(1.0)  # c3 alone sets the thickness
    assert effects["c2"]["thickness"] == {"within_rho": 0.0, "share": 0.0}  # moving c2 changes nothing


def test_discretize_bins_values_from_zero():
    assert metrics.discretize([0.0, 0.1, 0.5, 0.9, 1.0], bins=2).tolist() == [0, 0, 1, 1, 1]
    assert metrics.discretize([3.0, 1.0, 2.0], bins=4).tolist() == [3, 0, 2]  # edges 1, 1.5, 2, 2.5, 3


def test_the_mutual_information_gap_on_small_tables():
    # four images: code a follows the factor exactly, code b is independent of it (I = ln 2 against 0)
    codes = {"a": [0, 0, 1, 1], "b": [0, 1, 0, 1]}
    report = metrics.mutual_information_gap(codes, {"f": [0.0, 0.0, 1.0, 1.0]}, discrete=("a", "b"), bins=2)
    assert report["mig"] == pytest.approx(1.0)
    row = report["factors"]["f"]
    assert row["code"] == "a" and row["entropy"] == pytest.approx(np.log(2))
    assert row["information"] == {"a": pytest.approx(np.log(2)), "b": pytest.approx(0.0)}
    # both codes carry the factor equally: no gap
    both = metrics.mutual_information_gap({"a": [0, 0, 1, 1], "b": [1, 1, 0, 0]}, {"f": [0.0, 0.0, 1.0, 1.0]},
                                          discrete=("a", "b"), bins=2)
    assert both["mig"] == pytest.approx(0.0)
    # two independent factors f1 (2 values) and f2 (4 values), 25 images of each pair: code a is f1, code b is
    # f2, code c tells f2's upper half (ln 2 of f2's ln 4). f1's gap is 1; f2's is (ln 4 - ln 2) / ln 4 = 1/2
    f1, f2 = (grid.ravel().repeat(25).astype(float) for grid in np.meshgrid([0, 1], [0, 1, 2, 3]))
    report = metrics.mutual_information_gap({"a": f1, "b": f2 * 2, "c": f2 >= 2}, {"f1": f1, "f2": f2},
                                            discrete=("c",), bins=4)
    assert report["factors"]["f1"]["gap"] == pytest.approx(1.0) and report["factors"]["f1"]["code"] == "a"
    assert report["factors"]["f2"]["gap"] == pytest.approx(0.5) and report["factors"]["f2"]["code"] == "b"
    assert report["mig"] == pytest.approx(0.75)


def test_independent_codes_have_no_gap():
    rng = np.random.default_rng(0)
    report = metrics.mutual_information_gap({"a": rng.uniform(size=20000), "b": rng.uniform(size=20000)},
                                            {"f": rng.normal(size=20000)}, bins=10)
    # the plug-in estimate of each I is about (bins - 1)^2 / (2 n) = 0.002 nats of an entropy near 2
    assert report["mig"] < 0.01


@pytest.mark.parametrize("codes, factors, discrete, message", [
    ({"a": [0, 1]}, {"f": [0.0, 1.0]}, (), "at least two codes and one factor"),
    ({"a": [0, 1], "b": [1, 0]}, {"f": [0.0, 1.0]}, ("c",), "discrete names codes that are not given"),
    ({"a": [0, 1, 1], "b": [1, 0]}, {"f": [0.0, 1.0]}, (), "the same number"),
    ({"a": [0, 1], "b": [1, 0]}, {"f": [0.0, np.nan]}, (), "must be finite"),
    ({"a": [0, 0.5], "b": [1, 0]}, {"f": [0.0, 1.0]}, ("a",), "whole numbers from 0"),
    ({"a": [0, 1], "b": [1, 0]}, {"f": [2.0, 2.0]}, (), "factor 'f' takes one value"),
])
def test_the_mutual_information_gap_refuses_bad_input(codes, factors, discrete, message):
    with pytest.raises(ValueError, match=message):
        metrics.mutual_information_gap(codes, factors, discrete=discrete)


class _SlantedBars(_BarModel):
    """Bars whose thickness c3 sets, leaning by c2 (rows shift by up to 4 pixels), read back exactly by a Q that
    names one category for every image."""

    def generate(self, noise, categorical, continuous):
        self.codes = np.asarray(continuous, "float32")
        images = np.zeros((len(continuous), 28, 28, 1), "float32")
        for image, code in zip(images, self.codes):
            width = 2 + int(round(2 * (code[1] + 1)))
            for row in range(4, 24):
                start = 11 + int(round(4 * code[0] * (14 - row) / 10))
                image[row, start:start + width] = 1.0
        return images

    def predict_codes(self, images):
        return np.full((len(images), 10), 0.1), self.codes


def test_the_code_mig_names_the_code_of_each_attribute():
    report = metrics.code_mutual_information_gap(_SlantedBars(), n=400, seed=0, bins=5)
    assert report["factors"]["thickness"]["code"] == "c3" and report["factors"]["slant"]["code"] == "c2"
    # the skeleton of a leaning bar is a little thicker or thinner by its slant, so c2 tells thickness a little too
    assert report["factors"]["slant"]["gap"] > 0.5 and report["factors"]["thickness"]["gap"] > 0.3
    # Q names one category for every bar: the category tells nothing
    assert report["factors"]["slant"]["information"]["c1"] == pytest.approx(0.0, abs=1e-12)
