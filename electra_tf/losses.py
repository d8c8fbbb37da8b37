"""ELECTRA's two losses, computed in float32 whatever the precision policy.

Both are sums divided by a denominator that the caller chooses: the local count for a single device, or
the count over the whole global batch under `tf.distribute` (see `ElectraPretrainer`), so that the loss
is an average over the global batch rather than an average of per-replica averages.
"""

import tensorflow as tf


def masked_lm_loss_sum(logits, original_ids, weights):
    """Sum of weighted cross-entropies at the masked positions.

    Args:
        logits: `[batch, P, vocab]` generator logits at the masked positions.
        original_ids: `[batch, P]` int32 true tokens.
        weights: `[batch, P]` float, 1 for real predictions and 0 for padding.

    Returns: scalar float32 sum; divide by `sum(weights)` for the mean.

    Example:
    >>> logits = tf.math.log(tf.constant([[[0.5, 0.5]]]))
    >>> round(float(masked_lm_loss_sum(logits, tf.constant([[0]]), tf.constant([[1.0]]))), 4)
    0.6931
    """
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=original_ids, logits=tf.cast(logits, tf.float32))
    return tf.reduce_sum(losses * tf.cast(weights, tf.float32))


def replaced_token_loss_sum(logits, labels, input_mask):
    """Sum of sigmoid cross-entropies over every non-padding token.

    Args:
        logits: `[batch, seq]` discriminator logits (positive = replaced).
        labels: `[batch, seq]` 1 where the token was replaced, else 0.
        input_mask: `[batch, seq]` 1 for real tokens.

    Returns: scalar float32 sum; divide by `sum(input_mask)` for the mean.

    Example:
    >>> round(float(replaced_token_loss_sum(tf.zeros((1, 2)), tf.constant([[1, 0]]), tf.constant([[1, 1]]))), 4)
    1.3863
    """
    losses = tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.cast(labels, tf.float32), logits=tf.cast(logits, tf.float32)
    )
    return tf.reduce_sum(losses * tf.cast(input_mask, tf.float32))
