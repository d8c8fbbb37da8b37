"""Iterative mask-predict: fill several slots at once, then re-mask the least confident and predict again.

Mask-Predict (Ghazvininejad et al., 2019) with ELECTRA's generator: at iteration t (0-based, T in all) every
masked slot gets a token (greedy, or sampled at a temperature from the top k) and that token's probability
as its confidence; then the `floor(n * (T - 1 - t) / T)` least confident of the row's n slots are masked again.
Slots not re-masked keep their token and confidence. The last iteration re-masks nothing. The loop is a
`tf.while_loop` with a static iteration count, so the same code runs eagerly, in `tf.function` and in an
exported SavedModel.

Example:
>>> outputs = mask_predict(pretrainer.generator, inputs, slots, iterations=4, seed=[0, 0],
...                        mask_id=103, banned_ids=[0, 100, 101, 102, 103])  # doctest: +SKIP
>>> outputs["output_ids"].shape  # doctest: +SKIP
TensorShape([1, 16])

References:
    Ghazvininejad et al., 2019. "Mask-Predict: Parallel Decoding of Conditional Masked Language Models".
"""

from __future__ import annotations

import tensorflow as tf

from electra_tf.generation.masked_lm import slot_positions
from electra_tf.generation.token_choice import banned_bias, choose_tokens


def scatter_rows(values: tf.Tensor, positions: tf.Tensor, seq_length) -> tf.Tensor:
    """Writes per-slot values into a `[batch, seq]` tensor (zeros elsewhere).

    Args:
        values: tf.Tensor. [batch, slots], int or float.
        positions: tf.Tensor. int32 [batch, slots], -1 for padding slots (ignored).
        seq_length: int or scalar tensor.

    Returns:
        tf.Tensor. [batch, seq], dtype of `values`.
    """
    placed = tf.one_hot(positions, seq_length, dtype=values.dtype)  # [batch, slots, seq]; -1 gives zeros
    return tf.reduce_sum(placed * values[:, :, tf.newaxis], axis=1)


def remask_counts(num_slots: tf.Tensor, iteration, iterations: int) -> tf.Tensor:
    """Slots to mask again after `iteration` (0-based) of `iterations`: floor(n (T - 1 - t) / T), int32 [batch]."""
    remaining = tf.cast(iterations - 1 - iteration, tf.int32)
    return (num_slots * remaining) // iterations


def mask_predict(
    generator,
    inputs: dict[str, tf.Tensor],
    slots: tf.Tensor,
    *,
    iterations: int,
    seed,
    mask_id: int,
    banned_ids=(),
    temperature=0.0,
    top_k=0,
) -> dict[str, tf.Tensor]:
    """Fills the `slots` of every row by iterative mask-predict.

    Args:
        generator: `ElectraGenerator`.
        inputs: dict of int32 [batch, seq] `input_word_ids`, `input_mask`, `input_type_ids`; ids at slots are
            ignored (masked).
        slots: tf.Tensor. bool [batch, seq], the positions to fill; other tokens never change.
        iterations: int (static). Passes of the generator (>= 1).
        seed: int [2]. Seed of the sampling noise; iteration t uses `seed + [0, t]`.
        mask_id: int. Id of `[MASK]`.
        banned_ids: ids never generated (special tokens).
        temperature: float or scalar tensor; 0 = greedy.
        top_k: int or scalar tensor; 0 = sample from the whole vocabulary.

    Returns:
        dict: `output_ids` int32 [batch, seq] (the filled sequences), `slot_probabilities` float32 [batch, seq]
        (the generator's probability of each chosen token when it was last predicted; 0 outside slots).
    """
    if isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1:
        raise ValueError(f"Expected iterations to be a positive integer. Received: iterations={iterations!r}")
    word_ids = inputs["input_word_ids"]  # [batch, seq]
    seq_length = tf.shape(word_ids)[1]
    slots = slots & (inputs["input_mask"] > 0)
    positions = slot_positions(slots)  # [batch, slots]
    valid = positions >= 0  # [batch, slots]
    gather_positions = tf.maximum(positions, 0)
    num_slots = tf.reduce_sum(tf.cast(valid, tf.int32), axis=1)  # [batch]
    bias = banned_bias(generator.config.vocab_size, banned_ids)  # [vocab]
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    fixed_ids = tf.where(slots, 0, word_ids)  # [batch, seq]

    def body(iteration, tokens, confidence, masked):
        slot_ids = tf.where(masked, mask_id, tokens)  # [batch, slots]
        current = dict(inputs)
        current["input_word_ids"] = fixed_ids + tf.where(slots, scatter_rows(slot_ids, positions, seq_length), 0)
        logits = generator(current, mask_positions=gather_positions, training=False)["mlm_logits"]
        logits = tf.cast(logits, tf.float32) + bias  # [batch, slots, vocab]
        step_seed = seed + tf.stack([tf.constant(0, tf.int64), tf.cast(iteration, tf.int64)])
        chosen = choose_tokens(logits, step_seed, temperature=temperature, top_k=top_k)  # [batch, slots]
        log_probabilities = tf.nn.log_softmax(logits, axis=-1)
        chosen_probability = tf.exp(tf.gather(log_probabilities, chosen, batch_dims=2))  # [batch, slots]
        tokens = tf.where(masked, chosen, tokens)
        confidence = tf.where(masked, chosen_probability, confidence)
        # Re-mask the least confident slots: rank each valid slot by confidence, lowest first.
        ranked = tf.where(valid, confidence, 2.0)  # padding slots rank last
        order = tf.argsort(ranked, axis=1, stable=True)  # [batch, slots]
        rank = tf.argsort(order, axis=1, stable=True)
        masked = valid & (rank < remask_counts(num_slots, iteration, iterations)[:, tf.newaxis])
        return iteration + 1, tokens, confidence, masked

    zeros = tf.zeros_like(positions)
    _, tokens, confidence, _ = tf.while_loop(
        lambda iteration, *_: iteration < iterations,
        body,
        (tf.constant(0), zeros, tf.zeros_like(positions, tf.float32), valid),
        maximum_iterations=iterations,
    )
    tokens = tf.where(valid, tokens, 0)
    return {
        "output_ids": fixed_ids + tf.where(slots, scatter_rows(tokens, positions, seq_length), 0),
        "slot_probabilities": scatter_rows(tf.where(valid, confidence, 0.0), positions, seq_length),
    }
