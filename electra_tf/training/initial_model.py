"""`pretrain --init-from MODEL_DIR`: a new run that starts from a trained pair's weights.

Continued pretraining — on a domain's text or on a task's own unlabelled text (domain- and task-adaptive
pretraining, Gururangan et al., 2020) — starts from a model directory (a run's `final/`, `convert`'s output)
instead of fresh weights. The model directory fixes the architecture and the vocabulary; everything else
(masking, sampling temperature, dropout, the schedule) is taken from its config unless the run's config file
or flags set it. The run has its own schedule from step 0, warm-up included; the source's optimizer state and
step are not carried over. When the run directory already holds a checkpoint, the checkpoint wins (the run
resumes) and MODEL_DIR is not read again.

Example:
>>> source = InitialModel.open("runs/general")  # doctest: +SKIP
>>> source.check_compatible(config, tokenizer)  # doctest: +SKIP
>>> source.load_into(pretrainer)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import os

from electra_tf.config import ElectraConfig
from electra_tf.errors import InputError

# Fields that decide the weights' shapes and what each row of the embedding table means.
ARCHITECTURE_FIELDS = (
    "vocab_size", "pad_id", "unk_id", "cls_id", "sep_id", "mask_id", "num_layers", "hidden_size", "num_heads",
    "intermediate_size", "embedding_size", "generator_hidden_fraction", "max_position_embeddings",
    "type_vocab_size", "objective",
)


@dataclasses.dataclass(frozen=True)
class InitialModel:
    """The model directory a run starts from.

    Attributes:
        model_dir: str. The model directory (a run directory resolves to its `final/`).
        config: ElectraConfig. Its configuration.
        weights_file: str. Its `pretrainer.weights.h5`.
        tokenizer: electra_tf.Tokenizer or None. Its vocabulary, when it stores one.
    """

    model_dir: str
    config: ElectraConfig
    weights_file: str
    tokenizer: object

    @classmethod
    def open(cls, path) -> "InitialModel":
        """Reads the model directory at `path` (or a run directory's `final/`); InputError when it is none."""
        from electra_tf.model_dir import WEIGHTS_FILE, load_config, load_tokenizer, resolve_model_dir

        if not os.path.isdir(os.fspath(path)):
            raise InputError(f"--init-from {os.fspath(path)!r}: no such folder. Expected a model directory "
                             "(a pretraining run's final/, or `electra-tf convert`'s output).")
        model_dir = os.path.abspath(resolve_model_dir(path))
        config = load_config(model_dir)
        weights_file = os.path.join(model_dir, WEIGHTS_FILE)
        if not os.path.isfile(weights_file):
            raise InputError(f"--init-from {model_dir!r} has no {WEIGHTS_FILE}; expected a model directory with "
                             "weights (a pretraining run's final/, or `electra-tf convert`'s output).")
        return cls(model_dir, config, weights_file, load_tokenizer(model_dir))

    def check_compatible(self, config: ElectraConfig, tokenizer) -> None:
        """Raises InputError unless `config` has this model's architecture and `tokenizer` its vocabulary."""
        if self.tokenizer is not None and (
            self.tokenizer.vocab_hash != tokenizer.vocab_hash or self.tokenizer.lowercase != tokenizer.lowercase
        ):
            raise InputError(
                f"--init-from {self.model_dir!r} was trained with the vocabulary {self.tokenizer.vocab_file!r} "
                f"(sha256 {self.tokenizer.vocab_hash[:12]}…, {_casing(self.tokenizer)}), but the run's data uses "
                f"{tokenizer.vocab_file!r} (sha256 {tokenizer.vocab_hash[:12]}…, {_casing(tokenizer)}). Prepare the "
                "data with the model's vocab.txt."
            )
        differences = [
            f"{name}: {getattr(self.config, name)!r} in the model, {getattr(config, name)!r} in the run"
            for name in ARCHITECTURE_FIELDS
            if getattr(self.config, name) != getattr(config, name)
        ]
        if differences:
            raise InputError(
                f"--init-from {self.model_dir!r} has another architecture than the run ({'; '.join(differences)}). "
                "Drop them from --config and the flags: the model directory fixes them."
            )

    def load_into(self, pretrainer) -> None:
        """Sets `pretrainer`'s weights (both networks) to this model's, leaving its optimizer as it is.

        A run's weights file also holds the optimizer it was saved with (its step counter among them), so it is
        read into a separate, uncompiled pretrainer and only the networks' weights are copied across; the run's
        own `step_counter` (the key of its masking and sampling draws) stays at 0.
        """
        from electra_tf.model_dir import load_model_dir

        source, _ = load_model_dir(self.model_dir, with_tokenizer=False)
        sources, targets = _network_weights(source), _network_weights(pretrainer)
        if [weight.path for weight in sources] != [weight.path for weight in targets]:
            raise InputError(f"--init-from {self.model_dir!r}: its weights do not line up with the run's model.")
        for target, value in zip(targets, sources, strict=True):
            target.assign(value)


def _network_weights(pretrainer) -> list:
    """The weights of the generator and discriminator: all but the run's step counter."""
    return [weight for weight in pretrainer.weights if weight is not pretrainer.step_counter]


def _casing(tokenizer) -> str:
    return "lower-cased" if tokenizer.lowercase else "cased"
