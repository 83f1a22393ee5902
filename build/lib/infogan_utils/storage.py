"""Writing files safely, and turning a model's variables into named arrays and back.

Every file the package writes (checkpoints, exported models, a run's JSON files) goes through
:func:`atomic_write`: the bytes go to a temporary file in the same folder, are flushed to disk,
and the file is renamed over the old one, so a crash leaves either the old file or the new one,
never half of one.

Weights are stored in ``.npz`` archives (never pickled) under names ``"group/NNNN"``: the
variables of each group, in order. :func:`variables_to_arrays` writes that scheme and
:func:`assign_arrays` reads it back, checking every count and shape before it changes anything.
"""

import json
import os
import pathlib
import zipfile

import numpy as np


def atomic_write(path, write):
    """Write a file atomically: ``write(handle)`` fills a temporary binary file that replaces ``path``.

    The folder is created if needed. Returns ``path``.
    """
    path = pathlib.Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "Is a directory", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)
    return path


def write_json(path, values):
    """Write ``values`` as indented JSON, atomically."""
    text = json.dumps(values, indent=2) + "\n"
    return atomic_write(path, lambda handle: handle.write(text.encode("utf-8")))


def write_arrays(path, arrays, meta, compress=False):
    """Write named arrays and a JSON ``meta`` description as one ``.npz`` archive, atomically."""
    members = dict(arrays) | {"meta": np.array(json.dumps(meta))}
    save = np.savez_compressed if compress else np.savez
    return atomic_write(path, lambda handle: save(handle, **members))


def read_arrays(path, error=ValueError, what="file"):
    """Read an archive written by :func:`write_arrays`: returns ``(meta, arrays)``.

    Every kind of damage (a missing file, a truncated or foreign archive, pickled members, a
    ``meta`` member that is not a JSON object) raises ``error`` with a one-line message; the archive
    is always closed.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise error(f"{path}: no such {what}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            # Every member is read now, so that truncation shows up here rather than half-way through loading.
            arrays = {key: archive[key] for key in archive.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as problem:
        raise error(f"{path} is damaged and cannot be read ({_one_line(problem)})") from None
    if "meta" not in arrays:
        raise error(f"{path} is not an infogan_utils {what} (no 'meta' entry)")
    try:
        meta = json.loads(str(arrays.pop("meta")))
    except ValueError as problem:
        raise error(f"{path} is damaged and cannot be read (its meta entry is not JSON: {_one_line(problem)})") \
            from None
    if not isinstance(meta, dict):
        raise error(f"{path} is damaged and cannot be read (its meta entry is not a JSON object)")
    return meta, arrays


def variables_to_arrays(groups, dtype=None):
    """``{"group/NNNN": array}`` for ``groups``, a dict of group name to a list of variables."""
    arrays = {}
    for group, variables in groups.items():
        for index, variable in enumerate(variables):
            value = np.asarray(variable.numpy() if hasattr(variable, "numpy") else variable)
            arrays[f"{group}/{index:04d}"] = value.astype(dtype) if dtype and value.dtype.kind == "f" else value
    return arrays


def stored_group(arrays, group):
    """The arrays stored for ``group``, in order."""
    return [arrays[key] for key in sorted(key for key in arrays if key.startswith(group + "/"))]


def assign_arrays(arrays, groups, source, error=ValueError):
    """Assign stored arrays to the variables of ``groups`` once every count and shape has been checked.

    Floating-point arrays are cast to each variable's own dtype (float16 files load into float32
    models and the other way round). Raises ``error`` naming ``source`` and changes nothing when
    anything differs.
    """
    assignments = []
    for group, variables in groups.items():
        stored = stored_group(arrays, group)
        if len(stored) != len(variables):
            raise error(f"{source} holds {len(stored)} {group} arrays, the model has {len(variables)}: "
                        "it was written for another architecture")
        for index, (value, variable) in enumerate(zip(stored, variables)):
            if tuple(value.shape) != tuple(variable.shape):
                raise error(f"{source}: {group}/{index:04d} has shape {value.shape}, the model's "
                            f"{getattr(variable, 'path', group)} has {tuple(variable.shape)}")
            assignments.append((variable, value))
    for variable, value in assignments:
        variable.assign(value.astype(variable.dtype) if value.dtype.kind == "f" else value)


def _fsync_folder(folder):
    # Makes the rename itself durable; not every platform can open a folder.
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def _one_line(problem):
    return " ".join(str(problem).split())
