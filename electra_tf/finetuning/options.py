"""`FinetuneOptions`: everything `electra-tf finetune` takes, with the paper's per-size defaults.

Defaults follow ELECTRA's Appendix A (Table 7) and the reference `configure_finetuning.py`:

| hyper-parameter | Small | Base | Large |
|---|---|---|---|
| learning rate | 3e-4 | 1e-4 | 5e-5 |
| layer-wise LR decay | 0.8 | 0.8 | 0.9 |
| epochs | 3 (10 for RTE and STS-B; 2 for QA) | | |
| batch size, warm-up, weight decay, clip | 32, 10%, 0.01, 1.0 | | |
| sequence length | 128 (QA 512, doc stride 128, query 64, answer 30) | | |

The size is read from the model's architecture (`size_of`): 12 x 256 is Small, 12 x 768 Base, 24 x 1024 Large;
others take the defaults of the nearest width (the tiny preset those of Small).

Example:
>>> options = FinetuneOptions(task="classification", model="m", train="t.tsv", out="o")
>>> resolved = options.resolved(ElectraConfig.preset("small"))
>>> resolved.learning_rate, resolved.layerwise_lr_decay, resolved.epochs, resolved.seq_length
(0.0003, 0.8, 3, 128)
"""

from __future__ import annotations

import dataclasses

from electra_tf.config import ElectraConfig
from electra_tf.errors import InputError
from electra_tf.finetuning.task_model_dir import TASKS

PRECISIONS = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
SIZE_DEFAULTS = {  # Table 7: peak learning rate and layer-wise decay
    "small": {"learning_rate": 3e-4, "layerwise_lr_decay": 0.8},
    "base": {"learning_rate": 1e-4, "layerwise_lr_decay": 0.8},
    "large": {"learning_rate": 5e-5, "layerwise_lr_decay": 0.9},
}
LONG_TRAINING_TASKS = ("rte", "stsb")  # 10 epochs in the paper (small data sets)


def size_of(config: ElectraConfig) -> str:
    """`small`, `base` or `large`: the paper size whose fine-tuning defaults fit this architecture."""
    if config.hidden_size <= 256:
        return "small"
    if config.hidden_size <= 768:
        return "base"
    return "large"


@dataclasses.dataclass(frozen=True)
class FinetuneOptions:
    """One fine-tuning run. `None` means "the default for this task and model size" (see `resolved`)."""

    task: str  # "classification" | "regression" | "qa" | "tagging"
    model: str  # where the encoder comes from: model dir, run dir, fine-tuned dir, HF folder, keras-hub preset
    train: str  # training file
    out: str  # the fine-tuned model directory to write
    validation: str | None = None  # validation file: scored each epoch, the best epoch is kept
    # --- Reading the files (classification/regression: delimited or JSON Lines; tagging: CoNLL) ---
    text_column: str | int | None = None  # header name or 0-based index (default 0)
    text_pair_column: str | int | None = None  # second text of pair tasks
    label_column: str | int | None = None  # default 1
    delimiter: str | None = None  # default: "," for .csv, tab otherwise (CoNLL: any whitespace)
    header: bool = True  # delimited files: the first row names the columns
    labels: tuple[str, ...] | None = None  # class names in id order (default: collected from --train, sorted)
    tag_column: int | None = None  # CoNLL: 0-based tag column (default: the last)
    tag_scheme: str | None = None  # tagging: IOB1 | IOB2 | BIOES (default: IOB2)
    glue: str | None = None  # GLUE preset name (columns, labels, metric)
    clue: str | None = None  # CLUE preset name
    metric: str | None = None  # classification metric that picks the best epoch (default: the preset's/accuracy)
    # --- Optimisation (None: the paper's value for the model's size) ---
    epochs: int | None = None
    batch_size: int = 32
    learning_rate: float | None = None
    layerwise_lr_decay: float | None = None
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    clip_norm: float = 1.0
    # --- Inputs ---
    seq_length: int | None = None  # default 128 (QA 512)
    doc_stride: int = 128  # QA windows
    max_query_length: int = 64
    max_answer_length: int = 30
    # --- Run ---
    seed: int = 42
    precision: str = "fp32"  # fp32 | bf16 | fp16
    strategy: str = "auto"  # auto | default | mirrored | multiworker | tpu
    tpu: str | None = None
    random_init: bool = False  # the source's architecture and vocabulary with fresh weights (the baseline)
    checkpoint_every: int | None = None  # steps between mid-epoch checkpoints (default: about 10 per epoch)
    log_every: int = 10  # steps between training lines in history.jsonl and the log
    force: bool = False  # replace an existing --out
    stop_after_steps: int | None = None  # testing: stop as if killed after this many steps (of this process)

    def __post_init__(self):
        if self.task not in TASKS:
            raise InputError(f"Unknown --task {self.task!r}; expected one of {', '.join(TASKS)}.")
        if self.glue and self.clue:
            raise InputError("Give --glue or --clue, not both.")
        if (self.glue or self.clue) and self.task not in ("classification", "regression"):
            raise InputError(f"--glue/--clue presets are classification/regression tasks; --task is {self.task!r}.")
        if self.precision not in PRECISIONS:
            raise InputError(f"Unknown --precision {self.precision!r}; expected one of {', '.join(PRECISIONS)}.")
        positive = {"batch_size": self.batch_size, "doc_stride": self.doc_stride,
                    "max_query_length": self.max_query_length, "max_answer_length": self.max_answer_length,
                    "log_every": self.log_every}
        for name in ("epochs", "seq_length", "checkpoint_every", "stop_after_steps"):
            if getattr(self, name) is not None:
                positive[name] = getattr(self, name)
        for name, value in positive.items():
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise InputError(f"Expected --{name.replace('_', '-')} to be a positive integer. Received: {value!r}")
        if self.learning_rate is not None and not self.learning_rate > 0:
            raise InputError(f"Expected --learning-rate > 0. Received: {self.learning_rate}")
        if self.layerwise_lr_decay is not None and not 0 < self.layerwise_lr_decay <= 1:
            raise InputError(f"Expected --layerwise-lr-decay in (0, 1]. Received: {self.layerwise_lr_decay}")
        if not 0 <= self.warmup_fraction < 1:
            raise InputError(f"Expected --warmup-fraction in [0, 1). Received: {self.warmup_fraction}")
        if self.labels is not None and len(self.labels) < (0 if self.task == "regression" else 1):
            raise InputError("--labels is empty.")

    @property
    def preset_name(self) -> str | None:
        return self.glue or self.clue

    def resolved(self, config: ElectraConfig) -> "FinetuneOptions":
        """A copy with every `None` hyper-parameter replaced by the paper's value for `config`'s size."""
        size = SIZE_DEFAULTS[size_of(config)]
        epochs = self.epochs
        if epochs is None:
            epochs = 2 if self.task == "qa" else 10 if (self.preset_name or "").lower() in LONG_TRAINING_TASKS else 3
        if self.seq_length is not None and self.seq_length > config.max_position_embeddings:
            raise InputError(f"--seq-length {self.seq_length} exceeds the model's max_position_embeddings="
                             f"{config.max_position_embeddings}.")
        seq_length = self.seq_length if self.seq_length is not None else (512 if self.task == "qa" else 128)
        seq_length = min(seq_length, config.max_position_embeddings)
        return dataclasses.replace(
            self,
            epochs=epochs,
            seq_length=seq_length,
            learning_rate=self.learning_rate if self.learning_rate is not None else size["learning_rate"],
            layerwise_lr_decay=(self.layerwise_lr_decay if self.layerwise_lr_decay is not None
                                else size["layerwise_lr_decay"]),
        )

    @property
    def dtype_policy(self) -> str:
        """The Keras dtype policy name of `precision`."""
        return PRECISIONS[self.precision]

    def fingerprint(self) -> dict:
        """The settings a resumed run must share with the interrupted one (not paths of logs or test hooks)."""
        values = dataclasses.asdict(self)
        for name in ("force", "stop_after_steps", "log_every", "strategy", "tpu"):
            values.pop(name)
        values["labels"] = list(values["labels"]) if values["labels"] is not None else None
        return values
