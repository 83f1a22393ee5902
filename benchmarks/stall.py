"""The wait at the end of ``model.fit``: how long ``fit`` takes to return after its last batch.

Each call of ``fit`` trains ``--steps`` steps on a fresh pipeline; a callback stamps the end of every
batch, and the script reports, per call, the call's wall time and the time from the last batch's end to
``fit`` returning. The options bisect where the wait comes from (``benchmarks/STALL.md`` has the findings):

  --model infogan   ``build_model(TrainConfig())``, in the machine's default mode (``--exact``: float32 with XLA)
  --model tiny      a one-layer Keras regression on the same pipeline (``--batch-sleep`` stretches its calls)
  --pipeline        ``slices``: ``from_tensor_slices(x).repeat().batch(128)`` then ``--prefetch``
                    (``autotune``, ``2`` or ``none``); ``package``: ``data.make_dataset``, as ``fit_steps`` uses it
  --autotune        ``on``: tf.data's autotuning (TensorFlow's default), trained through ``keras.Model.fit``;
                    ``off``: trained through ``InfoGAN.fit`` (the package's), which turns it off

Usage::

    python benchmarks/stall.py --autotune on --calls 4 --steps 50      # reproduces the wait
    python benchmarks/stall.py --calls 20 --steps 100                  # the package as shipped
    python benchmarks/stall.py --calls 20 --steps 100 --exact
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.common import StepStamps, machine  # noqa: E402
from infogan_utils.data import make_dataset  # noqa: E402
from infogan_utils.runs import TrainConfig, build_model, describe_compute  # noqa: E402

PROCESS_START = time.perf_counter()


def pipeline(images, kind, prefetch, autotune):
    if kind == "package":
        dataset = make_dataset(images, 128, seed=0)
    else:
        dataset = tf.data.Dataset.from_tensor_slices(images.astype("float32")[..., None] / 255.0)
        dataset = dataset.repeat().batch(128, drop_remainder=True)
        if prefetch == "autotune":
            dataset = dataset.prefetch(tf.data.AUTOTUNE)
        elif prefetch != "none":
            dataset = dataset.prefetch(int(prefetch))
    options = tf.data.Options()
    options.autotune.enabled = autotune == "on"
    return dataset.with_options(options)


def tiny_model():
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("infogan", "tiny"), default="infogan")
    parser.add_argument("--pipeline", choices=("slices", "package"), default="package")
    parser.add_argument("--prefetch", default="autotune", help="autotune, none or a buffer size (slices only)")
    parser.add_argument("--autotune", choices=("on", "off"), default="off")
    parser.add_argument("--exact", action="store_true", help="float32 with XLA instead of the machine's default")
    parser.add_argument("--steps", type=int, default=100, help="steps per call")
    parser.add_argument("--calls", type=int, default=4, help="timed calls, after one warm-up call")
    parser.add_argument("--batch-sleep", type=float, default=0.0, help="seconds to sleep after each batch")
    arguments = parser.parse_args(argv)

    images = np.random.default_rng(0).integers(0, 256, (4096, 28, 28), dtype=np.uint8)
    if arguments.model == "infogan":
        model = build_model(TrainConfig(), jit_compile=True if arguments.exact else "auto")
        mode = describe_compute(model)
    else:
        model, mode = tiny_model(), "tiny model"
    # keras.Model.fit itself, so that InfoGAN.fit does not turn the autotuning off behind the script's back
    fit = model.fit if arguments.autotune == "off" else (lambda *a, **k: keras.Model.fit(model, *a, **k))
    print(f"{machine()}; {mode}; pipeline {arguments.pipeline}, prefetch {arguments.prefetch}, autotune {arguments.autotune}; "
          f"{arguments.steps} steps a call")
    tails, totals, steps = [], [], []
    for call in range(arguments.calls + 1):  # call 0 warms up (tracing, compilation)
        dataset = pipeline(images, arguments.pipeline, arguments.prefetch, arguments.autotune)
        if arguments.model == "tiny":
            dataset = dataset.map(lambda x: (x, tf.zeros((tf.shape(x)[0], 1))))
        stamps = StepStamps(arguments.batch_sleep)
        started = time.perf_counter()
        fit(dataset, epochs=1, steps_per_epoch=arguments.steps, callbacks=[stamps], verbose=0, shuffle=False)
        returned = time.perf_counter()
        last = stamps.stamps[-1]
        if call:
            tails.append(returned - last)
            totals.append(returned - started)
            steps.extend(np.diff(stamps.stamps))
        print(f"call {call}{' (warm-up)' if call == 0 else ''}: total {returned - started:6.2f} s, "
              f"last batch -> return {returned - last:6.2f} s (started at {started - PROCESS_START:.2f} s "
              f"after start-up)", flush=True)
    tails = np.array(tails)
    print(f"summary: {len(tails)} calls; last batch -> return: median {np.median(tails):.3f} s, "
          f"max {tails.max():.3f} s, {int((tails <= 0.5).sum())} of {len(tails)} within 0.5 s; "
          f"whole calls: median {np.median(totals):.2f} s, "
          f"{arguments.steps * 128 * len(totals) / sum(totals):.0f} images/s over all calls; "
          f"median step {1000 * np.median(steps):.1f} ms ({128 / np.median(steps):.0f} images/s)")


if __name__ == "__main__":
    main()
