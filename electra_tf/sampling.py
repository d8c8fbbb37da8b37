"""Sampling replacement tokens from the generator (Gumbel-max), outside the gradient."""

import tensorflow as tf


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
    logits = tf.stop_gradient(logits)
    logits = logits / tf.cast(temperature, logits.dtype)
    if disallow_ids is not None:
        logits -= tf.cast(1000.0, logits.dtype) * tf.one_hot(disallow_ids, tf.shape(logits)[-1], dtype=logits.dtype)
    uniform = tf.random.stateless_uniform(tf.shape(logits), seed=seed, dtype=tf.float32)
    gumbel = tf.cast(-tf.math.log(-tf.math.log(uniform + 1e-9) + 1e-9), logits.dtype)
    return tf.stop_gradient(tf.argmax(logits + gumbel, axis=-1, output_type=tf.int32))
