import numpy as np
import pytest

from infogan_utils.codes import LatentSpec, contrastive_partners, sample_latent_tensors


def test_default_spec_is_the_papers():
    spec = LatentSpec()
    assert (spec.noise_dim, spec.categorical_dims, spec.continuous_dim) == (62, (10,), 2)
    assert spec.code_dim == 12 and spec.input_dim == 74


def test_samples_are_one_hot_and_in_range():
    spec = LatentSpec()
    sample = spec.sample(2000, seed=0)
    assert sample["noise"].shape == (2000, 62) and np.abs(sample["noise"]).max() <= 1.0
    assert set(np.unique(sample["categorical"])) == set(range(10))
    assert sample["continuous"].min() >= -1.0 and sample["continuous"].max() < 1.0
    latent = spec.build_input(sample["noise"], sample["categorical"], sample["continuous"])
    one_hot = latent[:, 62:72]
    assert np.array_equal(one_hot.sum(axis=1), np.ones(2000))
    assert np.array_equal(one_hot.argmax(axis=1), sample["categorical"][:, 0])
    assert np.array_equal(latent[:, 72:], sample["continuous"])


def test_sampling_is_seeded():
    spec = LatentSpec()
    first, again, other = spec.sample(5, seed=1), spec.sample(5, seed=1), spec.sample(5, seed=2)
    assert np.array_equal(first["noise"], again["noise"]) and not np.array_equal(first["noise"], other["noise"])


def test_build_input_layout_on_a_tiny_spec():
    spec = LatentSpec(noise_dim=2, categorical_dims=(3, 2), continuous_dim=1)
    latent = spec.build_input([[0.5, -0.5]], [[2, 0]], [[0.25]])
    assert latent.tolist() == [[0.5, -0.5, 0, 0, 1, 1, 0, 0.25]]
    parts, continuous = spec.split(latent[:, 2:])
    assert [p.tolist() for p in parts] == [[[0, 0, 1]], [[1, 0]]] and continuous.tolist() == [[0.25]]


@pytest.mark.parametrize("categorical, message", [([[10]], "whole values 0..9"), ([[-1]], "whole values 0..9"),
                                                  ([[1, 2]], r"shape \(n, 1\)")])
def test_bad_categorical_values(categorical, message):
    with pytest.raises(ValueError, match=message):
        LatentSpec().one_hot(categorical)


def test_bad_shapes_in_build_input():
    spec = LatentSpec()
    with pytest.raises(ValueError, match=r"continuous must have shape \(1, 2\)"):
        spec.build_input(np.zeros((1, 62)), [[0]], np.zeros((1, 3)))
    with pytest.raises(ValueError, match=r"noise must have shape \(1, 62\)"):
        spec.build_input(np.zeros((1, 60)), [[0]], np.zeros((1, 2)))


def test_invalid_specs():
    with pytest.raises(ValueError, match="at least 2 categories"):
        LatentSpec(categorical_dims=(1,))
    with pytest.raises(ValueError, match="noise_distribution"):
        LatentSpec(noise_distribution="cauchy")


def test_traversal_grid_varies_one_code_by_column_and_category_by_row():
    spec = LatentSpec()
    noise, categorical, continuous = spec.traversal(1, values=np.linspace(-2, 2, 5))
    assert noise.shape == (50, 62) and np.all(noise == noise[0])
    assert categorical[:, 0].tolist() == [k for k in range(10) for _ in range(5)]
    assert continuous[:5, 1].tolist() == [-2.0, -1.0, 0.0, 1.0, 2.0]
    assert np.all(continuous[:, 0] == 0.0)
    with pytest.raises(ValueError, match="continuous_index must be in 0..1"):
        spec.traversal(2)


def test_in_graph_sampling_matches_the_layout():
    import keras

    spec = LatentSpec()
    latent, codes = sample_latent_tensors(spec, 500, keras.random.SeedGenerator(0))
    latent, codes = np.asarray(latent), np.asarray(codes)
    assert latent.shape == (500, 74) and np.array_equal(latent[:, 62:], codes)
    assert np.array_equal(codes[:, :10].sum(axis=1), np.ones(500))
    assert len(np.unique(codes[:, :10].argmax(axis=1))) == 10
    assert np.abs(latent[:, :62]).max() <= 1.0 and np.abs(codes[:, 10:]).max() <= 1.0


def test_spec_round_trips_through_a_dict():
    spec = LatentSpec(noise_dim=10, categorical_dims=(4,), continuous_dim=3, noise_distribution="normal")
    assert LatentSpec.from_dict(spec.to_dict()) == spec


def test_noise_scale_shrinks_only_the_noise():
    wide, narrow = LatentSpec(noise_scale=1.0), LatentSpec(noise_scale=0.1)
    assert np.allclose(narrow.sample(100, seed=3)["noise"], 0.1 * wide.sample(100, seed=3)["noise"])
    assert np.array_equal(narrow.sample(100, seed=3)["continuous"], wide.sample(100, seed=3)["continuous"])
    assert np.allclose(LatentSpec(noise_distribution="normal", noise_scale=0.5).sample(3, seed=0)["noise"],
                       0.5 * LatentSpec(noise_distribution="normal").sample(3, seed=0)["noise"])
    noise, _, _ = narrow.traversal(0)
    assert 0.0 < np.abs(noise).max() <= 0.1


def test_in_graph_noise_is_scaled():
    import keras

    spec = LatentSpec(noise_scale=0.1)
    latent, codes = sample_latent_tensors(spec, 2000, keras.random.SeedGenerator(0))
    noise = np.asarray(latent)[:, :62]
    assert 0.09 < np.abs(noise).max() <= 0.1  # Uniform(-0.1, 0.1)
    assert np.abs(np.asarray(codes)[:, 10:]).max() > 0.9  # the continuous codes keep their range


@pytest.mark.parametrize("scale", [0.0, -1.0, float("inf"), float("nan")])
def test_noise_scale_must_be_positive(scale):
    with pytest.raises(ValueError, match="noise_scale must be a positive finite number"):
        LatentSpec(noise_scale=scale)


def test_a_spec_saved_before_noise_scale_existed_reads_as_scale_one():
    values = LatentSpec().to_dict()
    del values["noise_scale"]
    assert LatentSpec.from_dict(values).noise_scale == 1.0


def test_a_contrastive_partner_shares_exactly_the_chosen_continuous_code():
    spec = LatentSpec(noise_dim=2, categorical_dims=(3,), continuous_dim=2)
    latent = np.array([[0.1, 0.2, 1, 0, 0, 0.5, -0.5], [0.3, 0.4, 0, 1, 0, 0.7, 0.9]], "float32")
    partner = np.array([[-0.1, -0.2, 0, 0, 1, -0.6, 0.6], [-0.3, -0.4, 0, 0, 1, -0.8, -0.1]], "float32")
    paired = np.asarray(contrastive_partners(spec, latent, partner, np.array([1, 0])))
    # row 0 keeps its partner's noise, category and c2, and takes c3 from the latent; row 1 takes c2
    np.testing.assert_array_equal(paired, np.array([[-0.1, -0.2, 0, 0, 1, -0.6, -0.5], [-0.3, -0.4, 0, 0, 1, 0.7, -0.1]],
                                                    "float32"))
