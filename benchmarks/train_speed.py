"""Training speed of the paper's MNIST architecture at batch 128, in images per second, against PyTorch.

Every variant trains on the same in-memory batches of 128 images for the same number of steps, after
untimed warm-up steps (which include compilation); the variants are measured in interleaved rounds,
so that a busy moment of the machine does not hit one of them only, and each round builds fresh
models. Each round gives two figures: the *whole-call* speed, the images of a call over the wall time
from the call to its return (what a user's clock sees, with any wait at the end of ``fit``), and the
*median-step* speed, the batch size over the median time of one step (time stamps after every step).
The headline is the ratio "package default / PyTorch reference" of the whole-call speeds, the median
of the rounds' ratios; the median-step ratio is reported beside it.

Variants (``--variants``, comma-separated; default, exact and torch are the default set):

  default       ``InfoGAN.fit`` as shipped: ``build_model(TrainConfig())``, which chooses for the machine
                (bfloat16 without XLA on a CPU with bfloat16 instructions, float32 with XLA on another)
  exact         ``build_model(TrainConfig(), jit_compile=True)``: float32 with XLA on any CPU, the
                bit-for-bit repeatable mode (``infogan train --exact``; the default before bfloat16)
  no-xla        float32 without XLA
  torch         the PyTorch reference of ``benchmarks/torch_reference.py``: the same networks and the
                usual two-update step; skipped, with a message, when torch is not installed
  paper         ``InfoGAN.fit`` with the paper's objective (``categorical_augmentation=0``): what the
                third D pass, on the distorted images, costs
  half          the default with ``augmentation_fraction=0.5``: Q reads only half of the generated
                images distorted, so the third pass of D runs on 64 images
  bf16          the default with Keras' ``mixed_bfloat16`` policy (no loss scaling needed)
  bf16-no-xla   the same without XLA (oneDNN's bfloat16 kernels instead of XLA's)
  speN          the default with ``steps_per_execution=N`` (e.g. ``spe4``): N steps per call from Python

Usage::

    python benchmarks/train_speed.py                                  # the default set, 3 rounds
    python benchmarks/train_speed.py --write benchmarks/SPEED.md      # also write the report
    python benchmarks/train_speed.py --variants default,torch,bf16,bf16-no-xla,spe8,paper

The PyTorch reference needs ``pip install -e .[bench]`` (the CPU build of torch 2.13.0).
"""

import argparse
import importlib.util
import os
import pathlib
import re
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # a checkout without `pip install -e .`

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.common import StepStamps, machine, usable_cores  # noqa: E402
from infogan_utils.runs import TrainConfig, build_model, resolve_compute  # noqa: E402
from infogan_utils.training import InfoGAN, make_optimizers  # noqa: E402

BATCH = 128
WARMUP_STEPS = 5
DEFAULT_VARIANTS = ("default", "exact", "torch")
DESCRIPTIONS = {
    "default": "infogan_utils InfoGAN.fit, as shipped",
    "exact": "infogan_utils InfoGAN.fit, exact mode (float32, XLA)",
    "no-xla": "infogan_utils InfoGAN.fit, float32, no XLA",
    "torch": "PyTorch reference (D then G, paper's objective, learned variance)",
    "paper": "infogan_utils InfoGAN.fit, paper's objective (no distorted pass), XLA",
    "half": "infogan_utils InfoGAN.fit, distorted pass on half the batch (augmentation_fraction=0.5), XLA",
    "bf16": "infogan_utils InfoGAN.fit, mixed_bfloat16, XLA",
    "bf16-no-xla": "infogan_utils InfoGAN.fit, mixed_bfloat16, no XLA",
    "contrastive": "infogan_utils InfoGAN.fit, InfoGAN-CR's regulariser (contrastive_weight=0.5), machine's mode",
    "contrastive-exact": "infogan_utils InfoGAN.fit, InfoGAN-CR's regulariser (contrastive_weight=0.5), exact mode",
}
INSTALL_HINT = "pip install -e .[bench]"


def parse_variants(text):
    """The variant names in ``text`` (comma-separated); raises ValueError for an unknown one."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise ValueError("--variants names no variant")
    for name in names:
        if name not in DESCRIPTIONS and not re.fullmatch(r"spe[1-9][0-9]*", name):
            raise ValueError(f"unknown variant {name!r}; choose from {', '.join(DESCRIPTIONS)} or speN "
                             "(steps_per_execution=N, e.g. spe4)")
    if len(set(names)) != len(names):
        raise ValueError(f"--variants names a variant twice: {text}")
    return names


def describe(name):
    if name == "default":
        jit_compile, precision = resolve_compute()
        chosen = (f"{'bfloat16' if precision == 'bfloat16' else 'float16' if precision else 'float32'}, "
                  f"{'XLA' if jit_compile else 'no XLA'}")
        return f"{DESCRIPTIONS[name]} (chosen for this machine: {chosen})"
    if name.startswith("spe"):
        return f"infogan_utils InfoGAN.fit, steps_per_execution={name[3:]}, XLA"
    return DESCRIPTIONS[name]


def build_variant(name):
    """The compiled model of a Keras variant, and its ``steps_per_execution``."""
    if name == "default":
        return build_model(TrainConfig()), 1
    if name == "exact":
        return build_model(TrainConfig(), jit_compile=True), 1
    if name == "no-xla":
        return build_model(TrainConfig(), jit_compile=False, mixed_precision=False), 1
    if name == "paper":
        return build_model(TrainConfig(categorical_augmentation=0.0), jit_compile=True), 1
    if name == "half":
        exact = build_model(TrainConfig(), jit_compile=True)
        model = InfoGAN(exact.generator, exact.discriminator, exact.spec, augmentation_fraction=0.5)
        model.compile(*make_optimizers(), jit_compile=True)
        return model, 1
    if name in ("contrastive", "contrastive-exact"):
        # H trains from the first step; contrastive_start only switches G's term on, so every step costs the same.
        config = TrainConfig(contrastive_weight=0.5, contrastive_start=2500)
        return build_model(config, jit_compile=True if name == "contrastive-exact" else "auto"), 1
    if name in ("bf16", "bf16-no-xla"):
        return build_model(TrainConfig(), jit_compile=name == "bf16", mixed_precision="bfloat16"), 1
    steps_per_execution = int(name[3:])
    return build_model(TrainConfig(), jit_compile=True, steps_per_execution=steps_per_execution), steps_per_execution


def batches(images):
    return tf.data.Dataset.from_tensor_slices(images).repeat().batch(BATCH, drop_remainder=True).prefetch(2)


def whole_executions(steps, steps_per_execution):
    """``steps`` rounded up to a multiple of ``steps_per_execution``."""
    return -(-steps // steps_per_execution) * steps_per_execution


def images_per_second(stamps, images_per_interval):
    """Images per second from the ``time.perf_counter()`` stamps taken after each step (or execution).

    The median interval: what one step costs, whatever happens between steps or after the last one (the
    whole-call figure of :func:`call_speeds` sees that).
    """
    intervals = np.diff(np.asarray(stamps))
    if len(intervals) == 0 or np.median(intervals) <= 0:
        raise ValueError("need at least two increasing time stamps")
    return images_per_interval / float(np.median(intervals))


def call_speeds(stamps, started, returned, images_per_interval, images):
    """The figures of one timed call: median-step and whole-call images/s, and the wait after the last step."""
    return {"step": images_per_second([started, *stamps], images_per_interval),
            "whole": images / (returned - started), "tail": returned - stamps[-1]}


def time_fit(name, steps, images):
    """The speeds of ``model.fit`` for a Keras variant (:func:`call_speeds`), warm-up (and compilation) excluded."""
    import keras

    model, steps_per_execution = build_variant(name)
    warmup, steps = whole_executions(WARMUP_STEPS, steps_per_execution), whole_executions(steps, steps_per_execution)
    dataset = batches(images)
    model.fit(dataset, epochs=1, steps_per_epoch=warmup, verbose=0, shuffle=False)
    stamps = StepStamps()
    started = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False, callbacks=[stamps])
    returned = time.perf_counter()
    if model.steps != warmup + steps:
        raise RuntimeError(f"variant {name} took {model.steps} training steps, expected {warmup + steps}")
    del model
    keras.backend.clear_session()
    return call_speeds(stamps.stamps, started, returned, BATCH * steps_per_execution, BATCH * steps)


def load_torch():
    """``(torch, torch_reference)``, or ``(None, None)`` when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None, None
    torch.set_num_threads(usable_cores())
    return torch, load_module(HERE / "torch_reference.py")


def load_module(path):
    """Import a file as a module by its path (the benchmarks folder is not a package)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_torch(steps, images):
    """Images per second of the PyTorch reference, warm-up excluded, on the same batches."""
    torch, torch_reference = load_torch()
    model = torch_reference.TorchInfoGAN(seed=0)
    data = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()  # NHWC -> NCHW
    count = len(data) // BATCH

    def batch(index):
        start = (index % count) * BATCH
        return data[start:start + BATCH]

    for index in range(WARMUP_STEPS):
        model.step(batch(index))
    started, stamps = time.perf_counter(), []
    for index in range(steps):
        model.step(batch(WARMUP_STEPS + index))
        stamps.append(time.perf_counter())
    return call_speeds(stamps, started, time.perf_counter(), BATCH, BATCH * steps)


def parameter_counts(torch_reference):
    """Lines comparing the trainable parameters of the package's model and of the reference."""
    model = build_model(TrainConfig())

    def trainable(network):
        return sum(int(np.prod(weight.shape)) for weight in network.trainable_weights)

    lines = [f"Trainable parameters: package generator {trainable(model.generator):,}, discriminator with Q head "
             f"{trainable(model.discriminator):,}"]
    if torch_reference is None:
        return [lines[0] + "."]
    reference = torch_reference.TorchInfoGAN()
    reference.check_architecture(model.generator, model.discriminator)  # a drifted reference stops the benchmark
    generator, discriminator = reference.parameter_count()
    extra = discriminator - trainable(model.discriminator)
    lines[0] += (f"; PyTorch reference {generator:,} and {discriminator:,} ({extra:+,}: the reference's Q head "
                 "also predicts a log-variance for the two continuous codes, Linear(128, 2); the package's "
                 "default fixes the variance at 1). Batch-norm running statistics are not counted in either.")
    return lines


def report(speeds, arguments, machine_line, count_lines, skipped_torch):
    """The Markdown report: the table, the ratios to the reference and the command. ``speeds`` maps a variant
    to its rounds' :func:`call_speeds`."""
    lines = [f"Training speed, batch {BATCH}, {arguments.steps} timed steps a call after {WARMUP_STEPS} warm-up "
             f"steps, {arguments.repeats} interleaved rounds, on {machine_line}.", "",
             "| variant | whole call, images/s: median | min | max | median step, images/s | longest wait after "
             "the last step (s) |", "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, rounds in speeds.items():
        whole = [r["whole"] for r in rounds]
        lines.append(f"| {describe(name)} | {np.median(whole):.0f} | {min(whole):.0f} | {max(whole):.0f} | "
                     f"{np.median([r['step'] for r in rounds]):.0f} | {max(r['tail'] for r in rounds):.2f} |")
    lines += ["", *count_lines, ""]

    def ratios(name, figure):
        return np.array([r[figure] for r in speeds[name]]) / np.array([r[figure] for r in speeds["torch"]])

    if "default" in speeds and "torch" in speeds:
        whole, step = ratios("default", "whole"), ratios("default", "step")
        lines.append(f"**Package default / PyTorch reference, whole calls: {np.median(whole):.2f}x** (median of the "
                     f"rounds' ratios {', '.join(f'{r:.2f}' for r in whole)}; goal: at least 1.5x). "
                     f"By median steps: {np.median(step):.2f}x.")
        if "exact" in speeds:
            exact, exact_step = ratios("exact", "whole"), ratios("exact", "step")
            lines += ["", f"Exact mode / PyTorch reference, whole calls: {np.median(exact):.2f}x (rounds "
                          f"{', '.join(f'{r:.2f}' for r in exact)}); by median steps: {np.median(exact_step):.2f}x."]
    elif skipped_torch:
        lines.append(f"The PyTorch reference was skipped: torch is not installed (`{INSTALL_HINT}` installs it).")
    command = f"python benchmarks/train_speed.py --steps {arguments.steps} --repeats {arguments.repeats}"
    if arguments.variants != ",".join(DEFAULT_VARIANTS):
        command += f" --variants {arguments.variants}"
    lines += ["", f"Command: `{command}`"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150, help="timed steps per variant and round")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds")
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                        help=f"comma-separated, from: {', '.join(DESCRIPTIONS)}, speN (default: %(default)s)")
    parser.add_argument("--write", help="also write the report to this Markdown file")
    arguments = parser.parse_args(argv)
    if arguments.steps <= 0:
        parser.error("--steps must be positive")
    if arguments.repeats <= 0:
        parser.error("--repeats must be positive")
    try:
        names = parse_variants(arguments.variants)
    except ValueError as error:
        parser.error(str(error))
    torch, torch_reference = load_torch()
    skipped_torch = "torch" in names and torch is None
    if skipped_torch:
        print(f"PyTorch reference skipped: torch is not installed ({INSTALL_HINT} installs it).")
        names.remove("torch")
        if not names:
            return 0
    images = np.random.default_rng(0).uniform(0, 1, (BATCH * 8, 28, 28, 1)).astype("float32")
    measures = {name: (lambda name=name: time_fit(name, arguments.steps, images)) for name in names}
    if "torch" in measures:
        measures["torch"] = lambda: time_torch(arguments.steps, images)
    speeds = {name: [] for name in names}
    for round_number in range(arguments.repeats):
        for name, measure in measures.items():
            speeds[name].append(measure())
            figures = speeds[name][-1]
            print(f"round {round_number + 1}: {describe(name)}: {figures['whole']:.0f} images/s whole call, "
                  f"{figures['step']:.0f} by the median step, {figures['tail']:.2f} s after the last step", flush=True)
    text = report(speeds, arguments, machine(torch.__version__ if torch else None, with_torch=True),
                  parameter_counts(torch_reference), skipped_torch)
    print(text)
    if arguments.write:
        pathlib.Path(arguments.write).write_text(text)
        print(f"Wrote {arguments.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
