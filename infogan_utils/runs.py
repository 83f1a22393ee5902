"""A training run as a folder: configuration, checkpoint, logs, figures and ``metrics.json``.

:func:`train_run` is what ``python -m infogan_utils train`` and ``make train`` call; running it
again on the same folder resumes from the last checkpoint, and :func:`evaluate_run` recomputes
``metrics.json`` from the saved weights.
"""

import contextlib
import dataclasses
import json
import math
import os
import pathlib
import time
import warnings

import numpy as np

from .codes import LatentSpec
from .data import CHANNELS, DATASETS, IMAGE_SIZES
from .storage import write_json

IMAGES = "images"  # TrainConfig.dataset of a run on a folder of the reader's own images

RUN_FILES = {
    "config": "config.json",
    "skipped": "skipped.txt",
    "checkpoint": "checkpoint.npz",
    "history": "history.csv",
    "steps": "steps.csv",
    "metrics": "metrics.json",
    "timing": "timing.json",
    "validation": "validation.json",
}


# Settings added after runs had been written, with the value those runs trained with: a config.json
# without the key is read with this value, not with today's default.
LEGACY_DEFAULTS = {"invariant_codes": 0, "contrastive_weight": 0.0, "contrastive_start": 0}

# InfoGAN-CR's contrastive regulariser as the defaults use it (benchmarks/README.md, appendix A.8): its weight, and
# the step from which G minimises it.
CONTRASTIVE_WEIGHT = 0.5
CONTRASTIVE_START = 2500


def resolve_invariant_codes(invariant_codes, categorical_augmentation, continuous_dim):
    """``invariant_codes`` as given, or its default when ``None``: 1 with the distortion
    (``categorical_augmentation`` above 0) and a continuous code to read, otherwise 0 (the paper's
    objective reads nothing distorted)."""
    if invariant_codes is None:
        return 1 if categorical_augmentation and continuous_dim else 0
    return invariant_codes


def resolve_contrastive_weight(contrastive_weight, categorical_augmentation, continuous_dim):
    """``contrastive_weight`` as given, or its default when ``None``: :data:`CONTRASTIVE_WEIGHT` with the
    distortion (``categorical_augmentation`` above 0) and two continuous codes or more, otherwise 0 (the
    paper's objective has no regulariser, and one code leaves no pair to tell apart)."""
    if contrastive_weight is None:
        return CONTRASTIVE_WEIGHT if categorical_augmentation and continuous_dim >= 2 else 0.0
    return contrastive_weight


def check_objective(categorical_weight, continuous_weight, categorical_augmentation, invariant_codes,
                    continuous_dim, real_consistency, categorical_dims, contrastive_weight, contrastive_start):
    """Raise ValueError unless the objective's settings make sense together (:class:`TrainConfig` and
    :class:`~infogan_utils.training.InfoGAN` both check them here)."""
    for name, value in (("categorical_weight", categorical_weight), ("continuous_weight", continuous_weight),
                        ("categorical_augmentation", categorical_augmentation), ("real_consistency", real_consistency),
                        ("contrastive_weight", contrastive_weight)):
        if not (math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a finite number that is not negative, got {value}")
    if real_consistency and not (categorical_augmentation and categorical_dims):
        raise ValueError(f"real_consistency={real_consistency} asks Q for the same category on a real image and a "
                         "distorted copy: it needs a categorical code and categorical_augmentation above 0")
    if contrastive_weight and continuous_dim < 2:
        raise ValueError(f"contrastive_weight={contrastive_weight} asks which continuous code a pair of images shares:"
                         f" it needs two continuous codes or more, got {continuous_dim}")
    if isinstance(contrastive_start, bool) or int(contrastive_start) != contrastive_start or contrastive_start < 0:
        raise ValueError(f"contrastive_start must be a step (a whole number, 0 or more), got {contrastive_start!r}")
    if not 0 <= invariant_codes <= continuous_dim:
        raise ValueError(f"invariant_codes ({invariant_codes}) must lie between 0 and the {continuous_dim} "
                         "continuous codes")
    if invariant_codes and not categorical_augmentation:
        raise ValueError(f"invariant_codes={invariant_codes} reads codes from distorted images: give "
                         "categorical_augmentation above 0, or invariant_codes=0 for undistorted images")


@dataclasses.dataclass
class TrainConfig:
    """Everything that defines a run.

    The defaults are the paper's MNIST settings and its official code's (``continuous_weight`` 1
    included), except for three, measured in ``benchmarks/RESULTS.md`` and explained in chapter 4 and
    its appendix:

    - ``categorical_augmentation`` is 1: Q reads the categorical code from randomly rotated, sheared,
      rescaled and shifted copies of the generated images, so the categories cannot be carried by
      slant or width and end up carried by the digit's shape. 0 is the paper's objective.
    - ``invariant_codes`` is 1 (``None`` means: 1 with the distortion, 0 without it): Q also reads
      the first continuous code, c2, from the distorted copies, so c2 cannot be carried by slant or
      size and takes stroke thickness, while c3 takes slant.
    - ``contrastive_weight`` is 0.5 from ``contrastive_start`` 2500 (``None`` means: 0.5 with the
      distortion and two continuous codes or more, 0 otherwise): InfoGAN-CR's contrastive regulariser
      (Lin et al. 2020). A classifier H learns which continuous code two generated images share, and
      from step 2500 G helps it, so that each code changes something H can see on its own.

    (``continuous_weight`` was 0.1 until the validation runs of ``benchmarks/README.md`` showed
    that, with the distortion, 1 gives both more accurate categories and stronger continuous codes;
    ``invariant_codes`` was 0 until 2026-12-04 and ``contrastive_weight`` 0 until 2026-12-05: a
    ``config.json`` without them reads them as 0.)

    The other settings:

    - what to train on: ``dataset`` ("mnist" or "fashion_mnist"), or ``images``, a folder of your own; then
      ``image_size`` and ``channels`` (0: from the data) and ``architecture`` (filled in: the paper's network for
      that size); ``train_subset`` trains on only the first that many images (0: all);
    - the run: ``seed`` (every random draw), ``steps_per_epoch`` (how often it logs, saves a grid and writes its
      checkpoint), ``devices`` (how many devices train it together; it may resume on another number);
    - the latent codes and networks: ``noise_distribution`` and ``noise_scale`` (the noise z),
      ``q_hidden`` (Q's hidden layer), ``codes_every_layer`` (feed c2, c3 to every layer of G, not only the first);
    - levers for the continuous codes that were studied and left off (``benchmarks/README.md`` says what each
      did): ``spectral_norm``, ``real_consistency``.
    """

    dataset: str = "mnist"
    images: str = ""  # a folder of your own images instead of a built-in dataset (dataset then reads "images")
    image_size: int = 0  # 28, 32 or 64; 0: from the data (a built-in dataset's 28, a folder's typical size)
    channels: int = 0  # 1 (greyscale) or 3 (RGB); 0: from the data
    architecture: str = ""  # the paper's network for image_size (filled in: mnist, svhn or chairs)
    steps: int = 5000
    batch_size: int = 128
    seed: int = 0
    categorical_weight: float = 1.0
    continuous_weight: float = 1.0
    categorical_augmentation: float = 1.0
    d_learning_rate: float = 2e-4
    g_learning_rate: float = 1e-3
    beta_1: float = 0.5
    noise_dim: int = 62
    categorical_dims: tuple = (10,)
    continuous_dim: int = 2
    noise_distribution: str = "uniform"
    noise_scale: float = 1.0
    q_hidden: int = 128
    learn_std: bool = False
    codes_every_layer: bool = False
    spectral_norm: bool = False  # spectral normalisation of D's trunk and Q's hidden layer (a lever under study)
    # Weight of a loss that asks Q for the same categories on a real image and a distorted copy (a lever under study,
    # after Elastic-InfoGAN's transformation consistency); 0 leaves it out.
    real_consistency: float = 0.0
    contrastive_weight: float = None  # InfoGAN-CR's contrastive regulariser; None: 0.5 with the distortion, else 0
    contrastive_start: int = CONTRASTIVE_START  # the step from which G minimises it (H learns from the first)
    invariant_codes: int = None  # None: 1 with the distortion, 0 without it
    train_subset: int = 0  # 0: the whole training set
    steps_per_epoch: int = 250
    # How many devices train together (a number or "all"; infogan_utils.distribute). Not part of what the run is:
    # a run may resume on another number of devices.
    devices: int | str = 1

    def __post_init__(self):
        self.categorical_dims = tuple(int(k) for k in self.categorical_dims)
        if self.images:
            if self.dataset not in ("mnist", IMAGES):
                raise ValueError(f"give a dataset ({self.dataset!r}) or a folder of images ({self.images!r}), not both")
            self.dataset = IMAGES
        elif self.dataset == IMAGES:
            raise ValueError("dataset 'images' needs the folder: images=PATH (--images PATH)")
        elif self.dataset not in DATASETS:
            raise ValueError(f"unknown dataset {self.dataset!r}; choose one of {', '.join(DATASETS)} "
                             "(or train on a folder of your own images with images=PATH, --images PATH)")
        self._check_image_format()
        for name in ("steps", "train_subset", "noise_dim", "continuous_dim"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must not be negative, got {getattr(self, name)}")
        for name in ("batch_size", "steps_per_epoch", "q_hidden"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        for name in ("d_learning_rate", "g_learning_rate", "noise_scale"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"{name} must be a positive finite number, got {value}")
        if not 0 <= self.beta_1 < 1:
            raise ValueError(f"beta_1 must be in [0, 1), got {self.beta_1}")
        from .distribute import ALL, check_batch_split, parse_devices

        self.devices = parse_devices(self.devices)
        if self.devices != ALL:
            check_batch_split(self.batch_size, self.devices)
        if self.spectral_norm and self.devices != 1:
            raise ValueError("spectral_norm trains on one device only: its power iteration rescales the weights in "
                             "place, which replicas cannot share; use devices=1")
        if 0 < self.train_subset < self.batch_size:
            raise ValueError(f"train_subset ({self.train_subset}) is smaller than a batch ({self.batch_size})")
        self.latent_spec()  # validates the code layout
        self.invariant_codes = int(resolve_invariant_codes(self.invariant_codes, self.categorical_augmentation,
                                                             self.continuous_dim))
        self.contrastive_weight = float(resolve_contrastive_weight(self.contrastive_weight,
                                                                   self.categorical_augmentation, self.continuous_dim))
        check_objective(self.categorical_weight, self.continuous_weight, self.categorical_augmentation,
                        self.invariant_codes, self.continuous_dim, self.real_consistency, self.categorical_dims,
                        self.contrastive_weight, self.contrastive_start)
        if not self.contrastive_weight:
            self.contrastive_start = 0  # without the regulariser its start means nothing; 0 is what old runs saved

    def _check_image_format(self):
        """Check image_size, channels and architecture, and fill in what the data decides when it is known."""
        if self.image_size and self.image_size not in IMAGE_SIZES:
            raise ValueError(f"image_size must be one of {', '.join(map(str, IMAGE_SIZES))} (the paper's networks), "
                             f"or 0 to take it from the data; got {self.image_size}")
        if self.channels and self.channels not in CHANNELS:
            raise ValueError(f"channels must be 1 (greyscale) or 3 (RGB), or 0 to take it from the data; "
                             f"got {self.channels}")
        if self.dataset != IMAGES:
            if (self.image_size or 28) != 28 or (self.channels or 1) != 1:
                raise ValueError(f"{self.dataset}'s images are 28x28 greyscale; image_size and channels choose "
                                 "the format of a folder of your own images (images=PATH)")
            self.image_size, self.channels = 28, 1
        expected = IMAGE_SIZES.get(self.image_size, "")
        if self.architecture and self.architecture != expected:
            raise ValueError(f"architecture {self.architecture!r} does not match image_size {self.image_size} "
                             f"({expected or 'not yet known'}); leave it out, it follows the image size")
        self.architecture = expected

    @property
    def image_shape(self):
        """``(image_size, image_size, channels)``, once the data has decided them (:func:`resolve_image_format`)."""
        if not (self.image_size and self.channels):
            raise ValueError("the image format of this configuration comes from its folder: "
                             "resolve_image_format(config) reads it")
        return self.image_size, self.image_size, self.channels

    def latent_spec(self):
        return LatentSpec(self.noise_dim, self.categorical_dims, self.continuous_dim, self.noise_distribution,
                          self.noise_scale)

    def to_dict(self):
        return dataclasses.asdict(self) | {"categorical_dims": list(self.categorical_dims)}

    @classmethod
    def from_dict(cls, values):
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = set(values) - known
        if unknown:
            raise ValueError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        return cls(**(LEGACY_DEFAULTS | values))

    def differences(self, other):
        """The settings (other than ``steps`` and ``devices``) in which two configurations differ."""
        mine, theirs = self.to_dict(), other.to_dict()
        return [key for key in mine if key not in ("steps", "devices") and mine[key] != theirs[key]]


def build_model(config, jit_compile="auto", mixed_precision="auto", steps_per_execution=1):
    """Build and compile the InfoGAN model for ``config``; seeds Python, NumPy and TensorFlow.

    How the training step computes is chosen for the machine when both ``jit_compile`` and
    ``mixed_precision`` are ``"auto"`` (``benchmarks/SPEED.md`` has the measurements):

    - on a GPU: float16 with loss scaling, compiled with XLA;
    - on a CPU with bfloat16 instructions (``avx512_bf16`` or ``amx_bf16``): Keras' ``mixed_bfloat16``
      policy without XLA, so that TensorFlow's oneDNN kernels do the arithmetic in bfloat16
      (1.13x to 1.17x float32 with XLA on the project's machine, benchmarks/SPEED.md; with XLA, bfloat16
      is slower than float32);
    - on any other CPU: float32, compiled with XLA.

    Pass ``jit_compile=True`` for the *exact* mode: float32 with XLA on any device, in which the same
    configuration and seed give bit-identical weights on the same machine, and a resumed run is
    bit-identical to one that never stopped. Without XLA the default objective, whose step runs D
    three times (real, generated and distorted images), repeats only to float rounding: each trace
    of the step can round differently, even single-threaded. ``tf.config.experimental.enable_op_determinism()``
    does not help, and Keras turns XLA off when it is on; ``benchmarks/DETERMINISM.md`` has the measurements.

    ``mixed_precision`` may also be ``True`` (float16), ``False`` (float32) or ``"bfloat16"``;
    ``steps_per_execution`` goes to ``compile``. The model's layers keep the dtype policy they were
    built with; Keras' global policy is left as it was.

    With ``config.devices`` above 1 (or ``"all"`` on a machine with several devices) the model is built and
    compiled in a ``tf.distribute`` strategy's scope (:func:`distribute.make_strategy`), and its batch-norm
    layers use the global batch's statistics; one device builds it without any strategy. Several CPU devices
    train without XLA, which compiles a replica's step for one CPU device while its variables live on another
    logical device.
    """
    from .distribute import make_strategy, on_cpus, synchronize_batch_norm

    strategy = make_strategy(config.devices, config.batch_size)
    requested = jit_compile
    jit_compile, mixed_precision = resolve_compute(jit_compile, mixed_precision)
    if strategy and on_cpus() and jit_compile:
        if requested is True:
            raise ValueError("XLA (jit_compile=True, --exact) cannot train on several CPU devices: train on one "
                             "device, or without XLA")
        jit_compile = False
    with strategy.scope() if strategy else contextlib.nullcontext():
        model = _build_and_compile(config, jit_compile, mixed_precision, steps_per_execution)
    if strategy:
        classifier = [model.contrastive_classifier] if model.contrastive_classifier is not None else []
        synchronize_batch_norm(model.generator, model.discriminator, *classifier)
    return model


def _build_and_compile(config, jit_compile, mixed_precision, steps_per_execution):
    """:func:`build_model`'s work, once the compute mode is resolved and the strategy's scope (if any) entered."""
    import keras

    from .models import build_infogan_models
    from .training import make_optimizers

    policy = "mixed_bfloat16" if mixed_precision == "bfloat16" else "mixed_float16" if mixed_precision else "float32"
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(policy)
    try:
        keras.utils.set_random_seed(config.seed)
        spec = config.latent_spec()
        generator, discriminator = build_infogan_models(spec, resolve_image_format(config).image_shape,
                                                         **architecture_options(config.to_dict()))
        model = infogan_from_config(config, generator, discriminator)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    # bfloat16 has float32's exponent range, so only float16 needs a loss-scaling optimizer.
    d_optimizer, g_optimizer = make_optimizers(config.d_learning_rate, config.g_learning_rate,
                                               config.beta_1, mixed_precision=policy == "mixed_float16")
    model.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, jit_compile=jit_compile,
                  steps_per_execution=steps_per_execution)
    return model


def architecture_options(config):
    """The settings of a configuration (a ``TrainConfig.to_dict()``, or an exported model's ``config``) that
    :func:`models.build_infogan_models` needs besides the codes and the image shape; a setting missing from an
    older file takes its default."""
    defaults = {field.name: field.default for field in dataclasses.fields(TrainConfig)}
    return {name: config.get(name, defaults[name])
            for name in ("q_hidden", "learn_std", "codes_every_layer", "spectral_norm")}


def infogan_from_config(config, generator, discriminator):
    """The :class:`~infogan_utils.training.InfoGAN` of ``config`` around built networks (not compiled)."""
    from .training import InfoGAN

    return InfoGAN(generator, discriminator, config.latent_spec(), categorical_weight=config.categorical_weight,
                   continuous_weight=config.continuous_weight,
                   categorical_augmentation=config.categorical_augmentation,
                   invariant_codes=config.invariant_codes, real_consistency=config.real_consistency,
                   contrastive_weight=config.contrastive_weight, contrastive_start=config.contrastive_start,
                   seed=config.seed)


# INFOGAN_COMPUTE forces what build_model chooses when both its arguments are "auto", so that one machine can
# train as another would (the tests run the numerical and learning checks in each mode).
COMPUTE_MODES = {
    "exact": (True, False),  # float32 with XLA: a CPU without bfloat16 instructions, or --exact anywhere
    "bfloat16": (False, "bfloat16"),  # a CPU with bfloat16 instructions
    "float16": (True, True),  # a GPU: float16 with loss scaling, XLA
    # float32 without XLA: the quickest to start. Compiling the step with XLA costs about 8 s more than tracing it
    # (14 s against 5.4 s on a 2-core EPYC) and saves about 0.15 s a step, so it pays only after some 50 steps; the
    # test suite runs the chapters' 10- and 20-step quick mode in this mode.
    "float32": (False, False),
}


def resolve_compute(jit_compile="auto", mixed_precision="auto"):
    """``(jit_compile, mixed_precision)`` with every ``"auto"`` replaced by what :func:`build_model` chooses
    on this machine: ``(True, True)`` on a GPU, ``(False, "bfloat16")`` on a CPU with bfloat16 instructions
    when both are ``"auto"``, and XLA with float32 otherwise. ``jit_compile=True`` alone is the exact mode,
    float32 with XLA, on a GPU too. The environment variable ``INFOGAN_COMPUTE`` (``exact``, ``bfloat16``,
    ``float16`` or ``float32``, the last without XLA) replaces the machine's choice when both are ``"auto"``."""
    from .training import cpu_has_bfloat16, gpu_available

    if mixed_precision not in ("auto", True, False, "bfloat16"):
        raise ValueError(f"mixed_precision must be 'auto', True, False or 'bfloat16', got {mixed_precision!r}")
    if jit_compile not in ("auto", True, False):
        raise ValueError(f"jit_compile must be 'auto', True or False, got {jit_compile!r}")
    forced = os.environ.get("INFOGAN_COMPUTE", "")
    if forced and forced not in COMPUTE_MODES:
        raise ValueError(f"INFOGAN_COMPUTE must be one of {', '.join(COMPUTE_MODES)}, got {forced!r}")
    if jit_compile == "auto" and mixed_precision == "auto":
        if forced:
            return COMPUTE_MODES[forced]
        if gpu_available():
            return COMPUTE_MODES["float16"]
        return COMPUTE_MODES["bfloat16"] if cpu_has_bfloat16() else COMPUTE_MODES["exact"]
    if mixed_precision == "auto":
        mixed_precision = False if jit_compile is True else gpu_available()
    return (True if jit_compile == "auto" else jit_compile), mixed_precision


def load_run_data(config, skipped=None):
    """The images a run trains on, and the labelled images it is measured on:
    ``(train_images, {"test": (images, labels), "validation": (images, labels) or None, "class_names"})``.

    A built-in dataset is measured on its test set and on the validation slice of its training set. A folder of
    images (``config.images``) is measured on itself, labelled by its first-level subfolders when it has them
    (one per class; the names go to ``class_names``), and has no labels otherwise (``labels`` None). Unreadable
    files in a folder
    are skipped; pass a list as ``skipped`` to get one line per skipped file.
    """
    from .data import folder_has_classes, load_dataset, load_image_folder, validation_split

    if config.dataset != IMAGES:
        (x_train, y_train), test = load_dataset(config.dataset)
        train = x_train[:config.train_subset] if config.train_subset else x_train
        return train, {"test": test, "validation": validation_split(x_train, y_train), "class_names": None}
    config = resolve_image_format(config)
    image_format = {"image_size": config.image_size, "channels": config.channels}
    with warnings.catch_warnings():  # the skipped files are listed one per line, not in a warning
        warnings.simplefilter("ignore")
        if folder_has_classes(config.images):
            classes = sorted(path.name for path in pathlib.Path(config.images).expanduser().iterdir()
                             if path.is_dir() and not path.name.startswith("."))
            if len(classes) == 1:
                raise ValueError(f"{config.images} holds one class subfolder ({classes[0]}): give each class a "
                                 f"subfolder of its own, or train on {classes[0]} itself to go without labels")
            images, labels, class_names = load_image_folder(config.images, with_labels=True, skip_unreadable=True,
                                                            skipped=skipped, **image_format)
            evaluation = {"test": (images, labels), "validation": (images, labels), "class_names": class_names}
        else:
            images = load_image_folder(config.images, recursive=True, skip_unreadable=True, skipped=skipped,
                                       **image_format)
            evaluation = {"test": (images, None), "validation": None, "class_names": None}
    if len(images) < config.batch_size:
        raise ValueError(f"{config.images} holds {len(images)} readable images, fewer than a batch "
                         f"({config.batch_size}); add images or lower --batch-size")
    return (images[:config.train_subset] if config.train_subset else images), evaluation


def resolve_image_format(config):
    """``config`` with the image size and channels that its folder of images decides filled in
    (:func:`~infogan_utils.data.image_folder_format`); a built-in dataset's are known already."""
    if config.image_size and config.channels:
        return config
    from .data import image_folder_format

    size, channels = image_folder_format(config.images, config.image_size)
    return dataclasses.replace(config, image_size=size, channels=config.channels or channels, architecture="")


def read_config(run_dir):
    """The :class:`TrainConfig` saved in a run folder."""
    path = pathlib.Path(run_dir) / RUN_FILES["config"]
    if not path.is_file():
        raise ValueError(f"{run_dir} is not a run folder: it has no {RUN_FILES['config']}")
    try:
        values = json.loads(path.read_text())
        # Runs saved before the image format was recorded all trained on 28 x 28 greyscale images.
        if isinstance(values, dict) and "image_size" not in values:
            values |= {"image_size": 28, "channels": 1}
        return TrainConfig.from_dict(values)
    except (json.JSONDecodeError, TypeError) as error:
        raise ValueError(f"{path} is not a valid run configuration ({error})") from None


def train_run(run_dir, config=None, verbose=1, jit_compile="auto", mixed_precision="auto", evaluate=True,
              callbacks=(), overwrite=False):
    """Train (or resume) the run in ``run_dir`` and write its outputs; returns ``(model, metrics)``.

    If ``run_dir`` already holds a run, its configuration must match ``config`` except for
    ``steps`` (which may grow) and ``devices`` (a run may resume on another number of devices);
    training resumes from its checkpoint exactly where it stopped: the
    same batches in the same order as a run that never stopped, and, in the exact mode
    (``jit_compile=True``, see :func:`build_model`), bit-identical weights. A refused call writes nothing.
    ``jit_compile`` and ``mixed_precision`` go to :func:`build_model`; the test metrics are always
    computed in float32 on one device, from the checkpoint when the run trained in mixed precision or on
    several devices. ``timing.json`` records the strategy and the number of devices of the latest session.

    A folder that holds a run's results but no checkpoint (a committed run: git keeps its figures, not its
    weights) is refused unless ``overwrite``, which trains it from scratch and replaces those results.
    """
    import keras

    from .checkpoints import previous_path, restore_latest
    from .data import make_dataset
    from .distribute import NO_STRATEGY, describe_strategy
    from .training import CheckpointCallback, ImageGridCallback, StepHistory, describe_device, fit_steps

    run_dir = pathlib.Path(run_dir)
    config = resolve_image_format(config or TrainConfig())
    config_path = run_dir / RUN_FILES["config"]
    checkpoint_path = run_dir / RUN_FILES["checkpoint"]
    if run_dir.exists() and not run_dir.is_dir():
        raise ValueError(f"{run_dir} is a file, not a run folder; choose another --out folder")
    if config_path.exists():
        previous = read_config(run_dir)
        differences = config.differences(previous)
        if differences:
            raise ValueError(f"{run_dir} holds a run with another configuration "
                             f"({', '.join(differences)} differ); choose another --out folder")
    results = [name for key, name in RUN_FILES.items()
               if key not in ("config", "checkpoint") and (run_dir / name).exists()]
    has_checkpoint = checkpoint_path.exists() or previous_path(checkpoint_path).exists()
    if results and not has_checkpoint and not overwrite:
        raise ValueError(f"{run_dir} holds the results of a run ({', '.join(results)}) but no checkpoint to resume "
                         "from; choose another --out folder, or pass --overwrite to replace them")
    if checkpoint_path.exists():
        stored_steps = _checkpoint_steps(checkpoint_path)
        if stored_steps is not None and config.steps < stored_steps:
            raise ValueError(f"{run_dir} has already trained {stored_steps} steps; ask for at least that many "
                             f"(got steps={config.steps}) or choose another --out folder")
    skipped = []
    x_train, evaluation = load_run_data(config, skipped)
    model = build_model(config, jit_compile=jit_compile, mixed_precision=mixed_precision)
    initial_step = 0
    if checkpoint_path.exists() or previous_path(checkpoint_path).exists():
        initial_step = restore_latest(model, checkpoint_path)["steps"]
        if initial_step > config.steps:
            raise ValueError(f"{run_dir} has already trained {initial_step} steps; ask for at least that many "
                             f"(got steps={config.steps})")
        if verbose:
            print(f"Resuming {run_dir} from step {initial_step}")
    run_dir.mkdir(parents=True, exist_ok=True)
    if results and not has_checkpoint:  # overwrite: nothing of the replaced run may leak into the new one
        for name in results:
            (run_dir / name).unlink()
    write_json(config_path, config.to_dict())
    if skipped:
        (run_dir / RUN_FILES["skipped"]).write_text("".join(f"{line}\n" for line in skipped))
        print(f"Skipped {len(skipped)} unreadable files of {config.images}: listed in "
              f"{run_dir / RUN_FILES['skipped']}")
    distribution = describe_strategy(model)
    if verbose:
        where = describe_device() if distribution["strategy"] == NO_STRATEGY else \
            f"{distribution['devices']} devices ({distribution['strategy']}, {describe_device()})"
        print(f"Training on {where}: {config.steps} steps of {config.batch_size} images")

    def dataset_from(step):  # the batch order depends on (seed, step) alone, so a resumed run sees the same
        return make_dataset(x_train, config.batch_size, seed=config.seed, start_step=step)

    all_callbacks = [
        ImageGridCallback(run_dir / "grids", model.spec),
        CheckpointCallback(checkpoint_path, extra={"config": config.to_dict()}),
        keras.callbacks.CSVLogger(str(run_dir / RUN_FILES["history"]), append=initial_step > 0),
        keras.callbacks.TensorBoard(str(run_dir / "tensorboard"), update_freq=50),
        StepHistory(run_dir / RUN_FILES["steps"], every=25, append=initial_step > 0),
        *callbacks,
    ]
    started = time.perf_counter()
    fit_steps(model, dataset_from, config.steps, config.steps_per_epoch, initial_step, all_callbacks, verbose)
    seconds = time.perf_counter() - started
    timing = _update_timing(run_dir, config.steps - initial_step, config.batch_size, seconds, describe_compute(model),
                            distribution)
    save_traversals(model, run_dir)
    # A model trained in mixed precision, or on several devices, is evaluated from its checkpoint in float32 on one
    # device, like every other.
    one_device = distribution["strategy"] == NO_STRATEGY
    evaluated = model if model.dtype_policy.name == "float32" and one_device else None
    metrics = evaluate_run(run_dir, model=evaluated, evaluation=evaluation) if evaluate else {}
    if verbose and metrics.get("hungarian_accuracy") is not None:
        print(f"Hungarian accuracy {metrics['hungarian_accuracy']:.4f} on {metrics['split']}, categorical L_I "
              f"{metrics['categorical_mi']:.3f} of {metrics['categorical_mi_max']:.3f}, "
              f"{timing['images_per_second']:.0f} images/s")
    return model, metrics


def _checkpoint_steps(path):
    """The step count of a readable checkpoint, or None (a damaged one is dealt with when loading)."""
    from .checkpoints import CheckpointError, read_checkpoint_meta

    try:
        steps = read_checkpoint_meta(path).get("steps")
    except CheckpointError:
        return None
    return steps if isinstance(steps, int) else None


def save_traversals(model, run_dir, values=np.linspace(-2.0, 2.0, 10)):
    """Write ``traversal_c2.png``, ``traversal_c3.png``, ...: rows = category, columns = one code."""
    from .plotting import save_image_grid

    paths = []
    if not model.spec.categorical_dims:
        return paths
    for index in range(model.spec.continuous_dim):
        noise, categorical, continuous = model.spec.traversal(index, values)
        images = model.generate(noise, categorical, continuous)
        paths.append(save_image_grid(images, pathlib.Path(run_dir) / f"traversal_c{index + 2}.png",
                                     columns=len(values)))
    return paths


def load_run_model(run_dir):
    """The model of a run folder, restored from its latest checkpoint and built in float32 on one device, so that
    its figures are the same on every machine whatever it trained in and on how many devices."""
    from .checkpoints import restore_latest

    run_dir = pathlib.Path(run_dir)
    model = build_model(dataclasses.replace(read_config(run_dir), devices=1), mixed_precision=False)
    restore_latest(model, run_dir / RUN_FILES["checkpoint"])
    return model


def evaluate_run(run_dir, model=None, evaluation=None, write=True):
    """Recompute ``metrics.json`` of a run from its saved weights (or from ``model``); returns the metrics
    (``write=False``: without writing them). ``evaluation`` is :func:`load_run_data`'s second item (read
    anew when None). A run on a folder without class subfolders has no labels: its metrics are then those
    that need none (the categorical L_I on generated images, and how Q spreads the folder over categories)."""
    from .metrics import evaluate_model

    run_dir = pathlib.Path(run_dir)
    config = read_config(run_dir)
    if model is None:
        model = load_run_model(run_dir)
    if evaluation is None:
        _, evaluation = load_run_data(config)
    # L_I is estimated on 10,000 generated images, or for a folder on as many as it holds (1,000 at least): a
    # folder's networks may cost 17 times MNIST's (64 x 64), and its run is often short and small.
    test_images = evaluation["test"][0]
    generated = 10000 if config.dataset != IMAGES else min(10000, max(1000, len(test_images)))
    report = evaluate_model(model, *evaluation["test"], n_generated=generated)
    timing_path = run_dir / RUN_FILES["timing"]
    timing = json.loads(timing_path.read_text()) if timing_path.exists() else {}
    metrics = {
        "split": ("the test set" if config.dataset != IMAGES else
                  f"the folder {config.images}" + (", labelled by its subfolders" if evaluation["class_names"] else
                                                   ", which has no labels")),
        "hungarian_accuracy": report.get("hungarian_accuracy"),
        "majority_accuracy": report.get("majority_accuracy"),
        "nmi": report.get("nmi"),
        "categorical_mi": report["categorical_mi"],
        "categorical_mi_max": report["categorical_mi_max"],
        "category_shares": report["category_shares"],
        "class_names": evaluation["class_names"],
        "steps": model.steps,
        "images_per_second": timing.get("images_per_second"),
        "wall_time_seconds": timing.get("wall_time_seconds"),
        "machine": timing.get("machine"),
        "confusion_matrix": report.get("confusion_matrix"),
        "cluster_to_label": report.get("cluster_to_label"),
        "config": config.to_dict(),
    }
    if write:
        write_json(run_dir / RUN_FILES["metrics"], metrics)
    return metrics


CODE_SAMPLES = 5000


def evaluate_validation(run_dir, model=None, write=True):
    """Write ``validation.json`` of a run: the categorical code against the labels of the validation
    slice of the training set (:func:`data.validation_split`), the split development decisions read,
    and, for a built-in dataset, each continuous code's correlation with slant, width and thickness on
    ``CODE_SAMPLES`` generated digits (:func:`metrics.continuous_code_correlations`); for MNIST, the sample quality
    by the project's own classifier (:func:`quality.sample_quality`). Reads no test label.
    Returns the report (``write=False``: without writing it)."""
    from .metrics import clustering_report, continuous_code_correlations

    run_dir = pathlib.Path(run_dir)
    config = read_config(run_dir)
    if model is None:
        model = load_run_model(run_dir)
    _, evaluation = load_run_data(config)
    if evaluation["validation"] is None:
        raise ValueError(f"{config.images} has no class subfolders, so there are no labels to validate against")
    images, labels = evaluation["validation"]
    size = model.spec.categorical_dims[0]
    probabilities, _ = model.predict_codes(images)
    report = clustering_report(labels, probabilities[:, :size].argmax(axis=1), n_clusters=size)
    split = f"the last {len(labels)} training images" if config.dataset != IMAGES else \
        f"the {len(labels)} images of the folder {config.images}, labelled by its subfolders"
    report |= {"split": split, "steps": model.steps, "class_names": evaluation["class_names"]}
    # Slant, width and thickness measure pen strokes: a folder's pictures need not be strokes, so its run skips them.
    if model.spec.continuous_dim and config.dataset != IMAGES:  # generated samples only: no label is read
        report["continuous_codes"] = continuous_code_correlations(model, n=CODE_SAMPLES, seed=0)
    if config.dataset == "mnist" and model.spec.categorical_dims == (10,):  # the project's classifier knows MNIST only
        from .quality import sample_quality

        report["sample_quality"] = sample_quality(model, images, report["cluster_to_label"])
    if write:
        write_json(run_dir / RUN_FILES["validation"], report)
    return report


def describe_compute(model):
    """How a compiled model computes: its dtype policy and whether its train step uses XLA."""
    return f"{model.dtype_policy.name}, {'XLA' if model.jit_compile else 'no XLA'}"


def _update_timing(run_dir, steps, batch_size, seconds, compute, strategy=None):
    """Add a session's steps and seconds to timing.json, with how it computed and the strategy and device count
    it trained with (those of the latest session)."""
    from .training import describe_device

    path = pathlib.Path(run_dir) / RUN_FILES["timing"]
    timing = json.loads(path.read_text()) if path.exists() else {"steps": 0, "wall_time_seconds": 0.0}
    timing["steps"] += steps
    timing["wall_time_seconds"] = round(timing["wall_time_seconds"] + seconds, 1)
    timing["images_per_second"] = round(timing["steps"] * batch_size / max(timing["wall_time_seconds"], 1e-9), 1)
    timing["machine"] = describe_device()
    timing["compute"] = compute
    timing |= strategy or {}
    write_json(path, timing)
    return timing
