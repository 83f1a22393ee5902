import os

import numpy as np
import pytest

from infogan_utils import storage


class Variable:
    """The part of a Keras variable the serialiser uses."""

    def __init__(self, value):
        self.value = np.array(value)
        self.shape, self.dtype, self.path = self.value.shape, str(self.value.dtype), "test/variable"

    def numpy(self):
        return self.value

    def assign(self, value):
        self.value = np.array(value)


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "sub" / "file.json"
    storage.write_json(path, {"a": 1})
    storage.write_json(path, {"a": 2})
    assert path.read_text() == '{\n  "a": 2\n}\n'
    assert os.listdir(path.parent) == ["file.json"]


def test_a_failed_write_keeps_the_old_file(tmp_path):
    path = tmp_path / "file.bin"
    path.write_bytes(b"old")

    def fail_half_way(handle):
        handle.write(b"new, but not all of it")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        storage.atomic_write(path, fail_half_way)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["file.bin"]
    with pytest.raises(IsADirectoryError):
        storage.atomic_write(tmp_path, lambda handle: handle.write(b"x"))


def test_arrays_round_trip_in_groups_and_float16(tmp_path):
    groups = {"a": [Variable([[1.5, -2.25]]), Variable(3)], "b": [Variable(np.arange(4, dtype="int64"))]}
    arrays = storage.variables_to_arrays(groups)
    assert sorted(arrays) == ["a/0000", "a/0001", "b/0000"]
    path = storage.write_arrays(tmp_path / "state.npz", storage.variables_to_arrays(groups, dtype="float16"),
                                {"steps": 4})
    meta, stored = storage.read_arrays(path)
    assert meta == {"steps": 4} and stored["a/0000"].dtype == np.float16 and stored["b/0000"].dtype == np.int64
    target = {"a": [Variable(np.zeros((1, 2), "float32")), Variable(0)], "b": [Variable(np.zeros(4, "int64"))]}
    storage.assign_arrays(stored, target, path)
    assert target["a"][0].value.tolist() == [[1.5, -2.25]] and target["a"][0].value.dtype == np.float32
    assert target["b"][0].value.tolist() == [0, 1, 2, 3]


def test_a_mismatch_changes_nothing(tmp_path):
    stored = storage.variables_to_arrays({"a": [Variable([1.0, 2.0]), Variable([3.0])]})
    target = {"a": [Variable([0.0, 0.0]), Variable([0.0, 0.0])]}
    with pytest.raises(ValueError, match=r"a/0001 has shape \(1,\)"):
        storage.assign_arrays(stored, target, "file.npz")
    assert target["a"][0].value.tolist() == [0.0, 0.0]
    with pytest.raises(ValueError, match="holds 2 a arrays, the model has 1"):
        storage.assign_arrays(stored, {"a": [Variable([0.0, 0.0])]}, "file.npz")


@pytest.mark.parametrize("content, message", [
    (None, "no such thing"), (b"garbage", "is damaged and cannot be read"),
])
def test_unreadable_archives_give_one_line(tmp_path, content, message):
    path = tmp_path / "state.npz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as error:
        storage.read_arrays(path, what="thing")
    assert "\n" not in str(error.value)


def test_an_archive_without_meta_is_refused(tmp_path):
    np.savez(tmp_path / "plain.npz", x=np.zeros(2))
    with pytest.raises(ValueError, match="is not an infogan_utils thing"):
        storage.read_arrays(tmp_path / "plain.npz", what="thing")
