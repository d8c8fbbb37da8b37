"""`infill` and `generate`: fill gaps, or continue a prefix, by iterative mask-predict; rank candidates.

Both run `candidates.generate_candidates` (the graph the `infill` / `generate` signatures export) through
a `tf.function` traced once per static setting (iterations, candidates). Results are deterministic for a
seed and a batch: the same texts in the same order with the same settings give the same output.

Example:
>>> from electra_tf.text_model import TextModel
>>> model = TextModel.load("runs/tiny/final")  # doctest: +SKIP
>>> infill(model, ["the cat [MASK] on the [MASK]."], iterations=4)[0].text  # doctest: +SKIP
'the cat sat on the mat.'
>>> generate(model, ["the cat sat"], num_tokens=6, temperature=1.0, top_k=20, candidates=4)[0].text  # doctest: +SKIP
'the cat sat on the mat by the door.'
"""

from __future__ import annotations

from electra_tf.errors import InputError
from electra_tf.generation.results import GeneratedText, Generation
from electra_tf.readable_text import tokens_to_text

DEFAULT_ITERATIONS = 4


def banned_ids(tokenizer) -> list[int]:
    """Ids never generated: `[PAD]`, `[UNK]`, `[CLS]`, `[SEP]`, `[MASK]`."""
    return [tokenizer.pad_id, tokenizer.unk_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id]


def special_ids(tokenizer) -> dict[str, int]:
    """`cls_id`, `sep_id`, `mask_id` of a tokenizer, as `generate_candidates` takes them."""
    return {"cls_id": tokenizer.cls_id, "sep_id": tokenizer.sep_id, "mask_id": tokenizer.mask_id}


def generation_function(model, iterations: int, candidates: int):
    """The traced `generate_candidates` for static `iterations` and `candidates` (cached on the model):
    `(inputs, num_tokens [batch], seed [2], temperature, top_k) -> outputs`."""
    import tensorflow as tf

    from electra_tf.generation.candidates import generate_candidates

    model.require_generator("generation")
    tokenizer = model.tokenizer

    def build():
        def run(inputs, num_tokens, seed, temperature, top_k):
            return generate_candidates(
                model.pretrainer, inputs, num_tokens, candidates=candidates, iterations=iterations, seed=seed,
                special_ids=special_ids(tokenizer), banned_ids=banned_ids(tokenizer), temperature=temperature,
                top_k=top_k,
            )

        return tf.function(run, autograph=False, reduce_retracing=True)

    return model.function(("generate_candidates", iterations, candidates), build)


def _check_settings(iterations, temperature, top_k, candidates, seed, vocab_size) -> None:
    def is_int(value):
        return isinstance(value, int) and not isinstance(value, bool)

    if not is_int(iterations) or not 1 <= iterations <= 100:
        raise InputError(f"Expected iterations to be an integer in [1, 100]. Received: iterations={iterations!r}")
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or temperature < 0:
        raise InputError(f"Expected temperature >= 0 (0 = greedy). Received: temperature={temperature!r}")
    if not is_int(top_k) or not 0 <= top_k <= vocab_size:
        raise InputError(
            f"Expected top_k to be an integer in [0, {vocab_size}] (0 = no limit). Received: top_k={top_k!r}"
        )
    if not is_int(candidates) or not 1 <= candidates <= 64:
        raise InputError(f"Expected candidates to be an integer in [1, 64]. Received: candidates={candidates!r}")
    if not is_int(seed) or not 0 <= seed < 2**31:
        raise InputError(f"Expected seed to be an integer in [0, 2**31). Received: seed={seed!r}")


def generate(
    model,
    prefixes,
    num_tokens: int,
    *,
    iterations: int = DEFAULT_ITERATIONS,
    temperature: float = 0.0,
    top_k: int = 0,
    candidates: int = 1,
    seed: int = 0,
) -> list[Generation]:
    """Appends `num_tokens` word pieces to each prefix (and fills any `[MASK]` in it) by mask-predict.

    With `candidates > 1`, each prefix is completed that many times (use `temperature > 0` so they differ) and
    the completions are ranked by the discriminator's "all original" score, best first.

    Args:
        model: `electra_tf.text_model.TextModel`.
        prefixes: str or list of str.
        num_tokens: int. Word pieces to append (0: only fill the prefix's `[MASK]`s).
        iterations: int. Mask-predict passes.
        temperature: float. 0 = greedy; otherwise sampling temperature.
        top_k: int. Sample among the k most likely tokens; 0 = no limit.
        candidates: int. Completions per prefix, reranked.
        seed: int. Sampling seed.

    Returns:
        list of Generation, one per prefix.

    Raises:
        InputError: an empty prefix, nothing to generate, more tokens than the sequence allows, bad settings,
            or a model without a generator.
    """
    import numpy as np
    import tensorflow as tf

    prefixes = model.check_texts(prefixes, what="prefix")
    model.require_generator("generate")
    _check_settings(iterations, temperature, top_k, candidates, seed, model.config.vocab_size)
    room = model.seq_length - 3  # [CLS], [SEP] and at least one prefix token
    if isinstance(num_tokens, bool) or not isinstance(num_tokens, int) or not 0 <= num_tokens <= room:
        raise InputError(
            f"Expected num_tokens to be an integer in [0, {room}] (the sequence holds {model.seq_length} tokens "
            f"with [CLS], [SEP] and the prefix). Received: num_tokens={num_tokens!r}"
        )
    from electra_tf.generation.slots import pack_prefixes

    inputs = pack_prefixes(model.tokenizer, tf.constant(prefixes, tf.string), model.seq_length)
    masks = model.check_masks(prefixes, inputs, needed=False)
    if num_tokens == 0 and min(masks) == 0:
        index = masks.index(0)
        raise InputError(f"Nothing to generate for text {index + 1}: give num_tokens > 0 or mark gaps with [MASK].")
    lengths = inputs["input_mask"].numpy().sum(axis=1)
    if num_tokens and (lengths + num_tokens > model.seq_length).any():
        # Room is made by dropping the prefix's first tokens; refuse when that would drop a [MASK].
        for row, text in enumerate(prefixes):
            dropped = int(lengths[row] + num_tokens - model.seq_length)
            if dropped > 0 and (inputs["input_word_ids"].numpy()[row, 1 : 1 + dropped] == model.tokenizer.mask_id).any():
                raise InputError(f"Text {row + 1}: its [MASK]s and {num_tokens} new tokens do not fit in "
                                 f"{model.seq_length} tokens. Expected fewer masks or tokens.")
    function = generation_function(model, iterations, candidates)
    outputs = function(
        inputs, tf.fill([len(prefixes)], num_tokens), tf.constant([seed, 0], tf.int64),
        tf.constant(float(temperature), tf.float32), tf.constant(top_k, tf.int32),
    )
    return _generations(model, prefixes, {key: value.numpy() for key, value in outputs.items()}, np)


def infill(model, texts, **settings) -> list[Generation]:
    """Fills every `[MASK]` of each text by mask-predict; settings as `generate` (without `num_tokens`).

    Raises:
        InputError: a text without `[MASK]`, masks cut off by the sequence length, or as `generate`.
    """
    from electra_tf.text_model import MASK_TOKEN

    texts = model.check_texts(texts)
    model.require_generator("infill")
    for index, text in enumerate(texts):
        if MASK_TOKEN not in text:
            raise InputError(
                f"Text {index + 1} has no {MASK_TOKEN}: {text!r:.80}. Mark each gap with {MASK_TOKEN}."
            )
    return generate(model, texts, 0, **settings)


def _generations(model, prompts, outputs, np) -> list[Generation]:
    vocab = model.tokenizer.vocab + ["[UNK]"] * max(0, model.config.vocab_size - model.tokenizer.vocab_size)
    special = {model.tokenizer.cls_id, model.tokenizer.sep_id, model.tokenizer.pad_id}
    results = []
    for row, prompt in enumerate(prompts):
        keep = outputs["input_mask"][row] > 0
        generated_texts = []
        for candidate in range(outputs["output_ids"].shape[1]):
            ids = outputs["output_ids"][row, candidate]
            positions = [p for p in np.flatnonzero(keep) if ids[p] not in special]
            tokens = [vocab[ids[p]] for p in positions]
            generated_texts.append(GeneratedText(
                text=tokens_to_text(tokens),
                score=float(outputs["scores"][row, candidate]),
                tokens=tokens,
                generated=[bool(outputs["slots"][row, p]) for p in positions],
                probabilities=[float(outputs["slot_probabilities"][row, candidate, p]) for p in positions],
            ))
        results.append(Generation(prompt, generated_texts))
    return results
