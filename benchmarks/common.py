"""What the benchmark scripts share: the machine's description, per-step time stamps, and a measurement
run in a fresh process."""

import json
import os
import pathlib
import platform
import subprocess
import sys
import time

import keras


def usable_cores():
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def cpu_name_and_flags():
    """The CPU's model name and its bfloat16 instructions, from /proc/cpuinfo where it exists."""
    name, flags = platform.processor() or platform.machine(), set()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and name in ("", platform.machine()):
                name = line.split(":", 1)[1].strip()
            elif line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return name, sorted(flags & {"avx512_bf16", "amx_bf16"})


def machine(torch_version=None, with_torch=False):
    """One line naming the machine and the library versions (PyTorch's too, if ``with_torch``)."""
    import tensorflow as tf

    name, bf16 = cpu_name_and_flags()
    gpus = tf.config.list_physical_devices("GPU")
    device = f"GPU {gpus[0].name}" if gpus else "no GPU"
    line = (f"{usable_cores()} usable cores of {name} ({', '.join(bf16) or 'no bfloat16 instructions'}), "
            f"{platform.system()}, {device}, TensorFlow {tf.__version__}")
    if with_torch:
        line += ", " + (f"PyTorch {torch_version}" if torch_version else "PyTorch not installed")
    return line


class StepStamps(keras.callbacks.Callback):
    """``time.perf_counter()`` after every batch (every execution of ``steps_per_execution`` steps) of ``fit``;
    ``sleep`` seconds of pause after each one stretch a call (``stall.py``'s tiny model)."""

    def __init__(self, sleep=0.0):
        super().__init__()
        self.sleep = sleep
        self.stamps = []

    def on_train_batch_end(self, batch, logs=None):
        if self.sleep:
            time.sleep(self.sleep)
        self.stamps.append(time.perf_counter())


def run_child(code, *arguments, what="a measurement"):
    """Run ``python -c code *arguments`` in a fresh process and return the JSON its last line prints; stops the
    script with the child's error if it fails."""
    result = subprocess.run([sys.executable, "-c", code, *map(str, arguments)], capture_output=True, text=True,
                            env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"}, check=False)
    if result.returncode:
        sys.exit(f"{what} failed:\n{result.stderr[-2000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])
