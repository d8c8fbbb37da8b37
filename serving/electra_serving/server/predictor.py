"""Runs a checked Predict: directly, or through the batch scheduler when batching is on; records metrics.

Both the gRPC and the REST front ends end here, so both get the same checks, batching and metrics.

Example:
    >>> predictor = Predictor(MetricsRegistry(), batching=None)  # doctest: +SKIP
    >>> predictor.predict(servable, signature, {"text": texts}, ["tokens"], timeout_s=10.0)  # doctest: +SKIP
"""

from __future__ import annotations

import concurrent.futures

import numpy as np

from electra_serving.server.batching import BatchingOptions, BatchScheduler
from electra_serving.server.metrics import MetricsRegistry
from electra_serving.server.predict_checks import check_input_values
from electra_serving.server.servable import SavedModelServable, Signature
from electra_serving.server.status import ServingStatus


class Predictor:
    """Executes signatures for both front ends.

    Args:
        metrics: MetricsRegistry. Receives one `runtime_latency` sample per model run.
        batching: BatchingOptions | None. None runs every request on its own (TF Serving's default).
    """

    def __init__(self, metrics: MetricsRegistry, batching: BatchingOptions | None):
        self._metrics = metrics
        self._scheduler = BatchScheduler(batching, self._run_batch) if batching is not None else None

    def predict(
        self,
        servable: SavedModelServable,
        signature: Signature,
        inputs: dict[str, np.ndarray],
        output_aliases: list[str],
        timeout_s: float | None,
    ) -> dict[str, np.ndarray]:
        """Checks the inputs' values, runs the signature, returns the requested outputs.

        Args:
            servable: the version that serves the request.
            signature: one of `servable.signatures`, its inputs already checked by name.
            inputs: dict[str, np.ndarray]. One decoded array per input.
            output_aliases: list[str]. Outputs to return (from `select_outputs`).
            timeout_s: float | None. How long to wait for a batch slot and the run.

        Raises:
            ServingStatus: bad inputs, a full batch queue, a deadline, or the model's own error.
        """
        check_input_values(signature, inputs)
        if self._scheduler is None:
            outputs, seconds = servable.run(signature.name, inputs)
            self._metrics.observe_run(servable.name, signature.name, seconds)
        else:
            future = self._scheduler.submit(servable, signature.name, inputs)
            try:
                outputs = future.result(timeout=timeout_s)
            except concurrent.futures.TimeoutError:
                future.cancel()
                raise ServingStatus("DEADLINE_EXCEEDED", "Deadline Exceeded") from None
        return {alias: outputs[alias] for alias in output_aliases}

    def _run_batch(self, servable, signature_name, inputs, num_tasks, queuing_seconds):
        outputs, seconds = servable.run(signature_name, inputs)
        self._metrics.observe_run(servable.name, signature_name, seconds)
        self._metrics.observe_batch(servable.name, signature_name, num_tasks, queuing_seconds)
        return outputs

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.stop()
