"""Whole-word filling: each `[MASK]` may become a word of several WordPiece pieces, chosen by joint score.

For each slot and each word length n = 1..max_pieces, the slot is widened to n masks and filled left to
right by beam search: the first piece must start a word (no `##`), the following ones must continue it
(`##`), and each piece is predicted by the generator given the pieces before it (the other pieces still
masked). A word's score is the sum of its pieces' log-probabilities (the chain rule, with the generator's
conditionals), so candidates of different lengths compare on their joint probability. Other `[MASK]`s of
the text stay masked while one slot is filled. Every step is one batched generator call for all slots, beams
and texts.

Example:
>>> candidates = whole_word_candidates(model, inputs, top_k=3, max_pieces=3)  # doctest: +SKIP
>>> [c.text for c in candidates[0][0]]  # doctest: +SKIP
['unable', 'able', 'going']
"""

from __future__ import annotations

import numpy as np

from electra_tf.generation.results import MaskCandidate
from electra_tf.readable_text import SUFFIX_INDICATOR


def _piece_biases(model) -> tuple[np.ndarray, np.ndarray]:
    """float32 [vocab] biases (0 or -inf) for a word's first piece and for its continuation pieces."""
    vocab = model.tokenizer.vocab + ["[UNK]"] * max(0, model.config.vocab_size - model.tokenizer.vocab_size)
    continuation = np.array([token.startswith(SUFFIX_INDICATOR) for token in vocab])
    special = np.array([token.startswith("[") and token.endswith("]") and len(token) > 2 for token in vocab])
    first = np.where(continuation | special, -np.inf, 0.0).astype(np.float32)
    following = np.where(continuation & ~special, 0.0, -np.inf).astype(np.float32)
    return first, following


def _log_probabilities_function(model):
    import tensorflow as tf

    generator = model.require_generator("fill-mask")

    @tf.function(autograph=False, reduce_retracing=True)
    def log_probabilities(word_ids, input_mask, positions):  # [N, L] x2, [N, 1] -> [N, vocab]
        inputs = {"input_word_ids": word_ids, "input_mask": input_mask, "input_type_ids": tf.zeros_like(word_ids)}
        logits = generator(inputs, mask_positions=positions, training=False)["mlm_logits"]  # [N, 1, vocab]
        return tf.nn.log_softmax(tf.cast(logits[:, 0], tf.float32), axis=-1)

    return log_probabilities


def whole_word_candidates(model, inputs: dict, top_k: int, max_pieces: int = 3) -> list[list[list[MaskCandidate]]]:
    """Whole-word candidates for every `[MASK]` of packed inputs.

    Args:
        model: `electra_tf.text_model.TextModel`.
        inputs: dict of int32 [batch, seq] tensors, `[MASK]` at the slots.
        top_k: int. Candidates per slot (also the beam width).
        max_pieces: int. Longest word, in pieces.

    Returns:
        Per text, per `[MASK]` in order, up to `top_k` `MaskCandidate`s, highest joint probability first.
    """
    log_probabilities = model.function("whole_word_log_probabilities", lambda: _log_probabilities_function(model))
    first_bias, following_bias = _piece_biases(model)
    word_ids = inputs["input_word_ids"].numpy()
    lengths = inputs["input_mask"].numpy().sum(axis=1)
    seq_length = word_ids.shape[1]
    mask_id = model.tokenizer.mask_id
    vocab = model.tokenizer.vocab
    slots = [(row, int(position)) for row in range(len(word_ids))
             for position in np.flatnonzero(word_ids[row, : lengths[row]] == mask_id)]
    found: dict[tuple[int, int], dict[str, tuple[float, tuple[int, ...]]]] = {slot: {} for slot in slots}
    for pieces in range(1, max_pieces + 1):
        # Jobs: slots whose widened row still fits. Each keeps a beam of (piece ids, summed log-probability).
        jobs = [slot for slot in slots if lengths[slot[0]] + pieces - 1 <= seq_length]
        beams = {slot: [((), 0.0)] for slot in jobs}
        for step in range(pieces):
            rows, masks, positions, owners = [], [], [], []
            for row, position in jobs:
                base = list(word_ids[row, : lengths[row]])
                widened = base[:position] + [mask_id] * pieces + base[position + 1 :]
                for hypothesis, _ in beams[(row, position)]:
                    ids = widened[:position] + list(hypothesis) + widened[position + len(hypothesis) :]
                    rows.append(ids + [0] * (seq_length - len(ids)))
                    masks.append([1] * len(ids) + [0] * (seq_length - len(ids)))
                    positions.append([position + step])
                    owners.append(((row, position), hypothesis))
            if not rows:
                break
            scores = log_probabilities(np.array(rows, np.int32), np.array(masks, np.int32),
                                       np.array(positions, np.int32)).numpy()
            scores += first_bias if step == 0 else following_bias
            expanded: dict[tuple[int, int], list] = {slot: [] for slot in jobs}
            for (slot, hypothesis), row_scores in zip(owners, scores):
                previous = dict(beams[slot])[hypothesis]
                if top_k < len(row_scores):
                    best = np.argpartition(-row_scores, top_k - 1)[:top_k]
                else:
                    best = range(len(row_scores))
                for token in best:
                    if np.isfinite(row_scores[token]):
                        expanded[slot].append((hypothesis + (int(token),), previous + float(row_scores[token])))
            beams = {slot: sorted(expanded[slot], key=lambda item: -item[1])[:top_k] for slot in jobs}
        for slot in jobs:
            for hypothesis, score in beams[slot]:
                if len(hypothesis) != pieces:
                    continue
                word = "".join(vocab[i] if n == 0 else vocab[i][len(SUFFIX_INDICATOR):]
                               for n, i in enumerate(hypothesis))
                if word not in found[slot] or found[slot][word][0] < score:
                    found[slot][word] = (score, hypothesis)
    results = [[] for _ in range(len(word_ids))]
    for slot in slots:
        ranked = sorted(found[slot].items(), key=lambda item: -item[1][0])[:top_k]
        results[slot[0]].append([
            MaskCandidate(word, float(np.exp(score)), tuple(vocab[i] for i in ids), tuple(ids))
            for word, (score, ids) in ranked
        ])
    return results
