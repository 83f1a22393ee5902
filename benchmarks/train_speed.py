"""Training speed of the paper's MNIST architecture at batch 128, in images per second.

Measures, on this machine:
  * ``infogan_utils`` as shipped: ``InfoGAN.fit`` with one shared forward pass and XLA (the default);
  * the same without XLA;
  * a plain ``tf.function`` step written the usual way (a D update, then a G update with a fresh
    batch of latents), as in most tutorials, for comparison.

Usage: ``python benchmarks/train_speed.py [--steps 150] [--write benchmarks/SPEED.md]``
"""

import argparse
import os
import pathlib
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from infogan_utils.codes import sample_latent_tensors  # noqa: E402
from infogan_utils.losses import discriminator_loss, generator_loss, information_losses  # noqa: E402
from infogan_utils.runs import TrainConfig, build_model  # noqa: E402

BATCH = 128


def machine():
    model_name = "unknown CPU"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                model_name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpus = tf.config.list_physical_devices("GPU")
    return f"{len(os.sched_getaffinity(0))} cores of {model_name}, {platform.system()}, " + \
        (f"GPU {gpus[0].name}" if gpus else "no GPU") + f", TensorFlow {tf.__version__}"


def time_fit(jit, steps, images):
    model = build_model(TrainConfig(), jit_compile=jit, mixed_precision=False)
    dataset = tf.data.Dataset.from_tensor_slices(images).repeat().batch(BATCH, drop_remainder=True).prefetch(2)
    model.fit(dataset, epochs=1, steps_per_epoch=5, verbose=0, shuffle=False)  # compile and warm up
    started = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)
    return steps * BATCH / (time.perf_counter() - started)


def time_plain(steps, images):
    model = build_model(TrainConfig(), jit_compile=False, mixed_precision=False)
    generator, discriminator, spec = model.generator, model.discriminator, model.spec
    d_optimizer, g_optimizer = model.d_optimizer, model.g_optimizer
    seed = model.seed_generator

    @tf.function
    def step(real):
        latent, codes = sample_latent_tensors(spec, BATCH, seed)
        with tf.GradientTape() as tape:
            fake = generator(latent, training=True)
            real_out, fake_out = discriminator(real, training=True), discriminator(fake, training=True)
            info = information_losses(spec, codes, fake_out)
            loss = discriminator_loss(real_out["real_logit"], fake_out["real_logit"]) + info["categorical"] + info["continuous"]
        d_optimizer.apply(tape.gradient(loss, discriminator.trainable_weights), discriminator.trainable_weights)
        latent, codes = sample_latent_tensors(spec, BATCH, seed)
        with tf.GradientTape() as tape:
            fake_out = discriminator(generator(latent, training=True), training=True)
            info = information_losses(spec, codes, fake_out)
            loss = generator_loss(fake_out["real_logit"]) + info["categorical"] + info["continuous"]
        g_optimizer.apply(tape.gradient(loss, generator.trainable_weights), generator.trainable_weights)

    batches = iter(tf.data.Dataset.from_tensor_slices(images).repeat().batch(BATCH, drop_remainder=True).prefetch(2))
    for _ in range(5):
        step(next(batches))
    started = time.perf_counter()
    for _ in range(steps):
        step(next(batches))
    return steps * BATCH / (time.perf_counter() - started)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=3, help="measure each variant this many times, interleaved")
    parser.add_argument("--write", help="also write the table to this Markdown file")
    arguments = parser.parse_args()
    if arguments.steps <= 0:
        parser.error("--steps must be positive")
    if arguments.repeats <= 0:
        parser.error("--repeats must be positive")
    images = np.random.default_rng(0).uniform(0, 1, (BATCH * 8, 28, 28, 1)).astype("float32")
    variants = {
        "infogan_utils InfoGAN.fit, XLA (default)": lambda: time_fit(True, arguments.steps, images),
        "infogan_utils InfoGAN.fit, no XLA": lambda: time_fit(False, arguments.steps, images),
        "plain tf.function step (D then G, two forward passes)": lambda: time_plain(arguments.steps, images),
    }
    speeds = {name: [] for name in variants}
    for _ in range(arguments.repeats):  # interleaved, so a busy moment does not hit one variant only
        for name, measure in variants.items():
            speeds[name].append(measure())
    lines = [f"Training speed, batch {BATCH}, {arguments.steps} timed steps after warm-up, each variant measured "
             f"{arguments.repeats} times (interleaved), on {machine()}.", "",
             "| variant | median images/s | min | max |", "| --- | ---: | ---: | ---: |"]
    lines += [f"| {name} | {np.median(values):.0f} | {min(values):.0f} | {max(values):.0f} |"
              for name, values in speeds.items()]
    lines += ["", f"Command: `python benchmarks/train_speed.py --steps {arguments.steps} --repeats {arguments.repeats}`"]
    print("\n".join(lines))
    if arguments.write:
        pathlib.Path(arguments.write).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
