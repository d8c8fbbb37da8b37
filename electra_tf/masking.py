"""Dynamic masking for masked-LM pretraining, in graph, with static shapes (XLA- and TPU-ready).

ELECTRA's rule (DESIGN.md, "Masking"): per sequence choose `max(1, min(budget, round(real_tokens * rate)))`
positions *without* replacement, never [CLS], [SEP], [PAD] or [MASK]; of the chosen positions a share
`mask_token_rate` becomes [MASK], a share `random_token_rate` a random token (0 for ELECTRA, 0.1 for the
BERT baseline), the rest keep their token. Outputs are padded to the static budget with weight 0.

References:
    Clark et al., 2020; google-research/electra `pretrain/pretrain_helpers.py` (`mask`), whose
    position sampling can pick a position twice; ours cannot.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf


@dataclasses.dataclass
class MaskedInputs:
    """What `mask_tokens` returns (all tensors have static shapes).

    Attributes:
        input_word_ids: `[batch, seq]` int32, the ids with chosen positions replaced.
        positions: `[batch, max_predictions]` int32, chosen positions; 0 where `weights` is 0.
        original_ids: `[batch, max_predictions]` int32, the tokens that were at `positions`.
        weights: `[batch, max_predictions]` float32, 1 for a real prediction and 0 for padding.
    """

    input_word_ids: tf.Tensor
    positions: tf.Tensor
    original_ids: tf.Tensor
    weights: tf.Tensor


def mask_tokens(
    input_word_ids,
    input_mask,
    *,
    seed,
    max_predictions: int,
    mask_rate: float,
    mask_id: int,
    special_ids,
    vocab_size: int,
    mask_token_rate: float = 0.85,
    random_token_rate: float = 0.0,
) -> MaskedInputs:
    """Chooses positions to predict and corrupts them.

    Args:
        input_word_ids: `[batch, seq]` int32 token ids.
        input_mask: `[batch, seq]` int, 1 for real tokens and 0 for padding.
        seed: `[2]` int seed for the stateless random ops (same seed, same masks).
        max_predictions: int. Static budget of predictions per sequence.
        mask_rate: float. Fraction of real tokens (special tokens included in the count, as in the
            original) to predict.
        mask_id: int. Id of [MASK].
        special_ids: ids that are never chosen ([PAD], [CLS], [SEP], [MASK]).
        vocab_size: int. Random replacement tokens are drawn from `[0, vocab_size)` minus `special_ids`.
        mask_token_rate: float. Share of chosen positions replaced by [MASK].
        random_token_rate: float. Share of chosen positions replaced by a random token.

    Returns: `MaskedInputs`.

    Example:
    >>> ids = tf.constant([[101, 7, 8, 9, 10, 11, 102, 0]])
    >>> out = mask_tokens(ids, tf.cast(ids > 0, tf.int32), seed=[1, 2], max_predictions=3, mask_rate=0.3,
    ...                   mask_id=103, special_ids=[0, 101, 102, 103], vocab_size=200)
    >>> int(tf.reduce_sum(out.weights))  # round(7 real tokens * 0.3) = 2
    2
    """
    input_word_ids = tf.convert_to_tensor(input_word_ids, tf.int32)
    seed = tf.cast(seed, tf.int64)
    score_seed, action_seed, random_token_seed = (
        tf.random.experimental.stateless_fold_in(seed, k) for k in range(3)
    )

    is_real = tf.cast(input_mask, tf.bool)
    is_candidate = is_real
    for special_id in special_ids:
        is_candidate &= tf.not_equal(input_word_ids, special_id)

    # How many to predict: max(1, min(budget, round(real * rate))), never more than there are candidates.
    real_tokens = tf.reduce_sum(tf.cast(is_real, tf.float32), axis=-1)  # [batch]
    num_to_predict = tf.cast(tf.round(real_tokens * mask_rate), tf.int32)
    num_to_predict = tf.clip_by_value(num_to_predict, 1, max_predictions)
    num_to_predict = tf.minimum(num_to_predict, tf.reduce_sum(tf.cast(is_candidate, tf.int32), axis=-1))

    # Sampling without replacement: top-k of uniform scores, non-candidates pushed below every candidate.
    scores = tf.random.stateless_uniform(tf.shape(input_word_ids), seed=score_seed)  # [batch, seq] in [0, 1)
    scores = tf.where(is_candidate, scores, -1.0)
    _, positions = tf.math.top_k(scores, k=max_predictions, sorted=True)  # [batch, P], distinct per row
    is_prediction = tf.range(max_predictions)[tf.newaxis, :] < num_to_predict[:, tf.newaxis]  # [batch, P]
    positions = tf.where(is_prediction, positions, 0)
    weights = tf.cast(is_prediction, tf.float32)
    original_ids = tf.gather(input_word_ids, positions, batch_dims=1)  # [batch, P]

    # What each chosen position becomes: [MASK], a random token, or itself.
    action = tf.random.stateless_uniform(tf.shape(positions), seed=action_seed)  # [batch, P]
    random_tokens = _random_non_special_tokens(tf.shape(positions), random_token_seed, vocab_size, special_ids)
    new_ids = tf.where(
        action < mask_token_rate,
        tf.fill(tf.shape(positions), tf.constant(mask_id, tf.int32)),
        tf.where(action < mask_token_rate + random_token_rate, random_tokens, original_ids),
    )
    masked_word_ids = scatter_at_positions(input_word_ids, positions, new_ids, is_prediction)
    return MaskedInputs(masked_word_ids, positions, original_ids, weights)


def scatter_at_positions(sequence_ids, positions, updates, update_mask):
    """Writes `updates` into `sequence_ids` at `positions` where `update_mask` is true.

    Args:
        sequence_ids: `[batch, seq]` int32.
        positions: `[batch, P]` int32, distinct where `update_mask` is true (padding slots may repeat).
        updates: `[batch, P]` int32 new values.
        update_mask: `[batch, P]` bool, which slots are real.

    Returns: `[batch, seq]` int32.

    Example:
    >>> scatter_at_positions(tf.constant([[5, 6, 7]]), tf.constant([[2, 0]]), tf.constant([[9, 1]]),
    ...                      tf.constant([[True, False]])).numpy().tolist()
    [[5, 6, 9]]
    """
    seq_length = tf.shape(sequence_ids)[1]
    # One-hot over the sequence: [batch, P, seq]; summing the masked one-hots marks the chosen positions.
    one_hot = tf.one_hot(positions, seq_length, dtype=tf.int32) * tf.cast(update_mask, tf.int32)[..., tf.newaxis]
    is_updated = tf.reduce_sum(one_hot, axis=1) > 0  # [batch, seq]
    scattered = tf.reduce_sum(one_hot * updates[..., tf.newaxis], axis=1)  # [batch, seq]
    return tf.where(is_updated, scattered, sequence_ids)


def _random_non_special_tokens(shape, seed, vocab_size, special_ids):
    """Uniform token ids over `[0, vocab_size)` without the special ids.

    Draws from `[0, vocab_size - len(specials))` and steps each draw over the specials in ascending
    order, a bijection onto the non-special ids.
    """
    specials = sorted(set(int(i) for i in special_ids))
    tokens = tf.random.stateless_uniform(shape, seed=seed, minval=0, maxval=vocab_size - len(specials), dtype=tf.int32)
    for special_id in specials:
        tokens += tf.cast(tokens >= special_id, tf.int32)
    return tokens
