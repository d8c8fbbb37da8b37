"""Prometheus metrics in the text exposition format, under TF Serving's metric names.

`--monitoring_config_file` with `prometheus_config { enable: true }` serves them on the REST port at
`/monitoring/prometheus/metrics` (or the configured `path`), as `tensorflow_model_server` does:

    :tensorflow:serving:request_count        counter   model_name, signature_name, API, entrypoint, status
    :tensorflow:serving:request_latency      histogram (microseconds) model_name, signature_name, API, entrypoint
    :tensorflow:serving:runtime_latency      histogram (microseconds) model_name, signature_name; one per model run
    :tensorflow:serving:batching_session:processed_batch_size   histogram   model_name, signature_name
    :tensorflow:serving:batching_session:queuing_latency        histogram (microseconds) model_name, signature_name

Example:
    >>> registry = MetricsRegistry()
    >>> registry.count_request("demo", "serving_default", "predict", "GRPC", "OK", seconds=0.002)
    >>> ':tensorflow:serving:request_count{model_name="demo"' in registry.render()
    True
"""

from __future__ import annotations

import bisect
import threading

LATENCY_BUCKETS_US = (100, 250, 500, 1e3, 2.5e3, 5e3, 1e4, 2.5e4, 5e4, 1e5, 2.5e5, 5e5, 1e6, 2.5e6, 5e6, 1e7)
BATCH_SIZE_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)

REQUEST_COUNT = ":tensorflow:serving:request_count"
REQUEST_LATENCY = ":tensorflow:serving:request_latency"
RUNTIME_LATENCY = ":tensorflow:serving:runtime_latency"
PROCESSED_BATCH_SIZE = ":tensorflow:serving:batching_session:processed_batch_size"
QUEUING_LATENCY = ":tensorflow:serving:batching_session:queuing_latency"

_HELP = {
    REQUEST_COUNT: "The total number of requests.",
    REQUEST_LATENCY: "Distribution of wall time (in microseconds) for Tensorflow Serving request.",
    RUNTIME_LATENCY: "Distribution of wall time (in microseconds) for Tensorflow runtime.",
    PROCESSED_BATCH_SIZE: "Tracks the batch size distribution on processing.",
    QUEUING_LATENCY: "Tracks the latency (in microseconds) of a task spent in the batching queue.",
}


class _Histogram:
    __slots__ = ("buckets", "counts", "total", "count")

    def __init__(self, buckets):
        self.buckets = buckets
        self.counts = [0] * len(buckets)
        self.total = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        index = bisect.bisect_left(self.buckets, value)
        if index < len(self.counts):
            self.counts[index] += 1
        self.total += value
        self.count += 1


def _labels_text(labels: tuple[tuple[str, str], ...]) -> str:
    def escape(value: str) -> str:
        return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")

    return ",".join(f'{key}="{escape(str(value))}"' for key, value in labels)


class MetricsRegistry:
    """Thread-safe counters and histograms keyed by metric name and label values."""

    def __init__(self):
        self._lock = threading.Lock()
        self._counters: dict[str, dict[tuple, float]] = {}
        self._histograms: dict[str, dict[tuple, _Histogram]] = {}

    def _increment(self, name: str, labels: tuple, amount: float = 1.0) -> None:
        with self._lock:
            series = self._counters.setdefault(name, {})
            series[labels] = series.get(labels, 0.0) + amount

    def _observe(self, name: str, labels: tuple, value: float, buckets) -> None:
        with self._lock:
            series = self._histograms.setdefault(name, {})
            if labels not in series:
                series[labels] = _Histogram(buckets)
            series[labels].observe(value)

    def count_request(self, model: str, signature: str, api: str, entrypoint: str, status: str,
                      seconds: float) -> None:
        """One finished request (any outcome) and its wall time."""
        base = (("model_name", model), ("signature_name", signature), ("API", api), ("entrypoint", entrypoint))
        self._increment(REQUEST_COUNT, base + (("status", status),))
        self._observe(REQUEST_LATENCY, base, seconds * 1e6, LATENCY_BUCKETS_US)

    def observe_run(self, model: str, signature: str, seconds: float) -> None:
        """One model execution (a batch counts once)."""
        self._observe(RUNTIME_LATENCY, (("model_name", model), ("signature_name", signature)), seconds * 1e6,
                      LATENCY_BUCKETS_US)

    def observe_batch(self, model: str, signature: str, batch_size: int, queuing_seconds: float) -> None:
        """One batch formed by the scheduler: how many requests it merged, how long the oldest waited."""
        labels = (("model_name", model), ("signature_name", signature))
        self._observe(PROCESSED_BATCH_SIZE, labels, batch_size, BATCH_SIZE_BUCKETS)
        self._observe(QUEUING_LATENCY, labels, queuing_seconds * 1e6, LATENCY_BUCKETS_US)

    def render(self) -> str:
        """The Prometheus text exposition (version 0.0.4)."""
        lines: list[str] = []
        with self._lock:
            for name in sorted(self._counters):
                lines += [f"# HELP {name} {_HELP.get(name, name)}", f"# TYPE {name} counter"]
                for labels, value in sorted(self._counters[name].items()):
                    lines.append(f"{name}{{{_labels_text(labels)}}} {value:g}")
            for name in sorted(self._histograms):
                lines += [f"# HELP {name} {_HELP.get(name, name)}", f"# TYPE {name} histogram"]
                for labels, histogram in sorted(self._histograms[name].items()):
                    cumulative = 0
                    for bound, count in zip(histogram.buckets, histogram.counts):
                        cumulative += count
                        le = _labels_text(labels + (("le", f"{bound:g}"),))
                        lines.append(f"{name}_bucket{{{le}}} {cumulative}")
                    lines.append(f"{name}_bucket{{{_labels_text(labels + (('le', '+Inf'),))}}} {histogram.count}")
                    lines.append(f"{name}_sum{{{_labels_text(labels)}}} {histogram.total:g}")
                    lines.append(f"{name}_count{{{_labels_text(labels)}}} {histogram.count}")
        return "\n".join(lines) + "\n"
