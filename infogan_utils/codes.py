"""The generator's input: incompressible noise z and the latent codes c.

InfoGAN splits the generator's input into noise ``z`` and codes ``c``. On MNIST the paper
uses 62 noise variables, one 10-way categorical code and two continuous codes drawn from
Uniform(-1, 1). :class:`LatentSpec` describes that layout; its methods sample it, build the
generator's input and lay out grids for traversals.
"""

import dataclasses
import json
import math

import numpy as np

NOISE_DISTRIBUTIONS = ("uniform", "normal")


@dataclasses.dataclass(frozen=True)
class LatentSpec:
    """The layout of the generator's input ``[z, one_hot(c_1), ..., c_continuous]``.

    Args:
        noise_dim: size of the noise vector z (62 in the paper).
        categorical_dims: the number of categories of each categorical code.
        continuous_dim: the number of continuous codes, each Uniform(-1, 1).
        noise_distribution: ``"uniform"`` (Uniform(-1, 1), as the official code) or ``"normal"``.
        noise_scale: the noise is multiplied by this (1 in the paper). A small scale makes the
            codes, not z, the largest part of the generator's input at the start of training; at
            0.1 the generator all but ignored z on MNIST (each category drew nearly one image).
    """

    noise_dim: int = 62
    categorical_dims: tuple = (10,)
    continuous_dim: int = 2
    noise_distribution: str = "uniform"
    noise_scale: float = 1.0

    def __post_init__(self):
        object.__setattr__(self, "categorical_dims", tuple(int(k) for k in self.categorical_dims))
        if self.noise_dim < 0 or self.continuous_dim < 0:
            raise ValueError("noise_dim and continuous_dim must not be negative")
        if any(k < 2 for k in self.categorical_dims):
            raise ValueError(f"each categorical code needs at least 2 categories, got {self.categorical_dims}")
        if self.noise_distribution not in NOISE_DISTRIBUTIONS:
            raise ValueError(
                f"noise_distribution must be one of {NOISE_DISTRIBUTIONS}, got {self.noise_distribution!r}"
            )
        if not (math.isfinite(self.noise_scale) and self.noise_scale > 0):
            raise ValueError(f"noise_scale must be a positive finite number, got {self.noise_scale}")

    @property
    def code_dim(self):
        """Width of the code part of the input: one-hot categoricals plus continuous codes."""
        return sum(self.categorical_dims) + self.continuous_dim

    @property
    def input_dim(self):
        """Width of the whole generator input."""
        return self.noise_dim + self.code_dim

    def to_dict(self):
        return dataclasses.asdict(self) | {"categorical_dims": list(self.categorical_dims)}

    @classmethod
    def from_dict(cls, values):
        return cls(**values)

    def __str__(self):
        return json.dumps(self.to_dict())

    def sample_noise(self, n, rng):
        """Draw ``n`` noise vectors as a float32 array (n, noise_dim)."""
        if self.noise_distribution == "uniform":
            noise = rng.uniform(-1.0, 1.0, size=(n, self.noise_dim))
        else:
            noise = rng.standard_normal((n, self.noise_dim))
        return (self.noise_scale * noise).astype("float32")

    def sample(self, n, seed=None):
        """Sample ``n`` latent vectors with NumPy.

        Returns a dict with ``noise`` (n, noise_dim), ``categorical`` (n, number of categorical
        codes) integer indices and ``continuous`` (n, continuous_dim) in [-1, 1).
        """
        rng = np.random.default_rng(seed)
        categorical = np.stack([rng.integers(0, k, size=n) for k in self.categorical_dims], axis=1) \
            if self.categorical_dims else np.zeros((n, 0), "int64")  # a plain GAN has no categorical code
        return {
            "noise": self.sample_noise(n, rng),
            "categorical": categorical.reshape(n, len(self.categorical_dims)).astype("int64"),
            "continuous": rng.uniform(-1.0, 1.0, size=(n, self.continuous_dim)).astype("float32"),
        }

    def one_hot(self, categorical):
        """One-hot encode integer categories (n, number of categorical codes) into (n, sum of sizes)."""
        categorical = np.asarray(categorical)
        if categorical.ndim == 1 and len(self.categorical_dims) == 1:
            categorical = categorical[:, None]
        if categorical.ndim != 2 or categorical.shape[1] != len(self.categorical_dims):
            raise ValueError(
                f"categorical must have shape (n, {len(self.categorical_dims)}), got {categorical.shape}"
            )
        parts = []
        for column, size in enumerate(self.categorical_dims):
            values = categorical[:, column]
            if np.any(values < 0) or np.any(values >= size) or np.any(values != np.round(values)):
                raise ValueError(f"categorical code {column} takes whole values 0..{size - 1}, got {values}")
            parts.append(np.eye(size, dtype="float32")[values.astype("int64")])
        return np.concatenate(parts, axis=1) if parts else np.zeros((len(categorical), 0), "float32")

    def build_input(self, noise, categorical, continuous):
        """Concatenate noise, one-hot categorical codes and continuous codes into the generator input."""
        noise = np.asarray(noise, dtype="float32")
        continuous = np.asarray(continuous, dtype="float32")
        one_hot = self.one_hot(categorical)
        n = len(one_hot)
        if noise.shape != (n, self.noise_dim):
            raise ValueError(f"noise must have shape ({n}, {self.noise_dim}), got {noise.shape}")
        if continuous.shape != (n, self.continuous_dim):
            raise ValueError(f"continuous must have shape ({n}, {self.continuous_dim}), got {continuous.shape}")
        return np.concatenate([noise, one_hot, continuous], axis=1)

    def split(self, codes):
        """Split a code tensor (n, code_dim) into its one-hot categorical parts and the continuous part."""
        parts, start = [], 0
        for size in self.categorical_dims:
            parts.append(codes[:, start:start + size])
            start += size
        return parts, codes[:, start:]

    def traversal(self, continuous_index, values=np.linspace(-2.0, 2.0, 10), noise_seed=0, rows=None,
                  fixed_continuous=0.0, categorical_index=0):
        """The paper's figure layout: rows are the values of one categorical code, columns vary one
        continuous code over ``values``; the noise is the same in every cell and the other
        continuous codes are held at ``fixed_continuous``.

        Returns ``(noise, categorical, continuous)`` ready for :meth:`build_input`, with
        ``rows * len(values)`` entries in row-major order.
        """
        if not 0 <= continuous_index < self.continuous_dim:
            raise ValueError(f"continuous_index must be in 0..{self.continuous_dim - 1}, got {continuous_index}")
        if not self.categorical_dims:
            raise ValueError("a traversal needs a categorical code for its rows")
        values = np.asarray(values, dtype="float32")
        size = self.categorical_dims[categorical_index]
        rows = range(size) if rows is None else rows
        rows = list(rows)
        n = len(rows) * len(values)
        noise = np.repeat(self.sample_noise(1, np.random.default_rng(noise_seed)), n, axis=0)
        categorical = np.zeros((n, len(self.categorical_dims)), "int64")
        categorical[:, categorical_index] = np.repeat(rows, len(values))
        continuous = np.full((n, self.continuous_dim), fixed_continuous, "float32")
        continuous[:, continuous_index] = np.tile(values, len(rows))
        return noise, categorical, continuous


def sample_latent_tensors(spec, batch_size, seed_generator):
    """Sample a batch inside a traced ``train_step`` with a ``keras.random.SeedGenerator``.

    Returns ``(generator_input, codes)`` where ``codes`` is the one-hot/continuous part that Q
    must recover.
    """
    import keras
    from keras import ops

    if spec.noise_distribution == "uniform":
        noise = keras.random.uniform((batch_size, spec.noise_dim), -1.0, 1.0, seed=seed_generator)
    else:
        noise = keras.random.normal((batch_size, spec.noise_dim), seed=seed_generator)
    if spec.noise_scale != 1.0:
        noise = noise * spec.noise_scale
    parts = []
    for size in spec.categorical_dims:
        logits = ops.zeros((batch_size, size))
        index = keras.random.categorical(logits, 1, seed=seed_generator)[:, 0]
        parts.append(ops.one_hot(index, size))
    if spec.continuous_dim:
        parts.append(keras.random.uniform((batch_size, spec.continuous_dim), -1.0, 1.0, seed=seed_generator))
    # a plain GAN (no codes) gets an empty (batch_size, 0) code tensor
    codes = ops.concatenate(parts, axis=1) if parts else ops.zeros((batch_size, 0))
    return ops.concatenate([noise, codes], axis=1), codes


def contrastive_partners(spec, latent, partner_latent, shared):
    """InfoGAN-CR's pairs: ``partner_latent`` (its own noise and codes) with the continuous code ``shared[i]`` of
    row ``i`` copied from ``latent``, so that each pair of images agrees on exactly that code (the other continuous
    codes, the categories and the noise are drawn independently). ``shared`` holds whole numbers in
    ``[0, continuous_dim)``; both latents have :class:`LatentSpec`'s layout (continuous codes last)."""
    from keras import ops

    width = spec.continuous_dim
    mask = ops.one_hot(shared, width, dtype=latent.dtype)
    continuous = mask * latent[:, -width:] + (1.0 - mask) * partner_latent[:, -width:]
    return ops.concatenate([partner_latent[:, :-width], continuous], axis=1)
