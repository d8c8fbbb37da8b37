"""`PretrainOptions` and `resolve_model_config`: what a pretraining run is asked to do, and its `ElectraConfig`.

The model configuration is assembled in one place, in this order (later wins):

1. the preset (`small` unless another is named, or the config file's own `preset` key) — or, with
   `--init-from MODEL_DIR`, that model's config (`initial_model.py`: it fixes the architecture);
2. the config file (`.yaml`/`.yml`/`.json`, `ElectraConfig` fields);
3. the command-line flags (`--steps`, `--batch-size`, `--learning-rate`, `--warmup-steps`, `--objective`);
4. the vocabulary (`vocab_size` and the special ids) and, for prepared data, the manifest (`seq_length`).

Values from 4 are facts about the data: a config file or flag that contradicts them is an `InputError`.
Without an explicit warm-up, the preset's warm-up is capped at 10% of the steps (a 20-step demo with the
`tiny` preset does not fail on its 1,000 warm-up steps). `--objective mlm` uses BERT's masking shares
(80% [MASK], 10% random, 10% kept) unless the config file sets them.

Example:
>>> options = PretrainOptions(out_dir="run/", data_dir="data/", preset="tiny", steps=100)  # doctest: +SKIP
>>> resolve_model_config(options, tokenizer, seq_length=128).warmup_steps  # doctest: +SKIP
10
"""

from __future__ import annotations

import dataclasses
import json
import os

from electra_tf.config import PRESETS, ElectraConfig
from electra_tf.errors import InputError

PRECISIONS = {"fp32": "float32", "bf16": "mixed_bfloat16", "fp16": "mixed_float16"}
DEFAULT_PRESET = "small"
WARMUP_CAP_FRACTION = 0.1  # default warm-up is at most this share of the steps
VOCABULARY_FIELDS = ("vocab_size", "pad_id", "unk_id", "cls_id", "sep_id", "mask_id")
BERT_MASKING = {"mask_token_rate": 0.8, "random_token_rate": 0.1}


@dataclasses.dataclass(frozen=True)
class PretrainOptions:
    """Everything `electra-tf pretrain` takes (one field per flag)."""

    out_dir: str  # RUN_DIR: config.json, run.json, checkpoints/, logs/, final/
    data_dir: str | None = None  # folder written by `electra-tf prepare`
    corpus: tuple[str, ...] = ()  # raw text files/folders/globs for streaming (instead of data_dir)
    vocab_file: str | None = None  # vocabulary; required with corpus, checked against the data otherwise
    lowercase: bool = True  # streaming only: uncased tokenization (prepared data records its own)
    config_file: str | None = None  # YAML or JSON with ElectraConfig fields
    preset: str | None = None  # tiny | small | base | large (default: the config file's, else small)
    steps: int | None = None  # optimizer steps the run ends at
    batch_size: int | None = None  # global batch per optimizer step (split over replicas and micro-batches)
    seq_length: int | None = None  # streaming only (prepared data fixes it)
    learning_rate: float | None = None
    warmup_steps: int | None = None
    objective: str | None = None  # electra | mlm
    strategy: str = "auto"  # auto | default | mirrored | multiworker | tpu
    tpu: str | None = None
    precision: str = "fp32"  # fp32 | bf16 | fp16
    xla: bool = False  # compile the forward and backward pass with XLA
    grad_accum: int = 1  # micro-batches per optimizer step
    checkpoint_every: int = 1000  # steps between checkpoints
    keep_checkpoints: int = 3  # rolling checkpoints kept
    log_every: int = 100  # steps between TensorBoard points and progress lines (non-interactive)
    eval_every: int | None = None  # steps between held-out evaluations (None: at each checkpoint; 0: never)
    eval_batches: int = 20  # held-out batches per evaluation (fewer when the split is smaller)
    seed: int = 0  # masking/sampling streams, the data shuffle and the (fixed) evaluation masks
    init_from: str | None = None  # model directory whose weights start a new run (continued pretraining)

    def __post_init__(self):
        if bool(self.data_dir) == bool(self.corpus):
            raise InputError("Give exactly one of --data DIR (prepared examples) or --corpus PATHS (streaming).")
        if self.corpus and not self.vocab_file:
            raise InputError("--corpus needs --vocab VOCAB.txt to tokenize the text.")
        if self.data_dir and self.seq_length is not None:
            raise InputError("--seq-length applies to --corpus only; prepared data fixes the sequence length.")
        if self.precision not in PRECISIONS:
            raise InputError(f"Unknown precision {self.precision!r}; expected one of {', '.join(PRECISIONS)}.")
        if self.init_from and self.preset:
            raise InputError(f"--preset {self.preset} and --init-from set the model size twice; drop --preset "
                             "(the model directory of --init-from fixes the architecture).")
        if self.preset is not None and self.preset not in PRESETS:
            raise InputError(f"Unknown preset {self.preset!r}; expected one of {', '.join(sorted(PRESETS))}.")
        if self.eval_every is not None and (
            isinstance(self.eval_every, bool) or not isinstance(self.eval_every, int) or self.eval_every < 0
        ):
            raise InputError(
                f"Received an invalid value for eval_every, expected a non-negative integer (0: no evaluation). "
                f"Received: {self.eval_every!r}"
            )
        for name in ("grad_accum", "checkpoint_every", "keep_checkpoints", "log_every", "eval_batches"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InputError(f"Received an invalid value for {name}, expected a positive integer. Received: {value!r}")

    @property
    def evaluation_interval(self) -> int:
        """Steps between held-out evaluations: `eval_every`, or `checkpoint_every` when unset (0: none)."""
        return self.checkpoint_every if self.eval_every is None else self.eval_every

    @property
    def dtype_policy(self) -> str:
        """The Keras dtype policy name of `precision`."""
        return PRECISIONS[self.precision]

    def to_dict(self) -> dict:
        """The options as `run.json` records them: paths absolute, so the file reads from any directory."""
        values = dataclasses.asdict(self)
        for name in ("out_dir", "data_dir", "vocab_file", "config_file", "init_from"):
            if values[name]:
                values[name] = os.path.abspath(values[name])
        values["corpus"] = [os.path.abspath(path) for path in self.corpus]
        return values


def read_config_file(path) -> dict:
    """Reads a YAML or JSON file of `ElectraConfig` fields (and optionally `preset`)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"No such config file: {path!r}. Expected a .yaml, .yml or .json file.")
    with open(path, encoding="utf-8") as stream:
        text = stream.read()
    try:
        if path.lower().endswith((".yaml", ".yml")):
            import yaml

            values = yaml.safe_load(text)
        else:
            values = json.loads(text)
    except Exception as error:  # yaml.YAMLError / json.JSONDecodeError: report the parser's reason
        raise InputError(f"Cannot parse config file {path!r}: {str(error).splitlines()[0]}") from None
    if not isinstance(values, dict):
        raise InputError(f"Config file {path!r} must hold a mapping of ElectraConfig fields. Received: {type(values).__name__}")
    return values


def resolve_model_config(
    options: PretrainOptions, tokenizer, seq_length: int | None = None, initial_model=None
) -> ElectraConfig:
    """Builds the run's `ElectraConfig` (order and rules in the module docstring).

    Args:
        options: PretrainOptions.
        tokenizer: electra_tf.Tokenizer. Gives `vocab_size` and the special ids.
        seq_length: int or None. The prepared data's sequence length (None when streaming).
        initial_model: `initial_model.InitialModel` or None. The `--init-from` model, whose config replaces the
            preset and whose architecture and vocabulary the run must keep.

    Raises:
        InputError: unknown fields, values that contradict the vocabulary, the data or the initial model,
            invalid values.
    """
    file_values = read_config_file(options.config_file) if options.config_file else {}
    file_preset = file_values.pop("preset", None)
    if initial_model is not None and file_preset:
        raise InputError(f"config file {options.config_file!r} sets preset {file_preset!r}, but --init-from fixes "
                         "the architecture; drop the preset key.")
    preset = options.preset or file_preset or DEFAULT_PRESET
    if preset not in PRESETS:
        raise InputError(f"Unknown preset {preset!r}; expected one of {', '.join(sorted(PRESETS))}.")
    base = initial_model.config.to_dict() if initial_model is not None else PRESETS[preset]
    facts = {name: int(getattr(tokenizer, name)) for name in VOCABULARY_FIELDS}
    if seq_length is not None:
        facts["seq_length"] = int(seq_length)
    source = f"config file {options.config_file!r}" if options.config_file else ""
    for name, value in facts.items():
        if name in file_values and file_values[name] != value:
            where = "the vocabulary" if name in VOCABULARY_FIELDS else "the data manifest"
            raise InputError(f"{source} sets {name}={file_values[name]!r}, but {where} has {name}={value}.")
    flags = {
        "train_steps": options.steps,
        "batch_size": options.batch_size,
        "learning_rate": options.learning_rate,
        "warmup_steps": options.warmup_steps,
        "objective": options.objective,
        "seq_length": options.seq_length,
    }
    values = {**base, **file_values, **{k: v for k, v in flags.items() if v is not None}, **facts}
    if values.get("objective") == "mlm":
        values.update({name: rate for name, rate in BERT_MASKING.items() if name not in file_values})
    if options.warmup_steps is None and "warmup_steps" not in file_values:
        train_steps = values.get("train_steps", ElectraConfig.train_steps)
        values["warmup_steps"] = min(values.get("warmup_steps", 0), int(WARMUP_CAP_FRACTION * train_steps))
    try:
        config = ElectraConfig.from_dict(values)
    except ValueError as error:
        raise InputError(str(error)) from None
    if initial_model is not None:
        initial_model.check_compatible(config, tokenizer)
    return config


def check_same_config(saved: ElectraConfig, current: ElectraConfig, run_dir: str) -> None:
    """Raises InputError naming the differing fields when a run directory was started with another config."""
    differences = [
        f"{name}: {getattr(saved, name)!r} in the run, {getattr(current, name)!r} now"
        for name in saved.to_dict()
        if getattr(saved, name) != getattr(current, name)
    ]
    if differences:
        raise InputError(
            f"{run_dir!r} holds a run with another configuration ({'; '.join(differences[:3])}). "
            "Rerun with the same flags to resume it, or choose a new --out."
        )
