"""`from_keras_hub` / `to_keras_hub`: keras-hub `ElectraBackbone` weights to and from an `ElectraPretrainer`.

A keras-hub `ElectraBackbone` is an encoder without heads, plus a `pooled_dense` layer ELECTRA does not
have. Converting one gives a pretrainer whose discriminator encoder (and, with `generator_backbone`, the
generator encoder) carries its weights; the heads that keras-hub lacks (the replaced-token head, the
generator's masked-LM head) are freshly initialised, and the pooler is dropped. The reverse builds a
backbone whose `pooled_dense` is freshly initialised.

One difference in computation, not in weights: keras-hub's `ElectraBackbone` uses the tanh approximation
of GELU, while ELECTRA (and Hugging Face, and this package) use the exact erf form. The converted model
therefore computes what the original ELECTRA and Hugging Face compute, and keras-hub's outputs to within the
approximation (at most 4.7e-4 per activation; 1.4e-5 on the sequence output of the tests' random backbone).

Example:
>>> import keras_hub  # doctest: +SKIP
>>> backbone = keras_hub.models.ElectraBackbone.from_preset("electra_small_discriminator_uncased_en")  # doctest: +SKIP
>>> pretrainer = from_keras_hub(backbone, vocab_file="vocab.txt")  # doctest: +SKIP
>>> to_keras_hub(pretrainer).count_params() == backbone.count_params()  # doctest: +SKIP
True
"""

from __future__ import annotations

from electra_tf.convert.hf_config import electra_config_from_hf, special_ids_from_vocab
from electra_tf.convert.tensor_binding import (
    check_bindings, export_bindings, load_bindings, reshaped, same, split_along_last_axis, warn_if_different,
)
from electra_tf.errors import InputError
from electra_tf.models.pretrainer import ElectraPretrainer

POOLER_PREFIX = "pooled_dense/"


def from_keras_hub(backbone, generator_backbone=None, *, vocab_file=None, **config_overrides):
    """Builds an `ElectraPretrainer` whose encoders carry a keras-hub `ElectraBackbone`'s weights.

    Args:
        backbone: `keras_hub.models.ElectraBackbone`. The discriminator's encoder.
        generator_backbone: optional `ElectraBackbone`. The generator's encoder (keras-hub's
            `electra_*_generator_*` presets); its embeddings must equal the discriminator's to be ELECTRA's.
        vocab_file: path or None. Vocabulary to read the special-token ids from (keras-hub presets keep it
            in `assets/tokenizer/vocabulary.txt`); BERT's ids without it.
        **config_overrides: training fields of `ElectraConfig` (`seq_length`, `mask_rate`, ...).

    Returns: `ElectraPretrainer`; the replaced-token head and the generator's masked-LM head are new.
    """
    discriminator_config = _as_hf_config(backbone)
    generator_config = _as_hf_config(generator_backbone) if generator_backbone is not None else None
    special_ids = special_ids_from_vocab(vocab_file, backbone.vocab_size) if vocab_file is not None else None
    config = electra_config_from_hf(
        discriminator_config, generator_config, special_ids, source="keras-hub ElectraBackbone", **config_overrides
    )
    pretrainer = ElectraPretrainer(config)
    discriminator = pretrainer.discriminator
    load_bindings(
        embedding_bindings(discriminator.embeddings) + encoder_bindings(discriminator.encoder), _weights(backbone),
        "backbone",
    )
    if generator_backbone is not None:
        tensors = _weights(generator_backbone)
        load_bindings(encoder_bindings(pretrainer.generator.encoder), tensors, "generator_backbone")
        embeddings = embedding_bindings(pretrainer.embeddings)
        check_bindings(embeddings, tensors, "generator_backbone")
        warn_if_different(
            embeddings, tensors, "generator_backbone",
            "differs from the discriminator backbone's; ELECTRA shares the embeddings, so the discriminator's "
            "are used for both",
        )
    return pretrainer


def to_keras_hub(pretrainer, network="discriminator"):
    """A keras-hub `ElectraBackbone` with the weights of the pretrainer's discriminator (or generator) encoder.

    Args:
        pretrainer: `ElectraPretrainer`.
        network: "discriminator" or "generator".

    Returns: `keras_hub.models.ElectraBackbone`; its `pooled_dense` is freshly initialised.
    """
    import keras_hub  # imported on use: it takes seconds, and only this function needs it

    if network not in ("discriminator", "generator"):
        raise InputError(f"Expected network='discriminator' or 'generator'. Received: network={network!r}")
    model = getattr(pretrainer, network)
    if model is None:
        raise InputError(f"This pretrainer (objective={pretrainer.config.objective!r}) has no {network}.")
    encoder, config = model.encoder, pretrainer.config
    backbone = keras_hub.models.ElectraBackbone(
        vocab_size=config.vocab_size,
        num_layers=encoder.num_layers,
        num_heads=encoder.num_heads,
        hidden_dim=encoder.hidden_size,
        embedding_dim=config.embedding_size,
        intermediate_dim=encoder.intermediate_size,
        dropout=config.hidden_dropout,
        max_sequence_length=config.max_position_embeddings,
        num_segments=config.type_vocab_size,
    )
    tensors = export_bindings(embedding_bindings(encoder.embeddings) + encoder_bindings(encoder))
    variables = {variable.path: variable for variable in backbone.weights}
    unmatched = sorted(set(variables) - set(tensors) - {p for p in variables if p.startswith(POOLER_PREFIX)})
    if unmatched:
        raise InputError(f"keras-hub ElectraBackbone has weights this converter does not fill: {unmatched[:5]}")
    check_bindings([same(variables[path], path) for path in tensors], tensors, "to_keras_hub")
    for path, array in tensors.items():
        variables[path].assign(array)
    return backbone


def embedding_bindings(embeddings) -> list:
    """The shared `ElectraEmbeddings` under keras-hub `ElectraBackbone` weight paths."""
    return [
        same(embeddings.word_embeddings, "token_embedding/embeddings"),
        same(embeddings.position_embeddings, "position_embedding/embeddings"),
        same(embeddings.type_embeddings, "segment_embedding/embeddings"),
        *_layer_norm(embeddings.layer_norm, "embeddings_layer_norm"),
    ]


def encoder_bindings(encoder) -> list:
    """`ElectraEncoder` variables but the embeddings, under keras-hub weight paths (per-head attention kernels)."""
    bindings = []
    if encoder.embedding_projection is not None:
        bindings += _dense(encoder.embedding_projection, "embeddings_projection")
    hidden, heads = encoder.hidden_size, encoder.num_heads
    head_size = hidden // heads
    for index, block in enumerate(encoder.blocks):
        base = f"transformer_layer_{index}/"
        attention = base + "self_attention_layer/"
        qkv = block.attention.query_key_value
        parts = tuple(attention + part for part in ("query", "key", "value"))
        bindings += [
            split_along_last_axis(
                qkv.kernel, tuple(p + "/kernel" for p in parts),
                lambda variable, name: reshaped(variable, name, (hidden, heads, head_size)),
            ),
            split_along_last_axis(
                qkv.bias, tuple(p + "/bias" for p in parts),
                lambda variable, name: reshaped(variable, name, (heads, head_size)),
            ),
            reshaped(block.attention.output_projection.kernel, attention + "attention_output/kernel",
                     (heads, head_size, hidden)),
            same(block.attention.output_projection.bias, attention + "attention_output/bias"),
            *_layer_norm(block.attention_layer_norm, base + "self_attention_layer_norm"),
            *_dense(block.intermediate, base + "feedforward_intermediate_dense"),
            *_dense(block.feedforward_output, base + "feedforward_output_dense"),
            *_layer_norm(block.feedforward_layer_norm, base + "feedforward_layer_norm"),
        ]
    return bindings


def _as_hf_config(backbone) -> dict:
    """A keras-hub backbone's sizes in Hugging Face config keys, to share `electra_config_from_hf`'s checks."""
    if type(backbone).__name__ != "ElectraBackbone":
        raise InputError(f"Expected a keras_hub.models.ElectraBackbone. Received: {type(backbone).__name__}")
    return {
        "vocab_size": backbone.vocab_size,
        "embedding_size": backbone.embedding_dim,
        "hidden_size": backbone.hidden_dim,
        "num_hidden_layers": backbone.num_layers,
        "num_attention_heads": backbone.num_heads,
        "intermediate_size": backbone.intermediate_dim,
        "max_position_embeddings": backbone.max_sequence_length,
        "type_vocab_size": backbone.num_segments,
        "hidden_dropout_prob": backbone.dropout,
        "attention_probs_dropout_prob": backbone.dropout,
        "layer_norm_eps": 1e-12,  # fixed in keras-hub's ElectraBackbone
    }


def _weights(backbone) -> dict:
    return {variable.path: variable.numpy() for variable in backbone.weights}


def _dense(dense, path: str) -> list:
    return [same(dense.kernel, path + "/kernel"), same(dense.bias, path + "/bias")]


def _layer_norm(layer_norm, path: str) -> list:
    return [same(layer_norm.gamma, path + "/gamma"), same(layer_norm.beta, path + "/beta")]
