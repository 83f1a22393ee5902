"""A PyTorch reference for ``benchmarks/train_speed.py``: the package's MNIST InfoGAN, trained the usual way.

The networks are those of ``infogan_utils.models.build_infogan_models`` layer for layer (sizes, batch
norm with momentum 0.9 in Keras' convention, LeakyReLU 0.1, "same" padding). The training step is
the one of the popular InfoGAN-PyTorch repository (Natsu6767/InfoGAN-PyTorch):

1. D update: binary cross-entropy on a real batch (label 1) and a generated one (label 0, the
   generator detached); Adam 2e-4 on the discriminator and its real/fake head.
2. G and Q update: the generated batch through D again, the non-saturating generator loss plus the
   categorical cross-entropy of Q plus 0.1 times the Gaussian negative log-likelihood of the
   continuous codes with a learned variance; Adam 1e-3 on the generator and the Q head.

Both optimizers use betas (0.5, 0.999). The one difference in parameters from the package's default
model: the reference's Q head has a learned variance for the two continuous codes (one more
Linear(128, 2), 258 parameters); the package's default (``learn_std=False``) fixes it at 1.

Needs ``torch`` (``pip install -e .[bench]``).
"""

import math

import torch
from torch import nn
from torch.nn import functional

NOISE_DIM, CATEGORIES, CONTINUOUS = 62, 10, 2
LATENT_DIM = NOISE_DIM + CATEGORIES + CONTINUOUS
LEAKY_SLOPE = 0.1
# Keras' BatchNormalization(momentum=0.9) keeps 0.9 of the old running statistics; PyTorch counts the other way.
BATCH_NORM_MOMENTUM = 0.1


class Generator(nn.Module):
    """FC 1024-BN-ReLU, FC 7*7*128-BN-ReLU, 4x4 up-conv 64 stride 2-BN-ReLU, 4x4 up-conv 1 stride 2, sigmoid."""

    def __init__(self, latent_dim=LATENT_DIM, base_filters=64):
        super().__init__()
        self.base_filters = base_filters
        self.dense = nn.Sequential(
            nn.Linear(latent_dim, 1024, bias=False), nn.BatchNorm1d(1024, momentum=BATCH_NORM_MOMENTUM), nn.ReLU(),
            nn.Linear(1024, 7 * 7 * base_filters * 2, bias=False),
            nn.BatchNorm1d(7 * 7 * base_filters * 2, momentum=BATCH_NORM_MOMENTUM), nn.ReLU())
        self.upsample = nn.Sequential(
            nn.ConvTranspose2d(base_filters * 2, base_filters, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(base_filters, momentum=BATCH_NORM_MOMENTUM), nn.ReLU(),
            nn.ConvTranspose2d(base_filters, 1, 4, stride=2, padding=1), nn.Sigmoid())

    def forward(self, latent):
        x = self.dense(latent).view(-1, self.base_filters * 2, 7, 7)
        return self.upsample(x)


class Discriminator(nn.Module):
    """The shared trunk (4x4 conv 64 stride 2-LReLU, 4x4 conv 128 stride 2-BN-LReLU, FC 1024-BN-LReLU),
    the real/fake head (FC 1) and the Q head (FC 128-BN-LReLU, then 10 logits, 2 means, 2 log-variances)."""

    def __init__(self, base_filters=64, q_hidden=128):
        super().__init__()
        self.trunk = nn.Sequential(
            nn.Conv2d(1, base_filters, 4, stride=2, padding=1), nn.LeakyReLU(LEAKY_SLOPE),
            nn.Conv2d(base_filters, base_filters * 2, 4, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(base_filters * 2, momentum=BATCH_NORM_MOMENTUM), nn.LeakyReLU(LEAKY_SLOPE),
            nn.Flatten(),
            nn.Linear(7 * 7 * base_filters * 2, 1024, bias=False), nn.BatchNorm1d(1024, momentum=BATCH_NORM_MOMENTUM),
            nn.LeakyReLU(LEAKY_SLOPE))
        self.real_logit = nn.Linear(1024, 1)
        self.q_trunk = nn.Sequential(
            nn.Linear(1024, q_hidden, bias=False), nn.BatchNorm1d(q_hidden, momentum=BATCH_NORM_MOMENTUM),
            nn.LeakyReLU(LEAKY_SLOPE))
        self.categorical_logits = nn.Linear(q_hidden, CATEGORIES)
        self.continuous_mean = nn.Linear(q_hidden, CONTINUOUS)
        self.continuous_log_var = nn.Linear(q_hidden, CONTINUOUS)

    def d_parameters(self):
        """What D's optimizer trains: the trunk and the real/fake head."""
        return [*self.trunk.parameters(), *self.real_logit.parameters()]

    def q_parameters(self):
        """What G's optimizer trains besides the generator: the Q head."""
        return [*self.q_trunk.parameters(), *self.categorical_logits.parameters(),
                *self.continuous_mean.parameters(), *self.continuous_log_var.parameters()]

    def forward(self, images):
        """Returns ``(features, real_logit)``; :meth:`q_head` reads the features."""
        features = self.trunk(images)
        return features, self.real_logit(features)

    def q_head(self, features):
        x = self.q_trunk(features)
        return self.categorical_logits(x), self.continuous_mean(x), self.continuous_log_var(x)


def gaussian_negative_log_likelihood(codes, mean, log_var):
    """Minus the log-density of ``codes`` under N(mean, exp(log_var)), summed over codes, mean over the batch."""
    return 0.5 * (log_var + math.log(2 * math.pi) + (codes - mean) ** 2 / log_var.exp()).sum(1).mean()


class TorchInfoGAN:
    """The reference's networks, optimizers and training step, on the CPU.

    ``step(real_images)`` takes a (batch, 1, 28, 28) float tensor in [0, 1] and returns the two losses.
    """

    def __init__(self, seed=0, continuous_weight=0.1):
        torch.manual_seed(seed)
        self.generator = Generator()
        self.discriminator = Discriminator()
        self.continuous_weight = continuous_weight
        self.d_optimizer = torch.optim.Adam(self.discriminator.d_parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.g_optimizer = torch.optim.Adam([*self.generator.parameters(), *self.discriminator.q_parameters()],
                                            lr=1e-3, betas=(0.5, 0.999))

    def parameter_count(self):
        """Trainable parameters (batch-norm running statistics are buffers, not parameters, in PyTorch)."""
        return (sum(p.numel() for p in self.generator.parameters()),
                sum(p.numel() for p in self.discriminator.parameters()))

    def check_architecture(self, generator, discriminator):
        """Raise ValueError unless the reference has the Keras networks' weights: the generator's layer by
        layer in the same order, the discriminator's as a multiset (the reference puts the real/fake head
        right after the trunk, Keras last) plus the reference's learned log-variance, Linear(128, 2)."""
        def sizes(weights):
            return [int(math.prod(weight.shape)) for weight in weights]

        if sizes(self.generator.parameters()) != sizes(generator.trainable_weights):
            raise ValueError("the PyTorch reference's generator differs from the package's")
        reference = sizes(self.discriminator.parameters())
        if reference[-2:] != [128 * CONTINUOUS, CONTINUOUS] or \
                sorted(reference[:-2]) != sorted(sizes(discriminator.trainable_weights)):
            raise ValueError("the PyTorch reference's discriminator differs from the package's")

    def sample_latent(self, batch_size):
        noise = torch.rand(batch_size, NOISE_DIM) * 2 - 1
        categories = torch.randint(0, CATEGORIES, (batch_size,))
        continuous = torch.rand(batch_size, CONTINUOUS) * 2 - 1
        latent = torch.cat([noise, functional.one_hot(categories, CATEGORIES).float(), continuous], dim=1)
        return latent, categories, continuous

    def step(self, real_images):
        batch_size = real_images.shape[0]
        ones, zeros = torch.ones(batch_size, 1), torch.zeros(batch_size, 1)
        latent, categories, continuous = self.sample_latent(batch_size)
        fake_images = self.generator(latent)

        self.d_optimizer.zero_grad(set_to_none=True)
        _, real_logit = self.discriminator(real_images)
        _, fake_logit = self.discriminator(fake_images.detach())
        d_loss = (functional.binary_cross_entropy_with_logits(real_logit, ones)
                  + functional.binary_cross_entropy_with_logits(fake_logit, zeros))
        d_loss.backward()
        self.d_optimizer.step()

        # The G and Q gradients also reach D's trunk; zero_grad drops them before D's next update.
        self.g_optimizer.zero_grad(set_to_none=True)
        features, fake_logit = self.discriminator(fake_images)
        categorical_logits, mean, log_var = self.discriminator.q_head(features)
        g_loss = (functional.binary_cross_entropy_with_logits(fake_logit, ones)
                  + functional.cross_entropy(categorical_logits, categories)
                  + self.continuous_weight * gaussian_negative_log_likelihood(continuous, mean, log_var))
        g_loss.backward()
        self.g_optimizer.step()
        return float(d_loss.detach()), float(g_loss.detach())
