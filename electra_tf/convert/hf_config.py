"""Translation between Hugging Face `ElectraConfig` JSON and `electra_tf.ElectraConfig`.

Hugging Face describes the discriminator and the generator in two config files; `ElectraConfig` describes
the pair in one (the generator's width is `generator_hidden_fraction` of the discriminator's, its heads
one per 64 units and its feed-forward 4x wider). A generator that does not fit that shape is refused
with the field that differs, rather than loaded into a model that computes something else.

Example:
>>> hf = {"model_type": "electra", "vocab_size": 30522, "embedding_size": 128, "hidden_size": 256,
...       "num_hidden_layers": 12, "num_attention_heads": 4, "intermediate_size": 1024, "hidden_act": "gelu"}
>>> config = electra_config_from_hf(hf, dict(hf, hidden_size=64, num_attention_heads=1, intermediate_size=256))
>>> config.generator_hidden_size, config.generator_num_heads
(64, 1)
"""

from __future__ import annotations

import os

from electra_tf.config import PRESETS, ElectraConfig
from electra_tf.errors import InputError

# Hugging Face config key -> ElectraConfig field, for the values both networks share or the discriminator sets.
_SHARED_FIELDS = {
    "vocab_size": "vocab_size",
    "embedding_size": "embedding_size",
    "max_position_embeddings": "max_position_embeddings",
    "type_vocab_size": "type_vocab_size",
    "layer_norm_eps": "layer_norm_epsilon",
    "hidden_dropout_prob": "hidden_dropout",
    "attention_probs_dropout_prob": "attention_dropout",
    "initializer_range": "initializer_range",
}
_DISCRIMINATOR_FIELDS = {
    "num_hidden_layers": "num_layers",
    "hidden_size": "hidden_size",
    "num_attention_heads": "num_heads",
    "intermediate_size": "intermediate_size",
}
_REQUIRED = ("vocab_size", "embedding_size", "hidden_size", "num_hidden_layers", "num_attention_heads",
             "intermediate_size")
# Fields that only a checkpoint decides: overriding them would contradict its weights.
_ARCHITECTURE_FIELDS = frozenset(_DISCRIMINATOR_FIELDS.values()) | {
    "vocab_size", "embedding_size", "max_position_embeddings", "type_vocab_size", "layer_norm_epsilon",
}
DEFAULT_SEQ_LENGTH = 128


def electra_config_from_hf(discriminator: dict, generator: dict | None = None, special_ids: dict | None = None,
                           source: str = "config.json", **overrides) -> ElectraConfig:
    """Builds the `ElectraConfig` of a Hugging Face discriminator (and generator) config.

    Args:
        discriminator: dict. The discriminator's `config.json`.
        generator: dict or None. The generator's `config.json`; without it, the generator width is the
            paper's for a matching size (`preset` with the same layers and width) or the default 1/4.
        special_ids: dict or None. `pad_id`, `unk_id`, `cls_id`, `sep_id`, `mask_id` read from the vocabulary.
        source: str. Where `discriminator` came from, for error messages.
        **overrides: training fields to set (`seq_length`, `mask_rate`, ... and `generator_hidden_fraction`
            when there is no generator); architecture fields come from the checkpoint and are refused.

    Raises:
        InputError: the config is not an ELECTRA config this package computes exactly (activation, position
            embeddings, decoder), the generator does not fit `ElectraConfig`'s generator shape, or an
            override contradicts the checkpoint.
    """
    _check_supported(discriminator, source)
    fixed = set(overrides) & _ARCHITECTURE_FIELDS
    if generator is not None and "generator_hidden_fraction" in overrides:
        fixed.add("generator_hidden_fraction")
    if fixed:
        raise InputError(f"Cannot override {sorted(fixed)}: the checkpoint decides them ({source}).")
    values = {field: discriminator[key] for key, field in {**_SHARED_FIELDS, **_DISCRIMINATOR_FIELDS}.items()
              if key in discriminator}
    values.update(special_ids or {})
    if "pad_id" not in values and discriminator.get("pad_token_id") is not None:
        values["pad_id"] = int(discriminator["pad_token_id"])
    if generator is not None:
        _check_generator_matches(discriminator, generator)
        values["generator_hidden_fraction"] = int(generator["hidden_size"]) / int(discriminator["hidden_size"])
    else:
        values["generator_hidden_fraction"] = _paper_generator_fraction(values)
    values["seq_length"] = min(DEFAULT_SEQ_LENGTH, values.get("max_position_embeddings", 512))
    values.update(overrides)
    try:
        config = ElectraConfig.from_dict(values)
    except ValueError as error:
        raise InputError(f"{source} gives an invalid ElectraConfig: {error}") from None
    if generator is not None:
        _check_generator_shape(config, generator)
    return config


def hf_configs(config: ElectraConfig) -> tuple[dict, dict]:
    """The Hugging Face `config.json` dicts of the discriminator and the generator of `config`.

    Returns: `(discriminator, generator)`; loadable with `ElectraForPreTraining` / `ElectraForMaskedLM`.
    """
    shared = {key: getattr(config, field) for key, field in _SHARED_FIELDS.items()}
    shared.update(
        model_type="electra",
        hidden_act="gelu",
        position_embedding_type="absolute",
        pad_token_id=config.pad_id,
        tie_word_embeddings=True,
        dtype="float32",
    )
    discriminator = dict(
        shared,
        architectures=["ElectraForPreTraining"],
        num_hidden_layers=config.num_layers,
        hidden_size=config.hidden_size,
        num_attention_heads=config.num_heads,
        intermediate_size=config.intermediate_size,
    )
    generator = dict(
        shared,
        architectures=["ElectraForMaskedLM"],
        num_hidden_layers=config.num_layers,
        hidden_size=config.generator_hidden_size,
        num_attention_heads=config.generator_num_heads,
        intermediate_size=config.generator_intermediate_size,
    )
    return discriminator, generator


def special_ids_from_vocab(vocab_file, vocab_size: int) -> dict:
    """`pad_id`, `unk_id`, `cls_id`, `sep_id`, `mask_id` of a vocabulary that fits `vocab_size` embedding rows."""
    from electra_tf.tokenization import read_vocabulary

    tokens, _ = read_vocabulary(vocab_file)
    if len(tokens) > int(vocab_size):
        raise InputError(
            f"Vocabulary {os.fspath(vocab_file)!r} has {len(tokens)} tokens but the checkpoint's word embeddings "
            f"have vocab_size={vocab_size} rows. Expected the model's own vocab.txt."
        )
    ids = {token: index for index, token in enumerate(tokens)}  # a duplicate keeps its last id, as Tokenizer does
    names = (("pad_id", "[PAD]"), ("unk_id", "[UNK]"), ("cls_id", "[CLS]"), ("sep_id", "[SEP]"), ("mask_id", "[MASK]"))
    return {field: ids[token] for field, token in names}


def _check_supported(hf: dict, source: str) -> None:
    missing = [key for key in _REQUIRED if key not in hf]
    if missing:
        raise InputError(f"{source} lacks {missing}. Expected a Hugging Face ELECTRA config.json.")
    if hf.get("model_type", "electra") != "electra":
        raise InputError(f"{source} has model_type={hf['model_type']!r}. Expected 'electra'.")
    if hf.get("hidden_act", "gelu") != "gelu":
        raise InputError(
            f"{source} has hidden_act={hf['hidden_act']!r}. electra-tf computes the exact (erf) GELU of the "
            "paper and expects hidden_act='gelu'; converting would change the model's outputs."
        )
    if hf.get("position_embedding_type", "absolute") != "absolute":
        raise InputError(
            f"{source} has position_embedding_type={hf['position_embedding_type']!r}. Expected 'absolute'."
        )
    if hf.get("is_decoder", False):
        raise InputError(f"{source} has is_decoder=true (causal attention). Expected an ELECTRA encoder.")


def _check_generator_matches(discriminator: dict, generator: dict) -> None:
    """The generator must share the discriminator's embeddings and depth, and tie its output layer."""
    _check_supported(generator, "the generator's config.json")
    for key in ("vocab_size", "embedding_size", "max_position_embeddings", "type_vocab_size", "layer_norm_eps",
                "num_hidden_layers"):
        if key in discriminator and generator.get(key, discriminator[key]) != discriminator[key]:
            raise InputError(
                f"The generator's {key}={generator[key]} differs from the discriminator's {key}="
                f"{discriminator[key]}. ELECTRA's two networks share embeddings and depth."
            )
    if generator.get("tie_word_embeddings", True) is False:
        raise InputError(
            "The generator's config has tie_word_embeddings=false. ELECTRA's generator predicts with the "
            "(tied) word-embedding table; an untied output layer is not supported."
        )
    if not 0 < int(generator["hidden_size"]) <= int(discriminator["hidden_size"]):
        raise InputError(
            f"The generator's hidden_size={generator['hidden_size']} is not in (0, the discriminator's "
            f"hidden_size={discriminator['hidden_size']}]."
        )


def _check_generator_shape(config: ElectraConfig, generator: dict) -> None:
    """The generator's sizes must be the ones `config` derives (one head per 64 units, feed-forward 4x)."""
    for key, derived in (("hidden_size", config.generator_hidden_size),
                         ("num_attention_heads", config.generator_num_heads),
                         ("intermediate_size", config.generator_intermediate_size)):
        if int(generator[key]) != derived:
            raise InputError(
                f"The generator's {key}={generator[key]}; electra-tf builds a generator of hidden_size="
                f"{generator['hidden_size']} with {key}={derived} (one attention head per 64 units, at least "
                "one; feed-forward 4x hidden), so this generator cannot be represented."
            )


def _paper_generator_fraction(values: dict) -> float:
    """The paper's generator fraction for a discriminator of a preset's size, else `ElectraConfig`'s default."""
    for preset in PRESETS.values():
        if preset["num_layers"] == values.get("num_layers") and preset["hidden_size"] == values.get("hidden_size"):
            return preset["generator_hidden_fraction"]
    return ElectraConfig.generator_hidden_fraction
