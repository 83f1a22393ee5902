"""The command line: ``python -m infogan_utils train|evaluate|export`` (also installed as ``infogan``).

Bad arguments end with a one-line message and exit code 2, never a traceback. An error raised inside
TensorFlow or Keras is not an input error: it keeps its traceback.
"""

import argparse
import os
import pathlib
import sys

from .data import CHANNELS, IMAGE_SIZES
from .runs import TrainConfig

# A reader's own runs go here: git ignores it, so no command of theirs rewrites the project's committed runs.
DEFAULT_OUT = "my-runs/{dataset}-seed{seed}"
PACKAGE_DIR = pathlib.Path(__file__).resolve().parent


def build_parser():
    parser = argparse.ArgumentParser(prog="infogan", description="Train, evaluate and export InfoGAN runs on MNIST, "
                                     "Fashion-MNIST or a folder of your own images.")
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser("train", help="train (or resume) a run with the paper's defaults")
    defaults = TrainConfig()
    train.add_argument("--steps", type=int, default=defaults.steps, help="updates in total (default 5000)")
    train.add_argument("--batch-size", type=int, default=defaults.batch_size,
                       help=f"images per update (default {defaults.batch_size})")
    train.add_argument("--seed", type=int, default=defaults.seed,
                       help="seeds the weights, the batches and the latent draws (default %(default)s)")
    train.add_argument("--dataset", default=defaults.dataset, help="mnist or fashion-mnist (default %(default)s)")
    train.add_argument("--images", metavar="FOLDER", default="",
                       help="train on a folder of your own images instead (one subfolder per class, if you know the "
                            "classes, to measure the categories against; unreadable files are skipped and listed)")
    train.add_argument("--image-size", type=int, default=0, choices=(0, *IMAGE_SIZES), metavar="{28,32,64}",
                       help="with --images: the side the images are resized to, which picks the paper's network "
                            "for it (default: the largest that the typical image reaches)")
    train.add_argument("--channels", type=int, default=0, choices=(0, *CHANNELS), metavar="{1,3}",
                       help="with --images: 1 reads them in greyscale, 3 in RGB (default: RGB if any is in colour)")
    train.add_argument("--categories", type=int, default=defaults.categorical_dims[0],
                       help="size of the categorical code (default %(default)s)")
    train.add_argument("--out", default=None,
                       help="run folder (default my-runs/DATASET-seedSEED, which git ignores); the same folder "
                            "again resumes from its checkpoint")
    train.add_argument("--overwrite", action="store_true",
                       help="train into a folder that holds results but no checkpoint (such as a committed run), "
                            "replacing its results")
    train.add_argument("--categorical-weight", type=float, default=defaults.categorical_weight,
                       help="lambda of the categorical code's information term (default %(default)s)")
    train.add_argument("--continuous-weight", type=float, default=defaults.continuous_weight,
                       help="lambda of the continuous codes' information term (default %(default)s)")
    train.add_argument("--categorical-augmentation", type=float, default=defaults.categorical_augmentation,
                       help="strength of the random affine distortion of the images Q reads the categorical "
                            f"code from; 0 turns it off (default {defaults.categorical_augmentation})")
    train.add_argument("--invariant-codes", type=int, default=None,
                       help="how many continuous codes (c2 first) Q also reads from the distorted images, so that "
                            f"they cannot be carried by slant, size or position (default {defaults.invariant_codes}, "
                            "or 0 with --categorical-augmentation 0)")
    train.add_argument("--contrastive-weight", type=float, default=None,
                       help="weight of InfoGAN-CR's contrastive regulariser, which makes each continuous code change "
                            "something of its own (default 0.5, or 0 with --categorical-augmentation 0)")
    train.add_argument("--contrastive-start", type=int, default=defaults.contrastive_start,
                       help="the update from which G minimises the contrastive loss (default %(default)s)")
    train.add_argument("--d-learning-rate", type=float, default=defaults.d_learning_rate,
                       help="Adam's learning rate for D and the Q head (default %(default)s)")
    train.add_argument("--g-learning-rate", type=float, default=defaults.g_learning_rate,
                       help="Adam's learning rate for G (default %(default)s)")
    train.add_argument("--noise-scale", type=float, default=defaults.noise_scale,
                       help=f"the noise z is multiplied by this (default {defaults.noise_scale})")
    train.add_argument("--train-subset", type=int, default=0, help="train on the first N images only")
    train.add_argument("--steps-per-epoch", type=int, default=defaults.steps_per_epoch,
                       help="updates between image grids and checkpoints")
    train.add_argument("--devices", default="1", metavar="N|all",
                       help="train on N devices together (the GPUs, or logical CPU devices if configured), or all "
                            "of them; the batch is split between them (default 1: no tf.distribute strategy)")
    train.add_argument("--export", metavar="FILE", help="also export the weights as a pretrained model file")
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.add_argument("--exact", action="store_true",
                       help="float32 with XLA even on a CPU with bfloat16 instructions: slower there, but the same "
                            "seed gives bit-identical weights and a resumed run matches one that never stopped")

    evaluate = commands.add_parser("evaluate", help="recompute RUN_DIR/metrics.json from the saved weights")
    evaluate.add_argument("run_dir")
    evaluate.add_argument("--validation", action="store_true",
                          help="measure on the validation slice of the training set instead (validation.json); "
                               "reads no test label")

    export = commands.add_parser("export", help="export RUN_DIR's weights as a pretrained model file")
    export.add_argument("run_dir")
    export.add_argument("file", help="the .npz file to write, e.g. my-model.npz")
    return parser


def main(argv=None):
    parser = build_parser()
    arguments = parser.parse_args(argv)
    try:
        return _run(arguments)
    except ValueError as error:
        if not _raised_by_the_package(error):  # a bug or a library's complaint: the traceback says where
            raise
        parser.exit(2, f"infogan {arguments.command}: error: {error}\n")
    except OSError as error:  # a file or folder that cannot be read or written
        where = f": {error.filename}" if error.filename else ""
        parser.exit(2, f"infogan {arguments.command}: error: {error.strerror or error}{where}\n")
    except KeyboardInterrupt:
        parser.exit(130, "interrupted; the last checkpoint is intact, run the same command to resume\n")


def _raised_by_the_package(error):
    """True when ``error`` was raised by this package's own code: its input checks, one line by design."""
    trace = error.__traceback__
    while trace.tb_next is not None:
        trace = trace.tb_next
    return pathlib.Path(trace.tb_frame.f_code.co_filename).resolve().is_relative_to(PACKAGE_DIR)


def _import_tensorflow_quietly():
    """Import TensorFlow and Keras without their start-up lines on the terminal.

    TensorFlow's C++ libraries print a few lines while they load (oneDNN, CUDA drivers), before
    ``TF_CPP_MIN_LOG_LEVEL`` takes effect, so the standard error stream is pointed at ``/dev/null``
    for the import alone; the level then keeps the later C++ log lines out too.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
    except ImportError as error:  # only this import is reported as TensorFlow's problem
        raise ValueError(f"TensorFlow cannot be imported ({error})") from None
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _run(arguments):
    from .metrics import describe_code
    from .pretrained import export_pretrained
    from .runs import evaluate_run, evaluate_validation, read_config, train_run

    if arguments.command == "train":
        config = TrainConfig(
            dataset={"fashion-mnist": "fashion_mnist"}.get(arguments.dataset, arguments.dataset),
            images=arguments.images, image_size=arguments.image_size, channels=arguments.channels,
            categorical_dims=(arguments.categories,), steps=arguments.steps,
            batch_size=arguments.batch_size,
            seed=arguments.seed, categorical_weight=arguments.categorical_weight,
            continuous_weight=arguments.continuous_weight,
            categorical_augmentation=arguments.categorical_augmentation, invariant_codes=arguments.invariant_codes,
            contrastive_weight=arguments.contrastive_weight, contrastive_start=arguments.contrastive_start,
            d_learning_rate=arguments.d_learning_rate,
            g_learning_rate=arguments.g_learning_rate, noise_scale=arguments.noise_scale,
            train_subset=arguments.train_subset,
            steps_per_epoch=arguments.steps_per_epoch, devices=arguments.devices)
        name = pathlib.Path(config.images).expanduser().resolve().name if config.images else config.dataset
        out = arguments.out or DEFAULT_OUT.format(dataset=name.replace("_", "-"), seed=config.seed)
        if arguments.export and os.path.isdir(arguments.export):
            raise ValueError(f"--export {arguments.export} is a folder; name the .npz file to write")
        _import_tensorflow_quietly()  # after the arguments are checked: a mistake is reported at once
        # A live progress bar on a terminal, one line per epoch in a log file.
        verbose = 0 if arguments.quiet else (1 if sys.stdout.isatty() else 2)
        train_run(out, config, verbose=verbose, jit_compile=True if arguments.exact else "auto",
                  overwrite=arguments.overwrite)
        print(f"Wrote {out}/metrics.json")
        if arguments.export:
            print(f"Exported {export_pretrained(out, arguments.export)}")
    elif arguments.command == "evaluate":
        config = read_config(arguments.run_dir)
        _import_tensorflow_quietly()
        metrics = (evaluate_validation if arguments.validation else evaluate_run)(arguments.run_dir)
        where = ("the validation slice" if arguments.validation else "the test set") if not config.images \
            else metrics["split"]
        if metrics.get("hungarian_accuracy") is None:
            print(f"On {where}: categorical L_I {metrics['categorical_mi']:.3f} of "
                  f"{metrics['categorical_mi_max']:.3f}, category shares {metrics['category_shares']}")
        else:
            print(f"On {where}: Hungarian accuracy {metrics['hungarian_accuracy']:.4f}, "
                  f"majority {metrics['majority_accuracy']:.4f}, NMI {metrics['nmi']:.4f}")
        for code, correlations in metrics.get("continuous_codes", {}).items():
            print(f"{code} on generated digits: " + ", ".join(
                f"{name} rho {rho:+.2f}" for name, rho in correlations.items()) + f" ({describe_code(correlations)})")
        if "sample_quality" in metrics:
            quality = metrics["sample_quality"]
            print("Samples, judged by the project's MNIST classifier: "
                  f"Fréchet distance {quality['frechet_distance']:.2f} "
                  f"(real digits: {quality['reference_frechet_distance']:.2f}); the worst category, "
                  f"{quality['worst_category']}, is read as its digit {quality['worst_share']:.1%} of the time")
    elif arguments.command == "export":
        read_config(arguments.run_dir)  # a folder that is not a run is refused before TensorFlow loads
        if os.path.isdir(arguments.file):
            raise ValueError(f"{arguments.file} is a folder; name the .npz file to write")
        _import_tensorflow_quietly()
        print(f"Exported {export_pretrained(arguments.run_dir, arguments.file)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
