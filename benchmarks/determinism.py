"""Is training bit-for-bit repeatable, and what does each way of making it so cost in speed?

For each variant, a fresh process builds the default configuration (the distorted pass included)
twice from the same seed, trains each copy for ``--steps`` updates of 128 real MNIST digits, and
reports whether the two copies' weights are bit-identical and the images per second of the second
copy (the first one pays for compilation), from the median time of one step. Variants:

* ``xla``: float32 with ``jit_compile=True``, the exact mode (``infogan train --exact``; the package's default
  on a CPU without bfloat16 instructions);
* ``bfloat16, no-xla``: the package's default on a CPU with bfloat16 instructions;
* ``no-xla``: float32 with ``jit_compile=False``;
* ``no-xla + op determinism``: ``jit_compile=False`` after ``tf.config.experimental.enable_op_determinism()``;
* ``xla + op determinism``: asks for XLA after enabling op determinism (Keras then compiles without XLA).

Usage: ``python benchmarks/determinism.py [--steps 60] [--repeats 2] [--write benchmarks/DETERMINISM.md]``
"""

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import machine, run_child  # noqa: E402
VARIANTS = {
    "xla, float32 (the exact mode)": {"jit": True, "op_determinism": False},
    "bfloat16, no-xla (the default on a CPU with bfloat16 instructions)":
        {"jit": False, "op_determinism": False, "precision": "bfloat16"},
    "no-xla": {"jit": False, "op_determinism": False},
    "no-xla + op determinism": {"jit": False, "op_determinism": True},
    "xla + op determinism": {"jit": True, "op_determinism": True},
}

NOTES = """What this shows, and why the exact mode is float32 with XLA:

- The float32 training step compiled with XLA repeats bit for bit, run after run and process after process. It is the package's default on a CPU without bfloat16 instructions and, everywhere, the exact mode (`jit_compile=True`, `infogan train --exact`). Exact resumption (`tests/test_training.py::test_a_resumed_run_is_bit_identical_to_a_straight_one`) rests on it.
- On a CPU with bfloat16 instructions the default trains in bfloat16 without XLA, the fastest mode there (`SPEED.md`); like every step without XLA, it repeats only to rounding. The validation runs of `benchmarks/README.md` show that it learns as well.
- Without XLA, the default objective does not repeat exactly, even single-threaded (`tf.config.threading` at 1 and 1 was tried) and without oneDNN (`TF_ENABLE_ONEDNN_OPTS=0`). Two models built the same way in one process already differ after a few steps, so each trace of the step can round differently. It happens only when D runs three times in a step (real, generated and distorted images); the paper's objective, with two passes, repeats exactly with or without XLA. The exact source was not pinned down. Computing D's gradient separately for each pass, so that no gradient is summed across the three passes, did not remove it. With Grappler's meta-optimiser off it became rarer but did not vanish.
- `tf.config.experimental.enable_op_determinism()` does not remove that variation, and Keras 3 silently compiles without XLA when it is on (`keras.src.trainers.trainer.model_supports_jit`), so asking for both gives the slower, non-repeatable variant. The package therefore does not turn it on.
- Another CPU may round differently: repeatability is per machine, and learning tests keep margins (`LEARNING_CHECKS.md`).
"""

CHILD = r"""
import hashlib, json, sys, time
sys.path.insert(0, sys.argv[1])
import keras, numpy as np, tensorflow as tf
settings, steps = json.loads(sys.argv[2]), int(sys.argv[3])
if settings["op_determinism"]:
    tf.config.experimental.enable_op_determinism()
from benchmarks.common import StepStamps
from infogan_utils.data import load_mnist, make_dataset
from infogan_utils.runs import TrainConfig, build_model
(x_train, _), _ = load_mnist()
digests, speed = [], None
for copy in range(2):
    model = build_model(TrainConfig(seed=0), jit_compile=settings["jit"],
                        mixed_precision=settings.get("precision", False))
    dataset = make_dataset(x_train[:12800], 128, seed=0)
    model.fit(dataset, epochs=1, steps_per_epoch=5, verbose=0, shuffle=False)  # compile and warm up
    stamper = StepStamps()  # the median step: what one step costs, whatever happens around the steps
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False, callbacks=[stamper])
    speed = 128 / float(np.median(np.diff(stamper.stamps)))
    weights = model.generator.weights + model.discriminator.weights
    digests.append(hashlib.sha256(b"".join(np.asarray(w).tobytes() for w in weights)).hexdigest())
print(json.dumps({"identical": digests[0] == digests[1], "images_per_second": speed}))
"""


def measure(settings, steps):
    return run_child(CHILD, ROOT, json.dumps(settings), steps)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--repeats", type=int, default=2, help="measure each variant this many times, interleaved")
    parser.add_argument("--write", help="also write the table to this Markdown file")
    arguments = parser.parse_args()
    if arguments.steps <= 0 or arguments.repeats <= 0:
        parser.error("--steps and --repeats must be positive")

    results = {name: [] for name in VARIANTS}
    for _ in range(arguments.repeats):  # interleaved, so that a busy moment does not hit one variant only
        for name, settings in VARIANTS.items():
            results[name].append(measure(settings, arguments.steps))
            print(name, results[name][-1], flush=True)
    lines = [f"Bit-for-bit repeatability and speed of the default configuration (distorted pass included), "
             f"batch 128 of real MNIST, {arguments.steps} timed steps after 5 warm-up steps, each variant in a "
             f"fresh process {arguments.repeats} times (interleaved), on {machine(with_torch=False)}.", "",
             "| variant | two copies bit-identical | images/s (each measurement) |", "| --- | --- | --- |"]
    for name, runs in results.items():
        identical = "yes" if all(run["identical"] for run in runs) else \
            f"no ({sum(not run['identical'] for run in runs)} of {len(runs)} processes differed)"
        speeds = ", ".join(f"{run['images_per_second']:.0f}" for run in runs)
        lines.append(f"| {name} | {identical} | {speeds} |")
    lines += ["", f"Command: `python benchmarks/determinism.py --steps {arguments.steps} --repeats {arguments.repeats}`",
              "", NOTES]
    print("\n".join(lines))
    if arguments.write:
        pathlib.Path(arguments.write).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
