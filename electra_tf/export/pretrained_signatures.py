"""The signatures of a pretrained ELECTRA pair: replaced-token detection, fill-mask and encoding.

Each function maps packed int32 `[batch, seq]` inputs to the signature's outputs and is registered once; the
exporter derives the raw-text signature and its token-id twin from it (see `registry.py`). `fill_mask` and
`replaced_token_detection` call the same tensor functions as the library (`electra_tf.generation.masked_lm`,
`electra_tf.scoring.replaced_tokens`): one implementation, two front ends.

| signature (text / ids)                 | outputs                                                           |
|----------------------------------------|-------------------------------------------------------------------|
| `replaced_token_detection` / `_ids`    | `tokens`, `replaced_probability`, `input_mask`                    |
| `fill_mask` / `fill_mask_ids`          | `top_ids`, `top_tokens`, `top_probabilities`, `mask_positions`    |
| `encode` / `encode_ids`                | `pooled_output`, `sequence_output`, `input_mask`                  |
| `encode_pair` (twin: `encode_ids`)     | as `encode`, for `text` + `text_b` packed `[CLS] A [SEP] B [SEP]` |

Example:
>>> context = ExportContext(pretrainer, tokenizer, seq_length=16, top_k=5)  # doctest: +SKIP
>>> replaced_token_detection(context, tokenizer.pack(tokenizer(["the cat sat"]), seq_length=16))  # doctest: +SKIP
"""

from __future__ import annotations

import tensorflow as tf

from electra_tf.export import names
from electra_tf.export.registry import SignatureSpec, register_signature
from electra_tf.generation.masked_lm import top_k_at_masks
from electra_tf.scoring.replaced_tokens import replaced_probabilities


def replaced_token_detection(context, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Per token, the discriminator's probability that it was replaced.

    Returns:
        `tokens` string [batch, seq] ("" at padding), `replaced_probability` float32 [batch, seq] (0 at
        padding), `input_mask` int32 [batch, seq].
    """
    input_mask = inputs[names.INPUT_MASK]  # [batch, seq]
    real = input_mask > 0  # [batch, seq]
    return {
        names.TOKENS: tf.where(real, context.id_to_token(inputs[names.INPUT_WORD_IDS]), ""),
        names.REPLACED_PROBABILITY: replaced_probabilities(context.model.discriminator, inputs),
        names.INPUT_MASK: input_mask,
    }


def fill_mask(context, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """The generator's `top_k` tokens for every `[MASK]` (mask id at a real position), in sequence order.

    Rows with fewer masks than the batch's most are padded: `mask_positions` -1, `top_ids` 0, `top_tokens`
    "" and `top_probabilities` 0. A `[MASK]` cut off by truncation has no row.

    Returns:
        `top_ids` int32 [batch, masks, k], `top_tokens` string [batch, masks, k], `top_probabilities`
        float32 [batch, masks, k] (softmax over the vocabulary, most likely first), `mask_positions` int32
        [batch, masks].
    """
    outputs = top_k_at_masks(context.model.generator, inputs, context.tokenizer.mask_id, context.top_k)
    valid_k = outputs["mask_positions"][:, :, tf.newaxis] >= 0  # [batch, masks, 1]
    return {
        names.TOP_IDS: outputs["top_ids"],
        names.TOP_TOKENS: tf.where(valid_k, context.id_to_token(outputs["top_ids"]), ""),
        names.TOP_PROBABILITIES: outputs["top_probabilities"],
        names.MASK_POSITIONS: outputs["mask_positions"],
    }


def encode(context, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Token vectors of the kept encoder and the `[CLS]` vector as the sentence vector (no pooler).

    Returns:
        `pooled_output` float32 [batch, hidden], `sequence_output` float32 [batch, seq, hidden],
        `input_mask` int32 [batch, seq].
    """
    outputs = encoder_outputs(context.model, inputs, training=False)
    outputs[names.INPUT_MASK] = inputs[names.INPUT_MASK]
    return outputs


def encoder_outputs(model, inputs: dict[str, tf.Tensor], training: bool = False) -> dict[str, tf.Tensor]:
    """`pooled_output` [batch, hidden] and `sequence_output` [batch, seq, hidden] of `model.encoder_network`.

    This is also the `__call__` of every export, the entry point of `hub.KerasLayer` and `TFSMLayer`.
    """
    sequence_output = tf.cast(model.encoder_network.encoder(inputs, training=training), tf.float32)
    return {names.POOLED_OUTPUT: sequence_output[:, 0], names.SEQUENCE_OUTPUT: sequence_output}


def _needs_discriminator(model) -> str | None:
    if getattr(model, "discriminator", None) is None:
        return "the model has no discriminator (it was pretrained with objective='mlm')."
    return None


def _needs_generator(model) -> str | None:
    if getattr(model, "generator", None) is None:
        return "the model has no generator."
    return None


def _needs_encoder(model) -> str | None:
    if getattr(model, "encoder_network", None) is None:
        return "the model has no encoder network."
    return None


register_signature(SignatureSpec(
    names.REPLACED_TOKEN_DETECTION, replaced_token_detection, unavailable_reason=_needs_discriminator,
    description="per token, the probability that it was replaced (the discriminator)",
))
register_signature(SignatureSpec(
    names.FILL_MASK, fill_mask, keep_mask_token=True, unavailable_reason=_needs_generator,
    description="top-k tokens and probabilities for each [MASK] (the generator)",
))
register_signature(SignatureSpec(
    names.ENCODE, encode, unavailable_reason=_needs_encoder,
    description="[CLS] vector (pooled_output) and token vectors (sequence_output) of one text",
))
register_signature(SignatureSpec(
    names.ENCODE_PAIR, encode, text_inputs=(names.TEXT, names.TEXT_B), ids_twin=names.token_ids_twin(names.ENCODE),
    unavailable_reason=_needs_encoder,
    description="as encode, for two texts packed [CLS] A [SEP] B [SEP]",
))
