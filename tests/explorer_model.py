"""A small pretrained-format model file for the explorer tests, so they need neither MNIST nor the
shipped weights: the paper's architecture with freshly initialised (seeded) weights, written in the
format of ``infogan_utils.pretrained.export_pretrained``."""

import json
import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def write_untrained_model(path, seed=0, contrast=30.0):
    """Write an untrained InfoGAN as a pretrained model file at ``path``; returns the path.

    The generator's last kernel is multiplied by ``contrast`` so that its images are not a flat grey
    and visibly change with every code.
    """
    import keras

    from infogan_utils.codes import LatentSpec
    from infogan_utils.models import build_infogan_models

    keras.utils.set_random_seed(seed)
    spec = LatentSpec()
    generator, discriminator = build_infogan_models(spec)
    last_kernel = [variable for variable in generator.weights if len(variable.shape) == 4][-1]
    last_kernel.assign(last_kernel * contrast)
    arrays = {}
    for group, network in (("generator", generator), ("discriminator", discriminator)):
        for index, variable in enumerate(network.weights):
            arrays[f"{group}/{index:04d}"] = np.asarray(variable.numpy()).astype("float16")
    meta = {"spec": spec.to_dict(), "config": {}, "category_to_label": list(range(spec.categorical_dims[0])),
            "metrics": {"steps": 0}}
    arrays["meta"] = np.array(json.dumps(meta))
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)  # uncompressed: faster to write
    return path
