"""Held-out evaluation: the split of `prepare`, ROC-AUC, fixed-mask evaluation, history.jsonl, the CLI.

A synthetic corpus whose every sentence names its document and its place ("document 12 sentence 3 ..."),
with a vocabulary made for it, so each example tells which documents and sentences it holds.
"""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WORDS = ["document", "sentence", "the", "cat", "dog", "sat", "ran", "on", "a", "mat", "log", "and", "then", "."]
NOISE_MARKERS = ("oneDNN", "cudart_stub", "cpu_feature_guard", "absl::InitializeLog", "cuInit", "I0000", "E0000")


def _write_vocab(path):
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS + [str(number) for number in range(200)]
    path.write_text("\n".join(tokens) + "\n")
    return path


def _write_corpus(path, documents, sentences_per_document):
    """One sentence a line, a blank line between documents; sentence (i, j) is unique."""
    rng = np.random.default_rng(0)
    lines = []
    for i in range(documents):
        for j in range(sentences_per_document):
            filler = " ".join(rng.choice(WORDS[2:-1], size=4))
            lines.append(f"document {i} sentence {j} {filler} .")
        lines.append("")
    path.write_text("\n".join(lines) + "\n")
    return path


def _examples(paths, seq_length):
    import tensorflow as tf

    spec = {"input_ids": tf.io.FixedLenFeature([seq_length], tf.int64)}
    records = list(tf.data.TFRecordDataset(paths).as_numpy_iterator())
    return tf.io.parse_example(records, spec)["input_ids"].numpy() if records else np.zeros([0, seq_length], int)


def _sentence_ids(rows, vocab_path):
    """(document, sentence) pairs named in the examples; a pair cut off at a segment end may be partial."""
    tokens = vocab_path.read_text().split("\n")
    pairs = set()
    for row in rows:
        text = " ".join(tokens[i] for i in row if i > 4)
        pairs.update((int(d), int(s)) for d, s in re.findall(r"document (\d+) sentence (\d+)", text))
    return pairs


@pytest.fixture(scope="module")
def vocab(tmp_path_factory):
    return _write_vocab(tmp_path_factory.mktemp("vocab") / "vocab.txt")


def _prepare(corpus, vocab, out, fraction, seed=0, seq_length=32):
    from electra_tf.data.corpus import CorpusOptions
    from electra_tf.data.preparation import PrepareOptions, prepare_pretraining_data

    options = PrepareOptions(seq_length=seq_length, seed=seed, num_shards=2, workers=1, validation_fraction=fraction,
                             corpus=CorpusOptions(corpus_format="sentences"))
    return prepare_pretraining_data([str(corpus)], str(vocab), str(out), options)


@pytest.mark.parametrize("documents, sentences, mode", [(60, 6, "documents"), (3, 120, "spans")])
def test_held_out_split_shares_no_text_with_training(tmp_path, vocab, documents, sentences, mode):
    corpus = _write_corpus(tmp_path / "corpus.txt", documents, sentences)
    manifest = _prepare(corpus, vocab, tmp_path / "data", fraction=0.1)
    assert manifest.validation["mode"] == mode
    train = _sentence_ids(_examples(manifest.shard_paths, 32), vocab)
    held_out = _sentence_ids(_examples(manifest.validation_shard_paths, 32), vocab)
    assert held_out and train
    assert not train & held_out  # no sentence on both sides
    if mode == "documents":
        held_out_documents = {d for d, _ in held_out}
        assert not held_out_documents & {d for d, _ in train}  # whole documents: none straddles the split
        assert len(held_out_documents) == manifest.validation["documents"] == 6
    else:  # one contiguous span of each document
        for d in range(documents):
            spans = sorted(s for doc, s in held_out if doc == d)
            # 12 consecutive sentences held out (the official builder may cut off the odd one at a segment end)
            assert spans[-1] - spans[0] < 12 and len(spans) >= 9, spans
    assert manifest.num_validation_examples == manifest.validation["counts"]["examples"] > 0
    # Deterministic for the seed; another seed chooses other text.
    again = _prepare(corpus, vocab, tmp_path / "again", fraction=0.1)
    held_out_rows = _examples(manifest.validation_shard_paths, 32).tolist()
    assert _examples(again.validation_shard_paths, 32).tolist() == held_out_rows
    other = _prepare(corpus, vocab, tmp_path / "other", fraction=0.1, seed=1)
    assert _sentence_ids(_examples(other.validation_shard_paths, 32), vocab) != held_out


def test_roc_auc_equals_sklearn_with_ties():
    from sklearn.metrics import roc_auc_score

    from electra_tf.evaluation import roc_auc

    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, size=5000)
    scores = np.round(rng.normal(size=5000) + labels * 0.7, 1)  # rounded: many ties
    assert len(np.unique(scores)) < 100
    assert roc_auc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    tied = [0.2, 0.2, 0.2, 0.9]  # positive-negative pairs: 2 wins and 2 ties of 4
    assert roc_auc(tied, [0, 1, 0, 1]) == pytest.approx(roc_auc_score([0, 1, 0, 1], tied)) == 0.75
    assert roc_auc([1, 2, 3], [0, 0, 1]) == 1.0 and roc_auc([3, 2, 1], [0, 0, 1]) == 0.0
    assert np.isnan(roc_auc([0.1, 0.2], [1, 1]))
    with pytest.raises(ValueError, match="differ in length"):
        roc_auc([0.1], [0, 1])


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, vocab):
    from electra_tf.training import PretrainOptions, pretrain

    work = tmp_path_factory.mktemp("run")
    corpus = _write_corpus(work / "corpus.txt", 60, 6)
    manifest = _prepare(corpus, vocab, work / "data", fraction=0.1)
    options = PretrainOptions(out_dir=str(work / "run"), data_dir=str(work / "data"), preset="tiny", steps=4,
                              batch_size=8, checkpoint_every=4, log_every=2, eval_every=2, eval_batches=2,
                              strategy="default")
    result = pretrain(options)
    return work, manifest, result


def test_pretrain_writes_history_and_tensorboard_logs(trained_run):
    from tensorboard.backend.event_processing import event_accumulator
    from tensorboard.util import tensor_util

    from electra_tf.training.history import read_history

    work, manifest, result = trained_run
    lines = read_history(work / "run")
    assert [(line["step"], line["split"]) for line in lines] == [
        (2, "train"), (2, "validation"), (4, "train"), (4, "validation")]
    train, validation = lines[2], lines[3]
    for name in ("loss", "mlm_loss", "mlm_accuracy", "rtd_loss", "rtd_accuracy", "rtd_precision", "rtd_recall",
                 "learning_rate", "examples_per_second"):
        assert np.isfinite(train[name]), name
    for name in ("loss", "mlm_loss", "mlm_accuracy", "rtd_loss", "rtd_accuracy", "rtd_auc"):
        assert np.isfinite(validation[name]), name
    assert validation["examples"] == min(16, manifest.num_validation_examples) > 8  # 2 batches of 8 at most
    # The train line is the mean of the steps since the previous line.
    assert train["loss"] == pytest.approx(np.mean([step["loss"] for step in result.history[2:4]]), rel=1e-6)
    assert result.evaluations[-1]["rtd_auc"] == validation["rtd_auc"]
    # TensorBoard reads both folders (tf.summary.scalar from the tensorboard package).
    for split, line in (("train", train), ("validation", validation)):
        accumulator = event_accumulator.EventAccumulator(str(work / "run" / "logs" / split),
                                                         size_guidance={event_accumulator.TENSORS: 0})
        accumulator.Reload()
        events = accumulator.Tensors("loss")
        assert [event.step for event in events] == [2, 4]
        assert float(tensor_util.make_ndarray(events[-1].tensor_proto)) == pytest.approx(line["loss"], rel=1e-5)
    assert "rtd_auc" in accumulator.Tags()["tensors"]


def test_evaluation_is_deterministic_and_reproduces_the_run(trained_run):
    from electra_tf.data.pipeline import validation_dataset
    from electra_tf.evaluation import PretrainingEvaluator
    from electra_tf.model_dir import load_model_dir
    from electra_tf.training.history import read_history

    work, manifest, _ = trained_run
    pretrainer, _ = load_model_dir(work / "run" / "final")
    evaluator = PretrainingEvaluator(pretrainer, seed=0)
    first = evaluator.evaluate(validation_dataset(manifest.data_dir, 8), max_batches=2)
    second = evaluator.evaluate(validation_dataset(manifest.data_dir, 8), max_batches=2)
    assert first == second
    logged = read_history(work / "run")[-1]
    for name in ("mlm_loss", "mlm_accuracy", "rtd_loss", "rtd_auc"):
        assert first[name] == pytest.approx(logged[name], rel=1e-5), name
    other_masks = evaluator.evaluate(validation_dataset(manifest.data_dir, 8), max_batches=2, seed=1)
    assert other_masks["mlm_loss"] != first["mlm_loss"]


def test_evaluate_pretraining_cli_prints_json_last_without_tensorflow_noise(trained_run):
    work, _, _ = trained_run
    environment = {name: value for name, value in os.environ.items() if name != "TF_CPP_MIN_LOG_LEVEL"}
    environment["PYTHONPATH"] = ROOT + os.pathsep + os.path.join(ROOT, "serving")
    completed = subprocess.run(
        [sys.executable, "-m", "electra_tf", "evaluate-pretraining", "--model", str(work / "run"),
         "--data", str(work / "data"), "--batches", "2"],
        cwd=ROOT, env=environment, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    logged = [line for line in open(work / "run" / "history.jsonl")][-1]
    assert result["rtd_auc"] == pytest.approx(json.loads(logged)["rtd_auc"], rel=1e-5)
    assert result["model"] == str(work / "run" / "final") and result["split"] == "validation"
    assert "using the run's final model directory" in completed.stderr
    noise = [line for line in completed.stderr.splitlines() if any(marker in line for marker in NOISE_MARKERS)]
    assert not noise, noise


class _FixedOutputsPretrainer:
    """Stands in for an ElectraPretrainer: batch b's outputs are hand-written (the evaluator's seed word 1 is b)."""

    def __init__(self, config, outputs_by_batch):
        import tensorflow as tf

        self.config = config
        self._outputs = {name: tf.constant(np.stack([outputs[name] for outputs in outputs_by_batch]))
                         for name in outputs_by_batch[0]}

    def pretraining_outputs(self, inputs, seed, training=False):
        import tensorflow as tf

        return {name: tf.gather(value, seed[1]) for name, value in self._outputs.items()}


def _one_hot_logits(predicted, vocab_size):
    return np.eye(vocab_size, dtype=np.float32)[predicted] * 5.0  # [B, P, vocab]: arg-max `predicted`


def test_accuracy_at_mask_and_unigram_baseline_by_hand():
    """Two batches whose masks and predictions are written out, so every count below is checked by eye."""
    import types

    from electra_tf.evaluation import PretrainingEvaluator

    # [PAD]=0, [CLS]=2, [SEP]=3, [MASK]=4; words 5..9.
    config = types.SimpleNamespace(mask_id=4, special_ids=(0, 2, 3, 4), vocab_size=10, rtd_loss_weight=50.0)
    batches = [
        {"input_word_ids": np.array([[2, 5, 6, 5, 7, 5, 8, 3]]), "input_mask": np.ones([1, 8], np.int32)},
        {"input_word_ids": np.array([[2, 6, 6, 6, 6, 7, 3, 0]]), "input_mask": np.array([[1, 1, 1, 1, 1, 1, 1, 0]])},
    ]
    for batch in batches:
        batch["input_type_ids"] = np.zeros([1, 8], np.int32)
    outputs = [
        {  # chosen 1 ([MASK]), 2 ([MASK]), 3 (kept 5), 4 (random 9); the 5th slot is padding (weight 0)
            "masked_word_ids": np.array([[2, 4, 4, 5, 9, 5, 8, 3]]),
            "mask_positions": np.array([[1, 2, 3, 4, 1]]),
            "mask_weights": np.array([[1.0, 1.0, 1.0, 1.0, 0.0]], np.float32),
            "original_ids": np.array([[5, 6, 5, 7, 5]]),
            "mlm_logits": _one_hot_logits(np.array([[5, 6, 5, 9, 5]]), 10),  # right, right, right (copied), wrong
        },
        {  # chosen 1 ([MASK]), 2 (kept 6), 5 ([MASK]); two padding slots
            "masked_word_ids": np.array([[2, 4, 6, 6, 6, 4, 3, 0]]),
            "mask_positions": np.array([[1, 2, 5, 0, 0]]),
            "mask_weights": np.array([[1.0, 1.0, 1.0, 0.0, 0.0]], np.float32),
            "original_ids": np.array([[6, 6, 7, 2, 2]]),
            "mlm_logits": _one_hot_logits(np.array([[6, 6, 6, 2, 2]]), 10),  # right, right (copied), wrong
        },
    ]
    for output in outputs:
        output["mlm_loss"] = np.float32(1.5)
    metrics = PretrainingEvaluator(_FixedOutputsPretrainer(config, outputs)).evaluate(batches)
    assert metrics["masked_tokens"] == 7 and metrics["mask_token_positions"] == 4
    assert metrics["mlm_accuracy"] == pytest.approx(5 / 7)  # kept tokens copied: counted right
    assert metrics["mlm_accuracy_at_mask"] == pytest.approx(3 / 4)  # [MASK] at 5 right, 6 right; 6 right, 7 wrong
    # Word counts of both batches: 5 x3, 6 x5, 7 x2, 8 x1 -> always "6"; [MASK] targets 5, 6, 6, 7 -> 2 of 4.
    assert metrics["unigram_accuracy_at_mask"] == pytest.approx(2 / 4)
    assert metrics["mlm_loss"] == pytest.approx(1.5) and "rtd_auc" not in metrics


def _cli_json(capsys, *arguments):
    from electra_tf.cli.main import main

    capsys.readouterr()
    assert main(["evaluate-pretraining", *arguments]) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_sampling_temperature_flag_sets_how_often_samples_replace(trained_run, tmp_path, capsys):
    """A generator biased to always say "document": near temperature 0 it samples its arg-max, so a chosen
    token is replaced exactly where the arg-max is wrong; at a huge temperature nearly every sample replaces."""
    import shutil

    from electra_tf.model_dir import WEIGHTS_FILE, load_model_dir

    work, _, _ = trained_run
    biased = tmp_path / "biased"
    shutil.copytree(work / "run" / "final", biased)
    pretrainer, _ = load_model_dir(biased, with_tokenizer=False)
    (bias,) = [weight for weight in pretrainer.generator.weights if "output_bias" in weight.path]
    values = bias.numpy()
    values[5] += 30.0  # "document"
    bias.assign(values)
    pretrainer.save_weights(str(biased / WEIGHTS_FILE))

    data = ["--model", str(biased), "--data", str(work / "data"), "--batches", "2"]
    default = _cli_json(capsys, *data)
    assert default["sampling_temperature"] == default["model_sampling_temperature"] == 1.0
    for name in ("mlm_accuracy", "mlm_accuracy_at_mask", "unigram_accuracy_at_mask", "mask_token_positions"):
        assert name in default, name
    assert 0 < default["mask_token_positions"] <= default["masked_tokens"]
    cold = _cli_json(capsys, *data, "--sampling-temperature", "1e-8")
    hot = _cli_json(capsys, *data, "--sampling-temperature", "1e6")
    assert cold["sampling_temperature"] == 1e-8 and hot["sampling_temperature"] == 1e6
    assert cold["model_sampling_temperature"] == 1.0
    assert cold["mlm_accuracy"] == default["mlm_accuracy"] == hot["mlm_accuracy"]  # the generator is unchanged
    assert cold["mlm_accuracy"] > 0.05  # "document" is a frequent target
    # "document" is also the most frequent held-out word (ties with "sentence" and "." go to the lowest id), so a
    # generator that only ever says it scores exactly the unigram baseline at the [MASK] positions.
    assert cold["mlm_accuracy_at_mask"] == pytest.approx(cold["unigram_accuracy_at_mask"])
    replaced_cold = round(cold["replaced_fraction"] * cold["tokens"])
    assert replaced_cold == round(cold["masked_tokens"] * (1 - cold["mlm_accuracy"]))
    assert hot["replaced_fraction"] > cold["replaced_fraction"]
    from electra_tf.cli.main import main

    assert main(["evaluate-pretraining", *data, "--sampling-temperature", "0"]) == 2
    assert "--sampling-temperature must be a positive number" in capsys.readouterr().err
