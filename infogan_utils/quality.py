"""Sample quality, judged by the project's own small MNIST classifier (not by InfoGAN's Q head).

The classifier is trained on the first 50,000 training digits only, so that the validation slice (the last
10,000) and the test set stay unseen. Two measures use it:

- the Fréchet distance between the classifier's features of generated digits and of the validation slice
  (as FID does with Inception's features; lower is closer). The reference is the distance between the
  first 10,000 training digits and the validation slice: two sets of real digits;
- per category, the share of its generated digits that the classifier reads as the digit the category was
  matched to on the validation slice, and the worst category.
"""

import pathlib

import numpy as np

from .data import as_float_images
from .storage import assign_arrays, read_arrays, variables_to_arrays, write_arrays

CLASSIFIER_PATH = pathlib.Path(__file__).resolve().parent / "classifier" / "mnist.npz"
FEATURES = "features"


def build_classifier():
    """A small convolutional classifier of 28x28 digits: two strided convolutions, a 128-unit feature layer
    (the one the Fréchet distance reads) and 10 logits."""
    import keras

    inputs = keras.Input((28, 28, 1), name="image")
    x = keras.layers.Conv2D(32, 3, strides=2, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    features = keras.layers.Dense(128, activation="relu", name=FEATURES)(x)
    return keras.Model(inputs, keras.layers.Dense(10, name="logits")(features), name="mnist_classifier")


def train_classifier(images, labels, epochs=3, seed=0):
    """Train :func:`build_classifier` on ``images`` (uint8 or [0, 1] floats) and ``labels``; returns the model."""
    import keras

    keras.utils.set_random_seed(seed)
    model = build_classifier()
    model.compile(keras.optimizers.Adam(1e-3), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(_as_input(images), np.asarray(labels), batch_size=128, epochs=epochs, verbose=0)
    return model


def save_classifier(model, path, meta):
    """Write the classifier's weights and ``meta`` (how it was trained, its validation accuracy) to ``path``."""
    return write_arrays(path, variables_to_arrays({"weights": model.weights}), meta)


def load_classifier(path=CLASSIFIER_PATH):
    """The classifier stored at ``path`` (by default the one shipped with the package) and its meta."""
    meta, arrays = read_arrays(path, what="classifier file")
    model = build_classifier()
    assign_arrays(arrays, {"weights": model.weights}, str(path))
    return model, meta


def features(classifier, images, batch_size=500):
    """The classifier's 128 features of each image."""
    import keras

    extractor = keras.Model(classifier.input, classifier.get_layer(FEATURES).output)
    return np.asarray(extractor.predict(_as_input(images), batch_size=batch_size, verbose=0), dtype=np.float64)


def frechet_distance(first, second):
    """The Fréchet distance between Gaussians fitted to two sets of feature vectors (rows):
    ``|m1 - m2|^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2))``.

    The trace of the root is taken as that of ``(S1^(1/2) S2 S1^(1/2))^(1/2)``, which has the same eigenvalues and is
    symmetric, so that a singular covariance (a feature that never fires, as in a barely trained model) is exact
    rather than a warning."""
    first, second = np.asarray(first, dtype=np.float64), np.asarray(second, dtype=np.float64)
    if first.ndim != 2 or second.ndim != 2 or first.shape[1] != second.shape[1] or min(len(first), len(second)) < 2:
        raise ValueError(f"expected two (n, d) feature sets with the same d and n >= 2, got {first.shape} and "
                         f"{second.shape}")
    mean_gap = first.mean(axis=0) - second.mean(axis=0)
    covariance_1, covariance_2 = np.cov(first, rowvar=False), np.cov(second, rowvar=False)
    values, vectors = np.linalg.eigh(covariance_1)
    root_1 = (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T
    middle = root_1 @ covariance_2 @ root_1
    trace_of_root = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2), 0.0, None)))
    return float(mean_gap @ mean_gap + np.trace(covariance_1) + np.trace(covariance_2) - 2 * trace_of_root)


def predict_digits(classifier, images, batch_size=500):
    """The digit the classifier reads in each image (uint8 or [0, 1] floats)."""
    return classifier.predict(_as_input(images), batch_size=batch_size, verbose=0).argmax(axis=1)


def category_shares(classifier, model, category_to_label, n=1000, seed=0):
    """For each category of ``model`` (an InfoGAN in its own numbering), the share of ``n`` generated digits
    that ``classifier`` reads as ``category_to_label[category]``. Returns a list, one share per category."""
    spec = model.spec
    category_to_label = np.asarray(category_to_label)
    shares = []
    for category in range(spec.categorical_dims[0]):
        sample = spec.sample(n, seed=seed + category)
        categorical = np.full_like(sample["categorical"], category)
        images = model.generate(sample["noise"], categorical, sample["continuous"])
        shares.append(float(np.mean(predict_digits(classifier, images) == category_to_label[category])))
    return shares


def sample_quality(model, validation_images, category_to_label, n=5000, per_category=500, seed=0, classifier=None):
    """The two measures for an MNIST ``model`` (an InfoGAN in its own numbering) whose categories were matched to
    digits on the validation slice (``category_to_label``): ``{"frechet_distance", "reference_frechet_distance"
    (two sets of real digits, from the classifier's file), "category_shares", "worst_category", "worst_share"}``.
    ``classifier``: a ``(model, meta)`` pair from :func:`load_classifier`, or None for the shipped one."""
    classifier, meta = classifier or load_classifier()
    sample = model.spec.sample(n, seed=seed)
    generated = model.generate(sample["noise"], sample["categorical"], sample["continuous"])
    distance = frechet_distance(features(classifier, generated), features(classifier, validation_images))
    shares = category_shares(classifier, model, category_to_label, n=per_category, seed=seed)
    worst = int(np.argmin(shares))
    return {"frechet_distance": distance, "reference_frechet_distance": meta["reference_frechet_distance"],
            "category_shares": shares, "worst_category": worst, "worst_share": shares[worst],
            "judge": f"the project's MNIST classifier, trained on {meta['trained_on']}"}


def _as_input(images):
    images = as_float_images(images)
    return images[..., None] if images.ndim == 3 else images
