"""Making room to generate: `[CLS] prefix [SEP]` becomes `[CLS] prefix [MASK] x n [SEP]`, in graph.

When prefix and slots do not fit, the prefix loses tokens from its start (generation continues the end of
a text). `[MASK]`s already in the prefix stay slots too, so one call both infills and extends.

Example:
>>> inputs = {"input_word_ids": tf.constant([[2, 7, 8, 3, 0, 0]]), "input_mask": tf.constant([[1, 1, 1, 1, 0, 0]]),
...           "input_type_ids": tf.zeros([1, 6], tf.int32)}
>>> extended, slots = append_slots(inputs, tf.constant([2]), cls_id=2, sep_id=3, mask_id=4)
>>> extended["input_word_ids"].numpy().tolist(), slots.numpy().astype(int).tolist()
([[2, 7, 8, 4, 4, 3]], [[0, 0, 0, 1, 1, 0]])
"""

from __future__ import annotations

import tensorflow as tf


def append_slots(
    inputs: dict[str, tf.Tensor], num_tokens: tf.Tensor, *, cls_id: int, sep_id: int, mask_id: int
) -> tuple[dict[str, tf.Tensor], tf.Tensor]:
    """Appends `num_tokens[i]` masks before the final `[SEP]` of single-segment row i.

    Args:
        inputs: dict of int32 [batch, seq] packed `[CLS] prefix [SEP]` inputs.
        num_tokens: tf.Tensor. int [batch], slots to append (clipped to `seq - 2`).
        cls_id, sep_id, mask_id: ints. Special token ids.

    Returns:
        (inputs of the same [batch, seq] shape, slots bool [batch, seq]: appended masks and masks already in
        the prefix).
    """
    word_ids = inputs["input_word_ids"]  # [batch, seq]
    seq_length = tf.shape(word_ids)[1]
    lengths = tf.reduce_sum(tf.cast(inputs["input_mask"] > 0, tf.int32), axis=1)  # [batch], with [CLS] [SEP]
    prefix_lengths = tf.maximum(lengths - 2, 0)
    num_tokens = tf.clip_by_value(tf.cast(tf.reshape(num_tokens, [-1]), tf.int32), 0, seq_length - 2)
    kept = tf.minimum(prefix_lengths, seq_length - 2 - num_tokens)  # [batch], prefix tokens that fit
    positions = tf.range(seq_length)[tf.newaxis, :]  # [1, seq]
    # Row layout after the change: [CLS], the last `kept` prefix tokens, num_tokens masks, [SEP], padding.
    source = positions + (prefix_lengths - kept)[:, tf.newaxis]  # prefix token read at each output position
    prefix_ids = tf.gather(word_ids, tf.minimum(source, seq_length - 1), batch_dims=1)  # [batch, seq]
    in_prefix = (positions >= 1) & (positions <= kept[:, tf.newaxis])
    end_of_slots = (kept + num_tokens)[:, tf.newaxis]
    appended = (positions > kept[:, tf.newaxis]) & (positions <= end_of_slots)
    new_ids = tf.where(positions == 0, cls_id, 0)
    new_ids = tf.where(in_prefix, prefix_ids, new_ids)
    new_ids = tf.where(appended, mask_id, new_ids)
    new_ids = tf.where(positions == end_of_slots + 1, sep_id, new_ids)
    real = positions <= end_of_slots + 1
    extended = {
        "input_word_ids": new_ids,
        "input_mask": tf.cast(real, tf.int32),
        "input_type_ids": tf.zeros_like(new_ids),
    }
    slots = appended | (in_prefix & tf.equal(prefix_ids, mask_id))
    return extended, slots


def pack_prefixes(tokenizer, texts: tf.Tensor, seq_length: int) -> dict[str, tf.Tensor]:
    """Packs prefixes as `[CLS] prefix [SEP]` to `seq_length`, keeping the literal `[MASK]` as the mask id and,
    for a prefix too long to fit, its last tokens (generation continues the end of a text).

    Args:
        tokenizer: `electra_tf.Tokenizer`.
        texts: tf.Tensor. string [batch].
        seq_length: int. Length of the packed rows.

    Returns:
        dict of int32 [batch, seq_length] `input_word_ids`, `input_mask`, `input_type_ids`.
    """
    from electra_tf.export.text_packing import tokenize_keeping_mask_token

    segments = tokenize_keeping_mask_token(tokenizer, texts)  # [batch, (tokens)]
    return tokenizer.pack(segments[:, -(seq_length - 2):], seq_length=seq_length)
