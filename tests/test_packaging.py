"""environment.yml (Binder, conda) installs the same packages as pyproject.toml."""

import pathlib
import re

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*?)\s*$")


def parse(requirement):
    """``(normalised name, sorted version specifiers)`` of a requirement string."""
    match = REQUIREMENT.match(requirement.split(";")[0])
    assert match, f"cannot parse requirement {requirement!r}"
    name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
    specifiers = tuple(sorted(s.replace(" ", "") for s in match.group(3).split(",") if s.strip()))
    return name, specifiers


def environment_pip_requirements(text):
    """The entries of the ``- pip:`` list in environment.yml (a small reader: no YAML library needed)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"^\s*-\s*pip:\s*$", line))
    indent = None
    entries = []
    for line in lines[start + 1:]:
        if not line.strip() or line.strip().startswith("#"):
            continue
        match = re.match(r"^(\s*)-\s+(.+?)\s*(#.*)?$", line)
        if not match or (indent is not None and len(match.group(1)) != indent):
            break
        indent = len(match.group(1))
        entries.append(match.group(2).strip().strip("'\""))
    return entries


def test_environment_matches_pyproject():
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    expected = pyproject["project"]["dependencies"] + pyproject["project"]["optional-dependencies"]["notebooks"]
    entries = environment_pip_requirements((ROOT / "environment.yml").read_text())
    assert "-e ." in entries, "environment.yml must install the package itself (- -e .) for Binder"
    found = [entry for entry in entries if entry != "-e ."]
    assert sorted(map(parse, found)) == sorted(map(parse, expected)), (
        "environment.yml's pip list differs from pyproject.toml's dependencies + the notebooks extra:\n"
        f"  only in environment.yml: {sorted(set(map(parse, found)) - set(map(parse, expected)))}\n"
        f"  only in pyproject.toml: {sorted(set(map(parse, expected)) - set(map(parse, found)))}")


def test_parse():
    assert parse("tensorflow>=2.16") == ("tensorflow", (">=2.16",))
    assert parse("Foo_Bar >= 1, <2") == ("foo-bar", ("<2", ">=1"))
    assert parse("infogan-utils[notebooks]") == ("infogan-utils", ())


def test_the_wheel_carries_the_shipped_model(tmp_path):
    """A wheel built from the repository, installed on its own, loads the shipped model: nothing it needs
    lives only in the checkout (Colab installs the package and has no clone)."""
    import os
    import subprocess
    import sys

    import shutil

    source = tmp_path / "source"  # a copy, so that the build leaves nothing in the checkout
    shutil.copytree(ROOT / "infogan_utils", source / "infogan_utils", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copyfile(ROOT / name, source / name)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(tmp_path / "wheels"), str(source)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-2000:]
    wheels = list((tmp_path / "wheels").glob("infogan_utils-*.whl"))
    assert len(wheels) == 1, wheels
    install = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                              str(tmp_path / "site"), str(wheels[0])], capture_output=True, text=True)
    assert install.returncode == 0, install.stderr[-2000:]
    code = ("import infogan_utils, numpy as np; from infogan_utils import results; "
            "m = infogan_utils.load_pretrained('mnist'); images = m.generate(None, [7, 1], np.zeros((2, 2))); "
            "run = results.trained_run('mnist-seed0'); assert run.model().steps == 5000 and len(run.grids()) == 2; "
            "assert results.summary() and results.trained_run('fashion-mnist-seed0').history()['step'][-1] == 3000; "
            "from infogan_utils import quality; assert quality.load_classifier()[1]['validation_accuracy'] > 0.97; "
            "print(infogan_utils.__file__, images.shape)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path,
                            env=os.environ | {"PYTHONPATH": str(tmp_path / "site"), "TF_CPP_MIN_LOG_LEVEL": "3"})
    assert result.returncode == 0, result.stderr[-2000:]
    location, shape = result.stdout.split(maxsplit=1)
    assert location.startswith(str(tmp_path / "site")) and shape.strip() == "(2, 28, 28, 1)"
