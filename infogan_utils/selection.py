"""Choosing one run among several trained the same way, without reading a label: ModelCentrality.

Runs that differ only in their seed learn codes of different quality: one seed's slant code is clean, another's
mixes slant with width. Labels could tell them apart, but a model chosen by its test figures would report a figure
no reader could expect from their own run. InfoGAN-CR (Lin et al., ICML 2020, Section 5) chooses without labels:
each run's generator is a source of images whose codes are known (the codes it drew them from), and every other
run's Q is scored on reading them. Runs whose codes mean what most runs' codes mean agree with each other; the run
that agrees most with the rest (the medoid) is chosen. Their score is the FactorVAE metric; this module scores a
reading by what the tables of this project report: the category one-to-one (Hungarian) and each continuous code by
its Spearman correlation.

Usage::

    report = model_centrality([load_run_model(run) for run in run_dirs])
    chosen = run_dirs[report["chosen"]]
"""

import numpy as np

from .metrics import hungarian_accuracy


def _check_same_codes(models):
    specs = {(tuple(model.spec.categorical_dims), model.spec.continuous_dim) for model in models}
    if len(specs) != 1:
        raise ValueError(f"the models must have the same codes to read each other's, got (categorical sizes, "
                         f"continuous codes) {sorted(specs)}")


def _continuous_agreement(codes, estimates):
    """The mean |Spearman rho| of each code with the estimate matched to it one-to-one (the matching with the
    largest sum; the sign is free, as a code's direction is arbitrary)."""
    from scipy.optimize import linear_sum_assignment
    from scipy.stats import spearmanr

    size = codes.shape[1]
    rho = np.zeros((size, size))
    for row in range(size):
        for column in range(size):
            rho[row, column] = abs(spearmanr(codes[:, row], estimates[:, column]).statistic)
    rows, columns = linear_sum_assignment(-np.nan_to_num(rho))
    return float(np.nan_to_num(rho[rows, columns]).mean())


def _agreement(sample, images, reader):
    probabilities, means = reader.predict_codes(images)
    categorical, start = [], 0
    for index, size in enumerate(reader.spec.categorical_dims):
        read = probabilities[:, start:start + size].argmax(axis=1)
        categorical.append(hungarian_accuracy(sample["categorical"][:, index], read))
        start += size
    report = {"categorical": float(np.mean(categorical)) if categorical else None,
              "continuous": _continuous_agreement(sample["continuous"], means) if means.shape[1] else None}
    parts = [value for value in report.values() if value is not None]
    return report | {"score": float(np.mean(parts))}


def code_agreement(source, reader, n=2000, seed=0):
    """How well ``reader``'s Q reads the codes ``source``'s generator drew ``n`` images from.

    Returns ``{"categorical", "continuous", "score"}``: the Hungarian accuracy of the reader's category against
    the source's (the mean over categorical codes; None without one), the mean ``|Spearman rho|`` of each
    continuous code with the reader's estimate matched to it one-to-one (None without continuous codes), and the
    mean of the two. A model read by itself scores its own Q's accuracy and correlations."""
    if n < 10:
        raise ValueError(f"n must be at least 10 images to compare codes, got {n}")
    _check_same_codes([source, reader])
    sample = source.spec.sample(n, seed=seed)
    images = source.generate(sample["noise"], sample["categorical"], sample["continuous"])
    return _agreement(sample, images, reader)


def model_centrality(models, n=2000, seed=0):
    """InfoGAN-CR's ModelCentrality over ``models`` (two or more, with the same codes): every model's Q reads
    ``n`` images of every other model's generator (:func:`code_agreement`).

    Returns ``{"scores", "centrality", "chosen"}``: ``scores[i][j]`` is model ``j``'s score on model ``i``'s images
    (None on the diagonal), ``centrality[j]`` the mean over the other models ``i`` of ``(scores[i][j] +
    scores[j][i]) / 2``, and ``chosen`` the index of the most central model (the first, on a tie)."""
    models = list(models)
    if len(models) < 2:
        raise ValueError(f"model_centrality chooses among two or more models, got {len(models)}")
    if n < 10:
        raise ValueError(f"n must be at least 10 images to compare codes, got {n}")
    _check_same_codes(models)
    count = len(models)
    scores = [[None] * count for _ in range(count)]
    for i, source in enumerate(models):
        sample = source.spec.sample(n, seed=seed)
        images = source.generate(sample["noise"], sample["categorical"], sample["continuous"])
        for j, reader in enumerate(models):
            if i != j:
                scores[i][j] = _agreement(sample, images, reader)["score"]
    centrality = [float(np.mean([(scores[i][j] + scores[j][i]) / 2 for i in range(count) if i != j]))
                  for j in range(count)]
    return {"scores": scores, "centrality": centrality, "chosen": int(np.argmax(centrality))}
