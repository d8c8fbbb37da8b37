"""Generation with several candidates reranked by the discriminator, in graph: the core of `generate`.

Each prefix is repeated `candidates` times, the copies are filled by `mask_predict` (they differ through the
sampling noise, so ask for a temperature > 0 with more than one candidate), and each filled text is scored
by the discriminator's mean log P(all original) (`scoring.replaced_tokens`). Candidates come back best first.
A model without a discriminator (the MLM baseline) ranks by the mean log-probability of the chosen tokens.

Example:
>>> outputs = generate_candidates(pretrainer, inputs, tf.constant([8]), candidates=4, iterations=4, seed=[0, 0],
...                               temperature=1.0, top_k=20, special_ids=special_ids)  # doctest: +SKIP
>>> outputs["output_ids"].shape  # [batch, candidates, seq]  # doctest: +SKIP
TensorShape([1, 4, 128])
"""

from __future__ import annotations

import tensorflow as tf

from electra_tf.generation.mask_predict import mask_predict
from electra_tf.generation.slots import append_slots
from electra_tf.scoring.replaced_tokens import all_original_log_probability


def generate_candidates(
    pretrainer,
    inputs: dict[str, tf.Tensor],
    num_tokens: tf.Tensor,
    *,
    candidates: int,
    iterations: int,
    seed,
    special_ids: dict[str, int],
    banned_ids=(),
    temperature=1.0,
    top_k=0,
) -> dict[str, tf.Tensor]:
    """Appends `num_tokens` slots to each packed prefix, fills them `candidates` times and ranks the results.

    Args:
        pretrainer: `ElectraPretrainer` (its `generator`, and `discriminator` when present).
        inputs: dict of int32 [batch, seq] packed `[CLS] prefix [SEP]`; `[MASK]`s in the prefix are filled too.
        num_tokens: tf.Tensor. int [batch], tokens to append (0: only fill the prefix's masks).
        candidates: int (static). Fillings per prefix.
        iterations: int (static). Mask-predict passes.
        seed: int [2]. Sampling seed.
        special_ids: dict with `cls_id`, `sep_id`, `mask_id`.
        banned_ids: ids never generated.
        temperature, top_k: as `mask_predict`.

    Returns:
        dict: `output_ids` int32 [batch, candidates, seq], `input_mask` int32 [batch, seq], `slots` bool
        [batch, seq], `slot_probabilities` float32 [batch, candidates, seq], `scores` float32
        [batch, candidates] (higher is more natural), best candidate first.
    """
    if isinstance(candidates, bool) or not isinstance(candidates, int) or candidates < 1:
        raise ValueError(f"Expected candidates to be a positive integer. Received: candidates={candidates!r}")
    cls_id, sep_id, mask_id = special_ids["cls_id"], special_ids["sep_id"], special_ids["mask_id"]
    extended, slots = append_slots(inputs, num_tokens, cls_id=cls_id, sep_id=sep_id, mask_id=mask_id)
    tiled = {key: tf.repeat(value, candidates, axis=0) for key, value in extended.items()}  # [batch * C, seq]
    filled = mask_predict(
        pretrainer.generator, tiled, tf.repeat(slots, candidates, axis=0), iterations=iterations, seed=seed,
        mask_id=mask_id, banned_ids=banned_ids, temperature=temperature, top_k=top_k,
    )
    output_ids = filled["output_ids"]  # [batch * C, seq]
    if getattr(pretrainer, "discriminator", None) is not None:
        scored = dict(tiled)
        scored["input_word_ids"] = output_ids
        scores = all_original_log_probability(pretrainer.discriminator, scored, cls_id=cls_id, sep_id=sep_id)
    else:
        tiled_slots = tf.cast(tf.repeat(slots, candidates, axis=0), tf.float32)
        log_probabilities = tf.math.log(tf.maximum(filled["slot_probabilities"], 1e-12)) * tiled_slots
        scores = tf.reduce_sum(log_probabilities, axis=1) / tf.maximum(tf.reduce_sum(tiled_slots, axis=1), 1.0)
    batch = tf.shape(slots)[0]
    seq_length = tf.shape(slots)[1]
    scores = tf.reshape(scores, [batch, candidates])  # [batch, C]
    order = tf.argsort(scores, axis=1, direction="DESCENDING", stable=True)  # [batch, C]
    output_ids = tf.gather(tf.reshape(output_ids, [batch, candidates, seq_length]), order, batch_dims=1)
    probabilities = tf.gather(
        tf.reshape(filled["slot_probabilities"], [batch, candidates, seq_length]), order, batch_dims=1
    )
    return {
        "output_ids": output_ids,
        "input_mask": extended["input_mask"],
        "slots": slots,
        "slot_probabilities": probabilities,
        "scores": tf.gather(scores, order, batch_dims=1),
    }
