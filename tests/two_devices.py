"""Training on two logical CPU devices, run in a child process by ``test_devices.py``.

TensorFlow splits the CPU into logical devices only before it initialises its devices, once per process, so the
measurements run in a fresh Python, all three in one (a new process costs seconds of importing TensorFlow):
``python tests/two_devices.py same_steps resume=FOLDER learning=MNIST_PATH`` (any of them) prints one line of JSON
with each measurement's report under its name.
"""

import json
import pathlib
import sys

# A small global batch: each of the two replicas gets 16 images.
BATCH_SIZE = 32


def configure_two_cpu_devices():
    import tensorflow as tf

    # Each replica's ops on one thread: the two replicas then share the two cores instead of both asking for both.
    # A step of 64 images took 327 ms instead of 418 ms (one device: 191 ms), idle 2-core EPYC, float32 without XLA.
    tf.config.threading.set_intra_op_parallelism_threads(1)
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()])
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def training_state(model):
    """The trainable weights, the batch-norm statistics and the optimizers' float variables (H's too, with the
    contrastive regulariser), as NumPy arrays."""
    import numpy as np

    networks = [model.generator, model.discriminator]
    optimizers = [model.d_optimizer, model.g_optimizer]
    if model.contrastive_classifier is not None:  # InfoGAN-CR's classifier H and its optimizer
        networks.append(model.contrastive_classifier)
        optimizers.append(model.h_optimizer)
    return {
        "weights": [np.asarray(w) for network in networks for w in network.trainable_weights],
        "batch_norm": [np.asarray(w) for network in networks for w in network.non_trainable_weights],
        "moments": [np.asarray(v) for optimizer in optimizers for v in optimizer.variables if v.dtype == "float32"],
    }


def relative_difference(first, second):
    """``|first - second| / |first|`` over all the arrays together (Frobenius norms)."""
    import numpy as np

    difference = sum(float(((a - b) ** 2).sum()) for a, b in zip(first, second, strict=True))
    return float(np.sqrt(difference / sum(float((a ** 2).sum()) for a in first)))


def compare(one_device, two_devices, initial):
    """How far two states are apart: the weights' updates since ``initial``, the batch-norm statistics and the
    optimizers' moments, each relative; and the largest difference of any weight."""
    import numpy as np

    updates = [[after - before for after, before in zip(state["weights"], initial["weights"])]
               for state in (one_device, two_devices)]
    return {
        "updates": relative_difference(*updates),
        "batch_norm": relative_difference(one_device["batch_norm"], two_devices["batch_norm"]),
        "moments": relative_difference(one_device["moments"], two_devices["moments"]),
        "largest_weight_difference": max(float(np.abs(a - b).max())
                                         for a, b in zip(one_device["weights"], two_devices["weights"])),
    }


def same_steps():
    """One device, two replicas, and two replicas that sum their mean losses (the classic bug), from the same
    initial weights on the same batches: their differences after one step and after three. Then one step of
    InfoGAN-CR's regulariser (switched on from the first step) on one device and on two: its second generator pass
    and its classifier H add all-reduces of their own, and its model is the process's third on two devices, so
    its keys must not meet the earlier strategies' (tensorflow/tensorflow#62790)."""
    import numpy as np

    from infogan_utils import training
    from infogan_utils.data import make_dataset
    from infogan_utils.runs import TrainConfig, build_model

    images = np.random.default_rng(0).integers(0, 255, (256, 28, 28)).astype(np.uint8)

    def train(devices, steps, **settings):
        model = build_model(TrainConfig(seed=3, batch_size=BATCH_SIZE, devices=devices, **settings),
                            jit_compile=False)
        states = [training_state(model)]
        for start in range(steps):  # one step at a time, to read the state after the first
            model.fit(make_dataset(images, BATCH_SIZE, seed=7, start_step=start), epochs=1, steps_per_epoch=1,
                      verbose=0, shuffle=False)
            states.append(training_state(model))
        return states, model.steps

    one, one_steps = train(1, 3)
    two, two_steps = train(2, 3)
    share = training.replica_loss
    training.replica_loss = lambda loss, replicas: loss  # each replica's mean loss, summed by the all-reduce
    try:
        summed, _ = train(2, 1)
    finally:
        training.replica_loss = share
    contrastive = {"contrastive_weight": 0.5, "contrastive_start": 0}
    one_contrastive, _ = train(1, 1, **contrastive)
    two_contrastive, _ = train(2, 1, **contrastive)
    return {
        "steps": [one_steps, two_steps],
        "initial_weights_equal": all(np.array_equal(a, b) for a, b in zip(one[0]["weights"], two[0]["weights"])),
        "after_1": compare(one[1], two[1], one[0]),
        "after_3": compare(one[3], two[3], one[0]),
        "summed_losses_after_1": compare(one[1], summed[1], one[0]),
        "contrastive_after_1": compare(one_contrastive[1], two_contrastive[1], one_contrastive[0]),
    }


def resume_across_devices(folder):
    """Two runs of 4 steps: 2 steps on two devices then 2 on one, and the other way round."""
    import numpy as np

    from infogan_utils.checkpoints import save_checkpoint
    from infogan_utils.runs import TrainConfig, build_model, train_run

    settings = {"batch_size": BATCH_SIZE, "train_subset": 256, "steps_per_epoch": 2, "seed": 4}
    report = {}
    for first, second in ((2, 1), (1, 2)):
        run_dir = pathlib.Path(folder) / f"{first}-then-{second}"
        sessions = []
        for steps, devices in ((2, first), (4, second)):
            model, _ = train_run(run_dir, TrainConfig(steps=steps, devices=devices, **settings), verbose=0,
                                 evaluate=False)
            sessions.append({"steps": model.steps, "timing": json.loads((run_dir / "timing.json").read_text()),
                             "config_devices": json.loads((run_dir / "config.json").read_text())["devices"]})
        with np.load(run_dir / "checkpoint.npz") as archive:
            arrays = {key: archive[key] for key in archive.files if key != "meta"}
        report[f"{first}-then-{second}"] = {"sessions": sessions, "arrays": arrays}
    first, second = (report[name].pop("arrays") for name in ("2-then-1", "1-then-2"))
    untrained = build_model(TrainConfig(steps=4, **settings), jit_compile=False)  # both runs' initial weights
    with np.load(save_checkpoint(untrained, pathlib.Path(folder) / "initial.npz")) as archive:
        initial = {key: archive[key] for key in archive.files if key != "meta"}
    weights = sorted(key for key in first if key.startswith(("generator/", "discriminator/")))
    report["same_keys"] = sorted(first) == sorted(second)
    report["same_sampler_and_counter"] = all(np.array_equal(first[key], second[key]) for key in first
                                             if key.startswith(("seed_generator/", "step_counter/")))
    report["weights_relative_difference"] = relative_difference([first[key] for key in weights],
                                                                [second[key] for key in weights])
    report["updates_relative_difference"] = relative_difference(
        [first[key] - initial[key] for key in weights], [second[key] - initial[key] for key in weights])
    return report


def learning(mnist_path):
    """The single-device learning test of the default objective (``learning_checks.distorted_objective``, seed 0),
    trained on two replicas, with the quantities its thresholds judge."""
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
    import learning_checks

    measured = learning_checks.distorted_objective(mnist_path, seed=0, devices=2)
    return {"measured": measured, "failures": learning_checks.failures("distorted_objective", measured)}


if __name__ == "__main__":
    devices = configure_two_cpu_devices()
    modes = {"same_steps": same_steps, "resume": resume_across_devices, "learning": learning}
    reports = {"devices": devices}
    for argument in sys.argv[1:]:
        name, _, value = argument.partition("=")
        reports[name] = modes[name](*([value] if value else []))
    print(json.dumps(reports))
