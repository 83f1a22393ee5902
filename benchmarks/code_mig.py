"""The mutual information gap (MIG) of a model's codes against the morphometrics of its generated digits.

As Morpho-MNIST scores its own InfoGAN on samples (``experiments/disentanglement/compute_mig.py`` in
github.com/dccastro/Morpho-MNIST): 10,000 generated digits; the codes are what Q reads from them (its category,
and the means of its continuous codes), binned with ``np.histogram_bin_edges(..., "auto")`` like the attributes;
for each attribute, the gap between the two codes that tell most about it, over its entropy; MIG is the mean gap.
Morpho-MNIST measures five attributes; this package measures three (slant, width, thickness), so the figures
compare between this project's models, and only roughly with Morpho-MNIST's. The plug-in estimate of each mutual
information is biased upwards by about (bins of the code - 1)(bins of the attribute - 1) / (2 x 10,000) nats, alike
for every code, so the gaps carry less of it than the informations. Beside each gap: the Spearman correlations of
the sampled codes with the attribute (``metrics.continuous_code_correlations``, 2,000 digits; the measure of
``validation.json`` and the chapters). No label is read.

Usage: ``python benchmarks/code_mig.py [--shipped mnist-seed0] [RUN_DIR ...] [--write benchmarks/MIG.md]``
"""

import argparse
import os
import pathlib
import statistics
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from benchmarks.common import machine  # noqa: E402
from infogan_utils import results  # noqa: E402
from infogan_utils.metrics import code_mutual_information_gap, continuous_code_correlations  # noqa: E402
from infogan_utils.runs import load_run_model  # noqa: E402

ATTRIBUTES = ("slant", "width", "thickness")


def rows_of(name, report, correlations):
    """Markdown rows: one per attribute, with its gap, the code that tells most, the information of each code."""
    rows = []
    for attribute in ATTRIBUTES:
        row = report["factors"][attribute]
        information = ", ".join(f"{code} {nats:.3f}" for code, nats in row["information"].items())
        rho = ", ".join(f"{code} {values[attribute]:+.2f}" for code, values in correlations.items())
        rows.append(f"| {name} | {attribute} | {row['gap']:.3f} | {row['code']} | {information} "
                    f"| {row['entropy']:.3f} | {rho} |")
    rows.append(f"| {name} | **MIG** | **{report['mig']:.3f}** | | | | |")
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="*", help="run folders with a checkpoint")
    parser.add_argument("--shipped", nargs="*", default=["mnist-seed0"], help="shipped runs whose weights ship")
    parser.add_argument("--samples", type=int, default=10000)
    parser.add_argument("--write", help="also write the table to this file")
    arguments = parser.parse_args()
    models = [(name, results.trained_run(name).model()) for name in arguments.shipped]
    models += [(run_dir, load_run_model(run_dir)) for run_dir in arguments.runs]
    lines, by_group = [], {}
    for name, model in models:
        report = code_mutual_information_gap(model, n=arguments.samples, seed=0)
        lines += rows_of(name, report, continuous_code_correlations(model))
        print("\n".join(lines[-4:]), flush=True)
        # runs/ablation/VARIANT/seedN is a seed of VARIANT; a shipped run or a lone folder is a group of its own
        group = pathlib.Path(name).parent.name if pathlib.Path(name).name.startswith("seed") else name
        by_group.setdefault(group, []).append(report["mig"])
    summary = [f"| {group} | {len(migs)} | {statistics.median(migs):.3f} | {min(migs):.3f} to {max(migs):.3f} |"
               for group, migs in by_group.items()]
    command = "python benchmarks/code_mig.py " + " ".join(
        (["--shipped", *arguments.shipped] if arguments.shipped != ["mnist-seed0"] else []) + arguments.runs)
    text = "\n".join([
        "# The mutual information gap of the codes", "", f"Command: `{command.strip()}`", "",
        f"Machine: {machine()}.", "",
        __doc__.split("\n\n")[1].replace("\n", " "), "",
        "| runs | models | median MIG | range |", "| --- | ---: | ---: | --- |", *summary, "",
        "| model | attribute | gap | code telling most | I(code; attribute), nats | H(attribute), nats "
        "| Spearman rho of the sampled codes |",
        "| --- | --- | --- | --- | --- | --- | --- |", *lines, ""])
    if arguments.write:
        pathlib.Path(arguments.write).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
