"""Train a few steps on two worker processes on this machine (127.0.0.1) under MultiWorkerMirroredStrategy, as
two machines would, and check that both workers end with the same weights as one device.

    python tools/multi_worker.py [--steps 4] [--out FOLDER]      (or: make multi-worker)

Each worker runs ``infogan train --devices all`` with its own ``TF_CONFIG``: the recipe of ``docs/devices.md`` for
several machines, with every address on 127.0.0.1. Each writes its own run folder (worker-0, worker-1); a
one-device run of the same configuration is trained beside them to compare with. Logical CPU workers on one
machine show correctness only, never speed. Prints one line of JSON; exits 1 when the workers disagree.
"""

import argparse
import json
import os
import pathlib
import socket
import subprocess
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parent.parent
# Two replicas and one device differ by float32 rounding that Adam amplifies (tests/test_devices.py says how): the
# weights of 4-step runs with 2 of their steps on two devices differed by 1.9e-3 relative there, and two workers'
# 4 steps by 2.0e-3 from one device's.
WEIGHTS_TOLERANCE = 1e-2


def free_ports(count):
    """``count`` ports on 127.0.0.1 that nothing listens on now."""
    sockets = [socket.socket() for _ in range(count)]
    for handle in sockets:
        handle.bind(("127.0.0.1", 0))
    ports = [handle.getsockname()[1] for handle in sockets]
    for handle in sockets:
        handle.close()
    return ports


def train_command(out, steps, devices):
    return [sys.executable, "-m", "infogan_utils", "train", "--steps", str(steps), "--batch-size", "32",
            "--train-subset", "256", "--steps-per-epoch", str(steps), "--seed", "6", "--devices", devices,
            "--out", str(out), "--quiet"]


def checkpoint_weights(run_dir):
    with np.load(pathlib.Path(run_dir) / "checkpoint.npz") as archive:
        return {key: archive[key] for key in archive.files if key.startswith(("generator/", "discriminator/"))}


def relative_difference(first, second):
    return float(np.sqrt(sum(((first[key] - second[key]) ** 2).sum() for key in first)
                         / sum((first[key] ** 2).sum() for key in first)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--out", default=None, help="folder for the three runs (default: a temporary folder)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds before the workers are stopped")
    arguments = parser.parse_args()
    out = pathlib.Path(arguments.out or tempfile.mkdtemp(prefix="multi-worker-"))
    # Several CPU devices train without XLA (runs.build_model): the one-device run too, so that only the devices differ.
    environment = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT), "INFOGAN_COMPUTE": "float32"}
    environment.pop("TF_CONFIG", None)
    workers = [f"127.0.0.1:{port}" for port in free_ports(2)]
    processes = []
    for index in range(len(workers)):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(subprocess.Popen(
            train_command(out / f"worker-{index}", arguments.steps, "all"), cwd=ROOT,
            env=environment | {"TF_CONFIG": json.dumps(tf_config)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    outputs = []
    try:
        for process in processes:
            outputs.append(process.communicate(timeout=arguments.timeout)[0])
    except subprocess.TimeoutExpired:
        for process in processes:
            process.kill()
        sys.exit(f"the workers did not finish within {arguments.timeout:.0f} s")
    for index, (process, output) in enumerate(zip(processes, outputs)):
        if process.returncode:
            sys.exit(f"worker {index} failed:\n{output[-3000:]}")
    subprocess.run(train_command(out / "one-device", arguments.steps, "1"), cwd=ROOT, env=environment, check=True,
                   capture_output=True)
    runs = {name: checkpoint_weights(out / name) for name in ("worker-0", "worker-1", "one-device")}
    timing = json.loads((out / "worker-0" / "timing.json").read_text())
    report = {
        "folder": str(out),
        "strategy": timing.get("strategy"),
        "devices": timing.get("devices"),
        "workers_identical": all(np.array_equal(runs["worker-0"][key], runs["worker-1"][key])
                                 for key in runs["worker-0"]),
        "relative_difference_to_one_device": relative_difference(runs["one-device"], runs["worker-0"]),
    }
    print(json.dumps(report))
    failures = [message for failed, message in (
        (report["devices"] != 2, f"trained on {report['devices']} devices, not 2"),
        (not report["workers_identical"], "the two workers' weights differ"),
        (report["relative_difference_to_one_device"] >= WEIGHTS_TOLERANCE,
         f"the weights differ from one device's by {report['relative_difference_to_one_device']:.2e} relative, "
         f"more than {WEIGHTS_TOLERANCE:.0e}")) if failed]
    if failures:
        sys.exit("; ".join(failures))


if __name__ == "__main__":
    main()
