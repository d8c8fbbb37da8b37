"""The exported task signatures `classify`, `answer`, `tag` (and their `_ids` twins) against the in-process
task models with the library's features and decoding; the TF Serving op allowlist and the TF1 `Session` loader;
`electra-tf serve` over gRPC and REST; the client's `classify`/`answer`/`tag`; `electra-tf predict`.

Three random-weight tiny task models (a pair classifier, a SQuAD 2.0 reader, a tagger) are saved as fine-tuned
model directories and exported once for the module with `export_model_dir`, as `electra-tf export` does (the
tagger with every signature it provides, the other two with their task signature only, to save time).
Sequence lengths are short so that contexts and sentences need several windows.
"""

import json
import types

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the TF Text ops, as TF Serving's binary does)

from electra_tf import Tokenizer
from electra_tf.export import export_model_dir
from electra_tf.export.op_allowlist import TF_TEXT_SERVING_OPS, disallowed_ops, saved_model_op_counts
from electra_tf.finetuning.classification_features import build_classification_features
from electra_tf.finetuning.examples import ClassificationExample, QuestionAnsweringExample, TaggingExample
from electra_tf.finetuning.qa_decoding import best_spans_in_window, decode_qa
from electra_tf.finetuning.qa_features import build_qa_features
from electra_tf.finetuning.tagging_features import build_tagging_features, decode_tagging
from electra_tf.finetuning.task_model_dir import TaskSpec, build_task_model, save_task_model_dir
from electra_tf.finetuning.word_pieces import split_words_with_offsets
from export_test_model import tiny_config, write_vocab

LABELS = ("neg", "neutral", "pos")
TAGS = ("O", "B-X", "I-X")
TEXTS = ["The cat sat on the mat.", "Hello, world! The big dog ran fast and the small cat was slow.", "",
         "Unable houses, café?"]
TEXTS_B = ["a red tree", "the dog", "is blue", ""]
CONTEXT = ("The big dog ran fast to the red house, and the small cat sat on the mat. Hello world! The cat was "
           "slow; the dog was fast. Unable houses, café 北京 and the blue tree.")
QUESTIONS = ["who ran fast?", "where was the cat?", "is the tree blue or red?", "big house", "", "the the the the "
             "the the the the"]
CONTEXTS = [CONTEXT, CONTEXT, CONTEXT, "a red\u200b house", "", CONTEXT[:40]]
TAG_TEXTS = ["The big dog ran fast to the red house, and the small cat sat on the mat.", "Hello world!", "",
             "Unable houses, café 北京 \u200b \u0301 ran", "dog"]
QA_SETTINGS = dict(seq_length=24, doc_stride=5, max_query_length=6, max_answer_length=4)


def _rows(examples_or_texts):
    return np.array([text.encode() for text in examples_or_texts], dtype=object)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    import keras

    folder = tmp_path_factory.mktemp("tasks")
    vocab = write_vocab(folder / "vocab")
    tokenizer = Tokenizer(vocab)
    keras.utils.set_random_seed(1)
    specs = {
        "classifier": TaskSpec("classification", labels=LABELS, seq_length=16, extra={"text_pair_column": "b"}),
        "reader": TaskSpec("qa", version_2_with_negative=True, **QA_SETTINGS),
        "tagger": TaskSpec("tagging", labels=TAGS, seq_length=8, tag_scheme="IOB2"),
    }
    models = {name: build_task_model(tiny_config(seq_length=spec.seq_length), spec) for name, spec in specs.items()}
    # The reader's threshold sits between the test questions' null scores, so both outcomes are exercised.
    qa_reference = _qa_reference(models["reader"], tokenizer, threshold=0.0)
    diffs = sorted(qa_reference.null_score_diff.values())
    threshold = float((diffs[len(diffs) // 2 - 1] + diffs[len(diffs) // 2]) / 2)
    specs["reader"] = specs["reader"].replace(extra={"null_score_diff_threshold": threshold})
    # The tagger exports everything it provides; the others only their task signature (faster).
    only = {"classifier": ["classify"], "reader": ["answer"], "tagger": None}
    results = {}
    for name, spec in specs.items():
        model_dir = save_task_model_dir(models[name], folder / "models" / name, spec, vocab_file=vocab)
        results[name] = export_model_dir(model_dir, folder / "saved_models" / name, signatures=only[name])
    namespace = types.SimpleNamespace(
        folder=folder, tokenizer=tokenizer, models=models, specs=specs, results=results, threshold=threshold,
        loaded={name: tf.saved_model.load(result.path) for name, result in results.items()},
        qa=_qa_reference(models["reader"], tokenizer, threshold),
    )
    namespace.tagging = _tag_reference(namespace)
    return namespace


def _run(exported, name, signature, **inputs):
    function = exported.loaded[name].signatures[signature]
    return {key: value.numpy() for key, value in function(**{k: tf.constant(v) for k, v in inputs.items()}).items()}


def _qa_examples():
    return [QuestionAnsweringExample(qid=str(i), question=q, context=c)
            for i, (q, c) in enumerate(zip(QUESTIONS, CONTEXTS))]


def _qa_reference(model, tokenizer, threshold):
    examples = _qa_examples()
    features = build_qa_features(examples, tokenizer, seq_length=24, doc_stride=5, max_query_length=6)
    outputs = model(features.inputs(), training=False)
    predictions = decode_qa(examples, features, outputs["start_logits"].numpy(), outputs["end_logits"].numpy(),
                            outputs["answerable_logits"].numpy(), max_answer_length=4, version_2_with_negative=True,
                            null_score_diff_threshold=threshold)
    predictions.features, predictions.outputs = features, {k: v.numpy() for k, v in outputs.items()}
    return predictions


# --- Signature keys and serving_default ---

def test_each_export_has_its_task_signature_as_serving_default(exported):
    expected = {
        "classifier": ("classify", ["text", "text_b"]),
        "reader": ("answer", ["question", "context"]),
        "tagger": ("tag", ["text"]),
    }
    for name, (signature, inputs) in expected.items():
        signatures = exported.loaded[name].signatures
        encoder = ["encode", "encode_ids", "encode_pair"] if name == "tagger" else []
        assert sorted(signatures) == sorted([signature, signature + "_ids", "serving_default", *encoder])
        assert list(exported.results[name].signatures) == sorted(signatures)
        for key in (signature, "serving_default"):
            assert sorted(signatures[key].structured_input_signature[1]) == sorted(inputs), (name, key)
        assert sorted(signatures[signature + "_ids"].structured_input_signature[1]) == [
            "input_mask", "input_type_ids", "input_word_ids"]
        with open(f"{exported.results[name].path}/assets.extra/export.json", encoding="utf-8") as f:
            info = json.load(f)
        assert info["serving_default"] == signature and info["task"]["task"] == exported.specs[name].task


def test_names_match_the_serving_client():
    from electra_serving import signatures as client

    from electra_tf.export import names

    for key in ("CLASSIFY", "ANSWER", "TAG", "TEXT_B", "QUESTION", "CONTEXT", "LABEL", "LABEL_ID", "PROBABILITIES",
                "LABELS", "SCORE", "ANSWER_START", "ANSWER_END", "NULL_SCORE_DIFF", "WORDS", "TAGS",
                "TAG_PROBABILITIES", "WORD_STARTS", "WORD_ENDS"):
        assert getattr(client, key) == getattr(names, key), key


def test_words_and_piece_spans_equal_the_library_on_random_text(exported):
    """In-graph word splitting and piece spans (`text_offsets`, `task_signatures._piece_spans`) against
    `word_pieces.split_words_with_offsets` / `tokenize_with_offsets`, on text full of what normalisation changes."""
    import random

    from electra_tf.export.context import ExportContext
    from electra_tf.export.task_signatures import _piece_spans
    from electra_tf.export.text_offsets import split_words_with_offsets as split_in_graph
    from electra_tf.export.text_offsets import tokenize_words
    from electra_tf.finetuning.word_pieces import tokenize_with_offsets

    random.seed(0)
    alphabet = (["the", "cat", "un", "able", "house", "s", " ", " ", ",", ".", "'", "é", "É", "北", "\u3000", "\t",
                 "\n", "\u200b", "\x0b", "\x00", "\x85", "\ufeff", "\u0301", "\U0001F600", "\x1c", "ﬁ"])
    texts = ["".join(random.choice(alphabet) for _ in range(random.randint(0, 12))) for _ in range(400)]
    words = split_in_graph(tf.constant(texts))
    pieces = tokenize_words(exported.tokenizer, words.words)
    starts, ends = _piece_spans(ExportContext(None, exported.tokenizer, seq_length=8, top_k=1), words, pieces)
    expected = tokenize_with_offsets(exported.tokenizer, texts)
    for row, text in enumerate(texts):
        assert [(w.decode(), s, e) for w, s, e in zip(words.words[row].numpy(), words.starts[row].numpy(),
                                                      words.ends[row].numpy())] == split_words_with_offsets(text)
        ids, char_starts, char_ends = expected[row]
        assert pieces[row].flat_values.numpy().tolist() == ids.tolist(), repr(text)
        assert starts[row].numpy().tolist() == char_starts.tolist(), repr(text)
        assert ends[row].numpy().tolist() == char_ends.tolist(), repr(text)


# --- classify ---

def _classification_reference(exported):
    examples = [ClassificationExample(a, b) for a, b in zip(TEXTS, TEXTS_B)]
    features = build_classification_features(examples, exported.tokenizer, seq_length=16)
    logits = exported.models["classifier"](features, training=False)["logits"].numpy()
    return features, tf.nn.softmax(logits).numpy()


def test_classify_matches_the_classifier_on_library_features(exported):
    features, probabilities = _classification_reference(exported)
    outputs = _run(exported, "classifier", "classify", text=TEXTS, text_b=TEXTS_B)
    np.testing.assert_allclose(outputs["probabilities"], probabilities, atol=1e-5)
    assert outputs["label_id"].tolist() == probabilities.argmax(-1).tolist()
    assert outputs["label"].tolist() == [LABELS[i].encode() for i in probabilities.argmax(-1)]
    assert outputs["labels"].tolist() == [[label.encode() for label in LABELS]] * len(TEXTS)
    twin = _run(exported, "classifier", "classify_ids", **{k: features[k] for k in
                                                            ("input_word_ids", "input_mask", "input_type_ids")})
    np.testing.assert_allclose(twin["probabilities"], probabilities, atol=1e-5)
    assert twin["label"].tolist() == outputs["label"].tolist()


def test_regression_classify_returns_the_score(exported):
    from electra_tf.export.context import ExportContext
    from electra_tf.export.registry import select_signatures
    from electra_tf.export.task_signatures import classify

    model = build_task_model(tiny_config(), TaskSpec("regression", seq_length=16))
    context = ExportContext(model, exported.tokenizer, seq_length=16, top_k=1, task={"task": "regression"})
    inputs = context.pack_texts([tf.constant(TEXTS)])
    outputs = classify(context, inputs)
    assert sorted(outputs) == ["score"]
    np.testing.assert_allclose(outputs["score"].numpy(), model(inputs)["logits"].numpy()[:, 0], atol=1e-6)
    assert [spec.name for spec in select_signatures(model)] == ["encode", "encode_pair", "classify"]
    from electra_tf.errors import InputError

    with pytest.raises(InputError, match="needs a fine-tuned qa model; received a regression model"):
        select_signatures(model, ["answer"])


# --- answer ---

def test_answer_matches_decode_qa_over_windows(exported):
    reference = exported.qa
    assert max(np.bincount(reference.features.example_index)) >= 5  # long contexts take several windows
    outputs = _run(exported, "reader", "answer", question=QUESTIONS, context=CONTEXTS)
    answered = 0
    for row, example in enumerate(_qa_examples()):
        expected = reference.answers[example.qid]
        assert outputs["answer"][row].decode() == expected, row
        np.testing.assert_allclose(outputs["null_score_diff"][row], reference.null_score_diff[example.qid], atol=1e-4)
        if expected:
            answered += 1
            span = reference.best_spans[example.qid]
            assert (outputs["start"][row], outputs["end"][row]) == (span.char_start, span.char_end)
            assert example.context[span.char_start:span.char_end] == expected
            np.testing.assert_allclose(outputs["score"][row], span.score, atol=1e-4)
        else:
            assert (outputs["start"][row], outputs["end"][row]) == (-1, -1)
    assert 0 < answered < len(QUESTIONS)


def test_answer_ids_decodes_each_window(exported):
    reference = exported.qa
    features, logits = reference.features, reference.outputs
    outputs = _run(exported, "reader", "answer_ids", **features.inputs())
    np.testing.assert_allclose(outputs["null_score_diff"], -logits["answerable_logits"], atol=1e-4)
    vocab = exported.tokenizer.vocab
    for window in range(len(features)):
        candidates = best_spans_in_window(
            logits["start_logits"][window], logits["end_logits"][window], features.token_char_start[window],
            features.token_is_max_context[window] | (features.token_char_start[window] >= 0),  # any context token
            n_best_size=20, max_answer_length=4)
        if not candidates or -logits["answerable_logits"][window] > exported.threshold:
            assert (outputs["start_index"][window], outputs["end_index"][window]) == (-1, -1)
            continue
        score, start, end = max(candidates, key=lambda candidate: candidate[0])
        assert (outputs["start_index"][window], outputs["end_index"][window]) == (start, end)
        np.testing.assert_allclose(outputs["score"][window], score, atol=1e-4)
        pieces = [vocab[i] for i in features.input_word_ids[window, start:end + 1]]
        assert outputs["answer"][window].decode() == " ".join(pieces).replace(" ##", "")


# --- tag ---

def _tag_reference(exported):
    split = [split_words_with_offsets(text) for text in TAG_TEXTS]
    examples = [TaggingExample(tuple(word for word, _, _ in words)) for words in split]
    features = build_tagging_features(examples, exported.tokenizer, seq_length=8)
    logits = exported.models["tagger"](features.inputs(), training=False)["logits"].numpy()
    return split, decode_tagging(examples, features, logits, TAGS), features, logits


def test_tag_matches_decode_tagging_over_windows(exported):
    split, tags, features, _ = exported.tagging
    assert max(np.bincount(features.example_index)) >= 4  # the long sentence takes several windows
    outputs = _run(exported, "tagger", "tag", text=TAG_TEXTS)
    for row, words in enumerate(split):
        count = len(words)
        assert outputs["words"][row, :count].tolist() == [word.encode() for word, _, _ in words]
        assert outputs["word_starts"][row, :count].tolist() == [start for _, start, _ in words]
        assert outputs["word_ends"][row, :count].tolist() == [end for _, _, end in words]
        assert outputs["tags"][row, :count].tolist() == [tag.encode() for tag in tags[row]]
        assert outputs["tag_ids"][row, :count].tolist() == [TAGS.index(tag) for tag in tags[row]]
        assert (outputs["words"][row, count:] == b"").all() and (outputs["word_starts"][row, count:] == -1).all()
    assert outputs["words"][3, :6].tolist() == [b"Unable", b"houses", b",", b"caf\xc3\xa9", "北".encode(),
                                                 "京".encode()]
    # U+200B is deleted by the tokenizer: no word. A lone accent normalises to nothing: one [UNK], tagged.
    assert outputs["words"][3, 6:8].tolist() == ["\u0301".encode(), b"ran"]


def test_tag_ids_tags_every_token(exported):
    _, _, features, logits = exported.tagging
    outputs = _run(exported, "tagger", "tag_ids", **features.inputs())
    real = features.input_mask > 0
    expected = np.where(real, np.array(TAGS, dtype=object)[logits.argmax(-1)], "").astype(bytes)
    np.testing.assert_array_equal(outputs["tags"], expected)
    np.testing.assert_array_equal(outputs["input_mask"], features.input_mask)


def test_empty_batches_and_empty_texts(exported):
    outputs = _run(exported, "reader", "answer", question=np.array([], dtype=bytes), context=np.array([], dtype=bytes))
    assert outputs["answer"].shape == (0,) and outputs["start"].shape == (0,)
    outputs = _run(exported, "reader", "answer", question=["who?"], context=[""])
    assert outputs["answer"].tolist() == [b""] and (outputs["start"][0], outputs["end"][0]) == (-1, -1)
    outputs = _run(exported, "tagger", "tag", text=np.array([], dtype=bytes))
    assert outputs["words"].shape == (0, 0) and outputs["word_starts"].shape == (0, 0)


# --- TF Serving compatibility ---

def test_every_op_is_core_or_a_tf_text_op_tf_serving_bundles(exported):
    for name, result in exported.results.items():
        assert disallowed_ops(result.path) == {}, name
        counts = saved_model_op_counts(result.path)
        assert {op for op in counts if not hasattr(tf.raw_ops, op)} <= TF_TEXT_SERVING_OPS, name
        assert "RegexSplitWithOffsets" in counts and not any("Trim" in op for op in counts)


def test_tf1_session_loader_runs_the_task_signatures(exported):
    # `classify` packs text as the pretrained signatures do (test_export.py loads those); these two are new graphs.
    cases = {
        "reader": ("answer", {"question": QUESTIONS, "context": CONTEXTS}),
        "tagger": ("tag", {"text": TAG_TEXTS}),
    }
    for name, (signature_name, inputs) in cases.items():
        expected = _run(exported, name, signature_name, **inputs)
        with tf.Graph().as_default() as graph, tf.compat.v1.Session(graph=graph) as session:
            meta_graph = tf.compat.v1.saved_model.loader.load(session, ["serve"], exported.results[name].path)
            signature = meta_graph.signature_def[signature_name]
            assert signature.method_name == "tensorflow/serving/predict"
            feed = {signature.inputs[key].name: _rows(values) for key, values in inputs.items()}
            received = session.run({key: info.name for key, info in signature.outputs.items()}, feed)
        assert sorted(received) == sorted(expected), name
        for key, value in expected.items():
            if value.dtype.kind == "f":
                np.testing.assert_allclose(received[key], value, atol=1e-5, err_msg=f"{name}/{key}")
            else:
                np.testing.assert_array_equal(received[key], value, err_msg=f"{name}/{key}")


# --- Served by `electra-tf serve`: gRPC, REST, client, predict CLI ---

@pytest.fixture(scope="module")
def server(exported):
    from electra_serving.server import ModelServer, ServerOptions
    from electra_serving.testing import free_port

    models = exported.folder / "models.config"
    models.write_text("model_config_list { " + " ".join(
        f'config {{ name: "{name}" base_path: "{exported.folder / "saved_models" / name}" '
        'model_platform: "tensorflow" }'
        for name in exported.results) + " }")
    model_server = ModelServer(ServerOptions(port=free_port(), rest_api_port=free_port(),
                                             model_config_file=str(models), file_system_poll_wait_seconds=0))
    model_server.start()
    yield model_server
    model_server.stop()


SERVED = [
    ("classifier", "classify", {"text": TEXTS, "text_b": TEXTS_B}),
    ("reader", "answer", {"question": QUESTIONS, "context": CONTEXTS}),
    ("tagger", "serving_default", {"text": TAG_TEXTS}),
]


@pytest.mark.parametrize("name, signature_name, inputs", SERVED)
def test_grpc_and_rest_answers_equal_the_in_process_signature(exported, server, name, signature_name, inputs):
    import urllib.request

    import grpc
    from tensorflow_serving.apis import predict_pb2, prediction_service_pb2_grpc

    expected = _run(exported, name, signature_name, **inputs)
    request = predict_pb2.PredictRequest()
    request.model_spec.name = name
    request.model_spec.signature_name = signature_name
    for key, values in inputs.items():
        request.inputs[key].CopyFrom(tf.make_tensor_proto(_rows(values)))
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=120)
    body = json.dumps({"signature_name": signature_name, "inputs": inputs}).encode()
    with urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{server.rest_port}/v1/models/{name}:predict", data=body), timeout=120) as reply:
        rest = json.loads(reply.read())["outputs"]
    assert sorted(response.outputs) == sorted(rest) == sorted(expected)
    for key, value in expected.items():
        served = tf.make_ndarray(response.outputs[key])
        if value.dtype.kind == "f":
            np.testing.assert_allclose(served, value, atol=1e-5)
            np.testing.assert_allclose(np.array(rest[key], np.float32).reshape(value.shape), value, atol=1e-5)
        elif value.dtype == object:
            np.testing.assert_array_equal(served, value)
            assert np.array(rest[key], dtype=object).reshape(value.shape).tolist() == [
                [item.decode() for item in row] if value.ndim > 1 else row.decode() for row in value]
        else:
            np.testing.assert_array_equal(served, value)
            np.testing.assert_array_equal(np.array(rest[key]).reshape(value.shape), value)


@pytest.mark.parametrize("transport", ["grpc", "rest"])
def test_client_classify_answer_tag_match_the_library(exported, server, transport):
    from electra_serving import Client

    port = server.grpc_port if transport == "grpc" else server.rest_port
    _, probabilities = _classification_reference(exported)
    with Client(f"127.0.0.1:{port}", "classifier", transport=transport, max_batch_size=3, timeout=120) as client:
        results = client.classify(TEXTS, TEXTS_B)
    assert [r.label for r in results] == [LABELS[i] for i in probabilities.argmax(-1)]
    for result, row in zip(results, probabilities):
        assert list(result.probabilities) == list(LABELS) and result.score is None
        np.testing.assert_allclose(list(result.probabilities.values()), row, atol=1e-5)

    reference = exported.qa
    with Client(f"127.0.0.1:{port}", "reader", transport=transport, max_batch_size=4, timeout=120) as client:
        answers = client.answer(QUESTIONS, CONTEXTS)
    for answer, example in zip(answers, _qa_examples()):
        assert answer.text == reference.answers[example.qid]
        assert answer.has_answer == bool(answer.text)
        if answer.has_answer:
            assert example.context[answer.start:answer.end] == answer.text
            np.testing.assert_allclose(answer.score, reference.best_spans[example.qid].score, atol=1e-4)

    split, tags, _, _ = exported.tagging
    with Client(f"127.0.0.1:{port}", "tagger", transport=transport, max_batch_size=2, timeout=120) as client:
        tagged = client.tag(TAG_TEXTS)
    for text, words, expected_words, expected_tags in zip(TAG_TEXTS, tagged, split, tags):
        assert [(w.word, w.start, w.end) for w in words] == expected_words
        assert tuple(w.tag for w in words) == expected_tags
        assert all(text[w.start:w.end] == w.word and 0 < w.probability <= 1 for w in words)


def test_predict_cli_classify_answer_tag(exported, server, capsys):
    from electra_tf.cli.main import main

    target = ["--target", f"127.0.0.1:{server.grpc_port}", "--timeout", "120"]
    reference = exported.qa
    status = main(["predict", *target, "--model", "reader", "--signature", "answer", "--context", CONTEXT,
                   *QUESTIONS[:3]])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert status == 0 and [line["question"] for line in lines] == QUESTIONS[:3]
    assert [line["answer"] for line in lines] == [reference.answers[str(i)] for i in range(3)]
    assert all(CONTEXT[line["start"]:line["end"]] == line["answer"] for line in lines if line["start"] >= 0)

    status = main(["predict", *target, "--model", "classifier", "--signature", "classify", "--text-b", "the dog",
                   "--human", "a cat", "the mat"])
    out = capsys.readouterr().out.splitlines()
    assert status == 0 and len(out) == 2 and out[0].split()[0] in LABELS and out[1].endswith("\tthe mat")

    status = main(["predict", "--target", f"127.0.0.1:{server.rest_port}", "--transport", "rest", "--timeout", "120",
                   "--model", "tagger", "--human", TAG_TEXTS[1]])  # serving_default: tag
    _, tags, _, _ = exported.tagging
    assert status == 0
    assert capsys.readouterr().out.strip() == " ".join(f"{w}/{t}" for w, t in zip(("Hello", "world", "!"), tags[1]))

    status = main(["predict", *target, "--model", "reader", "--signature", "answer", "who?"])
    assert status == 2 and "--context" in capsys.readouterr().err
