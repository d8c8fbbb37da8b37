"""`electra-tf convert --to-hf` of fine-tuned model directories: parity with `transformers`' task classes.

Each tiny task model (two blocks, embedding_size != hidden_size, every weight perturbed so that zero biases
and unit LayerNorm gains cannot hide a wrong mapping) is saved with `save_task_model_dir`, converted by the
CLI in process, loaded with `transformers` (PyTorch, CPU) and compared on padded inputs.
"""

import json
import os

os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"

import keras
import numpy as np
import pytest
import safetensors.numpy

from conftest import requires_package
from electra_tf.cli.main import main
from electra_tf.convert.hf_task_models import ANSWERABLE_FILE
from electra_tf.finetuning.task_model_dir import TaskSpec, build_task_model, save_task_model_dir
from finetune_helpers import VOCAB, tiny_config, write_vocab

TOLERANCE = 1e-5  # max abs difference of logits, float32
SPECS = {
    "classification": TaskSpec("classification", labels=("neg", "neutral", "pos"), seq_length=16),
    "regression": TaskSpec("regression", seq_length=16),
    "tagging": TaskSpec("tagging", labels=("O", "B-PER", "I-PER", "B-LOC"), seq_length=16, tag_scheme="IOB2"),
    "qa_v1": TaskSpec("qa", seq_length=16, doc_stride=8, max_query_length=6, max_answer_length=8),
    "qa_v2": TaskSpec("qa", seq_length=16, doc_stride=8, max_query_length=6, max_answer_length=8,
                      version_2_with_negative=True),
}
ARCHITECTURES = {"classification": "ElectraForSequenceClassification",
                 "regression": "ElectraForSequenceClassification", "tagging": "ElectraForTokenClassification",
                 "qa": "ElectraForQuestionAnswering"}


def _task_model_dir(root, spec, seed=0, **config_overrides):
    """A task model with every variable perturbed, saved as a fine-tuned model directory. Returns (model, dir)."""
    keras.utils.set_random_seed(seed)
    config = tiny_config(num_layers=2, num_heads=2, **config_overrides)
    model = build_task_model(config, spec)
    rng = np.random.default_rng(seed)
    for variable in model.weights:
        variable.assign(variable.numpy() + rng.normal(0.0, 0.1, variable.shape).astype(np.float32))
    root.mkdir(parents=True, exist_ok=True)
    vocab = write_vocab(root / "vocab.txt")
    return model, save_task_model_dir(model, root / "model", spec, vocab_file=vocab)


def _batch():
    """Three packed inputs of length 12: `[CLS] a a [SEP] b b b [SEP]`, the second and third padded."""
    rng = np.random.default_rng(1)
    lengths, question = (12, 9, 7), 3
    ids = np.zeros((3, 12), np.int32)
    mask = np.zeros((3, 12), np.int32)
    types = np.zeros((3, 12), np.int32)
    for row, length in enumerate(lengths):
        ids[row, :length] = rng.integers(5, len(VOCAB), length)
        ids[row, 0], ids[row, question], ids[row, length - 1] = 2, 3, 3
        mask[row, :length] = 1
        types[row, question + 1:length] = 1
    return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": types}


def _hf_outputs(folder, architecture, inputs):
    torch = requires_package("torch")
    transformers = requires_package("transformers")
    reference, loading = getattr(transformers, architecture).from_pretrained(
        folder, attn_implementation="eager", output_loading_info=True)
    assert not any(loading[key] for key in ("missing_keys", "unexpected_keys", "mismatched_keys")), loading
    reference.eval()
    with torch.no_grad():
        return reference(
            input_ids=torch.tensor(inputs["input_word_ids"], dtype=torch.long),
            attention_mask=torch.tensor(inputs["input_mask"], dtype=torch.long),
            token_type_ids=torch.tensor(inputs["input_type_ids"], dtype=torch.long),
            output_hidden_states=True,
        )


def _convert(model_dir, out, capsys):
    assert main(["convert", "--to-hf", str(model_dir), "--out", str(out)]) == 0
    return capsys.readouterr().err


@pytest.mark.parametrize("name", ["classification", "regression", "tagging"])
def test_classifier_regressor_and_tagger_match_transformers(name, tmp_path, capsys):
    spec = SPECS[name]
    model, model_dir = _task_model_dir(tmp_path, spec)
    log = _convert(model_dir, tmp_path / "hf", capsys)
    assert f"({ARCHITECTURES[name]}, {spec.task}:" in log

    inputs = _batch()
    expected = model(inputs)["logits"].numpy()
    actual = _hf_outputs(tmp_path / "hf", ARCHITECTURES[name], inputs).logits.numpy()
    if name == "tagging":  # per token: compare the real positions
        real = inputs["input_mask"].astype(bool)
        expected, actual = expected[real], actual[real]
    assert np.abs(actual - expected).max() < TOLERANCE

    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    assert config["architectures"] == [ARCHITECTURES[name]]
    labels = list(spec.labels) or ["LABEL_0"]
    assert config["id2label"] == {str(index): label for index, label in enumerate(labels)}
    assert config["label2id"] == {label: index for index, label in enumerate(labels)}
    if name != "tagging":
        assert config["problem_type"] == ("regression" if name == "regression" else "single_label_classification")
    tokenizer_config = json.loads((tmp_path / "hf" / "tokenizer_config.json").read_text())
    assert tokenizer_config["tokenizer_class"] == "ElectraTokenizer" and tokenizer_config["do_lower_case"]
    assert (tmp_path / "hf" / "vocab.txt").read_text(encoding="utf-8").split() == VOCAB


def test_text_classification_pipeline_gives_our_label(tmp_path, capsys):
    transformers = requires_package("transformers")
    spec = SPECS["classification"]
    model, model_dir = _task_model_dir(tmp_path, spec, seed=3)
    _convert(model_dir, tmp_path / "hf", capsys)
    pipeline = transformers.pipeline("text-classification", model=str(tmp_path / "hf"), top_k=None)
    text = "good w3 paris w7"
    ids = pipeline.tokenizer(text)["input_ids"]
    assert ids[0] == 2 and ids[-1] == 3 and 1 not in ids  # [CLS] ... [SEP], no [UNK]: our vocabulary
    logits = model({"input_word_ids": np.array([ids], np.int32), "input_mask": np.ones((1, len(ids)), np.int32),
                    "input_type_ids": np.zeros((1, len(ids)), np.int32)})["logits"].numpy()[0]
    probabilities = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    scores = {entry["label"]: entry["score"] for entry in pipeline([text])[0]}
    assert scores.keys() == set(spec.labels)
    np.testing.assert_allclose([scores[label] for label in spec.labels], probabilities, atol=1e-5)


def test_qa_start_end_and_side_file_answerability_match_ours(tmp_path, capsys):
    model, model_dir = _task_model_dir(tmp_path, SPECS["qa_v2"])
    log = _convert(model_dir, tmp_path / "hf", capsys)
    assert "ElectraForQuestionAnswering" in log and "transformers ignores" in log and ANSWERABLE_FILE in log

    inputs = _batch()
    ours = {key: value.numpy() for key, value in model(inputs).items()}
    reference = _hf_outputs(tmp_path / "hf", "ElectraForQuestionAnswering", inputs)
    # transformers returns the raw logits; ours add -10000 outside the context and [CLS].
    allowed = (inputs["input_mask"] * inputs["input_type_ids"]).astype(bool)
    allowed[:, 0] = True
    for key in ("start_logits", "end_logits"):
        actual = getattr(reference, key).numpy()
        assert np.abs(actual[allowed] - ours[key][allowed]).max() < TOLERANCE
        np.testing.assert_allclose(actual[~allowed] - 10000.0, ours[key][~allowed], atol=1e-3)

    # The side file's formula on transformers' hidden states gives our answerability logits.
    head = safetensors.numpy.load_file(str(tmp_path / "hf" / ANSWERABLE_FILE))
    hidden = reference.hidden_states[-1].numpy()  # [batch, seq, hidden]
    start = np.where(allowed, reference.start_logits.numpy(), reference.start_logits.numpy() - 10000.0)
    weights = np.exp(start - start.max(-1, keepdims=True))
    weights /= weights.sum(-1, keepdims=True)  # [batch, seq]
    features = np.concatenate([hidden[:, 0], np.einsum("bl,blh->bh", weights, hidden)], axis=-1)
    inner = features @ head["answerable_hidden.weight"].T + head["answerable_hidden.bias"]
    inner = requires_package("torch").nn.functional.gelu(requires_package("torch").from_numpy(inner)).numpy()
    answerable = (inner @ head["answerable_head.weight"].T + head["answerable_head.bias"])[:, 0]
    assert np.abs(answerable - ours["answerable_logits"]).max() < TOLERANCE


def test_squad_1_1_model_writes_no_answerability_file(tmp_path, capsys):
    _, model_dir = _task_model_dir(tmp_path, SPECS["qa_v1"])
    log = _convert(model_dir, tmp_path / "hf", capsys)
    assert not (tmp_path / "hf" / ANSWERABLE_FILE).exists() and ANSWERABLE_FILE not in log
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    assert config["id2label"] == {"0": "start", "1": "end"}


def test_classifier_without_an_exact_form_is_refused_with_status_2(tmp_path, capsys):
    labels = tuple(f"class{index}" for index in range(17))  # 2 x 17 > hidden_size 32
    _, model_dir = _task_model_dir(tmp_path, TaskSpec("classification", labels=labels, seq_length=16))
    assert main(["convert", "--to-hf", model_dir, "--out", str(tmp_path / "hf")]) == 2
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert "num_labels=17 and hidden_size=32" in message and "2 * num_labels <= hidden_size" in message
    assert not (tmp_path / "hf").exists()
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".tmp-")] == []
