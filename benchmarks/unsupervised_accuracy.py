"""Unsupervised test accuracy of the categorical code over several seeds, written to RESULTS.md.

Trains (or resumes) one run per seed with the package's defaults into ``runs/mnist-seed{N}``, then
writes a table with a row per seed (Hungarian and majority accuracy, NMI, final categorical L_I,
wall time, images/s), the median and the minimum, and the Spearman correlations of the shipped
model's continuous codes with slant and width. Every figure comes from the run folders; nothing
is typed by hand. No labels are used in training; runs are never selected by test accuracy.

Usage: ``python benchmarks/unsupervised_accuracy.py --seeds 0 1 2 3 4 --steps 5000``
"""

import argparse
import json
import os
import pathlib
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infogan_utils.runs import RUN_FILES, TrainConfig, train_run  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--steps", type=int, default=5000)
    parser.add_argument("--runs", default=str(ROOT / "runs"), help="folder for the run folders")
    parser.add_argument("--results", default=str(ROOT / "benchmarks" / "RESULTS.md"))
    parser.add_argument("--no-train", action="store_true", help="only collect finished runs")
    parser.add_argument("--note", default="", help="a remark printed under the table (e.g. how busy the machine was)")
    arguments = parser.parse_args()
    if arguments.steps <= 0:
        parser.error("--steps must be positive")

    rows = []
    for seed in arguments.seeds:
        run_dir = pathlib.Path(arguments.runs) / f"mnist-seed{seed}"
        if not arguments.no_train:
            train_run(run_dir, TrainConfig(steps=arguments.steps, seed=seed), verbose=2)
        metrics_path = run_dir / RUN_FILES["metrics"]
        if not metrics_path.exists():
            print(f"seed {seed}: no metrics.json in {run_dir}, left out")
            continue
        metrics = json.loads(metrics_path.read_text())
        if metrics["steps"] != arguments.steps:
            print(f"seed {seed}: {run_dir} has {metrics['steps']} steps, not {arguments.steps}; left out")
            continue
        rows.append((seed, metrics))
        print(f"seed {seed}: Hungarian {metrics['hungarian_accuracy']:.4f}")
    if not rows:
        parser.exit(1, "no finished runs to report\n")
    write_results(arguments, rows)


def continuous_section():
    from infogan_utils import load_pretrained
    from infogan_utils.metrics import continuous_code_correlations
    from infogan_utils.pretrained import available_pretrained

    if "mnist" not in available_pretrained():
        return []
    correlations = continuous_code_correlations(load_pretrained("mnist"), n=5000, seed=0)
    lines = ["## Continuous codes of the shipped model", "",
             "Spearman correlation between each continuous code and the generated digit's slant (from "
             "second image moments, `metrics.slant`) and width (spread of ink across the principal axis, "
             "`metrics.stroke_width`), over 5,000 samples with random category and noise.", "",
             "| code | slant | width |", "| --- | ---: | ---: |"]
    lines += [f"| {code} | {values['slant']:+.3f} | {values['width']:+.3f} |" for code, values in correlations.items()]
    return lines + [""]


def write_results(arguments, rows):
    hungarian = [m["hungarian_accuracy"] for _, m in rows]
    lines = [
        "# Unsupervised MNIST accuracy of the categorical code", "",
        f"Produced by `python benchmarks/unsupervised_accuracy.py --seeds {' '.join(str(s) for s, _ in rows)} "
        f"--steps {arguments.steps}` from the run folders' `metrics.json`; machine: {rows[0][1].get('machine')}.",
        "The categorical code's argmax on the 10,000 real test images is matched to the labels after training "
        "(labels are never used in training or to pick a run). The paper reports 5% error (95% accuracy).", "",
        "| seed | Hungarian acc. | majority acc. | NMI | categorical L_I (max 2.303) | wall time | images/s |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for seed, m in rows:
        wall = m.get("wall_time_seconds")
        lines.append(f"| {seed} | {m['hungarian_accuracy']:.4f} | {m['majority_accuracy']:.4f} | {m['nmi']:.4f} | "
                     f"{m['categorical_mi']:.3f} | {wall / 60:.1f} min | {m.get('images_per_second') or 0:.0f} |"
                     if wall else f"| {seed} | {m['hungarian_accuracy']:.4f} | {m['majority_accuracy']:.4f} | "
                     f"{m['nmi']:.4f} | {m['categorical_mi']:.3f} | - | - |")
    lines += ["", f"Median Hungarian accuracy: **{statistics.median(hungarian):.4f}**; "
              f"minimum: **{min(hungarian):.4f}** ({len(rows)} seed{'s' if len(rows) > 1 else ''}).", ""]
    if arguments.note:
        lines += [f"Note: {arguments.note}", ""]
    lines += continuous_section()
    pathlib.Path(arguments.results).write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
