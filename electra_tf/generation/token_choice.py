"""Choosing a token from generator logits: greedy, or sampling at a temperature from the top k.

Example:
>>> logits = tf.constant([[[0.0, 3.0, 1.0]]])
>>> choose_tokens(logits, seed=[0, 0], temperature=0.0, top_k=0).numpy().tolist()
[[1]]
>>> choose_tokens(logits, seed=[0, 0], temperature=1.0, top_k=1).numpy().tolist()
[[1]]
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from electra_tf.sampling import gumbel_max_sample

BANNED_LOGIT = -1e9  # added to the logits of tokens never to be generated ([PAD], [CLS], [SEP], [MASK], [UNK])


def banned_bias(vocab_size: int, banned_ids) -> tf.Tensor:
    """float32 [vocab]: BANNED_LOGIT at `banned_ids`, 0 elsewhere."""
    bias = np.zeros([vocab_size], np.float32)
    bias[[int(i) for i in banned_ids if 0 <= int(i) < vocab_size]] = BANNED_LOGIT
    return tf.constant(bias)


def choose_tokens(logits: tf.Tensor, seed, temperature=0.0, top_k=0) -> tf.Tensor:
    """One token per row of `logits`.

    Args:
        logits: tf.Tensor. float32 [..., vocab].
        seed: int [2]. Seed of the stateless Gumbel noise.
        temperature: float or scalar tensor. 0 is greedy (argmax); otherwise sample softmax(logits / T).
        top_k: int or scalar tensor. Sample among the k most likely tokens only; 0 = the whole vocabulary.

    Returns:
        tf.Tensor. int32 [...].
    """
    logits = tf.cast(logits, tf.float32)
    temperature = tf.cast(temperature, tf.float32)
    top_k = tf.cast(top_k, tf.int32)
    greedy = tf.argmax(logits, axis=-1, output_type=tf.int32)

    def keep_top_k():
        k = tf.minimum(top_k, tf.shape(logits)[-1])
        kth = tf.math.top_k(logits, k=k).values[..., -1:]  # [..., 1], the k-th largest logit
        return tf.where(logits >= kth, logits, BANNED_LOGIT)

    filtered = tf.cond(top_k > 0, keep_top_k, lambda: logits)
    sampled = gumbel_max_sample(filtered, seed, temperature=tf.maximum(temperature, 1e-6))
    return tf.where(temperature > 0.0, sampled, greedy)
