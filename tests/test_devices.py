"""Training on several devices (``TrainConfig(devices=N)``), checked on two logical CPU devices.

Logical CPU devices share the same cores: they show that N replicas compute what one device does, not speed.
The measurements run in one child process (``tests/two_devices.py``), because TensorFlow splits its CPU into logical
devices only before it initialises them. The child runs once per session: the first test to need its report makes
it, and ``conftest.py`` deals the other two out last.
"""

import json
import os
import pathlib
import subprocess
import sys

import pytest
from shared import shared_folder

from infogan_utils import cli, distribute
from infogan_utils.runs import TrainConfig

ROOT = pathlib.Path(__file__).resolve().parent.parent


def run_on_two_devices(*arguments):
    """``tests/two_devices.py ARGUMENTS`` in a fresh Python; returns the JSON it prints."""
    environment = os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    # The timeout only guards against a hang: the child took 170 to 270 s on an idle 2-core EPYC, and a checker
    # that runs the suite twice as long must not reach it.
    result = subprocess.run([sys.executable, str(ROOT / "tests" / "two_devices.py"), *map(str, arguments)],
                            capture_output=True, text=True, env=environment, cwd=ROOT, timeout=1500, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["devices"] == ["/device:CPU:0", "/device:CPU:1"]
    return report


@pytest.fixture(scope="module")
def two_devices(tmp_path_factory, mnist_path):
    """The three measurements on two logical devices: the same steps, a resumed run, the learning check; made once
    per session (``shared.shared_folder``)."""
    def measure(folder):
        folder.mkdir()
        report = run_on_two_devices("same_steps", f"resume={folder / 'resume'}", f"learning={mnist_path}")
        (folder / "report.json").write_text(json.dumps(report))

    return json.loads((shared_folder(tmp_path_factory, "two-devices", measure) / "report.json").read_text())


# Tolerances, each measured on a 2-core EPYC (float32 without XLA) and given a margin of 10 or more:
# - After one step, the Adam moments hold the gradient itself (m = 0.5 g, v = 0.001 g^2). Two replicas add each
#   half batch's sum, then the halves, and the synchronised batch norm computes E[x^2] - E[x]^2 where one device
#   takes the mean of squared deviations: float32 sums in another order, some 1e-6 relative (measured 3.4e-6).
#   1e-4 bounds it; summing the replicas' mean losses doubles m and quadruples v, a relative difference of 1.0.
# - Adam divides each gradient by its own size, so a weight whose gradient is as small as that rounding can step by
#   its learning rate either way: 107 of the 13 million weights moved by more than 1e-5 after one step. The updates
#   differ by 9.6e-5 relative after one step (1e-3 allowed); the next steps' gradients see those weights, and Adam
#   passes the change on at full size, so after three steps the updates differ by 8.8e-3 and the moments by 1.7e-2
#   relative (5e-2 and 1e-1 allowed). Latents drawn per replica instead of sliced from the global batch's differed
#   by up to 0.065 per weight after two steps, in an earlier attempt.
ONE_STEP = {"moments": 1e-4, "updates": 1e-3, "batch_norm": 1e-5}
THREE_STEPS = {"moments": 1e-1, "updates": 5e-2, "batch_norm": 1e-3}


def test_two_replicas_take_the_steps_one_device_takes(two_devices):
    """Two replicas, each on half of a global batch of 32, train like one device on the whole batch; the same
    measure tells apart replicas that sum their mean losses."""
    report = two_devices["same_steps"]
    assert report["steps"] == [3, 3] and report["initial_weights_equal"]
    for name, tolerance in ONE_STEP.items():
        assert report["after_1"][name] < tolerance, (name, report["after_1"])
    for name, tolerance in THREE_STEPS.items():
        assert report["after_3"][name] < tolerance, (name, report["after_3"])
    # a weight's largest difference stays below the two-learning-rate swing of a sign flip (G's rate 1e-3)
    assert report["after_1"]["largest_weight_difference"] < 2e-3
    # the classic bug: the all-reduce sums the replicas' gradients, each of its own mean loss, so m doubles
    assert report["summed_losses_after_1"]["moments"] == pytest.approx(1.0, abs=0.01)


def test_two_replicas_take_the_contrastive_regularisers_step(two_devices):
    """InfoGAN-CR's regulariser, on from the first step: two replicas take one device's step, H included. The model
    trains after two others on two devices in the same process, which once failed on reused collective keys."""
    report = two_devices["same_steps"]["contrastive_after_1"]
    for name, tolerance in ONE_STEP.items():
        assert report[name] < tolerance, (name, report)
    assert report["largest_weight_difference"] < 2e-3


def test_a_run_resumes_on_another_number_of_devices(two_devices):
    """2 steps on two devices then 2 on one, and 2 on one then 2 on two: both runs reach step 4 with the same
    sampler state and, within the tolerance of three steps above, the same weights; timing.json and config.json
    record each session's strategy and device count."""
    report = two_devices["resume"]
    for name, devices in (("2-then-1", (2, 1)), ("1-then-2", (1, 2))):
        sessions = report[name]["sessions"]
        assert [session["steps"] for session in sessions] == [2, 4]
        assert [session["timing"]["steps"] for session in sessions] == [2, 4]
        assert [session["timing"]["devices"] for session in sessions] == list(devices)
        assert [session["config_devices"] for session in sessions] == list(devices)
        assert [session["timing"]["strategy"] for session in sessions] == [
            "MirroredStrategy" if count == 2 else "none" for count in devices]
    assert report["same_keys"] and report["same_sampler_and_counter"]
    assert report["updates_relative_difference"] < THREE_STEPS["updates"], report


@pytest.mark.parametrize("settings, message", [
    ({"devices": 0}, "devices must be a positive number of devices or 'all', got 0"),
    ({"devices": "two"}, "devices must be a positive number of devices or 'all', got 'two'"),
    ({"devices": 3, "batch_size": 64}, "batch_size 64 does not split evenly between 3 devices: choose a multiple of 3"),
])
def test_invalid_device_counts_are_refused(settings, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**settings)


def test_device_counts_are_read_from_the_command_line_and_a_resumed_run_may_change_them():
    assert TrainConfig(devices="2").devices == 2 and TrainConfig(devices="all").devices == "all"
    assert TrainConfig(devices=2).differences(TrainConfig()) == []
    assert TrainConfig.from_dict({key: value for key, value in TrainConfig().to_dict().items()
                                  if key != "devices"}).devices == 1  # a config.json written before devices


def test_more_devices_than_the_machine_has_are_refused(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    count = len(distribute.local_devices())
    with pytest.raises(ValueError, match=f"devices={count + 1} asks for more devices than this machine has "
                                         f"\\({count}: "):
        distribute.make_strategy(count + 1, 64 * (count + 1))
    assert distribute.make_strategy(1, 64) is None  # one device: no strategy at all
    if count == 1:
        assert distribute.make_strategy("all", 64) is None


def test_each_strategy_numbers_its_collectives_apart_from_the_others():
    """Two strategies of one process get different group keys for the same devices (the two-device report shows the
    third model training), and TensorFlow's own numbering is left as it was for strategies made elsewhere."""
    import tensorflow as tf

    before = tf.distribute.MirroredStrategy._collective_key_base
    device = distribute.local_devices()[0]
    strategies = [distribute._mirrored_strategy_of_its_own([device]) for _ in range(2)]
    canonical = [strategy.extended.worker_devices[0] for strategy in strategies]
    keys = [strategy.extended._collective_keys.get_group_key([name])
            for strategy, name in zip(strategies, canonical, strict=True)]
    assert canonical[0] == canonical[1] and keys[0] != keys[1]
    assert tf.distribute.MirroredStrategy._collective_key_base == before


def test_tf_config_with_several_workers_asks_for_all_devices(monkeypatch):
    cluster = {"cluster": {"worker": ["127.0.0.1:1", "127.0.0.1:2"]}, "task": {"type": "worker", "index": 0}}
    monkeypatch.setenv("TF_CONFIG", json.dumps(cluster))
    assert distribute.worker_count() == 2
    with pytest.raises(ValueError, match="TF_CONFIG names 2 workers: train with devices='all'"):
        distribute.make_strategy(2, 64)
    assert distribute.make_strategy(1, 64) is None  # one device ignores TF_CONFIG: how a run is read back
    monkeypatch.setenv("TF_CONFIG", "not json")
    with pytest.raises(ValueError, match="TF_CONFIG is not a JSON object with a cluster"):
        distribute.worker_count()


def test_the_command_line_refuses_a_batch_that_does_not_split(capsys):
    with pytest.raises(SystemExit) as exit_status:
        cli.main(["train", "--devices", "3", "--batch-size", "64", "--out", "unused"])
    assert exit_status.value.code == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "infogan train: error: batch_size 64 does not split evenly between 3 devices: choose a multiple of 3"]


def test_a_run_trained_on_several_devices_is_read_back_on_one(tmp_path):
    """Figures and metrics come from the checkpoint on one device, even on a machine with fewer devices than the
    run trained on."""
    from infogan_utils.checkpoints import save_checkpoint
    from infogan_utils.runs import build_model, load_run_model

    config = TrainConfig(seed=5, batch_size=32, devices=2)
    (tmp_path / "config.json").write_text(json.dumps(config.to_dict()))
    trained = build_model(TrainConfig(seed=5, batch_size=32), jit_compile=False)
    save_checkpoint(trained, tmp_path / "checkpoint.npz")
    model = load_run_model(tmp_path)
    assert distribute.describe_strategy(model) == {"strategy": "none", "devices": 1}
    for saved, loaded in zip(trained.generator.weights, model.generator.weights, strict=True):
        assert (saved.numpy() == loaded.numpy()).all()


def test_two_replicas_learn_what_one_device_learns(two_devices):
    """The default objective's learning test, trained on two replicas: the same thresholds as on one device
    (tests/learning_checks.py), set from the spread over seeds and compute modes."""
    report = two_devices["learning"]
    assert report["failures"] == [], report["measured"]
