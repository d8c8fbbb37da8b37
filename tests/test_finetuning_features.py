"""Fine-tuning features: packing and labels, QA windows with character offsets and their decoding, tagging
windows and their decoding, on a small vocabulary written here and on the real XQuAD, CoLA and ChnSentiCorp."""

import numpy as np
import pytest

from electra_tf.errors import InputError
from electra_tf.finetuning.classification_features import build_classification_features, pack_ids
from electra_tf.finetuning.examples import Answer, ClassificationExample, QuestionAnsweringExample, TaggingExample
from electra_tf.finetuning.qa_decoding import decode_qa
from electra_tf.finetuning.qa_features import build_qa_features, doc_spans, max_context_flags
from electra_tf.finetuning.tagging_features import IGNORED_LABEL, build_tagging_features, decode_tagging
from electra_tf.finetuning.word_pieces import split_words_with_offsets, tokenize_with_offsets

VOCAB = [
    "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "a", "fine", "film", "play", "##ing", "cr", "##eme",
    "br", "##ule", "##e", "won", "in", "who", "when", "what", "broncos", "super", "bowl", "50", "2016", ",", ".",
    "?", "!", "'", "s", "北", "京", "大", "学", "在", "哪", "里", "是", "eu", "rejects", "german", "call",
    "to", "boycott", "british", "lamb",
]  # fmt: skip


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from electra_tf import Tokenizer

    path = tmp_path_factory.mktemp("vocab") / "vocab.txt"
    path.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    return Tokenizer(str(path))


def ids(*tokens):
    return [VOCAB.index(token) for token in tokens]


# --- Words and offsets ---


def test_words_keep_their_character_spans():
    text = "\ufeffCrème, 北京 don't\u200b"
    words = split_words_with_offsets(text)
    assert words == [
        ("Crème", 1, 6), (",", 6, 7), ("北", 8, 9), ("京", 9, 10), ("don", 11, 14), ("'", 14, 15), ("t", 15, 16)
    ]
    assert all(text[start:end] == word for word, start, end in words)


def test_piece_offsets_match_whole_text_tokenization(tokenizer):
    texts = ["The Broncos played in Crème brûlée, 北京大学!", "\ufeffwho\u200bwon?"]
    for text, (piece_ids, starts, ends) in zip(texts, tokenize_with_offsets(tokenizer, texts)):
        assert piece_ids.tolist() == tokenizer.tokenize([text]).to_list()[0]
    piece_ids, starts, ends = tokenize_with_offsets(tokenizer, texts[:1])[0]
    pieces = [VOCAB[i] for i in piece_ids]
    spans = [texts[0][s:e] for s, e in zip(starts, ends)]
    # "played" has no "##ed" piece: one [UNK] for the whole word, spanning it.
    assert list(zip(pieces, spans))[:4] == [("the", "The"), ("broncos", "Broncos"), ("[UNK]", "played"), ("in", "in")]
    assert ("cr", "Cr") in zip(pieces, spans) and ("##eme", "ème") in zip(pieces, spans)
    assert ("##ule", "ûlé") in zip(pieces, spans) and ("北", "北") in zip(pieces, spans)


# --- Classification ---


def test_pairs_truncate_longest_first_like_the_exported_packing():
    import tensorflow as tf

    from electra_tf.input_packing import pack_inputs

    rng = np.random.default_rng(0)
    ids_a = [list(rng.integers(5, 40, n)) for n in rng.integers(0, 12, 40)]
    ids_b = [list(rng.integers(5, 40, n)) for n in rng.integers(0, 12, 40)]
    ours = pack_ids(ids_a, ids_b, seq_length=11, cls_id=2, sep_id=3)
    ragged_a = tf.ragged.constant(ids_a, tf.int32, ragged_rank=1)
    ragged_b = tf.ragged.constant(ids_b, tf.int32, ragged_rank=1)
    theirs = pack_inputs(ragged_a, ragged_b, seq_length=11, cls_id=2, sep_id=3, pad_id=0)
    for key in ours:
        np.testing.assert_array_equal(ours[key], theirs[key].numpy(), err_msg=key)


def test_classification_features_and_labels(tokenizer):
    examples = [
        ClassificationExample("a fine film", "who won", "1", "t.tsv:2"),
        ClassificationExample("the film", "broncos super bowl 50 in 2016", "0", "t.tsv:3"),
    ]
    features = build_classification_features(examples, tokenizer, seq_length=9, labels=["0", "1"])
    assert features["input_word_ids"].tolist() == [
        [2, *ids("a", "fine", "film"), 3, *ids("who", "won"), 3, 0],
        [2, *ids("the", "film"), 3, *ids("broncos", "super", "bowl", "50"), 3],
    ]
    assert features["input_type_ids"].tolist()[1] == [0, 0, 0, 0, 1, 1, 1, 1, 1]
    assert features["input_mask"].tolist()[0] == [1] * 8 + [0]
    assert features["labels"].dtype == np.int32 and features["labels"].tolist() == [1, 0]
    assert all(array.dtype == np.int32 for array in features.values())
    targets = [ClassificationExample("a", label="3.8"), ClassificationExample("b", label="0")]
    regression = build_classification_features(targets, tokenizer, seq_length=4, regression=True)
    assert regression["labels"].dtype == np.float32 and regression["labels"].tolist() == pytest.approx([3.8, 0.0])
    unlabelled = build_classification_features([ClassificationExample("a")], tokenizer, seq_length=4)
    assert "labels" not in unlabelled


def test_classification_feature_errors(tokenizer):
    with pytest.raises(InputError, match=r"dev.tsv:7: unknown label 'maybe'. Known labels: 'no', 'yes'"):
        build_classification_features([ClassificationExample("a", label="maybe", source="dev.tsv:7")], tokenizer,
                                      seq_length=8, labels=["no", "yes"])
    with pytest.raises(InputError, match=r"d.tsv:3: a single text among text pairs"):
        build_classification_features([ClassificationExample("a", "b"), ClassificationExample("a", source="d.tsv:3")],
                                      tokenizer, seq_length=8)
    with pytest.raises(InputError, match=r"d.tsv:4: no label"):
        mixed = [ClassificationExample("a", label="1"), ClassificationExample("a", source="d.tsv:4")]
        build_classification_features(mixed, tokenizer, seq_length=8, labels=["1"])


# --- Question answering ---


def test_doc_spans_and_max_context_follow_bert():
    assert doc_spans(10, 4, 3) == [(0, 4), (3, 4), (6, 4)]
    assert doc_spans(3, 4, 2) == [(0, 3)]
    flags = max_context_flags([(0, 4), (3, 4), (6, 4)])
    # Token 3: in span 0 score min(3, 0) + 0.04, in span 1 min(0, 3) + 0.04 -> tie, the first span wins; token 6
    # likewise goes to span 1.
    assert [f.tolist() for f in flags] == [[True] * 4, [False, True, True, True], [False, True, True, True]]


CONTEXT = "The Broncos won Super Bowl 50 in 2016. The Broncos won, the Broncos won!"


def qa_example(qid="q1", answer="2016", start=None, impossible=False):
    answers = () if impossible else (Answer(answer, CONTEXT.index(answer) if start is None else start),)
    return QuestionAnsweringExample(qid, "When did the Broncos win?", CONTEXT, answers, impossible, "f.json:0/0/0")


def test_qa_windows_offsets_and_targets(tokenizer):
    examples = [qa_example(), qa_example("q2", impossible=True)]
    features = build_qa_features(examples, tokenizer, seq_length=16, doc_stride=4, max_query_length=4)
    query = ids("when", "[UNK]", "the", "broncos")
    assert features.input_word_ids[0, :6].tolist() == [2, *query, 3]
    assert features.example_index.tolist().count(0) == features.example_index.tolist().count(1) > 1
    windows = np.nonzero(features.example_index == 0)[0]
    answered = [w for w in windows if features.answerable[w]]
    assert answered and all(features.start_positions[w] == 0 for w in windows if not features.answerable[w])
    for w in answered:
        start, end = features.start_positions[w], features.end_positions[w]
        assert CONTEXT[features.token_char_start[w, start] : features.token_char_end[w, end]] == "2016"
    # Every context token appears with its original characters, and each is the max context in exactly one window.
    covered = {}
    for w in windows:
        for position in np.nonzero(features.token_char_start[w] >= 0)[0]:
            span = (features.token_char_start[w, position], features.token_char_end[w, position])
            covered[span] = covered.get(span, 0) + int(features.token_is_max_context[w, position])
    assert all(count == 1 for count in covered.values())
    assert {CONTEXT[s:e] for s, e in covered} >= {"Broncos", "Super", "Bowl", "50", "2016", "!"}
    impossible = np.nonzero(features.example_index == 1)[0]
    assert not features.answerable[impossible].any() and not features.start_positions[impossible].any()
    assert set(features.inputs()) == {"input_word_ids", "input_mask", "input_type_ids"}
    assert set(features.targets()) == {"start_positions", "end_positions", "answerable"}


def test_qa_settings_are_checked(tokenizer):
    with pytest.raises(InputError, match="seq_length > max_query_length \\+ 3"):
        build_qa_features([qa_example()], tokenizer, seq_length=8, max_query_length=5)
    with pytest.raises(InputError, match="doc_stride"):
        build_qa_features([qa_example()], tokenizer, seq_length=16, max_query_length=4, doc_stride=0)


def one_hot_logits(features, high=10.0):
    start = np.full(features.input_word_ids.shape, -10.0)
    end = np.full(features.input_word_ids.shape, -10.0)
    rows = np.arange(len(features))
    start[rows, features.start_positions] = high
    end[rows, features.end_positions] = high
    return start, end


def test_qa_decoding_recovers_the_original_text_across_windows(tokenizer):
    examples = [qa_example(), qa_example("q3", "Super Bowl 50")]
    features = build_qa_features(examples, tokenizer, seq_length=40, doc_stride=8, max_query_length=8)
    start, end = one_hot_logits(features)
    predictions = decode_qa(examples, features, start, end, n_best_size=5, max_answer_length=10)
    assert predictions.answers == {"q1": "2016", "q3": "Super Bowl 50"}
    best = predictions.best_spans["q3"]
    assert (best.char_start, best.char_end, best.score) == (16, 29, 20.0)
    assert predictions.nbest["q3"][0].probability > 0.9 and len(predictions.nbest["q3"]) <= 5
    # A span longer than max_answer_length is not a candidate.
    short = decode_qa(examples, features, start, end, max_answer_length=2)
    assert short.answers["q3"] != "Super Bowl 50"
    with pytest.raises(InputError, match="logits of shape"):
        decode_qa(examples, features, start[:, :5], end)


def test_qa_decoding_squad2_null_scores(tokenizer):
    examples = [qa_example(), qa_example("q2", impossible=True)]
    features = build_qa_features(examples, tokenizer, seq_length=40, doc_stride=8, max_query_length=8)
    start, end = one_hot_logits(features)  # q2's windows put 10 + 10 on [CLS]
    predictions = decode_qa(examples, features, start, end, version_2_with_negative=True)
    assert predictions.answers["q1"] == "2016" and predictions.answers["q2"] == ""
    # q1: the null score is the lowest [CLS] score over its windows, -20 in the window with the answer (BERT);
    # minus the best span's 20. q2: [CLS] 20 everywhere, and its best span scores at most -20.
    assert predictions.null_score_diff["q1"] == -40.0 and predictions.null_score_diff["q2"] >= 40.0
    answerable = np.where(features.example_index == 0, 3.0, -3.0)
    with_head = decode_qa(examples, features, start, end, answerable, version_2_with_negative=True)
    assert with_head.null_score_diff == {"q1": -3.0, "q2": 3.0}
    assert with_head.answers == {"q1": "2016", "q2": ""}


# --- Tagging ---


def test_tagging_labels_on_first_pieces_and_decoding(tokenizer):
    examples = [
        TaggingExample(("EU", "rejects", "German", "call"), ("B-ORG", "O", "B-MISC", "O"), "eng.train:3"),
        TaggingExample(("Playing", "☃", "in"), ("O", "B-X", "O"), "eng.train:9"),
    ]
    tags = ["O", "B-ORG", "B-MISC", "B-X"]
    features = build_tagging_features(examples, tokenizer, seq_length=10, tags=tags)
    assert features.input_word_ids[1].tolist() == [2, *ids("play", "##ing", "[UNK]", "in"), 3, 0, 0, 0, 0]
    assert features.labels[1].tolist() == [IGNORED_LABEL, 0, IGNORED_LABEL, 3, 0] + [IGNORED_LABEL] * 5
    assert features.word_index[1].tolist() == [-1, 0, -1, 1, 2] + [-1] * 5
    logits = np.eye(len(tags))[np.maximum(features.labels, 0)]  # [F, L, tags]
    assert decode_tagging(examples, features, logits, tags) == [tuple(e.tags) for e in examples]


def test_tagging_windows_predict_each_word_once(tokenizer):
    words = tuple(["broncos", "won", "in", "2016", "playing"] * 5)
    tags_of_words = tuple(["B-ORG", "O", "O", "B-X", "O"] * 5)
    example = TaggingExample(words, tags_of_words, "t.conll:1")
    tags = ["O", "B-ORG", "B-X"]
    features = build_tagging_features([example], tokenizer, seq_length=8, tags=tags, stride=3)
    assert len(features) > 5
    predicted_from = features.word_index[features.word_is_max_context]
    assert sorted(predicted_from.tolist()) == list(range(len(words)))
    logits = np.eye(len(tags))[np.maximum(features.labels, 0)]
    assert decode_tagging([example], features, logits, tags) == [tags_of_words]


def test_tagging_unknown_tag_names_the_line(tokenizer):
    example = TaggingExample(("EU", "rejects"), ("B-ORG", "B-BAD"), "eng.train:3")
    with pytest.raises(InputError, match=r"eng.train:4: unknown tag 'B-BAD'. Known tags: 'O', 'B-ORG'"):
        build_tagging_features([example], tokenizer, seq_length=8, tags=["O", "B-ORG"])
    with pytest.raises(InputError, match=r"eng.train:3: 1 tags for 2 words"):
        build_tagging_features([TaggingExample(("EU", "rejects"), ("O",), "eng.train:3")], tokenizer, tags=["O"])


# --- Real data ---


@pytest.mark.parametrize(
    "language, vocab", [("en", "bert-base-uncased-vocab.txt"), ("zh", "bert-base-chinese-vocab.txt")]
)
def test_real_xquad_features_recover_the_gold_answers(shared_data, language, vocab):
    from electra_tf import Tokenizer
    from electra_tf.finetuning.readers import read_squad

    tokenizer = Tokenizer(str(shared_data / "vocab" / vocab))
    examples = read_squad(shared_data / "tasks" / "xquad" / f"xquad.{language}.json").examples
    features = build_qa_features(examples, tokenizer, seq_length=384, doc_stride=128, max_query_length=64)
    recovered = total = 0
    for window in np.nonzero(features.answerable)[0]:
        example = examples[features.example_index[window]]
        start, end = features.start_positions[window], features.end_positions[window]
        text = example.context[features.token_char_start[window, start] : features.token_char_end[window, end]]
        recovered += text == example.answers[0].text
        total += 1
    # Measured: en 1200 / 1201 (the gold text "... (2,70" ends inside the token "700"), zh 1241 / 1241.
    assert total > 1150 and recovered / total >= 0.99
    contexts = list(dict.fromkeys(example.context for example in examples))[:40]
    for context, (piece_ids, _, _) in zip(contexts, tokenize_with_offsets(tokenizer, contexts)):
        assert piece_ids.tolist() == tokenizer.tokenize([context]).to_list()[0]


def test_real_cola_and_chnsenticorp_features(shared_data):
    from electra_tf import Tokenizer
    from electra_tf.finetuning.task_presets import get_preset, read_preset_file

    for benchmark, name, vocab, path in [
        ("glue", "cola", "bert-base-uncased-vocab.txt", "cola/in_domain_dev.tsv"),
        ("clue", "chnsenticorp", "bert-base-chinese-vocab.txt", "chnsenticorp/dev.tsv"),
    ]:
        preset = get_preset(benchmark, name)
        examples = read_preset_file(preset, shared_data / "tasks" / path)
        tokenizer = Tokenizer(str(shared_data / "vocab" / vocab))
        features = build_classification_features(examples, tokenizer, seq_length=128, labels=preset.labels)
        assert features["input_word_ids"].shape == (len(examples), 128)
        assert set(np.unique(features["labels"]).tolist()) == {0, 1}
        assert (features["input_word_ids"][:, 0] == tokenizer.cls_id).all()
        assert (features["input_word_ids"] == tokenizer.unk_id).mean() < 0.01
