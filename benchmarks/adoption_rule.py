"""The rule, fixed before its runs finished, that decides whether a variant replaces the defaults.

Reads only ``validation.json`` files (validation slice of the training set, generated digits for the
codes); no test label is read. Prints the figures and ``adopt`` or ``keep defaults``; exits 0 to adopt.

    python benchmarks/adoption_rule.py runs/ablation/continuous-weight-1 --defaults runs/mnist-seed{5..9}

That was the command of its one decision (``benchmarks/README.md``). The variant won, became the default,
and its runs moved, so today the same comparison reads

    python benchmarks/adoption_rule.py runs/mnist-seed{0..4} --defaults runs/ablation/continuous-weight-0.1/seed{5..9}

The variant is adopted when, over its seeds, its median validation accuracy is at least the defaults'
median, no seed is below 0.96, its median slant-code and other-code correlations are both higher than
the defaults', and its median largest cross-correlation is at most 0.3.

``--speed-lever`` applies the second rule, fixed before the runs of the first speed lever judged by it
(training in bfloat16 without XLA) finished: a change that only makes training cheaper is
adopted when it loses nothing that matters, over the same seeds as the defaults: its median validation accuracy is
at most 0.005 below the defaults', no seed is below 0.96, its median slant-code and other-code
correlations are each at most 0.05 below the defaults', and its median largest cross-correlation is
at most 0.3.

    python benchmarks/adoption_rule.py --speed-lever runs/ablation/bfloat16 --defaults runs/mnist-seed{0..4}
"""
import argparse
import json
import pathlib
import statistics
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
from infogan_utils.metrics import code_roles  # noqa: E402

MINIMUM_ACCURACY = 0.96
MAXIMUM_CROSS = 0.3
SPEED_LEVER_ACCURACY_LOSS = 0.005
SPEED_LEVER_CODE_LOSS = 0.05


def medians(run_dirs):
    """Median validation accuracy, minimum accuracy and median code roles over ``run_dirs``."""
    reports = []
    for run_dir in run_dirs:
        path = pathlib.Path(run_dir) / "validation.json"
        if not path.exists():
            raise ValueError(f"{path} is missing: run `infogan evaluate --validation {run_dir}` first")
        reports.append(json.loads(path.read_text()))
    roles = [code_roles(report["continuous_codes"]) for report in reports]
    accuracies = [report["hungarian_accuracy"] for report in reports]
    return {"seeds": len(reports), "accuracies": accuracies,
            "median_accuracy": statistics.median(accuracies), "minimum_accuracy": min(accuracies),
            **{key: statistics.median(role[key] for role in roles) for key in ("slant_rho", "other_rho", "cross_rho")}}


def improves(variant, defaults):
    """The rule for a change of the objective: at least as accurate, and both codes stronger."""
    return (variant["median_accuracy"] >= defaults["median_accuracy"]
            and variant["minimum_accuracy"] >= MINIMUM_ACCURACY
            and variant["slant_rho"] > defaults["slant_rho"] and variant["other_rho"] > defaults["other_rho"]
            and variant["cross_rho"] <= MAXIMUM_CROSS)


def speed_lever_holds(variant, defaults):
    """The rule for a change that only saves time: nothing that matters gets measurably worse."""
    return (variant["median_accuracy"] >= defaults["median_accuracy"] - SPEED_LEVER_ACCURACY_LOSS
            and variant["minimum_accuracy"] >= MINIMUM_ACCURACY
            and variant["slant_rho"] >= defaults["slant_rho"] - SPEED_LEVER_CODE_LOSS
            and variant["other_rho"] >= defaults["other_rho"] - SPEED_LEVER_CODE_LOSS
            and variant["cross_rho"] <= MAXIMUM_CROSS)


def run_folders(paths):
    """Each path as a run folder, or, for a folder that holds ``seed*`` run folders, those."""
    folders = []
    for path in map(pathlib.Path, paths):
        folders += sorted(path.glob("seed*")) or [path]
    return folders


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variant", nargs="+", help="the variant's run folders, or a folder holding them as seed*")
    parser.add_argument("--defaults", nargs="+", required=True, help="run folders of the defaults")
    parser.add_argument("--speed-lever", action="store_true",
                        help="the rule for a change that only makes training cheaper: lose nothing that matters")
    arguments = parser.parse_args(argv)
    try:
        variant = medians(run_folders(arguments.variant))
        defaults = medians(run_folders(arguments.defaults))
    except ValueError as error:
        parser.exit(2, f"error: {error}\n")
    for name, figures in (("defaults", defaults), ("variant", variant)):
        print(f"{name}: {figures['seeds']} seeds, validation accuracy median {figures['median_accuracy']:.4f} "
              f"min {figures['minimum_accuracy']:.4f}; slant code {figures['slant_rho']:.2f}, "
              f"other code {figures['other_rho']:.2f}, largest cross {figures['cross_rho']:.2f}")
    adopt = (speed_lever_holds if arguments.speed_lever else improves)(variant, defaults)
    print("adopt" if adopt else "keep defaults")
    return 0 if adopt else 1


if __name__ == "__main__":
    sys.exit(main())
