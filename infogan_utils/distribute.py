"""Training on several GPUs or machines with ``tf.distribute``, the same update as on one device.

This module chooses the strategy for ``TrainConfig.devices`` and holds what InfoGAN's ``train_step`` needs to
compute the same update on N replicas as on one device.

One device (``devices=1``, the default) uses no strategy at all: the model trains exactly as it always has.
Several devices train under ``tf.distribute.MirroredStrategy``, one replica per device (the GPUs, or the
logical CPU devices of a machine without a GPU). The global batch stays ``batch_size``: each replica gets
``batch_size / N`` of its images, and the optimizers apply the sum of the replicas' gradients, so each
replica's loss is its share of the global-batch loss (:func:`replica_loss`). Machines named in the environment
variable ``TF_CONFIG`` train together under ``MultiWorkerMirroredStrategy`` (``docs/devices.md``).
"""

import itertools
import json
import os

# TensorFlow is imported inside the functions that use it: TrainConfig checks its devices here, and a
# configuration alone must not load TensorFlow (the command line imports it quietly, later).
ALL = "all"
NO_STRATEGY = "none"  # what timing.json records for a run trained on one device without a strategy
# Each MirroredStrategy numbers its all-reduces from the same group and instance keys, and TensorFlow's runtime
# remembers each key's shape for the whole process: a second strategy training another model would have its
# all-reduces paired with the first one's shapes ("Shape mismatch in the collective instance",
# tensorflow/tensorflow#62790). Every strategy made here gets its own range of group keys, as TensorFlow's own
# tests give theirs (``MirroredStrategy._collective_key_base``).
_COLLECTIVE_KEY_RANGE = 1000
_strategies_made = itertools.count(1)


def parse_devices(devices):
    """``devices`` as a positive int or ``"all"`` (a digit string is read as its int); a ValueError otherwise."""
    if isinstance(devices, str) and devices.strip().isdigit():
        devices = int(devices)
    if devices == ALL or (isinstance(devices, int) and not isinstance(devices, bool) and devices >= 1):
        return devices
    raise ValueError(f"devices must be a positive number of devices or 'all', got {devices!r}")


def worker_count():
    """How many machines the environment variable ``TF_CONFIG`` names as workers (1 when it is not set)."""
    text = os.environ.get("TF_CONFIG", "")
    if not text:
        return 1
    try:
        cluster = json.loads(text).get("cluster", {})
    except (json.JSONDecodeError, AttributeError):
        raise ValueError(f"TF_CONFIG is not a JSON object with a cluster: {text[:80]!r}") from None
    return len(cluster.get("worker", [])) + len(cluster.get("chief", []))


def local_devices():
    """The names of the devices of this machine that replicas run on: its GPUs, or its CPU devices without one
    (one CPU device unless logical ones were configured with ``tf.config.set_logical_device_configuration``)."""
    import tensorflow as tf

    devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
    return [device.name for device in devices]


def on_cpus():
    """True when the replicas run on CPU devices: this machine has no GPU."""
    import tensorflow as tf

    return not tf.config.list_logical_devices("GPU")


def make_strategy(devices, batch_size):
    """The ``tf.distribute`` strategy for ``devices``, or None for one device (no strategy: the default path).

    ``devices`` is a count or ``"all"``; ``"all"`` with ``TF_CONFIG`` naming several workers gives a
    ``MultiWorkerMirroredStrategy`` over every worker's devices, and any count other than 1 is then refused.
    Raises ValueError when the machine has fewer devices than asked, or when ``batch_size`` cannot be split evenly
    between the replicas.
    """
    import tensorflow as tf

    devices = parse_devices(devices)
    if devices == 1:  # whatever TF_CONFIG says: one device is the default path, and how a run is read back
        return None
    if devices == ALL and worker_count() > 1:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
        check_batch_split(batch_size, strategy.num_replicas_in_sync)
        return strategy
    if worker_count() > 1:
        raise ValueError(f"TF_CONFIG names {worker_count()} workers: train with devices='all' (--devices all) "
                         "to use every worker's devices, or unset TF_CONFIG")
    available = local_devices()
    count = len(available) if devices == ALL else devices
    if count > len(available):
        raise ValueError(f"devices={count} asks for more devices than this machine has ({len(available)}: "
                         f"{', '.join(available)})")
    check_batch_split(batch_size, count)
    if count == 1:
        return None
    return _mirrored_strategy_of_its_own(available[:count])


def _mirrored_strategy_of_its_own(devices):
    """A ``MirroredStrategy`` over ``devices`` whose collective keys no other strategy of this process uses; the
    class attribute it reads at construction is put back, so strategies made elsewhere keep TensorFlow's numbering."""
    import tensorflow as tf

    previous = tf.distribute.MirroredStrategy._collective_key_base
    tf.distribute.MirroredStrategy._collective_key_base = next(_strategies_made) * _COLLECTIVE_KEY_RANGE
    try:
        return tf.distribute.MirroredStrategy(devices)
    finally:
        tf.distribute.MirroredStrategy._collective_key_base = previous


def check_batch_split(batch_size, replicas):
    """Raise ValueError unless a global batch of ``batch_size`` splits evenly between ``replicas``."""
    if batch_size % replicas:
        raise ValueError(f"batch_size {batch_size} does not split evenly between {replicas} devices: choose a "
                         f"multiple of {replicas}")


def synchronize_batch_norm(*networks):
    """Make the batch-norm layers of ``networks`` normalise with the statistics of the global batch, all-reduced
    between the replicas, as one device does, instead of each replica's share. The attribute is read at each call,
    and holds no weight: the checkpoints are the same as without it."""
    import keras

    for network in networks:
        for layer in network._flatten_layers():
            if isinstance(layer, keras.layers.BatchNormalization):
                layer.synchronized = True


def replicas_in_sync():
    """How many replicas compute the current step together: 1 outside a strategy."""
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    return context.num_replicas_in_sync if context is not None else 1


def replica_slice(values, size):
    """This replica's rows of ``values``, a tensor with the rows of every replica: the ``size`` rows at
    ``replica_id * size``, as the strategy splits a global batch of images between the replicas."""
    import tensorflow as tf

    start = tf.distribute.get_replica_context().replica_id_in_sync_group * size
    return values[start:start + size]


def replica_loss(loss, replicas):
    """A replica's mean loss over its share of the batch, as its part of the global batch's mean loss.

    The optimizers apply the *sum* of the replicas' gradients; N equal shares of the batch have a global mean
    loss of (sum of the N replica means) / N, so each replica's loss is divided by N. Without it, N replicas
    would take steps N times too large. One replica keeps its loss as it is (no division in its graph).
    """
    return loss if replicas == 1 else loss / replicas


def logs_for_strategy(logs):
    """A step's logs (scalars) as ``fit`` can reduce them. Across several workers Keras averages each log over
    the batch axis, which a scalar lacks: there each becomes a vector of one value. Elsewhere they are unchanged."""
    import tensorflow as tf

    if not isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        return logs
    return {name: tf.reshape(value, [1]) for name, value in logs.items()}


def describe_strategy(model):
    """``{"strategy": name, "devices": replicas}`` for a model, as timing.json records them."""
    strategy = getattr(model, "_distribute_strategy", None)
    if strategy is None:
        return {"strategy": NO_STRATEGY, "devices": 1}
    return {"strategy": type(strategy).__name__, "devices": strategy.num_replicas_in_sync}
