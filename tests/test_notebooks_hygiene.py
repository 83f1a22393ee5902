"""Every committed notebook is clean: executed in order, no errors, small, with the series' layout.

These tests read the notebooks' JSON only (they never run them; nbval does that in quick mode).
"""

import json
import pathlib
import re
import subprocess
import sys

import pytest

import infogan_utils

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import chapters  # noqa: E402  (tools/chapters.py: the chapters' template and navigation)

TOP_LEVEL = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHAPTERS = [path for path in TOP_LEVEL if chapters.CHAPTER_NAME.match(path.name)]
# Worked solutions of a chapter's exercises: notebooks/solutions/NN_<chapter>_solutions.ipynb (one per chapter).
SOLUTIONS = sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
SOLUTION_NAME = re.compile(r"^(\d\d_[\w-]+)_solutions\.ipynb$")
NOTEBOOKS = TOP_LEVEL + SOLUTIONS  # the checks of every notebook apply to both
MAX_BYTES = 3 * 1024 * 1024
SETTINGS = chapters.read_settings(ROOT / "pyproject.toml")


def notebook_id(path):
    return path.relative_to(ROOT / "notebooks").as_posix()


def load(path):
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell):
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else text


def code_cells(notebook):
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


def test_the_series_is_there():
    names = {path.name for path in CHAPTERS}
    for name, _ in chapters.CHAPTERS:
        assert name in names, f"notebooks/{name} is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_executed_in_order(path):
    counts = [cell.get("execution_count") for cell in code_cells(load(path)) if source(cell).strip()]
    assert None not in counts, f"{path.name} has unexecuted code cells (execution_count null)"
    assert counts == list(range(1, len(counts) + 1)), f"{path.name}: execution counts {counts} are not 1..n"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_no_error_outputs(path):
    for index, cell in enumerate(code_cells(load(path))):
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", (
                f"{path.name}, code cell {index + 1}: {output.get('ename')}: {output.get('evalue')}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_no_saved_widget_state(path):
    notebook = load(path)
    assert "widgets" not in notebook.get("metadata", {}), f"{path.name} saves widget state (metadata.widgets)"
    for cell in notebook["cells"]:
        assert "widgets" not in cell.get("metadata", {}), f"{path.name} has a cell with widget metadata"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_small_enough(path):
    size = path.stat().st_size
    assert size < MAX_BYTES, f"{path.name} is {size / 1e6:.1f} MB (limit 3 MB): lower the figures' dpi"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_title_and_badges(path):
    notebook = load(path)
    first = notebook["cells"][0]
    assert first["cell_type"] == "markdown", f"{path.name}: the first cell must be markdown"
    title = chapters.notebook_title(notebook)
    assert title is not None, f"{path.name}: the first line must be '# Chapter N: title'"
    assert title[0] == int(path.name[:2]), f"{path.name}: its title says chapter {title[0]}"
    line = chapters.find_badge_line(notebook)
    assert line is not None, f"{path.name}: no badge line in the first cell"
    assert line == chapters.badge_line(path, SETTINGS, voila=chapters.voila_target(line)), (
        f"{path.name}: badges disagree with pyproject.toml (run python tools/chapters.py --write)")
    assert "What you will learn" in source(first), f"{path.name}: the first cell has no 'What you will learn'"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_setup_cell_first(path):
    first_code = code_cells(load(path))[0]
    expected = chapters.setup_cell_source(SETTINGS, training_modes=path.name in chapters.TRAINING_CHAPTERS)
    assert source(first_code).strip() == expected.strip(), (
        f"{path.name}: the first code cell is not the series' shared setup cell (tools/chapters.py setup_cell_source)")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_mode_is_set_only_where_a_cell_reads_it(path):
    """A reader changes MODE expecting it to matter: the setup cell sets it only in a chapter whose code reads it."""
    later_code = "\n".join(source(cell) for cell in code_cells(load(path))[1:])
    reads_mode = re.search(r"\bMODE\b", later_code) is not None
    assert reads_mode == (path.name in chapters.TRAINING_CHAPTERS), (
        f"{path.name}: its code {'reads' if reads_mode else 'never reads'} MODE; "
        "tools/chapters.py TRAINING_CHAPTERS says otherwise")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_summary_and_exercises(path):
    headings = [line.strip() for cell in load(path)["cells"] if cell["cell_type"] == "markdown"
                for line in source(cell).splitlines() if line.startswith("#")]
    for wanted in ("Summary", "Exercises"):
        assert any(re.match(rf"^#+\s+{wanted}\b", heading) for heading in headings), (
            f"{path.name} has no '{wanted}' heading")


def test_badges_check_passes():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "chapters.py"), "--check"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_badges_follow_pyproject(tmp_path):
    """Changing the repository in pyproject.toml makes --check fail until --write has run."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        '[project.urls]\nRepository = "https://github.com/someone/elsewhere"\n[tool.infogan]\nbranch = "dev"\n')
    settings = chapters.read_settings(tmp_path / "pyproject.toml")
    assert settings == ("someone", "elsewhere", "dev")
    notebook = tmp_path / "notebooks" / "01_gan_basics.ipynb"
    notebook.write_text((ROOT / "notebooks" / "01_gan_basics.ipynb").read_text(encoding="utf-8"), encoding="utf-8")
    problems = chapters.check_notebook(notebook, settings)
    assert any("badge line disagrees" in problem for problem in problems)
    assert any("setup cell installs from" in problem for problem in problems)
    assert chapters.write_notebook(notebook, settings)
    line = chapters.find_badge_line(json.loads(notebook.read_text()))
    assert "colab.research.google.com/github/someone/elsewhere/blob/dev/notebooks/01_gan_basics.ipynb" in line
    assert "mybinder.org/v2/gh/someone/elsewhere/dev?urlpath=lab/tree/notebooks/01_gan_basics.ipynb" in line
    # the setup cell is not rewritten by --write: it still names the old repository
    assert [p for p in chapters.check_notebook(notebook, settings) if "setup cell" in p]


def test_badge_urls():
    settings = ("owner", "repo", "main")
    assert chapters.colab_url("02_latent_codes.ipynb", settings) == (
        "https://colab.research.google.com/github/owner/repo/blob/main/notebooks/02_latent_codes.ipynb")
    assert chapters.binder_url("notebooks/02_latent_codes.ipynb", settings) == (
        "https://mybinder.org/v2/gh/owner/repo/main?urlpath=lab/tree/notebooks/02_latent_codes.ipynb")
    assert chapters.voila_url("explorer_app.ipynb", settings) == (
        "https://mybinder.org/v2/gh/owner/repo/main?urlpath=voila/render/notebooks/explorer_app.ipynb")


def test_references_outside_chapters(tmp_path):
    """README.md and app notebooks: launch URLs must name pyproject's repository and branch and existing notebooks."""
    readme = tmp_path / "README.md"
    owner, repo, branch = SETTINGS
    readme.write_text(f"[ok](https://mybinder.org/v2/gh/{owner}/{repo}/{branch}?urlpath=lab/tree/notebooks/00_index.ipynb)\n"
                      f"[bad](https://mybinder.org/v2/gh/{owner}/{repo}/other?urlpath=voila/render/notebooks/missing.ipynb)\n"
                      "[bad](https://colab.research.google.com/github/someone/else/blob/main/notebooks/00_index.ipynb)\n")
    problems = chapters.check_references(readme, SETTINGS)
    assert len(problems) == 3, problems
    assert any("branch 'other'" in p for p in problems)
    assert any("missing.ipynb" in p for p in problems)
    assert any("someone/else" in p for p in problems)


def test_without_the_package_the_setup_cell_says_what_to_do_in_one_sentence(tmp_path):
    """Where the install failed (Colab) or was never run, the setup cell ends with one sentence that names
    the pinned install command, not an ImportError chain."""
    source = chapters.setup_cell_source(SETTINGS).replace("%pip install", "pass  # %pip install")
    script = tmp_path / "setup_cell.py"
    script.write_text(source)
    result = subprocess.run([sys.executable, "-S", str(script)], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("infogan_utils is not installed: run `pip install \"infogan-utils @ "
                                    f"git+https://github.com/{SETTINGS[0]}/{SETTINGS[1]}@{chapters.read_release()}\"`")


def test_the_release_pin_agrees_with_the_version():
    assert chapters.check_release() == []
    assert chapters.read_release() == f"v{infogan_utils.__version__}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_the_first_cell_says_where_to_run_the_chapter_and_how_long_it_takes(path):
    first = source(json.loads(path.read_text())["cells"][0])
    assert "**Where to run it.**" in first and "Colab" in first and "Binder" in first and "make lab" in first
    assert re.search(r"runs top to bottom in about [\d.]+ (seconds|minutes)", first), path.name


def readme_default_mode_seconds():
    """``{"04": 24, ...}``: each chapter's measured default-mode time in notebooks/README.md's table."""
    table = (ROOT / "notebooks" / "README.md").read_text()
    return {match.group(1): int(match.group(2)) for match in re.finditer(r"^\| (\d\d) [^|]+\| (\d+) s \|", table, re.M)}


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_the_time_a_chapter_quotes_is_the_time_the_readme_measured(path):
    first = source(json.loads(path.read_text())["cells"][0])
    match = re.search(r"runs top to bottom in about ([\d.]+) (seconds|minutes)", first)
    quoted = float(match.group(1)) * (60 if match.group(2) == "minutes" else 1)
    measured = readme_default_mode_seconds()[path.name[:2]]
    assert abs(quoted - measured) <= max(3, 0.25 * measured), (
        f"{path.name} says about {match.group(1)} {match.group(2)}; notebooks/README.md measured {measured} s")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_the_links_name_each_chapter_by_its_own_title(path):
    first_line = source(json.loads(path.read_text())["cells"][0]).lstrip().split("\n", 1)[0]
    title = dict(chapters.CHAPTERS)[path.name]
    assert first_line == f"# Chapter {int(path.name[:2])}: {title}", (
        f"{path.name}: its heading {first_line!r} and tools/chapters.py's title {title!r} differ")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_previous_and_next_chapter_links_at_the_top_and_the_bottom(path):
    cells = json.loads(path.read_text())["cells"]
    line = chapters.navigation_line(path)
    assert line in source(cells[0]).splitlines(), f"{path.name}: the first cell lacks {line!r}"
    assert source(cells[-1]).strip() == line, f"{path.name}: the last cell is not the navigation line"
    for target in re.findall(r"\]\(([\w-]+\.ipynb)\)", line):
        assert (path.parent / target).is_file(), target


# Worked solutions of the exercises: notebooks/solutions/NN_<chapter>_solutions.ipynb. They run in quick mode like the
# chapters (tests/test_notebooks_outside.py); here they get the checks above that apply to every notebook, and their
# own: a title naming the chapter, badges for their own path, the shared setup cell, a link back to the chapter, and
# one section per exercise of the chapter that restates it, solves it in code and ends on a reading of the result.

# The setup cell looks for the package of a clone one folder further up than the chapters' does.
SETUP_ONE_FOLDER_DEEPER = [
    ('os.path.join("..", "infogan_utils", "__init__.py")', 'os.path.join("..", "..", "infogan_utils", "__init__.py")'),
    ('sys.path.insert(0, os.path.abspath(".."))  # a clone without `make lab`: the package next to this folder',
     'sys.path.insert(0, os.path.abspath(os.path.join("..", "..")))  # a clone without `make lab`: the package two folders up'),
]
SOLUTION_TITLE = re.compile(r"^# Solutions to chapter (\d+): \S")


def solutions_setup_source():
    """tools/chapters.py's shared setup cell for a notebook in notebooks/solutions/."""
    text = chapters.setup_cell_source(SETTINGS)
    for old, new in SETUP_ONE_FOLDER_DEEPER:
        assert old in text, f"the shared setup cell no longer contains {old!r}: update SETUP_ONE_FOLDER_DEEPER"
        text = text.replace(old, new)
    return text


def chapter_of(path):
    """The chapter whose exercises the solutions notebook ``path`` solves."""
    match = SOLUTION_NAME.match(path.name)
    assert match, f"solutions/{path.name}: name it NN_<chapter>_solutions.ipynb after the chapter it solves"
    chapter = ROOT / "notebooks" / f"{match.group(1)}.ipynb"
    assert chapter in CHAPTERS, f"solutions/{path.name}: there is no chapter notebooks/{chapter.name}"
    return chapter


def normalised(text):
    return re.sub(r"\s+", " ", text).strip()


def chapter_exercises(chapter):
    """The numbered items of a chapter's Exercises section, as ``{number: text}``."""
    items, current = {}, None
    for cell in load(chapter)["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        inside = False
        for line in source(cell).splitlines():
            if line.startswith("#"):
                inside, current = bool(re.match(r"^#+\s+Exercises\b", line)), None
            elif inside and (match := re.match(r"^(\d+)\.\s+(.*)$", line)):
                current = int(match.group(1))
                items[current] = match.group(2)
            elif inside and current is not None and line[:1].isspace() and line.strip():
                items[current] += " " + line.strip()  # an indented continuation line of the item
            elif line.strip():
                current = None  # text after the list (e.g. a link to the solutions) is not part of an item
    return {number: normalised(text) for number, text in items.items()}


def test_there_are_solutions():
    assert SOLUTIONS, "notebooks/solutions/ holds no solutions notebook"


@pytest.mark.parametrize("path", SOLUTIONS, ids=notebook_id)
def test_solutions_title_badges_and_link_back_to_the_chapter(path):
    chapter = chapter_of(path)
    cells = load(path)["cells"]
    assert cells[0]["cell_type"] == "markdown", f"solutions/{path.name}: the first cell must be markdown"
    first_line = source(cells[0]).lstrip().split("\n", 1)[0]
    match = SOLUTION_TITLE.match(first_line)
    assert match, f"solutions/{path.name}: the first line must be '# Solutions to chapter N: title'"
    assert int(match.group(1)) == int(chapter.name[:2]), f"solutions/{path.name}: its title names chapter {match.group(1)}"
    # badges for its own path (notebooks/solutions/...) and the setup cell's install URL and release
    assert chapters.check_notebook(path, SETTINGS) == []
    assert chapters.check_references(path, SETTINGS) == []
    link = f"](../{chapter.name})"
    assert link in source(cells[0]), f"solutions/{path.name}: the first cell does not link back to ../{chapter.name}"
    assert cells[-1]["cell_type"] == "markdown" and link in source(cells[-1]), (
        f"solutions/{path.name}: the last cell does not link back to ../{chapter.name}")


@pytest.mark.parametrize("path", SOLUTIONS, ids=notebook_id)
def test_solutions_setup_cell_first(path):
    assert source(code_cells(load(path))[0]).strip() == solutions_setup_source().strip(), (
        f"solutions/{path.name}: the first code cell is not the shared setup cell (tools/chapters.py "
        "setup_cell_source, with the package of a clone two folders up: see SETUP_ONE_FOLDER_DEEPER)")


@pytest.mark.parametrize("path", SOLUTIONS, ids=notebook_id)
def test_every_exercise_of_the_chapter_is_restated_solved_and_read(path):
    exercises = chapter_exercises(chapter_of(path))
    assert exercises, f"{chapter_of(path).name} has no numbered exercises"
    cells = load(path)["cells"]
    starts = [index for index, cell in enumerate(cells) if cell["cell_type"] == "markdown"
              and re.match(r"^##\s+Exercise\s+\d+\b", source(cell).lstrip())]
    numbers = [int(re.match(r"^##\s+Exercise\s+(\d+)", source(cells[index]).lstrip()).group(1)) for index in starts]
    assert numbers == sorted(exercises), f"solutions/{path.name}: sections for exercises {numbers}, " \
                                         f"the chapter has {sorted(exercises)}"
    for number, start, end in zip(numbers, starts, starts[1:] + [len(cells) - 1]):  # the last cell links back
        restated = normalised(re.sub(r"(?m)^>\s?", "", source(cells[start])))
        assert exercises[number] in restated, (
            f"solutions/{path.name}, exercise {number}: does not quote the chapter's exercise (as a > quote)")
        section = cells[start + 1:end]
        assert any(cell["cell_type"] == "code" and cell.get("outputs") for cell in section), (
            f"solutions/{path.name}, exercise {number}: no code cell with outputs")
        assert section and section[-1]["cell_type"] == "markdown", (
            f"solutions/{path.name}, exercise {number}: end with a markdown cell that reads the result")
