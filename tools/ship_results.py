"""Copy what the chapters show of the project's runs into the package (``infogan_utils/results``).

Run it after a run in ``runs/`` changes; ``tests/test_results.py`` fails while the shipped copy
and ``runs/`` disagree. Only small files are copied (the weights ship once, as
``infogan_utils/pretrained/mnist.npz``).

Usage: ``python tools/ship_results.py``
"""

import json
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infogan_utils.plotting import read_history  # noqa: E402
from infogan_utils.results import RESULTS_DIR, RUN_SOURCES, SUMMARY_PATTERNS  # noqa: E402
from infogan_utils.storage import write_json  # noqa: E402

RUN_FILES = ["config.json", "metrics.json", "timing.json", "steps.csv", "history.csv"]
SHIPPED = {
    "mnist-seed0": RUN_FILES + ["validation.json", "grids/epoch_001.png", "grids/epoch_020.png"],
    "fashion-mnist-seed0": RUN_FILES + ["traversals_labelled.png"],
    "shapes-seed0": RUN_FILES + ["traversals_labelled.png", "grids/epoch_030.png"],  # chapter 7's longer shapes run
    "paper-seed2": RUN_FILES + ["grids/epoch_001.png", "grids/epoch_020.png"],  # chapter 4's failed run
}
SUMMARY_METRICS = ["hungarian_accuracy", "majority_accuracy", "nmi", "categorical_mi", "steps", "confusion_matrix",
                   "cluster_to_label"]


def summary_rows(runs):
    rows = []
    for variant, pattern in SUMMARY_PATTERNS.items():
        for folder in sorted(runs.glob(pattern)):
            metrics_path, validation_path = folder / "metrics.json", folder / "validation.json"
            if not metrics_path.is_file() and not validation_path.is_file():  # a run still training
                continue
            # A run measured on the validation slice only (its test figures not read yet) has metrics None.
            metrics = json.loads(metrics_path.read_text()) if metrics_path.is_file() else None
            config = metrics["config"] if metrics else json.loads((folder / "config.json").read_text())
            row = {"variant": variant, "seed": config["seed"], "config": config,
                   "metrics": {key: metrics[key] for key in SUMMARY_METRICS} if metrics else None,
                   "continuous_loss": read_history(folder / "steps.csv")["continuous_loss"][-1]}
            if validation_path.is_file():
                validation = json.loads(validation_path.read_text())
                row["validation"] = {key: validation[key] for key in ("hungarian_accuracy", "nmi", "cluster_to_label")}
                quality = validation.get("sample_quality")  # measured since 2026-12-04
                row["validation"]["frechet_distance"] = quality["frechet_distance"] if quality else None
                row["continuous_codes"] = validation.get("continuous_codes")
            rows.append(row)
    return rows


def main():
    runs = ROOT / "runs"
    for name, files in SHIPPED.items():
        target = RESULTS_DIR / name
        if target.exists():
            shutil.rmtree(target)
        for file in files:
            (target / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(runs / RUN_SOURCES.get(name, name) / file, target / file)
    write_json(RESULTS_DIR / "summary.json", summary_rows(runs))
    size = sum(path.stat().st_size for path in RESULTS_DIR.rglob("*") if path.is_file())
    print(f"wrote {RESULTS_DIR} ({size / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
