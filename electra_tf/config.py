"""`ElectraConfig`: every size and hyper-parameter of an ELECTRA generator–discriminator pair.

One typed dataclass, saved as JSON beside every checkpoint and export. Derived values (generator sizes,
the masking budget) are computed here and nowhere else.

Example:
>>> config = ElectraConfig.preset("small")
>>> config.generator_hidden_size, config.max_predictions
(64, 19)
>>> ElectraConfig.from_json(config.to_json()) == config
True

References:
    Clark et al., 2020. "ELECTRA: Pre-training Text Encoders as Discriminators Rather Than Generators".
"""

from __future__ import annotations

import dataclasses
import json
import os

OBJECTIVES = ("electra", "mlm")


@dataclasses.dataclass(frozen=True)
class ElectraConfig:
    """Sizes of both networks, masking, loss weights and the pretraining schedule."""

    # --- Vocabulary and special tokens (ids in the WordPiece vocabulary) ---
    vocab_size: int = 30522  # rows of the shared word-embedding table
    pad_id: int = 0  # [PAD]; also the id written into padding positions
    unk_id: int = 100  # [UNK]
    cls_id: int = 101  # [CLS]; never masked
    sep_id: int = 102  # [SEP]; never masked
    mask_id: int = 103  # [MASK]; written into 85% of the chosen positions
    # --- Discriminator (the network that is kept) ---
    num_layers: int = 12  # transformer blocks; the generator has the same depth
    hidden_size: int = 256  # width of the discriminator's transformer
    num_heads: int = 4  # attention heads; hidden_size / 64 in the paper's sizes
    intermediate_size: int = 1024  # feed-forward width, 4 x hidden_size
    embedding_size: int = 128  # width of the shared embeddings; projected when != hidden_size
    # --- Generator (small masked LM, discarded after pretraining) ---
    generator_hidden_fraction: float = 0.25  # generator width = hidden_size x this
    # --- Shared by both networks ---
    max_position_embeddings: int = 512  # rows of the position-embedding table
    type_vocab_size: int = 2  # segment ids 0 (A) and 1 (B)
    hidden_dropout: float = 0.1  # dropout after embeddings, attention output and FFN output
    attention_dropout: float = 0.1  # dropout on attention probabilities
    initializer_range: float = 0.02  # stddev of the truncated-normal initializer
    layer_norm_epsilon: float = 1e-12  # BERT's LayerNorm epsilon
    # --- Pretraining task ---
    objective: str = "electra"  # "electra" (MLM + RTD) or "mlm" (BERT baseline, discriminator-sized)
    seq_length: int = 128  # training sequence length
    mask_rate: float = 0.15  # fraction of real tokens chosen for prediction
    mask_token_rate: float = 0.85  # share of chosen positions set to [MASK]; ELECTRA keeps the rest
    random_token_rate: float = 0.0  # share of chosen positions set to a random token (0.1 for "mlm")
    rtd_loss_weight: float = 50.0  # total = MLM + rtd_loss_weight x RTD
    sampling_temperature: float = 1.0  # softmax temperature of the generator sample
    disallow_correct: bool = False  # forbid the generator from sampling the original token
    # --- Optimisation schedule ---
    learning_rate: float = 5e-4  # peak learning rate after warm-up
    batch_size: int = 128  # global batch size
    train_steps: int = 1_000_000  # total optimizer steps (linear decay to 0 at this step)
    warmup_steps: int = 10_000  # linear warm-up steps
    weight_decay: float = 0.01  # AdamW decay, not applied to LayerNorm or bias
    clip_norm: float = 1.0  # global gradient-norm clip

    def __post_init__(self):
        positive_ints = (
            "vocab_size", "num_layers", "hidden_size", "num_heads", "intermediate_size", "embedding_size",
            "max_position_embeddings", "type_vocab_size", "seq_length", "batch_size", "train_steps",
        )
        for name in positive_ints:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(
                    f"Received an invalid value for ElectraConfig.{name}, expected a positive integer. "
                    f"Received: {name}={value!r}"
                )
        for name in ("pad_id", "unk_id", "cls_id", "sep_id", "mask_id"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value < self.vocab_size:
                raise ValueError(
                    f"Received an invalid value for ElectraConfig.{name}, expected an id in "
                    f"[0, vocab_size={self.vocab_size}). Received: {name}={value!r}"
                )
        for name in ("hidden_dropout", "attention_dropout", "random_token_rate"):
            value = getattr(self, name)
            if not 0.0 <= value < 1.0:
                raise ValueError(
                    f"Received an invalid value for ElectraConfig.{name}, expected a float in [0, 1). "
                    f"Received: {name}={value!r}"
                )
        for name in ("mask_rate", "generator_hidden_fraction", "mask_token_rate"):
            value = getattr(self, name)
            if not 0.0 < value <= 1.0:
                raise ValueError(
                    f"Received an invalid value for ElectraConfig.{name}, expected a float in (0, 1]. "
                    f"Received: {name}={value!r}"
                )
        if self.mask_token_rate + self.random_token_rate > 1.0:
            raise ValueError(
                "Expected mask_token_rate + random_token_rate <= 1. Received: "
                f"mask_token_rate={self.mask_token_rate}, random_token_rate={self.random_token_rate}"
            )
        if self.hidden_size % self.num_heads:
            raise ValueError(
                f"Expected hidden_size to be a multiple of num_heads. Received: hidden_size={self.hidden_size}, "
                f"num_heads={self.num_heads}"
            )
        if self.objective not in OBJECTIVES:
            raise ValueError(f"Expected objective in {OBJECTIVES}. Received: objective={self.objective!r}")
        if self.seq_length > self.max_position_embeddings:
            raise ValueError(
                f"Expected seq_length <= max_position_embeddings={self.max_position_embeddings}. "
                f"Received: seq_length={self.seq_length}"
            )
        if self.generator_hidden_size < 1:
            raise ValueError(
                f"generator_hidden_fraction={self.generator_hidden_fraction} gives a generator of width 0 "
                f"for hidden_size={self.hidden_size}; expected a width of at least 1."
            )
        if self.warmup_steps < 0 or self.warmup_steps > self.train_steps:
            raise ValueError(
                f"Expected 0 <= warmup_steps <= train_steps={self.train_steps}. "
                f"Received: warmup_steps={self.warmup_steps}"
            )
        for name in ("learning_rate", "rtd_loss_weight", "sampling_temperature", "clip_norm"):
            if getattr(self, name) <= 0:
                raise ValueError(
                    f"Received an invalid value for ElectraConfig.{name}, expected a positive number. "
                    f"Received: {name}={getattr(self, name)!r}"
                )

    # --- Derived values ---

    @property
    def generator_hidden_size(self) -> int:
        """Width of the generator's transformer."""
        return int(round(self.hidden_size * self.generator_hidden_fraction))

    @property
    def generator_num_heads(self) -> int:
        """Generator attention heads: one per 64 units, at least one."""
        return max(1, self.generator_hidden_size // 64)

    @property
    def generator_intermediate_size(self) -> int:
        """Generator feed-forward width."""
        return 4 * self.generator_hidden_size

    @property
    def max_predictions(self) -> int:
        """Static masking budget per sequence: `int((mask_rate + 0.005) * seq_length)` (19 for 128)."""
        return max(1, int((self.mask_rate + 0.005) * self.seq_length))

    @property
    def special_ids(self) -> tuple[int, ...]:
        """Ids that are never chosen for masking."""
        return (self.pad_id, self.cls_id, self.sep_id, self.mask_id)

    # --- Construction and serialization ---

    @classmethod
    def preset(cls, name: str, **overrides) -> "ElectraConfig":
        """Returns the configuration of a named size (`tiny`, `small`, `base`, `large`), with overrides."""
        if name not in PRESETS:
            raise ValueError(f"Unknown preset {name!r}; expected one of {sorted(PRESETS)}.")
        return cls.from_dict({**PRESETS[name], **overrides})

    @classmethod
    def from_dict(cls, values: dict) -> "ElectraConfig":
        """Builds a config from a dict, rejecting unknown keys by name."""
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"Unknown ElectraConfig field(s) {unknown}; expected a subset of {sorted(known)}.")
        return cls(**values)

    def replace(self, **overrides) -> "ElectraConfig":
        """Returns a copy with some fields changed (validated like the constructor)."""
        return self.from_dict({**self.to_dict(), **overrides})

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ElectraConfig":
        return cls.from_dict(json.loads(text))

    def save(self, path: str | os.PathLike) -> None:
        """Writes the config as JSON (`config.json` beside checkpoints and exports)."""
        with open(path, "w", encoding="utf-8") as f:
            f.write(self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | os.PathLike) -> "ElectraConfig":
        with open(path, encoding="utf-8") as f:
            return cls.from_json(f.read())


PRESETS = {
    # A few-hundred-thousand-parameter pair for tests and CPU demos.
    "tiny": dict(
        num_layers=2, hidden_size=128, num_heads=2, intermediate_size=512, embedding_size=128,
        generator_hidden_fraction=0.25, seq_length=128, batch_size=32, learning_rate=5e-4,
        train_steps=10_000, warmup_steps=1_000,
    ),
    "small": dict(
        num_layers=12, hidden_size=256, num_heads=4, intermediate_size=1024, embedding_size=128,
        generator_hidden_fraction=0.25, seq_length=128, batch_size=128, learning_rate=5e-4,
        train_steps=1_000_000, warmup_steps=10_000,
    ),
    "base": dict(
        num_layers=12, hidden_size=768, num_heads=12, intermediate_size=3072, embedding_size=768,
        generator_hidden_fraction=1 / 3, seq_length=512, batch_size=256, learning_rate=2e-4,
        train_steps=766_000, warmup_steps=10_000,
    ),
    "large": dict(
        num_layers=24, hidden_size=1024, num_heads=16, intermediate_size=4096, embedding_size=1024,
        generator_hidden_fraction=0.25, seq_length=512, batch_size=2048, learning_rate=2e-4,
        train_steps=400_000, warmup_steps=10_000, mask_rate=0.25,
    ),
}
