"""Short training runs whose outcome the learning tests check, shared with the script that measures
their spread over seeds (``benchmarks/learning_checks.py`` writes ``benchmarks/LEARNING_CHECKS.md``).

Each function trains a fresh model for a few seconds on real MNIST digits and returns the measured
quantities; the tests compare them with thresholds set below the smallest value seen over several
seeds, with a margin, so that another CPU's float rounding cannot turn a test red.
"""

import keras
import numpy as np

from infogan_utils.augment import random_affine
from infogan_utils.codes import LatentSpec
from infogan_utils.data import load_mnist, make_dataset
from infogan_utils.runs import TrainConfig, build_model

STEPS_PER_EPOCH, EPOCHS, BATCH = 25, 6, 64
# "auto": the mode build_model chooses for the machine (the tests); on a CPU with bfloat16 instructions
# ``benchmarks/learning_checks.py`` also sets True, to measure the exact mode that other CPUs train in.
JIT_COMPILE = "auto"


def _train(mnist_path, config, images=4096, epochs=EPOCHS):
    (x_train, _), _ = load_mnist(mnist_path)
    model = build_model(config, jit_compile=JIT_COMPILE)
    dataset = make_dataset(x_train[:images], batch_size=BATCH, seed=config.seed)
    history = model.fit(dataset, epochs=epochs, steps_per_epoch=STEPS_PER_EPOCH, verbose=0, shuffle=False).history
    return model, history


def _read_back(model, seed, distortion=0.0):
    """Q's accuracy on images generated with known categories, and the correlation of c2 with its estimate."""
    sample = LatentSpec().sample(500, seed=seed + 1)
    images = model.generate(sample["noise"], sample["categorical"], sample["continuous"])
    if distortion:
        images = random_affine(images, distortion, seed=keras.random.SeedGenerator(seed + 3)).numpy()
    probabilities, means = model.predict_codes(images)
    accuracy = float(np.mean(probabilities.argmax(axis=1) == sample["categorical"][:, 0]))
    correlation = float(np.corrcoef(means[:, 0], sample["continuous"][:, 0])[0, 1])
    return accuracy, correlation


def plain_objective(mnist_path, seed):
    """The paper's objective (no distortion), 150 steps on 4,096 digits."""
    model, history = _train(mnist_path, TrainConfig(seed=seed, categorical_augmentation=0.0))
    accuracy, correlation = _read_back(model, seed)
    return {"first_mi": history["categorical_mi"][0], "last_mi": history["categorical_mi"][-1],
            "first_real_mi": history["real_mi"][0], "last_real_mi": history["real_mi"][-1],
            "accuracy": accuracy, "continuous_correlation": correlation}


def distorted_objective(mnist_path, seed, devices=1):
    """The default objective (Q reads the category from distorted fakes), 150 steps on 4,096 digits;
    Q's accuracy is read on distorted generated images. ``devices`` trains on that many replicas.

    Without InfoGAN-CR's classifier H: G takes its loss only from step 2500, long after these 150 steps, so until
    then H only learns beside the run. It would make each step about half as costly again, and its pairs would shift
    the later steps' random draws, not what is measured here."""
    model, history = _train(mnist_path, TrainConfig(seed=seed, categorical_augmentation=1.0, contrastive_weight=0.0,
                                                    devices=devices))
    accuracy, _ = _read_back(model, seed, distortion=1.0)
    return {"last_mi": history["categorical_mi"][-1], "distorted_accuracy": accuracy}


def no_information_term(mnist_path, seed):
    """Both information weights 0: a plain GAN whose Q head is never trained, 50 steps."""
    _, history = _train(mnist_path, TrainConfig(seed=seed, categorical_weight=0.0, continuous_weight=0.0,
                                                contrastive_weight=0.0),
                        images=2048, epochs=2)
    return {"max_mi": max(history["categorical_mi"])}


# (check, quantity): (">" or "<", threshold). Measured over seeds 0-5 in both compute modes (bfloat16 without
# XLA, and float32 with XLA as on a CPU without bfloat16: 12 runs, benchmarks/LEARNING_CHECKS.md, measured again
# when invariant_codes=1 became the default); each threshold sits about two standard deviations of that spread
# below its mean (above, for "<"), below the smallest value seen, so that another CPU's rounding does not cross it
# and a half-broken model does.
THRESHOLDS = {
    ("plain_objective", "first_mi"): ("<", 1.6),  # 1.166 to 1.297 (mean 1.24, sd 0.04): the first 25 steps
    ("plain_objective", "last_mi"): (">", 2.2),  # 2.268 to 2.279 (sd 0.003) of ln 10 = 2.303
    ("plain_objective", "accuracy"): (">", 0.8),  # 0.908 to 1.000 (mean 0.97, sd 0.03; 0.872 once before; chance 0.1)
    ("plain_objective", "continuous_correlation"): (">", 0.65),  # 0.715 to 0.871 (mean 0.81, sd 0.04)
    ("distorted_objective", "last_mi"): (">", 2.1),  # 2.134 to 2.166 (sd 0.010)
    ("distorted_objective", "distorted_accuracy"): (">", 0.3),  # 0.336 to 0.786 (mean 0.57, sd 0.14; chance 0.1)
    ("no_information_term", "max_mi"): ("<", 0.0),  # -0.444 to -0.302: without the term L_I never gets above 0
}


def failures(check, measured):
    """The quantities of ``measured`` (one check's results) that miss their thresholds."""
    missed = []
    for (name, quantity), (direction, threshold) in THRESHOLDS.items():
        value = measured[quantity] if name == check else None
        if value is not None and not (value > threshold if direction == ">" else value < threshold):
            missed.append(f"{quantity} = {value:.3f}, expected {direction} {threshold}")
    return missed


CHECKS = {"plain_objective": plain_objective, "distorted_objective": distorted_objective,
          "no_information_term": no_information_term}
