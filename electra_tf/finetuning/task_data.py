"""One split of a fine-tuning task: read a file, build model inputs and targets, score and write predictions.

The glue between the readers / features / decoding / metrics modules and the training loop, the `evaluate`
command and local inference, so all three read a file and score the model's outputs the same way.

| task | reader | features | targets `y` for `fit` | metrics |
|---|---|---|---|---|
| classification | delimited / JSON Lines / preset | `build_classification_features` | int `[N]` | accuracy (+ f1, mcc for 2 classes) |
| regression | same | same | float `[N]` | pearson, spearman |
| qa | SQuAD JSON (CMRC, XQuAD) | `build_qa_features` (windows) | dict of `[F]` positions | SQuAD EM/F1 or CMRC F1/EM, 0-100 |
| tagging | CoNLL | `build_tagging_features` (windows) | int `[F, L]`, -1 ignored | entity precision/recall/F1 |

Example:
>>> reader = ReaderSettings(text_column=0, label_column=1)
>>> data = read_task_data(spec, "dev.tsv", tokenizer, reader)  # doctest: +SKIP
>>> data.score(model.predict(data.inputs()))  # doctest: +SKIP
{'accuracy': 0.81}
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np

from electra_tf.errors import InputError
from electra_tf.finetuning.task_model_dir import TaskSpec

READER_KEY = "reader"  # task.json key holding the reader settings used in training


@dataclasses.dataclass(frozen=True)
class ReaderSettings:
    """How to read a task's files (saved in task.json so `evaluate` reads new files the same way)."""

    text_column: str | int | None = None  # classification: header name or 0-based index (default 0)
    text_pair_column: str | int | None = None
    label_column: str | int | None = None  # default 1
    delimiter: str | None = None  # None: "," for .csv, tab otherwise; CoNLL: any whitespace
    header: bool = True
    tag_column: int | None = None  # CoNLL: default the last column
    benchmark: str | None = None  # "glue" | "clue" when a preset is used
    preset: str | None = None  # the preset's name
    qa_metric: str | None = None  # "squad" | "cmrc" (None: CMRC when the contexts are mostly Chinese)

    def to_dict(self) -> dict:
        return {name: value for name, value in dataclasses.asdict(self).items() if value is not None}

    @classmethod
    def from_dict(cls, values: dict | None) -> "ReaderSettings":
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{name: value for name, value in (values or {}).items() if name in names})

    def merged(self, overrides: "ReaderSettings") -> "ReaderSettings":
        """These settings with every field `overrides` sets (not None; `header` when False) replaced."""
        changes = {name: value for name, value in dataclasses.asdict(overrides).items()
                   if value is not None and name != "header"}
        if not overrides.header:
            changes["header"] = False
        return dataclasses.replace(self, **changes)


def _preset(reader: ReaderSettings):
    if reader.preset is None:
        return None
    from electra_tf.finetuning.task_presets import get_preset

    return get_preset(reader.benchmark or "glue", reader.preset)


def read_examples(task: str, path, reader: ReaderSettings, labels=None, labelled: bool = True):
    """Reads a task file into examples (`examples.py`); for QA returns the reader's `SquadFile`.

    Raises:
        InputError: missing or empty file, bad rows (FILE:LINE), unknown labels (listing the known ones).
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise InputError(f"No such file: {path!r}.")
    if os.path.getsize(path) == 0:
        raise InputError(f"{path} is empty.")
    if task == "qa":
        from electra_tf.finetuning.readers import read_squad

        return read_squad(path)
    if task == "tagging":
        from electra_tf.finetuning.readers import read_conll

        examples = read_conll(path, tag_column=reader.tag_column if reader.tag_column is not None else -1,
                              delimiter=reader.delimiter, tags=labels, labelled=labelled)
    else:
        preset = _preset(reader)
        if preset is not None:
            from electra_tf.finetuning.task_presets import read_preset_file

            examples = read_preset_file(preset, path, labelled=labelled)
        else:
            from electra_tf.finetuning.readers import read_classification_file

            examples = read_classification_file(
                path,
                text_column=reader.text_column if reader.text_column is not None else 0,
                text_pair_column=reader.text_pair_column,
                label_column=(reader.label_column if reader.label_column is not None else 1) if labelled else None,
                delimiter=reader.delimiter,
                header=reader.header,
                labels=labels,
                regression=task == "regression",
            )
    if not examples:
        raise InputError(f"{path} holds no examples.")
    return examples


def collect_task_labels(task: str, examples) -> tuple[str, ...]:
    """Class names (sorted) of classification examples, tags (sorted, "O" first) of tagging examples."""
    if task == "classification":
        from electra_tf.finetuning.readers import collect_labels

        return tuple(collect_labels(examples))
    if task == "tagging":
        tags = sorted({tag for example in examples for tag in (example.tags or ())})
        return tuple(sorted(tags, key=lambda tag: (tag != "O", tag)))
    return ()


class ClassificationData:
    """A classification or regression split: packed inputs, targets, GLUE metrics."""

    def __init__(self, spec: TaskSpec, examples, tokenizer, metric: str | None = None):
        from electra_tf.finetuning.classification_features import build_classification_features

        self.spec = spec
        self.examples = list(examples)
        self.features = build_classification_features(
            self.examples, tokenizer, seq_length=spec.seq_length,
            labels=spec.labels if spec.task == "classification" else None, regression=spec.task == "regression",
        )
        if spec.task == "regression":
            self.metric = "pearson_spearman"
        else:
            self.metric = metric or "accuracy"
        self.main_metric = {"pearson_spearman": "pearson"}.get(self.metric, self.metric)

    def __len__(self):
        return len(self.examples)

    def inputs(self) -> dict:
        return {name: self.features[name] for name in ("input_word_ids", "input_mask", "input_type_ids")}

    def targets(self):
        return self.features.get("labels")

    def score(self, outputs) -> dict:
        from electra_tf.metrics.classification import accuracy, classification_metrics, f1, matthews_corrcoef

        gold = self.targets()
        if gold is None:
            raise InputError("The file has no labels to score against.")
        logits = np.asarray(outputs["logits"])
        if self.spec.task == "regression":
            return classification_metrics("pearson_spearman", logits[:, 0], gold)
        predicted = logits.argmax(-1)
        metrics = classification_metrics(self.metric, predicted, gold)
        metrics.setdefault("accuracy", accuracy(predicted, gold))
        if self.spec.num_labels == 2:
            metrics.setdefault("f1", f1(predicted, gold))
            metrics.setdefault("mcc", matthews_corrcoef(predicted, gold))
        return metrics

    def predictions(self, outputs) -> list[dict]:
        logits = np.asarray(outputs["logits"], np.float64)
        records = []
        if self.spec.task == "regression":
            for example, value in zip(self.examples, logits[:, 0]):
                records.append(_with_text({"source": example.source, "prediction": float(value),
                                           "gold": example.label}, example))
            return records
        shifted = np.exp(logits - logits.max(-1, keepdims=True))
        probabilities = shifted / shifted.sum(-1, keepdims=True)
        for example, row in zip(self.examples, probabilities):
            records.append(_with_text({
                "source": example.source,
                "label": self.spec.labels[int(row.argmax())],
                "probabilities": {label: round(float(p), 6) for label, p in zip(self.spec.labels, row)},
                "gold": example.label,
            }, example))
        return records


def _with_text(record: dict, example) -> dict:
    record["text"] = example.text_a
    if example.text_b is not None:
        record["text_pair"] = example.text_b
    if record.get("gold") is None:
        record.pop("gold", None)
    return record


class QAData:
    """A QA split: windows over long contexts, n-best decoding over windows, SQuAD or CMRC metrics."""

    main_metric = "f1"

    def __init__(self, spec: TaskSpec, squad_file, tokenizer, qa_metric: str | None = None):
        from electra_tf.finetuning.qa_features import build_qa_features

        self.spec = spec
        self.examples = list(squad_file.examples)
        self.answer_check = squad_file.answer_check
        self.features = build_qa_features(self.examples, tokenizer, seq_length=spec.seq_length,
                                          doc_stride=spec.doc_stride, max_query_length=spec.max_query_length)
        self.metric = qa_metric or ("cmrc" if _mostly_chinese(self.examples) else "squad")

    def __len__(self):
        return len(self.features)

    def inputs(self) -> dict:
        return self.features.inputs()

    def targets(self):
        features = self.features
        return {"start_positions": features.start_positions, "end_positions": features.end_positions,
                "is_impossible": (1 - features.answerable).astype(np.int32)}

    def decode(self, outputs):
        from electra_tf.finetuning.qa_decoding import decode_qa

        return decode_qa(
            self.examples, self.features, np.asarray(outputs["start_logits"]), np.asarray(outputs["end_logits"]),
            np.asarray(outputs["answerable_logits"]) if self.spec.version_2_with_negative else None,
            max_answer_length=self.spec.max_answer_length, version_2_with_negative=self.spec.version_2_with_negative,
        )

    def score(self, outputs) -> dict:
        decoded = self.decode(outputs)
        if self.metric == "cmrc":
            from electra_tf.metrics.cmrc import cmrc2018

            result = cmrc2018(decoded.answers, self.examples)
        elif self.spec.version_2_with_negative:
            from electra_tf.metrics.squad import squad_v2

            result = squad_v2(decoded.answers, self.examples, na_probs=decoded.null_score_diff)
        else:
            from electra_tf.metrics.squad import squad_v1

            result = squad_v1(decoded.answers, self.examples)
        return {name: float(value) for name, value in result.items() if isinstance(value, (int, float))}

    def predictions(self, outputs) -> list[dict]:
        decoded = self.decode(outputs)
        records = []
        for example in self.examples:
            span = decoded.best_spans.get(example.qid)
            record = {"id": example.qid, "question": example.question, "answer": decoded.answers.get(example.qid, "")}
            if span is not None:
                record.update(char_start=span.char_start, char_end=span.char_end, score=float(span.score))
            if example.qid in decoded.null_score_diff:
                record["null_score_diff"] = float(decoded.null_score_diff[example.qid])
            if example.answers or example.is_impossible:
                record["gold"] = [answer.text for answer in example.answers]
            records.append(record)
        return records


def _mostly_chinese(examples) -> bool:
    from electra_tf.finetuning.word_pieces import is_cjk_ideograph

    text = "".join(example.context[:200] for example in examples[:50])
    letters = [char for char in text if char.isalpha()]
    return bool(letters) and sum(map(is_cjk_ideograph, letters)) > 0.5 * len(letters)


class TaggingData:
    """A tagging split: windows over long sentences, one tag per word, entity-level metrics."""

    main_metric = "f1"

    def __init__(self, spec: TaskSpec, examples, tokenizer):
        from electra_tf.finetuning.tagging_features import build_tagging_features

        self.spec = spec
        self.examples = list(examples)
        labelled = any(example.tags is not None for example in self.examples)
        self.features = build_tagging_features(self.examples, tokenizer, seq_length=spec.seq_length,
                                               tags=spec.labels if labelled else None)

    def __len__(self):
        return len(self.features)

    def inputs(self) -> dict:
        return self.features.inputs()

    def targets(self):
        return self.features.labels

    def decode(self, outputs):
        from electra_tf.finetuning.tagging_features import decode_tagging

        return decode_tagging(self.examples, self.features, np.asarray(outputs["logits"]), self.spec.labels)

    def score(self, outputs) -> dict:
        from electra_tf.metrics.entity import entity_scores

        predicted = self.decode(outputs)
        gold = [example.tags for example in self.examples]
        if any(tags is None for tags in gold):
            raise InputError("The file has no tags to score against.")
        result = entity_scores([list(tags) for tags in gold], [list(tags) for tags in predicted],
                               scheme=self.spec.tag_scheme or "IOB2")
        return {name: float(value) for name, value in result.items() if isinstance(value, (int, float))}

    def predictions(self, outputs) -> list[dict]:
        records = []
        for example, tags in zip(self.examples, self.decode(outputs)):
            record = {"source": example.source, "words": list(example.words), "tags": list(tags)}
            if example.tags is not None:
                record["gold"] = list(example.tags)
            records.append(record)
        return records


def build_task_data(spec: TaskSpec, examples, tokenizer, reader: ReaderSettings):
    """The split object of `spec.task` for examples (a `SquadFile` for QA)."""
    if spec.task in ("classification", "regression"):
        preset = _preset(reader)
        metric = spec.extra.get("metric") or (preset.metric if preset is not None else None)
        return ClassificationData(spec, examples, tokenizer, metric=metric)
    if spec.task == "qa":
        return QAData(spec, examples, tokenizer, qa_metric=reader.qa_metric)
    return TaggingData(spec, examples, tokenizer)


def read_task_data(spec: TaskSpec, path, tokenizer, reader: ReaderSettings, labelled: bool = True):
    """Reads `path` with `reader` and builds the split for `spec` (labels checked against `spec.labels`)."""
    labels = spec.labels if spec.task in ("classification", "tagging") else None
    examples = read_examples(spec.task, path, reader, labels=labels, labelled=labelled)
    return build_task_data(spec, examples, tokenizer, reader)
