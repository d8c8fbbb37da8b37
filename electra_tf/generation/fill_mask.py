"""`fill_mask`: the generator's candidates for every `[MASK]` of some texts, token by token or whole words.

Example:
>>> from electra_tf.text_model import TextModel
>>> model = TextModel.load("runs/tiny/final")  # doctest: +SKIP
>>> result = fill_mask(model, ["the cat sat on the [MASK]."], top_k=3)[0]  # doctest: +SKIP
>>> [candidate.text for candidate in result.masks[0]], result.filled_text  # doctest: +SKIP
(['mat', 'floor', 'bed'], 'the cat sat on the mat.')
"""

from __future__ import annotations

from electra_tf.errors import InputError
from electra_tf.generation.results import FillMaskResult, MaskCandidate
from electra_tf.readable_text import tokens_to_text


def top_k_function(model, top_k: int):
    """The traced `top_k_at_masks` of `model` for a static k: `inputs -> outputs` (cached on the model)."""
    import tensorflow as tf

    from electra_tf.generation.masked_lm import top_k_at_masks

    generator = model.require_generator("fill-mask")
    mask_id = model.tokenizer.mask_id

    def build():
        return tf.function(lambda inputs: top_k_at_masks(generator, inputs, mask_id, top_k), autograph=False,
                           reduce_retracing=True)

    return model.function(("top_k_at_masks", top_k), build)


def fill_mask(model, texts, top_k: int = 5, whole_word: bool = False, max_pieces: int = 3) -> list[FillMaskResult]:
    """Candidates for each `[MASK]` (the literal, upper case) of each text.

    Without `whole_word`, every mask is one WordPiece token and all masks of a text are predicted in one pass
    (exactly what the exported `fill_mask` signature computes). With `whole_word`, each mask becomes a word of
    1..`max_pieces` pieces chosen by joint probability (`whole_word.py`).

    Args:
        model: `electra_tf.text_model.TextModel`.
        texts: str or list of str, each with at least one `[MASK]`.
        top_k: int. Candidates per mask.
        whole_word: bool. Fill whole words.
        max_pieces: int. Longest word, in pieces, with `whole_word`.

    Returns:
        list of FillMaskResult, one per text.

    Raises:
        InputError: an empty text, a text without `[MASK]`, masks cut off by the sequence length, a model
            without a generator, or a bad `top_k` / `max_pieces`.
    """
    texts = model.check_texts(texts)
    model.require_generator("fill-mask")
    vocab_size = model.config.vocab_size
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= vocab_size:
        raise InputError(f"Expected top_k to be an integer in [1, {vocab_size}]. Received: top_k={top_k!r}")
    if isinstance(max_pieces, bool) or not isinstance(max_pieces, int) or not 1 <= max_pieces <= 8:
        raise InputError(f"Expected max_pieces to be an integer in [1, 8]. Received: max_pieces={max_pieces!r}")
    inputs = model.pack(texts, keep_mask_token=True)
    model.check_masks(texts, inputs)
    vocab = model.tokenizer.vocab + ["[UNK]"] * max(0, vocab_size - model.tokenizer.vocab_size)
    if whole_word:
        from electra_tf.generation.whole_word import whole_word_candidates

        masks = whole_word_candidates(model, inputs, top_k, max_pieces)
    else:
        outputs = {key: value.numpy() for key, value in top_k_function(model, top_k)(inputs).items()}
        masks = []
        for row in range(len(texts)):
            row_masks = []
            for slot, position in enumerate(outputs["mask_positions"][row]):
                if position < 0:
                    continue
                ids = outputs["top_ids"][row, slot]
                row_masks.append([
                    MaskCandidate(vocab[i], float(p), (vocab[i],), (int(i),))
                    for i, p in zip(ids, outputs["top_probabilities"][row, slot])
                ])
            masks.append(row_masks)
    word_ids = inputs["input_word_ids"].numpy()
    lengths = inputs["input_mask"].numpy().sum(axis=1)
    results = []
    for row, text in enumerate(texts):
        tokens, slot = [], 0
        for token_id in word_ids[row, : lengths[row]]:
            if token_id == model.tokenizer.mask_id:
                tokens.extend(masks[row][slot][0].pieces if masks[row][slot] else ["[MASK]"])
                slot += 1
            else:
                tokens.append(vocab[token_id])
        results.append(FillMaskResult(text, masks[row], tokens_to_text(tokens)))
    return results
