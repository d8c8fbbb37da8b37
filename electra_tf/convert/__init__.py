"""Checkpoint interop: Hugging Face ELECTRA folders and keras-hub `ElectraBackbone` to and from our models.

- `from_hf(discriminator_dir, generator_dir=None)` -> `ElectraPretrainer`; `to_hf(pretrainer, out_dir)`
  writes `out_dir/discriminator` (`ElectraForPreTraining`) and `out_dir/generator` (`ElectraForMaskedLM`).
- `task_to_hf(task_model, spec, out_dir)` writes a fine-tuned model as one folder of
  `ElectraForSequenceClassification`, `ElectraForQuestionAnswering` or `ElectraForTokenClassification`.
- `from_keras_hub(backbone)` -> `ElectraPretrainer`; `to_keras_hub(pretrainer)` -> `keras_hub.models.ElectraBackbone`.

Weights are read from safetensors with numpy only (no pickle, no PyTorch). A missing tensor or a tensor of
the wrong shape raises `InputError` naming it, before any variable is changed.

Example:
>>> from electra_tf import convert
>>> pretrainer = convert.from_hf("google-electra-small-discriminator")  # doctest: +SKIP
>>> pretrainer.discriminator(inputs)["rtd_logits"]  # doctest: +SKIP
"""

from electra_tf.convert.hf import from_hf, to_hf
from electra_tf.convert.hf_task_models import task_to_hf
from electra_tf.convert.keras_hub_backbone import from_keras_hub, to_keras_hub

__all__ = ["from_hf", "from_keras_hub", "task_to_hf", "to_hf", "to_keras_hub"]
