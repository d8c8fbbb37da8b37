"""Scoring text with the discriminator: which tokens look replaced, how natural a sentence is, reranking.

ELECTRA's discriminator was trained to tell, for every token, whether the generator replaced it. On any text
that makes it a detector of words that do not belong (typos, wrong words, agreement errors, to the extent a
model saw such contexts) and its mean log P(original) a sentence naturalness score for reranking n-best
lists (ASR, MT, spelling candidates).

Example:
>>> from electra_tf.text_model import TextModel
>>> model = TextModel.load("runs/tiny/final")  # doctest: +SKIP
>>> [w.word for w in score(model, ["the cat sat on teh mat."], threshold=0.5)[0].suspects]  # doctest: +SKIP
['teh']
>>> [r.text for r in rerank(model, ["cat the sat mat", "the cat sat on the mat"])]  # doctest: +SKIP
['the cat sat on the mat', 'cat the sat mat']
"""

from __future__ import annotations

from electra_tf.errors import InputError
from electra_tf.readable_text import group_words
from electra_tf.scoring.results import RankedText, TextScore, WordScore

DEFAULT_THRESHOLD = 0.5


def scoring_function(model):
    """The traced discriminator pass (cached on the model): `inputs -> {replaced_probability, naturalness}`."""
    import tensorflow as tf

    from electra_tf.scoring.replaced_tokens import all_original_log_probability, replaced_probabilities

    discriminator = model.require_discriminator("scoring")
    cls_id, sep_id = model.tokenizer.cls_id, model.tokenizer.sep_id

    def build():
        def run(inputs):
            return {
                "replaced_probability": replaced_probabilities(discriminator, inputs),
                "naturalness": all_original_log_probability(discriminator, inputs, cls_id=cls_id, sep_id=sep_id),
            }

        return tf.function(run, autograph=False, reduce_retracing=True)

    return model.function("scoring", build)


def score(model, texts, threshold: float = DEFAULT_THRESHOLD) -> list[TextScore]:
    """Per token and per word P(replaced), suspects at or above `threshold`, and a naturalness score.

    Args:
        model: `electra_tf.text_model.TextModel`.
        texts: str or list of str.
        threshold: float in (0, 1). Words whose most suspicious piece reaches it are suspects.

    Returns:
        list of TextScore, one per text.

    Raises:
        InputError: an empty text, a bad threshold, or a model without a discriminator.
    """
    texts = model.check_texts(texts)
    model.require_discriminator("scoring")
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0.0 < threshold < 1.0:
        raise InputError(f"Expected threshold to be a number in (0, 1). Received: threshold={threshold!r}")
    inputs = model.pack(texts)
    outputs = {key: value.numpy() for key, value in scoring_function(model)(inputs).items()}
    word_ids = inputs["input_word_ids"].numpy()
    lengths = inputs["input_mask"].numpy().sum(axis=1)
    vocab = model.tokenizer.vocab
    results = []
    for row, text in enumerate(texts):
        # Tokens without [CLS] (first) and [SEP] (last).
        tokens = [vocab[i] if i < len(vocab) else "[UNK]" for i in word_ids[row, 1 : lengths[row] - 1]]
        probabilities = [float(p) for p in outputs["replaced_probability"][row, 1 : lengths[row] - 1]]
        words = []
        for word, indices in group_words(tokens, skip_special=False):
            probability = max(probabilities[i] for i in indices)
            words.append(WordScore(word, probability, probability >= threshold))
        results.append(TextScore(text, tokens, probabilities, words, float(outputs["naturalness"][row])))
    return results


def detect_errors(model, texts, threshold: float = DEFAULT_THRESHOLD) -> list[list[WordScore]]:
    """The suspect words of each text (P(replaced) >= `threshold`), in order."""
    return [result.suspects for result in score(model, texts, threshold)]


def naturalness(model, texts) -> list[float]:
    """Each text's mean log P(original) over its tokens: 0 is entirely natural, lower looks more replaced."""
    return [result.naturalness for result in score(model, texts)]


def rerank(model, candidates) -> list[RankedText]:
    """Candidates sorted by naturalness, most natural first (ties keep input order).

    Args:
        model: `electra_tf.text_model.TextModel`.
        candidates: list of str, e.g. an ASR or MT n-best list.

    Returns:
        list of RankedText.
    """
    candidates = model.check_texts(candidates, what="candidate")
    scores = naturalness(model, candidates)
    order = sorted(range(len(candidates)), key=lambda index: (-scores[index], index))
    return [RankedText(candidates[index], scores[index], index) for index in order]
