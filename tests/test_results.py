"""The runs shipped inside the package (infogan_utils/results) agree with the repository's runs/ folder,
and give the chapters what they read."""

import json
import pathlib

import numpy as np
import pytest

import infogan_utils
from infogan_utils import results

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["mnist-seed0", "fashion-mnist-seed0", "paper-seed2", "shapes-seed0"])
def test_the_shipped_copy_matches_runs(name):
    """tools/ship_results.py copies these files; a run that changed without re-shipping fails here."""
    shipped = results.RESULTS_DIR / name
    files = [path for path in shipped.rglob("*") if path.is_file()]
    assert {"config.json", "metrics.json", "timing.json", "steps.csv", "history.csv"} <= {p.name for p in files}
    for path in files:
        original = ROOT / "runs" / results.RUN_SOURCES.get(name, name) / path.relative_to(shipped)
        assert path.read_bytes() == original.read_bytes(), f"{path} differs from {original}: run tools/ship_results.py"


def test_the_summary_matches_the_run_folders():
    """One row per finished run folder of each variant, in order, with its test and validation figures (a run
    measured on the validation slice alone has no test figures: metrics None)."""
    rows = results.summary()
    expected = [(variant, folder) for variant, pattern in results.SUMMARY_PATTERNS.items()
                for folder in sorted((ROOT / "runs").glob(pattern))
                if (folder / "metrics.json").is_file() or (folder / "validation.json").is_file()]
    assert [(row["variant"], row["seed"]) for row in rows] == [
        (variant, json.loads((folder / "config.json").read_text())["seed"]) for variant, folder in expected]
    assert {row["variant"] for row in rows} >= {"defaults", "invariant-codes-0", "invariant-codes-0-fresh-seeds",
                                                "invariant-codes-1-fresh-retrained", "continuous-weight-0.1",
                                                "no-augmentation", "paper"}
    assert [row["seed"] for row in rows if row["variant"] == "invariant-codes-1-fresh"] == [15, 16, 17, 18, 19]
    for row, (_, folder) in zip(rows, expected):
        if (folder / "validation.json").is_file():
            validation = json.loads((folder / "validation.json").read_text())
            assert row["validation"]["hungarian_accuracy"] == validation["hungarian_accuracy"]
            assert row["continuous_codes"] == validation["continuous_codes"]
            quality = validation.get("sample_quality")
            assert row["validation"]["frechet_distance"] == (quality["frechet_distance"] if quality else None)
        if not (folder / "metrics.json").is_file():
            assert row["metrics"] is None and 0.5 < row["validation"]["hungarian_accuracy"] <= 1
            continue
        metrics = json.loads((folder / "metrics.json").read_text())
        assert row["metrics"]["hungarian_accuracy"] == metrics["hungarian_accuracy"]
        assert np.sum(row["metrics"]["confusion_matrix"]) == 10000


def test_a_trained_run_reads_like_a_run_folder():
    run = results.trained_run("mnist-seed0")
    assert run.config.steps == 5000 and run.metrics["steps"] == 5000
    history = run.history()
    assert history["step"][-1] == 5000 and len(history["step"]) == len(history["categorical_mi"])
    assert [path.name for path in run.grids()] == ["epoch_001.png", "epoch_020.png"]
    with pytest.raises(ValueError, match="no shipped run 'cifar'"):
        results.trained_run("cifar")
    with pytest.raises(ValueError, match="are not shipped"):
        results.trained_run("fashion-mnist-seed0").model()


def test_the_shipped_mnist_run_rebuilds_its_model_in_its_own_category_order(mnist_path):
    """model() is the run's InfoGAN: its categories are the run's own, as metrics["cluster_to_label"] says."""
    from infogan_utils import load_mnist

    run = results.trained_run("mnist-seed0")
    model = run.model()
    assert model.steps == 5000 and model.spec == run.config.latent_spec()
    (_, _), (x_test, y_test) = load_mnist(mnist_path)
    probabilities, _ = model.predict_codes(x_test[:1000])
    categories = probabilities.argmax(axis=1)
    mapped = np.array(run.metrics["cluster_to_label"])[categories]
    assert np.mean(mapped == y_test[:1000]) > 0.95  # measured 0.966 on these 1,000 (float16 weights); a wrong map: ~0.1


def test_the_shipped_model_names_its_codes_by_what_they_measurably_control():
    """The explorer's slider labels come from the correlations measured on the shipped run (validation.json),
    not from the paper's hopes; a run without them falls back to plain c2, c3."""
    from infogan_utils.widgets import explorer_or_message

    run = results.trained_run("mnist-seed0")
    codes = run.validation["continuous_codes"]
    # validation.json: c2 thickness -0.65, width -0.36 (slant +0.11), c3 slant +0.92 (width -0.16, thickness +0.06);
    # a name lists the attributes with |rho| >= 0.3, strongest first, and the direction the code moves them
    assert round(codes["c2"]["thickness"], 2) == -0.65 and round(codes["c3"]["slant"], 2) == 0.92
    assert run.code_names() == ["c2: thickness- width-", "c3: slant+"]
    assert results.trained_run_of_model("mnist").name == "mnist-seed0" and results.trained_run_of_model("x") is None
    assert results.trained_run("fashion-mnist-seed0").code_names() == ["c2", "c3"]
    widget = explorer_or_message()
    assert [slider.description for slider in widget.explorer.sliders] == run.code_names()


def test_a_shipped_runs_step_log_becomes_tensorboard_scalars(tmp_path):
    import tensorflow as tf

    run = results.trained_run("mnist-seed0")
    logdir = run.tensorboard_logs(tmp_path / "logs")
    history = run.history()
    found = {}
    for path in (logdir / "train").glob("events.out.tfevents.*"):
        for event in tf.compat.v1.train.summary_iterator(str(path)):
            for value in event.summary.value:
                found.setdefault(value.tag, []).append((event.step, float(tf.make_ndarray(value.tensor))))
    assert sorted(found) == sorted(name for name in history if name != "step")
    assert found["categorical_mi"] == [(int(step), pytest.approx(value)) for step, value in
                                       zip(history["step"], history["categorical_mi"])]


def test_the_shipped_run_and_the_shipped_model_draw_the_same_digit():
    """Two numberings that cannot be confused: run.model() takes the run's own categories, load_pretrained
    takes digits, and categories_of_digits converts one into the other (the validation-fitted map)."""
    run = results.trained_run("mnist-seed0")
    pretrained = infogan_utils.load_pretrained("mnist")
    codes = np.array([[0.0, -1.5], [0.0, 1.5]])
    categories = run.categories_of_digits([3, 3])
    assert categories.tolist() == [0, 0]  # the shipped map [3, 7, 0, 1, 9, 6, 5, 4, 2, 8]: category 0 draws 3s
    drawn = run.model().generate(None, categories, codes)
    # the same weights, float32 against their float16 copy: a grey level apart at most
    assert np.abs(drawn - pretrained.generate(None, [3, 3], codes)).max() < 1e-2
    with pytest.raises(ValueError, match=r"digits must be whole numbers 0\.\.9, got \[10\]"):
        run.categories_of_digits([10])
