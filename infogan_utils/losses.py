r"""GAN losses and InfoGAN's mutual-information terms, written out by hand.

With codes :math:`c` and the Q head's posterior :math:`Q(c \mid x)`, InfoGAN maximises the
variational lower bound

.. math:: L_I(G, Q) = \mathbb{E}_{c, x \sim G(z, c)}[\log Q(c \mid x)] + H(c) \le I(c; G(z, c)).

For a categorical code the expectation is minus a cross-entropy; for a continuous code with a
Gaussian posterior of fixed :math:`\sigma = 1` it is minus half the squared error, plus a constant.
"""

import math

from keras import ops

LOG_2PI = math.log(2.0 * math.pi)


def discriminator_loss(real_logits, fake_logits):
    """Binary cross-entropy of D: real images labelled 1, generated ones 0 (mean over the batch)."""
    real = ops.mean(ops.softplus(-real_logits))  # -log sigmoid(real)
    fake = ops.mean(ops.softplus(fake_logits))  # -log (1 - sigmoid(fake))
    return real + fake


def generator_loss(fake_logits):
    """The non-saturating generator loss, ``-log D(G(z))`` (mean over the batch)."""
    return ops.mean(ops.softplus(-fake_logits))


def categorical_cross_entropy(one_hot_codes, logits):
    r"""The seed tutorial's :math:`-\sum c \log \hat c`, averaged over the batch."""
    log_probs = ops.log_softmax(logits, axis=-1)
    return -ops.mean(ops.sum(one_hot_codes * log_probs, axis=-1))


def gaussian_negative_log_likelihood(codes, mean, log_std=None, include_constant=False):
    r"""Negative log-likelihood of ``codes`` under a factored Gaussian, summed over codes, mean over batch.

    With ``log_std=None`` the standard deviation is fixed at 1 and the loss is
    :math:`\tfrac12 \lvert c - \hat c\rvert^2` (plus :math:`\tfrac12 \log 2\pi` per code if
    ``include_constant``), the seed tutorial's squared error up to a factor.
    """
    squared = ops.square(codes - mean)
    if log_std is None:
        per_code = 0.5 * squared
    else:
        per_code = 0.5 * squared * ops.exp(-2.0 * log_std) + log_std
    if include_constant:
        per_code = per_code + 0.5 * LOG_2PI
    return ops.mean(ops.sum(per_code, axis=-1))


def categorical_entropy(sizes):
    """H(c) of independent uniform categorical codes with the given sizes, in nats."""
    return float(sum(math.log(k) for k in sizes))


def categorical_mutual_information(one_hot_codes, logits, size):
    r"""The lower-bound estimate :math:`L_I = H(c) - CE` for one uniform ``size``-way code; at most :math:`\ln` size."""
    return information_from_cross_entropy(categorical_cross_entropy(one_hot_codes, logits), size)


def information_from_cross_entropy(cross_entropy, size):
    r"""InfoGAN's bound :math:`L_I = H(c) - CE = \ln K - CE` for a uniform ``K = size``-way code."""
    return math.log(size) - cross_entropy


def continuous_mutual_information(codes, mean, log_std=None):
    r"""The lower-bound estimate :math:`L_I = H(c) + E[\log Q(c|x)]` for Uniform(-1, 1) codes.

    Each Uniform(-1, 1) code has differential entropy :math:`\ln 2`.
    """
    dims = ops.shape(codes)[-1]
    entropy = math.log(2.0) * dims
    return entropy - gaussian_negative_log_likelihood(codes, mean, log_std, include_constant=True)


def real_data_information(spec, q_outputs):
    r"""The mutual information between real images and Q's categories, :math:`H(\bar q) - \mathbb{E}_x H(q(\cdot|x))`.

    Computed on a batch of **real** images, with :math:`\bar q` the batch mean of Q's categorical
    distributions (summed over categorical codes). It is largest (:math:`\ln k` for a ``k``-way code)
    when Q is sure of every real image and uses all categories equally often. It needs no labels,
    so it can be watched during training; it says how cleanly Q sorts real digits, not whether
    its groups are the digit classes.
    """
    logits = q_outputs["categorical_logits"]
    information, start = 0.0, 0
    for size in spec.categorical_dims:
        log_probs = ops.log_softmax(logits[:, start:start + size], axis=-1)
        probs = ops.exp(log_probs)
        conditional_entropy = -ops.mean(ops.sum(probs * log_probs, axis=-1))
        mean_probs = ops.mean(probs, axis=0)
        marginal_entropy = -ops.sum(mean_probs * ops.log(mean_probs + 1e-12))
        information = information + marginal_entropy - conditional_entropy
        start += size
    return information


def categorical_consistency(spec, target_outputs, q_outputs):
    r"""How far Q's categories on ``q_outputs`` (distorted copies) are from those on ``target_outputs`` (the same
    images undistorted, the first ``len(q_outputs)`` of them): :math:`\mathrm{KL}(q(\cdot|x) \,\|\, q(\cdot|x'))`,
    summed over the categorical codes, mean over the batch; 0 when Q reads the same distribution from both.

    The undistorted reading is the target and gets no gradient (``stop_gradient``), so the loss moves the
    distorted copy's reading towards it, as in consistency training (Elastic-InfoGAN asks the same of Q with a
    contrastive loss instead)."""
    target_logits = ops.stop_gradient(ops.cast(target_outputs["categorical_logits"], "float32"))
    logits = ops.cast(q_outputs["categorical_logits"], "float32")
    target_logits = target_logits[:ops.shape(logits)[0]]
    divergence, start = 0.0, 0
    for size in spec.categorical_dims:
        target_log_probs = ops.log_softmax(target_logits[:, start:start + size], axis=-1)
        log_probs = ops.log_softmax(logits[:, start:start + size], axis=-1)
        divergence = divergence + ops.mean(ops.sum(ops.exp(target_log_probs) * (target_log_probs - log_probs),
                                                   axis=-1))
        start += size
    return divergence


def contrastive_loss(shared, logits):
    """InfoGAN-CR's contrastive regulariser: the cross-entropy of the classifier's ``logits`` (n, codes) against
    ``shared`` (n,), the continuous code each pair of images was generated with the same value of (mean over the
    pairs). The classifier H and the generator both minimise it: G helps H by letting each code change the image in
    a way no other code does."""
    logits = ops.cast(logits, "float32")
    return categorical_cross_entropy(ops.one_hot(shared, ops.shape(logits)[-1]), logits)


def information_losses(spec, codes, q_outputs):
    """The categorical and continuous MI losses of a batch, as a dict of scalars.

    ``codes`` is the code part of the generator input (one-hot categoricals then continuous),
    ``q_outputs`` the Q head's outputs for the generated images.
    """
    categorical_parts, continuous = spec.split(codes)
    losses = {"categorical": 0.0, "continuous": 0.0, "categorical_mi": 0.0}
    if categorical_parts:
        logits = q_outputs["categorical_logits"]
        start = 0
        for part, size in zip(categorical_parts, spec.categorical_dims):
            part_logits = logits[:, start:start + size]
            cross_entropy = categorical_cross_entropy(part, part_logits)
            losses["categorical"] = losses["categorical"] + cross_entropy
            losses["categorical_mi"] = losses["categorical_mi"] + information_from_cross_entropy(cross_entropy, size)
            start += size
    if spec.continuous_dim:
        losses["continuous"] = gaussian_negative_log_likelihood(
            continuous, q_outputs["continuous_mean"], q_outputs.get("continuous_log_std"))
    return losses
