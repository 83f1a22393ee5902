"""The speed benchmarks' own logic, without timing anything: variant names, the report and its ratio, the
skipped PyTorch reference, and the reference's networks against the package's."""

import argparse
import importlib.util
import pathlib

import numpy as np
import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def load_benchmark(name):
    """A benchmark script as a module, imported by path: benchmarks/ on sys.path would shadow tests' modules."""
    spec = importlib.util.spec_from_file_location(f"benchmark_{name}", ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


train_speed = load_benchmark("train_speed")


def test_variant_names_are_checked():
    assert train_speed.parse_variants("default, torch,spe16,bf16-no-xla") == \
        ["default", "torch", "spe16", "bf16-no-xla"]
    assert train_speed.describe("spe8") == "infogan_utils InfoGAN.fit, steps_per_execution=8, XLA"
    for text, message in (("default,fast", "unknown variant 'fast'"), ("spe0", "unknown variant 'spe0'"),
                          ("spe", "unknown variant 'spe'"), ("torch,torch", "twice"), (" , ", "no variant")):
        with pytest.raises(ValueError, match=message):
            train_speed.parse_variants(text)


def test_without_torch_the_reference_is_skipped_and_says_how_to_install_it(monkeypatch, capsys):
    monkeypatch.setattr(train_speed, "load_torch", lambda: (None, None))
    assert train_speed.main(["--variants", "torch", "--steps", "1", "--repeats", "1"]) == 0
    assert "PyTorch reference skipped: torch is not installed (pip install -e .[bench] installs it)" in \
        capsys.readouterr().out
    arguments = argparse.Namespace(steps=5, repeats=1, variants="default,no-xla,plain,torch")
    text = train_speed.report({"default": [{"whole": 290.0, "step": 300.0, "tail": 0.0}]}, arguments, "a machine",
                              [], skipped_torch=True)
    assert "The PyTorch reference was skipped" in text and "`pip install -e .[bench]`" in text
    assert "Package default / PyTorch reference" not in text


def test_the_report_gives_the_median_of_the_rounds_ratios(monkeypatch):
    from infogan_utils import training

    monkeypatch.setattr(training, "gpu_available", lambda: False)
    monkeypatch.setattr(training, "cpu_has_bfloat16", lambda: True)
    monkeypatch.delenv("INFOGAN_COMPUTE", raising=False)  # the suite's float32 for short runs (conftest)
    arguments = argparse.Namespace(steps=100, repeats=3, variants="default,torch,spe4,exact")
    def rounds(whole, step=(100.0, 100.0, 100.0), tail=(0.0, 0.0, 0.0)):
        return [{"whole": w, "step": s, "tail": t} for w, s, t in zip(whole, step, tail)]

    speeds = {"default": rounds([300.0, 400.0, 330.0], [330.0, 420.0, 340.0], [0.0, 19.04, 0.01]),
              "torch": rounds([200.0, 200.0, 300.0]), "spe4": rounds([310.0, 320.0, 330.0]),
              "exact": rounds([250.0, 300.0, 300.0])}
    text = train_speed.report(speeds, arguments, "2 usable cores of a test CPU", ["Trainable parameters: ..."], False)
    assert ("**Package default / PyTorch reference, whole calls: 1.50x** (median of the rounds' ratios 1.50, 2.00, "
            "1.10; goal: at least 1.5x). By median steps: 3.40x.") in text
    assert ("Exact mode / PyTorch reference, whole calls: 1.25x (rounds 1.25, 1.50, 1.00); by median steps: "
            "1.00x.") in text
    assert ("| infogan_utils InfoGAN.fit, as shipped (chosen for this machine: bfloat16, no XLA) | 330 | 300 | 400 "
            "| 340 | 19.04 |") in text
    assert "on 2 usable cores of a test CPU." in text
    assert "Command: `python benchmarks/train_speed.py --steps 100 --repeats 3 --variants default,torch,spe4,exact`" in text


def test_the_bench_extra_pins_the_cpu_torch_and_make_benchmark_writes_both_reports():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["optional-dependencies"]["bench"] == ["torch==2.13.0"]
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nbenchmark:", 1)[1].split("\n\n", 1)[0]
    assert '-m pip install -e ".[bench]"' in recipe
    assert "benchmarks/train_speed.py --write benchmarks/SPEED.md" in recipe
    assert "benchmarks/redraw_speed.py" in recipe


def test_the_profile_counts_multiply_adds_layer_by_layer():
    import keras

    profile_step = load_benchmark("profile_step")
    network = keras.Sequential([
        keras.Input((8, 8, 2)),
        keras.layers.Conv2D(3, 4, strides=2, padding="same"),  # 4x4 outputs x 16 x 2 channels x 3 filters = 1,536
        keras.layers.Conv2DTranspose(5, 3, strides=2, padding="same"),  # 4x4 inputs x 9 x 3 x 5 = 2,160
        keras.layers.BatchNormalization(),  # elementwise: not counted
        keras.layers.Flatten(),
        keras.layers.Dense(7),  # 8x8x5 = 320 inputs x 7 = 2,240
    ])
    assert profile_step.multiply_adds(network) == 1536 + 2160 + 2240

    generator = keras.Sequential([keras.Input((4,)), keras.layers.Dense(10)])
    discriminator = keras.Sequential([keras.Input((10,)), keras.layers.Dense(1)])
    # one step: batch 128 x 2 flops x 3 (forward and backward) x (G once + D three times)
    assert profile_step.step_arithmetic(generator, discriminator) == (40, 10, 128 * 2 * 3 * (40 + 3 * 10))


def test_a_rounds_speed_is_the_median_step_so_a_stall_does_not_decide_it():
    # ten steps of 0.1 s and one stall of 8 s: the total would say 128 * 11 / 9 = 156 images/s
    stamps = np.cumsum([0.0] + [0.1] * 10 + [8.0])
    assert train_speed.images_per_second(stamps, 128) == pytest.approx(1280.0)
    # a call that waited 5 s after its last step: the whole-call figure sees the wait, the median step does not
    figures = train_speed.call_speeds([0.1, 0.2, 0.3], 0.0, 5.3, 128, 3 * 128)
    assert figures["step"] == pytest.approx(1280.0) and figures["whole"] == pytest.approx(384 / 5.3)
    assert figures["tail"] == pytest.approx(5.0)
    assert train_speed.images_per_second([0.0, 0.5, 1.0], 4 * 128) == pytest.approx(1024.0)  # steps_per_execution=4
    with pytest.raises(ValueError, match="two increasing"):
        train_speed.images_per_second([1.0], 128)


def write_validation(folder, accuracy, slant, thickness, cross=0.1):
    """A run folder whose validation.json says: accuracy, c3 with slant, c2 with thickness, ``cross`` elsewhere."""
    import json

    folder.mkdir(parents=True)
    codes = {"c2": {"slant": cross, "width": 0.0, "thickness": thickness},
             "c3": {"slant": slant, "width": 0.0, "thickness": cross}}
    (folder / "validation.json").write_text(json.dumps({"hungarian_accuracy": accuracy, "continuous_codes": codes}))
    return folder


def test_the_adoption_rule_reads_validation_only_and_decides_as_written(tmp_path, capsys):
    rule = load_benchmark("adoption_rule")
    defaults = [str(write_validation(tmp_path / "defaults" / f"seed{n}", 0.97, 0.5, 0.4)) for n in range(3)]
    for n, accuracy in enumerate((0.975, 0.98, 0.965)):
        write_validation(tmp_path / "good" / f"seed{n}", accuracy, 0.8, 0.6)
    assert rule.main([str(tmp_path / "good"), "--defaults", *defaults]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "adopt"
    good_runs = [str(tmp_path / "good" / f"seed{n}") for n in range(3)]  # the run folders named one by one
    assert rule.main([*good_runs, "--defaults", str(tmp_path / "defaults")]) == 0
    assert capsys.readouterr().out.splitlines()[-2].startswith("variant: 3 seeds, validation accuracy median 0.9750")

    for n, accuracy in enumerate((0.975, 0.98, 0.955)):  # better codes, but one seed below 0.96
        write_validation(tmp_path / "one-bad-seed" / f"seed{n}", accuracy, 0.8, 0.6)
    assert rule.main([str(tmp_path / "one-bad-seed"), "--defaults", *defaults]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "keep defaults"

    # the speed-lever rule: a small loss is allowed, a larger one is not, and better codes are not required
    for n, accuracy in enumerate((0.966, 0.967, 0.968)):  # median 0.003 below the defaults', codes 0.04 weaker
        write_validation(tmp_path / "cheaper" / f"seed{n}", accuracy, 0.46, 0.36)
    assert rule.main([str(tmp_path / "cheaper"), "--defaults", *defaults]) == 1  # the first rule wants better codes
    assert rule.main([str(tmp_path / "cheaper"), "--defaults", *defaults, "--speed-lever"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "adopt"
    for n, accuracy in enumerate((0.96, 0.964, 0.968)):  # median 0.006 below the defaults'
        write_validation(tmp_path / "less-accurate" / f"seed{n}", accuracy, 0.5, 0.4)
    assert rule.main([str(tmp_path / "less-accurate"), "--defaults", *defaults, "--speed-lever"]) == 1
    for n in range(3):  # the slant code 0.06 weaker
        write_validation(tmp_path / "weaker-slant" / f"seed{n}", 0.97, 0.44, 0.4)
    assert rule.main([str(tmp_path / "weaker-slant"), "--defaults", *defaults, "--speed-lever"]) == 1
    assert capsys.readouterr().out.splitlines()[-1] == "keep defaults"

    (tmp_path / "unevaluated" / "seed0").mkdir(parents=True)
    with pytest.raises(SystemExit) as stop:
        rule.main([str(tmp_path / "unevaluated"), "--defaults", *defaults])
    assert stop.value.code == 2 and "infogan evaluate --validation" in capsys.readouterr().err


def test_the_codes_table_groups_the_runs_and_marks_a_longer_run(tmp_path):
    """RESULTS.md's continuous-codes table: one row per run with a validation.json, named by its group; a run
    trained for more steps than the report's says so, since its settings are otherwise the defaults."""
    import json

    from infogan_utils.runs import TrainConfig

    report = load_benchmark("unsupervised_accuracy")

    def run(folder, seed, steps, slant):
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps(TrainConfig(seed=seed).to_dict()))
        codes = {"c2": {"slant": 0.1, "width": 0.0, "thickness": 0.5},
                 "c3": {"slant": slant, "width": 0.2, "thickness": 0.0}}
        (folder / "validation.json").write_text(json.dumps({"hungarian_accuracy": 0.97, "steps": steps,
                                                            "continuous_codes": codes}))

    run(tmp_path / "mnist-seed10", 10, 5000, 0.9)
    run(tmp_path / "ablation" / "longer-training" / "seed0", 0, 10000, 0.7)
    run(tmp_path / "ablation" / "bfloat16" / "seed1", 1, 5000, 0.8)
    (tmp_path / "ablation" / "bfloat16" / "seed1" / "timing.json").write_text(
        json.dumps({"steps": 5000, "compute": "mixed_bfloat16, no XLA"}))
    lines = report.codes_section(tmp_path, [], [(10, {})], 5000)
    assert [line for line in lines if line.startswith(("| defaults", "| longer", "| bfloat16"))] == [
        "| defaults (fresh seeds) | (defaults) | 10 | 0.9700 | c3 0.90 | c2 thickness 0.50 | 0.10 |",
        "| longer-training | (defaults), 10,000 steps | 0 | 0.9700 | c3 0.70 | c2 thickness 0.50 | 0.10 |",
        "| bfloat16 | (defaults), trained in mixed_bfloat16, no XLA | 1 | 0.9700 | c3 0.80 | c2 thickness 0.50 | 0.10 |"]
    assert lines[-2].startswith("Medians over the 1 fresh seeds of the defaults: slant code 0.90")
    # Without fresh seeds of their own, today's defaults are confirmed by the decision variant's fresh seeds.
    run(tmp_path / "ablation" / report.DECISION_VARIANT / "seed15", 15, 5000, 0.6)
    lines = report.codes_section(tmp_path, [], [], 5000)
    assert lines[-2].startswith(f"Medians over the 1 fresh seeds of the defaults (`{report.DECISION_VARIANT}`): "
                                "slant code 0.60")


def test_the_code_effects_table_gives_the_within_traversal_rho_and_the_share():
    code_effects = load_benchmark("code_effects")
    effect = {"slant": {"within_rho": -1.0, "share": 0.72}, "width": {"within_rho": 0.41, "share": 0.031},
              "thickness": {"within_rho": 0.0, "share": 0.0}}
    lines = code_effects.table([("runs/x", {"c3": effect})])
    assert lines[0] == "| run | code | slant | width | thickness |"
    assert lines[2] == "| runs/x | c3 | -1.00 (0.72) | +0.41 (0.03) | +0.00 (0.00) |"


def test_the_mig_table_gives_each_attributes_gap_beside_its_spearman_rho():
    code_mig = load_benchmark("code_mig")
    information = {"c1": 0.1, "c2": 0.05, "c3": 0.4}
    report = {"mig": 0.25, "factors": {name: {"gap": 0.25, "code": "c3", "entropy": 1.2, "information": information}
                                       for name in ("slant", "width", "thickness")}}
    correlations = {"c2": {"slant": -0.3, "width": 0.1, "thickness": 0.5}, "c3": {"slant": 0.7, "width": 0.0,
                                                                                "thickness": -0.1}}
    rows = code_mig.rows_of("run", report, correlations)
    assert rows[0] == "| run | slant | 0.250 | c3 | c1 0.100, c2 0.050, c3 0.400 | 1.200 | c2 -0.30, c3 +0.70 |"
    assert rows[-1] == "| run | **MIG** | **0.250** | | | | |" and len(rows) == 4


def test_the_decision_table_reads_the_candidates_test_figures_against_the_gates(tmp_path):
    """RESULTS.md's decision section: each fresh seed's validation and test figures, and the gates applied to the
    test median and minimum; nothing until a run has its test figures."""
    import json

    from infogan_utils.runs import TrainConfig

    report = load_benchmark("unsupervised_accuracy")
    folder = tmp_path / "ablation" / report.DECISION_VARIANT
    assert report.decision_section(tmp_path, 5000) == []
    for seed, test in ((15, 0.9750), (16, 0.9590), (17, 0.9800)):
        run = folder / f"seed{seed}"
        run.mkdir(parents=True)
        config = TrainConfig(seed=seed, invariant_codes=1).to_dict()
        (run / "validation.json").write_text(json.dumps({"hungarian_accuracy": 0.97, "steps": 5000,
                                                         "sample_quality": {"frechet_distance": 3.0}}))
        (run / "metrics.json").write_text(json.dumps({"hungarian_accuracy": test, "nmi": 0.9, "steps": 5000,
                                                      "config": config, "wall_time_seconds": 1200}))
    lines = report.decision_section(tmp_path, 5000)
    assert "| 16 | 0.9700 | 0.9590 | 0.9000 | 3.00 | 20.0 min |" in lines
    assert lines[2].startswith(f"`{report.DECISION_VARIANT}` ((defaults)")  # its settings are today's defaults
    # median 0.9750 passes its gate, the minimum 0.9590 misses 0.96: not met
    assert lines[-2] == ("3 of 5 seeds; test median **0.9750**, minimum **0.9590**. Gates (median ≥ 0.97, every "
                         "seed ≥ 0.96): **not met** so far.")
    # The next candidate's section, after the first, with its codes' medians against the targets.
    candidate, heading, _ = report.DECISIONS[1]
    codes = {"c2": {"slant": 0.1, "width": 0.2, "thickness": 0.85}, "c3": {"slant": -0.9, "width": 0.1,
                                                                            "thickness": 0.05}}
    run = tmp_path / "ablation" / candidate / "seed20"
    run.mkdir(parents=True)
    (run / "validation.json").write_text(json.dumps({"hungarian_accuracy": 0.975, "steps": 5000,
                                                     "continuous_codes": codes,
                                                     "sample_quality": {"frechet_distance": 2.5}}))
    (run / "metrics.json").write_text(json.dumps({"hungarian_accuracy": 0.9800, "nmi": 0.95, "steps": 5000,
                                                  "config": TrainConfig(seed=20, real_consistency=0.1).to_dict()}))
    both = report.decision_sections(tmp_path, 5000)
    assert both[:len(lines)] == lines and both[len(lines)] == f"## {heading}"
    assert both[-3].startswith("1 of 5 seeds; test median **0.9800**, minimum **0.9800**.")
    assert both[-3].endswith("**met** so far.")
    assert both[-2] == ("Codes (medians over 1 seeds, from `validation.json`): slant code 0.90, other code 0.85, "
                        "largest cross-correlation 0.10; targets ≥ 0.8, ≥ 0.8, ≤ 0.2: **met**. Fréchet distance "
                        "median 2.50.")
