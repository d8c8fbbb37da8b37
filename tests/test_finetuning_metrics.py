"""Fine-tuning metrics against hand-computed cases and the official definitions (SQuAD v1.1/v2.0, CMRC 2018,
conlleval) and against scikit-learn / scipy for MCC, Pearson and Spearman."""

import math

import numpy as np
import pytest

from electra_tf.errors import InputError
from electra_tf.finetuning.examples import Answer, QuestionAnsweringExample
from electra_tf.metrics.classification import (
    accuracy,
    average_ranks,
    classification_metrics,
    f1,
    matthews_corrcoef,
    pearson,
    spearman,
)
from electra_tf.metrics.cmrc import cmrc2018, cmrc_exact, cmrc_f1, mixed_segmentation, treebank_words
from electra_tf.metrics.entity import entity_scores, get_entities, get_strict_entities, is_chunk_tag_set
from electra_tf.metrics.squad import f1_score, normalize_answer, squad_v1, squad_v2

# --- Classification ---


def test_accuracy_and_f1_by_hand():
    predictions, labels = [1, 1, 0, 0, 1], [1, 0, 0, 1, 1]
    assert accuracy(predictions, labels) == 3 / 5
    # TP = 2, FP = 1, FN = 1: F1 = 2*2 / (2*2 + 1 + 1)
    assert f1(predictions, labels) == pytest.approx(4 / 6)
    assert f1([0, 0], [1, 1]) == 0.0


def test_mcc_by_hand_and_against_sklearn():
    # TP = 1, FP = 1, TN = 2, FN = 0: (1*2 - 1*0) / sqrt((1+1)(1+0)(2+1)(2+0)) = 2 / sqrt(12)
    assert matthews_corrcoef([1, 1, 0, 0], [1, 0, 0, 0]) == pytest.approx(2 / math.sqrt(12))
    assert matthews_corrcoef([1, 1, 1], [0, 1, 0]) == 0.0  # constant prediction: sklearn's 0
    from sklearn.metrics import matthews_corrcoef as sklearn_mcc

    rng = np.random.default_rng(0)
    for num_classes in (2, 3, 5):
        labels, predictions = rng.integers(0, num_classes, 200), rng.integers(0, num_classes, 200)
        assert matthews_corrcoef(predictions, labels) == pytest.approx(sklearn_mcc(labels, predictions), abs=1e-12)


def test_pearson_and_spearman_with_ties_against_scipy():
    from scipy.stats import pearsonr, spearmanr

    assert average_ranks([10, 20, 10, 30]).tolist() == [1.5, 3.0, 1.5, 4.0]
    # Hand: ranks x = [1, 2.5, 2.5, 4], y = [1, 3, 2, 4] -> Pearson of the ranks = 0.9486...
    assert spearman([1.0, 2.0, 2.0, 5.0], [1.0, 3.0, 2.0, 4.0]) == pytest.approx(4.5 / math.sqrt(4.5 * 5))
    rng = np.random.default_rng(1)
    predictions, labels = rng.normal(size=100), rng.integers(0, 6, 100).astype(float)
    assert pearson(predictions, labels) == pytest.approx(pearsonr(predictions, labels)[0], abs=1e-12)
    assert spearman(predictions, labels) == pytest.approx(spearmanr(predictions, labels)[0], abs=1e-12)
    assert math.isnan(pearson([1.0, 1.0], [1.0, 2.0]))


def test_classification_metrics_by_preset_metric():
    assert set(classification_metrics("mcc", [1, 0], [1, 0])) == {"mcc", "accuracy"}
    assert set(classification_metrics("f1", [1, 0], [1, 0])) == {"f1", "accuracy"}
    assert set(classification_metrics("pearson_spearman", [1.0, 2.0], [1.0, 3.0])) == {"pearson", "spearman"}
    with pytest.raises(InputError, match="Unknown classification metric 'auc'"):
        classification_metrics("auc", [1], [1])
    with pytest.raises(InputError, match="as many predictions as labels"):
        accuracy([1, 0], [1])


# --- SQuAD ---


def test_squad_normalization():
    assert normalize_answer("The  Denver Broncos!") == "denver broncos"
    assert normalize_answer("an Apple, a pear") == "apple pear"
    assert normalize_answer("theater") == "theater"  # articles only as whole words


def qa(qid, *answers, impossible=False):
    return QuestionAnsweringExample(qid, "?", "context", tuple(Answer(text, 0) for text in answers), impossible)


def test_squad_v1_gold_predictions_score_100_and_partial_answers_by_hand():
    gold = [qa("q1", "Denver Broncos", "The Broncos"), qa("q2", "Santa Clara, California")]
    perfect = squad_v1({"q1": "Denver Broncos", "q2": "Santa Clara, California"}, gold)
    assert (perfect["exact_match"], perfect["f1"]) == (100.0, 100.0)
    # q1: "the broncos team" vs "the broncos" -> tokens [broncos, team] vs [broncos]: P 1/2, R 1 -> F1 2/3
    # q2: "Santa Clara" vs "santa clara california": P 1, R 2/3 -> F1 0.8
    partial = squad_v1({"q1": "the Broncos team", "q2": "Santa Clara"}, gold)
    assert partial["exact_match"] == 0.0
    assert partial["f1"] == pytest.approx(100 * (2 / 3 + 0.8) / 2)
    missing = squad_v1({"q1": "Denver Broncos"}, gold)
    assert (missing["exact_match"], missing["missing"], missing["total"]) == (50.0, 1, 2)
    assert f1_score("", "") == 0.0  # v1.1: no shared token, even when both are empty


def test_squad_v2_no_answer_handling_and_best_threshold_by_hand():
    gold = [qa("q1", "Denver Broncos"), qa("q2", impossible=True), qa("q3", "Paris")]
    predictions = {"q1": "Denver Broncos", "q2": "", "q3": ""}
    result = squad_v2(predictions, gold)
    # q1 exact; q2 no answer predicted for an unanswerable question = 1; q3 empty for an answerable one = 0.
    assert (result["exact"], result["f1"]) == pytest.approx((200 / 3, 200 / 3))
    assert (result["HasAns_exact"], result["NoAns_exact"], result["NoAns_total"]) == (50.0, 100.0, 1)
    assert result["exact_match"] == result["exact"]

    predictions = {"q1": "Denver Broncos", "q2": "Lyon", "q3": "London"}
    na_probs = {"q1": 0.1, "q2": 0.9, "q3": 0.5}
    result = squad_v2(predictions, gold, na_probs)
    assert result["exact"] == pytest.approx(100 / 3)  # threshold 1.0: nothing is turned into "no answer"
    # Official sweep: start 1 (one unanswerable); q1 (0.1) +1 -> 2 best at 0.1; q3 (0.5) +0; q2 (0.9) -1.
    assert result["best_exact"] == pytest.approx(200 / 3) and result["best_exact_thresh"] == 0.1
    assert result["best_f1"] == pytest.approx(200 / 3) and result["best_f1_thresh"] == 0.1
    # With the threshold applied the score is the best one.
    assert squad_v2(predictions, gold, na_probs, na_prob_thresh=0.1)["exact"] == pytest.approx(200 / 3)


def test_squad_v2_gold_predictions_score_100():
    gold = [qa("q1", "Denver Broncos"), qa("q2", impossible=True)]
    result = squad_v2({"q1": "Denver Broncos", "q2": ""}, gold, {"q1": -3.0, "q2": 2.0})
    assert (result["exact"], result["f1"], result["best_exact"], result["best_f1"]) == (100.0, 100.0, 100.0, 100.0)


# --- CMRC 2018 ---


def test_cmrc_segmentation_and_punctuation():
    segments = mixed_segmentation("在2018年，CMRC Test!", remove_punctuation=True)
    assert segments == ["在", "2018", "年", "cmrc", "test", "!"]
    assert mixed_segmentation("北京：上海") == ["北", "京", "：", "上", "海"]
    assert treebank_words("don't stop (now), ok?") == ["do", "n't", "stop", "(", "now", ")", ",", "ok", "?"]


def test_cmrc_scores_by_hand():
    assert cmrc_f1("北京大学", ["北京"]) == pytest.approx(2 / 3)  # LCS 2: P 2/4, R 2/2
    assert cmrc_f1("京大学北", ["北京大学"]) == pytest.approx(0.75)  # longest common run 京大学: 3/4
    assert cmrc_f1("上海", ["北京"]) == 0.0
    assert cmrc_exact("《红楼梦》。", ["红楼梦"]) == 1.0  # 《 》 。 are in the script's list
    assert cmrc_exact("红楼梦…", ["红楼梦"]) == 0.0  # "……" in the list never matches one character
    gold = [qa("q1", "北京大学", "北大"), qa("q2", "1998年")]
    assert cmrc2018({"q1": "北京大学", "q2": "1998年"}, gold) == {
        "f1": 100.0, "exact_match": 100.0, "average": 100.0, "total": 2, "skip": 0
    }
    result = cmrc2018({"q1": "北京"}, gold)
    assert result["f1"] == pytest.approx(100 * max(2 / 3, 2 * (1 / 2) * 1 / 1.5) / 2)
    assert (result["exact_match"], result["skip"]) == (0.0, 1)


# --- Entities ---


def test_entity_f1_iob2_by_hand():
    gold = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "O"]]
    predicted = [["B-PER", "I-PER", "O", "B-ORG"], ["B-ORG", "O"]]
    scores = entity_scores(gold, predicted)
    # gold chunks: PER(0-1), LOC(3), ORG(s2 0); predicted: PER(0-1), ORG(3), ORG(s2 0); correct 2 of 3 and 3.
    assert (scores["precision"], scores["recall"], scores["f1"]) == pytest.approx((2 / 3, 2 / 3, 2 / 3))
    assert scores["per_type"]["LOC"]["recall"] == 0.0 and scores["per_type"]["PER"]["f1"] == 1.0
    assert scores["accuracy"] == 5 / 6
    assert entity_scores(gold, gold)["f1"] == 1.0


def test_entity_f1_iob1_by_hand():
    gold = [["I-PER", "I-PER", "B-PER", "O", "I-LOC"]]
    predicted = [["I-PER", "I-PER", "I-PER", "O", "I-LOC"]]
    assert get_entities(gold[0]) == [("PER", 0, 1), ("PER", 2, 2), ("LOC", 4, 4)]
    assert get_entities(predicted[0]) == [("PER", 0, 2), ("LOC", 4, 4)]
    scores = entity_scores(gold, predicted, scheme="IOB1")
    assert (scores["precision"], scores["recall"]) == (0.5, 1 / 3)
    assert scores["f1"] == pytest.approx(2 * 0.5 * (1 / 3) / (0.5 + 1 / 3))


def test_entity_f1_bioes_by_hand_and_strict_mode():
    gold = [["B-PER", "E-PER", "S-LOC", "O", "B-ORG", "I-ORG", "E-ORG"]]
    predicted = [["B-PER", "E-PER", "S-LOC", "O", "B-ORG", "E-ORG", "O"]]
    scores = entity_scores(gold, predicted, scheme="BIOES")
    assert (scores["correct"], scores["predicted"], scores["gold"]) == (2, 3, 3)
    assert scores["f1"] == pytest.approx(2 / 3)
    # BILOU letters are BIOES's.
    assert get_entities(["B-PER", "L-PER", "U-LOC"]) == [("PER", 0, 1), ("LOC", 2, 2)]
    # Strict: a chunk must be well formed in the scheme.
    assert get_strict_entities(["I-PER", "I-PER", "B-LOC"], "IOB2") == [("LOC", 2, 2)]
    assert get_strict_entities(["B-PER", "I-PER", "O"], "BIOES") == []
    lenient = entity_scores([["B-PER", "I-PER"]], [["I-PER", "I-PER"]])
    strict = entity_scores([["B-PER", "I-PER"]], [["I-PER", "I-PER"]], mode="strict")
    assert (lenient["f1"], strict["f1"]) == (1.0, 0.0)


def test_entity_input_errors_and_tag_sets():
    with pytest.raises(InputError, match="Sentence 0: 1 predicted tags for 2 gold tags"):
        entity_scores([["O", "O"]], [["O"]])
    with pytest.raises(InputError, match="Unknown tag scheme"):
        entity_scores([["O"]], [["O"]], scheme="XYZ")
    assert is_chunk_tag_set(["O", "B-PER", "I-PER"]) and not is_chunk_tag_set(["NN", "VBZ"])


def test_docstring_examples():
    import doctest

    from electra_tf.finetuning import (
        classification_features,
        qa_decoding,
        qa_features,
        tag_schemes,
        task_presets,
        word_pieces,
    )
    from electra_tf.finetuning.readers import columns, labels
    from electra_tf.metrics import classification, cmrc, entity, squad

    modules = (classification, squad, cmrc, entity, columns, labels, task_presets, word_pieces,
               classification_features, qa_features, qa_decoding, tag_schemes)
    for module in modules:
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_tag_scheme_detection_and_conversion_keep_the_chunks():
    from electra_tf.finetuning.tag_schemes import convert_tags, detect_tag_scheme

    iob1 = ["I-ORG", "O", "I-PER", "I-PER", "B-PER", "O", "I-LOC"]
    assert detect_tag_scheme([iob1]) == "IOB1"
    assert detect_tag_scheme([["B-ORG", "I-ORG", "O"]]) == "IOB2"
    assert detect_tag_scheme([["S-ORG", "O"], ["B-PER", "E-PER"]]) == "BIOES"
    assert detect_tag_scheme([["NN", "VBZ", "DT"]]) is None
    iob2 = convert_tags(iob1, "IOB2")
    bioes = convert_tags(iob1, "BIOES")
    assert iob2 == ["B-ORG", "O", "B-PER", "I-PER", "B-PER", "O", "B-LOC"]
    assert bioes == ["S-ORG", "O", "B-PER", "E-PER", "S-PER", "O", "S-LOC"]
    assert convert_tags(bioes, "IOB1") == iob1 and convert_tags(iob2, "IOB1") == iob1
    for tags in (iob2, bioes):
        assert get_entities(tags) == get_entities(iob1)
