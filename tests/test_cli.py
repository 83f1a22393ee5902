import io
import json
import os
import pathlib
import shutil
import subprocess
import sys

import numpy as np
import PIL.Image
import pytest

from infogan_utils import cli
from infogan_utils.data import write_shapes_folder
from infogan_utils.pretrained import load_pretrained
from infogan_utils.runs import TrainConfig, resolve_compute

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def infogan(*arguments, cwd=ROOT, env=None):
    """Run the command line; ``env`` replaces the test's own TF_CPP_MIN_LOG_LEVEL=3 (``{}``: none set)."""
    environment = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    environment |= {"TF_CPP_MIN_LOG_LEVEL": "3"} if env is None else env
    return subprocess.run([sys.executable, "-m", "infogan_utils", *arguments], capture_output=True, text=True,
                          cwd=cwd, env=environment, timeout=600)


def assert_refused(capsys, arguments, fragment):
    """``infogan ARGUMENTS`` run in this process (``cli.main``) exits with status 2 and one line naming
    ``fragment``. In-process, because a new process costs about 6 s of importing TensorFlow; a real process's
    one-line error is checked at the end of the complete run below."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as stopped:
        cli.main(list(arguments))
    error = capsys.readouterr().err
    assert stopped.value.code == 2, error
    lines = [line for line in error.splitlines() if line.startswith("infogan")]
    assert "Traceback" not in error and len(lines) == 1 and fragment in lines[0], error


@pytest.mark.parametrize("arguments, fragment", [
    (["--steps", "-5"], "steps must not be negative"),
    (["--dataset", "cifar10"], "unknown dataset 'cifar10'"),
    (["--batch-size", "0"], "batch_size must be positive"),
    (["--categorical-weight", "-1"], "categorical_weight must be a finite number that is not negative"),
    (["--noise-scale", "0"], "noise_scale must be a positive finite number"),
    (["--invariant-codes", "3"], "invariant_codes (3) must lie between 0 and the 2 continuous codes"),
    (["--invariant-codes", "1", "--categorical-augmentation", "0"],
     "give categorical_augmentation above 0, or invariant_codes=0"),
    (["--contrastive-weight", "-0.5"], "contrastive_weight must be a finite number that is not negative"),
    (["--contrastive-weight", "0.5", "--contrastive-start", "-1"], "contrastive_start must be a step"),
    (["--categorical-augmentation", "-1"], "categorical_augmentation must be a finite number that is not negative"),
    (["--categorical-augmentation", "nan"], "categorical_augmentation must be a finite number that is not negative"),
    (["--continuous-weight", "nan"], "continuous_weight must be a finite number that is not negative"),
    (["--categorical-weight", "inf"], "categorical_weight must be a finite number that is not negative"),
    (["--noise-scale", "inf"], "noise_scale must be a positive finite number"),
    (["--d-learning-rate", "nan"], "d_learning_rate must be a positive finite number"),
    (["--g-learning-rate", "inf"], "g_learning_rate must be a positive finite number"),
])
def test_bad_train_arguments(arguments, fragment, tmp_path, capsys):
    assert_refused(capsys, ["train", "--out", str(tmp_path / "run"), *arguments], fragment)
    assert not (tmp_path / "run").exists()


def test_an_unparseable_number_is_an_argparse_error():
    result = infogan("train", "--steps", "many")
    assert result.returncode == 2 and "invalid int value: 'many'" in result.stderr and "Traceback" not in result.stderr


def test_a_run_folder_holding_another_configuration(tiny_run, capsys):
    run_dir, _, _ = tiny_run
    assert_refused(capsys, ["train", "--out", str(run_dir), "--steps", "12", "--batch-size", "64"],
                   "holds a run with another configuration (batch_size")


def test_evaluate_a_folder_that_is_not_a_run(tmp_path, capsys):
    assert_refused(capsys, ["evaluate", str(tmp_path)], "is not a run folder")


def test_evaluate_with_a_corrupt_checkpoint(tiny_run, tmp_path, capsys):
    run_dir, _, _ = tiny_run
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text((run_dir / "config.json").read_text())
    (broken / "checkpoint.npz").write_bytes(b"PK\x03\x04 truncated")
    assert_refused(capsys, ["evaluate", str(broken)], "is damaged and cannot be read")


def test_train_writes_a_complete_run_folder_and_evaluate_recomputes_it(tmp_path, capsys, monkeypatch):
    """train, evaluate, evaluate --validation and export, each through the command line, on one run. Also: the
    command line prints only its own lines, with no TensorFlow, XLA or absl start-up logging, even when
    TF_CPP_MIN_LOG_LEVEL is not set. Export comes last, so it reuses the validation report instead of computing
    it a second time (``train --export`` is checked below)."""
    out = tmp_path / "run"
    result = infogan("train", "--steps", "12", "--batch-size", "32", "--train-subset", "512", "--steps-per-epoch", "6",
                     "--out", str(out), "--quiet", env={})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr == ""
    assert result.stdout == f"Wrote {out}/metrics.json\n"
    for name in ("config.json", "checkpoint.npz", "checkpoint.prev.npz", "metrics.json", "traversal_c2.png",
                 "traversal_c3.png", "grids/epoch_002.png", "history.csv", "steps.csv"):
        assert (out / name).is_file(), name
    metrics = json.loads((out / "metrics.json").read_text())
    for key in ("hungarian_accuracy", "majority_accuracy", "nmi", "categorical_mi", "steps", "images_per_second",
                "wall_time_seconds", "config"):
        assert key in metrics, key
    assert metrics["steps"] == 12
    jit_compile, precision = resolve_compute()
    policy = {"bfloat16": "mixed_bfloat16", True: "mixed_float16", False: "float32"}[precision]
    chosen = f"{policy}, {'XLA' if jit_compile else 'no XLA'}"
    assert json.loads((out / "timing.json").read_text())["compute"] == chosen
    (out / "metrics.json").unlink()
    capsys.readouterr()
    assert cli.main(["evaluate", str(out)]) == 0  # in this process: a second TensorFlow import adds nothing here
    assert capsys.readouterr().out.startswith("On the test set: Hungarian accuracy")
    assert json.loads((out / "metrics.json").read_text())["hungarian_accuracy"] == metrics["hungarian_accuracy"]
    assert cli.main(["evaluate", "--validation", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("On the validation slice: Hungarian accuracy")
    validation = json.loads((out / "validation.json").read_text())
    assert validation["split"] == "the last 10000 training images" and validation["steps"] == 12
    assert np.sum(validation["confusion_matrix"]) == 10000 and sorted(validation["cluster_to_label"]) == list(range(10))
    codes = validation["continuous_codes"]
    assert sorted(codes) == ["c2", "c3"] and all(sorted(codes[c]) == ["slant", "thickness", "width"] for c in codes)
    assert printed.splitlines()[1].startswith(f"c2 on generated digits: slant rho {codes['c2']['slant']:+.2f}, ")
    quality = validation["sample_quality"]
    assert len(quality["category_shares"]) == 10 and 0 <= quality["worst_share"] == min(quality["category_shares"]) <= 1
    assert quality["frechet_distance"] > quality["reference_frechet_distance"] > 0  # 12 steps: far from real digits
    assert printed.splitlines()[3].startswith("Samples, judged by the project's MNIST classifier: Fréchet distance ")
    from infogan_utils import runs

    def computed_again(*arguments, **options):
        raise AssertionError("export computed the validation report again instead of reading validation.json")

    monkeypatch.setattr(runs, "evaluate_validation", computed_again)
    assert cli.main(["export", str(out), str(tmp_path / "model.npz")]) == 0
    assert capsys.readouterr().out == f"Exported {tmp_path / 'model.npz'}\n"
    exported = load_pretrained(path=tmp_path / "model.npz")
    assert exported.meta["validation"] == validation
    assert exported.metrics["hungarian_accuracy"] == metrics["hungarian_accuracy"]
    error = infogan("train", "--out", str(out), "--steps", "1", env={})
    assert error.stdout == "" and error.stderr.count("\n") == 1, error.stderr


def test_train_export_exports_the_run_it_trained(monkeypatch, tmp_path, capsys):
    """``train --export FILE`` exports the run once it is trained and says so after the run's own line."""
    from infogan_utils import pretrained, runs

    calls = []
    monkeypatch.setattr(runs, "train_run", lambda out, config, **options: calls.append(("train", str(out))))
    monkeypatch.setattr(pretrained, "export_pretrained",
                        lambda run_dir, path: calls.append(("export", str(run_dir), str(path))) or path)
    monkeypatch.setattr(cli, "_import_tensorflow_quietly", lambda: None)
    out, file = tmp_path / "run", tmp_path / "model.npz"
    assert cli.main(["train", "--out", str(out), "--export", str(file), "--quiet"]) == 0
    assert calls == [("train", str(out)), ("export", str(out), str(file))]
    assert capsys.readouterr().out == f"Wrote {out}/metrics.json\nExported {file}\n"


@pytest.mark.parametrize("flags, jit_compile", [(["--exact"], True), ([], "auto")])
def test_train_exact_asks_for_the_exact_mode(monkeypatch, tmp_path, flags, jit_compile):
    """--exact hands jit_compile=True to train_run, which build_model resolves to float32 with XLA on any device
    (test_training's test_infogan_compute_makes_this_machine_train_as_another_would); without it, the machine
    chooses. (Checked in-process: the complete run above already trains through the command line.)"""
    from infogan_utils import runs

    calls = []
    monkeypatch.setattr(runs, "train_run", lambda out, config, **options: calls.append(options))
    monkeypatch.setattr(cli, "_import_tensorflow_quietly", lambda: None)
    assert cli.main(["train", *flags, "--out", str(tmp_path / "run"), "--quiet"]) == 0
    assert calls[0]["jit_compile"] == jit_compile
    assert runs.resolve_compute(jit_compile=True) == (True, False)  # exact means float32, with XLA


def test_out_naming_an_existing_file_is_refused_and_the_file_kept(tmp_path, capsys):
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    assert_refused(capsys, ["train", "--out", str(existing)], "is a file, not a run folder")
    assert existing.read_text() == "keep me"


def test_out_in_a_folder_that_cannot_be_written(tmp_path, monkeypatch, capsys, mnist_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert_refused(capsys, ["train", "--out", str(blocker / "run")], "Not a directory")
    # Root (as CI runs) may write into any folder, so the refusal is made where the run folder is created.
    def refuse(self, *arguments, **keywords):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(pathlib.Path, "mkdir", refuse)
    locked = tmp_path / "locked" / "run"
    with pytest.raises(SystemExit) as stopped:
        cli.main(["train", "--out", str(locked), "--steps", "1", "--train-subset", "256", "--batch-size", "32"])
    assert stopped.value.code == 2
    assert capsys.readouterr().err == f"infogan train: error: Permission denied: {locked}\n"


def test_an_error_inside_a_library_keeps_its_traceback(monkeypatch):
    """Only the package's own input checks become one line: a ValueError raised inside NumPy, Keras or
    TensorFlow is a bug or a library's complaint, and its traceback says where."""
    import infogan_utils.runs

    def broken_training(*arguments, **keywords):
        np.zeros(-1)  # NumPy raises "negative dimensions are not allowed"

    monkeypatch.setattr(infogan_utils.runs, "train_run", broken_training)
    with pytest.raises(ValueError, match="negative dimensions"):
        cli.main(["train", "--out", "unused", "--steps", "1"])
    with pytest.raises(ValueError) as ours:
        TrainConfig(steps=-1)
    with pytest.raises(ValueError) as numpys:
        np.zeros(-1)
    assert cli._raised_by_the_package(ours.value) and not cli._raised_by_the_package(numpys.value)


def test_a_committed_run_is_never_trained_over(tmp_path, capsys):
    """A folder holding a run's results but no checkpoint (as git keeps the project's runs) is refused and
    kept byte for byte; --overwrite is the way to replace it."""
    committed = tmp_path / "committed"
    committed.mkdir()
    for name in ("config.json", "metrics.json", "timing.json"):
        (committed / name).write_text((pathlib.Path(ROOT) / "runs" / "mnist-seed0" / name).read_text())
    before = {path.name: path.read_bytes() for path in committed.iterdir()}
    assert_refused(capsys, ["train", "--out", str(committed), "--steps", "5000"],
                   "holds the results of a run (metrics.json, timing.json) but no checkpoint")
    assert {path.name: path.read_bytes() for path in committed.iterdir()} == before


def test_the_readme_training_command_leaves_the_checkout_untouched(mnist_path):
    """`make train` runs `python -m infogan_utils train` without --out: it writes into the git-ignored
    my-runs/, never into the committed runs/."""
    def status():
        return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout

    before = status()
    out = pathlib.Path(ROOT) / "my-runs" / "mnist-seed7919"
    shutil.rmtree(out, ignore_errors=True)
    try:
        result = infogan("train", "--seed", "7919", "--steps", "2", "--batch-size", "32", "--train-subset", "256",
                         "--steps-per-epoch", "2", "--quiet")
        assert result.returncode == 0, result.stderr[-2000:]
        assert result.stdout.startswith(f"Wrote {os.path.join('my-runs', 'mnist-seed7919')}/metrics.json")
        assert (out / "checkpoint.npz").is_file()
        assert status() == before
    finally:
        shutil.rmtree(out, ignore_errors=True)


def test_export_to_a_folder_is_refused(tiny_run, tmp_path, capsys):
    run_dir, _, _ = tiny_run
    assert_refused(capsys, ["export", str(run_dir), str(tmp_path)], f"{tmp_path} is a folder; name the .npz file")


def test_fewer_steps_than_the_checkpoint_are_refused_and_nothing_is_rewritten(tiny_run, capsys):
    run_dir, _, _ = tiny_run
    before = {name: (run_dir / name).read_bytes() for name in ("config.json", "timing.json", "checkpoint.npz")}
    assert_refused(capsys, ["train", "--out", str(run_dir), "--steps", "10", "--batch-size", "32", "--train-subset",
                            "1024", "--steps-per-epoch", "6", "--seed", "3"], "has already trained 12 steps")
    assert {name: (run_dir / name).read_bytes() for name in before} == before


def write_shapes(folder, size):
    """The package's folder of shapes (RGB, nested class folders) with two files that are not images."""
    write_shapes_folder(folder, size=size)
    (folder / "circle" / "broken.png").write_bytes(b"\x89PNG not really")
    (folder / "square" / "more" / "empty.jpg").write_bytes(b"")


def test_a_folder_of_your_own_images_trains_evaluates_exports_and_explores(tmp_path, capsys):
    """The reader's own run end to end: a folder of 32x32 RGB pictures in nested class folders with two broken
    files -> train -> evaluate -> export -> the explorer, whose category buttons carry the class names. (32x32:
    the paper's SVHN network compiles in a fraction of the 64x64 one's time; test_training checks that 64x64
    pictures get the chairs network, and chapter 7 trains it.)"""
    from infogan_utils.pretrained import load_pretrained
    from infogan_utils.widgets import LatentExplorer

    folder, out = tmp_path / "my-shapes", tmp_path / "run"
    write_shapes(folder, size=32)
    # --exact: float32 with XLA on every CPU, so that the network trains in the same time everywhere
    result = infogan("train", "--images", str(folder), "--categories", "3", "--steps", "4", "--batch-size", "8",
                     "--steps-per-epoch", "2", "--out", str(out), "--quiet", "--exact")
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[0] == (f"Skipped 2 unreadable files of {folder}: listed in "
                                             f"{out / 'skipped.txt'}")
    skipped = (out / "skipped.txt").read_text().splitlines()
    assert len(skipped) == 2 and "broken.png" in skipped[0] and "empty.jpg" in skipped[1]
    config = json.loads((out / "config.json").read_text())
    assert config["dataset"] == "images" and config["images"] == str(folder) and config["categorical_dims"] == [3]
    # chosen from the data: the paper's 32 x 32 network (SVHN), in colour
    assert (config["image_size"], config["channels"], config["architecture"]) == (32, 3, "svhn")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["class_names"] == ["circle", "square", "triangle"] and metrics["steps"] == 4
    assert sum(map(sum, metrics["confusion_matrix"])) == 120  # every readable picture, measured once
    capsys.readouterr()
    assert cli.main(["evaluate", str(out)]) == 0  # in this process from here: no second TensorFlow import
    assert capsys.readouterr().out.startswith(f"On the folder {folder}, labelled by its subfolders: Hungarian accuracy")
    assert cli.main(["export", str(out), str(tmp_path / "shapes.npz")]) == 0
    model = load_pretrained(path=tmp_path / "shapes.npz")
    assert model.generate(None, [0, 2], np.zeros((2, 2), "float32")).shape == (2, 32, 32, 3)
    explorer = LatentExplorer(model)
    assert [label for label, _ in explorer.category.options] == ["circle", "square", "triangle"]
    with PIL.Image.open(io.BytesIO(explorer.image.value)) as picture:
        assert picture.mode == "RGB" and picture.size[0] == picture.size[1] > 32  # drawn in colour, enlarged


@pytest.mark.parametrize("make, message", [
    (lambda folder: folder.mkdir(), "holds no image files"),
    (lambda folder: (folder.mkdir(), (folder / "a.png").write_bytes(b"x")), "holds no readable image"),
    (lambda folder: None, "no such folder"),
    (lambda folder: write_shapes_folder(folder / "circles", per_class=50), "holds one class subfolder (circles)"),
    (lambda folder: (folder.mkdir(), [PIL.Image.new("L", (7, 7)).save(folder / f"{index}.png") for index in range(200)]),
     "are about 7x7 pixels, smaller than the smallest size the networks serve (28x28); pass image_size=28"),
])
def test_a_folder_that_cannot_be_trained_on_gets_one_line_and_nothing_is_written(tmp_path, make, message, capsys):
    folder, out = tmp_path / "pictures", tmp_path / "run"
    make(folder)
    assert_refused(capsys, ["train", "--images", str(folder), "--out", str(out)], message)
    assert not out.exists()
