"""Shared fixtures: the real MNIST file and one tiny trained run reused by several tests."""

import json
import os

import pytest

from infogan_utils import data
from shared import shared_folder


MISSING_MNIST = ("mnist.npz not found: put it in data/ or point INFOGAN_DATA_DIR at its folder "
                 "(python -c 'import infogan_utils; infogan_utils.load_mnist()' downloads it into data/)")


def pytest_configure(config):
    """Short runs train in float32 without XLA, which compiles the step in about 5 s where XLA takes 14 s
    (``runs.COMPUTE_MODES``): most tests train a few steps. The tests of a mode choose it (the learning tests
    through ``compute_mode``, the exact mode's repeatability with ``jit_compile=True``). INFOGAN_COMPUTE set by
    hand wins; INFOGAN_TEST_MACHINE_COMPUTE carries it to the xdist workers, which inherit this environment."""
    machine = os.environ.setdefault("INFOGAN_TEST_MACHINE_COMPUTE", os.environ.get("INFOGAN_COMPUTE", ""))
    if not machine:
        os.environ["INFOGAN_COMPUTE"] = "float32"


# xdist (`make test`: --dist load --maxschedchunk 1) deals the tests out one or two at a time, in collection order, to
# whichever worker runs out of work: the longest go first, so that no worker is left running one of them alone at the
# end. (Its `loadgroup` mode cannot keep tests together under pytest 9: pytest-dev/pytest-xdist#1386. Tests that share
# a costly result read it through `shared.shared_folder`, made once per session.)
LONGEST_FIRST = ("test_devices.py::test_two_replicas_take_the_steps",  # makes the two-device report: 250 s in the suite
                 "test_cli.py::test_train_writes_a_complete_run_folder",
                 "test_training.py::test_with_categorical_augmentation_q_reads",
                 "test_training.py::test_the_categorical_code_is_learned",
                 "test_training.py::test_a_resumed_run_is_bit_identical",
                 "test_notebooks_outside.py::",
                 "test_training.py::test_a_run_trained_in_bfloat16",
                 "test_cli.py::test_a_folder_of_your_own_images",
                 "test_cli.py::test_the_readme_training_command",
                 "test_training.py::test_training_is_reproducible",
                 "test_training.py::test_without_the_information_term",
                 "test_browser.py::")
# Tests that read the two-device report go last, when the first test has made it.
LAST = ("test_devices.py::test_two_replicas_take_the_contrastive_regularisers_step",
        "test_devices.py::test_a_run_resumes_on_another_number_of_devices",
        "test_devices.py::test_two_replicas_learn_what_one_device_learns")


def pytest_collection_modifyitems(items):
    def rank(item):
        if any(part in item.nodeid for part in LAST):
            return len(LONGEST_FIRST) + 1
        return next((index for index, part in enumerate(LONGEST_FIRST) if part in item.nodeid), len(LONGEST_FIRST))

    items.sort(key=rank)  # stable: the order within a group, and of the rest, is kept


def pytest_sessionstart(session):
    """Most tests read the real MNIST: without it, one line says where to put it, instead of dozens of errors."""
    if not any((folder / "mnist.npz").is_file() for folder in data.data_dirs()):
        pytest.exit(MISSING_MNIST, returncode=1)


@pytest.fixture(scope="session")
def mnist_path():
    """The real MNIST file; CI links it from ../shared (see .ci/run)."""
    for folder in data.data_dirs():
        if (folder / "mnist.npz").is_file():
            return folder / "mnist.npz"
    pytest.fail(MISSING_MNIST)


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, mnist_path):
    """A 12-step run on 1,024 images (two epochs of 6 steps): a real run folder with a checkpoint, evaluated.

    Trained once per test session (:func:`shared_folder`) and read only. Returns the folder, its model (restored
    from the checkpoint, in float32) and its metrics."""
    from infogan_utils.runs import TrainConfig, load_run_model, train_run

    config = TrainConfig(steps=12, batch_size=32, train_subset=1024, steps_per_epoch=6, seed=3)
    run_dir = shared_folder(tmp_path_factory, "tiny-run", lambda folder: train_run(folder, config, verbose=0))
    return run_dir, load_run_model(run_dir), json.loads((run_dir / "metrics.json").read_text())


@pytest.fixture(params=["machine", "exact"])
def compute_mode(request, monkeypatch):
    """Runs a learning test twice: as this machine trains by default, and as a CPU without bfloat16
    instructions does (float32 with XLA, forced through INFOGAN_COMPUTE). The thresholds hold in both."""
    from infogan_utils.runs import COMPUTE_MODES, resolve_compute

    machine = os.environ["INFOGAN_TEST_MACHINE_COMPUTE"]  # "" unless INFOGAN_COMPUTE was set by hand
    if machine:
        monkeypatch.setenv("INFOGAN_COMPUTE", machine)
    else:
        monkeypatch.delenv("INFOGAN_COMPUTE")
    if request.param == "exact":
        if resolve_compute() == COMPUTE_MODES["exact"]:
            pytest.skip("this machine trains in the exact mode already")
        monkeypatch.setenv("INFOGAN_COMPUTE", "exact")
    return request.param
