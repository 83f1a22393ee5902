"""infogan_utils: the helper package of the InfoGAN tutorial series.

The modules, one concern each: ``data`` (MNIST, Fashion-MNIST and folders of your own images),
``codes`` (the latent layout), ``models`` (G, D and the Q head), ``losses``, ``augment`` (Q's
distorted input), ``training`` (the Keras model and callbacks), ``inference`` (compiled
small-batch calls), ``storage``, ``checkpoints``, ``runs`` (run folders), ``metrics``,
``plotting``, ``widgets``, ``pretrained``, ``results`` (the shipped runs) and ``cli``. The names
below are the ones the notebooks use most.
"""

__version__ = "0.2.0"

from .codes import LatentSpec
from .data import load_dataset, load_fashion_mnist, load_image_folder, load_mnist, make_dataset
from .metrics import evaluate_model, hungarian_accuracy, majority_accuracy, normalized_mutual_information
from . import results
from .pretrained import available_pretrained, load_pretrained
from .runs import TrainConfig, evaluate_run, train_run

__all__ = [
    "LatentSpec", "TrainConfig", "available_pretrained", "evaluate_model", "evaluate_run", "hungarian_accuracy",
    "load_dataset", "load_fashion_mnist", "load_image_folder", "load_mnist", "load_pretrained", "majority_accuracy", "make_dataset",
    "normalized_mutual_information", "results", "train_run",
]
