"""Run the chapters and the unit tests in two other environments than the development one (``make test-envs``).

- ``lowest``: the lowest versions that ``pyproject.toml`` allows for each direct dependency, resolved by
  ``uv pip compile --resolution lowest-direct``: proof that the floors are true.
- ``colab``: Colab's versions of the packages that matter (``tools/colab-constraints.txt``, with the date
  they were taken).

Each environment is a new virtual environment under ``build/envs/NAME`` that installs the wheel built from
this checkout (not the checkout itself), pytest and nbval, then runs every chapter, every solutions notebook
and the explorer app in quick mode in a folder outside the checkout (``tests/test_notebooks_outside.py``),
plus the unit tests. Run it before a release; it takes about half an hour on 2 cores and needs the package
index. It writes nothing tracked: logs go to ``build/envs/NAME.log``.

Usage::

    python tools/test_envs.py            # both
    python tools/test_envs.py colab
"""

import argparse
import os
import pathlib
import shutil
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUILD = ROOT / "build" / "envs"
COLAB_CONSTRAINTS = ROOT / "tools" / "colab-constraints.txt"
# The unit tests that do not need the checkout's own development tools (the browser, the notebooks' hygiene).
UNIT_TESTS = ["tests/test_augment.py", "tests/test_codes.py", "tests/test_data.py", "tests/test_losses.py",
              "tests/test_metrics.py", "tests/test_models.py", "tests/test_training.py", "tests/test_widgets.py",
              "tests/test_pretrained.py", "tests/test_storage.py"]
TOOLS = ["pytest>=8", "pytest-xdist>=3", "nbval>=0.11", "ipykernel>=6"]


def run(command, log, **kwargs):
    """Run ``command``, appending its output to ``log``; raises SystemExit with the log's path if it fails."""
    with open(log, "a") as handle:
        handle.write(f"\n$ {' '.join(map(str, command))}\n")
        handle.flush()
        result = subprocess.run(command, stdout=handle, stderr=subprocess.STDOUT, **kwargs)
    if result.returncode:
        raise SystemExit(f"failed ({result.returncode}): {' '.join(map(str, command))}; see {log}")


def mnist_folder():
    """The folder that holds the MNIST file this checkout uses (its data/ or INFOGAN_DATA_DIR)."""
    sys.path.insert(0, str(ROOT))
    from infogan_utils.data import data_dirs

    for folder in data_dirs():
        if (folder / "mnist.npz").is_file():
            return (folder / "mnist.npz").resolve().parent
    raise SystemExit("mnist.npz not found: put it in data/ or point INFOGAN_DATA_DIR at its folder")


def build_wheel(log):
    wheels = BUILD / "wheel"
    shutil.rmtree(wheels, ignore_errors=True)
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)], log)
    return next(wheels.glob("infogan_utils-*.whl"))


def constraints_for(name, python, log):
    """The constraints file of environment ``name``."""
    if name == "colab":
        return COLAB_CONSTRAINTS
    run([python, "-m", "pip", "install", "-q", "uv"], log)
    output = BUILD / "lowest-constraints.txt"
    run([python, "-m", "uv", "pip", "compile", str(ROOT / "pyproject.toml"), "--resolution", "lowest-direct",
         "--python-version", f"{sys.version_info.major}.{sys.version_info.minor}", "--no-header",
         "-o", str(output)], log)
    return output


def check(name):
    """Install environment ``name`` and run the notebooks and unit tests in it; returns a one-line result."""
    BUILD.mkdir(parents=True, exist_ok=True)
    log = BUILD / f"{name}.log"
    log.write_text(f"{name}: started {time.strftime('%Y-%m-%d %H:%M:%S')}\n")
    environment = BUILD / name  # kept between runs: pip then only checks what is installed
    run([sys.executable, "-m", "venv", str(environment)], log)
    python = str(environment / "bin" / "python")
    run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"], log)
    wheel = build_wheel(log)
    constraints = constraints_for(name, python, log)
    run([python, "-m", "pip", "install", "-q", "-c", str(constraints), str(wheel), *TOOLS], log)
    # A kept environment already holds an infogan-utils of the same version: put this checkout's wheel in its place.
    run([python, "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", str(wheel)], log)
    run([python, "-m", "pip", "check"], log)
    freeze = subprocess.run([python, "-m", "pip", "freeze"], capture_output=True, text=True).stdout
    versions = {line.split("==")[0].lower(): line.split("==")[1] for line in freeze.splitlines() if "==" in line}
    # The installed wheel, not the checkout, must be what the tests import: pytest's own script (not
    # ``python -m pytest``, which puts the working folder first on sys.path) and importlib mode.
    started = time.perf_counter()
    # The installed package's download cache is not the checkout's data/; the tests' helper modules (tests/) are
    # importable, the checkout's package is not.
    data = {"INFOGAN_DATA_DIR": str(mnist_folder()), "PYTHONPATH": str(ROOT / "tests")}
    run([str(environment / "bin" / "pytest"), "--import-mode=importlib", "-n", "2", "-q", "-p", "no:cacheprovider",
         "tests/test_notebooks_outside.py", *UNIT_TESTS], log, cwd=ROOT, env=os.environ | data)
    keys = ("tensorflow", "keras", "numpy", "scipy", "scikit-image", "matplotlib", "pillow", "ipywidgets",
            "tensorboard", "ipython", "ipykernel")
    summary = ", ".join(f"{key} {versions[key]}" for key in keys if key in versions)
    return f"{name}: passed in {time.perf_counter() - started:.0f} s ({summary})"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", choices=("lowest", "colab"), default=["lowest", "colab"])
    arguments = parser.parse_args(argv)
    for name in arguments.names or ["lowest", "colab"]:
        print(check(name), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
