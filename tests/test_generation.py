"""electra_tf.generation: fill-mask (token and whole-word), iterative mask-predict infilling, generation with
reranking, determinism, and the exported `fill_mask` / `infill` / `generate` signatures against the library.

The generation tests use a tiny pair trained for seconds on a few repeated sentences
(`generation_test_model.py`); references are computed directly from the generator's logits in NumPy.
"""

import numpy as np
import pytest
import tensorflow as tf

from electra_tf.errors import InputError
from electra_tf.generation import fill_mask, generate, infill
from electra_tf.generation.mask_predict import mask_predict, remask_counts
from electra_tf.generation.slots import append_slots
from electra_tf.generation.token_choice import choose_tokens
from electra_tf.text_model import TextModel
from generation_test_model import VOCAB, random_model_dir, served_client, trained_model_dir


@pytest.fixture(scope="module")
def model():
    return TextModel.load(trained_model_dir())


def _logits(model, ids, positions):
    """The generator's float64 logits at `positions` of one row of ids (NumPy reference input)."""
    ids = np.array([ids + [0] * (model.seq_length - len(ids))], np.int32)
    inputs = {"input_word_ids": tf.constant(ids), "input_mask": tf.constant((ids > 0).astype(np.int32)),
              "input_type_ids": tf.zeros_like(ids)}
    return model.pretrainer.generator(inputs, training=False)["mlm_logits"].numpy()[0, positions].astype(np.float64)


def _softmax(logits):
    exp = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exp / exp.sum(axis=-1, keepdims=True)


def _ids(tokens):
    return [VOCAB.index(token) for token in tokens]


# --- Pure tensor functions ---

def test_remask_schedule_is_mask_predicts_linear_decay():
    counts = [remask_counts(tf.constant([10, 3, 0]), t, 4).numpy().tolist() for t in range(4)]
    assert counts == [[7, 2, 0], [5, 1, 0], [2, 0, 0], [0, 0, 0]]  # floor(n (T - 1 - t) / T)


def test_choose_tokens_greedy_top_k_and_seed():
    logits = tf.constant([[[0.0, 5.0, 4.9, -3.0]] * 64])  # [1, 64, 4]
    assert choose_tokens(logits, [1, 2], temperature=0.0).numpy().tolist() == [[1] * 64]
    top2 = choose_tokens(logits, [1, 2], temperature=1.0, top_k=2).numpy()
    assert set(top2.ravel()) == {1, 2}  # both likely tokens drawn, never the others
    np.testing.assert_array_equal(top2, choose_tokens(logits, [1, 2], temperature=1.0, top_k=2).numpy())
    assert not np.array_equal(top2, choose_tokens(logits, [1, 3], temperature=1.0, top_k=2).numpy())


def test_append_slots_keeps_the_end_of_a_long_prefix():
    ids = tf.constant([[2, 10, 11, 12, 13, 3], [2, 10, 4, 3, 0, 0]])
    inputs = {"input_word_ids": ids, "input_mask": tf.cast(ids > 0, tf.int32), "input_type_ids": tf.zeros_like(ids)}
    extended, slots = append_slots(inputs, tf.constant([2, 1]), cls_id=2, sep_id=3, mask_id=4)
    assert extended["input_word_ids"].numpy().tolist() == [[2, 12, 13, 4, 4, 3], [2, 10, 4, 4, 3, 0]]
    assert extended["input_mask"].numpy().tolist() == [[1] * 6, [1] * 5 + [0]]
    assert slots.numpy().astype(int).tolist() == [[0, 0, 0, 1, 1, 0], [0, 0, 1, 1, 0, 0]]  # a prefix [MASK] too


# --- fill_mask ---

def test_fill_mask_is_the_generators_softmax_top_k(model):
    result = fill_mask(model, ["the cat sat on the [MASK] .", "[MASK] world [MASK]"], top_k=3)
    for text, masked_tokens, positions in [
        (result[0], ["the", "cat", "sat", "on", "the", "[MASK]", "."], [6]),
        (result[1], ["[MASK]", "world", "[MASK]"], [1, 3]),
    ]:
        probabilities = _softmax(_logits(model, [2] + _ids(masked_tokens) + [3], positions))
        assert len(text.masks) == len(positions)
        for slot, candidates in enumerate(text.masks):
            top = np.argsort(-probabilities[slot])[:3]
            assert [c.ids[0] for c in candidates] == top.tolist()
            np.testing.assert_allclose([c.probability for c in candidates], probabilities[slot][top], atol=1e-5)
    assert result[0].masks[0][0].text == "mat" and result[0].filled_text == "the cat sat on the mat."


def test_whole_word_filling_scores_words_by_the_joint_probability(model):
    result = fill_mask(model, ["the dog was [MASK] to run ."], top_k=5, whole_word=True, max_pieces=2)[0]
    candidates = {c.text: c for c in result.masks[0]}
    assert "unable" in candidates and candidates["unable"].pieces == ("un", "##able")
    assert all(not c.pieces[0].startswith("##") and all(p.startswith("##") for p in c.pieces[1:])
               for c in result.masks[0])
    # Hand reference: P(un | two masks) * P(##able | un, one mask), from the generator's logits.
    prefix = _ids(["the", "dog", "was"])
    suffix = _ids(["to", "run", "."])
    first = _softmax(_logits(model, [2] + prefix + [4, 4] + suffix + [3], [4]))[0][VOCAB.index("un")]
    second = _softmax(_logits(model, [2] + prefix + _ids(["un"]) + [4] + suffix + [3], [5]))[0][VOCAB.index("##able")]
    np.testing.assert_allclose(candidates["unable"].probability, first * second, rtol=1e-4)
    probabilities = [c.probability for c in result.masks[0]]
    assert probabilities == sorted(probabilities, reverse=True)


# --- infill and generate ---

def test_infill_changes_only_the_masks(model):
    texts = ["the [MASK] was unable to [MASK] .", "今天天气很好，[MASK][MASK]户外活动。"]
    results = infill(model, texts, iterations=3)
    for text, result in zip(texts, results):
        candidate = result.candidates[0]
        given = model.tokenizer.id_to_token(model.pack([text], keep_mask_token=True)["input_word_ids"]).numpy()[0]
        given = [t.decode() for t in given if t not in (b"[CLS]", b"[SEP]", b"[PAD]")]
        assert len(candidate.tokens) == len(given)
        for token, original, generated in zip(candidate.tokens, given, candidate.generated):
            assert generated == (original == "[MASK]")
            assert token == original if not generated else token not in ("[MASK]", "[CLS]", "[SEP]", "[PAD]", "[UNK]")
    assert results[0].text == "the dog was unable to run."
    assert " " not in results[1].text  # Chinese joined without spaces


def test_one_greedy_iteration_is_the_argmax_of_every_slot(model):
    ids = [2] + _ids(["the", "cat", "[MASK]", "on", "the", "[MASK]", "."]) + [3]
    packed = np.array([ids + [0] * (model.seq_length - len(ids))], np.int32)
    inputs = {"input_word_ids": tf.constant(packed), "input_mask": tf.constant((packed > 0).astype(np.int32)),
              "input_type_ids": tf.zeros_like(packed)}
    outputs = mask_predict(model.pretrainer.generator, inputs, tf.constant(packed == 4), iterations=1, seed=[0, 0],
                           mask_id=4, banned_ids=[0, 1, 2, 3, 4])
    logits = _logits(model, ids, [3, 6])
    logits[:, :5] = -np.inf
    assert outputs["output_ids"].numpy()[0, [3, 6]].tolist() == logits.argmax(-1).tolist()
    np.testing.assert_allclose(outputs["slot_probabilities"].numpy()[0, [3, 6]], _softmax(logits).max(-1), rtol=1e-4)
    unchanged = packed[0] != 4
    np.testing.assert_array_equal(outputs["output_ids"].numpy()[0][unchanged], packed[0][unchanged])


def test_generate_is_deterministic_for_a_seed_and_appends_num_tokens(model):
    settings = dict(temperature=1.0, top_k=8, candidates=3, iterations=3)
    first = generate(model, ["the dog", "a big red"], 5, seed=7, **settings)
    again = generate(model, ["the dog", "a big red"], 5, seed=7, **settings)
    other = generate(model, ["the dog", "a big red"], 5, seed=8, **settings)
    assert [[c.tokens for c in r.candidates] for r in first] == [[c.tokens for c in r.candidates] for r in again]
    assert [[c.tokens for c in r.candidates] for r in first] != [[c.tokens for c in r.candidates] for r in other]
    for prefix, result in zip(["the dog", "a big red"], first):
        assert len(result.candidates) == 3
        scores = [c.score for c in result.candidates]
        assert scores == sorted(scores, reverse=True)  # reranked by the discriminator
        for candidate in result.candidates:
            assert candidate.tokens[: len(prefix.split())] == prefix.split()
            assert candidate.generated == [False] * len(prefix.split()) + [True] * 5


def test_bad_inputs_are_input_errors(model, tmp_path):
    with pytest.raises(InputError, match="no \\[MASK\\]"):
        fill_mask(model, ["nothing to fill"])
    with pytest.raises(InputError, match="empty"):
        fill_mask(model, [" "])
    with pytest.raises(InputError, match="only 13 fit"):
        fill_mask(model, ["the " + "[MASK] " * 20])
    with pytest.raises(InputError, match="num_tokens"):
        generate(model, ["the cat"], 40)
    with pytest.raises(InputError, match="Nothing to generate"):
        generate(model, ["the cat"], 0)
    with pytest.raises(InputError, match="no \\[MASK\\]"):
        infill(model, ["the cat"])
    finetuned = tmp_path / "finetuned"
    finetuned.mkdir()
    (finetuned / "config.json").write_text("{}")
    (finetuned / "task.json").write_text('{"task": "classification"}')
    with pytest.raises(InputError, match="holds no generator"):
        TextModel.load(finetuned)


# --- The exported signatures compute what the library computes ---

def test_signatures_equal_the_library(model, tmp_path):
    from electra_tf.export import export_saved_model
    from electra_tf.export.generation_signatures import GENERATE_SETTINGS, INFILL_SETTINGS

    result = export_saved_model(model.pretrainer, model.tokenizer, tmp_path / "electra", top_k=3,
                                signatures=["fill_mask", "infill", "generate"])
    loaded = tf.saved_model.load(result.path)
    texts = ["the cat sat on the [MASK] .", "[MASK] world [MASK]"]
    served = loaded.signatures["fill_mask"](text=tf.constant(texts))
    library = fill_mask(model, texts, top_k=3)
    for row, text_result in enumerate(library):
        for slot, candidates in enumerate(text_result.masks):
            assert served["top_ids"].numpy()[row, slot].tolist() == [c.ids[0] for c in candidates]
            np.testing.assert_allclose(served["top_probabilities"].numpy()[row, slot],
                                       [c.probability for c in candidates], atol=1e-6)

    gaps = ["the [MASK] was unable to [MASK] .", "今天天气很好，[MASK][MASK]户外活动。"]
    served = loaded.signatures["infill"](text=tf.constant(gaps))
    infilled_by_library = infill(model, gaps, **INFILL_SETTINGS)
    assert [t.decode() for t in served["output_text"].numpy()] == [r.text for r in infilled_by_library]

    prefixes = ["the dog", "a big red"]
    served = loaded.signatures["generate"](text=tf.constant(prefixes), num_tokens=tf.constant([4, 4]))
    library = generate(model, prefixes, 4, **GENERATE_SETTINGS)
    assert [[t.decode() for t in row] for row in served["candidate_texts"].numpy()] == [
        [c.text for c in r.candidates] for r in library]
    np.testing.assert_allclose(served["candidate_scores"].numpy(), [[c.score for c in r.candidates] for r in library],
                               atol=1e-5)

    # The serving client's methods read these outputs back into the library's answers.
    client = served_client(loaded)
    assert [r.candidates for r in client.generate(prefixes, 4)] == [[c.text for c in r.candidates] for r in library]
    infilled = client.infill(gaps)
    assert [r.text for r in infilled] == [r.text for r in infilled_by_library]
    best = infilled_by_library[0].candidates[0]
    assert infilled[0].tokens == ["[CLS]"] + best.tokens + ["[SEP]"]
    assert infilled[0].generated.tolist() == [False] + best.generated + [False]



def test_mlm_baseline_generates_but_cannot_score(tmp_path):
    from electra_tf.scoring import score

    model = TextModel.load(random_model_dir(tmp_path / "mlm", objective="mlm"))
    assert len(fill_mask(model, ["the [MASK]"], top_k=2)[0].masks[0]) == 2
    with pytest.raises(InputError, match="no discriminator|has none"):
        score(model, ["the cat"])
