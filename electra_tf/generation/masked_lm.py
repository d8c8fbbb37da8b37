"""The generator's top-k tokens at every `[MASK]`: the computation behind `fill_mask` and its signature.

Example:
>>> outputs = top_k_at_masks(pretrainer.generator, inputs, mask_id=103, k=5)  # doctest: +SKIP
>>> outputs["top_ids"].shape, outputs["mask_positions"].shape  # doctest: +SKIP
(TensorShape([2, 1, 5]), TensorShape([2, 1]))
"""

from __future__ import annotations

import tensorflow as tf


def slot_positions(slots: tf.Tensor) -> tf.Tensor:
    """Indices of the True entries of each row, in order, padded with -1.

    Args:
        slots: tf.Tensor. bool [batch, seq].

    Returns:
        tf.Tensor. int32 [batch, max slots in a row].

    Example:
    >>> slot_positions(tf.constant([[False, True, True], [True, False, False]])).numpy().tolist()
    [[1, 2], [0, -1]]
    """
    coordinates = tf.cast(tf.where(slots), tf.int32)  # [slots in batch, 2], row-major order
    return tf.RaggedTensor.from_value_rowids(
        coordinates[:, 1], coordinates[:, 0], nrows=tf.shape(slots, out_type=tf.int32)[0]
    ).to_tensor(default_value=-1)  # [batch, slots]


def mask_slots(inputs: dict[str, tf.Tensor], mask_id: int) -> tf.Tensor:
    """bool [batch, seq]: where a real token is the mask id."""
    return tf.equal(inputs["input_word_ids"], mask_id) & (inputs["input_mask"] > 0)


def top_k_at_masks(generator, inputs: dict[str, tf.Tensor], mask_id: int, k: int) -> dict[str, tf.Tensor]:
    """The generator's `k` most likely tokens for every `[MASK]` (mask id at a real position), in order.

    All masks of a row are predicted in one pass, each independently of the others' fillings (BERT's
    fill-mask). Rows with fewer masks than the batch's most are padded: position -1, id 0, probability 0.

    Args:
        generator: `ElectraGenerator` (called with `mask_positions`, so logits exist only at the masks).
        inputs: dict of int32 [batch, seq] `input_word_ids`, `input_mask`, `input_type_ids`.
        mask_id: int. Id of `[MASK]`.
        k: int. Candidates per mask.

    Returns:
        dict: `top_ids` int32 [batch, masks, k], `top_probabilities` float32 [batch, masks, k] (softmax over
        the vocabulary, most likely first), `mask_positions` int32 [batch, masks].
    """
    mask_positions = slot_positions(mask_slots(inputs, mask_id))  # [batch, masks]
    valid = mask_positions >= 0  # [batch, masks]
    mlm_logits = generator(
        inputs, mask_positions=tf.maximum(mask_positions, 0), training=False
    )["mlm_logits"]  # [batch, masks, vocab]
    probabilities = tf.nn.softmax(tf.cast(mlm_logits, tf.float32), axis=-1)
    top_probabilities, top_ids = tf.math.top_k(probabilities, k=k)  # [batch, masks, k] each
    valid_k = tf.broadcast_to(valid[:, :, tf.newaxis], tf.shape(top_ids))  # [batch, masks, k]
    return {
        "top_ids": tf.where(valid_k, top_ids, 0),
        "top_probabilities": tf.where(valid_k, top_probabilities, 0.0),
        "mask_positions": mask_positions,
    }
