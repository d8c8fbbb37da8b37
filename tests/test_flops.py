"""`flops.py` against hand counts: one transformer layer term by term, the kernels of a real block, and the
whole ELECTRA step of a one-layer configuration."""

import numpy as np

from electra_tf.config import ElectraConfig
from electra_tf.flops import encoder_flops_per_token, forward_flops_per_sequence, training_flops_per_sequence


def hand_count_one_layer(hidden, intermediate, seq):
    """Forward FLOPs per token of one post-LN block, matrix products only (2 FLOPs per multiply-add)."""
    query_key_value = 3 * 2 * hidden * hidden
    attention_output = 2 * hidden * hidden
    scores = 2 * seq * hidden  # q . k for each of the seq keys
    context = 2 * seq * hidden  # sum over seq of p x v
    feedforward = 2 * hidden * intermediate + 2 * intermediate * hidden
    return query_key_value + attention_output + scores + context + feedforward


def test_one_layer_equals_the_hand_count():
    # hidden 128, FFN 512, 128 tokens: 98,304 + 32,768 + 32,768 + 32,768 + 262,144
    assert hand_count_one_layer(128, 512, 128) == 458_752
    assert encoder_flops_per_token(128, 512, num_layers=1, seq_length=128, embedding_size=128) == 458_752
    assert encoder_flops_per_token(128, 512, num_layers=3, seq_length=128, embedding_size=128) == 3 * 458_752
    # An embedding projection 64 -> 128 adds one product per token, once, not per layer.
    assert encoder_flops_per_token(128, 512, 2, 128, 64) == 2 * 458_752 + 2 * 64 * 128


def test_the_kernels_of_a_real_block_match_the_count():
    """2 x (weights of every kernel) per token, plus attention's 4 x seq x hidden, on a built discriminator."""
    from electra_tf.models.pretrainer import ElectraPretrainer

    config = ElectraConfig.preset("tiny", num_layers=1, seq_length=32)
    pretrainer = ElectraPretrainer(config, seed=0)
    pretrainer({name: np.ones((1, 32), np.int32) for name in ("input_word_ids", "input_mask", "input_type_ids")})
    kernels = [w for w in pretrainer.weights if w.path.startswith("discriminator/encoder/block_0/")
               and w.path.endswith("kernel")]
    assert len(kernels) == 4  # fused query/key/value, attention output, intermediate, feed-forward output
    per_token = 2 * sum(int(np.prod(w.shape)) for w in kernels) + 4 * config.seq_length * config.hidden_size
    assert per_token == encoder_flops_per_token(config.hidden_size, config.intermediate_size, 1, config.seq_length,
                                                config.embedding_size)


def test_a_one_layer_electra_step_by_hand():
    config = ElectraConfig.preset("tiny", num_layers=1, seq_length=128)
    h, g, e, vocab, seq = 128, 32, 128, config.vocab_size, 128
    assert (config.generator_hidden_size, config.embedding_size, config.max_predictions) == (g, e, 19)
    generator = seq * (hand_count_one_layer(g, 4 * g, seq) + 2 * e * g)  # with the projection 128 -> 32
    generator += 19 * (2 * g * e + 2 * e * vocab)  # MLM head at the 19 masked positions: transform, tied output
    discriminator = seq * hand_count_one_layer(h, 512, seq)  # no projection: embedding size = hidden size
    discriminator += seq * (2 * h * h + 2 * h)  # RTD head: dense, then one logit per token
    assert forward_flops_per_sequence(config) == generator + discriminator
    assert training_flops_per_sequence(config) == 3 * (generator + discriminator)

    mlm = config.replace(objective="mlm")  # BERT: the full-width model predicts, no discriminator
    full = seq * hand_count_one_layer(h, 512, seq) + 19 * (2 * h * e + 2 * e * vocab)
    assert forward_flops_per_sequence(mlm) == full
