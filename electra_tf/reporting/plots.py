"""PNG plots of pretraining curves (several runs on one axis) and fine-tuning results (bars with error bars).

Figures are drawn with matplotlib's object API on an Agg canvas (no pyplot state, no display needed). Every
run keeps its colour across plots; training values are solid lines, held-out (validation) values dashed with
markers. A plot whose metric no run logged is not written (`plot_curves` returns None).

Example:
>>> path = plot_curves(runs, CURVE_PLOTS[0], "report/")  # doctest: +SKIP
>>> os.path.basename(path)  # doctest: +SKIP
'losses.png'
"""

from __future__ import annotations

import dataclasses
import os

from electra_tf.reporting.finetuning_summary import FinetuningGroup, sample_std
from electra_tf.reporting.runs import Run

SPLIT_STYLES = {"train": {"linestyle": "-"}, "validation": {"linestyle": "--", "marker": "o", "markersize": 3}}
SPLIT_NAMES = {"train": "training", "validation": "held-out"}
DPI = 110


@dataclasses.dataclass(frozen=True)
class CurvePlot:
    """One PNG of metrics against steps.

    Attributes:
        name: str. File name without `.png`.
        title: str. The figure's title.
        panels: tuple of (metric, y-axis label) or (metric, y-axis label, baseline metric). One panel each,
            side by side; a baseline metric's held-out values are drawn dotted in the run's colour.
        splits: tuple of str. Which history splits to draw ("train", "validation").
        reference: float or None. A dotted horizontal line (chance level of an AUC).
        log_y: bool. Logarithmic y axis.
    """

    name: str
    title: str
    panels: tuple
    splits: tuple = ("train", "validation")
    reference: float | None = None
    log_y: bool = False


CURVE_PLOTS = (
    CurvePlot("losses", "Losses against steps (solid: training, dashed: held-out)",
              (("loss", "total loss (MLM + w x RTD)"), ("mlm_loss", "generator MLM loss"),
               ("rtd_loss", "discriminator RTD loss"))),
    CurvePlot("rtd_auc", "Replaced-token detection ROC-AUC (dotted: chance)", (("rtd_auc", "RTD ROC-AUC"),),
              reference=0.5),
    CurvePlot("generator_accuracy", "Generator (masked LM) top-1 accuracy (dotted: most frequent token)",
              (("mlm_accuracy", "at every chosen position"),
               ("mlm_accuracy_at_mask", "at [MASK] positions", "unigram_accuracy_at_mask"))),
    CurvePlot("learning_rate", "Learning rate", (("learning_rate", "learning rate"),), splits=("train",)),
    CurvePlot("examples_per_second", "Training throughput", (("examples_per_second", "examples / s"),),
              splits=("train",)),
)


def _figure(width, height):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(figure)
    return figure


def _colors(count):
    from matplotlib import colormaps

    palette = colormaps["tab10"].colors
    return [palette[index % len(palette)] for index in range(count)]


def curve_figure(runs: list[Run], plot: CurvePlot):
    """Builds the matplotlib `Figure` of one `CurvePlot`; returns None when no run logged its metrics."""
    colors = _colors(len(runs))
    figure = _figure(4.6 * len(plot.panels) + 1.2, 3.6)
    axes = figure.subplots(1, len(plot.panels), squeeze=False)[0]
    drawn = False
    for axis, (metric, ylabel, *baseline) in zip(axes, plot.panels):
        for color, run in zip(colors, runs):
            for split in plot.splits:
                steps, values = run.series(split, metric)
                if not steps:
                    continue
                drawn = True
                legend = run.label if len(plot.splits) == 1 else f"{run.label} ({SPLIT_NAMES[split]})"
                axis.plot(steps, values, color=color, label=legend, linewidth=1.4, **SPLIT_STYLES[split])
            steps, values = run.series("validation", baseline[0]) if baseline else ([], [])
            if steps:
                axis.plot(steps, values, color=color, label=f"{run.label} (baseline)", linewidth=1, linestyle=":")
        if plot.reference is not None:
            axis.axhline(plot.reference, color="grey", linestyle=":", linewidth=1)
        if plot.log_y:
            axis.set_yscale("log")
        axis.set_xlabel("step")
        axis.set_ylabel(ylabel)
        axis.grid(True, alpha=0.3)
        if axis.get_legend_handles_labels()[0]:
            axis.legend(fontsize=7, loc="best")
    if not drawn:
        return None
    figure.suptitle(plot.title, fontsize=10)
    figure.tight_layout()
    return figure


def plot_curves(runs: list[Run], plot: CurvePlot, out_dir: str) -> str | None:
    """Writes `OUT/<plot.name>.png` for every run that logged its metrics; returns its path, or None if none did."""
    figure = curve_figure(runs, plot)
    if figure is None:
        return None
    path = os.path.join(out_dir, plot.name + ".png")
    figure.savefig(path)
    return path


def plot_finetuning(groups: list[FinetuningGroup], out_dir: str, name: str = "finetuning") -> str | None:
    """Bars of each group's mean best-epoch metric with ±1 sample-std error bars and the seeds as dots.

    One panel per metric (the groups' main metric first). Returns the PNG path, or None without groups.
    """
    if not groups:
        return None
    metrics = []
    for group in groups:
        metrics += [metric for metric in group.metrics() if metric not in metrics]
    if not metrics:
        return None
    colors = _colors(len(groups))
    figure = _figure(max(4.2, 1.1 * len(groups) + 2.0) * len(metrics), 4.0)
    axes = figure.subplots(1, len(metrics), squeeze=False)[0]
    for axis, metric in zip(axes, metrics):
        names, means, stds, bar_colors = [], [], [], []
        for group, color in zip(groups, colors):
            values = group.values.get(metric)
            if not values:
                continue
            names.append(group.name)
            means.append(sum(values) / len(values))
            stds.append(sample_std(values))
            bar_colors.append(color)
            positions = [len(names) - 1] * len(values)
            axis.scatter(positions, values, color="black", s=10, zorder=3)
        axis.bar(range(len(names)), means, yerr=stds, capsize=6, color=bar_colors, alpha=0.75, zorder=2)
        for position, (center, spread, count) in enumerate(zip(means, stds, [len(group.values.get(metric, []))
                                                                            for group in groups
                                                                            if group.values.get(metric)])):
            axis.annotate(f"{center:.3f} ± {spread:.3f}\n(n={count})", (position, center + spread),
                          textcoords="offset points", xytext=(0, 4), ha="center", fontsize=7)
        axis.set_xticks(range(len(names)))
        axis.set_xticklabels(names, rotation=20 if len(names) > 3 else 0, ha="right" if len(names) > 3 else "center",
                             fontsize=8)
        axis.set_ylabel(metric)
        axis.margins(y=0.2)
        axis.grid(True, axis="y", alpha=0.3, zorder=0)
    figure.suptitle("Fine-tuning: best-epoch validation metrics, mean ± sample std over seeds", fontsize=10)
    figure.tight_layout()
    path = os.path.join(out_dir, name + ".png")
    figure.savefig(path)
    return path

