"""Server-side batching of requests of different lengths: raw-text requests always merge into one run; token-id
requests of different lengths merge when the server pads them, and otherwise run grouped by length, the oldest
first, instead of breaking the batch at the first request of another length."""

import numpy as np

from electra_serving.server.batching import BatchingOptions, BatchScheduler


def _scheduler(runs, **options):
    def run_batch(servable, signature, inputs, num_tasks, queuing_seconds):
        runs.append((num_tasks, {key: value.shape for key, value in inputs.items()}))
        return {key: value for key, value in inputs.items()}

    defaults = dict(max_batch_size=8, batch_timeout_micros=200_000, num_batch_threads=1)
    return BatchScheduler(BatchingOptions(**{**defaults, **options}), run_batch)


def _servable():
    return object.__new__(type("Servable", (), {}))


def test_text_requests_of_any_length_merge_into_one_run():
    runs = []
    scheduler = _scheduler(runs)
    try:
        servable = _servable()
        texts = [b"hi", b"a much longer sentence " * 20, b"", b"short one"]
        futures = [scheduler.submit(servable, "serving_default", {"text": np.array([t], dtype=object)}) for t in texts]
        results = [future.result(timeout=10)["text"].tolist() for future in futures]
    finally:
        scheduler.stop()
    assert runs == [(4, {"text": (4,)})]
    assert results == [[t] for t in texts]  # each task gets back its own row


def test_id_requests_of_other_lengths_run_grouped_by_length_oldest_first():
    runs = []
    scheduler = _scheduler(runs)
    try:
        servable = _servable()
        lengths = (3, 5, 3, 5, 3)
        futures = [scheduler.submit(servable, "encode_ids", {"input_word_ids": np.full((1, n), i, np.int32)})
                   for i, n in enumerate(lengths)]
        results = [future.result(timeout=10)["input_word_ids"] for future in futures]
    finally:
        scheduler.stop()
    # Two runs, not five: the tasks of length 5 wait behind the first batch instead of splitting it.
    assert runs == [(3, {"input_word_ids": (3, 3)}), (2, {"input_word_ids": (2, 5)})]
    for i, (n, result) in enumerate(zip(lengths, results)):
        np.testing.assert_array_equal(result, np.full((1, n), i))


def test_padded_id_requests_of_other_lengths_merge_and_keep_their_values():
    runs = []
    scheduler = _scheduler(runs, pad_variable_length_inputs=True)
    try:
        servable = _servable()
        futures = [scheduler.submit(servable, "encode_ids", {"input_mask": np.ones((1, n), np.int32)})
                   for n in (16, 32, 16)]
        results = [future.result(timeout=10)["input_mask"] for future in futures]
    finally:
        scheduler.stop()
    assert runs == [(3, {"input_mask": (3, 32)})]
    assert [int(result.sum()) for result in results] == [16, 32, 16]  # padded with 0: the real tokens kept
