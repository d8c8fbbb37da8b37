"""`electra-tf pretrain` on one device: resume after SIGKILL (streamed and prepared data), corrupt checkpoints,
NaN stop, precisions, accumulation, XLA, a vocabulary that does not match the data, `--init-from` (continued
pretraining from a model directory).

Tiny model (2 layers, seq 32, batch 8) on the first 120 kB of Alice in Wonderland, streamed or prepared.
"""

import glob
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from pretrain_helpers import scalar_curve

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--preset", "tiny", "--seq-length", "32", "--batch-size", "8"]


@pytest.fixture(scope="session")
def corpus(shared_data, tmp_path_factory):
    path = tmp_path_factory.mktemp("pretrain_corpus") / "alice.txt"
    path.write_bytes((shared_data / "corpus" / "en" / "gutenberg_raw" / "11-0.txt").read_bytes()[:120_000])
    return str(path)


@pytest.fixture(scope="session")
def prepared(corpus, english_vocab, tmp_path_factory):
    """`electra-tf prepare` of the corpus: seq 32 in 4 shards (the interleave reads them in parallel)."""
    from electra_tf.data.preparation import PrepareOptions, prepare_pretraining_data

    out = tmp_path_factory.mktemp("prepared")
    return prepare_pretraining_data([corpus], english_vocab, out, PrepareOptions(seq_length=32, num_shards=4))


def _options(corpus, vocab, out_dir, **overrides):
    from electra_tf.training import PretrainOptions

    values = dict(out_dir=str(out_dir), corpus=(corpus,), vocab_file=str(vocab), preset="tiny", seq_length=32,
                  batch_size=8, steps=4, checkpoint_every=2, log_every=1, strategy="default")
    return PretrainOptions(**{**values, **overrides})


def _data_options(data_dir, out_dir, **overrides):
    """The options of `pretrain --data DATA_DIR --preset tiny --batch-size 8` (seq 32 comes from the data)."""
    from electra_tf.training import PretrainOptions

    values = dict(out_dir=str(out_dir), data_dir=str(data_dir), preset="tiny", batch_size=8, steps=4,
                  checkpoint_every=2, log_every=1, strategy="default")
    return PretrainOptions(**{**values, **overrides})


def _cli(args, **kwargs):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ROOT + os.pathsep + os.path.join(ROOT, "serving")}
    return subprocess.Popen([sys.executable, "-m", "electra_tf", "pretrain", *args], cwd=ROOT, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def _kill_after_a_checkpoint_and_resume(args, run_dir, steps):
    """Runs `pretrain ARGS`, SIGKILLs it once it wrote a checkpoint, runs it again; returns the resumed stdout."""
    process = _cli(args)
    state_file = run_dir / "checkpoints" / "checkpoint"
    deadline = time.monotonic() + 120
    while not state_file.exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed: " + process.communicate()[1][-2000:]
    process.send_signal(signal.SIGKILL)
    process.wait()
    killed_at = max(scalar_curve(run_dir))
    assert killed_at < steps

    resumed = _cli(args)
    stdout, stderr = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, stderr[-3000:]
    assert "resuming at step" in stderr
    return stdout


def test_sigkill_mid_run_resumes_to_the_same_loss_curve(corpus, english_vocab, tmp_path):
    from electra_tf.training import pretrain

    steps = 12
    reference = pretrain(_options(corpus, english_vocab, tmp_path / "reference", steps=steps, checkpoint_every=4))
    reference_losses = {entry["step"]: entry["loss"] for entry in reference.history}

    run_dir = tmp_path / "killed"
    args = ["--corpus", corpus, "--vocab", str(english_vocab), "--out", str(run_dir), *TINY, "--steps", str(steps),
            "--checkpoint-every", "4", "--log-every", "1", "--strategy", "default"]
    stdout = _kill_after_a_checkpoint_and_resume(args, run_dir, steps)
    assert stdout.strip() == str(run_dir / "final")
    curve = scalar_curve(run_dir)
    assert sorted(curve) == sorted(reference_losses) == list(range(1, steps + 1))
    np.testing.assert_allclose([curve[s] for s in range(1, steps + 1)],
                               [reference_losses[s] for s in range(1, steps + 1)], rtol=1e-5)
    assert sorted(os.listdir(run_dir / "final")) == ["config.json", "pretrainer.weights.h5", "tokenizer.json", "vocab.txt"]

    again = _cli(args)  # a finished run: nothing to train, the final model is rewritten
    _, stderr = again.communicate(timeout=120)
    assert again.returncode == 0 and f"resuming at step {steps}" in stderr


def _final_weights(run_dir) -> dict:
    from electra_tf.model_dir import load_model_dir

    model, _ = load_model_dir(str(run_dir / "final"), with_tokenizer=False)
    return {weight.path: np.asarray(weight) for weight in model.weights}


def test_sigkill_mid_run_on_prepared_data_resumes_to_the_same_weights(prepared, english_vocab, tmp_path):
    """`pretrain --data`, killed after its first checkpoint and run again, ends where an uninterrupted run does.

    A resumed run skips as many batches as were consumed (training/inputs.py); that lands on the same data only
    if the prepared data's order is a pure function of the seed (deterministic parallel reads, pipeline.py).
    """
    from electra_tf.training import pretrain

    steps = 12
    common = ["--data", prepared.data_dir, "--preset", "tiny", "--batch-size", "8", "--steps", str(steps),
              "--checkpoint-every", "4", "--log-every", "1", "--strategy", "default"]
    reference_dir = tmp_path / "reference"
    pretrain(_data_options(prepared.data_dir, reference_dir, steps=steps, checkpoint_every=4))

    run_dir = tmp_path / "killed"
    args = [*common, "--out", str(run_dir)]
    _kill_after_a_checkpoint_and_resume(args, run_dir, steps)
    reference_curve, curve = scalar_curve(reference_dir), scalar_curve(run_dir)
    assert sorted(curve) == sorted(reference_curve) == list(range(1, steps + 1))
    np.testing.assert_allclose([curve[s] for s in sorted(curve)], [reference_curve[s] for s in sorted(curve)],
                               rtol=1e-5)
    reference, final = _final_weights(reference_dir), _final_weights(run_dir)
    assert sorted(final) == sorted(reference) and len(final) > 0
    for path, value in reference.items():
        np.testing.assert_allclose(final[path], value, rtol=1e-5, atol=1e-7, err_msg=path)


def test_corrupt_latest_checkpoint_falls_back_to_the_previous(corpus, english_vocab, tmp_path, capsys):
    from electra_tf.training import pretrain

    run_dir = tmp_path / "run"
    pretrain(_options(corpus, english_vocab, run_dir, steps=4))
    data_file = run_dir / "checkpoints" / "ckpt-4.data-00000-of-00001"
    data_file.write_bytes(data_file.read_bytes()[: data_file.stat().st_size // 2])  # a truncated write
    result = pretrain(_options(corpus, english_vocab, run_dir, steps=4))
    warning = capsys.readouterr().err
    assert "ckpt-4 is incomplete or corrupt" in warning and "trying the previous one" in warning
    assert result.start_step == 2
    assert [entry["step"] for entry in result.history] == [3, 4]


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(corpus, english_vocab, tmp_path):
    from electra_tf.training import TrainingDivergedError, pretrain

    run_dir = tmp_path / "run"
    # A learning rate of 1e30 sends the weights to ~1e30 after one step; the next forward pass overflows.
    options = _options(corpus, english_vocab, run_dir, steps=6, checkpoint_every=1, learning_rate=1e30, warmup_steps=0)
    with pytest.raises(TrainingDivergedError, match=r"training diverged at step (\d+): loss") as caught:
        pretrain(options)
    diverged_at = int(caught.value.args[0].split("step ")[1].split(":")[0])
    saved = sorted(int(p.split("-")[-1].split(".")[0]) for p in glob.glob(str(run_dir / "checkpoints" / "ckpt-*.index")))
    assert saved and max(saved) == diverged_at - 1
    assert f"the last good checkpoint is step {diverged_at - 1}" in str(caught.value)
    assert not (run_dir / "final").exists()


@pytest.mark.parametrize("precision", ["bf16", "fp16"])
def test_mixed_precision_steps_train_float32_master_weights(corpus, english_vocab, tmp_path, precision):
    import keras

    from electra_tf.model_dir import load_model_dir
    from electra_tf.training import pretrain

    result = pretrain(_options(corpus, english_vocab, tmp_path / precision, steps=2, precision=precision))
    assert keras.config.dtype_policy().name == "float32"  # the global policy is restored
    assert [entry["step"] for entry in result.history] == [1, 2]
    assert all(np.isfinite(entry["loss"]) for entry in result.history)
    if precision == "fp16":
        assert result.history[0]["loss_scale"] > 1  # dynamic loss scaling is on
    pretrainer, _ = load_model_dir(result.final_dir)
    assert {v.dtype for v in pretrainer.trainable_variables} == {"float32"}


def test_gradient_accumulation_matches_the_full_batch(corpus, english_vocab, tmp_path):
    """K=2 micro-batches of 4 equal one batch of 8 when the masks cannot differ (all tokens masked, no dropout).

    Without blank lines the stream has no document [SEP]s, so every sequence has 30 maskable tokens and the
    micro-batches' loss denominators are equal (the condition for accumulation to be exact, train_step.py).
    """
    from electra_tf.model_dir import load_model_dir
    from electra_tf.training import pretrain

    with open(corpus, encoding="utf-8") as stream:
        lines = [line for line in stream if line.strip()]
    corpus = str(tmp_path / "no_blank_lines.txt")
    with open(corpus, "w", encoding="utf-8") as stream:
        stream.writelines(lines)

    config_file = tmp_path / "deterministic.json"
    config_file.write_text(json.dumps({"hidden_dropout": 0.0, "attention_dropout": 0.0, "mask_rate": 1.0,
                                       "mask_token_rate": 1.0, "random_token_rate": 0.0}))
    common = dict(steps=1, objective="mlm", config_file=str(config_file), checkpoint_every=1)
    full = pretrain(_options(corpus, english_vocab, tmp_path / "full", **common))
    accumulated = pretrain(_options(corpus, english_vocab, tmp_path / "accumulated", grad_accum=2, **common))
    assert len(full.history) == len(accumulated.history) == 1
    for name in ("loss", "mlm_accuracy", "gradient_norm"):
        np.testing.assert_allclose(accumulated.history[0][name], full.history[0][name], rtol=1e-4)  # summation order
    full_model, _ = load_model_dir(full.final_dir, with_tokenizer=False)
    accumulated_model, _ = load_model_dir(accumulated.final_dir, with_tokenizer=False)
    assert len(full_model.weights) == len(accumulated_model.weights) > 0
    for a, b in zip(full_model.weights, accumulated_model.weights, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6, err_msg=a.path)


def test_config_that_contradicts_the_vocabulary_is_refused(corpus, english_vocab, tmp_path):
    config_file = tmp_path / "config.yaml"
    config_file.write_text("vocab_size: 1000\n")
    process = _cli(["--corpus", corpus, "--vocab", str(english_vocab), "--out", str(tmp_path / "run"), *TINY,
                    "--config", str(config_file)])
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2
    assert stderr.strip().splitlines()[-1] == (
        f"electra-tf pretrain: error: config file {str(config_file)!r} sets vocab_size=1000, "
        "but the vocabulary has vocab_size=30522."
    )


def test_vocabulary_that_does_not_match_the_data_exits_2(prepared, chinese_vocab, tmp_path):
    process = _cli(["--data", prepared.data_dir, "--vocab", str(chinese_vocab), "--out", str(tmp_path / "run"),
                    "--preset", "tiny", "--batch-size", "8", "--steps", "1"])
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"electra-tf pretrain: error: Vocabulary {str(chinese_vocab)!r} (sha256 ")
    assert f"does not match the one the data in {prepared.data_dir!r} was prepared with" in last
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_xla_through_the_training_loop_equals_the_graph_step(prepared, tmp_path):
    """`pretrain --xla` (the CLI's loop with the step compiled by XLA) computes what the graph step computes.

    XLA draws other random numbers than TensorFlow's kernels for the same stateless seed, so with random masks
    and samples the two differ by chance (~0.2% in the loss); here the randomness is fixed (the MLM objective,
    every maskable token masked with [MASK], no dropout) and losses, gradient norms and weights must agree.
    """
    from electra_tf.model_dir import load_model_dir
    from electra_tf.training import pretrain

    config_file = tmp_path / "no_randomness.json"
    config_file.write_text(json.dumps({"hidden_dropout": 0.0, "attention_dropout": 0.0, "mask_rate": 1.0,
                                       "mask_token_rate": 1.0, "random_token_rate": 0.0}))
    common = dict(steps=2, checkpoint_every=2, objective="mlm", config_file=str(config_file), learning_rate=1e-3,
                  warmup_steps=0)
    graph = pretrain(_data_options(prepared.data_dir, tmp_path / "graph", **common))
    xla = pretrain(_data_options(prepared.data_dir, tmp_path / "xla", xla=True, **common))
    assert [entry["step"] for entry in xla.history] == [entry["step"] for entry in graph.history] == [1, 2]
    for name in ("loss", "mlm_loss", "mlm_accuracy", "gradient_norm"):
        np.testing.assert_allclose([entry[name] for entry in xla.history], [entry[name] for entry in graph.history],
                                   rtol=1e-4, err_msg=name)
    graph_model, _ = load_model_dir(graph.final_dir, with_tokenizer=False)
    xla_model, _ = load_model_dir(xla.final_dir, with_tokenizer=False)
    assert len(graph_model.weights) == len(xla_model.weights) > 0
    for a, b in zip(graph_model.weights, xla_model.weights, strict=True):
        np.testing.assert_allclose(np.asarray(b), np.asarray(a), rtol=1e-4, atol=1e-5, err_msg=a.path)


def test_run_json_records_absolute_paths_so_a_run_reads_from_any_directory(tmp_path, monkeypatch):
    from electra_tf.training import PretrainOptions

    monkeypatch.chdir(tmp_path)
    options = PretrainOptions(out_dir="run", data_dir="data", config_file="t3.yaml", preset="tiny")
    recorded = options.to_dict()
    assert recorded["out_dir"] == str(tmp_path / "run")
    assert recorded["data_dir"] == str(tmp_path / "data")
    assert recorded["config_file"] == str(tmp_path / "t3.yaml")
    assert recorded["vocab_file"] is None and recorded["corpus"] == []
    streamed = PretrainOptions(out_dir="run", corpus=("books/*.txt",), vocab_file="vocab.txt").to_dict()
    assert streamed["corpus"] == [str(tmp_path / "books" / "*.txt")]
    assert streamed["vocab_file"] == str(tmp_path / "vocab.txt")
    assert options.data_dir == "data"  # the options themselves are unchanged


@pytest.fixture(scope="module")
def source_run(corpus, english_vocab, tmp_path_factory):
    """A finished 2-step tiny run: the model directory the `--init-from` tests start from."""
    from electra_tf.training import pretrain

    return pretrain(_options(corpus, english_vocab, tmp_path_factory.mktemp("source") / "run", steps=2))


def _weights(model_dir):
    from electra_tf.model_dir import load_model_dir

    model, _ = load_model_dir(model_dir, with_tokenizer=False)
    return {weight.path: np.asarray(weight) for weight in model.weights}


def test_init_from_starts_a_new_run_from_the_model_weights(corpus, english_vocab, source_run, tmp_path):
    """At a learning rate of 1e-9 one step leaves the source's weights; fresh weights (seed 1) would be far off."""
    from electra_tf.training import pretrain

    started = pretrain(_options(corpus, english_vocab, tmp_path / "adapted", preset=None, steps=1, seed=1,
                                learning_rate=1e-9, warmup_steps=0, init_from=os.path.dirname(source_run.final_dir)))
    assert started.start_step == 0 and started.final_step == 1
    assert started.config.learning_rate == 1e-9 and started.config.train_steps == 1
    assert started.config.num_layers == source_run.config.num_layers == 2
    source, adapted = _weights(source_run.final_dir), _weights(started.final_dir)
    counter = "electra_pretrainer/step_counter"
    assert (source.pop(counter), adapted.pop(counter)) == (2, 1)  # the new run counts its own steps
    assert sorted(source) == sorted(adapted)
    for path, value in source.items():
        np.testing.assert_allclose(adapted[path], value, atol=1e-6, err_msg=path)
    fresh = pretrain(_options(corpus, english_vocab, tmp_path / "fresh", steps=1, seed=1, learning_rate=1e-9,
                              warmup_steps=0))
    embedding = next(path for path in source if "word_embeddings" in path)
    assert np.abs(_weights(fresh.final_dir)[embedding] - source[embedding]).max() > 1e-2
    recorded = json.loads((tmp_path / "adapted" / "run.json").read_text())
    assert recorded["init_from"] == os.path.dirname(source_run.final_dir)


def test_a_run_started_from_a_model_resumes_from_its_checkpoint_not_the_model(corpus, english_vocab, source_run,
                                                                               tmp_path):
    from electra_tf.training import pretrain

    options = _options(corpus, english_vocab, tmp_path / "adapted", preset=None, steps=1, learning_rate=1e-2,
                       warmup_steps=0, init_from=source_run.final_dir)
    first = pretrain(options)
    trained = _weights(first.final_dir)
    again = pretrain(options)
    assert again.start_step == again.final_step == 1
    source = _weights(source_run.final_dir)
    moved = max(np.abs(trained[path] - source[path]).max() for path in source)
    assert moved > 1e-3  # the step at 1e-2 moved the weights away from the source's
    for path, value in _weights(again.final_dir).items():
        np.testing.assert_array_equal(value, trained[path], err_msg=path)


def test_init_from_a_model_of_another_vocabulary_exits_2(corpus, chinese_vocab, source_run, tmp_path):
    process = _cli(["--corpus", corpus, "--vocab", str(chinese_vocab), "--seq-length", "32", "--batch-size", "8",
                    "--steps", "1", "--out", str(tmp_path / "run"), "--init-from", source_run.final_dir])
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 2, stderr[-2000:]
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"electra-tf pretrain: error: --init-from {source_run.final_dir!r} was trained with the "
                           "vocabulary ")
    assert f"but the run's data uses {str(chinese_vocab)!r}" in last
    assert not (tmp_path / "run").exists()


def test_init_from_refuses_another_architecture_and_a_preset(corpus, english_vocab, source_run, tmp_path):
    from electra_tf.errors import InputError
    from electra_tf.training import pretrain

    config_file = tmp_path / "deeper.yaml"
    config_file.write_text("num_layers: 3\nsampling_temperature: 3.0\n")
    with pytest.raises(InputError, match=r"has another architecture than the run \(num_layers: 2 in the model, 3 in "
                                         r"the run\)\. Drop them from --config and the flags"):
        pretrain(_options(corpus, english_vocab, tmp_path / "deeper", preset=None, config_file=str(config_file),
                          init_from=source_run.final_dir))
    with pytest.raises(InputError, match="--preset tiny and --init-from set the model size twice"):
        _options(corpus, english_vocab, tmp_path / "preset", init_from=source_run.final_dir)
    with pytest.raises(InputError, match=r"--init-from '.*missing': no such folder"):
        pretrain(_options(corpus, english_vocab, tmp_path / "missing", preset=None,
                          init_from=str(tmp_path / "missing")))
    assert not (tmp_path / "deeper").exists()
