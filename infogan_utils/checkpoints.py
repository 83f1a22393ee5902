"""Saving and restoring the whole training state in one file, atomically.

A checkpoint is a single ``.npz`` archive (never pickled) holding the generator's and the
discriminator's weights (batch-norm statistics included), both optimizers' state (and, with the contrastive
regulariser, its classifier's weights and optimizer), the latent
sampler's seed state, the step counter and a JSON description. It is written atomically
(:func:`storage.atomic_write`), and the checkpoint it replaces is kept beside it as
``checkpoint.prev.npz``: if the latest file is ever damaged, :func:`restore_latest` resumes from
the one before instead of losing the run.

The state is portable between precisions: a loss-scaled optimizer (mixed precision, the GPU
default) keeps its loss scale in a group of its own, so a checkpoint written on a GPU resumes
in float32 on a CPU and the other way round.
"""

import pathlib

import numpy as np

from .storage import assign_arrays, read_arrays, stored_group, variables_to_arrays, write_arrays

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """Raised when a checkpoint is missing, corrupt, or belongs to another configuration."""


def previous_path(path):
    """Where the checkpoint before ``path`` is kept: ``checkpoint.prev.npz`` beside ``checkpoint.npz``."""
    path = pathlib.Path(path)
    return path.with_name(f"{path.stem}.prev{path.suffix}")


def _optimizer_groups(name, optimizer):
    inner = getattr(optimizer, "inner_optimizer", None)
    if inner is None:
        return {name: optimizer.variables}
    # The loss scale is state of the precision, not of training: stored apart so the rest is portable.
    own = optimizer.variables[:len(optimizer.variables) - len(inner.variables)]  # they come before the inner's
    return {name: inner.variables, f"{name}_loss_scale": own}


def _groups(model):
    groups = {
        "generator": model.generator.weights,
        "discriminator": model.discriminator.weights,
        **_optimizer_groups("d_optimizer", model.d_optimizer),
        **_optimizer_groups("g_optimizer", model.g_optimizer),
        "seed_generator": [model.seed_generator.state],
        "step_counter": [model.step_counter],
    }
    if getattr(model, "contrastive_classifier", None) is not None:  # InfoGAN-CR's classifier and its optimizer
        groups |= {"contrastive_classifier": model.contrastive_classifier.weights,
                   **_optimizer_groups("h_optimizer", model.h_optimizer)}
    return groups


def save_checkpoint(model, path, extra=None, keep_previous=True):
    """Write ``model``'s training state to ``path`` (a ``.npz`` file), atomically.

    With ``keep_previous`` the file it replaces becomes ``checkpoint.prev.npz`` (see :func:`previous_path`).
    """
    path = pathlib.Path(path)
    meta = {"format": FORMAT_VERSION, "steps": model.steps, "spec": model.spec.to_dict()} | (extra or {})
    arrays = variables_to_arrays(_groups(model))
    if keep_previous and path.is_file():
        previous = previous_path(path)
        # A hard link keeps the latest file in place until the new one replaces it.
        link = previous.with_name(f".{previous.name}.link")
        link.unlink(missing_ok=True)
        try:
            link.hardlink_to(path)
        except OSError:  # file systems without hard links: a copy
            link.write_bytes(path.read_bytes())
        link.replace(previous)
    return write_arrays(path, arrays, meta)


def read_checkpoint_meta(path):
    """The JSON description stored in a checkpoint (steps, latent spec and run settings)."""
    meta, _ = read_arrays(path, CheckpointError, "checkpoint")
    return meta


def _stored_spec(meta):
    """The checkpoint's latent spec; fields added to LatentSpec later take their defaults."""
    from .codes import LatentSpec

    try:
        return LatentSpec.from_dict(meta.get("spec") or {})
    except (TypeError, ValueError):
        return None


def load_checkpoint(model, path):
    """Restore ``model``'s training state from ``path``; returns the checkpoint's description.

    The model must be compiled (so that its optimizers exist) and built with the same
    architecture; otherwise a :class:`CheckpointError` says what differs and nothing is changed.
    """
    path = pathlib.Path(path)
    meta, arrays = read_arrays(path, CheckpointError, "checkpoint")
    if not isinstance(meta.get("steps"), int) or meta["steps"] < 0:
        raise CheckpointError(f"{path} is damaged and cannot be read (its meta entry has no step count)")
    if _stored_spec(meta) != model.spec:
        raise CheckpointError(f"{path} was written for latent spec {meta.get('spec')}, not {model.spec.to_dict()}")
    groups = _groups(model)
    for group in [name for name in groups if name.endswith("_loss_scale")]:
        if not stored_group(arrays, group):  # written without loss scaling: keep the fresh loss scale
            del groups[group]
    if not stored_group(arrays, "step_counter"):  # written before the counter existed
        arrays["step_counter/0000"] = np.asarray(meta["steps"], "int64")
    assign_arrays(arrays, groups, path, CheckpointError)
    return meta


def restore_latest(model, path, warn=None):
    """Restore from ``path``, or from the checkpoint kept before it when ``path`` is missing or damaged.

    ``warn`` (default: print to stderr) receives a one-line message when the previous checkpoint is
    used. Returns the description of the checkpoint that was loaded; raises the latest file's
    :class:`CheckpointError` when neither can be used.
    """
    path = pathlib.Path(path)
    previous = previous_path(path)
    try:
        return load_checkpoint(model, path)
    except CheckpointError as error:
        if not previous.is_file():
            raise
        latest_error = error
    try:
        meta = load_checkpoint(model, previous)
    except CheckpointError:
        raise latest_error from None
    (warn or _print_warning)(f"warning: {latest_error}; resuming from {previous.name} at step {meta['steps']}")
    return meta


def _print_warning(message):
    import sys

    print(message, file=sys.stderr)
