"""`report.md`: tables of the runs' configurations and results, and the plots, as Markdown.

Example:
>>> text = render_report("Quickstart", runs, groups, plots={"losses": "losses.png"}, missing=[])  # doctest: +SKIP
>>> text.splitlines()[0]  # doctest: +SKIP
'# Quickstart'
>>> format_number(0.123456), format_number(12345.6), format_number(float("nan"))
('0.1235', '12,346', '–')
"""

from __future__ import annotations

import math
import statistics

from electra_tf.reporting.finetuning_summary import FinetuningGroup, mean, sample_std
from electra_tf.reporting.plots import CURVE_PLOTS
from electra_tf.reporting.runs import Run

PLOT_NOTES = {
    "losses": "Training losses are means over the steps since the previous log line; held-out losses use fixed "
              "masks, so their changes are what the model learned.",
    "rtd_auc": "ROC-AUC of the discriminator's replaced-token scores on held-out text (0.5 = chance): how well "
               "it ranks the generator's replacements above original tokens.",
    "generator_accuracy": "Share of masked positions whose most likely generator token is the original one: at "
                          "every chosen position (15% of them keep their token, which the generator can copy) and "
                          "at [MASK] positions only, beside always guessing the most frequent token (dotted).",
    "learning_rate": "The schedule: linear warm-up, then linear decay to 0 at the last step.",
    "examples_per_second": "Training throughput as logged (wall clock, all replicas).",
    "finetuning": "Bars: mean of the best epoch's validation metric over seeds; error bars: ±1 sample standard "
                  "deviation; dots: the individual seeds.",
}


def format_number(value, digits: int = 4) -> str:
    """Compact number for tables: 4 significant decimals below 100, thousands separators above, '–' for NaN."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if isinstance(value, int) or abs(value) >= 100:
        return f"{value:,.0f}"
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.2e}"
    return f"{value:.{digits}f}"


def format_seconds(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "–"
    minutes, seconds = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {seconds:02d}s"


def _model_summary(config: dict) -> str:
    if not config:
        return "–"
    layers, hidden = config.get("num_layers"), config.get("hidden_size")
    fraction = config.get("generator_hidden_fraction")
    text = f"{layers}×{hidden}"
    if config.get("objective", "electra") == "electra" and fraction:
        text += f", gen {int(round(hidden * fraction))}"
    return text


def _pretraining_table(runs: list[Run]) -> list[str]:
    header = ("| run | objective | model (layers×hidden) | seq | batch | peak LR | steps | training loss | "
              "held-out RTD AUC (last / best) | held-out MLM acc | held-out at [MASK] / unigram | "
              "examples/s (median) | logged time |")
    lines = [header, "|" + "---|" * (header.count("|") - 1)]
    for run in runs:
        config = run.config
        throughput = run.series("train", "examples_per_second")[1]
        auc_last, auc_best = run.last("validation", "rtd_auc"), run.best("validation", "rtd_auc")
        lines.append("| " + " | ".join([
            run.label,
            str(config.get("objective", "–")),
            _model_summary(config),
            str(config.get("seq_length", "–")),
            str(config.get("batch_size", "–")),
            format_number(config.get("learning_rate", math.nan)),
            f"{run.last_step:,}",
            format_number(run.last("train", "loss")),
            f"{format_number(auc_last)} / {format_number(auc_best)}",
            format_number(run.last("validation", "mlm_accuracy")),
            f"{format_number(run.last('validation', 'mlm_accuracy_at_mask'))} / "
            f"{format_number(run.last('validation', 'unigram_accuracy_at_mask'))}",
            format_number(statistics.median(throughput), digits=1) if throughput else "–",
            format_seconds(run.logged_seconds),
        ]) + " |")
    return lines


def _finetuning_table(groups: list[FinetuningGroup]) -> list[str]:
    lines = ["| group | task | runs | main metric | mean ± std | per run | other metrics (mean ± std) |",
             "|---|---|---|---|---|---|---|"]
    for group in groups:
        values = group.values.get(group.metric, [])
        others = [f"{metric} {format_number(mean(group.values[metric]))} ± "
                  f"{format_number(sample_std(group.values[metric]))}" for metric in group.metrics()[1:]]
        lines.append("| " + " | ".join([
            group.name, group.task or "–", str(len(group.labels)), group.metric,
            f"{format_number(group.mean)} ± {format_number(group.std)}",
            ", ".join(format_number(value) for value in values) or "–",
            "; ".join(others) or "–",
        ]) + " |")
    return lines


def render_report(title: str, runs: list[Run], groups: list[FinetuningGroup], plots: dict, missing: list,
                  command: str | None = None, notes: list | None = None) -> str:
    """The Markdown text of a report.

    Args:
        title: str. The first heading.
        runs: list of Run. Every run given (pretraining runs get the first table).
        groups: list of FinetuningGroup. Fine-tuning results grouped over seeds.
        plots: dict name -> file name (relative to the report) of the plots written.
        missing: list of str. Plots not written, with the reason (shown so a reader knows why).
        command: str or None. The command line that wrote the report.
        notes: list of str or None. Extra paragraphs after the title.
    """
    lines = [f"# {title}", ""]
    if command:
        lines += [f"Written by `{command}`.", ""]
    for note in notes or []:
        lines += [note, ""]
    pretraining = [run for run in runs if run.kind == "pretraining"]
    if pretraining:
        lines += ["## Pretraining", ""] + _pretraining_table(pretraining) + [""]
        lines += ["Run directories: " + ", ".join(f"`{run.label}` = `{run.path}`" for run in pretraining), ""]
        for plot in CURVE_PLOTS:
            if plot.name in plots:
                lines += [f"### {plot.title}", "", f"![{plot.name}]({plots[plot.name]})", "",
                          PLOT_NOTES.get(plot.name, ""), ""]
    if groups:
        lines += ["## Fine-tuning", ""] + _finetuning_table(groups) + [""]
        if "finetuning" in plots:
            lines += [f"![finetuning]({plots['finetuning']})", "", PLOT_NOTES["finetuning"], ""]
    if missing:
        lines += ["## Not plotted", ""] + [f"- {reason}" for reason in missing] + [""]
    return "\n".join(lines).rstrip() + "\n"
