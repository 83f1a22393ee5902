import csv
import dataclasses
import json

import keras
import learning_checks
import numpy as np
import pytest
from shared import shared_folder
from two_devices import relative_difference

from infogan_utils import checkpoints, training
from infogan_utils.codes import LatentSpec
from infogan_utils.data import make_dataset, write_shapes_folder
from infogan_utils.models import build_infogan_models
from infogan_utils.runs import (TrainConfig, build_model, evaluate_run, read_config, resolve_compute,
                                resolve_image_format, train_run)
from infogan_utils.training import InfoGAN, fit_steps, make_optimizers


def small_model(seed=0):
    return build_model(TrainConfig(seed=seed), jit_compile=False)


# The learning tests' thresholds (learning_checks.THRESHOLDS) sit below the smallest value measured over seeds
# 0-5, with a margin; the spread is in benchmarks/LEARNING_CHECKS.md (`python benchmarks/learning_checks.py`).

def test_the_categorical_code_is_learned(mnist_path, compute_mode):
    """After 150 steps on 4,096 real digits, Q recovers the category and c2 from G's images, and L_I rises."""
    measured = learning_checks.plain_objective(mnist_path, seed=0)
    assert not learning_checks.failures("plain_objective", measured), measured
    # the label-free real-data diagnostic: Q sorts real digits ever more confidently and evenly (every seed)
    # (first 0.293 to 0.338, last 0.427 to 0.522 over two measurements of 12 runs each; the smallest rise 0.13)
    assert measured["last_real_mi"] - measured["first_real_mi"] > 0.05, measured


def test_the_threshold_check_flags_what_misses():
    good = {"last_mi": 2.19, "distorted_accuracy": 0.6}
    assert learning_checks.failures("distorted_objective", good) == []
    assert learning_checks.failures("distorted_objective", good | {"distorted_accuracy": 0.2}) == \
        ["distorted_accuracy = 0.200, expected > 0.3"]
    assert learning_checks.failures("no_information_term", {"max_mi": 0.3}) == ["max_mi = 0.300, expected < 0.0"]
    with pytest.raises(KeyError):  # a quantity the check did not measure is an error, not a pass
        learning_checks.failures("distorted_objective", {"last_mi": 2.19})


def test_with_categorical_augmentation_q_reads_the_category_from_distorted_images(mnist_path, compute_mode):
    """Q only ever sees the categorical code through random distortions, and still learns it."""
    measured = learning_checks.distorted_objective(mnist_path, seed=0)
    assert not learning_checks.failures("distorted_objective", measured), measured


def test_a_negative_augmentation_strength_is_refused():
    generator, discriminator = build_infogan_models()
    for value in (-1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="categorical_augmentation must be a finite number that is not negative"):
            InfoGAN(generator, discriminator, categorical_augmentation=value)
        with pytest.raises(ValueError, match="categorical_augmentation must be a finite number that is not negative"):
            TrainConfig(categorical_augmentation=value)
    with pytest.raises(ValueError, match="continuous_weight must be a finite number"):
        InfoGAN(generator, discriminator, continuous_weight=float("nan"))


def test_an_augmentation_fraction_outside_zero_to_one_is_refused():
    generator, discriminator = build_infogan_models()
    for value in (0.0, -0.5, 1.5, float("nan")):
        with pytest.raises(ValueError, match=r"augmentation_fraction must be in \(0, 1\]"):
            InfoGAN(generator, discriminator, augmentation_fraction=value)


class RecordingDiscriminator:
    """Passes calls on to a discriminator and records the batch size of each call."""

    def __init__(self, discriminator):
        self.discriminator = discriminator
        self.batch_sizes = []

    def __call__(self, images, training=False):
        self.batch_sizes.append(int(images.shape[0]))
        return self.discriminator(images, training=training)

    @property
    def trainable_weights(self):
        return self.discriminator.trainable_weights


@pytest.mark.parametrize("fraction, distorted", [(1.0, 8), (0.5, 4), (0.3, 3), (0.01, 1)])
def test_the_distorted_pass_reads_the_first_share_of_the_generated_batch(fraction, distorted):
    """D runs on the real batch, the generated batch, then on ceil(fraction * 8) distorted images."""
    built = build_model(TrainConfig(seed=2), jit_compile=False)
    recording = RecordingDiscriminator(built.discriminator)
    model = InfoGAN(built.generator, recording, built.spec, augmentation_fraction=fraction)
    model.compile(*make_optimizers(), jit_compile=False)
    images = np.random.default_rng(0).random((8, 28, 28, 1), dtype=np.float32)
    logs = model.train_step(images)
    assert recording.batch_sizes == [8, 8, distorted]
    assert all(np.isfinite(float(value)) for value in logs.values())


@pytest.mark.parametrize("unread", [{"invariant_codes": 0}, {"continuous_weight": 0.0, "invariant_codes": 1}])
def test_when_nothing_reads_the_distorted_images_the_augmentation_pass_is_skipped(unread):
    """With lambda_cat = 0, and either no invariant code or lambda_cont = 0, nothing reads the distorted images, so
    they must not touch D's batch-norm statistics. (Without InfoGAN-CR's regulariser, whose partner images draw
    from the same random stream, in both runs.)"""
    images = np.random.default_rng(0).integers(0, 255, (64, 28, 28)).astype(np.uint8)
    trained = []
    for augmentation in (0.0, 1.0):
        settings = unread if augmentation else {key: value for key, value in unread.items() if key != "invariant_codes"}
        model = build_model(TrainConfig(seed=5, categorical_weight=0.0, categorical_augmentation=augmentation,
                                        contrastive_weight=0.0, **settings), jit_compile=False)
        model.fit(make_dataset(images, 16, seed=0), epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
        trained.append(model)
    for plain, augmented in zip(trained[0].discriminator.weights, trained[1].discriminator.weights):
        assert np.array_equal(np.asarray(plain), np.asarray(augmented)), plain.path


def test_without_the_information_term_q_learns_nothing(mnist_path, compute_mode):
    measured = learning_checks.no_information_term(mnist_path, seed=0)
    assert not learning_checks.failures("no_information_term", measured), measured


def test_fit_steps_takes_exactly_the_requested_steps():
    model = small_model()
    dataset = make_dataset(np.zeros((64, 28, 28), np.uint8), batch_size=16)
    fit_steps(model, dataset, steps=7, steps_per_epoch=3, verbose=0)
    assert model.steps == 7
    fit_steps(model, dataset, steps=12, steps_per_epoch=3, initial_step=7, verbose=0)
    assert model.steps == 12
    with pytest.raises(ValueError, match="steps must not be negative"):
        fit_steps(model, dataset, steps=-1)


def test_a_spectrally_normalised_run_is_read_back_as_it_trained(tmp_path, mnist_path):
    """spectral_norm is part of what a run is: config.json records it, and the run folder (or an exported file's
    config) rebuilds the wrapped layers, so the checkpoint's arrays land where they came from."""
    from infogan_utils.runs import architecture_options, load_run_model

    config = TrainConfig(steps=2, batch_size=32, train_subset=256, steps_per_epoch=2, seed=6, spectral_norm=True)
    model, _ = train_run(tmp_path / "run", config, verbose=0, evaluate=False, jit_compile=False)
    assert json.loads((tmp_path / "run" / "config.json").read_text())["spectral_norm"] is True
    restored = load_run_model(tmp_path / "run")
    for saved, loaded in zip(model.discriminator.weights, restored.discriminator.weights, strict=True):
        assert saved.path.rsplit("/", 1)[-1] == loaded.path.rsplit("/", 1)[-1]
        assert np.array_equal(np.asarray(saved), np.asarray(loaded))
    assert architecture_options({}) == {"q_hidden": 128, "learn_std": False, "codes_every_layer": False,
                                        "spectral_norm": False}  # a file written before the setting existed
    assert architecture_options(config.to_dict())["spectral_norm"] is True


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    model = small_model(seed=1)
    dataset = make_dataset(np.random.default_rng(0).integers(0, 255, (64, 28, 28)).astype(np.uint8), 16)
    model.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    path = checkpoints.save_checkpoint(model, tmp_path / "checkpoint.npz")
    assert not (tmp_path / "checkpoint.npz.tmp").exists()
    restored = small_model(seed=2)
    meta = checkpoints.load_checkpoint(restored, path)
    assert meta["steps"] == 2 and restored.steps == 2
    latent = LatentSpec().sample(8, seed=0)
    args = (latent["noise"], latent["categorical"], latent["continuous"])
    assert np.array_equal(model.generate(*args), restored.generate(*args))
    images = model.generate(*args)
    for original, copy in zip(model.predict_codes(images), restored.predict_codes(images)):
        assert np.array_equal(original, copy)
    for a, b in zip(model.d_optimizer.variables, restored.d_optimizer.variables):
        assert np.array_equal(np.asarray(a), np.asarray(b))


def test_a_damaged_checkpoint_gives_one_clear_error_and_changes_nothing(tmp_path):
    model = small_model()
    path = checkpoints.save_checkpoint(model, tmp_path / "checkpoint.npz")
    before = [np.asarray(w).copy() for w in model.generator.weights]
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(checkpoints.CheckpointError, match="is damaged") as error:
        checkpoints.load_checkpoint(model, path)
    assert "\n" not in str(error.value)
    assert all(np.array_equal(a, np.asarray(b)) for a, b in zip(before, model.generator.weights))
    with pytest.raises(checkpoints.CheckpointError, match="no such checkpoint"):
        checkpoints.load_checkpoint(model, tmp_path / "absent.npz")


def test_a_checkpoint_of_another_architecture_is_refused(tmp_path):
    path = checkpoints.save_checkpoint(small_model(), tmp_path / "checkpoint.npz")
    other = build_model(TrainConfig(q_hidden=64), jit_compile=False)
    with pytest.raises(checkpoints.CheckpointError, match="shape"):
        checkpoints.load_checkpoint(other, path)
    other_spec = build_model(TrainConfig(continuous_dim=3), jit_compile=False)
    with pytest.raises(checkpoints.CheckpointError, match="latent spec"):
        checkpoints.load_checkpoint(other_spec, path)


def rewrite_spec(path, change):
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    meta = json.loads(str(arrays["meta"]))
    change(meta["spec"])
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def test_a_checkpoint_written_before_noise_scale_existed_still_loads(tmp_path):
    model = small_model()
    path = checkpoints.save_checkpoint(model, tmp_path / "checkpoint.npz")
    rewrite_spec(path, lambda spec: spec.pop("noise_scale"))  # the format of older releases
    restored = small_model(seed=1)
    checkpoints.load_checkpoint(restored, path)
    assert all(np.array_equal(a, b) for a, b in zip(model.generator.get_weights(), restored.generator.get_weights()))
    rewrite_spec(path, lambda spec: spec.update(noise_scale=0.5))
    with pytest.raises(checkpoints.CheckpointError, match="latent spec"):
        checkpoints.load_checkpoint(small_model(), path)


def test_a_run_folder_is_complete(tiny_run):
    run_dir, model, metrics = tiny_run
    for name in ("config.json", "checkpoint.npz", "history.csv", "steps.csv", "metrics.json", "timing.json",
                 "traversal_c2.png", "traversal_c3.png", "grids/epoch_001.png", "grids/epoch_002.png"):
        assert (run_dir / name).is_file(), name
    saved = json.loads((run_dir / "metrics.json").read_text())
    assert saved["steps"] == 12 and saved["config"]["train_subset"] == 1024
    matrix = np.array(saved["confusion_matrix"])  # [label, category]
    assert matrix.shape == (10, 10) and matrix.sum() == 10000
    assert sorted(saved["cluster_to_label"]) == list(range(10))
    # both accuracies follow from the confusion matrix: the Hungarian map's cells, each category's largest cell
    matched = sum(matrix[label, category] for category, label in enumerate(saved["cluster_to_label"]))
    assert saved["hungarian_accuracy"] == pytest.approx(matched / 10000, abs=1e-12)
    assert saved["majority_accuracy"] == pytest.approx(matrix.max(axis=0).sum() / 10000, abs=1e-12)
    timing = json.loads((run_dir / "timing.json").read_text())
    assert timing["steps"] == 12
    assert saved["images_per_second"] == pytest.approx(12 * 32 / timing["wall_time_seconds"], rel=0.01)


def checkpoint_arrays(path):
    with np.load(path) as archive:
        return {key: archive[key] for key in archive.files if key != "meta"}


def assert_same_arrays(first, second):
    assert sorted(first) == sorted(second)
    for key in first:
        assert np.array_equal(first[key], second[key]), key


RESUME_CONFIG = TrainConfig(steps=12, batch_size=32, train_subset=256, steps_per_epoch=4, seed=2)


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory, mnist_path):
    """12 steps in one go; 256 images make 8 batches a pass, so the run crosses a pass of the data. Trained once
    per session (``shared.shared_folder``): the two resume tests may run on two xdist workers."""
    return shared_folder(tmp_path_factory, "straight-run",
                         lambda folder: train_run(folder, RESUME_CONFIG, verbose=0, evaluate=False, jit_compile=True))


@pytest.mark.parametrize("stop", [4, 6])
def test_a_resumed_run_is_bit_identical_to_a_straight_one(straight_run, tmp_path, stop):
    """Stopping after `stop` steps and resuming gives the same weights, optimizer state and sampler state.

    At an epoch boundary (4) the step log is identical too; stopping mid-epoch (6) restarts Keras' running
    means, so only the state is compared there.
    """
    run_dir = tmp_path / "run"
    exact = {"verbose": 0, "evaluate": False, "jit_compile": True}  # the exact mode, whatever the CPU
    train_run(run_dir, TrainConfig(**(RESUME_CONFIG.to_dict() | {"steps": stop})), **exact)
    model, _ = train_run(run_dir, RESUME_CONFIG, **exact)
    assert model.steps == 12
    assert_same_arrays(checkpoint_arrays(straight_run / "checkpoint.npz"), checkpoint_arrays(run_dir / "checkpoint.npz"))
    if stop % RESUME_CONFIG.steps_per_epoch == 0:
        assert (run_dir / "steps.csv").read_text() == (straight_run / "steps.csv").read_text()
        with open(run_dir / "steps.csv") as handle:
            assert [int(row["step"]) for row in csv.DictReader(handle)] == [4, 8, 12]


def test_a_run_folder_with_another_configuration_is_refused(tiny_run):
    run_dir, _, _ = tiny_run
    with pytest.raises(ValueError, match="another configuration .*seed"):
        train_run(run_dir, TrainConfig(steps=12, batch_size=32, train_subset=1024, steps_per_epoch=6, seed=4))


@pytest.mark.parametrize("changes, message", [
    ({"steps": -5}, "steps must not be negative"), ({"dataset": "cifar10"}, "unknown dataset"),
    ({"batch_size": 0}, "batch_size must be positive"), ({"beta_1": 1.0}, "beta_1"),
    ({"categorical_weight": -1.0}, "categorical_weight must be a finite number that is not negative"),
    ({"continuous_weight": float("nan")}, "continuous_weight must be a finite number"),
    ({"d_learning_rate": float("inf")}, "d_learning_rate must be a positive finite number"),
    ({"noise_scale": float("nan")}, "noise_scale must be a positive finite number"),
    ({"train_subset": 10}, "smaller than a batch"),
    ({"invariant_codes": -1}, r"invariant_codes \(-1\) must lie between 0 and the 2 continuous codes"),
    ({"invariant_codes": 3}, r"invariant_codes \(3\) must lie between 0 and the 2 continuous codes"),
    ({"invariant_codes": 1, "categorical_augmentation": 0.0},
     "invariant_codes=1 reads codes from distorted images: give categorical_augmentation above 0, or invariant_codes=0"),
    ({"images": "photos", "image_size": 48}, "image_size must be one of 28, 32, 64 .the paper's networks., or 0"),
    ({"images": "photos", "channels": 4}, r"channels must be 1 \(greyscale\) or 3 \(RGB\), or 0"),
    ({"image_size": 64}, "mnist's images are 28x28 greyscale; image_size and channels choose the format of a folder"),
    ({"dataset": "fashion_mnist", "channels": 3}, "fashion_mnist's images are 28x28 greyscale"),
    ({"architecture": "chairs"}, "architecture 'chairs' does not match image_size 28 .mnist.; leave it out"),
    ({"spectral_norm": True, "devices": 2}, "spectral_norm trains on one device only"),
    ({"real_consistency": -0.5}, "real_consistency must be a finite number that is not negative"),
    ({"real_consistency": 1.0, "categorical_augmentation": 0.0},
     "real_consistency=1.0 asks Q for the same category .* needs a categorical code and categorical_augmentation"),
    ({"real_consistency": 1.0, "categorical_dims": ()}, "needs a categorical code"),
    ({"contrastive_weight": -1.0}, "contrastive_weight must be a finite number that is not negative"),
    ({"contrastive_weight": 1.0, "continuous_dim": 1}, "needs two continuous codes or more, got 1"),
    ({"contrastive_start": -1}, "contrastive_start must be a step"), ({"contrastive_start": 2.5}, "must be a step")])
def test_invalid_configurations(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes)


def test_the_image_format_is_filled_in_from_the_dataset_or_the_folder(tmp_path):
    """A built-in dataset is 28x28 grey at once; a folder's format is read from its files when a run needs it, and
    a configuration saved before the format was recorded reads as 28x28 grey (what every such run trained on)."""
    assert (TrainConfig().image_size, TrainConfig().channels, TrainConfig().architecture) == (28, 1, "mnist")
    write_shapes_folder(tmp_path / "shapes", per_class=2)
    folder_config = TrainConfig(images=str(tmp_path / "shapes"))
    assert (folder_config.image_size, folder_config.channels, folder_config.architecture) == (0, 0, "")
    with pytest.raises(ValueError, match="comes from its folder"):
        folder_config.image_shape
    resolved = resolve_image_format(folder_config)
    assert resolved.image_shape == (64, 64, 3) and resolved.architecture == "chairs"
    assert resolve_image_format(dataclasses.replace(folder_config, image_size=32)).image_shape == (32, 32, 3)
    assert TrainConfig.from_dict(resolved.to_dict()) == resolved
    old = resolved.to_dict()
    for key in ("image_size", "channels", "architecture"):
        del old[key]
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps(old))
    assert read_config(tmp_path / "run").image_shape == (28, 28, 1)


def test_invariant_codes_default_to_one_with_the_distortion_and_old_runs_read_as_zero(tmp_path):
    """The default reads c2 from the distorted images; without the distortion (the paper's objective) there is
    nothing distorted to read it from, so the default is 0 there. A config.json written before the setting
    existed describes a run that trained with 0, and is read so."""
    assert TrainConfig().invariant_codes == 1 and TrainConfig(invariant_codes=2).invariant_codes == 2
    assert TrainConfig(categorical_augmentation=0.0).invariant_codes == 0
    assert TrainConfig(categorical_augmentation=0.5, invariant_codes=0).invariant_codes == 0
    assert TrainConfig(continuous_dim=0).invariant_codes == 0  # no continuous code to read
    assert TrainConfig.from_dict(TrainConfig().to_dict()) == TrainConfig()  # the resolved value is what is saved
    old = TrainConfig().to_dict()
    del old["invariant_codes"]
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps(old))
    assert read_config(tmp_path / "run").invariant_codes == 0
    generator, discriminator = build_infogan_models()
    assert training.InfoGAN(generator, discriminator).invariant_codes == 1
    assert training.InfoGAN(generator, discriminator, categorical_augmentation=0.0).invariant_codes == 0


def test_the_contrastive_regulariser_defaults_on_with_the_distortion_and_old_runs_read_without_it(tmp_path):
    """TrainConfig's runs use InfoGAN-CR's regulariser at 0.5 from step 2500; the paper's objective (no distortion)
    and a single continuous code leave it out. A config.json written before the settings existed, or with the
    regulariser off, reads back as the run that trained without it (weight 0, start 0)."""
    assert (TrainConfig().contrastive_weight, TrainConfig().contrastive_start) == (0.5, 2500)
    assert (TrainConfig(categorical_augmentation=0.0).contrastive_weight,
            TrainConfig(categorical_augmentation=0.0).contrastive_start) == (0.0, 0)
    assert TrainConfig(continuous_dim=1).contrastive_weight == 0.0
    assert TrainConfig(contrastive_weight=0.0, contrastive_start=100).contrastive_start == 0
    assert TrainConfig(contrastive_weight=1.0, contrastive_start=10).contrastive_weight == 1.0
    assert TrainConfig(categorical_augmentation=0.0, contrastive_weight=0.5).contrastive_start == 2500
    with pytest.raises(ValueError, match="needs two continuous codes or more, got 1"):
        TrainConfig(continuous_dim=1, contrastive_weight=0.5)
    old = TrainConfig().to_dict()
    del old["contrastive_weight"], old["contrastive_start"]
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps(old))
    legacy = read_config(tmp_path / "run")
    assert (legacy.contrastive_weight, legacy.contrastive_start) == (0.0, 0)
    assert legacy.differences(TrainConfig()) == ["contrastive_weight", "contrastive_start"]
    assert legacy == TrainConfig.from_dict(legacy.to_dict())
    model = build_model(TrainConfig(batch_size=32), jit_compile=False)
    assert model.contrastive_classifier is not None and (model.contrastive_weight, model.contrastive_start) == (0.5, 2500)
    generator, discriminator = build_infogan_models()
    assert training.InfoGAN(generator, discriminator).contrastive_classifier is None  # the class itself: off


def test_the_model_refuses_a_mismatched_generator():
    generator, discriminator = build_model(TrainConfig(), jit_compile=False).generator, None
    with pytest.raises(ValueError, match="input_dim"):
        InfoGAN(generator, discriminator, LatentSpec(noise_dim=10))


def test_optimizers_have_the_papers_defaults():
    d_optimizer, g_optimizer = make_optimizers()
    assert float(np.asarray(d_optimizer.learning_rate)) == pytest.approx(2e-4)
    assert float(np.asarray(g_optimizer.learning_rate)) == pytest.approx(1e-3)
    assert d_optimizer.beta_1 == 0.5 and g_optimizer.beta_1 == 0.5


def weights_after_three_steps(config, jit_compile=True):
    images = np.random.default_rng(0).integers(0, 255, (96, 28, 28)).astype(np.uint8)
    model = build_model(config, jit_compile=jit_compile)
    model.fit(make_dataset(images, 32, seed=7), epochs=1, steps_per_epoch=3, verbose=0, shuffle=False)
    return [np.asarray(w) for w in model.generator.weights + model.discriminator.weights]


def test_training_is_reproducible_with_a_seed():
    """The exact mode (float32 with XLA) gives bit-identical weights for the same seed, distorted pass included."""
    first, second = weights_after_three_steps(TrainConfig(seed=7)), weights_after_three_steps(TrainConfig(seed=7))
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_without_xla_the_papers_objective_is_reproducible_too_and_another_seed_differs():
    """(Another seed is checked without XLA, which compiles in a third of the time.)"""
    paper = TrainConfig(seed=7, categorical_augmentation=0.0)
    first, second = (weights_after_three_steps(paper, jit_compile=False) for _ in range(2))
    assert all(np.array_equal(a, b) for a, b in zip(first, second))
    other_seed = weights_after_three_steps(TrainConfig(seed=8, categorical_augmentation=0.0), jit_compile=False)
    assert not all(np.allclose(a, b, rtol=0, atol=1e-3) for a, b in zip(first, other_seed))


def test_the_previous_checkpoint_is_kept_and_used_when_the_latest_is_damaged(tmp_path):
    model = small_model(seed=1)
    dataset = make_dataset(np.random.default_rng(0).integers(0, 255, (64, 28, 28)).astype(np.uint8), 16)
    path = tmp_path / "checkpoint.npz"
    checkpoints.save_checkpoint(model, path)
    at_step_0 = checkpoint_arrays(path)
    model.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
    checkpoints.save_checkpoint(model, path)
    previous = checkpoints.previous_path(path)
    assert previous.name == "checkpoint.prev.npz"
    assert_same_arrays(checkpoint_arrays(previous), at_step_0)
    assert checkpoints.read_checkpoint_meta(path)["steps"] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.npz", "checkpoint.prev.npz"]

    path.write_bytes(path.read_bytes()[:1000])  # the latest is damaged
    warnings = []
    restored = small_model(seed=3)
    meta = checkpoints.restore_latest(restored, path, warn=warnings.append)
    assert meta["steps"] == 0 and restored.steps == 0
    assert len(warnings) == 1 and "\n" not in warnings[0]
    assert "is damaged" in warnings[0] and "resuming from checkpoint.prev.npz at step 0" in warnings[0]
    assert_same_arrays(checkpoint_arrays(previous), at_step_0)  # nothing was lost

    previous.write_bytes(b"garbage")  # both damaged: the latest file's error, and no warning
    with pytest.raises(checkpoints.CheckpointError, match="checkpoint.npz is damaged"):
        checkpoints.restore_latest(small_model(), path, warn=warnings.append)
    assert len(warnings) == 1


def test_a_resumed_run_falls_back_to_the_previous_checkpoint(tmp_path, mnist_path, capsys):
    config = TrainConfig(steps=4, batch_size=32, train_subset=256, steps_per_epoch=2)
    run_dir = tmp_path / "run"
    train_run(run_dir, config, verbose=0, evaluate=False, jit_compile=False)
    (run_dir / "checkpoint.npz").write_bytes(b"PK\x03\x04 cut short")
    model, _ = train_run(run_dir, TrainConfig(**(config.to_dict() | {"steps": 6})), verbose=0, evaluate=False,
                         jit_compile=False)
    assert model.steps == 6
    warning = [line for line in capsys.readouterr().err.splitlines() if line.startswith("warning")]
    assert len(warning) == 1 and "resuming from checkpoint.prev.npz at step 2" in warning[0]


@pytest.mark.parametrize("meta", [b"{not json", b"[1, 2]"])
def test_a_damaged_meta_member_is_a_checkpoint_error_and_the_archive_is_closed(tmp_path, meta):
    import os
    import zipfile

    path = checkpoints.save_checkpoint(small_model(), tmp_path / "checkpoint.npz")
    damaged = tmp_path / "damaged.npz"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            if item.filename == "meta.npy":
                target.writestr(item, _npy_bytes(np.array(meta.decode())))
            else:
                target.writestr(item, source.read(item))
    for call in (checkpoints.read_checkpoint_meta, lambda p: checkpoints.load_checkpoint(small_model(), p)):
        with pytest.raises(checkpoints.CheckpointError, match="damaged.npz is damaged") as error:
            call(damaged)
        assert "\n" not in str(error.value)
    open_files = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
                  if os.path.exists(f"/proc/self/fd/{fd}")]
    assert str(damaged) not in open_files


def _npy_bytes(array):
    import io

    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("written, read", [(True, False), (False, True)], ids=["mixed-to-float32", "float32-to-mixed"])
def test_checkpoints_move_between_mixed_precision_and_float32(tmp_path, written, read):
    """A checkpoint written under mixed float16 (the GPU default) resumes in float32 on a CPU, and back."""
    images = np.random.default_rng(0).integers(0, 255, (64, 28, 28)).astype(np.uint8)
    try:
        writer = build_model(TrainConfig(seed=1), jit_compile=False, mixed_precision=written)
        assert writer.generator.layers[1].compute_dtype == ("float16" if written else "float32")
        writer.fit(make_dataset(images, 16), epochs=1, steps_per_epoch=2, verbose=0, shuffle=False)
        path = checkpoints.save_checkpoint(writer, tmp_path / "checkpoint.npz")
        reader = build_model(TrainConfig(seed=2), jit_compile=False, mixed_precision=read)
        checkpoints.load_checkpoint(reader, path)
        assert reader.steps == 2
        for a, b in zip(writer.generator.weights + writer.discriminator.weights,
                        reader.generator.weights + reader.discriminator.weights):
            assert np.array_equal(np.asarray(a), np.asarray(b)), a.path
        inner = [getattr(o, "inner_optimizer", o) for o in (writer.d_optimizer, reader.d_optimizer)]
        for a, b in zip(inner[0].variables, inner[1].variables):
            assert np.array_equal(np.asarray(a), np.asarray(b)), a.path
        reader.fit(make_dataset(images, 16), epochs=1, steps_per_epoch=1, verbose=0, shuffle=False)
        assert reader.steps == 3
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("has_bfloat16, jit_compile, expected", [
    (True, "auto", ("mixed_bfloat16", False)),  # a CPU with bfloat16 instructions: oneDNN's bfloat16 kernels
    (False, "auto", ("float32", True)),
    (True, True, ("float32", True)),  # the exact mode
])
def test_the_automatic_choice_follows_the_cpu(monkeypatch, has_bfloat16, jit_compile, expected):
    from infogan_utils import training

    monkeypatch.setattr(training, "gpu_available", lambda: False)
    monkeypatch.setattr(training, "cpu_has_bfloat16", lambda: has_bfloat16)
    monkeypatch.delenv("INFOGAN_COMPUTE", raising=False)  # the suite's float32 for short runs (conftest)
    model = build_model(TrainConfig(seed=1), jit_compile=jit_compile)
    assert (model.dtype_policy.name, model.jit_compile) == expected
    assert model.generator.layers[1].dtype_policy.name == expected[0]
    assert keras.mixed_precision.global_policy().name == "float32"  # the global policy is left as it was


@pytest.mark.parametrize("gpu, has_bfloat16, forced, expected", [
    (False, True, None, "mixed_bfloat16"),  # this project's CPU: as build_model trains
    (False, False, None, "float32"),  # a CPU without bfloat16 instructions
    (True, True, None, "float32"),  # a GPU: the chapters' networks stay float32 (no loss scaling to set up)
    (False, True, "float32", "float32"),  # the test suite's short runs
    (False, False, "bfloat16", "mixed_bfloat16"),
])
def test_the_chapters_policy_follows_the_machine(monkeypatch, gpu, has_bfloat16, forced, expected):
    monkeypatch.setattr(training, "gpu_available", lambda: gpu)
    monkeypatch.setattr(training, "cpu_has_bfloat16", lambda: has_bfloat16)
    if forced:
        monkeypatch.setenv("INFOGAN_COMPUTE", forced)
    else:
        monkeypatch.delenv("INFOGAN_COMPUTE", raising=False)
    assert training.machine_policy() == expected


def test_bfloat16_instructions_are_read_from_the_cpu_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu sse2 avx512f avx512_bf16\n")
    assert training.cpu_has_bfloat16(cpuinfo)
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2\n")
    assert not training.cpu_has_bfloat16(cpuinfo)
    assert not training.cpu_has_bfloat16(tmp_path / "missing")  # not Linux: no flags, float32


def test_a_run_trained_in_bfloat16_is_evaluated_in_float32(tmp_path, mnist_path, monkeypatch):
    """The figures of a run do not depend on how the machine trained it: metrics.json comes from the checkpoint
    read back in float32, and timing.json says how the run was computed."""
    from infogan_utils import runs

    evaluated_models = []

    def evaluate_and_record(run_dir, model=None, evaluation=None):
        evaluated_models.append(model)
        return evaluate_run(run_dir, model=model, evaluation=evaluation)

    monkeypatch.setattr(runs, "evaluate_run", evaluate_and_record)
    run_dir = tmp_path / "run"
    config = TrainConfig(steps=2, batch_size=32, train_subset=256, steps_per_epoch=2, seed=2)
    _, metrics = train_run(run_dir, config, verbose=0, jit_compile=False, mixed_precision="bfloat16")
    assert evaluated_models == [None]  # not the bfloat16 model: evaluate_run rebuilds it from the checkpoint
    assert json.loads((run_dir / "timing.json").read_text())["compute"] == "mixed_bfloat16, no XLA"
    again = evaluate_run(run_dir)
    assert again["confusion_matrix"] == metrics["confusion_matrix"] and again["nmi"] == metrics["nmi"]


def test_build_model_offers_bfloat16_without_loss_scaling_and_steps_per_execution():
    """The speed levers of benchmarks/train_speed.py: a bfloat16 policy (no loss-scaling optimizer, unlike
    float16) and several steps per call from Python, which still count every step."""
    images = np.random.default_rng(0).integers(0, 255, (64, 28, 28)).astype(np.uint8)
    try:
        model = build_model(TrainConfig(seed=1), jit_compile=False, mixed_precision="bfloat16", steps_per_execution=2)
        assert model.generator.layers[1].compute_dtype == "bfloat16"
        assert not hasattr(model.d_optimizer, "inner_optimizer")
        model.fit(make_dataset(images, 16), epochs=1, steps_per_epoch=4, verbose=0, shuffle=False)
        assert model.steps == 4
    finally:
        keras.mixed_precision.set_global_policy("float32")
    with pytest.raises(ValueError, match="mixed_precision must be 'auto', True, False or 'bfloat16'"):
        build_model(TrainConfig(), mixed_precision="float16")


def test_invariant_codes_read_the_first_continuous_codes_from_the_distorted_images(monkeypatch):
    spec = LatentSpec(noise_dim=4, categorical_dims=(3,), continuous_dim=2)
    generator, discriminator = build_infogan_models(spec)
    model = training.InfoGAN(generator, discriminator, spec, invariant_codes=1)
    codes = np.array([[1, 0, 0, 0.5, -0.5], [0, 1, 0, 1.0, 0.0], [0, 0, 1, -1.0, 0.25]], "float32")
    clean = {"continuous_mean": np.array([[0.5, 0.0], [0.0, 0.0], [0.0, 0.0]], "float32")}
    distorted = {"continuous_mean": np.array([[0.0, 9.0], [1.0, 9.0]], "float32")}  # the first 2 images only
    # c2 from the distorted pass: errors 0.5, 0 over 2 images; c3 from the clean pass: -0.5, 0, 0.25 over 3
    expected = 0.5 * (0.5 ** 2 + 0.0) / 2 + 0.5 * (0.5 ** 2 + 0.0 + 0.25 ** 2) / 3
    assert float(model.split_continuous_loss(codes, clean, distorted, 2)) == pytest.approx(expected)
    # and a training step takes that path
    model.compile(*training.make_optimizers(2e-4, 1e-3, 0.5), jit_compile=False)
    calls, split = [], model.split_continuous_loss
    monkeypatch.setattr(model, "split_continuous_loss", lambda *arguments: calls.append(arguments[-1]) or split(*arguments))
    images = np.random.default_rng(0).uniform(0, 1, (32, 28, 28, 1)).astype("float32")
    logs = model.fit(images, batch_size=16, epochs=1, verbose=0).history
    assert calls and np.isfinite(logs["continuous_loss"][-1])  # traced into the step: the loss comes from it


def test_real_consistency_trains_the_discriminator_and_q_only():
    """One step from the same weights on the same batch, with and without the consistency loss: G's update and
    Adam moments are those of the plain step (the loss reads real images only, and its distortions are drawn after
    everything the plain step draws); D's moments take the loss's gradient, which is logged."""
    images = np.random.default_rng(0).integers(0, 255, (64, 28, 28)).astype(np.uint8)

    def one_step(real_consistency):
        model = build_model(TrainConfig(seed=5, batch_size=32, real_consistency=real_consistency), jit_compile=False)
        history = model.fit(make_dataset(images, 32, seed=7), epochs=1, steps_per_epoch=1, verbose=0,
                            shuffle=False).history
        return model, history

    plain, plain_history = one_step(0.0)
    consistent, history = one_step(1.0)
    assert "real_consistency" not in plain_history and history["real_consistency"][0] > 0

    def moments(model, optimizer):
        return [np.asarray(v) for v in getattr(model, optimizer).variables if v.dtype == "float32"]

    # G's step is the same computation in both (measured: bit-identical). Another CPU's kernels may fuse the two
    # graphs differently and sum in another order: some 1e-6 relative at most, so 1e-5. (Weights are not compared one
    # by one: Adam's first step moves a weight whose gradient is near 0 by its learning rate either way.)
    assert relative_difference(moments(plain, "g_optimizer"), moments(consistent, "g_optimizer")) < 1e-5
    # D's gradient gains the consistency term (measured 0.15 relative on seed 5)
    assert relative_difference(moments(plain, "d_optimizer"), moments(consistent, "d_optimizer")) > 0.01


def test_the_contrastive_classifier_learns_from_the_first_step_and_g_only_from_contrastive_start(tmp_path):
    """One step from the same weights on the same batch: before ``contrastive_start`` G's and D's updates are those
    of a run without the regulariser (its pairs are drawn after everything else) while H already learns; from it,
    G's update takes the contrastive loss's gradient. H and its optimizer go into the checkpoint."""
    images = np.random.default_rng(0).integers(0, 255, (64, 28, 28)).astype(np.uint8)

    def one_step(**settings):
        model = build_model(TrainConfig(seed=5, batch_size=32, **settings), jit_compile=False)
        untrained = ([np.asarray(w) for w in model.contrastive_classifier.trainable_weights]
                     if model.contrastive_classifier is not None else None)
        history = model.fit(make_dataset(images, 32, seed=7), epochs=1, steps_per_epoch=1, verbose=0,
                            shuffle=False).history
        return model, history, untrained

    def trained(model, network):
        return [np.asarray(w) for w in getattr(model, network).trainable_weights]

    def moments(model, optimizer):
        return [np.asarray(v) for v in getattr(model, optimizer).variables if v.dtype == "float32"]

    plain, plain_history, _ = one_step(contrastive_weight=0.0)
    later, history, untrained_h = one_step(contrastive_weight=1.0, contrastive_start=10)
    now, _, _ = one_step(contrastive_weight=1.0, contrastive_start=0)
    assert "contrastive_loss" not in plain_history and plain.contrastive_classifier is None
    # A freshly initialised H guesses which of the 2 codes a pair shares: a loss near ln 2
    assert 0.3 < history["contrastive_loss"][0] < 1.5 and 0.0 <= history["contrastive_accuracy"][0] <= 1.0
    # Before the start the same gradients for G and D, up to the order in which two different graphs sum (measured
    # here: 6e-7 for G's Adam moments, 1e-6 for D's; 1e-4 leaves room for another CPU's kernels and stays 100 times
    # below the effect checked next). Moments, not weights: Adam's first step moves a weight whose gradient is near 0
    # by about its learning rate either way.
    for optimizer in ("g_optimizer", "d_optimizer"):
        assert relative_difference(moments(plain, optimizer), moments(later, optimizer)) < 1e-4
    assert relative_difference(untrained_h, trained(later, "contrastive_classifier")) > 1e-4  # H took a step
    # From the start G's gradient gains the contrastive term
    assert relative_difference(moments(later, "g_optimizer"), moments(now, "g_optimizer")) > 0.01

    path = checkpoints.save_checkpoint(now, tmp_path / "checkpoint.npz")
    again = build_model(TrainConfig(seed=6, batch_size=32, contrastive_weight=1.0, contrastive_start=0),
                        jit_compile=False)
    checkpoints.load_checkpoint(again, path)
    for first, second in ((now.contrastive_classifier.weights, again.contrastive_classifier.weights),
                          (now.h_optimizer.variables, again.h_optimizer.variables)):
        assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize("arguments, message", [
    ({"real_consistency": 1.0, "categorical_augmentation": 0.0}, "needs a categorical code and categorical_augmentation"),
    ({"invariant_codes": 3}, r"invariant_codes \(3\) must lie between 0 and the 2 continuous codes"),
    ({"invariant_codes": 1, "categorical_augmentation": 0.0}, "categorical_augmentation"),
])
def test_invariant_codes_are_checked(arguments, message):
    generator, discriminator = build_infogan_models()
    with pytest.raises(ValueError, match=message):
        training.InfoGAN(generator, discriminator, LatentSpec(), **arguments)


@pytest.mark.parametrize("mode, expected", [("exact", (True, False)), ("bfloat16", (False, "bfloat16")),
                                            ("float16", (True, True)), ("float32", (False, False))])
def test_infogan_compute_makes_this_machine_train_as_another_would(monkeypatch, mode, expected):
    monkeypatch.setenv("INFOGAN_COMPUTE", mode)
    assert resolve_compute() == expected
    assert resolve_compute(jit_compile=True) == (True, False)  # an explicit choice wins: --exact is float32
    assert resolve_compute(mixed_precision="bfloat16") == (True, "bfloat16")


@pytest.mark.parametrize("mode, jit_compile, expected", [("float32", "auto", False), ("exact", "auto", True),
                                                         ("bfloat16", "auto", False), ("float32", True, True)])
def test_a_model_compiled_by_hand_follows_infogan_compute(monkeypatch, mode, jit_compile, expected):
    """The chapters build and compile InfoGAN themselves; INFOGAN_COMPUTE decides their XLA too, unless asked."""
    monkeypatch.setenv("INFOGAN_COMPUTE", mode)
    generator, discriminator = build_infogan_models(LatentSpec())
    model = training.InfoGAN(generator, discriminator, LatentSpec())
    model.compile(*training.make_optimizers(), jit_compile=jit_compile)
    assert model.jit_compile is expected


def test_an_unknown_compute_mode_is_refused(monkeypatch):
    monkeypatch.setenv("INFOGAN_COMPUTE", "fp8")
    with pytest.raises(ValueError, match="INFOGAN_COMPUTE must be one of exact, bfloat16, float16, float32, got 'fp8'"):
        resolve_compute()

