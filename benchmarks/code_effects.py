"""What each continuous code controls along traversals, for finished runs (no label is read).

For 200 generated digits, each code is moved from -1 to 1 in 9 steps with the noise and the other codes
fixed (``metrics.code_effects``). Each cell gives the median Spearman correlation along a traversal and,
in brackets, the share of the attribute's variance over all those digits that the code explains.
The pooled correlation of ``validation.json`` is roughly the square root of that share: a code can move
an attribute along every traversal (within-traversal rho near 1) and still explain only part of it.

Usage: ``python benchmarks/code_effects.py RUN_DIR [RUN_DIR ...] [--write FILE]``
"""

import argparse
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from infogan_utils.metrics import code_effects  # noqa: E402
from infogan_utils.runs import load_run_model  # noqa: E402

ATTRIBUTES = ("slant", "width", "thickness")


def table(rows):
    """Markdown lines for ``[(run name, effects), ...]``."""
    lines = ["| run | code | " + " | ".join(ATTRIBUTES) + " |", "| --- | --- |" + " --- |" * len(ATTRIBUTES)]
    for name, effects in rows:
        for code, attributes in effects.items():
            cells = [f"{attributes[a]['within_rho']:+.2f} ({attributes[a]['share']:.2f})" for a in ATTRIBUTES]
            lines.append(f"| {name} | {code} | " + " | ".join(cells) + " |")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--write", help="also write the table to this file")
    arguments = parser.parse_args()
    rows = []
    for run_dir in map(pathlib.Path, arguments.runs):
        model = load_run_model(run_dir)
        rows.append((str(run_dir), code_effects(model)))
        print("\n".join(table(rows[-1:])[2:]), flush=True)
    lines = ["# What the continuous codes control along traversals", "",
             "Command: `python benchmarks/code_effects.py " + " ".join(arguments.runs) + "`", "",
             "Each cell: median Spearman correlation along 200 traversals of the code from -1 to 1 (9 steps, "
             "everything else fixed), and in brackets the share of the attribute's variance that the code explains.",
             "", *table(rows)]
    if arguments.write:
        pathlib.Path(arguments.write).write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
