"""InfoGAN as a ``keras.Model`` with a custom ``train_step``, and the callbacks used while training.

Usage, in the Keras idiom::

    model = InfoGAN(generator, discriminator, spec)
    model.compile(d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
                  g_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    model.fit(dataset, epochs=10, steps_per_epoch=500)

D and G are updated together from one forward pass. The information loss
``lambda_cat * CE + lambda_cont * NLL`` is added to both losses: it trains the Q head and the
shared discriminator trunk (through D's optimizer) and the generator (through G's optimizer).
With ``categorical_augmentation`` above 0, Q reads the categorical code from randomly distorted
copies of the generated images (one more pass of D), so that the code must survive the distortion.

Built and compiled inside a ``tf.distribute`` strategy's scope (``TrainConfig(devices=N)``,
:mod:`infogan_utils.distribute`), the same step trains on N replicas: each draws the global batch's latents and
distortions and keeps its slice, and scales its losses so that the sum of the replicas' gradients is the
global batch's.
"""

import math
import os
import pathlib

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from .augment import affine_warp, random_affine, random_affine_transforms
from .codes import LatentSpec, contrastive_partners, sample_latent_tensors
from .data import without_autotuning
from .distribute import logs_for_strategy, replica_loss, replica_slice, replicas_in_sync
from .inference import generate_images, predict_codes
from .losses import (categorical_consistency, contrastive_loss, discriminator_loss, gaussian_negative_log_likelihood,
                     generator_loss, information_losses, real_data_information)
from .models import build_contrastive_classifier
from .runs import check_objective, resolve_compute, resolve_invariant_codes


@keras.saving.register_keras_serializable(package="infogan_utils")
class InfoGAN(keras.Model):
    """A generator and a discriminator with a Q head, trained with InfoGAN's objective.

    Args:
        generator: maps ``spec.input_dim`` vectors to images.
        discriminator: maps images to a dict with ``real_logit`` and the Q head's outputs.
        spec: the :class:`LatentSpec` of the generator input. With no codes (or both weights 0)
            this is a plain GAN.
        categorical_weight: lambda for the categorical codes' cross-entropy.
        continuous_weight: lambda for the continuous codes' Gaussian negative log-likelihood
            (1, as in the official code; without the distortion below, 0.1 keeps the continuous
            codes from taking over digit identity, chapter 4).
        categorical_augmentation: strength of the random rotation, shear, scale and shift
            (:func:`augment.random_affine`) applied to the generated images from which Q reads the
            categorical codes (1: up to 20 degrees, 0.3 shear, 15% scale, 2 pixels); 0 turns it off
            and gives the paper's objective. The continuous codes are read undistorted, except for
            the first ``invariant_codes`` of them.
        augmentation_fraction: the share of each batch's generated images that Q reads again
            distorted, in (0, 1]: the first ``ceil(fraction * batch)`` of them. 1 distorts every one;
            0.5 halves the cost of the third pass of D (a noisier estimate of the same loss). On several
            devices, the first share of each device's slice of the batch.
        invariant_codes: how many continuous codes (from the first, c2) Q also reads from the
            distorted images, so that they cannot be carried by pose (slant, size, position) and must be
            carried by what survives the distortion, such as stroke thickness. 0 reads every continuous
            code undistorted; above 0 needs ``categorical_augmentation`` above 0. ``None`` (the default)
            is 1 with the distortion and 0 without it.
        real_consistency: weight of :func:`losses.categorical_consistency` on real images: Q should read the
            same categories from a real image and a copy distorted as the generated ones are (one more pass of
            D over the real batch, or its first ``augmentation_fraction``). It trains D and Q only. 0 (the
            default) leaves it out; above 0 needs ``categorical_augmentation`` above 0 and a categorical code.
        contrastive_weight: weight of InfoGAN-CR's contrastive regulariser (Lin et al. 2020) in G's loss
            (:func:`losses.contrastive_loss`): a classifier H (``contrastive_classifier``, its own optimizer) gets
            each generated image stacked with a partner that shares one continuous code's value and nothing else
            (:func:`codes.contrastive_partners`) and must say which code it is; G minimises the same loss. 0 (the
            default here) leaves it out; above 0 needs two continuous codes or more. ``TrainConfig``'s runs use
            0.5 from step 2500, the project's measured setting.
        contrastive_start: the step from which G minimises the contrastive loss (InfoGAN-CR's released settings
            switch it on late); H learns from the first step, so that it can already read the codes then.
        seed: seeds the latent sampling inside ``train_step``.
    """

    def __init__(self, generator, discriminator, spec=None, categorical_weight=1.0,
                 continuous_weight=1.0, categorical_augmentation=1.0, augmentation_fraction=1.0, invariant_codes=None,
                 real_consistency=0.0, contrastive_weight=0.0, contrastive_start=0, seed=0, **kwargs):
        super().__init__(**kwargs)
        if not (math.isfinite(augmentation_fraction) and 0 < augmentation_fraction <= 1):
            raise ValueError(f"augmentation_fraction must be in (0, 1], got {augmentation_fraction}")
        self.generator = generator
        self.discriminator = discriminator
        self.spec = spec or LatentSpec()
        invariant_codes = resolve_invariant_codes(invariant_codes, categorical_augmentation, self.spec.continuous_dim)
        check_objective(categorical_weight, continuous_weight, categorical_augmentation, invariant_codes,
                        self.spec.continuous_dim, real_consistency, self.spec.categorical_dims,
                        contrastive_weight, contrastive_start)
        if generator.input_shape[-1] != self.spec.input_dim:
            raise ValueError(
                f"the generator takes inputs of size {generator.input_shape[-1]}, "
                f"but the latent spec has input_dim {self.spec.input_dim}")
        self.categorical_weight = float(categorical_weight)
        self.continuous_weight = float(continuous_weight)
        self.categorical_augmentation = float(categorical_augmentation)
        self.augmentation_fraction = float(augmentation_fraction)
        self.invariant_codes = int(invariant_codes)
        self.real_consistency = float(real_consistency)
        self.contrastive_weight = float(contrastive_weight)
        self.contrastive_start = int(contrastive_start)
        self.contrastive_classifier = None
        if self.contrastive_weight:
            image_shape = generator.output_shape[1:]
            self.contrastive_classifier = build_contrastive_classifier(image_shape, self.spec.continuous_dim)
        self.seed_generator = keras.random.SeedGenerator(seed)
        # Counted here rather than read from an optimizer: under mixed precision the loss-scale
        # optimizer skips the steps whose gradients overflow, and its count falls behind.
        self.step_counter = keras.Variable(0, dtype="int64", trainable=False, name="step_counter")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in (
            "d_loss", "g_loss", "categorical_loss", "continuous_loss", "categorical_mi", "real_mi")}
        if self.real_consistency:  # logged only when it is trained, so other runs' history keeps its columns
            self.trackers["real_consistency"] = keras.metrics.Mean(name="real_consistency")
        if self.contrastive_weight:
            for name in ("contrastive_loss", "contrastive_accuracy"):
                self.trackers[name] = keras.metrics.Mean(name=name)
        # Every weight lives in the two built networks. Marked built, the model is not called on a batch of
        # images to build it, which a strategy's fit does to an unbuilt model (call() takes latents).
        self.built = True

    def compile(self, d_optimizer, g_optimizer, jit_compile="auto", h_optimizer=None, **kwargs):
        """Set the two optimizers; D's also trains the Q head, which lives in the discriminator. With the
        contrastive regulariser, ``h_optimizer`` trains its classifier H (default: a copy of D's settings).

        ``jit_compile="auto"`` follows the environment variable ``INFOGAN_COMPUTE`` when it is set (with XLA in
        its ``exact`` and ``float16`` modes, without in ``bfloat16`` and ``float32``; ``runs.COMPUTE_MODES``),
        and Keras' own choice otherwise."""
        if jit_compile == "auto" and os.environ.get("INFOGAN_COMPUTE"):
            from .runs import resolve_compute

            jit_compile = resolve_compute()[0]
        super().compile(jit_compile=jit_compile, **kwargs)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        # Built now so that a checkpoint can be loaded before the first step.
        self.d_optimizer.build(self.discriminator.trainable_weights)
        self.g_optimizer.build(self.generator.trainable_weights)
        self.h_optimizer = None
        if self.contrastive_classifier is not None:
            self.h_optimizer = h_optimizer or d_optimizer.__class__.from_config(d_optimizer.get_config())
            self.h_optimizer.build(self.contrastive_classifier.trainable_weights)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def fit(self, x=None, *args, **kwargs):
        """``keras.Model.fit``; a ``tf.data.Dataset`` is trained on without tf.data's autotuning, which
        would otherwise keep ``fit`` waiting for seconds after its last batch (:func:`data.without_autotuning`)."""
        if isinstance(x, tf.data.Dataset):
            x = without_autotuning(x)
        return super().fit(x, *args, **kwargs)

    def call(self, latent, training=False):
        return self.generator(latent, training=training)

    def train_step(self, real_images):
        if isinstance(real_images, tuple):  # (images, labels) datasets: labels are never used
            real_images = real_images[0]
        batch_size = tf.shape(real_images)[0]
        replicas = replicas_in_sync()
        latent, codes = self.sample_latents(batch_size, replicas)
        with tf.GradientTape(persistent=True) as tape:
            fake_images = self.generator(latent, training=True)
            real_outputs = self.discriminator(real_images, training=True)
            fake_outputs = self.discriminator(fake_images, training=True)
            info = information_losses(self.spec, codes, fake_outputs)
            distort_categories = bool(self.categorical_weight and self.spec.categorical_dims)
            distort_codes = bool(self.continuous_weight and self.invariant_codes)
            if self.categorical_augmentation and (distort_categories or distort_codes):
                count = self.distorted_count(batch_size)
                distorted = self.distort(fake_images[:count], replicas)
                distorted_outputs = self.discriminator(distorted, training=True)
                if distort_categories:
                    distorted_info = information_losses(self.spec, codes[:count], distorted_outputs)
                    info = info | {name: distorted_info[name] for name in ("categorical", "categorical_mi")}
                if distort_codes:
                    info["continuous"] = self.split_continuous_loss(codes, fake_outputs, distorted_outputs, count)
            info_loss = (self.categorical_weight * info["categorical"]
                         + self.continuous_weight * info["continuous"])
            d_loss = discriminator_loss(real_outputs["real_logit"], fake_outputs["real_logit"]) + info_loss
            g_loss = generator_loss(fake_outputs["real_logit"]) + info_loss
            if self.real_consistency:
                count = self.distorted_count(batch_size)
                distorted_real_outputs = self.discriminator(self.distort(real_images[:count], replicas), training=True)
                consistency = categorical_consistency(self.spec, real_outputs, distorted_real_outputs)
                d_loss = d_loss + self.real_consistency * consistency
            if self.contrastive_weight:
                contrastive, contrastive_accuracy = self.contrastive_term(latent, fake_images, batch_size, replicas)
                switched_on = ops.cast(self.step_counter >= self.contrastive_start, contrastive.dtype)
                g_loss = g_loss + switched_on * self.contrastive_weight * contrastive
                scaled_h_loss = self.h_optimizer.scale_loss(replica_loss(contrastive, replicas))
            scaled_d_loss = self.d_optimizer.scale_loss(replica_loss(d_loss, replicas))
            scaled_g_loss = self.g_optimizer.scale_loss(replica_loss(g_loss, replicas))
        d_weights = self.discriminator.trainable_weights
        g_weights = self.generator.trainable_weights
        self.d_optimizer.apply(tape.gradient(scaled_d_loss, d_weights), d_weights)
        self.g_optimizer.apply(tape.gradient(scaled_g_loss, g_weights), g_weights)
        if self.contrastive_weight:
            h_weights = self.contrastive_classifier.trainable_weights
            self.h_optimizer.apply(tape.gradient(scaled_h_loss, h_weights), h_weights)
        del tape
        self.step_counter.assign_add(1)
        # A label-free diagnostic, not a loss: how confidently and evenly Q sorts the real batch.
        real_mi = real_data_information(self.spec, real_outputs) if self.spec.categorical_dims else 0.0
        values = {
            "d_loss": d_loss,
            "g_loss": g_loss,
            "categorical_loss": info["categorical"],
            "continuous_loss": info["continuous"],
            "categorical_mi": info["categorical_mi"],
            "real_mi": real_mi,
        }
        if self.real_consistency:
            values["real_consistency"] = consistency
        if self.contrastive_weight:
            values |= {"contrastive_loss": contrastive, "contrastive_accuracy": contrastive_accuracy}
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return logs_for_strategy({name: tracker.result() for name, tracker in self.trackers.items()})

    def sample_latents(self, batch_size, replicas=1):
        """The generator's input and the codes in it for a batch of ``batch_size``.

        On several replicas every one draws the latents of the global batch (the seed generator's state is the
        same on each) and keeps its own slice, so that N replicas train on the latents one device would draw.
        """
        if replicas == 1:
            return sample_latent_tensors(self.spec, batch_size, self.seed_generator)
        latent, codes = sample_latent_tensors(self.spec, batch_size * replicas, self.seed_generator)
        return replica_slice(latent, batch_size), replica_slice(codes, batch_size)

    def contrastive_term(self, latent, fake_images, batch_size, replicas=1):
        """InfoGAN-CR's loss on this batch, and H's accuracy: each generated image is stacked with a partner that
        shares one randomly chosen continuous code with it (drawn for the global batch on several replicas, as the
        latents are), and H says which code that is."""
        partner_latent, _ = self.sample_latents(batch_size, replicas)
        shared = keras.random.randint((batch_size * replicas,), 0, self.spec.continuous_dim, seed=self.seed_generator)
        if replicas > 1:
            shared = replica_slice(shared, batch_size)
        partners = self.generator(contrastive_partners(self.spec, latent, partner_latent, shared), training=True)
        logits = self.contrastive_classifier(ops.concatenate([fake_images, partners], axis=-1), training=True)
        read = ops.cast(ops.argmax(logits, axis=-1), "int32")
        accuracy = ops.mean(ops.cast(ops.equal(read, ops.cast(shared, "int32")), "float32"))
        return contrastive_loss(shared, logits), accuracy

    def distort(self, images, replicas=1):
        """``images`` randomly distorted for Q (:func:`augment.random_affine`); on several replicas, with this
        replica's slice of the distortions drawn for the global batch, as for the latents."""
        if replicas == 1:
            return random_affine(images, self.categorical_augmentation, self.seed_generator)
        count = tf.shape(images)[0]
        matrices, offsets = random_affine_transforms(count * replicas, self.categorical_augmentation,
                                                     self.seed_generator)
        return affine_warp(images, replica_slice(matrices, count), replica_slice(offsets, count))

    def split_continuous_loss(self, codes, fake_outputs, distorted_outputs, count):
        """The continuous codes' loss with the first ``invariant_codes`` read from the distorted images
        (the first ``count`` of the batch) and the others from the undistorted ones."""
        _, continuous = self.spec.split(codes)
        split = self.invariant_codes

        def loss(outputs, rows, columns):
            log_std = outputs.get("continuous_log_std")
            return gaussian_negative_log_likelihood(
                continuous[rows, columns], outputs["continuous_mean"][:, columns],
                None if log_std is None else log_std[:, columns])

        invariant = loss(distorted_outputs, slice(None, count), slice(None, split))
        if split == self.spec.continuous_dim:
            return invariant
        return invariant + loss(fake_outputs, slice(None), slice(split, None))

    def distorted_count(self, batch_size):
        """How many of a batch's generated images Q reads distorted: ``ceil(augmentation_fraction * batch)``."""
        if self.augmentation_fraction == 1:
            return batch_size
        return ops.cast(ops.ceil(self.augmentation_fraction * ops.cast(batch_size, "float32")), "int32")

    @property
    def steps(self):
        """The number of training steps taken so far."""
        return int(self.step_counter.numpy())

    def generate(self, noise, categorical, continuous, seed=0, batch_size=500):
        """Images in [0, 1] for explicit latent values (NumPy in, NumPy out).

        The same call as :meth:`PretrainedInfoGAN.generate <infogan_utils.pretrained.PretrainedInfoGAN.generate>`,
        so that plots, metrics and widgets take either model:

        Args:
            noise: (n, noise_dim) noise, or None to draw it from ``seed``.
            categorical: the category of each image, (n,), or (n, number of categorical codes).
            continuous: (n, continuous_dim) continuous codes.
        Returns:
            float32 array (n, height, width, channels).
        """
        if noise is None:
            count = len(np.asarray(categorical)) if self.spec.categorical_dims else len(np.asarray(continuous))
            noise = self.spec.sample_noise(count, np.random.default_rng(seed))
        latent = self.spec.build_input(noise, categorical, continuous)
        return generate_images(self.generator, latent, batch_size)

    def predict_codes(self, images, batch_size=500):
        """The Q head on ``images``: (categorical probabilities, continuous means) as NumPy arrays."""
        return predict_codes(self.discriminator, self.spec, images, batch_size)


def make_optimizers(d_learning_rate=2e-4, g_learning_rate=1e-3, beta_1=0.5, mixed_precision=False):
    """Adam for D (and Q) and for G with the paper's defaults; loss-scaled under mixed precision."""
    d_optimizer = keras.optimizers.Adam(d_learning_rate, beta_1=beta_1)
    g_optimizer = keras.optimizers.Adam(g_learning_rate, beta_1=beta_1)
    if mixed_precision:
        d_optimizer = keras.optimizers.LossScaleOptimizer(d_optimizer)
        g_optimizer = keras.optimizers.LossScaleOptimizer(g_optimizer)
    return d_optimizer, g_optimizer


def gpu_available():
    """True when TensorFlow sees a GPU."""
    return bool(tf.config.list_physical_devices("GPU"))


def cpu_has_bfloat16(cpuinfo_path="/proc/cpuinfo"):
    """True on a CPU with bfloat16 arithmetic instructions (``avx512_bf16`` or ``amx_bf16``), as Linux
    reports them in ``/proc/cpuinfo``; False elsewhere, where the flags cannot be read."""
    try:
        with open(cpuinfo_path) as cpuinfo:
            for line in cpuinfo:
                if line.startswith("flags"):
                    return bool({"avx512_bf16", "amx_bf16"} & set(line.split(":", 1)[1].split()))
    except OSError:
        pass
    return False


def machine_policy():
    """The Keras dtype policy for models built by hand, as the chapters build theirs: ``"mixed_bfloat16"`` where
    :func:`runs.build_model` trains in bfloat16 (a CPU with bfloat16 instructions, or ``INFOGAN_COMPUTE=bfloat16``),
    ``"float32"`` everywhere else (a GPU, any other CPU, the test suite's ``INFOGAN_COMPUTE=float32``).

    Set it with ``keras.mixed_precision.set_global_policy`` before building the networks. The weights stay float32;
    the layers compute in bfloat16, and the networks' last layers return float32. On the project's 2-core EPYC a
    step of chapter 1's DCGAN (batches of 64, no XLA) took 127 and 149 ms in bfloat16 against 177 to 189 ms in
    float32, and one of chapter 3's InfoGAN 140 and 146 ms against 191 and 196 ms.
    """
    return "mixed_bfloat16" if resolve_compute()[1] == "bfloat16" else "float32"


def describe_device():
    """A one-line description of the device training will run on."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    return f"CPU only ({len(tf.config.list_physical_devices('CPU'))} device, {_cpu_count()} cores)"


def _cpu_count():
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def fit_steps(model, dataset, steps, steps_per_epoch=500, initial_step=0, callbacks=(), verbose=1):
    """Train for exactly ``steps`` updates in total, continuing from ``initial_step``.

    Keras epochs have ``steps_per_epoch`` updates each; a shorter final epoch makes up the rest.
    ``dataset`` is a ``tf.data.Dataset`` or, for exact resumption, a function of the step at which
    it must start (as :func:`data.make_dataset`'s ``start_step``): each ``model.fit`` call starts
    its own pass over a dataset, so a plain dataset restarts from its first batch at every call.
    Returns a dict of per-epoch metric lists.
    """
    if steps < 0 or initial_step < 0:
        raise ValueError(f"steps must not be negative, got steps={steps}, initial_step={initial_step}")
    if steps_per_epoch <= 0:
        raise ValueError(f"steps_per_epoch must be positive, got {steps_per_epoch}")
    history = {}
    done = initial_step
    while done < steps:
        epoch = done // steps_per_epoch
        if done % steps_per_epoch == 0 and steps - done >= steps_per_epoch:
            last_epoch, chunk = steps // steps_per_epoch, steps_per_epoch  # all the whole epochs in one fit
        else:
            last_epoch, chunk = epoch + 1, min(steps_per_epoch * (epoch + 1), steps) - done
        data = dataset(done) if callable(dataset) else dataset
        result = model.fit(data, epochs=last_epoch, initial_epoch=epoch, steps_per_epoch=chunk,
                           callbacks=list(callbacks), verbose=verbose, shuffle=False)
        for name, values in result.history.items():
            history.setdefault(name, []).extend(values)
        done += chunk * (last_epoch - epoch)
    return history


class ImageGridCallback(keras.callbacks.Callback):
    """Saves a grid of generated images from the same latent vectors at the end of each epoch.

    With a categorical code, row ``k`` uses category ``k`` so one can watch classes form.
    """

    def __init__(self, folder, spec, columns=10, seed=1234):
        super().__init__()
        self.folder = pathlib.Path(folder)
        self.spec = spec
        rows = spec.categorical_dims[0] if spec.categorical_dims else columns
        sample = spec.sample(rows * columns, seed=seed)
        if spec.categorical_dims:
            sample["categorical"][:, 0] = np.repeat(np.arange(rows), columns)
            sample["noise"] = np.tile(sample["noise"][:columns], (rows, 1))
            sample["continuous"][:] = 0.0
        self.latent = spec.build_input(sample["noise"], sample["categorical"], sample["continuous"])
        self.rows, self.columns = rows, columns
        self.saved = []

    def on_epoch_end(self, epoch, logs=None):
        from .plotting import save_image_grid

        self.folder.mkdir(parents=True, exist_ok=True)
        images = self.model.generator.predict(self.latent, verbose=0)
        path = self.folder / f"epoch_{epoch + 1:03d}.png"
        save_image_grid(images, path, columns=self.columns)
        self.saved.append(path)


class CheckpointCallback(keras.callbacks.Callback):
    """Writes the whole training state to one file at each epoch end, atomically."""

    def __init__(self, path, extra=None):
        super().__init__()
        self.path = pathlib.Path(path)
        self.extra = extra or {}

    def on_epoch_end(self, epoch, logs=None):
        from .checkpoints import save_checkpoint

        save_checkpoint(self.model, self.path, extra=self.extra)


class StepHistory(keras.callbacks.Callback):
    """Appends the running metrics to a CSV file every ``every`` steps (finer than Keras' per-epoch log)."""

    def __init__(self, path, every=25, append=False):
        super().__init__()
        self.path = pathlib.Path(path)
        self.every = every
        self.append = append
        self.rows = []

    def on_train_batch_end(self, batch, logs=None):
        step = self.model.steps
        if step % self.every == 0 and logs:
            self.rows.append({"step": step} | {k: float(v) for k, v in logs.items()})

    def on_epoch_end(self, epoch, logs=None):
        import csv

        step = self.model.steps
        if logs and (not self.rows or self.rows[-1]["step"] != step):  # always log an epoch's last step
            self.rows.append({"step": step} | {k: float(v) for k, v in logs.items()})
        if not self.rows:
            return
        write_header = not (self.append and self.path.exists())
        with open(self.path, "a" if self.append else "w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(self.rows[0]))
            if write_header:
                writer.writeheader()
            writer.writerows(self.rows)
        self.append = True
        self.rows = []
