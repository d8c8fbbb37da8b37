"""Fine-tuning results across seeds: mean ± standard deviation of each group's best-epoch metrics.

Each fine-tuning run's `metrics.json` names its main `metric` and holds the `best` epoch's metrics. Runs
whose labels differ only by a seed (`runs.finetuning_group`) form one group; a group's value is the mean over
its runs, its spread the sample standard deviation (n - 1 in the denominator; 0 for a single run).

Example:
>>> groups = summarize_finetuning(runs)  # doctest: +SKIP
>>> groups[0].name, groups[0].metric, round(groups[0].mean, 3), round(groups[0].std, 3)  # doctest: +SKIP
('cola_electra', 'mcc', 0.312, 0.021)
>>> sample_std([1.0, 2.0, 3.0])
1.0
"""

from __future__ import annotations

import dataclasses
import math

from electra_tf.reporting.runs import Run, finetuning_group

# Metrics shown beside the main one when every run of a group logged them (higher is better for all).
SHOWN_METRICS = ("accuracy", "mcc", "f1", "exact_match", "pearson", "spearman")


@dataclasses.dataclass
class FinetuningGroup:
    """Runs of one configuration that differ only by seed.

    Attributes:
        name: str. The group's label (run labels without their seed).
        task: str. The task of its runs ("classification", "qa", ...).
        metric: str. The main metric (from metrics.json's "metric").
        labels: list of str. The labels of its runs.
        values: dict metric -> list of float. Best-epoch values per run, for every metric all runs have.
    """

    name: str
    task: str
    metric: str
    labels: list
    values: dict

    @property
    def mean(self) -> float:
        return mean(self.values.get(self.metric, []))

    @property
    def std(self) -> float:
        return sample_std(self.values.get(self.metric, []))

    def metrics(self) -> list[str]:
        """The main metric first, then the other shown metrics every run has."""
        others = [name for name in SHOWN_METRICS if name in self.values and name != self.metric]
        return ([self.metric] if self.metric in self.values else []) + others


def mean(values) -> float:
    values = list(values)
    return sum(values) / len(values) if values else math.nan


def sample_std(values) -> float:
    """Sample standard deviation (n - 1); 0.0 for one value, NaN for none."""
    values = list(values)
    if not values:
        return math.nan
    if len(values) == 1:
        return 0.0
    center = mean(values)
    return math.sqrt(sum((value - center) ** 2 for value in values) / (len(values) - 1))


def summarize_finetuning(runs: list[Run]) -> list[FinetuningGroup]:
    """Groups the fine-tuning runs by label without seed, in the order their first run was given."""
    groups: dict[str, FinetuningGroup] = {}
    for run in runs:
        if run.kind != "finetuning":
            continue
        best = run.finetuning.get("best") or {}
        metric = run.finetuning.get("metric") or next((name for name in SHOWN_METRICS if name in best), "loss")
        name = finetuning_group(run.label)
        group = groups.setdefault(name, FinetuningGroup(
            name=name, task=str(run.finetuning.get("task", "")), metric=metric, labels=[], values={}))
        numeric = {key: float(value) for key, value in best.items()
                   if isinstance(value, (int, float)) and not isinstance(value, bool)
                   and key not in ("epoch", "step") and math.isfinite(float(value))}
        if group.labels:  # keep only metrics every run of the group has
            group.values = {key: values for key, values in group.values.items() if key in numeric}
            numeric = {key: value for key, value in numeric.items() if key in group.values}
        for key, value in numeric.items():
            group.values.setdefault(key, []).append(value)
        group.labels.append(run.label)
    return list(groups.values())
