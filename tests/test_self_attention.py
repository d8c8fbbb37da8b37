"""SelfAttention against the formulation it replaced (split the fused projection, transpose each part)."""

import math

import numpy as np
import tensorflow as tf

from electra_tf.layers.self_attention import SelfAttention, attention_bias_from_mask


def _split_then_transpose_attention(layer, hidden_states, attention_bias):
    """The previous SelfAttention.call: tf.split of the fused projection, then one transpose per part."""
    batch_size, seq_length = hidden_states.shape[0], hidden_states.shape[1]
    qkv = layer.query_key_value(hidden_states)
    query, key, value = (
        tf.transpose(tf.reshape(part, [batch_size, seq_length, layer.num_heads, layer.head_size]), [0, 2, 1, 3])
        for part in tf.split(qkv, 3, axis=-1)
    )
    scores = tf.matmul(query * (1.0 / math.sqrt(layer.head_size)), key, transpose_b=True) + attention_bias
    context = tf.matmul(tf.nn.softmax(scores, axis=-1), value)
    context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch_size, seq_length, layer.hidden_size])
    return layer.output_projection(context)


def test_outputs_and_gradients_equal_the_split_formulation():
    layer = SelfAttention(hidden_size=64, num_heads=4, attention_dropout=0.0)
    hidden_states = tf.random.stateless_normal([3, 7, 64], seed=[0, 1])
    bias = attention_bias_from_mask(tf.constant([[1] * 7, [1] * 5 + [0] * 2, [1] * 2 + [0] * 5]))
    outputs, gradients = [], []
    for call in (lambda x: layer(x, bias), lambda x: _split_then_transpose_attention(layer, x, bias)):
        with tf.GradientTape() as tape:
            tape.watch(hidden_states)
            output = call(hidden_states)
            loss = tf.reduce_sum(tf.square(output))
        outputs.append(output.numpy())
        gradients.append(tape.gradient(loss, [hidden_states] + layer.trainable_variables))
    np.testing.assert_allclose(outputs[0], outputs[1], rtol=1e-6, atol=1e-7)
    for ours, reference in zip(*gradients):
        np.testing.assert_allclose(ours.numpy(), reference.numpy(), rtol=1e-5, atol=1e-7)
