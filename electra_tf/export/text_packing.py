"""Tokenizing text that marks positions with the literal `[MASK]`, in graph, for the `fill_mask` signature.

The tokenizer's normaliser would lower-case `[MASK]` and split it at its brackets into `[`, `mask`, `]`.
So the text is first split on the literal, each piece is tokenized on its own, and the mask id is put back
between the pieces. Only the upper-case spelling is a mask; `[mask]` is ordinary text.

Example:
>>> ids = tokenize_keeping_mask_token(tokenizer, tf.constant(["the [MASK] sat"]))  # doctest: +SKIP
>>> tokenizer.id_to_token(ids).to_list()  # doctest: +SKIP
[[b'the', b'[MASK]', b'sat']]
"""

from __future__ import annotations

import tensorflow as tf

from electra_tf.export.names import MASK_TOKEN


def tokenize_keeping_mask_token(tokenizer, texts: tf.Tensor) -> tf.RaggedTensor:
    """Like `tokenizer.tokenize(texts)`, but every literal `[MASK]` becomes `tokenizer.mask_id`.

    Args:
        tokenizer: `electra_tf.Tokenizer`.
        texts: tf.Tensor. string [batch].

    Returns:
        tf.RaggedTensor. int32 [batch, (tokens)], without [CLS]/[SEP].
    """
    pieces = tf.strings.split(texts, sep=MASK_TOKEN)  # [batch, (masks + 1)]; "" before/after edge masks
    piece_ids = tokenizer.tokenize(pieces.flat_values)  # [pieces, (tokens)]
    mask_column = tf.fill([piece_ids.nrows(), 1], tf.constant(tokenizer.mask_id, tf.int32))  # [pieces, 1]
    with_mask = tf.concat([piece_ids, mask_column], axis=1)  # [pieces, (tokens + 1)]
    per_text = tf.RaggedTensor.from_row_splits(with_mask, pieces.row_splits).merge_dims(1, 2)  # [batch, (t)]
    # Each text got one mask after each piece, so one too many: after its last piece.
    return per_text[:, :-1]
