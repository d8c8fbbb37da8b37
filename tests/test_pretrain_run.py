"""`electra-tf pretrain` on one device: resume after SIGKILL, corrupt checkpoints, NaN stop, precisions, accumulation.

Tiny model (2 layers, seq 32, batch 8) on the first 120 kB of Alice in Wonderland, streamed.
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

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--preset", "tiny", "--seq-length", "32", "--batch-size", "8"]


@pytest.fixture(scope="session")
def corpus(shared_data, tmp_path_factory):
    path = tmp_path_factory.mktemp("pretrain_corpus") / "alice.txt"
    path.write_bytes((shared_data / "corpus" / "en" / "gutenberg_raw" / "11-0.txt").read_bytes()[:120_000])
    return str(path)


def _options(corpus, vocab, out_dir, **overrides):
    from electra_tf.training import PretrainOptions

    values = dict(out_dir=str(out_dir), corpus=(corpus,), vocab_file=str(vocab), preset="tiny", seq_length=32,
                  batch_size=8, steps=4, checkpoint_every=2, log_every=1, strategy="default")
    return PretrainOptions(**{**values, **overrides})


def _cli(args, **kwargs):
    environment = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ROOT + os.pathsep + os.path.join(ROOT, "serving")}
    return subprocess.Popen([sys.executable, "-m", "electra_tf", "pretrain", *args], cwd=ROOT, env=environment,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


def scalar_curve(run_dir, tag="loss") -> dict:
    """step -> value of a TensorBoard scalar; later event files (a resumed run) win."""
    import tensorflow as tf

    curve = {}
    files = sorted(glob.glob(os.path.join(run_dir, "logs", "train", "events.out.tfevents.*")), key=os.path.getmtime)
    for path in files:
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                if value.tag == tag:
                    curve[event.step] = float(tf.make_ndarray(value.tensor))
    return curve


def test_sigkill_mid_run_resumes_to_the_same_loss_curve(corpus, english_vocab, tmp_path):
    from electra_tf.training import pretrain

    steps = 12
    reference = pretrain(_options(corpus, english_vocab, tmp_path / "reference", steps=steps, checkpoint_every=4))
    reference_losses = {entry["step"]: entry["loss"] for entry in reference.history}

    run_dir = tmp_path / "killed"
    args = ["--corpus", corpus, "--vocab", str(english_vocab), "--out", str(run_dir), *TINY, "--steps", str(steps),
            "--checkpoint-every", "4", "--log-every", "1", "--strategy", "default"]
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
    assert stdout.strip() == str(run_dir / "final")
    curve = scalar_curve(run_dir)
    assert sorted(curve) == list(range(1, steps + 1))
    np.testing.assert_allclose([curve[s] for s in range(1, steps + 1)],
                               [reference_losses[s] for s in range(1, steps + 1)], rtol=1e-5)
    assert sorted(os.listdir(run_dir / "final")) == ["config.json", "pretrainer.weights.h5", "tokenizer.json", "vocab.txt"]

    again = _cli(args)  # a finished run: nothing to train, the final model is rewritten
    _, stderr = again.communicate(timeout=120)
    assert again.returncode == 0 and f"resuming at step {steps}" in stderr


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
    for name in ("loss", "mlm_accuracy", "gradient_norm"):
        np.testing.assert_allclose(accumulated.history[0][name], full.history[0][name], rtol=1e-4)  # summation order
    full_model, _ = load_model_dir(full.final_dir, with_tokenizer=False)
    accumulated_model, _ = load_model_dir(accumulated.final_dir, with_tokenizer=False)
    for a, b in zip(full_model.weights, accumulated_model.weights):
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
