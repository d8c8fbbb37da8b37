"""Model FLOPs of an ELECTRA training step: the numerator of model-FLOPs utilisation (MFU).

Counts the multiply-adds of the matrix products (2 FLOPs each) that the algorithm needs, not what a
framework happens to execute: both encoders, the embedding projections, the discriminator head, and the
generator head at the masked positions only. Training costs three forward passes (forward, and the
gradients with respect to activations and to weights).

Example:
>>> from electra_tf.config import ElectraConfig
>>> round(training_flops_per_sequence(ElectraConfig.preset("small")) / 1e9, 2)
8.93
"""

from electra_tf.config import ElectraConfig


def encoder_flops_per_token(hidden_size, intermediate_size, num_layers, seq_length, embedding_size):
    """Forward FLOPs per token of one encoder: projection, Q/K/V/output, scores, context and FFN."""
    per_layer = 2 * (4 * hidden_size * hidden_size + 2 * hidden_size * intermediate_size)
    per_layer += 2 * 2 * seq_length * hidden_size  # Q K^T and probabilities x V
    projection = 2 * embedding_size * hidden_size if embedding_size != hidden_size else 0
    return num_layers * per_layer + projection


def forward_flops_per_sequence(config: ElectraConfig) -> int:
    """Forward FLOPs of one pretraining sequence (both networks, or the MLM model alone)."""
    seq, emb, vocab = config.seq_length, config.embedding_size, config.vocab_size
    if config.objective == "mlm":
        generator_hidden, generator_ffn = config.hidden_size, config.intermediate_size
    else:
        generator_hidden, generator_ffn = config.generator_hidden_size, config.generator_intermediate_size
    generator = seq * encoder_flops_per_token(generator_hidden, generator_ffn, config.num_layers, seq, emb)
    generator += config.max_predictions * (2 * generator_hidden * emb + 2 * emb * vocab)
    if config.objective == "mlm":
        return generator
    hidden = config.hidden_size
    discriminator = seq * encoder_flops_per_token(hidden, config.intermediate_size, config.num_layers, seq, emb)
    discriminator += seq * (2 * hidden * hidden + 2 * hidden)
    return generator + discriminator


def training_flops_per_sequence(config: ElectraConfig) -> int:
    """FLOPs of forward plus backward for one sequence (3 x forward)."""
    return 3 * forward_flops_per_sequence(config)
