"""Measuring how well the categorical code recovers the real class, without using labels to train.

The Q head assigns each real test image the category with the highest probability. Those
clusters are compared with the true labels after the fact, in two standard ways: one-to-one
(Hungarian matching of categories to labels) and many-to-one (each category takes its most
frequent label). Normalised mutual information needs no matching at all.
"""

import math

import numpy as np
from scipy.optimize import linear_sum_assignment


def confusion_matrix(labels, clusters, n_labels=None, n_clusters=None):
    """Counts ``[label, cluster]``: how many images of each true label fell into each category."""
    labels, clusters = _check_pair(labels, clusters)
    n_labels = n_labels or int(labels.max()) + 1
    n_clusters = n_clusters or int(clusters.max()) + 1
    matrix = np.zeros((n_labels, n_clusters), dtype=np.int64)
    np.add.at(matrix, (labels, clusters), 1)
    return matrix


def hungarian_mapping(labels, clusters, n_clusters=None):
    """The one-to-one map ``cluster -> label`` that makes the most images correct, as an array."""
    matrix = confusion_matrix(labels, clusters, n_clusters=n_clusters)
    size = max(matrix.shape)
    square = np.zeros((size, size), dtype=np.int64)
    square[:matrix.shape[0], :matrix.shape[1]] = matrix
    label_index, cluster_index = linear_sum_assignment(-square)
    mapping = np.empty(size, dtype=np.int64)
    mapping[cluster_index] = label_index
    return mapping[:matrix.shape[1]]


def hungarian_accuracy(labels, clusters):
    """Accuracy under the best one-to-one assignment of categories to labels."""
    labels, clusters = _check_pair(labels, clusters)
    mapping = hungarian_mapping(labels, clusters)
    return float(np.mean(mapping[clusters] == labels))


def majority_accuracy(labels, clusters):
    """Accuracy when each category is mapped to its most frequent label (many-to-one)."""
    matrix = confusion_matrix(labels, clusters)
    return float(matrix.max(axis=0).sum() / matrix.sum())


def _information(first, second):
    """The mutual information of two arrays of categories (whole numbers from 0), and the entropy of each, in nats."""
    joint = confusion_matrix(first, second).astype(np.float64)
    joint /= joint.sum()
    p_first, p_second = joint.sum(axis=1), joint.sum(axis=0)
    nonzero = joint > 0
    mutual = np.sum(joint[nonzero] * np.log(joint[nonzero] / np.outer(p_first, p_second)[nonzero]))
    entropy_first = -np.sum(p_first[p_first > 0] * np.log(p_first[p_first > 0]))
    entropy_second = -np.sum(p_second[p_second > 0] * np.log(p_second[p_second > 0]))
    return float(mutual), float(entropy_first), float(entropy_second)


def normalized_mutual_information(labels, clusters):
    """NMI with the arithmetic-mean normalisation (scikit-learn's default); 1 means a perfect match."""
    mutual, entropy_label, entropy_cluster = _information(labels, clusters)
    if entropy_label == 0 and entropy_cluster == 0:
        return 1.0
    return mutual / ((entropy_label + entropy_cluster) / 2)


def discretize(values, bins="auto"):
    """The bin of each value (0, 1, ...) among ``np.histogram_bin_edges(values, bins)``, as disentanglement_lib
    and Morpho-MNIST bin continuous codes and attributes before they estimate mutual information."""
    values = np.asarray(values, dtype=np.float64)
    return np.digitize(values, np.histogram_bin_edges(values, bins)[:-1]) - 1


def mutual_information_gap(codes, factors, discrete=(), bins="auto"):
    """The mutual information gap (MIG; Chen et al., 2018), computed as Morpho-MNIST does for its InfoGAN.

    ``codes`` and ``factors`` map names to ``n`` values each: the codes a model infers and the attributes it
    should separate (for example slant, width and thickness). Each is binned by :func:`discretize`, except the
    codes named in ``discrete``, which are categories already. For each factor, the gap is the mutual
    information of the best code minus that of the second best, over the factor's entropy: 1 when one code
    alone carries the factor, 0 when two codes carry it equally (or none does). MIG is the mean gap.

    Returns ``{"mig": ..., "factors": {name: {"gap", "code", "entropy", "information": {code: nats}}}}``.
    """
    if len(codes) < 2 or not factors:
        raise ValueError(f"MIG needs at least two codes and one factor, got {len(codes)} and {len(factors)}")
    if set(discrete) - set(codes):
        raise ValueError(f"discrete names codes that are not given: {sorted(set(discrete) - set(codes))}")
    columns = {name: np.asarray(values) for name, values in {**codes, **factors}.items()}
    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1 or lengths.pop() < 2 or any(values.ndim != 1 for values in columns.values()):
        raise ValueError("every code and factor needs the same number (at least 2) of single values")
    if not all(np.all(np.isfinite(values)) for values in columns.values()):
        raise ValueError("codes and factors must be finite")
    binned_codes = {name: columns[name].astype(np.int64) if name in discrete else discretize(columns[name], bins)
                    for name in codes}
    if any(np.any(binned_codes[name] != columns[name]) or np.any(binned_codes[name] < 0) for name in discrete):
        raise ValueError("a discrete code must hold whole numbers from 0")
    report = {}
    for factor in factors:
        binned = discretize(columns[factor], bins)
        measured = {name: _information(code, binned) for name, code in binned_codes.items()}
        information = {name: mutual for name, (mutual, _, _) in measured.items()}
        entropy = next(iter(measured.values()))[2]  # the factor's own entropy, the same beside every code
        if entropy == 0:
            raise ValueError(f"factor {factor!r} takes one value: it carries no information to separate")
        best, second = sorted(information.values(), reverse=True)[:2]
        report[factor] = {"gap": (best - second) / entropy, "code": max(information, key=information.get),
                          "entropy": entropy, "information": information}
    return {"mig": float(np.mean([row["gap"] for row in report.values()])), "factors": report}


def mutual_information_estimate(probabilities, categories):
    """L_I = H(c) - CE for a uniform categorical code, from Q's probabilities for images generated
    with known ``categories``. It approaches ln K (K categories) when Q recovers c perfectly."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    categories = np.asarray(categories).astype(np.int64)
    from .losses import information_from_cross_entropy  # here: importing losses imports Keras

    picked = probabilities[np.arange(len(categories)), categories]
    cross_entropy = -np.mean(np.log(np.maximum(picked, 1e-12)))
    return float(information_from_cross_entropy(cross_entropy, probabilities.shape[1]))


def clustering_report(labels, clusters, n_clusters=None):
    """Hungarian and majority accuracy, NMI, the confusion matrix and the Hungarian map as one dict.

    ``n_clusters`` (K) makes the confusion matrix and the map cover every category, also those that
    were never predicted; by default it is the largest category seen plus one.
    """
    labels, clusters = _check_pair(labels, clusters)
    if n_clusters is not None and clusters.max() >= n_clusters:
        raise ValueError(f"clusters go up to {clusters.max()}, more than n_clusters={n_clusters} allows")
    mapping = hungarian_mapping(labels, clusters, n_clusters=n_clusters)
    return {
        "hungarian_accuracy": float(np.mean(mapping[clusters] == labels)),
        "majority_accuracy": majority_accuracy(labels, clusters),
        "nmi": normalized_mutual_information(labels, clusters),
        "confusion_matrix": confusion_matrix(labels, clusters, n_clusters=n_clusters).tolist(),
        "cluster_to_label": mapping.tolist(),
    }


def mixed_categories(confusion, share=0.15):
    """The categories that hold two digits in large numbers: each of their two most frequent labels makes up
    at least ``share`` of the category. ``confusion`` has rows = true labels, columns = categories (as in
    ``metrics.json``). Returns ``[(category, (label, count), (label, count)), ...]``, most frequent first."""
    matrix = np.asarray(confusion)
    if matrix.ndim != 2 or not 0 < share <= 0.5:
        raise ValueError(f"expected a 2-D confusion matrix and 0 < share <= 0.5, got shape {matrix.shape} "
                         f"and share {share}")
    found = []
    for category, column in enumerate(matrix.T):
        first, second = np.argsort(column, kind="stable")[::-1][:2]
        if column.sum() and column[second] >= share * column.sum():
            found.append((category, (int(first), int(column[first])), (int(second), int(column[second]))))
    return found


def evaluate_model(model, test_images, test_labels=None, n_generated=10000, seed=0):
    """Evaluate a trained :class:`~infogan_utils.training.InfoGAN` (or anything with ``spec``,
    ``generate`` and ``predict_codes``).

    Returns the clustering report of the first categorical code on real test images (without
    ``test_labels``: none), the share of those images in each category (``category_shares``) and the
    categorical L_I estimate on ``n_generated`` generated images. ``test_images`` may be uint8
    (0..255, as the loaders return them): they are scaled to [0, 1], the range the Q head was
    trained on.
    """
    from .data import as_float_images

    test_images = as_float_images(test_images)
    spec = model.spec
    if not spec.categorical_dims:
        raise ValueError("the model has no categorical code to evaluate")
    size = spec.categorical_dims[0]
    probabilities, _ = model.predict_codes(test_images)
    categories = probabilities[:, :size].argmax(axis=1)
    report = {} if test_labels is None else clustering_report(test_labels, categories, n_clusters=size)
    report["category_shares"] = (np.bincount(categories, minlength=size) / len(categories)).round(4).tolist()
    sample = spec.sample(n_generated, seed=seed)
    images = model.generate(sample["noise"], sample["categorical"], sample["continuous"])
    generated_probabilities, _ = model.predict_codes(images)
    report["categorical_mi"] = mutual_information_estimate(generated_probabilities[:, :size],
                                                           sample["categorical"][:, 0])
    report["categorical_mi_max"] = math.log(size)
    return report


def _check_pair(labels, clusters):
    labels = np.asarray(labels).astype(np.int64).ravel()
    clusters = np.asarray(clusters).astype(np.int64).ravel()
    if labels.shape != clusters.shape:
        raise ValueError(f"labels and clusters differ in length: {labels.shape[0]} vs {clusters.shape[0]}")
    if labels.size == 0:
        raise ValueError("labels and clusters are empty")
    if labels.min() < 0 or clusters.min() < 0:
        raise ValueError("labels and clusters must be non-negative integers")
    return labels, clusters


def pixel_change(model, n=500, seed=0):
    """How much each part of the generator input moves the image: mean absolute change per pixel.

    For ``n`` random latent vectors, change one part at a time and compare the images: the first
    categorical code (another category, always a different one), the continuous codes (fresh
    values) or the noise z (a fresh vector), the rest held fixed. Returns a dict with keys
    ``"categorical"``, ``"continuous"`` and ``"noise"`` (those the model's spec has). A ratio
    ``change[code] / change["noise"]`` near 0 means the generator ignores that code.
    """
    spec = model.spec
    rng = np.random.default_rng(seed)
    first, second = spec.sample(n, seed=seed), spec.sample(n, seed=seed + 1)
    base = model.generate(first["noise"], first["categorical"], first["continuous"])
    changed = {"noise": model.generate(second["noise"], first["categorical"], first["continuous"])}
    if spec.categorical_dims:
        other = first["categorical"].copy()
        size = spec.categorical_dims[0]
        other[:, 0] = (other[:, 0] + rng.integers(1, size, size=n)) % size
        changed["categorical"] = model.generate(first["noise"], other, first["continuous"])
    if spec.continuous_dim:
        changed["continuous"] = model.generate(first["noise"], first["categorical"], second["continuous"])
    return {name: float(np.abs(images - base).mean()) for name, images in changed.items()}


def _ink_moments(images):
    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 4:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"expected images (n, h, w[, 1]), got shape {images.shape}")
    n, height, width = images.shape
    rows, columns = np.mgrid[0:height, 0:width].astype(np.float64)
    mass = images.sum(axis=(1, 2))
    if np.any(mass <= 0):
        raise ValueError("every image needs some ink to measure its shape")
    x_mean = (images * columns).sum(axis=(1, 2)) / mass
    y_mean = (images * rows).sum(axis=(1, 2)) / mass
    dx = columns[None] - x_mean[:, None, None]
    dy = rows[None] - y_mean[:, None, None]
    mu20 = (images * dx * dx).sum(axis=(1, 2)) / mass
    mu02 = (images * dy * dy).sum(axis=(1, 2)) / mass
    mu11 = (images * dx * dy).sum(axis=(1, 2)) / mass
    return mu20, mu02, mu11


def slant(images):
    """Slant of each digit from its second image moments: the horizontal shift of ink per row,
    ``-mu11 / mu02``; positive means the top leans to the right (rows grow downwards)."""
    _, mu02, mu11 = _ink_moments(images)
    return -mu11 / mu02


def stroke_width(images):
    """Width of each digit: the standard deviation of its ink across its principal (long) axis,
    the square root of the smaller eigenvalue of the ink's covariance."""
    mu20, mu02, mu11 = _ink_moments(images)
    half_trace, det = (mu20 + mu02) / 2, mu20 * mu02 - mu11 ** 2
    smaller = half_trace - np.sqrt(np.maximum(half_trace ** 2 - det, 0.0))
    return np.sqrt(np.maximum(smaller, 0.0))


def stroke_thickness(images, upsample=4):
    """Mean stroke thickness of each digit, in pixels, measured the Morpho-MNIST way (Castro et al., 2019).

    Each image is upsampled ``upsample`` times, binarised at half its intensity range and reduced to its
    medial axis (the skeleton); the thickness is twice the mean distance from the axis to the background,
    divided by ``upsample``. A bar ``w`` pixels wide measures about ``w``.
    """
    from scipy import ndimage
    from skimage.morphology import skeletonize

    images = np.asarray(images, dtype=np.float64)
    if images.ndim == 4:
        images = images[..., 0]
    if images.ndim != 3:
        raise ValueError(f"expected images (n, h, w[, 1]), got shape {images.shape}")
    if upsample < 1 or int(upsample) != upsample:
        raise ValueError(f"upsample must be a whole number of at least 1, got {upsample}")
    thickness = []
    for image in images:
        large = ndimage.zoom(image, int(upsample), order=1)
        low, high = large.min(), large.max()
        if not high > low:
            raise ValueError("every image needs some ink to measure its stroke")
        ink = large > (low + high) / 2
        axis = skeletonize(ink)
        thickness.append(2.0 * ndimage.distance_transform_edt(ink)[axis].mean() / upsample)
    return np.array(thickness)


def continuous_code_correlations(model, n=2000, seed=0):
    """Spearman correlation of each continuous code with the generated digits' slant, width and
    stroke thickness.

    Samples ``n`` latents, generates the images and returns
    ``{"c2": {"slant": rho, "width": rho, "thickness": rho}, "c3": {...}}``.
    """
    from scipy.stats import spearmanr

    spec = model.spec
    sample = spec.sample(n, seed=seed)
    images = model.generate(sample["noise"], sample["categorical"], sample["continuous"])
    measures = {"slant": slant(images), "width": stroke_width(images), "thickness": stroke_thickness(images)}
    return {f"c{index + 2}": {name: float(spearmanr(sample["continuous"][:, index], values).statistic)
                              for name, values in measures.items()}
            for index in range(spec.continuous_dim)}


def code_mutual_information_gap(model, n=5000, seed=0, bins="auto"):
    """MIG of what Q reads from ``n`` generated digits (its category and its continuous means) against
    their measured slant, width and stroke thickness, as Morpho-MNIST scores its InfoGAN on samples
    (it also measures height and length, which this package does not).

    Returns :func:`mutual_information_gap`'s report."""
    sample = model.spec.sample(n, seed=seed)
    images = model.generate(sample["noise"], sample["categorical"], sample["continuous"])
    probabilities, means = model.predict_codes(images)
    codes = {"c1": probabilities.argmax(axis=1)} | {f"c{index + 2}": means[:, index] for index in range(means.shape[1])}
    factors = {"slant": slant(images), "width": stroke_width(images), "thickness": stroke_thickness(images)}
    return mutual_information_gap(codes, factors, discrete=("c1",), bins=bins)


def traversal_effect(values, measures):
    """How one code moves one attribute along traversals, from ``measures`` (n, k): the attribute of
    ``n`` digits, each drawn at the ``k`` code ``values`` with everything else fixed.

    Returns ``{"within_rho": ..., "share": ...}``: the median over the ``n`` digits of the Spearman
    correlation between the code and the attribute along the digit's traversal (does the code move the
    attribute, whatever the other latents?), and the share of the attribute's variance over all
    ``n * k`` digits that the code explains (the variance of the ``k`` column means over the total
    variance). A code that alone set the attribute would have a share of 1; the Spearman correlation
    of :func:`continuous_code_correlations` is roughly the square root of the share.
    """
    values = np.asarray(values, dtype=np.float64)
    measures = np.asarray(measures, dtype=np.float64)
    if measures.ndim != 2 or measures.shape[1] != len(values) or len(values) < 2:
        raise ValueError(f"measures must have shape (n, {len(values)}) for {len(values)} code values "
                         f"(at least 2), got {measures.shape}")
    from scipy.stats import spearmanr

    with np.errstate(invalid="ignore", divide="ignore"):
        rhos = [spearmanr(values, row).statistic if np.ptp(row) > 0 else 0.0 for row in measures]
    total = measures.var()
    share = float(measures.mean(axis=0).var() / total) if total > 0 else 0.0
    return {"within_rho": float(np.median(rhos)), "share": share}


def code_effects(model, n=200, values=np.linspace(-1.0, 1.0, 9), seed=0):
    """What each continuous code controls, measured along traversals: for ``n`` random digits, each
    code is moved through ``values`` with the noise and the other codes fixed, and its effect on
    slant, width and thickness is summarised by :func:`traversal_effect`.

    Returns ``{"c2": {"slant": {"within_rho", "share"}, "width": ..., "thickness": ...}, "c3": ...}``.
    """
    spec = model.spec
    values = np.asarray(values, dtype=np.float32)
    sample = spec.sample(n, seed=seed)
    noise = np.repeat(sample["noise"], len(values), axis=0)
    categorical = np.repeat(sample["categorical"], len(values), axis=0)
    effects = {}
    for index in range(spec.continuous_dim):
        continuous = np.repeat(sample["continuous"], len(values), axis=0)
        continuous[:, index] = np.tile(values, n)
        images = model.generate(noise, categorical, continuous)
        effects[f"c{index + 2}"] = {
            name: traversal_effect(values, measure(images).reshape(n, len(values)))
            for name, measure in (("slant", slant), ("width", stroke_width), ("thickness", stroke_thickness))}
    return effects


def describe_code(correlations, threshold=0.3):
    """A short label for one continuous code from its correlations (one entry of
    :func:`continuous_code_correlations`): the attributes with ``|rho| >= threshold``, strongest
    first, each with the direction the code moves it, e.g. ``"slant+ thickness-"``; ``"no clear
    attribute"`` if none reaches the threshold."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must lie in [0, 1], got {threshold}")
    strong = sorted((item for item in correlations.items() if abs(item[1]) >= threshold),
                    key=lambda item: -abs(item[1]))
    if not strong:
        return "no clear attribute"
    return " ".join(f"{name}{'+' if rho > 0 else '-'}" for name, rho in strong)


def code_roles(correlations):
    """How cleanly two continuous codes split slant from width or thickness (the measure the code levers are
    judged on, benchmarks/README.md).

    ``correlations`` is :func:`continuous_code_correlations`' result for a model with two
    continuous codes. The *slant code* is the code with the larger ``|rho|`` with slant, the other
    code takes whichever of width and thickness it correlates with more strongly. Returns
    ``{"slant_code", "slant_rho", "other_code", "other_attribute", "other_rho", "cross_rho"}``,
    each rho an absolute value; ``cross_rho`` is the larger of the slant code's ``|rho|`` with the
    other's attribute and the other code's ``|rho|`` with slant. Clean codes have large
    ``slant_rho`` and ``other_rho`` and a small ``cross_rho``.
    """
    if len(correlations) != 2:
        raise ValueError(f"code_roles needs exactly two continuous codes, got {len(correlations)}")
    first, second = sorted(correlations)
    slant_code, other_code = sorted((first, second), key=lambda code: -abs(correlations[code]["slant"]))
    other = correlations[other_code]
    other_attribute = max(("width", "thickness"), key=lambda name: abs(other[name]))
    return {"slant_code": slant_code, "slant_rho": abs(correlations[slant_code]["slant"]),
            "other_code": other_code, "other_attribute": other_attribute, "other_rho": abs(other[other_attribute]),
            "cross_rho": max(abs(correlations[slant_code][other_attribute]), abs(other["slant"]))}
