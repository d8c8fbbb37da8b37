"""Packing WordPiece ids into model inputs `[CLS] A [SEP] (B [SEP])`, in core TensorFlow ops.

Used by exported SavedModel signatures and by the streaming data path. Truncation is computed in closed form
with core ops rather than tensorflow-text's `RoundRobinTrimmer`/`WaterfallTrimmer`, whose ops TF Serving
2.12-2.19 do not have.

Rows are padded to `seq_length`, or, with `bucket_size` > 0 (what exported signatures do), only to the batch's
longest packed row rounded up to a multiple of `bucket_size` and capped at `seq_length` (`bucketed_length`):
a batch of short texts then costs a short sequence, and the few distinct lengths keep kernel caches warm.
Truncation still happens at `seq_length`, so a row's real tokens are the same either way.

Example:
>>> import tensorflow as tf
>>> a = tf.ragged.constant([[7, 8, 9], [5]])
>>> b = tf.ragged.constant([[4, 4], [6, 6, 6]])
>>> inputs = pack_inputs(a, b, seq_length=7, cls_id=101, sep_id=102, pad_id=0)
>>> inputs["input_word_ids"].numpy().tolist()
[[101, 7, 8, 102, 4, 4, 102], [101, 5, 102, 6, 6, 6, 102]]
>>> inputs["input_type_ids"].numpy().tolist()
[[0, 0, 0, 0, 1, 1, 1], [0, 0, 0, 1, 1, 1, 1]]
>>> pack_inputs(a, seq_length=128, cls_id=101, sep_id=102, pad_id=0, bucket_size=4)["input_mask"].numpy().tolist()
[[1, 1, 1, 1, 1, 0, 0, 0], [1, 1, 1, 0, 0, 0, 0, 0]]
"""

from __future__ import annotations

import tensorflow as tf

from electra_tf.errors import InputError


def truncated_lengths(lengths_a: tf.Tensor, lengths_b: tf.Tensor, budget) -> tuple[tf.Tensor, tf.Tensor]:
    """Lengths after BERT's longest-first truncation of a pair to at most `budget` tokens.

    Same result as BERT's `_truncate_seq_pair` loop (drop one token from the end of the longer segment, from
    B on a tie, until the pair fits), in closed form: the shorter segment is kept whole when it fits in half
    the budget; otherwise both get half, A the extra token of an odd budget.

    Args:
        lengths_a: tf.Tensor. int [batch], tokens in segment A.
        lengths_b: tf.Tensor. int [batch], tokens in segment B (zeros for single segments).
        budget: int or scalar int tensor, tokens available to A and B together.

    Returns:
        (new_lengths_a, new_lengths_b), int [batch] each.

    Example:
    >>> a, b = truncated_lengths(tf.constant([10, 2, 3]), tf.constant([10, 9, 0]), 6)
    >>> a.numpy().tolist(), b.numpy().tolist()
    ([3, 2, 3], [3, 4, 0])
    """
    budget = tf.cast(budget, lengths_a.dtype)
    half_up = (budget + 1) // 2
    new_a = tf.minimum(lengths_a, tf.maximum(budget - lengths_b, half_up))
    new_b = tf.minimum(lengths_b, budget - new_a)
    return new_a, new_b


def bucketed_length(longest, bucket_size: int, seq_length: int) -> tf.Tensor:
    """The padded length of a batch whose longest packed row has `longest` tokens.

    `longest` rounded up to a multiple of `bucket_size` (at least one bucket, also for an empty batch), capped
    at `seq_length`.

    Args:
        longest: int or scalar int tensor, tokens in the batch's longest row (0 or less for an empty batch).
        bucket_size: int, at least 1.
        seq_length: int. The cap (the length rows are truncated to).

    Returns:
        tf.Tensor. int32 scalar in [min(bucket_size, seq_length), seq_length].

    Example:
    >>> [int(bucketed_length(n, 16, 40)) for n in (0, 1, 16, 17, 33, 40)]
    [16, 16, 16, 32, 40, 40]
    """
    longest = tf.maximum(tf.cast(longest, tf.int32), 1)
    rounded = (longest + bucket_size - 1) // bucket_size * bucket_size
    return tf.minimum(rounded, seq_length)


def _keep_first(segments: tf.RaggedTensor, lengths: tf.Tensor) -> tf.RaggedTensor:
    """The first `lengths[i]` tokens of each row: [batch, (tokens)] -> [batch, (<= lengths)]."""
    positions = tf.ragged.range(segments.row_lengths())  # [batch, (tokens)]
    lengths = tf.cast(lengths, positions.dtype)
    return tf.ragged.boolean_mask(segments, positions < tf.expand_dims(lengths, 1))


def _as_ragged_ids(segments, name: str) -> tf.RaggedTensor:
    if isinstance(segments, tf.RaggedTensor):
        ragged = segments
    elif isinstance(segments, tf.Tensor):
        ragged = tf.RaggedTensor.from_tensor(segments)
    else:
        ragged = tf.ragged.constant(segments, dtype=tf.int32)
    if ragged.shape.rank != 2:
        raise InputError(f"Expected {name} of shape [batch, (tokens)], received rank {ragged.shape.rank}.")
    return tf.cast(ragged, tf.int32)


def pack_inputs(
    segments_a,
    segments_b=None,
    *,
    seq_length: int,
    cls_id: int,
    sep_id: int,
    pad_id: int,
    bucket_size: int = 0,
) -> dict[str, tf.Tensor]:
    """Packs one or two segments per example into the TF Hub BERT input dict.

    Layout `[CLS] A [SEP]` (type ids 0) then `B [SEP]` (type ids 1), padded with `pad_id` to `seq_length`
    (or to the batch's bucket, see `bucket_size`). Over-long inputs are truncated longest-first
    (`truncated_lengths`) to `seq_length`.

    Args:
        segments_a: tf.RaggedTensor. int [batch, (tokens)] (dense tensors and nested lists are accepted).
        segments_b: optional, like `segments_a`, with the same batch size.
        seq_length: int. Output length; at least 2 (3 with `segments_b`).
        cls_id: int. Id of [CLS].
        sep_id: int. Id of [SEP].
        pad_id: int. Id written into padding positions.
        bucket_size: int. 0 pads every row to `seq_length`; N > 0 pads to the batch's longest packed row rounded
            up to a multiple of N, at most `seq_length` (`bucketed_length`). With `N >= seq_length` there is
            one bucket, and the output is `seq_length` long (with a static shape) as with 0.

    Returns:
        dict of int32 [batch, length]: `input_word_ids`, `input_mask` (1 = real token), `input_type_ids`;
        `length` is `seq_length`, or the bucketed length when `bucket_size` > 0.
    """
    pair = segments_b is not None
    specials = 3 if pair else 2
    if not isinstance(seq_length, int) or seq_length < specials:
        raise InputError(
            f"Expected seq_length to be an integer of at least {specials} ([CLS] and {specials - 1} [SEP]). "
            f"Received: seq_length={seq_length!r}"
        )
    if isinstance(bucket_size, bool) or not isinstance(bucket_size, int) or bucket_size < 0:
        raise InputError(
            f"Expected bucket_size to be an integer >= 0 (0: pad to seq_length). Received: bucket_size={bucket_size!r}"
        )
    segments_a = _as_ragged_ids(segments_a, "segments_a")  # [batch, (a)]
    batch_size = segments_a.nrows()
    budget = seq_length - specials
    if pair:
        segments_b = _as_ragged_ids(segments_b, "segments_b")  # [batch, (b)]
        tf.debugging.assert_equal(
            batch_size, segments_b.nrows(), message="segments_a and segments_b have different batch sizes"
        )
        new_a, new_b = truncated_lengths(segments_a.row_lengths(), segments_b.row_lengths(), budget)
        segments_a = _keep_first(segments_a, new_a)  # [batch, (<= budget)]
        segments_b = _keep_first(segments_b, new_b)
    else:
        segments_a = segments_a[:, :budget]

    column = tf.ones([batch_size, 1], tf.int32)  # [batch, 1]
    word_pieces = [column * cls_id, segments_a, column * sep_id]
    type_pieces = [tf.zeros_like(column), tf.zeros_like(segments_a), tf.zeros_like(column)]
    if pair:
        word_pieces += [segments_b, column * sep_id]
        type_pieces += [tf.ones_like(segments_b), tf.ones_like(column)]
    word_ids = tf.concat(word_pieces, axis=1)  # [batch, (tokens)]
    type_ids = tf.concat(type_pieces, axis=1)  # [batch, (tokens)]
    if 0 < bucket_size < seq_length:
        lengths = tf.concat([word_ids.row_lengths(), tf.zeros([1], word_ids.row_splits.dtype)], axis=0)
        longest = tf.reduce_max(lengths)  # 0 for an empty batch
        shape = tf.stack([-1, bucketed_length(longest, bucket_size, seq_length)])  # [batch, bucket]: dynamic
    else:
        shape = [None, seq_length]
    return {
        "input_word_ids": word_ids.to_tensor(default_value=pad_id, shape=shape),
        "input_mask": tf.ones_like(word_ids).to_tensor(default_value=0, shape=shape),
        "input_type_ids": type_ids.to_tensor(default_value=0, shape=shape),
    }
