"""Benchmarks `electra-tf serve` on ELECTRA-Small: the fixed-length export against the length-bucketed one.

Prints one JSON line. The same model is exported twice in this run, `--bucket-size 0` ("fixed": every batch
padded to seq_length 128, what exports did before) and `--bucket-size 16` ("bucketed": a batch padded to its
longest text rounded up to 16 tokens), each with `replaced_token_detection` as `serving_default`. Three
server configurations, each a `python -m electra_serving.server` process of its own with batching off and on,
are measured in alternating rounds, so load on a shared machine hits all alike: "fixed" (today's export, default
threads: the baseline), "bucketed" (default threads) and "bucketed_intra1" (`--tensorflow_intra_op_parallelism=1`,
the latency setting for small CPUs). The load test runs on bucketed_intra1 with batching. Without
`--model_dir`, the model is a random-weight ELECTRA-Small (`ElectraConfig.preset("small")`) with the BERT
uncased vocabulary from ../shared/data (weights do not change the cost).

    python benchmarks/serving.py                              # random-weight ELECTRA-Small
    python benchmarks/serving.py --model_dir runs/small/final # a model directory (electra-tf pretrain/convert)
    python benchmarks/serving.py --load_test_only --clients 16 --requests 200

Measurements (client-side, over gRPC on 127.0.0.1):
  one_sentence: p50/p99 of one short sentence per call (<= 14 word pieces: 16 tokens with [CLS]/[SEP]).
  batch_32: p50/p99 and rows/s of 32 such sentences per call.
  batching: 16 concurrent clients sending one sentence each, requests/s with server batching on vs off.
  grpc_overhead_batch_32: median gRPC call over the median in-process `Session.run` (bucketed export).
  load_test (bucketed_intra1, batching on): N clients x M requests of texts of 1 to 200 words (packed lengths 3 to
    128, so every bucket); a new version is published mid-run; every answer is checked to have one row and
    exactly the text's number of tokens; lost = sent - answered correctly.
Ratios: one_sentence_p50_speedup_x.V and batch_32_p50_speedup_x.V are fixed over configuration V;
batching_gain_x is on over off (requests/s), per configuration.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import pathlib
import random
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from electra_serving import Client  # noqa: E402
from electra_serving.testing import copy_version, free_port  # noqa: E402
from machine import cpu_model  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
VOCAB = ROOT.parent / "shared" / "data" / "vocab" / "bert-base-uncased-vocab.txt"
MODEL = "electra"
# One-sentence requests: 8-12 words, each a single word piece of the uncased BERT vocabulary (checked below).
SENTENCES = [
    "the chef cooked the meal while the guests waited",
    "a quick brown fox jumps over the lazy dog",
    "researchers trained a small model to detect replaced words",
    "the weather today is sunny with a light breeze",
    "she read the letter twice before she answered it",
    "the train left the station an hour late",
    "we walked along the river until the sun went down",
    "the children played in the park after school",
]
WORDS = " ".join(SENTENCES).split()


def _percentiles(seconds: list[float]) -> dict:
    values = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(values, 50)), 2), "p99_ms": round(float(np.percentile(values, 99)), 2)}


def _sentences(n: int, offset: int = 0) -> list[str]:
    return [SENTENCES[(i + offset) % len(SENTENCES)] for i in range(n)]


# === Exports ===

def export_both(model_dir: str | None, work: str, seq_length: int) -> tuple[dict, object, str]:
    """Exports the model fixed-length and bucketed; returns ({variant: base path}, tokenizer, description)."""
    import keras

    from electra_tf import ElectraConfig, ElectraPretrainer, Tokenizer
    from electra_tf.export import export_saved_model

    if model_dir:
        from electra_tf.model_dir import load_model_dir

        model, tokenizer = load_model_dir(model_dir)
        description = os.path.abspath(model_dir)
    else:
        keras.utils.set_random_seed(0)
        model = ElectraPretrainer(ElectraConfig.preset("small"))
        tokenizer = Tokenizer(str(VOCAB))
        description = "random-weight ElectraConfig.preset('small'), BERT uncased vocabulary"
    bases = {}
    for variant, bucket_size in (("fixed", 0), ("bucketed", 16)):
        bases[variant] = os.path.join(work, variant)
        export_saved_model(model, tokenizer, bases[variant], version=1, seq_length=seq_length,
                           signatures=["replaced_token_detection"], bucket_size=bucket_size)
    return bases, tokenizer, description


def packed_lengths(tokenizer, texts: list[str], seq_length: int) -> list[int]:
    """Real tokens of each text once packed: word pieces + [CLS] + [SEP], truncated to seq_length."""
    return [min(len(ids) + 2, seq_length) for ids in tokenizer(texts).to_list()]


# === Servers and clients ===

class ServerProcess:
    """`python -m electra_serving.server` in its own process (as in production: clients do not share its
    interpreter), with TF Serving's flags; ready once the model answers a metadata call."""

    def __init__(self, base: str, batching_file: str | None, poll_seconds: int = 0, intra_op_threads: int = 0):
        self.grpc_port = free_port()
        command = [sys.executable, "-m", "electra_serving.server", f"--port={self.grpc_port}",
                   f"--model_name={MODEL}", f"--model_base_path={base}",
                   f"--file_system_poll_wait_seconds={poll_seconds}",
                   f"--tensorflow_intra_op_parallelism={intra_op_threads}"]
        if batching_file:
            command += ["--enable_batching=true", f"--batching_parameters_file={batching_file}"]
        self._log = tempfile.TemporaryFile()
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT,
                                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
        deadline = time.monotonic() + 180
        while True:
            try:
                with Client(f"127.0.0.1:{self.grpc_port}", MODEL, timeout=5) as client:
                    client.metadata()
                return
            except Exception:  # Not listening or not loaded yet.
                if self._process.poll() is not None or time.monotonic() > deadline:
                    self._log.seek(0)
                    raise RuntimeError(f"server {command} did not start:\n{self._log.read().decode()[-2000:]}")
                time.sleep(0.5)

    def stop(self):
        self._process.terminate()
        self._process.wait(30)
        self._log.close()


def _latency_calls(client: Client, texts: list[str], seconds: float) -> list[float]:
    times = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 5:
        start = time.perf_counter()
        client.predict({"text": texts})
        times.append(time.perf_counter() - start)
    return times


def grpc_overhead(server: ServerProcess, base: str, batch_size: int, repeats: int) -> dict:
    """Median served call vs median in-process run of the same SavedModel, interleaved to share the noise."""
    from electra_serving.server.servable import SavedModelServable

    servable = SavedModelServable(MODEL, 1, os.path.join(base, "1"))
    texts = _sentences(batch_size)
    inputs = {"text": np.array([t.encode() for t in texts], dtype=object)}
    served, local = [], []
    with Client(f"127.0.0.1:{server.grpc_port}", MODEL, timeout=120, max_batch_size=batch_size) as client:
        client.predict({"text": texts})
        servable.run("serving_default", inputs)
        for _ in range(repeats):
            start = time.perf_counter()
            servable.run("serving_default", inputs)
            local.append(time.perf_counter() - start)
            start = time.perf_counter()
            client.predict({"text": texts})
            served.append(time.perf_counter() - start)
    in_process, over_grpc = statistics.median(local), statistics.median(served)
    return {"in_process_ms": round(in_process * 1000, 2), "grpc_ms": round(over_grpc * 1000, 2),
            "overhead_pct": round(100 * (over_grpc / in_process - 1), 1)}


def _client_threads(port: int, clients: int, texts: list[list[str]], expected: list[list[int]] | None,
                    warmup: int) -> dict:
    """Runs in a separate process (clients are other machines in production): one thread and channel per
    client, first `warmup` calls, then one call per text of `texts[client]`, each answer checked against
    `expected[client]` (real tokens per text) when given."""
    latencies, errors, versions, wrong = [], [], [], []

    def worker(index: int, record: bool):
        with Client(f"127.0.0.1:{port}", MODEL, timeout=120) as client:
            client.metadata()
            for i, text in enumerate(texts[index][:warmup] if not record else texts[index]):
                start = time.perf_counter()
                try:
                    outputs, version = client._transport.predict(
                        MODEL, None, None, "serving_default", {"text": np.array([text.encode()], dtype=object)}, None)
                    if not record:
                        continue
                    latencies.append(time.perf_counter() - start)
                    versions.append(version)
                    mask, tokens = outputs["input_mask"], outputs["tokens"]
                    real = int(mask[0].sum()) if mask.shape[0] == 1 else -1
                    if expected is not None and (real != expected[index][i] or tokens[0, 0] != b"[CLS]"
                                                 or tokens[0, real - 1] != b"[SEP]"):
                        wrong.append(f"client {index} text {i}: {real} real tokens of {mask.shape}, expected "
                                     f"{expected[index][i]}")
                except Exception as error:  # Counted: the report says how many and which.
                    errors.append(repr(error))

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda i: worker(i, False), range(clients)))
        start = time.perf_counter()
        list(pool.map(lambda i: worker(i, True), range(clients)))
        elapsed = time.perf_counter() - start
    sent = sum(len(t) for t in texts)
    return {"requests": sent, "errors": len(errors), "first_errors": errors[:3], "wrong": len(wrong),
            "first_wrong": wrong[:3], "lost": sent - (len(latencies) - len(wrong)),
            "requests_per_s": round(sent / elapsed, 1), **_percentiles(latencies or [0.0]),
            "versions_answered": {str(v): versions.count(v) for v in sorted(set(versions))}}


def concurrent_clients(port: int, texts: list[list[str]], expected=None, warmup: int = 5) -> dict:
    """`_client_threads` in a spawned process, so client work does not share the server's interpreter."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_client_threads, port, len(texts), texts, expected, warmup).result()


def mixed_texts(clients: int, requests: int, seed: int = 0) -> list[list[str]]:
    """Per client, `requests` texts of 1 to 200 words (every bucket up to 128 tokens, some truncated)."""
    rng = random.Random(seed)
    return [[" ".join(rng.choice(WORDS) for _ in range(rng.choice([rng.randint(1, 14), rng.randint(15, 200)])))
             for _ in range(requests)] for _ in range(clients)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model_dir", default=None, help="a model directory (default: random ELECTRA-Small)")
    parser.add_argument("--seq_length", type=int, default=128)
    parser.add_argument("--seconds", type=float, default=4.0, help="time per latency measurement and round")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of the latency measurements")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--batching_requests", type=int, default=40, help="requests per client, batching test")
    parser.add_argument("--requests", type=int, default=100, help="requests per client in the load test")
    parser.add_argument("--publish_after_s", type=float, default=15.0,
                        help="when the load test publishes a new version (client start-up takes seconds)")
    parser.add_argument("--load_test_only", action="store_true")
    parser.add_argument("--skip_load_test", action="store_true")
    args = parser.parse_args(argv)

    work = tempfile.mkdtemp(prefix="serving-bench-")
    bases, tokenizer, description = export_both(args.model_dir, work, args.seq_length)
    sentence_tokens = packed_lengths(tokenizer, SENTENCES, args.seq_length)
    assert max(sentence_tokens) <= 16, f"one-sentence texts must pack to <= 16 tokens: {sentence_tokens}"
    batching_file = os.path.join(work, "batching.config")
    with open(batching_file, "w") as file:
        # Batch sizes padded to powers of two: few distinct shapes, so oneDNN's per-shape kernels stay cached.
        file.write(f"max_batch_size {{ value: 32 }} batch_timeout_micros {{ value: 5000 }} "
                   f"num_batch_threads {{ value: {os.cpu_count()} }} "
                   f"max_enqueued_batches {{ value: {args.clients * 4} }} "
                   + " ".join(f"allowed_batch_sizes: {size}" for size in (1, 2, 4, 8, 16, 32)))
    report: dict = {"benchmark": "serving", "model": description, "seq_length": args.seq_length,
                    "cpu": cpu_model(), "cpus": os.cpu_count(), "one_sentence_tokens": max(sentence_tokens)}
    # (export, intra-op threads): today's fixed-length export on a default server; the bucketed export on the
    # same server; and with --tensorflow_intra_op_parallelism=1 (a short request's small matmuls split across
    # threads cost more in hand-offs than they gain; concurrent requests still use every core).
    variants = {"fixed": ("fixed", 0), "bucketed": ("bucketed", 0), "bucketed_intra1": ("bucketed", 1)}

    if not args.load_test_only:
        servers = {(v, batching): ServerProcess(bases[export], batching_file if batching else None,
                                                intra_op_threads=threads)
                   for v, (export, threads) in variants.items() for batching in (False, True)}
        try:
            times = {(v, batch): [] for v in variants for batch in (1, 32)}
            clients = {v: Client(f"127.0.0.1:{servers[v, False].grpc_port}", MODEL, timeout=120, max_batch_size=32)
                       for v in variants}
            for v in variants:  # Warm-up: both batch sizes, so no first-call cost is measured.
                clients[v].predict({"text": _sentences(1)})
                clients[v].predict({"text": _sentences(32)})
            for round_index in range(args.rounds):
                for batch in (1, 32):
                    for v in variants:
                        times[v, batch] += _latency_calls(clients[v], _sentences(batch, round_index), args.seconds)
            for client in clients.values():
                client.close()
            batch_texts = [_sentences(args.batching_requests, i) for i in range(args.clients)]
            batching = {}
            for v in variants:
                batching[v] = {
                    "off": concurrent_clients(servers[v, False].grpc_port, batch_texts),
                    "on": concurrent_clients(servers[v, True].grpc_port, batch_texts),
                }
            overhead = grpc_overhead(servers["bucketed", False], bases["bucketed"], 32, repeats=10)
        finally:
            for server in servers.values():
                server.stop()
        for v, (export, threads) in variants.items():
            report[v] = {
                "export": export, "tensorflow_intra_op_parallelism": threads,
                "one_sentence": {**_percentiles(times[v, 1]), "calls": len(times[v, 1])},
                "batch_32": {**_percentiles(times[v, 32]), "calls": len(times[v, 32]),
                             "rows_per_s": round(32 * len(times[v, 32]) / sum(times[v, 32]), 1)},
                "batching_off": batching[v]["off"],
                "batching_on": batching[v]["on"],
                "batching_gain_x": round(batching[v]["on"]["requests_per_s"] / batching[v]["off"]["requests_per_s"], 2),
            }
        report["grpc_overhead_batch_32"] = overhead
        p50 = {(v, batch): report[v][name]["p50_ms"] for v in variants for batch, name in ((1, "one_sentence"),
                                                                                           (32, "batch_32"))}
        for v in ("bucketed", "bucketed_intra1"):
            report[f"one_sentence_p50_speedup_x.{v}"] = round(p50["fixed", 1] / p50[v, 1], 2)
            report[f"batch_32_p50_speedup_x.{v}"] = round(p50["fixed", 32] / p50[v, 32], 2)
        report["targets"] = {"one_sentence_p50_speedup_x": 4.0, "batching_gain_x": 2.0}

    if not args.skip_load_test:
        base = bases["bucketed"]
        texts = mixed_texts(args.clients, args.requests)
        expected = [packed_lengths(tokenizer, row, args.seq_length) for row in texts]
        server = ServerProcess(base, batching_file, poll_seconds=1, intra_op_threads=1)
        try:
            with concurrent.futures.ThreadPoolExecutor(1) as publisher:
                publish = publisher.submit(lambda: (time.sleep(args.publish_after_s), copy_version(base, 1, 2)))
                report["load_test"] = concurrent_clients(server.grpc_port, texts, expected)
                publish.result()
            lengths = [n for row in expected for n in row]
            report["load_test"].update(published_version=2, tokens_min=min(lengths), tokens_max=max(lengths),
                                       buckets=sorted({min(-(-n // 16) * 16, args.seq_length) for n in lengths}))
        finally:
            server.stop()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
