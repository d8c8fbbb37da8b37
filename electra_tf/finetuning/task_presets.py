"""Presets for standard classification benchmarks: which columns hold the texts and label, the labels, the metric.

GLUE (the TSV files of the GLUE distribution, as BERT's `run_classifier.py` and ELECTRA's `classification_tasks.py`
read them), CLUE (its JSON Lines files) and ChnSentiCorp (the TSV in `../shared/data/tasks/chnsenticorp`).
Columns are header names where the files have a header (the same name works for train and dev even where the
column positions differ, as in MNLI), else 0-based indices.

| preset | task | texts | label | labels | metric |
|---|---|---|---|---|---|
| cola | classification | 3 (no header) | 1 | 0 1 | mcc |
| sst2 | classification | sentence | label | 0 1 | accuracy |
| mrpc | classification | #1 String, #2 String | Quality | 0 1 | f1 (and accuracy) |
| qqp | classification | question1, question2 | is_duplicate | 0 1 | f1 (and accuracy) |
| stsb | regression | sentence1, sentence2 | score | - | pearson_spearman |
| mnli | classification | sentence1, sentence2 | gold_label | contradiction entailment neutral | accuracy |
| qnli | classification | question, sentence | label | entailment not_entailment | accuracy |
| rte | classification | sentence1, sentence2 | label | entailment not_entailment | accuracy |
| tnews | classification | sentence | label | 100-116 but 105, 111 | accuracy |
| afqmc | classification | sentence1, sentence2 | label | 0 1 | accuracy |
| chnsenticorp | classification | 0 (no header) | 1 | negative positive | accuracy |

Example:
>>> preset = get_preset("glue", "cola")
>>> preset.text_column, preset.label_column, preset.header, preset.metric
(3, 1, False, 'mcc')
>>> read_preset_file(preset, "cola/in_domain_dev.tsv")[0].label  # doctest: +SKIP
'1'
"""

from __future__ import annotations

import dataclasses
import os

from electra_tf.errors import InputError
from electra_tf.finetuning.examples import ClassificationExample


@dataclasses.dataclass(frozen=True)
class TaskPreset:
    """How to read one benchmark's files and score it."""

    name: str  # "cola", "tnews", ...
    benchmark: str  # "glue" | "clue" (ChnSentiCorp is listed under "clue", as Chinese benchmarks are)
    task: str  # "classification" | "regression"
    text_column: str | int  # header name / field name, or 0-based index
    text_pair_column: str | int | None  # second text of pair tasks, else None
    label_column: str | int  # where the label is (train and dev files)
    labels: tuple[str, ...] | None  # class names in id order; None for regression
    metric: str  # the benchmark's reported metric: "accuracy" | "f1" | "mcc" | "pearson_spearman"
    file_format: str = "delimited"  # "delimited" | "jsonl"
    header: bool = True  # delimited files: the first row names the columns
    delimiter: str = "\t"
    language: str = "en"  # "en" | "zh", which vocabulary the benchmark needs
    train_file: str = "train.tsv"  # the file names in the benchmark's distribution
    validation_file: str = "dev.tsv"

    @property
    def num_labels(self) -> int:
        """Outputs of the model's head: the number of classes, 1 for regression."""
        return 1 if self.labels is None else len(self.labels)


_GLUE = (
    TaskPreset("cola", "glue", "classification", 3, None, 1, ("0", "1"), "mcc", header=False),
    TaskPreset("sst2", "glue", "classification", "sentence", None, "label", ("0", "1"), "accuracy"),
    TaskPreset("mrpc", "glue", "classification", "#1 String", "#2 String", "Quality", ("0", "1"), "f1"),
    TaskPreset("qqp", "glue", "classification", "question1", "question2", "is_duplicate", ("0", "1"), "f1"),
    TaskPreset("stsb", "glue", "regression", "sentence1", "sentence2", "score", None, "pearson_spearman"),
    TaskPreset(
        "mnli", "glue", "classification", "sentence1", "sentence2", "gold_label",
        ("contradiction", "entailment", "neutral"), "accuracy", validation_file="dev_matched.tsv",
    ),
    TaskPreset(
        "qnli", "glue", "classification", "question", "sentence", "label", ("entailment", "not_entailment"), "accuracy"
    ),
    TaskPreset(
        "rte", "glue", "classification", "sentence1", "sentence2", "label", ("entailment", "not_entailment"), "accuracy"
    ),
)
_TNEWS_LABELS = tuple(str(code) for code in range(100, 117) if code not in (105, 111))
_CLUE = (
    TaskPreset(
        "tnews", "clue", "classification", "sentence", None, "label", _TNEWS_LABELS, "accuracy",
        file_format="jsonl", language="zh", train_file="train.json", validation_file="dev.json",
    ),
    TaskPreset(
        "afqmc", "clue", "classification", "sentence1", "sentence2", "label", ("0", "1"), "accuracy",
        file_format="jsonl", language="zh", train_file="train.json", validation_file="dev.json",
    ),
    TaskPreset(
        "chnsenticorp", "clue", "classification", 0, None, 1, ("negative", "positive"), "accuracy",
        header=False, language="zh",
    ),
)
PRESETS: dict[str, dict[str, TaskPreset]] = {
    "glue": {preset.name: preset for preset in _GLUE},
    "clue": {preset.name: preset for preset in _CLUE},
}
_ALIASES = {"sst-2": "sst2", "sts-b": "stsb", "mnli-m": "mnli"}


def get_preset(benchmark: str, name: str) -> TaskPreset:
    """The preset `name` of `benchmark` ("glue" or "clue"), case-insensitive ("SST-2" works too).

    Raises:
        InputError: unknown benchmark or task, listing the known ones.

    Example:
    >>> get_preset("clue", "chnsenticorp").labels
    ('negative', 'positive')
    """
    group = PRESETS.get(str(benchmark).lower())
    if group is None:
        raise InputError(f"Unknown benchmark {benchmark!r}. Expected one of {sorted(PRESETS)}.")
    key = str(name).lower()
    key = _ALIASES.get(key, key)
    if key not in group:
        raise InputError(f"Unknown {benchmark.upper()} task {name!r}. Expected one of {', '.join(group)}.")
    return group[key]


def read_preset_file(
    preset: TaskPreset, path: str | os.PathLike, *, labelled: bool = True
) -> list[ClassificationExample]:
    """Reads a benchmark file with the preset's layout; labels are checked against the preset's list.

    Args:
        preset: TaskPreset.
        path: str. A train or dev file of the benchmark.
        labelled: bool. False reads only the texts (test files whose label column is absent).

    Returns:
        list[ClassificationExample].

    Example:
    >>> read_preset_file(get_preset("clue", "chnsenticorp"), "chnsenticorp/dev.tsv")[0].label  # doctest: +SKIP
    'positive'
    """
    from electra_tf.finetuning.readers import read_classification_file

    return read_classification_file(
        path,
        text_column=preset.text_column,
        text_pair_column=preset.text_pair_column,
        label_column=preset.label_column if labelled else None,
        delimiter=preset.delimiter,
        header=preset.header,
        labels=preset.labels,
        regression=preset.task == "regression",
        file_format=preset.file_format,
    )
