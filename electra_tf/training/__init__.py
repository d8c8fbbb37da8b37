"""Pretraining runs: options, distributed steps with accumulation, checkpoints, progress and logs.

Example:
>>> from electra_tf.training import PretrainOptions, pretrain
>>> result = pretrain(PretrainOptions(out_dir="run/", data_dir="data/", preset="tiny", steps=100))  # doctest: +SKIP
"""

from electra_tf.training.pretraining_run import PretrainResult, TrainingDivergedError, pretrain
from electra_tf.training.run_options import PretrainOptions

__all__ = ["PretrainOptions", "PretrainResult", "TrainingDivergedError", "pretrain"]
