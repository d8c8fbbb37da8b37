"""Running a fine-tuned model directory in process: score a labelled file, or predict texts and files.

Shared by `electra-tf evaluate` (metrics) and `electra-tf infer` (predictions, no server).

Example:
>>> runner = TaskRunner.from_model_dir("models/sst2")  # doctest: +SKIP
>>> runner.predict_texts(["a fine film"])[0]["label"]  # doctest: +SKIP
'1'
"""

from __future__ import annotations

import json
import os

import numpy as np

from electra_tf.data.short_lived import batched_arrays
from electra_tf.errors import InputError
from electra_tf.finetuning.task_data import READER_KEY, ReaderSettings, build_task_data, read_examples


class TaskRunner:
    """A loaded fine-tuned model with its tokenizer, task spec and training-time reader settings."""

    def __init__(self, model, tokenizer, spec, batch_size: int = 64):
        if tokenizer is None:
            raise InputError("The model directory has no vocabulary (vocab.txt).")
        self.model, self.tokenizer, self.spec, self.batch_size = model, tokenizer, spec, batch_size
        self.reader = ReaderSettings.from_dict(spec.extra.get(READER_KEY))

    @classmethod
    def from_model_dir(cls, model_dir, batch_size: int = 64, seq_length: int | None = None):
        from electra_tf.finetuning.task_model_dir import load_task_model_dir

        model, tokenizer, spec = load_task_model_dir(model_dir)
        if seq_length is not None:
            if seq_length > model.config.max_position_embeddings:
                raise InputError(f"--seq-length {seq_length} exceeds the model's max_position_embeddings="
                                 f"{model.config.max_position_embeddings}.")
            spec = spec.replace(seq_length=seq_length)
        return cls(model, tokenizer, spec, batch_size)

    def check_labels(self, labels) -> None:
        """Raises InputError when `labels` (from the command line) disagree with the model's."""
        if labels is None:
            return
        if self.spec.task not in ("classification", "tagging"):
            raise InputError(f"--labels does not apply to a {self.spec.task} model.")
        if tuple(labels) != tuple(self.spec.labels):
            raise InputError(
                f"--labels gives {len(labels)} label(s) ({', '.join(labels)}) but the model was trained with "
                f"{len(self.spec.labels)}: {', '.join(self.spec.labels)}."
            )

    def outputs(self, data) -> dict:
        """The model's outputs on a split's inputs, numpy."""
        outputs = self.model.predict(batched_arrays(data.inputs(), self.batch_size), verbose=0)
        return {name: np.asarray(value) for name, value in outputs.items()}

    def read(self, path, reader_overrides: ReaderSettings | None = None, labelled: bool = True):
        """Reads a file with the training-time reader settings (overridden where flags are given)."""
        reader = self.reader.merged(reader_overrides) if reader_overrides is not None else self.reader
        labels = self.spec.labels if self.spec.task in ("classification", "tagging") else None
        examples = read_examples(self.spec.task, path, reader, labels=labels, labelled=labelled)
        return build_task_data(self.spec, examples, self.tokenizer, reader)

    def evaluate(self, path, reader_overrides=None):
        """Returns `(metrics, predictions)` for a labelled file."""
        data = self.read(path, reader_overrides)
        if data.targets() is None:
            raise InputError(f"{path} has no labels to score against.")
        outputs = self.outputs(data)
        return data.score(outputs), data.predictions(outputs)

    def predict_file(self, path, reader_overrides=None, labelled: bool = False) -> list[dict]:
        data = self.read(path, reader_overrides, labelled=labelled)
        return data.predictions(self.outputs(data))

    def predict_examples(self, examples) -> list[dict]:
        """Predictions for examples built in memory (classification pairs, QA `SquadFile`, tagging sentences)."""
        data = build_task_data(self.spec, examples, self.tokenizer, self.reader)
        return data.predictions(self.outputs(data))


def write_records(path, records) -> None:
    """Writes predictions as JSON Lines (`.jsonl`) or one JSON array (other names), atomically."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        if path.endswith(".jsonl"):
            for record in records:
                f.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            json.dump(records, f, ensure_ascii=False, indent=1)
            f.write("\n")
    os.replace(path + ".tmp", path)
