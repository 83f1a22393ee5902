"""The spread over seeds of what the learning tests measure, and the thresholds it justifies.

Runs each check of ``tests/learning_checks.py`` for several seeds (one process per run, so that
every run starts from the same state) and writes the minimum, median and maximum of each quantity
to ``benchmarks/LEARNING_CHECKS.md``. The tests' thresholds sit below the smallest value seen
(above the largest, for the quantities that must stay small), with a margin.

The tests train in the mode ``build_model`` chooses for the machine (bfloat16 without XLA on a CPU with
bfloat16 instructions, float32 with XLA on another), so the thresholds must hold in both: on a machine
that chooses bfloat16 the script measures both modes, one table each.

Usage: ``python benchmarks/learning_checks.py [--seeds 0 1 2 3 4 5] [--write benchmarks/LEARNING_CHECKS.md]``
"""

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import run_child  # noqa: E402


def run_one(check, seed, exact=False):
    code = ("import json, sys; sys.path[:0] = [sys.argv[1], sys.argv[2]]; import learning_checks as c; "
            f"c.JIT_COMPILE = {True if exact else 'auto'!r}; "
            "from infogan_utils.data import load_mnist, data_dirs; "
            "path = next(f / 'mnist.npz' for f in data_dirs() if (f / 'mnist.npz').is_file()); "
            f"print(json.dumps(c.CHECKS[{check!r}](path, {seed})))")
    return run_child(code, ROOT / "tests", ROOT, what=f"{check} seed {seed}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    parser.add_argument("--write", help="also write the table to this Markdown file")
    arguments = parser.parse_args()
    sys.path[:0] = [str(ROOT / "tests"), str(ROOT)]
    import numpy as np

    from learning_checks import CHECKS, THRESHOLDS

    from infogan_utils.runs import resolve_compute

    bfloat16_here = resolve_compute() == (False, "bfloat16")
    modes = [False, True] if bfloat16_here else [False]  # as chosen here, and the exact mode other CPUs train in
    lines = []
    for exact in modes:
        chosen = "bfloat16 without XLA (as chosen on this CPU)" if bfloat16_here and not exact else \
            "float32 with XLA (the exact mode)"
        lines += [f"What the learning tests measure, over seeds {', '.join(map(str, arguments.seeds))} "
                  f"(one process per run, CPU; the training step in {chosen}).", "",
                  "| check | quantity | test threshold | min | median | max | per seed |",
                  "| --- | --- | --- | ---: | ---: | ---: | --- |"]
        for check in CHECKS:
            results = [run_one(check, seed, exact) for seed in arguments.seeds]
            for quantity in results[0]:
                values = [result[quantity] for result in results]
                direction, threshold = THRESHOLDS.get((check, quantity), ("", ""))
                lines.append(f"| {check} | {quantity} | {direction} {threshold} | {min(values):.3f} | "
                             f"{np.median(values):.3f} | {max(values):.3f} | {', '.join(f'{v:.3f}' for v in values)} |")
                print(lines[-1], flush=True)
        lines.append("")
    lines += [f"Command: `python benchmarks/learning_checks.py --seeds {' '.join(map(str, arguments.seeds))}`"]
    if arguments.write:
        pathlib.Path(arguments.write).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
