"""The discriminator's verdict on text: per token P(replaced), and a sentence's "all original" log-probability.

These are the computations behind `electra_tf.scoring` and the `replaced_token_detection` signature.

`all_original_log_probability` is the mean over a text's word pieces ([CLS]/[SEP] excluded) of
log P(original) = log sigmoid(-logit): 0 for a text the discriminator finds entirely natural, more negative
the more tokens look replaced. It is a per-token mean so texts of different lengths compare.

Example:
>>> probabilities = replaced_probabilities(pretrainer.discriminator, inputs)  # doctest: +SKIP
>>> all_original_log_probability(pretrainer.discriminator, inputs, cls_id=101, sep_id=102)  # doctest: +SKIP
<tf.Tensor: shape=(2,), dtype=float32, numpy=array([-0.05, -0.61], dtype=float32)>
"""

from __future__ import annotations

import tensorflow as tf


def replaced_logits(discriminator, inputs: dict[str, tf.Tensor]) -> tf.Tensor:
    """float32 [batch, seq] replaced-token logits of the discriminator (inference mode)."""
    return tf.cast(discriminator(inputs, training=False)["rtd_logits"], tf.float32)


def replaced_probabilities(discriminator, inputs: dict[str, tf.Tensor]) -> tf.Tensor:
    """Per token, P(replaced) = sigmoid(logit); 0 at padding.

    Args:
        discriminator: `ElectraDiscriminator`.
        inputs: dict of int32 [batch, seq] `input_word_ids`, `input_mask`, `input_type_ids`.

    Returns:
        tf.Tensor. float32 [batch, seq].
    """
    probability = tf.sigmoid(replaced_logits(discriminator, inputs))
    return tf.where(inputs["input_mask"] > 0, probability, 0.0)


def scored_tokens(inputs: dict[str, tf.Tensor], cls_id: int, sep_id: int) -> tf.Tensor:
    """bool [batch, seq]: real tokens other than [CLS] and [SEP], the ones a text's score averages over."""
    word_ids = inputs["input_word_ids"]
    return (inputs["input_mask"] > 0) & tf.not_equal(word_ids, cls_id) & tf.not_equal(word_ids, sep_id)


def all_original_log_probability(discriminator, inputs: dict[str, tf.Tensor], *, cls_id: int, sep_id: int) -> tf.Tensor:
    """Mean log P(original) over each text's scored tokens (module docstring); 0 for a text with none.

    Returns:
        tf.Tensor. float32 [batch].
    """
    log_original = -tf.nn.softplus(replaced_logits(discriminator, inputs))  # log sigmoid(-logit), [batch, seq]
    weights = tf.cast(scored_tokens(inputs, cls_id, sep_id), tf.float32)
    return tf.reduce_sum(log_original * weights, axis=1) / tf.maximum(tf.reduce_sum(weights, axis=1), 1.0)
