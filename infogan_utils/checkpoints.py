"""Saving and restoring the whole training state in one file, atomically.

A checkpoint is a single ``.npz`` archive (never pickled) holding the generator's and the
discriminator's weights (batch-norm statistics included), both optimizers' state, the latent
sampler's seed state and a JSON description. It is written to a temporary file and then renamed
over the old one, so an interrupted run never leaves a half-written checkpoint behind.
"""

import json
import os
import pathlib
import zipfile

import numpy as np

FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """Raised when a checkpoint is missing, corrupt, or belongs to another configuration."""


def _groups(model):
    return {
        "generator": model.generator.weights,
        "discriminator": model.discriminator.weights,
        "d_optimizer": model.d_optimizer.variables,
        "g_optimizer": model.g_optimizer.variables,
        "seed_generator": [model.seed_generator.state],
        "step_counter": [model.step_counter],
    }


def save_checkpoint(model, path, extra=None):
    """Write ``model``'s training state to ``path`` (a ``.npz`` file), atomically."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for group, variables in _groups(model).items():
        for index, variable in enumerate(variables):
            arrays[f"{group}/{index:04d}"] = np.asarray(variable.numpy())
    meta = {"format": FORMAT_VERSION, "steps": model.steps, "spec": model.spec.to_dict()} | (extra or {})
    arrays["meta"] = np.array(json.dumps(meta))
    temporary = path.with_name(path.name + ".tmp")
    with open(temporary, "wb") as handle:
        np.savez(handle, **arrays)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return path


def read_checkpoint_meta(path):
    """The JSON description stored in a checkpoint (steps, latent spec and run settings)."""
    with _open(path) as archive:
        return json.loads(str(archive["meta"]))


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
    with _open(path) as archive:
        meta = json.loads(str(archive["meta"]))
        if _stored_spec(meta) != model.spec:
            raise CheckpointError(f"{path} was written for latent spec {meta.get('spec')}, "
                                  f"not {model.spec.to_dict()}")
        assignments = []
        for group, variables in _groups(model).items():
            stored = sorted(key for key in archive.files if key.startswith(group + "/"))
            if group == "step_counter" and not stored:  # written before the counter existed
                assignments.append((variables[0], meta["steps"]))
                continue
            if len(stored) != len(variables):
                raise CheckpointError(f"{path} holds {len(stored)} {group} arrays, the model has "
                                      f"{len(variables)}: it was written for another architecture")
            for key, variable in zip(stored, variables):
                value = archive[key]
                if tuple(value.shape) != tuple(variable.shape):
                    raise CheckpointError(f"{path}: {key} has shape {value.shape}, the model's "
                                          f"{variable.path} has {tuple(variable.shape)}")
                assignments.append((variable, value))
    for variable, value in assignments:  # only once every array has been checked
        variable.assign(value)
    return meta


class _open:
    """Open a checkpoint archive, turning every kind of damage into a one-line CheckpointError."""

    def __init__(self, path):
        self.path = pathlib.Path(path)

    def __enter__(self):
        if not self.path.is_file():
            raise CheckpointError(f"{self.path}: no such checkpoint")
        try:
            self.archive = np.load(self.path, allow_pickle=False)
            if "meta" not in self.archive.files:
                raise CheckpointError(f"{self.path} is not an infogan_utils checkpoint (no 'meta' entry)")
            # Touch every member now so that truncation shows up here, not half-way through loading.
            for key in self.archive.files:
                self.archive[key]
        except CheckpointError:
            raise
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as error:
            raise CheckpointError(f"{self.path} is damaged and cannot be read ({error})") from None
        return self.archive

    def __exit__(self, *exc):
        self.archive.close()
        return False
