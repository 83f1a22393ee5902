import json
import shutil

import numpy as np
import pytest
from shared import shared_folder
from tolerances import SAME_NETWORK

import infogan_utils
from infogan_utils.data import load_mnist, validation_split
from infogan_utils.metrics import hungarian_accuracy, hungarian_mapping
from infogan_utils.pretrained import PretrainedInfoGAN, _current_report, export_pretrained, load_pretrained


@pytest.fixture(scope="module")
def exported(tiny_run, tmp_path_factory):
    """The tiny run exported (its validation reports computed on the way), once per session (``shared_folder``)."""
    run_dir, model, metrics = tiny_run

    def export(folder):
        folder.mkdir()
        export_pretrained(run_dir, folder / "tiny.npz")

    return shared_folder(tmp_path_factory, "tiny-export", export) / "tiny.npz", model, metrics


def test_export_round_trip_within_float16_tolerance(exported):
    path, model, metrics = exported
    loaded = load_pretrained(path=path)
    assert loaded.latent_spec == model.spec
    assert loaded.metrics["hungarian_accuracy"] == metrics["hungarian_accuracy"]
    sample = model.spec.sample(16, seed=0)
    internal = sample["categorical"][:, 0]
    labels = loaded.category_to_label[internal]
    original = model.generate(sample["noise"], sample["categorical"], sample["continuous"])
    images = loaded.generate(sample["noise"], labels, sample["continuous"])
    assert images.shape == (16, 28, 28, 1) and images.dtype == np.float32
    assert np.abs(images - original).max() < 1e-2


def test_the_exported_map_is_fitted_on_the_validation_slice_not_the_test_labels(exported, tiny_run, mnist_path):
    run_dir, model, _ = tiny_run
    assert not (run_dir / "validation.json").exists()  # exporting writes only the file it is asked for
    (x_train, y_train), _ = load_mnist(mnist_path)
    images, labels = validation_split(x_train, y_train)
    probabilities, _ = model.predict_codes(images)
    loaded = load_pretrained(path=exported[0])
    assert loaded.category_to_label.tolist() == hungarian_mapping(labels, probabilities.argmax(axis=1), 10).tolist()
    assert loaded.meta["category_to_label_fitted_on"] == "the last 10000 training images"


def test_export_reuses_the_runs_reports_only_when_they_are_of_its_step(tiny_run, tmp_path):
    """``infogan evaluate --validation`` then ``infogan export`` does not compute the reports twice; a report of
    another step, or one that cannot be read, is computed afresh. Fake reports show which one was used."""
    run_dir = tmp_path / "run"
    shutil.copytree(tiny_run[0], run_dir)
    reversed_map = list(range(9, -1, -1))
    (run_dir / "validation.json").write_text(json.dumps(
        {"steps": 12, "cluster_to_label": reversed_map, "split": "the last 10000 training images", "class_names": None}))
    (run_dir / "metrics.json").write_text(json.dumps({"steps": 12, "hungarian_accuracy": 0.125}))
    loaded = load_pretrained(path=export_pretrained(run_dir, tmp_path / "reused.npz"))
    assert loaded.category_to_label.tolist() == reversed_map and loaded.metrics["hungarian_accuracy"] == 0.125

    assert _current_report(run_dir / "metrics.json", steps=12) == {"steps": 12, "hungarian_accuracy": 0.125}
    assert _current_report(run_dir / "metrics.json", steps=13) is None  # written before the run went on
    (run_dir / "metrics.json").write_text("{not json")
    assert _current_report(run_dir / "metrics.json", steps=12) is None
    assert _current_report(run_dir / "missing.json", steps=12) is None


def test_the_shipped_model_map_was_fitted_on_the_validation_slice():
    shipped = load_pretrained("mnist")
    assert shipped.meta["category_to_label_fitted_on"] == "the last 10000 training images"
    assert shipped.category_to_label.tolist() == shipped.meta["validation"]["cluster_to_label"]


def test_the_permutation_is_applied_in_generate_and_predict_codes(exported):
    path, _, _ = exported
    plain = load_pretrained(path=path)
    permutation = [3, 0, 1, 2, 4, 5, 6, 7, 9, 8]  # category i is digit permutation[i]
    renamed = PretrainedInfoGAN(plain.generator, plain.discriminator, plain.latent_spec, permutation)
    continuous = np.zeros((10, 2), "float32")
    noise = np.repeat(plain.latent_spec.sample_noise(1, np.random.default_rng(0)), 10, axis=0)
    identity = PretrainedInfoGAN(plain.generator, plain.discriminator, plain.latent_spec)
    raw = identity.generate(noise, list(range(10)), continuous)  # raw[i]: internal category i
    by_digit = renamed.generate(noise, list(range(10)), continuous)  # by_digit[k]: digit k
    for category, digit in enumerate(permutation):
        assert np.array_equal(by_digit[digit], raw[category])
    raw_probabilities, _ = identity.predict_codes(raw)
    probabilities, means = renamed.predict_codes(raw)
    assert probabilities.shape == (10, 10) and means.shape == (10, 2)
    for category, digit in enumerate(permutation):
        assert np.allclose(probabilities[:, digit], raw_probabilities[:, category])


@pytest.mark.parametrize("call, message", [
    (lambda m: m.generate(None, [10], [[0.0, 0.0]]), "whole numbers 0..9"),
    (lambda m: m.generate(None, [1.5], [[0.0, 0.0]]), "whole numbers 0..9"),
    (lambda m: m.generate(None, [1], [[0.0, 2.5]]), r"in \[-2, 2\]"),
    (lambda m: m.generate(None, [1], [[np.nan, 0.0]]), r"in \[-2, 2\]"),
    (lambda m: m.generate(None, [1, 2], [[0.0, 0.0]]), r"shape \(2, 2\)"),
    (lambda m: m.generate(np.zeros((1, 3)), [1], [[0.0, 0.0]]), r"noise must have shape \(1, 62\)"),
    (lambda m: m.generate(None, [], np.zeros((0, 2))), "non-empty"),
    (lambda m: m.predict_codes(np.zeros((2, 32, 32))), r"shape \(n, 28, 28, 1\)"),
])
def test_bad_inputs_are_refused(exported, call, message):
    with pytest.raises(ValueError, match=message):
        call(load_pretrained(path=exported[0]))


def test_unknown_names_and_damaged_files(tmp_path):
    with pytest.raises(ValueError, match="unknown pretrained model 'cifar'"):
        load_pretrained("cifar")
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"garbage")
    with pytest.raises(ValueError, match="broken.npz is damaged and cannot be read"):
        load_pretrained(path=broken)
    with pytest.raises(ValueError, match="no such pretrained model file"):
        load_pretrained(path=tmp_path / "absent.npz")


def test_a_bad_permutation_is_refused(exported):
    plain = load_pretrained(path=exported[0])
    with pytest.raises(ValueError, match="permutation"):
        PretrainedInfoGAN(plain.generator, plain.discriminator, plain.latent_spec, [0] * 10)


def test_the_shipped_mnist_model(mnist_path):
    """The committed model: category k really draws digit k (read back by its own Q head)."""
    assert "mnist" in infogan_utils.available_pretrained()
    model = infogan_utils.load_pretrained("mnist")
    assert model.latent_spec == infogan_utils.LatentSpec()
    assert model.metrics["steps"] == 5000
    images = model.generate(None, [3, 3], [[0.0, -1.5], [0.0, 1.5]], seed=0)
    assert images.shape == (2, 28, 28, 1) and 0.0 <= images.min() and images.max() <= 1.0
    labels = np.repeat(np.arange(10), 20)
    images = model.generate(None, labels, np.zeros((200, 2)), seed=1)
    probabilities, _ = model.predict_codes(images)
    assert np.mean(probabilities.argmax(axis=1) == labels) > 0.9
    (_, _), (x_test, y_test) = infogan_utils.load_mnist(mnist_path)
    probabilities, _ = model.predict_codes(x_test / 255.0)
    accuracy = hungarian_accuracy(y_test, probabilities.argmax(axis=1))
    assert accuracy > 0.965  # the file says 0.9727
    # The file's figure is what its weights do: they are the run's float32 weights stored in float16, which
    # may move a digit on the edge between two categories, so a few of the 10,000 may differ.
    assert abs(accuracy - model.metrics["hungarian_accuracy"]) <= 10 / len(y_test)
    size = sum(p.stat().st_size for p in (infogan_utils.pretrained.PRETRAINED_DIR).glob("*.npz"))
    assert size < 30 * 2**20
    assert json.loads(json.dumps(model.metrics)) == model.metrics  # plain JSON values, no NumPy scalars


def test_uint8_images_are_scaled_like_the_training_data(exported, mnist_path):
    """The loaders return uint8 0..255; Q was trained on [0, 1]. Both must give the same reading."""
    model = load_pretrained(path=exported[0])
    (_, _), (x_test, _) = infogan_utils.load_mnist(mnist_path)
    as_uint8, _ = model.predict_codes(x_test[:300])
    as_float, _ = model.predict_codes(x_test[:300].astype("float32") / 255.0)
    assert np.allclose(as_uint8, as_float, **SAME_NETWORK)


def test_a_trained_infogan_and_a_loaded_model_answer_the_same_calls(exported):
    """One model interface: generate(noise, categorical, continuous, seed=0) and predict_codes(images), so that
    every plot, metric and widget takes a freshly trained InfoGAN or a loaded model alike."""
    import inspect

    import matplotlib

    matplotlib.use("Agg")
    from infogan_utils import metrics, plotting
    from infogan_utils.training import InfoGAN
    from infogan_utils.widgets import LatentExplorer

    path, trained, _ = exported
    loaded = load_pretrained(path=path)
    assert list(inspect.signature(InfoGAN.generate).parameters)[:5] == \
        list(inspect.signature(PretrainedInfoGAN.generate).parameters)[:5] == \
        ["self", "noise", "categorical", "continuous", "seed"]
    identity = PretrainedInfoGAN(loaded.generator, loaded.discriminator, loaded.latent_spec)  # category k = k
    for model in (trained, identity):
        first = model.generate(None, [0, 4], np.zeros((2, 2)), seed=3)
        again = model.generate(model.spec.sample_noise(2, np.random.default_rng(3)), [[0], [4]], np.zeros((2, 2)))
        assert first.shape == (2, 28, 28, 1) and np.allclose(first, again, **SAME_NETWORK)
        probabilities, means = model.predict_codes(first)
        assert probabilities.shape == (2, 10) and means.shape == (2, 2)
        assert plotting.plot_traversal(model, 0, values=np.linspace(-1, 1, 3)).images
        correlations = metrics.continuous_code_correlations(model, n=50)
        assert set(correlations) == {"c2", "c3"} and all(np.isfinite(v) for c in correlations.values()
                                                        for v in c.values())
        assert set(metrics.pixel_change(model, n=20)) == {"noise", "categorical", "continuous"}
        explorer = LatentExplorer(model)
        explorer.category.value = 4
        assert explorer.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    # the float16 copy draws what the trained model draws, through the same call
    noise = trained.spec.sample_noise(2, np.random.default_rng(0))
    assert np.abs(trained.generate(noise, [1, 2], np.zeros((2, 2))) -
                  identity.generate(noise, [1, 2], np.zeros((2, 2)))).max() < 1e-2


def test_a_trained_infogan_answers_small_batches_through_the_compiled_path_as_predict_did(exported):
    """InfoGAN.generate and predict_codes run up to SMALL_BATCH images through one compiled call; they give
    what Keras' predict gives, for one image, for a sweep's nine and for a batch above the threshold."""
    from keras import ops

    from infogan_utils.inference import SMALL_BATCH, inference_function

    _, trained, _ = exported
    for size in (1, 9, SMALL_BATCH + 1):
        sample = trained.spec.sample(size, seed=size)
        latent = trained.spec.build_input(sample["noise"], sample["categorical"], sample["continuous"])
        images = trained.generate(sample["noise"], sample["categorical"], sample["continuous"])
        assert images.shape == (size, 28, 28, 1)
        assert np.allclose(images, trained.generator.predict(latent, verbose=0), **SAME_NETWORK)
        probabilities, means = trained.predict_codes(images)
        outputs = trained.discriminator.predict(images, verbose=0)
        assert np.allclose(probabilities, ops.convert_to_numpy(ops.softmax(outputs["categorical_logits"])),
                           **SAME_NETWORK)
        assert np.allclose(means, outputs["continuous_mean"], **SAME_NETWORK)
    assert inference_function(trained.generator).experimental_get_tracing_count() == 1
