"""Find the numbers a notebook's prose states that nothing in the notebook or the package's results backs.

A number in a markdown cell (LaTeX included) with three or more significant digits or decimals ("0.591",
"13.3 minutes", "98.0 %", "0.025") is a claim about a measurement. It is backed when one of these shows it,
rounded to the digits the prose gives:

- a number printed in the notebook's outputs or written in its code, or in those of its companion (a chapter's
  worked solutions, a solutions notebook's chapter);
- a number in the results the package ships (``infogan_utils/results/**/*.json``), in a notebook that reads them;
- a chapter's running time in notebooks/README.md's table;
- a percentage whose fraction appears in either (``98.0 %`` backed by ``0.9803``).

Whatever else the prose may quote (a constant such as 2 ln 2, another paper's figures) goes on an allow-list
beside the test, with a comment that says why. ``python tools/prose_numbers.py`` lists what is not backed.
"""

import functools
import json
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
# A number: digits with an optional thousands separator and decimals, not part of a word, a version or a path.
NUMBER = re.compile(r"(?<![\w.\-/])(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)(?![\w/]|\.\d)")
PERCENT = re.compile(r"\s?%")
# Markdown that is not a claim: link targets, inline code (a call's arguments) and HTML attributes.
# Dates (2026-12-02), arXiv identifiers (1606.03657) and versions (TensorFlow 2.19) are names, not measurements.
NOT_PROSE = re.compile(r"\]\([^)]*\)|`[^`]*`|<[^>]*>|\b\d{4}-\d\d-\d\d\b|"
                       r"\b\d{4}\.\d{4,5}\b|"
                       r"\b(?:TensorFlow|Keras|Python|NumPy|SciPy|ipywidgets|matplotlib|nbval)\s+\d+(?:\.\d+)+", re.S)
# A year (2016, as in "Chen et al., 2016") is a date, not a measurement.
YEAR = re.compile(r"^(19[5-9]\d|20[0-3]\d)$")


def significant_digits(text):
    digits = text.replace(",", "").replace(".", "").lstrip("0")
    return len(digits)


def is_precise(text):
    """Three or more significant digits (0.591, 13.3, 750) or three decimals (0.025): a measured value."""
    decimals = len(text.split(".")[1]) if "." in text else 0
    return significant_digits(text) >= 3 or decimals >= 3


def cell_text(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def output_text(cell):
    parts = []
    for output in cell.get("outputs", []):
        text = output.get("text", "")
        parts.append("".join(text) if isinstance(text, list) else text)
        for kind, value in output.get("data", {}).items():
            if kind in ("text/plain", "text/html", "text/markdown", "text/latex"):
                parts.append("".join(value) if isinstance(value, list) else value)
    return "\n".join(parts)


def numbers_in(text):
    """Every number written in ``text`` (code, outputs, JSON), as floats."""
    found = set()
    for match in re.finditer(r"-?\d[\d,_]*(?:\.\d+)?(?:[eE][-+]?\d+)?", text):
        token = match.group(0).replace(",", "").replace("_", "").lstrip("-")
        try:
            found.add(float(token))
        except ValueError:
            continue
    return found


@functools.lru_cache(maxsize=None)
def shipped_numbers():
    """The numbers in the results the package ships (the chapters read them through ``infogan_utils.results``)."""
    found = set()
    for path in (ROOT / "infogan_utils" / "results").rglob("*.json"):
        found |= numbers_in(path.read_text(encoding="utf-8"))
    return frozenset(found)


def backed(claim, percent, evidence):
    """Whether a number in ``evidence`` rounds to ``claim`` (a string as the prose writes it)."""
    decimals = len(claim.split(".")[1]) if "." in claim else 0
    value = float(claim.replace(",", ""))
    tolerance = 0.5 * 10 ** -decimals + 1e-9
    for number in evidence:
        if abs(number - value) <= tolerance:
            return True
        if percent and abs(100 * number - value) <= tolerance:
            return True
    return False


def prose_claims(notebook):
    """(cell index, number as written, followed by a percent sign) for every precise number (:func:`is_precise`)."""
    claims = []
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        text = NOT_PROSE.sub(" ", cell_text(cell))
        for match in NUMBER.finditer(text):
            if is_precise(match.group(1)) and not YEAR.match(match.group(1)):
                percent = bool(PERCENT.match(text, match.end()))
                claims.append((index, match.group(1), percent))
    return claims


def read_notebook(path):
    return json.loads(pathlib.Path(path).read_text(encoding="utf-8"))


def notebook_numbers(notebook):
    """The numbers in a notebook's code cells and their outputs."""
    found = set()
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            found |= numbers_in(cell_text(cell)) | numbers_in(output_text(cell))
    return found


def reads_shipped_results(notebook):
    """Whether the notebook's code reads the shipped results (``results.summary()``, ``results.trained_run``)."""
    return any("results." in cell_text(cell) for cell in notebook["cells"] if cell["cell_type"] == "code")


def companion(path):
    """A chapter's worked solutions, or a solutions notebook's chapter: each quotes the other's outputs."""
    path = pathlib.Path(path)
    if path.parent.name == "solutions":
        return path.parent.parent / path.name.replace("_solutions", "")
    return path.parent / "solutions" / path.name.replace(".ipynb", "_solutions.ipynb")


def evidence_for(path, notebook):
    """Everything that may back the prose of ``notebook`` (read from ``path``): its own code and outputs, its
    companion's (chapter or solutions), the shipped results if its code reads them, and the running times of
    notebooks/README.md (which a hygiene test compares with each chapter's first cell)."""
    evidence = notebook_numbers(notebook)
    if reads_shipped_results(notebook):
        evidence |= shipped_numbers()
    if companion(path).is_file():
        evidence |= notebook_numbers(read_notebook(companion(path)))
    readme = ROOT / "notebooks" / "README.md"
    return evidence | numbers_in(readme.read_text(encoding="utf-8"))


def unbacked_numbers(path):
    """The prose's numbers in notebook ``path`` that nothing of :func:`evidence_for` backs: (cell, number)."""
    notebook = read_notebook(path)
    evidence = evidence_for(path, notebook)
    return [(index, claim) for index, claim, percent in prose_claims(notebook)
            if not backed(claim, percent, evidence)]


def main():
    paths = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))
    for path in paths:
        missing = unbacked_numbers(path)
        if missing:
            print(path.relative_to(ROOT), missing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
