"""Pretraining under tf.distribute: 2 mirrored logical CPUs equal one device; 2 workers, killed and resumed, equal
one worker accumulating the same global batch.

Logical devices are fixed when TensorFlow starts, and each worker is a process, so both tests run subprocesses.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from pretrain_helpers import scalar_curve

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENVIRONMENT = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": ROOT + os.pathsep + os.path.join(ROOT, "serving")}

# Runs one step of ELECTRA (dropout off) on the same global batch of 8: mirrored over 2 logical CPUs with one
# micro-batch of 4 each, and on one device accumulating 2 micro-batches of 4 (the same masks and samples:
# shard m x replicas + r is seeded alike, train_step.py). Prints losses, gradient norms and the max weight gap.
MIRRORED_SCRIPT = r"""
import io, json, sys
import numpy as np
import tensorflow as tf
tf.config.set_logical_device_configuration(
    tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * 2)
from electra_tf.model_dir import load_model_dir
from electra_tf.training import PretrainOptions, pretrain
corpus, vocab, out, config_file = sys.argv[1:5]
def run(name, strategy, grad_accum):
    options = PretrainOptions(out_dir=f"{out}/{name}", corpus=(corpus,), vocab_file=vocab, preset="tiny", seq_length=32,
                              batch_size=8, steps=2, grad_accum=grad_accum, config_file=config_file, strategy="default")
    result = pretrain(options, strategy=strategy, stream=io.StringIO())
    return result, load_model_dir(result.final_dir, with_tokenizer=False)[0]
mirrored, mirrored_model = run("mirrored", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), 1)
single, single_model = run("single", tf.distribute.get_strategy(), 2)
gap = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
          for a, b in zip(mirrored_model.weights, single_model.weights, strict=True))
print(json.dumps({"replicas": mirrored_model.weights and 2, "mirrored": mirrored.history, "single": single.history,
                  "max_weight_gap": gap, "max_weight": max(float(np.max(np.abs(np.asarray(w)))) for w in single_model.weights)}))
"""


@pytest.fixture(scope="module")
def corpus(shared_data, tmp_path_factory):
    path = tmp_path_factory.mktemp("distributed_corpus") / "alice.txt"
    path.write_bytes((shared_data / "corpus" / "en" / "gutenberg_raw" / "11-0.txt").read_bytes()[:120_000])
    return str(path)


def test_mirrored_two_devices_equal_one_device_on_the_same_global_batch(corpus, english_vocab, tmp_path):
    config_file = tmp_path / "no_dropout.json"
    config_file.write_text(json.dumps({"hidden_dropout": 0.0, "attention_dropout": 0.0}))
    completed = subprocess.run(
        [sys.executable, "-c", MIRRORED_SCRIPT, corpus, str(english_vocab), str(tmp_path), str(config_file)],
        cwd=ROOT, env=ENVIRONMENT, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert len(report["mirrored"]) == len(report["single"]) == 2
    for mirrored, single in zip(report["mirrored"], report["single"], strict=True):
        for name in ("loss", "mlm_loss", "rtd_loss", "rtd_accuracy", "replaced_fraction", "gradient_norm"):
            np.testing.assert_allclose(mirrored[name], single[name], rtol=1e-4, err_msg=f"step {single['step']} {name}")
    assert report["max_weight_gap"] < 1e-5


def _free_ports(count):
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def _start_workers(args, ports):
    workers = [f"localhost:{port}" for port in ports]
    processes = []
    for index in range(len(workers)):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "electra_tf", "pretrain", *args], cwd=ROOT,
            env={**ENVIRONMENT, "TF_CONFIG": json.dumps(tf_config)},
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        ))
    return processes


@pytest.fixture(scope="module")
def uniform_data(corpus, english_vocab, tmp_path_factory):
    """Prepared data (seq 32, 2 shards) whose every record is the same example.

    Two workers read disjoint shards and one worker reads both in another order, so only data without an
    order lets a 2-worker run and a 1-worker run see the same global batches; the masks, samples and the
    gradient reduction still differ per replica and micro-batch, which is what the comparison checks.
    """
    import tensorflow as tf

    from electra_tf.data.preparation import PrepareOptions, prepare_pretraining_data

    manifest = prepare_pretraining_data([corpus], english_vocab, tmp_path_factory.mktemp("uniform"),
                                        PrepareOptions(seq_length=32, num_shards=2))
    record = next(iter(tf.data.TFRecordDataset(manifest.shard_paths[0]))).numpy()
    for path in manifest.shard_paths:
        count = sum(1 for _ in tf.data.TFRecordDataset(path))
        with tf.io.TFRecordWriter(path) as writer:
            for _ in range(count):
                writer.write(record)
    return manifest


def test_two_workers_killed_and_resumed_end_where_one_worker_does(uniform_data, tmp_path):
    """2 workers x 1 replica, SIGKILLed after a checkpoint and restarted, equal 1 worker accumulating 2
    micro-batches of the same global batch: the same loss at every step and the same final weights."""
    from electra_tf.model_dir import load_model_dir
    from electra_tf.training import PretrainOptions, pretrain

    steps = 6
    config_file = tmp_path / "no_dropout.json"
    config_file.write_text(json.dumps({"hidden_dropout": 0.0, "attention_dropout": 0.0}))
    single = pretrain(PretrainOptions(
        out_dir=str(tmp_path / "single"), data_dir=uniform_data.data_dir, preset="tiny", batch_size=8, steps=steps,
        grad_accum=2, config_file=str(config_file), checkpoint_every=steps, log_every=1, strategy="default"))

    run_dir = tmp_path / "run"
    args = ["--data", uniform_data.data_dir, "--out", str(run_dir), "--preset", "tiny", "--batch-size", "8",
            "--steps", str(steps), "--checkpoint-every", "2", "--log-every", "1", "--config", str(config_file)]
    processes = _start_workers(args, _free_ports(2))
    state_file = run_dir / "checkpoints" / "checkpoint"
    deadline = time.monotonic() + 180
    while not state_file.exists() and all(p.poll() is None for p in processes) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert state_file.exists(), processes[0].communicate()[1][-3000:]
    for process in processes:
        process.send_signal(signal.SIGKILL)
        process.wait()
    killed_at = max(scalar_curve(run_dir))
    assert killed_at < steps

    processes = _start_workers(args, _free_ports(2))
    outputs = [process.communicate(timeout=240) for process in processes]
    assert len(outputs) == len(processes) == 2
    for process, (_, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr[-3000:]
    chief_stdout, chief_stderr = outputs[0]
    assert "multi-worker mirrored (worker-0), 2 replicas" in chief_stderr
    assert "resuming at step" in chief_stderr
    assert chief_stdout.strip() == str(run_dir / "final")
    assert outputs[1][0].strip() == ""  # only the chief writes the final model
    assert (run_dir / "checkpoints" / f"ckpt-{steps}.index").exists()
    assert not [name for name in os.listdir(run_dir / "checkpoints") if name.startswith(".tmp-")]

    curve = scalar_curve(run_dir)
    assert sorted(curve) == [entry["step"] for entry in single.history] == list(range(1, steps + 1))
    np.testing.assert_allclose([curve[step] for step in sorted(curve)], [entry["loss"] for entry in single.history],
                               rtol=1e-4)
    workers_model, _ = load_model_dir(str(run_dir / "final"), with_tokenizer=False)
    single_model, _ = load_model_dir(single.final_dir, with_tokenizer=False)
    assert len(workers_model.weights) == len(single_model.weights) > 0
    for a, b in zip(workers_model.weights, single_model.weights, strict=True):
        assert a.path == b.path
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5, err_msg=a.path)
