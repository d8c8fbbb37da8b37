"""Windows over long contexts and best-span decoding for the `answer` signature, in core TensorFlow ops.

The same rules as the reference's SQuAD features and post-processing (google-research/electra
`finetune/qa/qa_tasks.py`, from BERT's `run_squad.py`), written as batched tensor ops so that an exported
SavedModel runs them in TF Serving:

- **Windows** (`context_windows`): a context of `T` tokens and room for `W` per window gets windows starting at
  `0, s, 2s, ...` with `s = min(doc_stride, W)`, until one reaches the end: `1 + ceil(max(0, T - W) / s)`.
- **Maximum context** (`max_context_mask`): a token in several windows may start an answer only in the window
  where `min(tokens left of it, tokens right of it) + 0.01 * window length` is largest (the first on a tie).
- **Best span** (`best_spans`): among the `n_best_size` highest start logits and the `n_best_size` highest
  end logits of a window, the pair with the largest `start_logit + end_logit` such that both are context
  tokens, the start has its maximum context here, and `start <= end < start + max_answer_length`.

Example:
>>> example, start, length = context_windows(tf.constant([10]), tf.constant([4]), doc_stride=3)
>>> example.numpy().tolist(), start.numpy().tolist(), length.numpy().tolist()
([0, 0, 0], [0, 3, 6], [4, 4, 4])
"""

from __future__ import annotations

import tensorflow as tf

# Score of a window without a valid span: far below any real logit sum, finite for JSON (REST) clients.
NO_SPAN_SCORE = -1.0e9


def context_windows(num_tokens: tf.Tensor, window_length: tf.Tensor, doc_stride: int):
    """The windows over each context (the reference's `doc_spans`); every context gets at least one.

    Args:
        num_tokens: tf.Tensor. int32 [batch], context tokens of each example.
        window_length: tf.Tensor. int32 [batch], context tokens a window holds (at least 1).
        doc_stride: int. Tokens between the starts of consecutive windows (at most `window_length`).

    Returns:
        (example, start, length): int32 [windows] each: the example a window belongs to, its first context
        token and its number of tokens. Windows of one example are consecutive, in order.
    """
    num_tokens = tf.cast(num_tokens, tf.int32)
    window_length = tf.cast(window_length, tf.int32)
    step = tf.minimum(window_length, doc_stride)  # [batch]
    count = 1 + (tf.maximum(num_tokens - window_length, 0) + step - 1) // step  # [batch]
    example = tf.repeat(tf.range(tf.shape(count)[0]), count)  # [windows]
    index = tf.cast(tf.ragged.range(count).flat_values, tf.int32)  # [windows], 0, 1, ... within each example
    start = index * tf.gather(step, example)
    length = tf.minimum(tf.gather(num_tokens, example) - start, tf.gather(window_length, example))
    return example, start, length


def max_context_mask(example: tf.Tensor, start: tf.Tensor, length: tf.Tensor, batch_size) -> tf.RaggedTensor:
    """Whether each window token has its maximum context in that window (BERT's `_check_is_max_context`).

    Args:
        example, start, length: int32 [windows], from `context_windows`.
        batch_size: int32 scalar, the number of examples.

    Returns:
        tf.RaggedTensor. bool [windows, (length)].
    """
    windows = tf.shape(example)[0]
    offsets = tf.ragged.range(length)  # [windows, (length)], position within the window
    token_window = tf.cast(offsets.value_rowids(), tf.int32)  # [tokens]
    position = tf.gather(start, token_window) + tf.cast(offsets.flat_values, tf.int32)  # [tokens], in the context
    # Every window of the token's example, as columns: [tokens, most windows of an example].
    first_window = tf.math.unsorted_segment_min(tf.range(windows), example, batch_size)  # [batch]
    count = tf.math.unsorted_segment_sum(tf.ones_like(example), example, batch_size)  # [batch]
    columns = tf.reduce_max(tf.concat([count, [0]], 0))
    token_example = tf.gather(example, token_window)  # [tokens]
    other = tf.gather(first_window, token_example)[:, tf.newaxis] + tf.range(columns)[tf.newaxis]
    exists = tf.range(columns)[tf.newaxis] < tf.gather(count, token_example)[:, tf.newaxis]
    other = tf.where(exists, other, 0)  # [tokens, columns]
    other_start, other_length = tf.gather(start, other), tf.gather(length, other)
    here = position[:, tf.newaxis]  # [tokens, 1]
    contains = exists & (other_start <= here) & (here < other_start + other_length)
    left = position[:, tf.newaxis] - other_start
    right = other_start + other_length - 1 - position[:, tf.newaxis]
    score = tf.cast(tf.minimum(left, right), tf.float32) + 0.01 * tf.cast(other_length, tf.float32)
    score = tf.where(contains, score, -1.0)  # [tokens, columns]
    best = tf.reduce_max(score, axis=1, keepdims=True)
    first_best = tf.reduce_min(tf.where(score == best, other, windows), axis=1)  # [tokens]
    return offsets.with_flat_values(tf.equal(first_best, token_window))


def best_spans(start_logits, end_logits, can_start, can_end, max_answer_length: int, n_best_size: int):
    """The best answer span of each window.

    Args:
        start_logits, end_logits: tf.Tensor. float32 [windows, seq].
        can_start: tf.Tensor. bool [windows, seq], positions that may start an answer (context, max context).
        can_end: tf.Tensor. bool [windows, seq], positions that may end one (context).
        max_answer_length: int. Longest answer in tokens.
        n_best_size: int. Start and end candidates considered per window (20 in the reference).

    Returns:
        (start, end, score): int32 [windows] positions in the window (-1 when no span is valid) and float32
        [windows] `start_logit + end_logit` (`NO_SPAN_SCORE` when none).
    """
    k = tf.minimum(n_best_size, tf.shape(start_logits)[1])
    top_start_logits, top_starts = tf.math.top_k(start_logits, k=k)  # [windows, k]
    top_end_logits, top_ends = tf.math.top_k(end_logits, k=k)
    starts = top_starts[:, :, tf.newaxis]  # [windows, k, 1]
    ends = top_ends[:, tf.newaxis, :]  # [windows, 1, k]
    valid = (
        tf.gather(can_start, top_starts, batch_dims=1)[:, :, tf.newaxis]
        & tf.gather(can_end, top_ends, batch_dims=1)[:, tf.newaxis, :]
        & (ends >= starts)
        & (ends - starts < max_answer_length)
    )  # [windows, k, k]
    scores = top_start_logits[:, :, tf.newaxis] + top_end_logits[:, tf.newaxis, :]
    scores = tf.reshape(tf.where(valid, scores, -float("inf")), [tf.shape(scores)[0], -1])  # [windows, k * k]
    best = tf.argmax(scores, axis=1, output_type=tf.int32)  # [windows]; start-major order as the reference
    found = tf.reduce_any(tf.reshape(valid, [tf.shape(valid)[0], -1]), axis=1)  # [windows]
    start = tf.gather(top_starts, best // k, batch_dims=1)
    end = tf.gather(top_ends, best % k, batch_dims=1)
    score = tf.gather(scores, best, batch_dims=1)
    return (tf.where(found, start, -1), tf.where(found, end, -1),
            tf.where(found, score, tf.constant(NO_SPAN_SCORE, tf.float32)))


def best_window(example: tf.Tensor, score: tf.Tensor, batch_size) -> tf.Tensor:
    """Per example, the index of its window with the highest score (the first on a tie).

    Args:
        example: int32 [windows], from `context_windows` (every example has a window).
        score: float32 [windows].
        batch_size: int32 scalar.

    Returns:
        int32 [batch].
    """
    best = tf.math.unsorted_segment_max(score, example, batch_size)  # [batch]
    is_best = tf.equal(score, tf.gather(best, example))
    windows = tf.shape(example)[0]
    return tf.math.unsorted_segment_min(tf.where(is_best, tf.range(windows), windows), example, batch_size)
