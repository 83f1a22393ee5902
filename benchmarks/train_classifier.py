"""Train the project's own MNIST classifier (``infogan_utils/quality.py``) and write it into the package.

It learns from the first 50,000 training digits only; its accuracy is read on the validation slice (the last
10,000), which it has not seen, and never on the test set. The measures of sample quality use its features.

Usage: ``python benchmarks/train_classifier.py [--epochs 3] [--out infogan_utils/classifier/mnist.npz]``
"""

import argparse
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from infogan_utils import quality  # noqa: E402
from infogan_utils.data import VALIDATION_SIZE, load_mnist, validation_split  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=str(quality.CLASSIFIER_PATH))
    arguments = parser.parse_args()
    (x_train, y_train), _ = load_mnist()
    model = quality.train_classifier(x_train[:-VALIDATION_SIZE], y_train[:-VALIDATION_SIZE], arguments.epochs,
                                     arguments.seed)
    x_validation, y_validation = validation_split(x_train, y_train)
    accuracy = float(np.mean(quality.predict_digits(model, x_validation) == y_validation))
    # The Fréchet distance between two sets of real digits: the first 10,000 training images and the validation slice.
    reference = quality.frechet_distance(quality.features(model, x_train[:VALIDATION_SIZE]),
                                         quality.features(model, x_validation))
    meta = {"trained_on": f"the first {len(x_train) - VALIDATION_SIZE} MNIST training images",
            "epochs": arguments.epochs, "seed": arguments.seed,
            "validation_accuracy": accuracy, "validation": f"the last {VALIDATION_SIZE} training images",
            "reference_frechet_distance": reference,
            "reference": f"the first {VALIDATION_SIZE} training images against the validation slice"}
    pathlib.Path(arguments.out).parent.mkdir(parents=True, exist_ok=True)
    quality.save_classifier(model, arguments.out, meta)
    print(f"Wrote {arguments.out}: validation accuracy {accuracy:.4f}, "
          f"Fréchet distance of real digits {reference:.2f}")


if __name__ == "__main__":
    main()
