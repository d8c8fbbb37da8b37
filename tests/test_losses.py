"""The losses: the fused masked-LM cross-entropy against TensorFlow's kernel it replaced, and both sums."""

import numpy as np
import pytest
import tensorflow as tf

from electra_tf import ElectraConfig, ElectraPretrainer, losses


def _values_and_gradients(cross_entropy, logits, labels, upstream):
    with tf.GradientTape() as tape:
        tape.watch(logits)
        values = cross_entropy(logits, labels)
        total = tf.reduce_sum(values * upstream)
    return values, tape.gradient(total, logits)


def _builtin(logits, labels):
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


@pytest.mark.parametrize("shape", [(7, 11), (3, 5, 301), (2, 4, 30522)])
def test_cross_entropy_and_gradient_equal_the_builtin(shape):
    logits = tf.random.stateless_normal(shape, seed=[1, 2]) * 4.0 + 30.0  # large logits: the max shift matters
    labels = tf.random.stateless_uniform(shape[:-1], seed=[3, 4], maxval=shape[-1], dtype=tf.int32)
    upstream = tf.random.stateless_uniform(shape[:-1], seed=[5, 6])  # per-row weights, as the masked sum has
    ours, our_gradient = _values_and_gradients(losses.sparse_softmax_cross_entropy, logits, labels, upstream)
    reference, reference_gradient = _values_and_gradients(_builtin, logits, labels, upstream)
    np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-5)
    np.testing.assert_allclose(our_gradient, reference_gradient, rtol=1e-5, atol=1e-7)
    # The gradient rows sum to zero (softmax minus one-hot), whatever the upstream weight.
    np.testing.assert_allclose(tf.reduce_sum(our_gradient, axis=-1), 0.0, atol=1e-6)


def test_cross_entropy_rejects_a_label_outside_the_classes():
    with pytest.raises(tf.errors.InvalidArgumentError):
        losses.sparse_softmax_cross_entropy(tf.zeros([2, 5]), tf.constant([1, 5]))


def test_masked_lm_loss_sum_weights_out_padding():
    logits = tf.math.log(tf.constant([[[0.25, 0.75], [0.5, 0.5]]]))
    loss = losses.masked_lm_loss_sum(logits, tf.constant([[1, 0]]), tf.constant([[1.0, 0.0]]))
    np.testing.assert_allclose(loss, -np.log(0.75), rtol=1e-6)


def _losses_and_gradients(pretrainer, batch):
    with tf.GradientTape() as tape:
        outputs = pretrainer.pretraining_outputs(batch, seed=[5, 6])  # masks and samples from the seed
        loss = outputs["mlm_loss"] + 50.0 * outputs["rtd_loss"]
    return outputs, tape.gradient(loss, pretrainer.trainable_variables)


def test_pretraining_losses_and_gradients_equal_the_builtin_cross_entropy(monkeypatch):
    config = ElectraConfig.preset("tiny", vocab_size=300, seq_length=16, max_position_embeddings=16, num_layers=2,
                                  hidden_size=32, num_heads=2, intermediate_size=64, embedding_size=16)
    pretrainer = ElectraPretrainer(config, seed=3)
    ids = tf.random.stateless_uniform([4, 16], [2, 3], minval=5, maxval=300, dtype=tf.int32)
    batch = {"input_word_ids": ids, "input_mask": tf.ones_like(ids), "input_type_ids": tf.zeros_like(ids)}
    ours, our_gradients = _losses_and_gradients(pretrainer, batch)
    monkeypatch.setattr(losses, "sparse_softmax_cross_entropy", _builtin)
    reference, reference_gradients = _losses_and_gradients(pretrainer, batch)
    for key in ("mlm_loss", "rtd_loss"):
        np.testing.assert_allclose(ours[key], reference[key], rtol=1e-6, err_msg=key)
    for variable, gradient, reference_gradient in zip(pretrainer.trainable_variables, our_gradients,
                                                      reference_gradients):
        np.testing.assert_allclose(tf.convert_to_tensor(gradient), tf.convert_to_tensor(reference_gradient),
                                   rtol=1e-5, atol=1e-7, err_msg=variable.path)
