"""What a notebook's prose says it measured, its outputs show (tools/prose_numbers.py).

Every number with three or more significant digits or decimals in a markdown cell must be printed by the
notebook (or its companion: a chapter's worked solutions, a solutions notebook's chapter), be in the results the
package ships, or be a chapter's running time in notebooks/README.md. The few that cannot be are listed below,
each with the reason. A number that a re-run changed, or that was typed from another run, fails here.
"""

import json
import pathlib
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import prose_numbers  # noqa: E402

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb")) + sorted((ROOT / "notebooks" / "solutions").glob("*.ipynb"))

# notebook -> {number as the prose writes it: why no output shows it}
ALLOWED = {
    "01_gan_basics.ipynb": {"1024": "a layer's width in the paper's Table 1 (a setting)",
                            "1.39": "2 ln 2, a constant"},
    "04_train_infogan.ipynb": {"1.39": "2 ln 2, a constant"},
    "04a_appendix_settings.ipynb": {
        "1.53": "the regulariser's cost per step in mixed bfloat16, benchmarks/train_speed.py (the development log)",
        "1.59": "the same in the exact mode; a benchmark's figure, not a result the package ships",
    },
    "06_q_as_classifier.ipynb": {"0.9097": "ClusterGAN's README (another project), quoted with its source",
                                 "0.0398": "ClusterGAN's README (another project), quoted with its source"},
    "solutions/01_gan_basics_solutions.ipynb": {"4.55": "sqrt(62 / 3), a constant"},
    "solutions/02_latent_codes_solutions.ipynb": {"1.41": "sqrt 2, a constant"},
    "solutions/00_index_solutions.ipynb": {
        "13.2": "twice the 6.6 million parameters printed per network",
        "60,000": "the size of MNIST's training set, a fact about the data",
        "243": "the sum of the eight chapters' clock times in the table printed above",
        "146": "the sum of their CPU times in the same table",
        "7,000": "chapter 1's sweep: 62 noise dimensions x 64 vectors x 2 values, rounded",
        "7,936": "the same sweep's exact image count, 62 x 64 x 2",
    },
    "solutions/03_q_network_solutions.ipynb": {
        "784": "the pixels of a 28 x 28 image",
        "4.605": "2 ln 10, the bound's gain for two codes per tenfold smaller sigma",
        "250": "a step number (chapter 4's first grid)",
        "1,025": "the D head's parameters, 1,024 weights and a bias",
    },
    "solutions/04_train_infogan_solutions.ipynb": {
        "317": "read off the confusion matrix drawn above (a figure, not printed text)",
        "224": "read off the same confusion matrix",
        "115": "read off the same confusion matrix",
        "104": "read off the same confusion matrix",
    },
    "solutions/07_beyond_mnist_solutions.ipynb": {
        "400": "a number of training steps (a setting), not a measurement",
        "300": "a number of training steps (a setting), not a measurement",
        "101": "the first step of the second 100-step epoch (a step number)",
        **{count: "read off the seeds' confusion matrices drawn above (figures)" for count in
           ("210", "263", "248", "401", "430", "477", "855", "663", "690", "752", "843")},
    },
}


def notebook_id(path):
    return path.relative_to(ROOT / "notebooks").as_posix()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=notebook_id)
def test_every_number_the_prose_states_is_shown_by_an_output(path):
    allowed = ALLOWED.get(notebook_id(path), {})
    missing = [(cell, number) for cell, number in prose_numbers.unbacked_numbers(path) if number not in allowed]
    assert not missing, (f"{notebook_id(path)}: numbers in the prose that no output shows (cell, number): {missing}; "
                         "print them, correct them, or list them in ALLOWED with the reason")


def test_every_allowed_number_is_still_in_its_notebook():
    for name, numbers in ALLOWED.items():
        claims = {claim for _, claim, _ in prose_numbers.prose_claims(
            prose_numbers.read_notebook(ROOT / "notebooks" / name))}
        assert set(numbers) <= claims, f"{name}: allowed but no longer in the prose: {set(numbers) - claims}"


def write_notebook(folder, cells):
    path = folder / "notebook.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_the_check_catches_a_number_that_no_output_shows_and_accepts_rounding(tmp_path):
    output = {"output_type": "stream", "name": "stdout", "text": ["accuracy 0.97503, loss 0.0264\n"]}
    path = write_notebook(tmp_path, [
        {"cell_type": "code", "source": ["print(...)"], "outputs": [output], "metadata": {}, "execution_count": 1},
        {"cell_type": "markdown", "metadata": {}, "source": [
            "Accuracy 0.975 (97.5 %), a loss of 0.026, against 0.591 elsewhere and 0.025 typed by hand; "
            "Chen et al., 2016, arXiv 1606.03657, TensorFlow 2.19, measured 2026-12-02, [a link](file_1.234.md)."]},
    ])
    assert prose_numbers.unbacked_numbers(path) == [(1, "0.591"), (1, "0.025")]
