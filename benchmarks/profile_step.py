"""Where the time of one training step goes: each part of the default step timed on its own.

Builds the default model (``build_model(TrainConfig())``, in the mode it chooses for this machine:
bfloat16 without XLA on a CPU with bfloat16 instructions, float32 with XLA on another; ``--exact`` for
float32 with XLA, ``--no-xla`` for float32 without) and times, on one fixed batch of 128, each part as
its own ``tf.function``, compiled the way the model's training step is:
the generator's forward pass, and forward plus backward; D's forward pass, and forward plus backward;
the distorted pass (``augment.random_affine`` then D) forward, and forward plus backward; both
optimizers' updates; the whole ``train_step``; the input pipeline alone (``data.make_dataset`` on
MNIST); and ``model.fit`` per step, whose excess over the compiled ``train_step`` is Keras' per-step
Python overhead. The default step runs G forward and backward once, D forward and backward three
times (real, generated, distorted images) and both optimizers once.

Usage::

    python benchmarks/profile_step.py                              # print the table
    python benchmarks/profile_step.py --write benchmarks/PROFILE.md
    python benchmarks/profile_step.py --exact --write benchmarks/PROFILE-exact.md
    python benchmarks/profile_step.py --steps 3                    # a quick check that it runs
"""

import argparse
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # a checkout without `pip install -e .`

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from benchmarks.common import StepStamps, machine  # noqa: E402
from infogan_utils.augment import random_affine  # noqa: E402
from infogan_utils.codes import sample_latent_tensors  # noqa: E402
from infogan_utils.data import DataError, load_dataset, make_dataset  # noqa: E402
from infogan_utils.runs import TrainConfig, build_model, resolve_compute  # noqa: E402

BATCH = 128
WARMUP_CALLS = 3


def time_calls(function, steps, warmup=WARMUP_CALLS):
    """Milliseconds of each of ``steps`` calls of ``function()`` after ``warmup`` untimed calls.

    ``function`` returns a tensor; reading it as NumPy waits until the computation has finished.
    """
    for _ in range(warmup):
        np.asarray(function())
    times = []
    for _ in range(steps):
        started = time.perf_counter()
        np.asarray(function())
        times.append(1000 * (time.perf_counter() - started))
    return np.array(times)


def total(outputs):
    """One scalar from a network's output (a tensor or a dict of tensors): what the backward passes differentiate."""
    if isinstance(outputs, dict):
        return tf.add_n([tf.reduce_sum(tf.cast(value, tf.float32)) for value in outputs.values()])
    return tf.reduce_sum(tf.cast(outputs, tf.float32))


def training_images():
    """MNIST's training images, or random ones (with a note) when MNIST cannot be found."""
    try:
        (images, _), _ = load_dataset("mnist")
        return images, "MNIST"
    except DataError:
        return np.random.default_rng(0).integers(0, 256, (60000, 28, 28), dtype=np.uint8), "random images (no MNIST)"


def multiply_adds(network):
    """Multiply-adds of one image's forward pass through ``network``'s Dense, Conv2D and Conv2DTranspose layers.

    A Dense layer costs inputs × units; a convolution costs (output positions) × kernel area × input channels ×
    filters, and a transposed convolution the same counted over its *input* positions. Batch norm, activations
    and the loss are left out: they are elementwise and cost little next to these.
    """
    import keras

    count = 0
    for layer in network._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, keras.layers.Dense):
            count += int(layer.kernel.shape[0]) * int(layer.kernel.shape[1])
        elif isinstance(layer, keras.layers.Conv2DTranspose):
            height, width, channels = layer.input.shape[1:]
            count += height * width * channels * int(np.prod(layer.kernel_size)) * layer.filters
        elif isinstance(layer, keras.layers.Conv2D):
            height, width, _ = layer.output.shape[1:]
            channels = int(layer.kernel.shape[2])
            count += height * width * int(np.prod(layer.kernel_size)) * channels * layer.filters
    return count


def step_arithmetic(generator, discriminator):
    """``(generator_macs, discriminator_macs, step_flops)`` for one default training step of ``BATCH`` images.

    A backward pass that computes the gradients of both the weights and the inputs costs about twice its
    forward pass, so a forward-and-backward pass costs three forward passes. The default step runs G once
    and D three times (real, generated and distorted images), each forward and backward.
    """
    generator_macs, discriminator_macs = multiply_adds(generator), multiply_adds(discriminator)
    step_flops = 2 * BATCH * 3 * (generator_macs + 3 * discriminator_macs)
    return generator_macs, discriminator_macs, step_flops


def matmul_ceiling(jit_compile, dtype="float32", size=2048, calls=10):
    """GFLOP/s of a large matrix product in ``dtype`` on this machine: a practical ceiling for dense arithmetic."""
    a = tf.cast(tf.random.stateless_normal((size, size), seed=(1, 2)), dtype)
    b = tf.cast(tf.random.stateless_normal((size, size), seed=(3, 4)), dtype)
    product = tf.function(lambda: tf.cast(tf.reduce_sum(tf.matmul(a, b)), "float32"), jit_compile=jit_compile)
    milliseconds = float(np.median(time_calls(product, calls)))
    return 2 * size ** 3 / (milliseconds / 1000) / 1e9


def chosen_mode(mode):
    """``(jit_compile, mixed_precision)`` for ``mode``: "chosen" (what build_model picks here), "exact" or "no-xla"."""
    return {"chosen": resolve_compute(), "exact": (True, False), "no-xla": (False, False)}[mode]


def profile(steps, mode="chosen"):
    """``(rows, notes)``: rows of (part, array of ms per call) in the order of the table."""
    jit_compile, precision = chosen_mode(mode)
    model = build_model(TrainConfig(), jit_compile=jit_compile, mixed_precision=precision)
    generator, discriminator, spec = model.generator, model.discriminator, model.spec
    seed = model.seed_generator
    images, source = training_images()
    real = tf.constant(images[:BATCH, ..., None].astype("float32") / 255.0)
    latent, _ = sample_latent_tensors(spec, BATCH, seed)
    fake = generator(latent, training=False)
    strength = TrainConfig().categorical_augmentation

    def compiled(function):
        return tf.function(function, jit_compile=jit_compile)

    @compiled
    def g_forward():
        return total(generator(latent, training=True))

    @compiled
    def g_forward_backward():
        with tf.GradientTape() as tape:
            value = total(generator(latent, training=True))
        return tf.add_n([tf.reduce_sum(g) for g in tape.gradient(value, generator.trainable_weights)])

    @compiled
    def d_forward():
        return total(discriminator(real, training=True))

    def d_backward(images_of):
        # Gradients for D's weights and for the images (what carries G's gradient in the real step).
        with tf.GradientTape() as tape:
            images = images_of()
            tape.watch(images)
            value = total(discriminator(images, training=True))
        gradients = tape.gradient(value, [*discriminator.trainable_weights, images])
        return tf.add_n([tf.reduce_sum(g) for g in gradients])

    @compiled
    def d_forward_backward():
        return d_backward(lambda: fake)

    @compiled
    def affine_only():
        return total(random_affine(fake, strength, seed))

    @compiled
    def distorted_forward():
        return total(discriminator(random_affine(fake, strength, seed), training=True))

    @compiled
    def distorted_forward_backward():
        return d_backward(lambda: random_affine(fake, strength, seed))

    # Small gradients, so that the repeated updates leave the weights usable for the rows after.
    d_gradients = [tf.fill(w.shape, 1e-6) for w in discriminator.trainable_weights]
    g_gradients = [tf.fill(w.shape, 1e-6) for w in generator.trainable_weights]

    @compiled
    def optimizers_apply():
        model.d_optimizer.apply(d_gradients, discriminator.trainable_weights)
        model.g_optimizer.apply(g_gradients, generator.trainable_weights)
        return tf.convert_to_tensor(model.d_optimizer.iterations)

    train_step = compiled(model.train_step)

    def whole_step():
        return train_step(real)["d_loss"]

    pipeline = iter(make_dataset(images, BATCH, seed=0))

    rows = [
        ("G forward", time_calls(g_forward, steps)),
        ("G forward + backward", time_calls(g_forward_backward, steps)),
        ("D forward (with the Q head)", time_calls(d_forward, steps)),
        ("D forward + backward (weights and images)", time_calls(d_forward_backward, steps)),
        ("random_affine alone", time_calls(affine_only, steps)),
        ("distorted pass: random_affine + D forward", time_calls(distorted_forward, steps)),
        ("distorted pass: random_affine + D forward + backward", time_calls(distorted_forward_backward, steps)),
        ("both optimizers' updates (Adam, D+Q and G)", time_calls(optimizers_apply, steps)),
        ("whole train_step (compiled, fixed batch)", time_calls(whole_step, steps)),
        (f"input pipeline alone (make_dataset, {source}, next batch)", time_calls(lambda: next(pipeline), steps)),
    ]
    fit_ms = time_fit(model, real, steps)
    step_ms = float(np.median(dict(rows)["whole train_step (compiled, fixed batch)"]))
    rows.append(("model.fit, per step (fixed batch, a time stamp after each step)", fit_ms))
    rows.append(("model.fit overhead per step (fit minus compiled train_step)", fit_ms - step_ms))
    generator_macs, discriminator_macs, step_flops = step_arithmetic(generator, discriminator)
    arithmetic = {"generator_macs": generator_macs, "discriminator_macs": discriminator_macs,
                  "step_gflop": step_flops / 1e9, "step_gflops": step_flops / 1e9 / (step_ms / 1000),
                  "ceiling_gflops": matmul_ceiling(jit_compile, model.dtype_policy.compute_dtype),
                  "compute": f"{model.dtype_policy.compute_dtype}, {'with' if jit_compile else 'without'} XLA"}
    return rows, arithmetic


def time_fit(model, real, steps):
    """Milliseconds of each step of ``model.fit`` on a dataset that repeats one batch (no input cost).

    Time stamps after every step, as in ``train_speed.py``, so that a wait after the last step (tf.data's
    autotuning thread, ``benchmarks/STALL.md``) does not count as training time.
    """
    dataset = tf.data.Dataset.from_tensors(real).repeat()
    model.fit(dataset, epochs=1, steps_per_epoch=WARMUP_CALLS, verbose=0, shuffle=False)  # compiles Keras' own
    stamps = StepStamps()
    model.fit(dataset, epochs=1, steps_per_epoch=steps + 1, verbose=0, shuffle=False, callbacks=[stamps])
    return 1000 * np.diff(stamps.stamps)


def report(rows, arithmetic, steps, mode="chosen"):
    whole = float(np.median(dict(rows)["whole train_step (compiled, fixed batch)"]))
    how = {"chosen": "the mode it chooses for this machine", "exact": "the exact mode",
           "no-xla": "float32 without XLA"}[mode]
    lines = [
        "# One training step, part by part",
        "",
        f"The default model (`build_model(TrainConfig())`, in {how}: {arithmetic['compute']}), batch {BATCH}, "
        f"each part its own `tf.function` compiled the same way, {steps} timed calls after "
        f"{WARMUP_CALLS} warm-up calls, on {machine()}. The parts overlap and are compiled separately, so "
        "they do not add up to the whole step exactly; the share column compares each with the whole "
        "compiled `train_step`. The default step runs G forward and backward once, D forward and backward "
        "three times (real, generated and distorted images) and both optimizers once.",
        "",
        "| part | median ms | p90 ms | share of train_step |",
        "| --- | ---: | ---: | ---: |",
    ]
    for name, times in rows:
        median = float(np.median(times))
        lines.append(f"| {name} | {median:.1f} | {np.percentile(times, 90):.1f} | {median / whole:.0%} |")
    lines += [
        "",
        "## What limits it: arithmetic",
        "",
        f"One image's forward pass costs {arithmetic['generator_macs'] / 1e6:.1f} M multiply-adds in G and "
        f"{arithmetic['discriminator_macs'] / 1e6:.1f} M in D with its Q head (`multiply_adds`: the dense and "
        "convolution layers). A forward-and-backward pass costs about three forward passes, so the default step "
        f"(G once, D three times, {BATCH} images) is about {arithmetic['step_gflop']:.0f} GFLOP. The compiled "
        f"`train_step` above does it at **{arithmetic['step_gflops']:.0f} GFLOP/s**, while one large "
        f"{arithmetic['compute'].split(',')[0]} "
        f"matrix product (2048 × 2048 by 2048 × 2048, compiled the same way) reaches "
        f"**{arithmetic['ceiling_gflops']:.0f} GFLOP/s** on this machine: the step runs at "
        f"{arithmetic['step_gflops'] / arithmetic['ceiling_gflops']:.0%} of that practical ceiling. Its layers "
        "are small (28 × 28 images, 64 and 128 channels), which keeps them below a large product's efficiency; "
        "a large gain needs less arithmetic per step, or kernels better suited to small layers.",
    ]
    command = "python benchmarks/profile_step.py" + (f" --steps {steps}" if steps != 50 else "") + \
        ("" if mode == "chosen" else f" --{mode}")
    lines += ["", f"Command: `{command}`"]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="timed calls of each part")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument("--exact", action="store_true", help="float32 with XLA, whatever the machine")
    choice.add_argument("--no-xla", action="store_true", help="float32 without XLA")
    parser.add_argument("--write", help="also write the table to this Markdown file")
    arguments = parser.parse_args(argv)
    if arguments.steps <= 0:
        parser.error("--steps must be positive")
    mode = "exact" if arguments.exact else "no-xla" if arguments.no_xla else "chosen"
    rows, arithmetic = profile(arguments.steps, mode)
    text = report(rows, arithmetic, arguments.steps, mode)
    print(text)
    if arguments.write:
        pathlib.Path(arguments.write).write_text(text)
        print(f"Wrote {arguments.write}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
