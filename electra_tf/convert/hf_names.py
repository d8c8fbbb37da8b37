"""Where each variable of our networks lives in a Hugging Face ELECTRA checkpoint.

Hugging Face names (PyTorch `nn.Linear` weights are `[out, in]`, the transpose of a Keras kernel):

    electra.embeddings.{word_embeddings,position_embeddings,token_type_embeddings}.weight
    electra.embeddings.LayerNorm.{weight,bias}
    electra.embeddings_project.{weight,bias}                       (when embedding_size != hidden_size)
    electra.encoder.layer.N.attention.self.{query,key,value}.{weight,bias}
    electra.encoder.layer.N.attention.output.dense / .LayerNorm
    electra.encoder.layer.N.intermediate.dense, .output.dense, .output.LayerNorm
    discriminator_predictions.{dense,dense_prediction}              (ElectraForPreTraining)
    generator_predictions.{dense,LayerNorm}, generator_lm_head.bias (ElectraForMaskedLM; the head's weight
                                                                     is the tied word-embedding table)

Our `SelfAttention` computes query, key and value with one fused `[hidden, 3 * hidden]` kernel whose
output axis is `[Q | K | V]`, heads contiguous within each; HF's three `[hidden, hidden]` weights are
those thirds, transposed.

Example:
>>> from electra_tf import ElectraConfig, ElectraPretrainer
>>> pretrainer = ElectraPretrainer(ElectraConfig.preset("tiny"))
>>> [b.names for b in discriminator_bindings(pretrainer.discriminator)][:1]
[('electra.embeddings.word_embeddings.weight',)]
"""

from __future__ import annotations

from electra_tf.convert.tensor_binding import same, split_along_last_axis, transposed

PREFIX = "electra."
# Buffers PyTorch saves that carry no learned value (older transformers wrote `position_ids`).
IGNORED_TENSORS = frozenset({"electra.embeddings.position_ids", "electra.embeddings.token_type_ids"})
# The generator's output weight: stored by some checkpoints, always the tied word-embedding table.
TIED_OUTPUT_WEIGHT = "generator_lm_head.weight"


def embedding_bindings(embeddings) -> list:
    """The shared `ElectraEmbeddings`: tables and LayerNorm."""
    base = PREFIX + "embeddings."
    return [
        same(embeddings.word_embeddings, base + "word_embeddings.weight"),
        same(embeddings.position_embeddings, base + "position_embeddings.weight"),
        same(embeddings.type_embeddings, base + "token_type_embeddings.weight"),
        *layer_norm_bindings(embeddings.layer_norm, base + "LayerNorm"),
    ]


def encoder_bindings(encoder) -> list:
    """An `ElectraEncoder` without its (shared) embeddings: projection and transformer blocks."""
    bindings = []
    if encoder.embedding_projection is not None:
        bindings += dense_bindings(encoder.embedding_projection, PREFIX + "embeddings_project")
    for index, block in enumerate(encoder.blocks):
        base = f"{PREFIX}encoder.layer.{index}."
        attention = block.attention.query_key_value
        qkv = tuple(f"{base}attention.self.{part}" for part in ("query", "key", "value"))
        bindings += [
            split_along_last_axis(attention.kernel, tuple(name + ".weight" for name in qkv), transposed),
            split_along_last_axis(attention.bias, tuple(name + ".bias" for name in qkv), same),
            *dense_bindings(block.attention.output_projection, base + "attention.output.dense"),
            *layer_norm_bindings(block.attention_layer_norm, base + "attention.output.LayerNorm"),
            *dense_bindings(block.intermediate, base + "intermediate.dense"),
            *dense_bindings(block.feedforward_output, base + "output.dense"),
            *layer_norm_bindings(block.feedforward_layer_norm, base + "output.LayerNorm"),
        ]
    return bindings


def discriminator_bindings(discriminator, with_embeddings=True) -> list:
    """`ElectraDiscriminator` as `ElectraForPreTraining`."""
    head = discriminator.replaced_token_head
    return [
        *(embedding_bindings(discriminator.embeddings) if with_embeddings else []),
        *encoder_bindings(discriminator.encoder),
        *dense_bindings(head.transform, "discriminator_predictions.dense"),
        *dense_bindings(head.logit, "discriminator_predictions.dense_prediction"),
    ]


def generator_bindings(generator, with_embeddings=True) -> list:
    """`ElectraGenerator` as `ElectraForMaskedLM` (the output weight is the tied word table)."""
    head = generator.masked_lm_head
    return [
        *(embedding_bindings(generator.embeddings) if with_embeddings else []),
        *encoder_bindings(generator.encoder),
        *dense_bindings(head.transform, "generator_predictions.dense"),
        *layer_norm_bindings(head.layer_norm, "generator_predictions.LayerNorm"),
        same(head.output_bias, "generator_lm_head.bias"),
    ]


def dense_bindings(dense, name: str) -> list:
    return [transposed(dense.kernel, name + ".weight"), same(dense.bias, name + ".bias")]


def layer_norm_bindings(layer_norm, name: str) -> list:
    return [same(layer_norm.gamma, name + ".weight"), same(layer_norm.beta, name + ".bias")]
