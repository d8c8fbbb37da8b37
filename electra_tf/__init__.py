"""electra-tf: ELECTRA pretraining, fine-tuning, export and serving on TensorFlow 2 / Keras 3.

Public names load on first use, so the command line starts without importing TensorFlow.

Example:
>>> import electra_tf
>>> pretrainer = electra_tf.ElectraPretrainer(electra_tf.ElectraConfig.preset("tiny"))
>>> pretrainer.discriminator.name, pretrainer.generator.name
('discriminator', 'generator')
"""

import importlib
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

__version__ = "0.1.0"

# Public name -> the module that defines it.
_EXPORTS = {
    "ElectraConfig": "electra_tf.config",
    "ElectraPretrainer": "electra_tf.models.pretrainer",
    "ElectraGenerator": "electra_tf.networks.generator",
    "ElectraDiscriminator": "electra_tf.networks.discriminator",
    "ElectraEncoder": "electra_tf.networks.encoder",
    "Tokenizer": "electra_tf.tokenization",
    "TextModel": "electra_tf.text_model",
}
_SUBMODULES = ("optimization", "convert", "masking", "sampling", "losses", "model_dir", "export", "data",
               "generation", "scoring")

__all__ = sorted(_EXPORTS) + list(_SUBMODULES)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    if name in _SUBMODULES:
        return importlib.import_module(f"electra_tf.{name}")
    raise AttributeError(f"module 'electra_tf' has no attribute {name!r}")
