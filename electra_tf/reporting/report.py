"""`write_report`: a folder with `report.md`, `report.json` and PNG plots for pretraining and fine-tuning runs.

    OUT/report.md             tables (configuration, last and best metrics, time) and the plots
    OUT/report.json           the same numbers for programs: per run its last/best metrics, per group mean ± std
    OUT/losses.png            training (solid) and held-out (dashed) total, MLM and RTD losses against steps
    OUT/rtd_auc.png           held-out replaced-token detection ROC-AUC against steps
    OUT/generator_accuracy.png  the generator's top-1 accuracy at masked positions
    OUT/learning_rate.png     the schedule
    OUT/examples_per_second.png  throughput
    OUT/finetuning.png        fine-tuning results: bars (mean over seeds) with ±1 std error bars

Several pretraining runs share each plot (one colour per run), so two recipes or objectives compare at a glance.
A plot whose metric no run logged is left out and listed under "Not plotted" with the reason.

Example:
>>> runs = ["runs/electra", "runs/mlm", "ft/electra_seed1", "ft/electra_seed2"]
>>> result = write_report(runs, "report/")  # doctest: +SKIP
>>> sorted(result.plots)  # doctest: +SKIP
['examples_per_second', 'finetuning', 'generator_accuracy', 'learning_rate', 'losses', 'rtd_auc']
"""

from __future__ import annotations

import dataclasses
import json
import math
import os

from electra_tf.errors import InputError
from electra_tf.reporting.finetuning_summary import summarize_finetuning
from electra_tf.reporting.markdown import render_report
from electra_tf.reporting.plots import CURVE_PLOTS, plot_curves, plot_finetuning
from electra_tf.reporting.runs import load_runs

REPORT_FILE = "report.md"
SUMMARY_FILE = "report.json"
SUMMARY_METRICS = ("loss", "mlm_loss", "mlm_accuracy", "rtd_loss", "rtd_accuracy", "rtd_precision", "rtd_recall",
                   "rtd_auc", "replaced_fraction", "examples_per_second")


@dataclasses.dataclass
class ReportResult:
    """What `write_report` wrote.

    Attributes:
        report_path: str. `OUT/report.md`.
        summary_path: str. `OUT/report.json`.
        plots: dict name -> PNG path.
        missing: list of str. Plots left out, with the reason.
    """

    report_path: str
    summary_path: str
    plots: dict
    missing: list


def write_report(run_dirs, out_dir, title: str = "electra-tf report", command: str | None = None,
                 notes=None) -> ReportResult:
    """Reads the runs and writes the report folder (contents in the module docstring).

    Args:
        run_dirs: list of str. Pretraining RUN_DIRs and fine-tuning OUT folders, each optionally `LABEL=PATH`.
        out_dir: str. The report folder (created; files of an earlier report are replaced).
        title: str. The report's first heading.
        command: str or None. The command line, quoted in the report.
        notes: list of str or None. Paragraphs placed under the title.

    Raises:
        InputError: a path that is not a run directory, or no runs; OUT exists and is a file.
    """
    runs = load_runs(list(run_dirs))
    out_dir = os.fspath(out_dir)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise InputError(f"--out {out_dir!r} is a file. Expected a folder for report.md and the plots.")
    os.makedirs(out_dir, exist_ok=True)
    pretraining = [run for run in runs if run.kind == "pretraining"]
    groups = summarize_finetuning(runs)
    plots, missing = {}, []
    if pretraining:
        for plot in CURVE_PLOTS:
            path = plot_curves(pretraining, plot, out_dir)
            if path:
                plots[plot.name] = path
            else:
                metrics = ", ".join(metric for metric, _ in plot.panels)
                reason = "no held-out evaluation in these runs (pretrain --eval-every with prepared data that has " \
                         "a validation split)" if "validation" in plot.splits else "not logged by these runs"
                missing.append(f"`{plot.name}.png` ({metrics}): {reason}")
    finetuning_path = plot_finetuning(groups, out_dir)
    if finetuning_path:
        plots["finetuning"] = finetuning_path
    text = render_report(title, runs, groups, {name: os.path.basename(path) for name, path in plots.items()},
                         missing, command=command, notes=notes)
    report_path = os.path.join(out_dir, REPORT_FILE)
    with open(report_path, "w", encoding="utf-8") as stream:
        stream.write(text)
    summary = {
        "pretraining": [
            {"label": run.label, "path": run.path, "steps": run.last_step, "config": run.config,
             "train": {metric: _finite(run.last("train", metric)) for metric in SUMMARY_METRICS},
             "validation": {metric: _finite(run.last("validation", metric)) for metric in SUMMARY_METRICS},
             "best_validation_rtd_auc": _finite(run.best("validation", "rtd_auc"))}
            for run in pretraining
        ],
        "finetuning": [
            {"group": group.name, "task": group.task, "metric": group.metric, "runs": group.labels,
             "values": group.values, "mean": _finite(group.mean), "std": _finite(group.std)}
            for group in groups
        ],
        "plots": {name: os.path.basename(path) for name, path in plots.items()},
    }
    summary_path = os.path.join(out_dir, SUMMARY_FILE)
    with open(summary_path, "w", encoding="utf-8") as stream:
        json.dump(summary, stream, indent=2)
        stream.write("\n")
    return ReportResult(report_path=report_path, summary_path=summary_path, plots=plots, missing=missing)


def _finite(value):
    return value if isinstance(value, (int, float)) and math.isfinite(value) else None
