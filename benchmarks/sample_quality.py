"""Sample quality of the shipped MNIST model, judged by the project's own classifier (``infogan_utils/quality.py``).

The Fréchet distance between the classifier's features of 10,000 generated digits and of the validation slice
(the last 10,000 training digits, which the classifier never saw), beside the distance between two sets of real
digits (the first 10,000 training digits and the validation slice, stored with the classifier) as the reference;
and, per category, the share of 1,000 generated digits that the classifier reads as the digit the category was
matched to on the validation slice (``validation.json``'s map). No test label is read.

Usage: ``python benchmarks/sample_quality.py [--shipped mnist-seed0] [--write benchmarks/QUALITY.md]``
"""

import argparse
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from benchmarks.common import machine  # noqa: E402
from infogan_utils import quality, results  # noqa: E402
from infogan_utils.data import VALIDATION_SIZE, load_mnist, validation_split  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipped", default="mnist-seed0")
    parser.add_argument("--write", help="also write the report to this file")
    arguments = parser.parse_args()
    classifier = quality.load_classifier()
    meta = classifier[1]
    (x_train, y_train), _ = load_mnist()
    validation_images, _ = validation_split(x_train, y_train)
    run = results.trained_run(arguments.shipped)
    measured = quality.sample_quality(run.model(), validation_images, run.validation["cluster_to_label"],
                                      n=VALIDATION_SIZE, per_category=1000, classifier=classifier)
    distance, reference, shares = (measured[key] for key in ("frechet_distance", "reference_frechet_distance",
                                                             "category_shares"))
    worst = measured["worst_category"]
    lines = [
        "# Sample quality, judged by the project's own classifier", "",
        "Command: `python benchmarks/sample_quality.py"
        + ("" if arguments.shipped == "mnist-seed0" else f" --shipped {arguments.shipped}") + "`",
        "", f"Machine: {machine()}.", "", __doc__.split("\n\n")[1].replace("\n", " "), "",
        f"The classifier (`python benchmarks/train_classifier.py`): trained on {meta['trained_on']}, "
        f"{meta['epochs']} epochs; validation accuracy {meta['validation_accuracy']:.4f}.", "",
        "| measure | value |", "| --- | --- |",
        f"| Fréchet distance, {arguments.shipped}'s 10,000 samples vs the validation slice | {distance:.2f} |",
        f"| Fréchet distance, real vs real (first 10,000 training digits vs the validation slice) | {reference:.2f} |",
        f"| share of each category's samples read as its matched digit | "
        + ", ".join(f"{share:.3f}" for share in shares) + " |",
        f"| worst category | {worst} (digit {run.validation['cluster_to_label'][worst]}): {shares[worst]:.3f} |", ""]
    text = "\n".join(lines)
    if arguments.write:
        pathlib.Path(arguments.write).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
