"""The generation signatures of a pretrained ELECTRA pair: `infill` and `generate` (twin: `infill_ids`).

Both run `electra_tf.generation.candidates.generate_candidates`, the graph the library's `infill` and
`generate` run, with settings fixed at export (`INFILL_SETTINGS`, `GENERATE_SETTINGS`): a `tf.while_loop`
of a static number of mask-predict passes, stateless sampling and the discriminator's rerank, all core ops.

- `infill`: input `text` (gaps marked `[MASK]`);
- `generate`: inputs `text` (a prefix) and `num_tokens` int32 [batch];
- `infill_ids`: the three id inputs, mask ids at the gaps.

Outputs of all three: `output_text` string [batch], `output_ids`, `tokens`, `generated`, `slot_probabilities`
and `input_mask` [batch, seq] of the best candidate; `candidate_texts` and `candidate_scores`
[batch, candidates], best first.

`generate` appends `num_tokens` word pieces to the prefix (keeping its end when it does not fit) and fills
them and any `[MASK]` in it; on token ids that is placing mask ids, so its twin is `infill_ids`.

Example:
>>> loaded = tf.saved_model.load("saved_models/electra/1")  # doctest: +SKIP
>>> outputs = loaded.signatures["generate"](text=tf.constant(["the cat"]), num_tokens=tf.constant([4]))  # doctest: +SKIP
>>> outputs["output_text"]  # doctest: +SKIP
<tf.Tensor: shape=(1,), dtype=string, numpy=array([b'the cat sat on the mat'], dtype=object)>
"""

from __future__ import annotations

import tensorflow as tf

from electra_tf.export import names
from electra_tf.export.registry import SignatureSpec, register_signature
from electra_tf.generation.candidates import generate_candidates
from electra_tf.generation.slots import pack_prefixes
from electra_tf.generation.text_generation import banned_ids, special_ids
from electra_tf.readable_text import readable_text

# Fixed at export: greedy infilling (deterministic), sampled generation reranked by the discriminator.
INFILL_SETTINGS = dict(iterations=4, temperature=0.0, top_k=0, candidates=1, seed=0)
GENERATE_SETTINGS = dict(iterations=4, temperature=1.0, top_k=20, candidates=4, seed=0)


def _generation_outputs(context, inputs, num_tokens, settings) -> dict[str, tf.Tensor]:
    """Runs `generate_candidates` with `settings` and lays out the signature's outputs."""
    tokenizer = context.tokenizer
    outputs = generate_candidates(
        context.model, inputs, num_tokens, candidates=settings["candidates"], iterations=settings["iterations"],
        seed=tf.constant([settings["seed"], 0], tf.int64), special_ids=special_ids(tokenizer),
        banned_ids=banned_ids(tokenizer), temperature=settings["temperature"], top_k=settings["top_k"],
    )
    real = outputs["input_mask"] > 0  # [batch, seq]
    best_ids = outputs["output_ids"][:, 0]  # [batch, seq]
    shown = real & tf.not_equal(best_ids, tokenizer.cls_id) & tf.not_equal(best_ids, tokenizer.sep_id)
    candidate_ids = outputs["output_ids"]  # [batch, candidates, seq]
    batch, candidates = tf.shape(candidate_ids)[0], tf.shape(candidate_ids)[1]
    flat_ids = tf.reshape(candidate_ids, [batch * candidates, -1])
    flat_shown = tf.repeat(shown, candidates, axis=0)
    candidate_texts = tf.reshape(readable_text(context.id_to_token(flat_ids), flat_shown), [batch, candidates])
    return {
        names.OUTPUT_TEXT: candidate_texts[:, 0],
        names.OUTPUT_IDS: tf.where(real, best_ids, 0),
        names.TOKENS: tf.where(real, context.id_to_token(best_ids), ""),
        names.GENERATED: tf.cast(outputs["slots"], tf.int32),
        names.SLOT_PROBABILITIES: outputs["slot_probabilities"][:, 0],
        names.CANDIDATE_TEXTS: candidate_texts,
        names.CANDIDATE_SCORES: outputs["scores"],
        names.INPUT_MASK: outputs["input_mask"],
    }


def infill(context, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Fills the `[MASK]`s of packed inputs (`INFILL_SETTINGS`); outputs in the module docstring."""
    num_tokens = tf.zeros([tf.shape(inputs[names.INPUT_WORD_IDS])[0]], tf.int32)
    return _generation_outputs(context, inputs, num_tokens, INFILL_SETTINGS)


def _infill_text_signature(context):
    """`infill`: `text` string [batch] in, packed as `generate` packs a prefix (the library's `infill` too)."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=names.TEXT)], autograph=False)
    def infill_text(text):
        inputs = pack_prefixes(context.tokenizer, text, context.seq_length)
        return infill(context, inputs)

    return infill_text


def _generate_text_signature(context):
    """`generate`: `text` string [batch] and `num_tokens` int32 [batch] in, outputs as `infill`."""
    input_signature = [tf.TensorSpec([None], tf.string, name=names.TEXT),
                       tf.TensorSpec([None], tf.int32, name=names.NUM_TOKENS)]

    @tf.function(input_signature=input_signature, autograph=False)
    def generate(text, num_tokens):
        inputs = pack_prefixes(context.tokenizer, text, context.seq_length)
        return _generation_outputs(context, inputs, num_tokens, GENERATE_SETTINGS)

    return generate


def _needs_generator(model) -> str | None:
    if getattr(model, "generator", None) is None or not hasattr(model, "config"):
        return "the model has no generator."
    return None


register_signature(SignatureSpec(
    names.INFILL, infill, text_signature=_infill_text_signature, unavailable_reason=_needs_generator,
    description="fills each [MASK] by iterative mask-predict (the generator; greedy)",
))
register_signature(SignatureSpec(
    names.GENERATE, infill, ids_twin=names.token_ids_twin(names.INFILL), text_signature=_generate_text_signature,
    unavailable_reason=_needs_generator,
    description="appends num_tokens word pieces to a prefix by mask-predict; samples reranked by the discriminator",
))
