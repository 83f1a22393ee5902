"""pytest configuration shared by tests/ and the notebooks that nbval runs."""

import os

# Quick mode: the notebooks read INFOGAN_QUICK in their first cell and shrink their training.
os.environ.setdefault("INFOGAN_QUICK", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def pytest_collectstart(collector):
    # Keras' progress bars and warnings go to stderr; they never decide a notebook test.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
