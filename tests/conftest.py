"""Shared fixtures: the real MNIST file and one tiny trained run reused by several tests."""

import os
import pathlib

import pytest

from infogan_utils import data


@pytest.fixture(scope="session")
def mnist_path():
    """The real MNIST file; CI links it from ../shared (see .ci/run)."""
    for folder in data.data_dirs():
        if (folder / "mnist.npz").is_file():
            return folder / "mnist.npz"
    pytest.fail("mnist.npz not found: put it in data/ or point INFOGAN_DATA_DIR at its folder")


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, mnist_path):
    """A 40-step run on 1,024 images: a real run folder with a checkpoint, in seconds."""
    from infogan_utils.runs import TrainConfig, train_run

    run_dir = tmp_path_factory.mktemp("runs") / "tiny"
    config = TrainConfig(steps=40, batch_size=32, train_subset=1024, steps_per_epoch=20, seed=3)
    model, metrics = train_run(run_dir, config, verbose=0)
    return pathlib.Path(run_dir), model, metrics
