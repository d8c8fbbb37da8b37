"""Sampling replacement tokens from the generator, outside the gradient.

`categorical_sample` (one uniform number per row, inverse CDF) is what pretraining uses; `gumbel_max_sample`
(one uniform number per vocabulary entry, the reference's trick) draws from the same distribution; generation
keeps it, so its outputs for a given seed are unchanged.
"""

import tensorflow as tf


def _tempered_logits(logits, temperature, disallow_ids):
    """`logits / temperature` without gradient, the `disallow_ids` of each row lowered by 1000 (the reference's)."""
    logits = tf.stop_gradient(logits)
    logits = logits / tf.cast(temperature, logits.dtype)
    if disallow_ids is not None:
        logits -= tf.cast(1000.0, logits.dtype) * tf.one_hot(disallow_ids, tf.shape(logits)[-1], dtype=logits.dtype)
    return logits


def gumbel_max_sample(logits, seed, temperature: float = 1.0, disallow_ids=None):
    """Draws one token per row from softmax(logits / temperature) with the Gumbel-max trick.

    The noise is drawn in float32 and cast to the logits' dtype, as the original does, and the result
    carries no gradient: ELECTRA's discriminator loss never reaches the generator through the sample.

    Args:
        logits: `[..., vocab]` float logits.
        seed: `[2]` int seed for the stateless uniform noise.
        temperature: float. Softmax temperature (1.0 in ELECTRA).
        disallow_ids: optional `[...]` int32 ids to exclude per row (ELECTRA's `disallow_correct`, which
            subtracts 1000 from the original token's logit).

    Returns: `[...]` int32 sampled ids.

    Example:
    >>> logits = tf.constant([[0.0, 50.0, 0.0]])
    >>> gumbel_max_sample(logits, seed=[0, 1]).numpy().tolist()
    [1]
    """
    logits = _tempered_logits(logits, temperature, disallow_ids)
    uniform = tf.random.stateless_uniform(tf.shape(logits), seed=seed, dtype=tf.float32)
    gumbel = tf.cast(-tf.math.log(-tf.math.log(uniform + 1e-9) + 1e-9), logits.dtype)
    return tf.stop_gradient(tf.argmax(logits + gumbel, axis=-1, output_type=tf.int32))


def categorical_sample(logits, seed, temperature: float = 1.0, disallow_ids=None):
    """Draws one token per row from softmax(logits / temperature) by inverting its CDF at one uniform number.

    The same distribution as `gumbel_max_sample` (ELECTRA's Gumbel-max trick), from one random number per row
    instead of one per vocabulary entry: for ELECTRA-Small's 32 x 19 masked positions that is 608 uniform
    numbers instead of 18.6 million, and no logarithms over the `[positions, vocab]` logits. The sample
    stream differs from Gumbel-max for the same seed. The CDF is accumulated by `tf.random.stateless_categorical`
    after subtracting each row's maximum, so logits of any dtype and any temperature stay finite.

    Args:
        logits: `[..., vocab]` float logits.
        seed: `[2]` int seed.
        temperature: float or scalar tensor. Softmax temperature (1.0 in ELECTRA).
        disallow_ids: optional `[...]` int32 ids to exclude per row (ELECTRA's `disallow_correct`, which
            subtracts 1000 from the original token's logit).

    Returns: `[...]` int32 sampled ids.

    Example:
    >>> logits = tf.constant([[0.0, 50.0, 0.0]])
    >>> categorical_sample(logits, seed=[0, 1]).numpy().tolist()
    [1]
    """
    logits = _tempered_logits(logits, temperature, disallow_ids)
    vocab_size = tf.shape(logits)[-1]
    rows = tf.reshape(logits, [-1, vocab_size])  # [rows, vocab]
    sampled = tf.random.stateless_categorical(rows, 1, seed=seed, dtype=tf.int32)[:, 0]  # [rows]
    # A row with a NaN or infinite logit draws `vocab_size` (out of range); keep ids valid so a diverged step
    # reaches the loss check instead of failing in the embedding lookup.
    sampled = tf.minimum(sampled, vocab_size - 1)
    return tf.stop_gradient(tf.reshape(sampled, tf.shape(logits)[:-1]))
