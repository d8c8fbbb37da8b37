"""`RUN_DIR/history.jsonl`: one JSON object per logged step, for reports and plots without TensorBoard.

Each line is `{"step": int, "split": "train" | "validation", "time": unix seconds, <metric>: float, ...}`.
Training lines (every `--log-every` steps) hold the means over the steps since the previous line: `loss`,
`mlm_loss`, `mlm_accuracy`, `rtd_loss`, `rtd_accuracy`, `rtd_precision`, `rtd_recall`, `replaced_fraction`,
`gradient_norm`, `learning_rate`, and `examples_per_second` (the throughput over the last 20 steps, as the
progress line shows it); validation lines (every `--eval-every` steps) hold
the held-out metrics of `electra_tf.evaluation.pretraining_metrics` (`rtd_auc` among them). The same values
go to TensorBoard (`logs/train`, `logs/validation`).

A resumed run first drops the lines after the step it resumes from (they belong to steps it will train again),
so the file always describes one uninterrupted run.

No TensorFlow here: `electra-tf report` (`electra_tf.reporting.runs`) reads history through `read_history_lines`.

Example:
>>> history = HistoryWriter("run/history.jsonl", resume_step=0)  # doctest: +SKIP
>>> history.write(100, "train", {"loss": 7.5, "learning_rate": 1e-4})  # doctest: +SKIP
>>> [line["split"] for line in read_history("run/")]  # doctest: +SKIP
['train']
"""

from __future__ import annotations

import json
import math
import os
import time

from electra_tf.errors import InputError

HISTORY_FILE = "history.jsonl"
SPLITS = ("train", "validation")


class HistoryWriter:
    """Appends history lines to a file, flushing each (a crash loses nothing already logged).

    Args:
        path: str. The `history.jsonl` file.
        resume_step: int. Lines with a larger step are removed first (a resumed run trains those again).
        enabled: bool. False on non-chief workers (nothing is written).
    """

    def __init__(self, path, resume_step: int = 0, enabled: bool = True):
        self.path = os.fspath(path)
        self.enabled = enabled
        if enabled and os.path.isfile(self.path):
            kept = [line for line in read_history_lines(self.path) if line["step"] <= resume_step]
            temporary = self.path + ".tmp"
            with open(temporary, "w", encoding="utf-8") as stream:
                stream.writelines(_format(line) for line in kept)
            os.replace(temporary, self.path)

    def write(self, step: int, split: str, metrics: dict) -> None:
        """Appends one line; non-finite values are written as null (JSON has no NaN)."""
        if split not in SPLITS:
            raise ValueError(f"Received an invalid split {split!r}, expected one of {SPLITS}.")
        if not self.enabled:
            return
        line = {"step": int(step), "split": split, "time": round(time.time(), 3)}
        line.update({name: float(value) for name, value in metrics.items()})
        with open(self.path, "a", encoding="utf-8") as stream:
            stream.write(_format(line))


def read_history(run_dir_or_file) -> list[dict]:
    """The lines of a run's `history.jsonl` (a run directory or the file itself), in file order.

    Returns: list of dict; missing values (written as null) come back as NaN.
    """
    path = os.fspath(run_dir_or_file)
    if os.path.isdir(path):
        path = os.path.join(path, HISTORY_FILE)
    if not os.path.isfile(path):
        return []
    return read_history_lines(path)


def _format(line: dict) -> str:
    clean = {name: (None if isinstance(value, float) and not math.isfinite(value) else value)
             for name, value in line.items()}
    return json.dumps(clean) + "\n"


def read_history_lines(path: str) -> list[dict]:
    """Reads a `history.jsonl` file; nulls (non-finite values) come back as NaN; a torn line is skipped.

    Args:
        path: str. The `history.jsonl` file.

    Returns: list of dict, in file order.

    Raises:
        InputError: a line that is JSON but not an object with a "step".
    """
    lines = []
    with open(path, encoding="utf-8") as stream:
        for number, text in enumerate(stream, 1):
            text = text.strip()
            if not text:
                continue
            try:
                line = json.loads(text)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash, or being written while we read
            if not isinstance(line, dict) or "step" not in line:
                raise InputError(
                    f"{path}:{number} is not a history line. Expected a JSON object with 'step' and 'split'. "
                    f"Received: {text[:80]!r}"
                )
            lines.append({name: (math.nan if value is None else value) for name, value in line.items()})
    return lines
