"""The fine-tuned model directory, and task models built from any model directory or checkpoint.

    MODEL_DIR/
        config.json               ElectraConfig (the discriminator's architecture)
        task.json                 TaskSpec: {"task", "labels", "seq_length", plus the task's settings}
        task_model.weights.h5     Keras weights of the task model (encoder + head)
        vocab.txt, tokenizer.json the vocabulary and its settings, as in `model_dir.py`

`electra-tf finetune` writes one; `evaluate`, `export`, `convert --to-hf` and local prediction read it.

A task model can start from (`encoder_source`):
- a model directory of `electra-tf pretrain` (its `final/`; a run directory is accepted) or `convert`
  (`pretrainer.weights.h5`: the discriminator's encoder is used),
- a fine-tuned model directory (its encoder; the head is new),
- a Hugging Face `ElectraForPreTraining` (or `ElectraModel`-style discriminator) folder with config.json and
  model.safetensors, or the output of `convert --to-hf` (its `discriminator/`),
- a keras-hub `ElectraBackbone` preset folder (metadata.json, config.json, model.weights.h5).

Example:
>>> spec = TaskSpec("classification", labels=("neg", "pos"), seq_length=128)
>>> model, tokenizer = task_model_from_source("runs/small", spec)  # doctest: +SKIP
>>> save_task_model_dir(model, "models/sst2", spec, vocab_file="runs/small/final/vocab.txt")  # doctest: +SKIP
>>> model, tokenizer, spec = load_task_model_dir("models/sst2")  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil

from electra_tf.config import ElectraConfig
from electra_tf.errors import InputError
from electra_tf.model_dir import CONFIG_FILE, TOKENIZER_FILE, VOCAB_FILE, staged_dir
from electra_tf.model_dir import WEIGHTS_FILE as PRETRAINER_WEIGHTS_FILE

TASK_FILE = "task.json"
TASK_WEIGHTS_FILE = "task_model.weights.h5"
TASKS = ("classification", "regression", "qa", "tagging")
TAG_SCHEMES = ("IOB1", "IOB2", "BIOES")
KERAS_HUB_METADATA_FILE = "metadata.json"
KERAS_HUB_VOCAB = os.path.join("assets", "tokenizer", "vocabulary.txt")


@dataclasses.dataclass(frozen=True)
class TaskSpec:
    """What a fine-tuned model does and how its inputs are built (`task.json`)."""

    task: str  # "classification" | "regression" | "qa" | "tagging"
    labels: tuple[str, ...] = ()  # class names (classification) or tags (tagging) in id order; () otherwise
    seq_length: int = 128  # packed input length used in training and by default in evaluation and export
    doc_stride: int | None = None  # qa: tokens between the starts of a context's windows
    max_query_length: int | None = None  # qa: question tokens kept
    max_answer_length: int | None = None  # qa: longest answer (in tokens) decoding returns
    version_2_with_negative: bool = False  # qa: questions may have no answer (SQuAD 2.0), answerability trained
    tag_scheme: str | None = None  # tagging: "IOB1" | "IOB2" | "BIOES" of the labels
    extra: dict = dataclasses.field(default_factory=dict)  # other settings (reader columns, preset, metric)

    def __post_init__(self):
        if self.task not in TASKS:
            raise InputError(f"Unknown task {self.task!r}; expected one of {', '.join(TASKS)}.")
        if isinstance(self.seq_length, bool) or not isinstance(self.seq_length, int) or self.seq_length < 3:
            raise InputError(f"Expected seq_length to be an integer of at least 3. Received: {self.seq_length!r}")
        object.__setattr__(self, "labels", tuple(str(label) for label in self.labels))
        if len(set(self.labels)) != len(self.labels):
            raise InputError(f"Labels must be distinct. Received: {list(self.labels)}")
        if self.task == "classification" and len(self.labels) < 2:
            raise InputError(f"Classification needs at least two labels. Received: {list(self.labels)}")
        if self.task == "tagging" and not self.labels:
            raise InputError("Tagging needs its tag set (labels).")
        if self.task in ("regression", "qa") and self.labels:
            raise InputError(f"A {self.task} task has no labels. Received: {list(self.labels)}")
        if self.tag_scheme is not None and self.tag_scheme not in TAG_SCHEMES:
            raise InputError(f"Unknown tag scheme {self.tag_scheme!r}; expected one of {', '.join(TAG_SCHEMES)}.")

    @property
    def num_labels(self) -> int:
        """Outputs per example (classification), per token (tagging); 1 for regression, 0 for QA."""
        if self.task == "regression":
            return 1
        return len(self.labels)

    def to_dict(self) -> dict:
        values = {"task": self.task, "labels": list(self.labels), "seq_length": self.seq_length}
        if self.task == "qa":
            values.update(doc_stride=self.doc_stride, max_query_length=self.max_query_length,
                          max_answer_length=self.max_answer_length,
                          version_2_with_negative=self.version_2_with_negative)
        if self.task == "tagging":
            values["tag_scheme"] = self.tag_scheme
        values.update(self.extra)
        return values

    @classmethod
    def from_dict(cls, values: dict) -> "TaskSpec":
        """Reads `task.json`'s object; keys that are not fields are kept in `extra`."""
        names = {field.name for field in dataclasses.fields(cls)} - {"extra"}
        known = {name: values[name] for name in names if name in values}
        if "labels" in known and known["labels"] is None:
            known["labels"] = ()
        extra = {name: value for name, value in values.items() if name not in names}
        if "task" not in known:
            raise InputError(f"{TASK_FILE} has no 'task'. Received keys: {sorted(values)}")
        return cls(**known, extra=extra)

    def replace(self, **changes) -> "TaskSpec":
        return dataclasses.replace(self, **changes)


# --- Building task models ---


def build_task_model(config: ElectraConfig, spec: TaskSpec):
    """A freshly initialised task model of `spec.task` for the architecture `config`."""
    from electra_tf.models.question_answerer import ElectraQuestionAnswerer
    from electra_tf.models.sequence_classifier import ElectraSequenceClassifier
    from electra_tf.models.token_tagger import ElectraTokenTagger

    if spec.task == "classification":
        return ElectraSequenceClassifier(config, num_labels=spec.num_labels, task="classification")
    if spec.task == "regression":
        return ElectraSequenceClassifier(config, num_labels=1, task="regression")
    if spec.task == "qa":
        return ElectraQuestionAnswerer(config, version_2_with_negative=spec.version_2_with_negative)
    return ElectraTokenTagger(config, num_tags=spec.num_labels)


def task_config(config: ElectraConfig, spec: TaskSpec) -> ElectraConfig:
    """The source's config with the task's sequence length (the architecture is unchanged)."""
    if spec.seq_length > config.max_position_embeddings:
        raise InputError(
            f"--seq-length {spec.seq_length} exceeds the model's max_position_embeddings="
            f"{config.max_position_embeddings}."
        )
    return config.replace(seq_length=spec.seq_length) if config.seq_length != spec.seq_length else config


# --- Saving and loading fine-tuned model directories ---


def write_task_files(model, folder, spec: TaskSpec, vocab_file=None, lowercase=True) -> None:
    """Writes config, task settings, weights and vocabulary into an existing `folder` (not atomic)."""
    folder = os.fspath(folder)
    model.config.save(os.path.join(folder, CONFIG_FILE))
    with open(os.path.join(folder, TASK_FILE), "w", encoding="utf-8") as f:
        json.dump(spec.to_dict(), f, indent=2, ensure_ascii=False)
        f.write("\n")
    model.save_weights(os.path.join(folder, TASK_WEIGHTS_FILE))
    if vocab_file is not None:
        if os.path.abspath(vocab_file) != os.path.abspath(os.path.join(folder, VOCAB_FILE)):
            shutil.copyfile(vocab_file, os.path.join(folder, VOCAB_FILE))
        with open(os.path.join(folder, TOKENIZER_FILE), "w", encoding="utf-8") as f:
            json.dump({"lowercase": bool(lowercase)}, f)


def save_task_model_dir(model, model_dir, spec: TaskSpec, vocab_file=None, lowercase=True) -> str:
    """Writes a fine-tuned model directory atomically (a staging sibling renamed into place).

    Returns: the absolute model directory path.
    """
    model_dir = os.path.abspath(os.fspath(model_dir))
    with staged_dir(model_dir) as staging:
        write_task_files(model, staging, spec, vocab_file, lowercase)
    return model_dir


def is_task_model_dir(path) -> bool:
    """Whether `path` holds `task.json` (a fine-tuned model directory)."""
    return os.path.isfile(os.path.join(os.fspath(path), TASK_FILE))


def load_task_spec(model_dir) -> TaskSpec:
    """Reads `task.json` of a fine-tuned model directory."""
    path = os.path.join(os.fspath(model_dir), TASK_FILE)
    if not os.path.isfile(path):
        raise InputError(
            f"{os.fspath(model_dir)!r} is not a fine-tuned model directory: {TASK_FILE} is missing. Expected the "
            "output of `electra-tf finetune`."
        )
    try:
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
    except json.JSONDecodeError as error:
        raise InputError(f"{path}: not valid JSON ({error}).") from None
    if not isinstance(values, dict):
        raise InputError(f"{path}: expected a JSON object. Received: {type(values).__name__}")
    return TaskSpec.from_dict(values)


def load_task_model_dir(model_dir, with_tokenizer=True):
    """Rebuilds the task model of a fine-tuned model directory, its `Tokenizer` and its `TaskSpec`.

    Returns: `(model, tokenizer_or_None, spec)`.

    Raises:
        InputError: not a fine-tuned model directory, or its weights are missing or do not fit.
    """
    from electra_tf.model_dir import load_config, load_tokenizer

    model_dir = os.fspath(model_dir)
    spec = load_task_spec(model_dir)
    config = load_config(model_dir)
    weights = os.path.join(model_dir, TASK_WEIGHTS_FILE)
    if not os.path.isfile(weights):
        raise InputError(f"Fine-tuned model directory {model_dir!r} has no {TASK_WEIGHTS_FILE}.")
    model = build_task_model(config, spec)
    try:
        model.load_weights(weights)
    except ValueError as error:
        raise InputError(f"{weights} does not fit the {spec.task} model of {CONFIG_FILE}/{TASK_FILE}: "
                         f"{str(error).strip().splitlines()[0]}") from None
    tokenizer = load_tokenizer(model_dir) if with_tokenizer else None
    return model, tokenizer, spec


# --- Where a fine-tuning run starts from ---


@dataclasses.dataclass
class EncoderSource:
    """A pretrained encoder found in some model directory or checkpoint folder."""

    config: ElectraConfig  # its architecture (special ids from its vocabulary)
    encoder: object  # an `ElectraEncoder` carrying the weights
    vocab_file: str | None  # its vocabulary, None when the folder has none
    lowercase: bool  # whether its tokenizer lower-cases
    kind: str  # "model directory" | "fine-tuned model directory" | "Hugging Face checkpoint" | "keras-hub backbone"
    path: str


def resolve_source_dir(path) -> str:
    """`path`, or its `final/` (a pretraining run directory) or `discriminator/` (`convert --to-hf` output)
    when `path` itself holds no model."""
    path = os.fspath(path)
    if _holds_model(path):
        return path
    for folder in ("final", "discriminator"):
        if _holds_model(os.path.join(path, folder)):
            return os.path.join(path, folder)
    return path


def _holds_model(path) -> bool:
    markers = (TASK_FILE, PRETRAINER_WEIGHTS_FILE, KERAS_HUB_METADATA_FILE)
    if any(os.path.isfile(os.path.join(path, marker)) for marker in markers):
        return True
    return os.path.isfile(os.path.join(path, CONFIG_FILE)) and _is_hf_folder(path)


def encoder_source(path) -> EncoderSource:
    """Loads the encoder (discriminator) of any supported source folder (see the module docstring).

    Raises:
        InputError: the folder does not exist or is none of the supported kinds.
    """
    original = os.fspath(path)
    if not os.path.isdir(original):
        raise InputError(f"--model {original!r} is not a folder. Expected a model directory (`electra-tf pretrain`'s "
                         "final/, `convert` or `finetune` output), a Hugging Face ELECTRA folder or a keras-hub preset.")
    path = resolve_source_dir(original)
    if os.path.isfile(os.path.join(path, TASK_FILE)):
        model, tokenizer, _ = load_task_model_dir(path)
        return EncoderSource(model.config, model.encoder, _vocab_or_none(path), _lowercase(tokenizer),
                             "fine-tuned model directory", path)
    if os.path.isfile(os.path.join(path, PRETRAINER_WEIGHTS_FILE)):
        from electra_tf.model_dir import load_model_dir

        pretrainer, tokenizer = load_model_dir(path)
        return EncoderSource(pretrainer.config, pretrainer.encoder_network.encoder, _vocab_or_none(path),
                             _lowercase(tokenizer), "model directory", path)
    if os.path.isfile(os.path.join(path, KERAS_HUB_METADATA_FILE)):
        return _keras_hub_source(path)
    if os.path.isfile(os.path.join(path, CONFIG_FILE)) and _is_hf_folder(path):
        from electra_tf.convert import from_hf
        from electra_tf.convert.hf import read_lowercase

        pretrainer = from_hf(path)
        return EncoderSource(pretrainer.config, pretrainer.discriminator.encoder, _vocab_or_none(path),
                             read_lowercase(path), "Hugging Face checkpoint", path)
    raise InputError(
        f"--model {original!r} holds no model: expected {PRETRAINER_WEIGHTS_FILE} (pretraining/convert), {TASK_FILE} "
        f"(finetune), a Hugging Face config.json + model.safetensors, or a keras-hub preset ({KERAS_HUB_METADATA_FILE})."
    )


def task_model_from_source(path, spec: TaskSpec, random_init: bool = False):
    """A task model whose encoder starts from the source at `path` (or, `random_init`, fresh weights).

    With `random_init` the source's architecture and vocabulary are used with new weights: the baseline every
    fine-tuning result is reported beside.

    Returns: `(model, source)`: the task model and the `EncoderSource` (vocabulary, casing, kind).
    """
    source = encoder_source(path)
    config = task_config(source.config, spec)
    model = build_task_model(config, spec)
    if not random_init:
        model.load_encoder_weights(source.encoder)
    return model, source


def _is_hf_folder(path) -> bool:
    try:
        with open(os.path.join(path, CONFIG_FILE), encoding="utf-8") as f:
            config = json.load(f)
    except (OSError, json.JSONDecodeError):
        return False
    return isinstance(config, dict) and config.get("model_type") == "electra"


def _keras_hub_source(path) -> EncoderSource:
    import keras_hub

    from electra_tf.convert import from_keras_hub

    vocab = os.path.join(path, KERAS_HUB_VOCAB)
    vocab = vocab if os.path.isfile(vocab) else None
    try:
        backbone = keras_hub.models.ElectraBackbone.from_preset(path)
    except (ValueError, OSError) as error:
        raise InputError(f"{path!r} is not a keras-hub ElectraBackbone preset: {str(error).strip()[:200]}") from None
    pretrainer = from_keras_hub(backbone, vocab_file=vocab)
    lowercase = True
    tokenizer_config = os.path.join(path, "tokenizer.json")
    if os.path.isfile(tokenizer_config):
        with open(tokenizer_config, encoding="utf-8") as f:
            lowercase = bool(json.load(f).get("config", {}).get("lowercase", True))
    return EncoderSource(pretrainer.config, pretrainer.discriminator.encoder, vocab, lowercase,
                         "keras-hub backbone", path)


def _vocab_or_none(path) -> str | None:
    vocab = os.path.join(path, VOCAB_FILE)
    return vocab if os.path.isfile(vocab) else None


def _lowercase(tokenizer) -> bool:
    return True if tokenizer is None else bool(tokenizer.lowercase)
