"""Reading run directories for a report: pretraining runs (`history.jsonl`) and fine-tuning runs (`metrics.json`).

A pretraining run directory (written by `electra-tf pretrain`) holds `history.jsonl`, one JSON object per
logged step (`{"step", "split": "train" | "validation", "time", <metric>: float, ...}`), and `config.json`
(the `ElectraConfig`). A fine-tuning output folder (written by `electra-tf finetune`) holds `metrics.json`
(`{"task", "metric", "epochs": [...], "best": {...}}`) and its own `history.jsonl`. This module reads both
without TensorFlow, so `electra-tf report` starts in a second.

A run's label names it in tables and legends: the folder's name unless given as `LABEL=PATH`; a PATH may be a
glob pattern (`LABEL=ft/electra_seed*`), expanded here because pipelines run commands without a shell. Fine-tuning
runs that differ only by seed are grouped by `finetuning_group`: the label without a trailing seed
(`cola_electra_seed3` -> `cola_electra`; `ft/electra/seed1` -> `electra`).

Example:
>>> run = load_run("runs/quickstart")  # doctest: +SKIP
>>> run.kind, run.last("validation", "rtd_auc")  # doctest: +SKIP
('pretraining', 0.83)
>>> finetuning_group("cola_mlm-seed2")
'cola_mlm'
"""

from __future__ import annotations

import dataclasses
import glob
import json
import math
import os
import re

from electra_tf.errors import InputError
from electra_tf.training.history import HISTORY_FILE, read_history_lines  # TensorFlow-free

CONFIG_FILE = "config.json"
FINETUNING_METRICS_FILE = "metrics.json"
FINAL_DIR = "final"
_SEED_SUFFIX = re.compile(r"[-_.]?(?:seed|s)[-_]?\d+$", re.IGNORECASE)
_SEED_NAME = re.compile(r"^(?:seed|s)[-_]?\d+$", re.IGNORECASE)


@dataclasses.dataclass
class Run:
    """One run directory, read.

    Attributes:
        path: str. The run directory.
        label: str. Its name in tables and legends.
        kind: str. "pretraining" or "finetuning".
        history: list of dict. The `history.jsonl` lines in file order (missing values as NaN).
        config: dict. `config.json` (ElectraConfig fields), {} when absent.
        finetuning: dict. `metrics.json` of a fine-tuning run, {} for pretraining.
    """

    path: str
    label: str
    kind: str
    history: list
    config: dict
    finetuning: dict

    def series(self, split: str, metric: str) -> tuple[list, list]:
        """Steps and finite values of one metric in one split: `([step, ...], [value, ...])`."""
        steps, values = [], []
        for line in self.history:
            value = line.get(metric)
            if line.get("split") == split and isinstance(value, (int, float)) and math.isfinite(value):
                steps.append(line["step"])
                values.append(float(value))
        return steps, values

    def last(self, split: str, metric: str) -> float:
        """The last logged value of a metric in a split (NaN when never logged)."""
        values = self.series(split, metric)[1]
        return values[-1] if values else math.nan

    def best(self, split: str, metric: str, higher_is_better: bool = True) -> float:
        """The best logged value of a metric in a split (NaN when never logged)."""
        values = self.series(split, metric)[1]
        if not values:
            return math.nan
        return max(values) if higher_is_better else min(values)

    @property
    def last_step(self) -> int:
        """The largest logged step (0 when nothing was logged)."""
        return max((line["step"] for line in self.history), default=0)

    @property
    def logged_seconds(self) -> float:
        """Wall time between the first and the last history line (NaN with fewer than two lines)."""
        times = [line["time"] for line in self.history if isinstance(line.get("time"), (int, float))]
        return max(times) - min(times) if len(times) >= 2 else math.nan


def parse_run_argument(argument: str) -> tuple[str | None, str]:
    """Splits `LABEL=PATH` into `(label, path)`; a plain path (or an existing path with '=') gives `(None, path)`."""
    if "=" in argument and not os.path.exists(argument):
        label, path = argument.split("=", 1)
        if label and os.sep not in label:
            return label, path
    return None, argument


def default_label(path: str) -> str:
    """The folder's name; for `.../NAME/seed3` (a seed folder), `NAME/seed3`."""
    path = os.path.normpath(os.path.abspath(path))
    name = os.path.basename(path)
    if _SEED_NAME.match(name):
        return f"{os.path.basename(os.path.dirname(path))}/{name}"
    return name


def finetuning_group(label: str) -> str:
    """The label without its seed: runs of one group differ only by seed (`NAME_seed3`, `NAME-s3`, `NAME/seed3`)."""
    if "/" in label:
        parent, name = label.rsplit("/", 1)
        if _SEED_NAME.match(name):
            return parent
    stripped = _SEED_SUFFIX.sub("", label)
    return stripped or label


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as stream:
            value = json.load(stream)
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"Cannot read {path}: {error}") from None
    if not isinstance(value, dict):
        raise InputError(f"{path} must hold a JSON object. Received: {type(value).__name__}")
    return value


def load_run(argument: str) -> Run:
    """Reads one run directory (`LABEL=PATH` sets the label); a run's `final/` folder means the run.

    Raises:
        InputError: the path is not a folder, or holds neither `history.jsonl` nor `metrics.json`.
    """
    label, path = parse_run_argument(os.fspath(argument))
    if not os.path.isdir(path):
        raise InputError(f"No such run directory: {path!r}. Expected a folder written by `electra-tf pretrain` "
                         "or `electra-tf finetune`.")
    if (os.path.basename(os.path.normpath(path)) == FINAL_DIR
            and not os.path.isfile(os.path.join(path, HISTORY_FILE))
            and os.path.isfile(os.path.join(path, os.pardir, HISTORY_FILE))):
        path = os.path.normpath(os.path.join(path, os.pardir))
    history_path = os.path.join(path, HISTORY_FILE)
    metrics_path = os.path.join(path, FINETUNING_METRICS_FILE)
    if not os.path.isfile(history_path) and not os.path.isfile(metrics_path):
        raise InputError(
            f"{path!r} holds neither {HISTORY_FILE} (a pretraining run) nor {FINETUNING_METRICS_FILE} "
            "(a fine-tuning run). Expected a RUN_DIR of `electra-tf pretrain` or an OUT of `electra-tf finetune`."
        )
    history = read_history_lines(history_path) if os.path.isfile(history_path) else []
    config_path = os.path.join(path, CONFIG_FILE)
    config = _read_json(config_path) if os.path.isfile(config_path) else {}
    finetuning = _read_json(metrics_path) if os.path.isfile(metrics_path) else {}
    return Run(
        path=path,
        label=label or default_label(path),
        kind="finetuning" if finetuning else "pretraining",
        history=history,
        config=config,
        finetuning=finetuning,
    )


def expand_run_arguments(arguments) -> list[str]:
    """Expands glob patterns (`ft/electra_seed*`, also as `LABEL=PATTERN`) into run directories, sorted.

    A pipeline passes its arguments without a shell, so the report expands the patterns itself; every run of a
    labelled pattern gets the label (fine-tuning seeds then form one group).

    Raises:
        InputError: a pattern that matches nothing.
    """
    expanded = []
    for argument in arguments:
        label, path = parse_run_argument(os.fspath(argument))
        if os.path.exists(path) or not glob.has_magic(path):
            expanded.append(os.fspath(argument))
            continue
        matches = sorted(match for match in glob.glob(path) if os.path.isdir(match))
        if not matches:
            raise InputError(f"No run directories match {path!r}. Expected folders written by `electra-tf pretrain` "
                             "or `electra-tf finetune`.")
        expanded += [f"{label}={match}" if label else match for match in matches]
    return expanded


def load_runs(arguments) -> list[Run]:
    """Reads several run directories (glob patterns expanded); clashing pretraining labels get a number."""
    runs = [load_run(argument) for argument in expand_run_arguments(arguments)]
    if not runs:
        raise InputError("No run directories given. Expected one or more RUN_DIR (or LABEL=RUN_DIR).")
    seen: dict[str, int] = {}
    for run in runs:
        seen[run.label] = seen.get(run.label, 0) + 1
    counters: dict[str, int] = {}
    for run in runs:
        if seen[run.label] > 1 and run.kind == "pretraining":
            counters[run.label] = counters.get(run.label, 0) + 1
            run.label = f"{run.label} ({counters[run.label]})"
    return runs
