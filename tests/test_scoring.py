"""electra_tf.scoring: per-token replaced probability, naturalness, error detection and reranking, against
the discriminator's logits (NumPy reference) and on a tiny pair trained on a few sentences; the exported
`replaced_token_detection` against the library; words from pieces and Chinese layout."""

import numpy as np
import pytest
import tensorflow as tf

from electra_tf.errors import InputError
from electra_tf.readable_text import group_words, join_words, readable_text, tokens_to_text
from electra_tf.scoring import detect_errors, naturalness, rerank, score
from electra_tf.text_model import TextModel
from generation_test_model import served_client, trained_model_dir


@pytest.fixture(scope="module")
def model():
    return TextModel.load(trained_model_dir())


def test_scores_are_the_discriminators_sigmoid_and_mean_log_original(model):
    texts = ["the cat sat on the mat .", "hello world !"]
    results = score(model, texts, threshold=0.5)
    inputs = model.pack(texts)
    logits = model.pretrainer.discriminator(inputs, training=False)["rtd_logits"].numpy().astype(np.float64)
    lengths = inputs["input_mask"].numpy().sum(axis=1)
    for row, result in enumerate(results):
        inner = logits[row, 1 : lengths[row] - 1]  # without [CLS] and [SEP]
        np.testing.assert_allclose(result.replaced_probability, 1 / (1 + np.exp(-inner)), atol=1e-5)
        np.testing.assert_allclose(result.naturalness, np.mean(np.log(1 / (1 + np.exp(inner)))), atol=1e-5)
        assert result.tokens == texts[row].split()
        assert [w.suspect for w in result.words] == [p >= 0.5 for p in result.replaced_probability]
    assert naturalness(model, texts) == [r.naturalness for r in results]


def test_original_sentences_rank_above_corrupted_versions(model):
    original = "the cat sat on the mat ."
    corrupted = ["the cat sat on the tree .", "mat the on sat cat the .", "the cat blue on the mat .",
                 "the dog sat on the mat run"]
    ranked = rerank(model, corrupted + [original])
    assert ranked[0].text == original and ranked[0].index == len(corrupted)
    assert [r.naturalness for r in ranked] == sorted((r.naturalness for r in ranked), reverse=True)
    scores = naturalness(model, [original] + corrupted)
    assert all(scores[0] > s for s in scores[1:]), scores


def test_the_replaced_word_is_the_top_suspect(model):
    result = score(model, ["the cat sat on the blue .", "the dog was unable to mat ."])
    assert [max(r.words, key=lambda w: w.replaced_probability).word for r in result] == ["blue", "mat"]
    suspects = detect_errors(model, ["the cat sat on the blue ."], threshold=0.5)[0]
    assert [w.word for w in suspects] == ["blue"]


def test_words_are_whole_and_chinese_has_no_spaces(model):
    result = score(model, ["the dog was unable to run .", "今天天气很好，适合户外活动。"])
    assert [w.word for w in result[0].words] == ["the", "dog", "was", "unable", "to", "run", "."]
    unable = result[0].words[3]
    assert unable.replaced_probability == max(result[0].replaced_probability[3:5])  # pieces un, ##able
    assert join_words([w.word for w in result[1].words]) == "今天天气很好，适合户外活动。"


def test_group_and_join_words():
    tokens = ["[CLS]", "hello", ",", "un", "##able", "(", "x", ")", "今", "天", "ok", "。", "[SEP]", "[PAD]"]
    assert group_words(tokens) == [("hello", [1]), (",", [2]), ("unable", [3, 4]), ("(", [5]), ("x", [6]),
                                   (")", [7]), ("今", [8]), ("天", [9]), ("ok", [10]), ("。", [11])]
    assert tokens_to_text(tokens) == "hello, unable (x)今天ok。"
    keep = tf.constant([[t not in ("[CLS]", "[SEP]", "[PAD]") for t in tokens]])
    assert readable_text(tf.constant([tokens]), keep).numpy()[0].decode() == tokens_to_text(tokens)


def test_replaced_token_detection_signature_equals_the_library(model, tmp_path):
    from electra_tf.export import export_saved_model

    result = export_saved_model(model.pretrainer, model.tokenizer, tmp_path / "electra",
                                signatures=["replaced_token_detection"])
    loaded = tf.saved_model.load(result.path)
    texts = ["the cat sat on the blue .", "今天天气很好，适合户外活动。"]
    served = loaded.signatures["replaced_token_detection"](text=tf.constant(texts))
    for row, library in enumerate(score(model, texts)):
        length = int(served["input_mask"].numpy()[row].sum())
        # Two float32 graphs, optimised separately (the export's holds the tokenizer too): equal to rounding
        # (4e-6 relative seen), not bit for bit.
        np.testing.assert_allclose(served["replaced_probability"].numpy()[row, 1 : length - 1],
                                   library.replaced_probability, rtol=2e-5, atol=1e-6)
        assert [t.decode() for t in served["tokens"].numpy()[row, 1 : length - 1]] == library.tokens

    candidates = ["mat the on sat cat the .", "the cat sat on the mat .", "the cat sat on the blue ."]
    ranked = served_client(loaded).rerank(candidates)
    expected = rerank(model, candidates)
    assert [r.index for r in ranked] == [r.index for r in expected]
    # Mean log-probabilities of float32 graphs that pad to different lengths: equal to float32 rounding (a
    # few 1e-5 relative once the generator is confident), not bit for bit.
    np.testing.assert_allclose([r.naturalness for r in ranked], [r.naturalness for r in expected], rtol=1e-4,
                               atol=1e-5)


def test_bad_inputs_are_input_errors(model):
    with pytest.raises(InputError, match="empty"):
        score(model, ["fine", ""])
    with pytest.raises(InputError, match="threshold"):
        score(model, ["fine"], threshold=1.5)
    with pytest.raises(InputError, match="No candidates"):
        rerank(model, [])
