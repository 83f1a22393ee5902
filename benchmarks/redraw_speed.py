"""How long one redraw of the latent explorer takes on this machine.

A redraw is what happens when a control moves: the generator's forward pass for one digit, the PNG
encoding of the image and the Q head's reading of it (``widgets.render_digit``), plus setting the
widgets. Each part is timed on its own as well, and so are the eager Keras calls that the compiled
inference functions (``infogan_utils.inference``) replaced. The goal is a p95 under 16 ms, one frame
at 60 Hz; above 100 ms the explorer redraws only when a slider is released.

    python benchmarks/redraw_speed.py                 # the shipped model; writes benchmarks/REDRAW.md
    python benchmarks/redraw_speed.py --model FILE    # another exported model file
    python benchmarks/redraw_speed.py --no-write      # print only
"""

import argparse
import datetime
import os
import pathlib
import platform
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # a checkout without `pip install -e .`

from benchmarks.common import cpu_name_and_flags, usable_cores  # noqa: E402
from infogan_utils.inference import run_generator  # noqa: E402
from infogan_utils.plotting import image_to_png  # noqa: E402
from infogan_utils.pretrained import PRETRAINED_DIR, load_pretrained  # noqa: E402
from infogan_utils.widgets import LatentExplorer, render_digit, render_sweep  # noqa: E402

FRAME_MS = 16.0  # the goal: one frame at 60 Hz
SLOW_MS = 100.0  # LatentExplorer's default slow_ms: above it the sliders redraw on release only


def machine():
    """A short description of the CPU this runs on, and how busy it was."""
    model_name, _ = cpu_name_and_flags()
    usable = usable_cores()
    load = ", ".join(f"{value:.2f}" for value in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return {"cpu": model_name, "cpu_count": os.cpu_count(), "usable_cpus": usable, "load_average": load,
            "python": platform.python_version()}


def time_calls(function, repeats, warmup):
    """Milliseconds of ``repeats`` calls ``function(i)`` after ``warmup`` untimed calls."""
    for index in range(warmup):
        function(index)
    times = []
    for index in range(repeats):
        started = time.perf_counter()
        function(index)
        times.append(1000 * (time.perf_counter() - started))
    return np.array(times)


def codes(index):
    """A different setting for every call: category, two continuous codes in the slider range, seed."""
    return index % 10, [((index * 0.37) % 4.0) - 2.0, ((index * 0.61) % 4.0) - 2.0], index % 7


def run(model, repeats=50, warmup=5):
    """``{name: array of ms}`` for each part of a redraw and for the whole."""
    def generate(index):
        category, continuous, seed = codes(index)
        return model.generate(None, [category], np.array([continuous], "float32"), seed=seed)

    def latent(index):
        category, continuous, seed = codes(index)
        noise = model.spec.sample_noise(1, np.random.default_rng(seed))
        return model.spec.build_input(noise, [category], np.array([continuous], "float32"))

    image = generate(0)
    explorer = LatentExplorer(model)

    def explorer_redraw(index):
        """Move one control, as a user does; the assignment redraws once (the value always changes)."""
        calls = len(explorer.redraw_ms)  # grows by one per call: a fresh value every time
        which = calls % 3
        if which == 0:
            explorer.category.value = (explorer.category.value + 1) % 10
        elif which == 1:
            explorer.sliders[0].value = round(-2.0 + 0.1 * (calls % 41), 1)
        else:
            explorer.noise_seed.value = 1000 + calls

    results = {
        "generator forward pass (1 digit)": time_calls(generate, repeats, warmup),
        "generator, before: eager Keras call `generator(latent)`": time_calls(
            lambda index: model.generator(latent(index), training=False), repeats, warmup),
        "generator with XLA (`run_generator(..., jit_compile=True)`)": time_calls(
            lambda index: run_generator(model.generator, latent(index), jit_compile=True), repeats, warmup),
        "PNG encoding (224x224)": time_calls(lambda index: image_to_png(image[0, ..., 0], scale=8), repeats, warmup),
        "Q reading (predict_codes)": time_calls(lambda index: model.predict_codes(image), repeats, warmup),
        "Q reading, before: eager Keras call `discriminator(image)`": time_calls(
            lambda index: model.discriminator(image, training=False), repeats, warmup),
        "render_digit (all three)": time_calls(lambda index: render_digit(model, *codes(index)), repeats, warmup),
        "render_sweep (9 digits)": time_calls(
            lambda index: render_sweep(model, codes(index)[0], codes(index)[1], index % 2, noise_seed=index),
            repeats, warmup),
    }
    before = len(explorer.redraw_ms)
    results["LatentExplorer.redraw (widgets included)"] = time_calls(explorer_redraw, repeats, warmup)
    assert len(explorer.redraw_ms) - before == repeats + warmup, "every control change should redraw once"
    return results


def report(results, info, model_label, repeats, warmup):
    """The markdown report."""
    lines = [
        "# Latent explorer: redraw speed",
        "",
        f"Measured {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC with "
        f"`python benchmarks/redraw_speed.py` on {model_label} (generator {info['generator_parameters']:,} "
        f"parameters, discriminator with Q head {info['discriminator_parameters']:,}): {repeats} timed calls "
        f"after {warmup} warm-up calls, a different category, continuous codes and noise seed each time. "
        "The speed depends on the architecture (the parameter counts), not on the trained weights.",
        "",
        f"Machine: {info['cpu']}, {info['cpu_count']} CPUs ({info['usable_cpus']} usable), "
        f"load average {info['load_average']} when the run started (other jobs share the machine), "
        f"Python {info['python']}, TensorFlow {info['tensorflow']}, Keras {info['keras']}.",
        "",
        "| step | median ms | p95 ms |",
        "| --- | ---: | ---: |",
    ]
    for name, times in results.items():
        lines.append(f"| {name} | {np.median(times):.1f} | {np.percentile(times, 95):.1f} |")
    whole = results["LatentExplorer.redraw (widgets included)"]
    verdict = "meets" if np.percentile(whole, 95) < FRAME_MS else "misses"
    lines += [
        "",
        "The \"before\" rows time the eager Keras calls that `generate` and `predict_codes` made "
        "until they went through compiled inference functions (`infogan_utils.inference`, one traced graph "
        "for every batch size); the XLA row is the same compiled function with `jit_compile=True`.",
        "",
        f"One redraw (generator forward pass + PNG encoding + Q reading, widgets included) takes "
        f"{np.median(whole):.1f} ms median, {np.percentile(whole, 95):.1f} ms p95: it {verdict} the goal of a "
        f"p95 under {FRAME_MS:.0f} ms (one frame at 60 Hz). `LatentExplorer` switches the sliders to "
        f"redraw-on-release by itself if the median of its recent redraws goes above `slow_ms` ({SLOW_MS:.0f} ms).",
    ]
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", help="an exported model file (default: the shipped MNIST model)")
    parser.add_argument("--label", help="how the report names the model (default: the file name)")
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--output", default=str(HERE / "REDRAW.md"), help="the report to write")
    parser.add_argument("--no-write", action="store_true", help="print the report, write nothing")
    arguments = parser.parse_args(argv)
    if arguments.model is None and not (PRETRAINED_DIR / "mnist.npz").exists():
        parser.exit(2, f"no shipped model at {PRETRAINED_DIR / 'mnist.npz'}; pass --model FILE "
                       "(python -m infogan_utils export RUN_DIR FILE makes one)\n")
    import keras
    import tensorflow as tf

    model = load_pretrained("mnist", path=arguments.model)
    label = arguments.label or (f"`{pathlib.Path(arguments.model).name}`" if arguments.model else
                                "the shipped model (`load_pretrained(\"mnist\")`)")
    info = dict(machine(), tensorflow=tf.__version__, keras=keras.__version__,
                generator_parameters=model.generator.count_params(),
                discriminator_parameters=model.discriminator.count_params())
    results = run(model, arguments.repeats, arguments.warmup)
    text = report(results, info, label, arguments.repeats, arguments.warmup)
    print(text)
    if not arguments.no_write:
        pathlib.Path(arguments.output).write_text(text)
        print(f"Wrote {arguments.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
