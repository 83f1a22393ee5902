"""The shapes run that chapter 7 shows after its own short one: a folder of pictures trained long enough to draw.

Writes the chapter's shapes folder (``data.write_shapes_folder``, 1,000 pictures of each shape, 64×64 RGB, the same
files the chapter writes) into ``build/shapes-64``, trains on it at 28×28 in greyscale with 3 categories, and adds
``traversals_labelled.png`` (rows: the categories, labelled with the shape each was matched to; columns: one code from
-2 to 2) to the run folder. ``tools/ship_results.py`` then ships the run's small files with the package.

Usage: ``python benchmarks/shapes_run.py`` (resumes the run if it was stopped). The same run from a terminal, after the
chapter has written its folder: ``infogan train --images my-runs/shapes-64 --categories 3 --image-size 28 --channels 1
--steps 3000 --batch-size 64 --contrastive-weight 0 --out my-runs/shapes-28``. The run was trained before InfoGAN-CR's
regulariser became the default (2026-12-05), so both leave it out.
"""

import argparse
import os
import pathlib
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from infogan_utils import plotting  # noqa: E402
from infogan_utils.data import SHAPES, write_shapes_folder  # noqa: E402
from infogan_utils.runs import TrainConfig, train_run  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=pathlib.Path, default=None, help="default: runs/shapes-seed{SEED}")
    arguments = parser.parse_args(argv)
    os.chdir(ROOT)  # the configuration records the folder as build/shapes-64, relative to the checkout
    folder = pathlib.Path("build") / "shapes-64"
    if not folder.is_dir():
        write_shapes_folder(folder, per_class=1000)
    config = TrainConfig(images=str(folder), categorical_dims=(len(SHAPES),), image_size=28, channels=1,
                         steps=arguments.steps, batch_size=64, steps_per_epoch=100, seed=arguments.seed,
                         contrastive_weight=0.0)
    run_dir = arguments.out or pathlib.Path("runs") / f"shapes-seed{arguments.seed}"
    model, metrics = train_run(run_dir, config, verbose=2)
    rows = [f"{category}: {metrics['class_names'][shape]}" for category, shape in enumerate(metrics["cluster_to_label"])]
    fig, axes = plt.subplots(1, 2, figsize=(14, 3.4))
    for index, ax in enumerate(axes):
        plotting.plot_traversal(model, index, ax=ax, row_labels=rows, title=f"c{index + 2} from -2 to 2")
        ax.set_xlabel(f"value of c{index + 2} (the noise and the other code fixed)")
        ax.set_ylabel("category: matched shape")
    plt.tight_layout()
    fig.savefig(run_dir / "traversals_labelled.png", dpi=120)
    print(f"Hungarian accuracy {metrics['hungarian_accuracy']:.3f}, NMI {metrics['nmi']:.3f}; wrote "
          f"{run_dir / 'traversals_labelled.png'}")


if __name__ == "__main__":
    main()
