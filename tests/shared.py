"""Results that several tests read, made once per test session and shared by the xdist workers."""

import fcntl
import os
import shutil


def shared_folder(tmp_path_factory, name, make):
    """The folder ``name`` of this test session, made once by ``make(folder)`` and shared by the xdist workers.

    The worker that needs it first makes it under a file lock, which a worker that needs it meanwhile waits for;
    the others find it made. Readers must not change it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    # Under xdist each worker's base folder sits in the session's folder; without it, the base folder is the session's.
    session = tmp_path_factory.getbasetemp().parent if worker else tmp_path_factory.getbasetemp()
    folder, made = session / name, session / f"{name}.made"
    with open(session / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if not made.is_file():
            shutil.rmtree(folder, ignore_errors=True)  # what a failed attempt left
            make(folder)
            made.touch()
    return folder
