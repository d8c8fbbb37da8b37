"""Server-side batching: concurrent requests to one signature of one version are merged and run once.

The semantics of TF Serving's `BatchingSession` over a shared batch scheduler (`--enable_batching` with a
`BatchingParameters` file): requests ("tasks") queue per (servable version, signature); `num_batch_threads`
workers each take the oldest queue whose tasks fill `max_batch_size` rows or whose oldest task has waited
`batch_timeout_micros`, concatenate the inputs along dimension 0, run the model once, and hand each task its
rows of every output. Tasks join a batch only when their inputs have the same shape beyond dimension 0, or
any shape when `pad_variable_length_inputs` pads them (with 0 or b"") to the longest.

The oldest task of a queue always runs in its next batch; the rest of the batch is filled with the queued
tasks that can merge with it, in arrival order, skipping those that cannot (token-id requests of another
length, without padding) rather than stopping at the first. Raw-text requests (string `[batch]`) always merge;
a length-bucketed export then pads the merged batch to its longest text's bucket, so each task receives its
rows at that length (the `input_mask` output marks its real tokens), as from TF Serving.

Example:
    >>> options = BatchingOptions(max_batch_size=32, batch_timeout_micros=2000, num_batch_threads=2)
    >>> scheduler = BatchScheduler(options, run_batch)  # doctest: +SKIP
    >>> scheduler.submit(servable, "serving_default", {"text": texts}).result()  # doctest: +SKIP
"""

from __future__ import annotations

import collections
import os
import threading
import time
import weakref
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Callable

import numpy as np

from electra_serving.server.status import ServingStatus, invalid_argument

RunBatch = Callable[[object, str, dict[str, np.ndarray], int, float], dict[str, np.ndarray]]


@dataclass(frozen=True)
class BatchingOptions:
    """`BatchingParameters` with TF Serving's defaults (`BasicBatchScheduler::Options`).

    Attributes:
        max_batch_size: int. Most rows in one model run.
        batch_timeout_micros: int. Longest wait of a task for peers before its batch runs anyway.
        max_enqueued_batches: int. Queue capacity per signature, in batches; beyond it, UNAVAILABLE.
        num_batch_threads: int. Batches that run at the same time.
        allowed_batch_sizes: tuple[int, ...]. If set, a batch is padded up to the next allowed size.
        pad_variable_length_inputs: bool. Pad inputs of different lengths (dims > 0) so they can merge.
        enable_large_batch_splitting: bool. Split a task above `max_batch_size` instead of rejecting it.
        max_execution_batch_size: int | None. Chunk size when splitting (default `max_batch_size`).
    """

    max_batch_size: int = 1000
    batch_timeout_micros: int = 0
    max_enqueued_batches: int = 10
    num_batch_threads: int = os.cpu_count() or 1
    allowed_batch_sizes: tuple[int, ...] = ()
    pad_variable_length_inputs: bool = False
    enable_large_batch_splitting: bool = False
    max_execution_batch_size: int | None = None

    def __post_init__(self):
        for name in ("max_batch_size", "max_enqueued_batches", "num_batch_threads"):
            if getattr(self, name) < 1:
                raise ValueError(f"BatchingParameters.{name} must be >= 1; received {getattr(self, name)}.")
        if self.batch_timeout_micros < 0:
            raise ValueError(f"BatchingParameters.batch_timeout_micros must be >= 0; "
                             f"received {self.batch_timeout_micros}.")
        sizes = self.allowed_batch_sizes
        if sizes:
            if list(sizes) != sorted(set(sizes)) or sizes[0] < 1:
                raise ValueError(f"allowed_batch_sizes must be positive and strictly increasing; received "
                                 f"{list(sizes)}.")
            if sizes[-1] != self.max_batch_size:
                raise ValueError(f"The last entry in allowed_batch_sizes ({sizes[-1]}) must equal max_batch_size "
                                 f"({self.max_batch_size}).")

    @property
    def execution_batch_size(self) -> int:
        """Rows per model run: `max_execution_batch_size` when splitting large tasks, else `max_batch_size`."""
        if self.enable_large_batch_splitting and self.max_execution_batch_size:
            return min(self.max_execution_batch_size, self.max_batch_size)
        return self.max_batch_size

    @classmethod
    def from_proto(cls, params) -> "BatchingOptions":
        """From a `tensorflow.serving.BatchingParameters` message; unset fields keep the defaults."""
        values = {}
        for name in ("max_batch_size", "batch_timeout_micros", "max_enqueued_batches", "num_batch_threads",
                     "max_execution_batch_size", "enable_large_batch_splitting"):
            if params.HasField(name):
                values[name] = getattr(params, name).value
        values["allowed_batch_sizes"] = tuple(params.allowed_batch_sizes)
        values["pad_variable_length_inputs"] = params.pad_variable_length_inputs
        return cls(**values)


def concat_padded(arrays: list[np.ndarray], pad: bool) -> np.ndarray:
    """Concatenates along dimension 0, padding dimensions > 0 to the largest when `pad` (0 or b"")."""
    if len(arrays) == 1:
        return arrays[0]
    if pad:
        target = tuple(max(sizes) for sizes in zip(*(a.shape[1:] for a in arrays)))
        fill = b"" if arrays[0].dtype == object else 0
        padded = []
        for array in arrays:
            if array.shape[1:] != target:
                widths = [(0, 0)] + [(0, want - got) for want, got in zip(target, array.shape[1:])]
                array = np.pad(array, widths, constant_values=fill)
            padded.append(array)
        arrays = padded
    return np.concatenate(arrays, axis=0)


class _Task:
    __slots__ = ("inputs", "size", "future", "enqueued", "shape_key")

    def __init__(self, inputs: dict[str, np.ndarray], size: int, pad: bool):
        self.inputs = inputs
        self.size = size
        self.future: Future = Future()
        self.enqueued = time.monotonic()
        # Tasks merge only with tasks of the same key: trailing shapes, or just ranks when padding.
        self.shape_key = tuple(
            (alias, value.ndim if pad else value.shape[1:]) for alias, value in sorted(inputs.items())
        )


class _Queue:
    def __init__(self, servable, signature_name: str):
        self.servable = servable
        self.signature_name = signature_name
        self.tasks: collections.deque[_Task] = collections.deque()
        self.pending_rows = 0


class BatchScheduler:
    """Queues per (servable, signature), a shared pool of batch threads, and the merge/split around a run.

    Args:
        options: BatchingOptions.
        run_batch: callable `(servable, signature_name, inputs, num_tasks, queuing_seconds) -> outputs`; runs
            the model once on the merged inputs.
    """

    def __init__(self, options: BatchingOptions, run_batch: RunBatch):
        self.options = options
        self._run_batch = run_batch
        self._queues: "weakref.WeakKeyDictionary[object, dict[str, _Queue]]" = weakref.WeakKeyDictionary()
        self._pending: list[_Queue] = []  # Queues with tasks, oldest first.
        self._condition = threading.Condition()
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._work, name=f"electra-serving-batch-{i}", daemon=True)
            for i in range(options.num_batch_threads)
        ]
        for thread in self._threads:
            thread.start()

    def submit(self, servable, signature_name: str, inputs: dict[str, np.ndarray]) -> Future:
        """Enqueues one request; the future resolves to its outputs (its rows only) or a `ServingStatus`."""
        sizes = set()
        for value in inputs.values():
            if value.ndim == 0:
                raise invalid_argument("Batching Run() input tensors must have at least one dimension")
            sizes.add(value.shape[0])
        if len(sizes) > 1:
            raise invalid_argument("Batching Run() input tensors must have equal 0th-dimension size")
        size = sizes.pop() if sizes else 0
        if size > self.options.max_batch_size:
            raise invalid_argument(
                f"Task size {size} is larger than maximum input batch size {self.options.max_batch_size}"
            )
        limit = self.options.execution_batch_size
        if size > limit:
            return self._submit_split(servable, signature_name, inputs, size, limit)
        return self._enqueue(servable, signature_name, inputs, size)

    def _submit_split(self, servable, signature_name, inputs, size, limit) -> Future:
        parts = [
            self._enqueue(servable, signature_name, {k: v[start : start + limit] for k, v in inputs.items()},
                          min(limit, size - start))
            for start in range(0, size, limit)
        ]
        combined: Future = Future()
        remaining = [len(parts)]
        lock = threading.Lock()

        def on_done(_):
            with lock:
                remaining[0] -= 1
                if remaining[0]:
                    return
            errors = [part.exception() for part in parts if part.exception() is not None]
            if errors:
                combined.set_exception(errors[0])
                return
            results = [part.result() for part in parts]
            combined.set_result({alias: concat_padded([r[alias] for r in results], pad=True) for alias in results[0]})

        for part in parts:
            part.add_done_callback(on_done)
        return combined

    def _enqueue(self, servable, signature_name, inputs, size) -> Future:
        task = _Task(inputs, size, self.options.pad_variable_length_inputs)
        with self._condition:
            queues = self._queues.setdefault(servable, {})
            queue = queues.get(signature_name)
            if queue is None:
                queue = queues[signature_name] = _Queue(servable, signature_name)
            capacity = self.options.max_enqueued_batches * self.options.execution_batch_size
            if queue.pending_rows + size > capacity:
                raise ServingStatus(
                    "UNAVAILABLE",
                    "The batch scheduling queue to which this task was submitted is full; task size is "
                    f"{size} but scheduling capacity is only {capacity - queue.pending_rows} "
                    f"(max_enqueued_batches={self.options.max_enqueued_batches})",
                )
            if not queue.tasks:
                self._pending.append(queue)
            queue.tasks.append(task)
            queue.pending_rows += size
            self._condition.notify()
        return task.future

    def stop(self) -> None:
        with self._condition:
            self._stopped = True
            self._condition.notify_all()
        for thread in self._threads:
            thread.join(timeout=10)

    # === Batch threads ===

    def _ready_queue(self) -> tuple[_Queue | None, float | None]:
        """The first queue ready to run, else the seconds until the earliest one will be."""
        now = time.monotonic()
        timeout_s = self.options.batch_timeout_micros / 1e6
        wait = None
        for queue in self._pending:
            if queue.pending_rows >= self.options.execution_batch_size:
                return queue, None
            due = queue.tasks[0].enqueued + timeout_s - now
            if due <= 0:
                return queue, None
            wait = due if wait is None else min(wait, due)
        return None, wait

    def _take_batch(self, queue: _Queue) -> list[_Task]:
        """The oldest task and, in arrival order, every later one that fits beside it and has its shape key."""
        limit = self.options.execution_batch_size
        first = queue.tasks.popleft()
        batch, rows, skipped = [first], first.size, []
        while queue.tasks and rows < limit:
            task = queue.tasks.popleft()
            if task.shape_key == first.shape_key and rows + task.size <= limit:
                batch.append(task)
                rows += task.size
            else:
                skipped.append(task)
        queue.tasks.extendleft(reversed(skipped))  # back in front, in their order
        queue.pending_rows -= rows
        self._pending.remove(queue)
        if queue.tasks:
            self._pending.append(queue)  # Behind the others: round robin between signatures.
        return batch

    def _work(self) -> None:
        while True:
            with self._condition:
                while True:
                    if self._stopped:
                        return
                    queue, wait = self._ready_queue()
                    if queue is not None:
                        batch = self._take_batch(queue)
                        break
                    self._condition.wait(timeout=wait)
            self._run(queue, batch)

    def _run(self, queue: _Queue, batch: list[_Task]) -> None:
        batch = [task for task in batch if task.future.set_running_or_notify_cancel()]  # Drop timed-out tasks.
        if not batch:
            return
        try:
            pad = self.options.pad_variable_length_inputs
            merged = {alias: concat_padded([t.inputs[alias] for t in batch], pad) for alias in batch[0].inputs}
            rows = sum(task.size for task in batch)
            padded_rows = next((s for s in self.options.allowed_batch_sizes if s >= rows), rows)
            if padded_rows > rows:  # Repeat the last row: a cheap, valid filler for any model.
                merged = {k: np.concatenate([v, np.repeat(v[-1:], padded_rows - rows, axis=0)]) for k, v in merged.items()}
            queuing_seconds = time.monotonic() - batch[0].enqueued
            outputs = self._run_batch(queue.servable, queue.signature_name, merged, len(batch), queuing_seconds)
            for alias, value in outputs.items():
                if value.ndim == 0:
                    raise ServingStatus("INTERNAL", f"Batched output tensor {alias} has 0 dimensions")
                if value.shape[0] != padded_rows:
                    raise ServingStatus(
                        "INTERNAL",
                        f"Batched output tensor {alias}'s 0th dimension ({value.shape[0]}) does not equal the sum "
                        f"of the 0th dimension sizes of the input tensors ({padded_rows})",
                    )
        except Exception as error:  # Every task of the batch gets the failure; the thread lives on.
            for task in batch:
                task.future.set_exception(error)
            return
        offset = 0
        for task in batch:
            task.future.set_result({alias: value[offset : offset + task.size] for alias, value in outputs.items()})
            offset += task.size
