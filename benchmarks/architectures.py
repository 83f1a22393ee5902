"""Training speed of the paper's three networks (28, 32 and 64 pixels) in each CPU compute mode, written to
ARCHITECTURES.md.

    python benchmarks/architectures.py --output benchmarks/ARCHITECTURES.md

Each network trains on random images of its size (speed does not depend on the pixels) with the package's
default objective, batch 32, in float32 with XLA (the exact mode) and, on a CPU with bfloat16 instructions, also
in bfloat16 without XLA (oneDNN's bfloat16 kernels; without the instructions bfloat16 is emulated, which says
nothing about the machines that would choose it). The median of the timed steps is reported, after warm-up steps
that include tracing and compiling. Run it with nothing else on the machine.
"""

import argparse
import os
import pathlib
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

from benchmarks.common import StepStamps, machine  # noqa: E402
from infogan_utils.data import IMAGE_SIZES  # noqa: E402
from infogan_utils.runs import TrainConfig, build_model  # noqa: E402
from infogan_utils.training import cpu_has_bfloat16  # noqa: E402

MODES = {"float32, XLA": (True, False), "bfloat16, no XLA": (False, "bfloat16")}
FORMATS = ((28, 1), (32, 3), (64, 3))
BATCH = 32


def multiply_adds(model):
    """Multiply-adds of one image's forward pass through ``model``'s dense and convolution layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.Dense):
            total += int(np.prod(layer.kernel.shape))
        elif isinstance(layer, layers.Conv2DTranspose):  # every input pixel meets the whole kernel
            total += int(np.prod(layer.input.shape[1:3])) * int(np.prod(layer.kernel.shape))
        elif isinstance(layer, layers.Conv2D):  # every output pixel does
            total += int(np.prod(layer.output.shape[1:3])) * int(np.prod(layer.kernel.shape))
    return total


def time_steps(size, channels, jit_compile, precision, warmup, steps):
    config = TrainConfig(images="benchmark", image_size=size, channels=channels, batch_size=BATCH)
    model = build_model(config, jit_compile=jit_compile, mixed_precision=precision)
    images = tf.data.Dataset.from_tensors(tf.random.uniform((BATCH, size, size, channels), seed=1)).repeat()
    model.fit(images, steps_per_epoch=warmup, epochs=1, verbose=0)
    stamps = StepStamps()
    started = time.perf_counter()
    model.fit(images, steps_per_epoch=steps, epochs=1, verbose=0, callbacks=[stamps])
    times = np.diff([started, *stamps.stamps])
    return model, statistics.median(times)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--output", default=None, help="write the table there (Markdown)")
    arguments = parser.parse_args()
    rows, mnist_adds = [], None
    modes = {name: mode for name, mode in MODES.items() if mode[1] != "bfloat16" or cpu_has_bfloat16()}
    for size, channels in FORMATS:
        timings = {}
        for name, (jit_compile, precision) in modes.items():
            model, seconds = time_steps(size, channels, jit_compile, precision, arguments.warmup, arguments.steps)
            timings[name] = seconds
            print(f"{size}x{size}x{channels} {name}: {seconds:.3f} s a step, {BATCH / seconds:.0f} images/s", flush=True)
        adds = multiply_adds(model.generator) + multiply_adds(model.discriminator)
        mnist_adds = mnist_adds or adds
        rows.append((size, channels, adds, timings))
    lines = [
        "# Training speed of the three networks", "",
        f"Produced by `python benchmarks/architectures.py --warmup {arguments.warmup} --steps {arguments.steps}`; "
        f"machine: {machine()}. Batch {BATCH}, the default objective, random images; the median of "
        f"{arguments.steps} steps after {arguments.warmup} warm-up steps.", "",
        "| images | network | multiply-adds per image (D + G) | " + " | ".join(f"{name}: s/step (images/s)"
                                                                     for name in modes) + " |",
        "| --- | --- | ---: | " + " | ".join("---:" for _ in modes) + " |",
    ]
    for size, channels, adds, timings in rows:
        lines.append(f"| {size}×{size}×{channels} | {IMAGE_SIZES[size]} | {adds / 1e6:.0f} M "
                     f"({adds / mnist_adds:.1f}× MNIST's) | "
                     + " | ".join(f"{timings[name]:.3f} ({BATCH / timings[name]:.0f})" for name in modes) + " |")
    if len(modes) < len(MODES):
        lines += ["", "This CPU has no bfloat16 instructions, so bfloat16 was not timed (it would be emulated here)."]
    text = "\n".join(lines) + "\n"
    print(text)
    if arguments.output:
        pathlib.Path(arguments.output).write_text(text)


if __name__ == "__main__":
    main()
