"""Models (Model Garden's "models" level): what you train."""

from electra_tf.models.pretrainer import ElectraPretrainer

__all__ = ["ElectraPretrainer"]
