"""Shipped, trained models: ``load_pretrained("mnist")`` gives a generator and a Q head ready to use.

A pretrained file is a ``.npz`` archive holding the generator's and the discriminator's weights
in float16 and a JSON description: the latent spec, the training configuration, the run's
``metrics.json`` and the permutation found by Hungarian matching. The permutation is applied
inside :meth:`PretrainedInfoGAN.generate` and :meth:`PretrainedInfoGAN.predict_codes`, so
categorical value ``k`` means digit ``k``.
"""

import json
import pathlib

import numpy as np

from .codes import LatentSpec
from .storage import assign_arrays, read_arrays, variables_to_arrays, write_arrays

PRETRAINED_DIR = pathlib.Path(__file__).resolve().parent / "pretrained"
CONTINUOUS_RANGE = (-2.0, 2.0)


def available_pretrained():
    """Names of the shipped models, e.g. ``["mnist"]``."""
    return sorted(path.stem for path in PRETRAINED_DIR.glob("*.npz"))


def load_pretrained(name="mnist", path=None):
    """Load a shipped model by name (or from ``path``) as a :class:`PretrainedInfoGAN`."""
    if path is None:
        if name not in available_pretrained():
            raise ValueError(f"unknown pretrained model {name!r}; available: {', '.join(available_pretrained()) or 'none'}")
        path = PRETRAINED_DIR / f"{name}.npz"
    return PretrainedInfoGAN.from_file(path)


class PretrainedInfoGAN:
    """A trained generator and Q head with the categories renamed so that category ``k`` is class ``k``."""

    def __init__(self, generator, discriminator, spec, category_to_label=None, metrics=None, config=None):
        self.generator = generator
        self.discriminator = discriminator
        self.latent_spec = spec
        self.metrics = metrics or {}
        self.config = config or {}
        size = spec.categorical_dims[0] if spec.categorical_dims else 0
        if category_to_label is None:
            category_to_label = list(range(size))
        category_to_label = np.asarray(category_to_label, dtype=np.int64)
        if sorted(category_to_label.tolist()) != list(range(size)):
            raise ValueError(f"category_to_label must be a permutation of 0..{size - 1}, got {category_to_label.tolist()}")
        self.category_to_label = category_to_label
        self.label_to_category = np.argsort(category_to_label)
        self.meta = {}  # everything the file stored besides the weights (see export_pretrained)

    @property
    def spec(self):
        return self.latent_spec

    def class_name(self, label):
        """What class ``label`` is called: the subfolder name of a model trained on a folder of classes,
        the label itself (a digit, for MNIST) otherwise."""
        names = self.meta.get("class_names") or []
        return names[label] if label < len(names) else str(label)

    @classmethod
    def from_file(cls, path):
        from .models import build_infogan_models
        from .runs import architecture_options

        path = pathlib.Path(path)
        meta, arrays = read_arrays(path, ValueError, "pretrained model file")
        try:
            spec = LatentSpec.from_dict(meta["spec"])
            config = dict(meta.get("config") or {})
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"{path} is not a readable pretrained model ({type(error).__name__}: {error})") from None
        # A file exported before the image format was recorded holds a 28 x 28 greyscale model.
        image_shape = (config.get("image_size") or 28,) * 2 + (config.get("channels") or 1,)
        generator, discriminator = build_infogan_models(spec, image_shape, **architecture_options(config))
        assign_arrays(arrays, {"generator": generator.weights, "discriminator": discriminator.weights}, path)
        model = cls(generator, discriminator, spec, meta.get("category_to_label"), meta.get("metrics"), config)
        model.meta = meta
        return model

    def generate(self, noise, categorical, continuous, seed=0):
        """Generate images for class labels and continuous codes.

        The same call as :meth:`InfoGAN.generate <infogan_utils.training.InfoGAN.generate>`.

        Args:
            noise: (n, noise_dim) noise, or None to draw it from ``seed``.
            categorical: n class labels (digit ``k`` for MNIST), (n,) or (n, 1).
            continuous: (n, continuous_dim) values in [-2, 2] (training used [-1, 1]).
        Returns:
            float32 array (n, height, width, channels) in [0, 1]: (n, 28, 28, 1) for MNIST.
        """
        spec = self.latent_spec
        labels = np.asarray(categorical)
        if labels.ndim == 2 and labels.shape[1:] == (1,):
            labels = labels[:, 0]
        if labels.ndim != 1 or labels.size == 0:
            raise ValueError(f"categorical must be a non-empty list of class labels, got shape {labels.shape}")
        size = spec.categorical_dims[0]
        if not np.all(np.isin(labels, np.arange(size))):
            raise ValueError(f"categorical values must be whole numbers 0..{size - 1}, got {labels.tolist()}")
        n = len(labels)
        continuous = np.asarray(continuous, dtype="float32")
        if continuous.shape != (n, spec.continuous_dim):
            raise ValueError(f"continuous must have shape ({n}, {spec.continuous_dim}), got {continuous.shape}")
        low, high = CONTINUOUS_RANGE
        if not np.all(np.isfinite(continuous)) or continuous.min() < low or continuous.max() > high:
            raise ValueError(f"continuous values must lie in [{low:g}, {high:g}]")
        if noise is None:
            noise = spec.sample_noise(n, np.random.default_rng(seed))
        noise = np.asarray(noise, dtype="float32")
        if noise.shape != (n, spec.noise_dim):
            raise ValueError(f"noise must have shape ({n}, {spec.noise_dim}), got {noise.shape}")
        categories = self.label_to_category[labels.astype(np.int64)]
        latent = spec.build_input(noise, categories[:, None], continuous)
        from .inference import generate_images

        return generate_images(self.generator, latent)

    def predict_codes(self, images, batch_size=500):
        """The Q head's estimate of the codes of ``images`` (n, 28, 28[, 1]) in [0, 1] (the same call as
        :meth:`InfoGAN.predict_codes <infogan_utils.training.InfoGAN.predict_codes>`).

        Returns (n, K) class probabilities (column ``k`` is class ``k``) and (n, continuous_dim) means.
        """
        from .inference import predict_codes

        probabilities, means = predict_codes(self.discriminator, self.latent_spec, images, batch_size)
        probabilities = probabilities[:, :self.latent_spec.categorical_dims[0]]
        return probabilities[:, self.label_to_category].astype("float32"), means


def export_pretrained(run_dir, path):
    """Write a run's weights as a float16 pretrained file at ``path`` (atomically), with its metrics
    and the category-to-digit map. The map is the Hungarian permutation fitted on the validation slice
    of the *training* set (:func:`~infogan_utils.runs.evaluate_validation`, or the run's ``validation.json``
    written at the checkpoint's step), so the test labels serve only to report the test metrics.
    Returns the path."""
    from .data import folder_has_classes
    from .runs import IMAGES, RUN_FILES, evaluate_run, evaluate_validation, load_run_model, read_config

    run_dir, path = pathlib.Path(run_dir), pathlib.Path(path)
    config = read_config(run_dir)
    if path.is_dir():  # refused before the work, not after it
        raise ValueError(f"{path} is a folder; name the .npz file to write")
    model = load_run_model(run_dir)
    # Exporting reads the run and writes only the file it is asked for. The run's own reports are reused when
    # they were computed at the checkpoint's step; otherwise they are computed afresh and not written.
    metrics = _current_report(run_dir / RUN_FILES["metrics"], model.steps) or \
        evaluate_run(run_dir, model=model, write=False)
    labelled = config.dataset != IMAGES or folder_has_classes(config.images)
    validation = _current_report(run_dir / RUN_FILES["validation"], model.steps) if labelled else None
    if labelled and validation is None:
        validation = evaluate_validation(run_dir, model=model, write=False)
    if labelled and len(validation["class_names"] or []) > model.spec.categorical_dims[0]:
        raise ValueError(f"{config.images} has {len(validation['class_names'])} classes but the run has only "
                         f"{model.spec.categorical_dims[0]} categories to name after them; train with "
                         "--categories at least the number of classes")
    arrays = variables_to_arrays({"generator": model.generator.weights,
                                  "discriminator": model.discriminator.weights}, dtype="float16")
    size = model.spec.categorical_dims[0]
    meta = {"spec": model.spec.to_dict(), "config": config.to_dict(),
            "category_to_label": validation["cluster_to_label"] if labelled else list(range(size)),
            "category_to_label_fitted_on": validation["split"] if labelled else "nothing: the folder has no labels",
            "class_names": validation.get("class_names") if labelled else None,
            "validation": validation, "metrics": metrics}
    write_arrays(path, arrays, meta, compress=True)
    return path


def _current_report(path, steps):
    """The report in ``path`` (``metrics.json`` or ``validation.json`` of a run) if it was computed at ``steps``;
    None if it is missing, unreadable or from another step, so that the caller computes it afresh."""
    try:
        report = json.loads(pathlib.Path(path).read_text())
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and report.get("steps") == steps else None
