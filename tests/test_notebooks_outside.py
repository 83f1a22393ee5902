"""Every chapter, and every solutions notebook in notebooks/solutions/, runs (quick mode, under nbval) where Colab
runs it: in a folder outside the checkout, with the package importable only as an installed package and no ``runs/``
or ``..`` to fall back on."""

import os
import pathlib
import shutil
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
# The worked solutions of the chapters' exercises (notebooks/solutions/*.ipynb): a notebook dropped there is run too.
SOLUTIONS = sorted(f"solutions/{path.name}" for path in (ROOT / "notebooks" / "solutions").glob("*.ipynb"))
CONFTEST = '''
def pytest_collectstart(collector):
    # Keras' progress bars and warnings go to stderr; they never decide a notebook test.
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
'''


@pytest.fixture(scope="module")
def outside(tmp_path_factory):
    """A folder outside the checkout holding a copy of the notebooks (solutions/ included) and nothing else."""
    folder = tmp_path_factory.mktemp("reader") / "chapters"
    (folder / "solutions").mkdir(parents=True)
    for name in NOTEBOOKS + SOLUTIONS:
        shutil.copyfile(ROOT / "notebooks" / name, folder / name)
    (folder / "conftest.py").write_text(CONFTEST)
    return folder


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_the_chapter_runs_outside_the_checkout(outside, name):
    run_outside(outside, name)


@pytest.mark.parametrize("name", SOLUTIONS)
def test_the_solutions_run_outside_the_checkout(outside, name):
    run_outside(outside, name)


def run_outside(outside, name):
    """Run ``name`` (a path under ``outside``) under nbval in quick mode; it may write only into my-runs/."""
    assert not (outside.parent / "infogan_utils").exists() and not (outside.parent / "runs").exists()
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    environment |= {"INFOGAN_QUICK": "1", "TF_CPP_MIN_LOG_LEVEL": "3"}  # and conftest's INFOGAN_COMPUTE=float32
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "--nbval-cell-timeout=600",
         "-p", "no:cacheprovider", "-q", "--rootdir", str(outside), str(outside / name)],
        cwd=outside, env=environment, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    created = sorted(str(path.relative_to(outside)) for path in outside.rglob("*")
                     if path.is_file() and path.suffix not in (".ipynb", ".pyc") and path.name != "conftest.py")
    assert not [path for path in created if not path.startswith("my-runs/")], created  # writes only my-runs/
