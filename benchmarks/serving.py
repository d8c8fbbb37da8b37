"""Benchmarks `electra-tf serve`: latency and throughput, gRPC overhead, batching gain, and a load test.

Prints one JSON line. Without `--model_dir`, it saves a stand-in SavedModel with ELECTRA-Small's sizes
(`electra_serving.testing`, 12 layers x 256) so the numbers mean something before a real export exists.

    python benchmarks/serving.py                                  # fixture model, every measurement
    python benchmarks/serving.py --model_dir saved_models/electra # a real export (<dir>/<version>/)
    python benchmarks/serving.py --load_test_only --clients 16 --requests 500

Measurements (each against a server in this process, on 127.0.0.1):
  latency_batch_{1,32}: client-side p50/p99 and rows/s of `serving_default` over gRPC, one client.
  grpc_overhead_batch_32: median gRPC call time over the median in-process `Session.run` of the same version.
  batching: 16 concurrent clients sending one sentence each, requests/s with batching on vs off.
  load_test: N clients x M requests with batching on; a new version is published mid-run; errors, p50/p99,
    and which versions answered.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from electra_serving import Client  # noqa: E402
from electra_serving.server import ModelServer, ServerOptions  # noqa: E402
from electra_serving.testing import ModelSize, copy_version, free_port, save_text_model  # noqa: E402

SENTENCES = [
    "the chef cooked the meal in the kitchen while the guests waited",
    "a quick brown fox jumps over the lazy dog near the river bank",
    "researchers trained a small discriminator to detect replaced tokens",
    "the weather today is sunny with a light breeze from the west",
]


def _percentiles(seconds: list[float]) -> dict:
    values = np.array(seconds) * 1000
    return {"p50_ms": round(float(np.percentile(values, 50)), 2), "p99_ms": round(float(np.percentile(values, 99)), 2)}


def _texts(n: int, offset: int = 0) -> list[str]:
    return [SENTENCES[(i + offset) % len(SENTENCES)] + f" item {i + offset}" for i in range(n)]


def _start(base: str, model: str, batching_file: str | None, poll_seconds: int = 0) -> ModelServer:
    server = ModelServer(ServerOptions(
        port=free_port(), model_name=model, model_base_path=base, file_system_poll_wait_seconds=poll_seconds,
        enable_batching=batching_file is not None, batching_parameters_file=batching_file or "",
    ))
    server.start()
    return server


def latency(server: ModelServer, model: str, batch_size: int, seconds: float) -> dict:
    with Client(f"127.0.0.1:{server.grpc_port}", model, timeout=120, max_batch_size=batch_size) as client:
        texts = _texts(batch_size)
        client.predict({"text": texts})  # Warm-up.
        times = []
        end = time.perf_counter() + seconds
        while time.perf_counter() < end or len(times) < 5:
            start = time.perf_counter()
            client.predict({"text": texts})
            times.append(time.perf_counter() - start)
    return {**_percentiles(times), "rows_per_s": round(batch_size * len(times) / sum(times), 1), "calls": len(times)}


def grpc_overhead(server: ModelServer, model: str, batch_size: int, repeats: int) -> dict:
    """Median served call vs median in-process run of the same servable, interleaved to share the noise."""
    servable = server.manager.servable(model)
    texts = _texts(batch_size)
    inputs = {"text": np.array([t.encode() for t in texts], dtype=object)}
    served, local = [], []
    with Client(f"127.0.0.1:{server.grpc_port}", model, timeout=120, max_batch_size=batch_size) as client:
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
            "overhead_pct": round(100 * (over_grpc / in_process - 1), 1), "target_pct": 15}


def _client_threads(port: int, model: str, clients: int, requests: int, warmup: int) -> dict:
    """Runs in a separate process (clients are other machines in production): `clients` threads, each with
    its own channel, first `warmup` then `requests` single-sentence calls each."""
    latencies, errors, versions = [], [], []

    def worker(index: int, count: int, record: bool):
        with Client(f"127.0.0.1:{port}", model, timeout=120) as client:
            client.metadata()
            for i in range(count):
                start = time.perf_counter()
                try:
                    _, version = client._transport.predict(
                        model, None, None, "serving_default",
                        {"text": np.array([_texts(1, index * count + i)[0].encode()], dtype=object)}, None)
                    if record:
                        versions.append(version)
                        latencies.append(time.perf_counter() - start)
                except Exception as error:  # Counted: the report says how many and which.
                    errors.append(repr(error))

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        list(pool.map(lambda i: worker(i, warmup, False), range(clients)))
        start = time.perf_counter()
        list(pool.map(lambda i: worker(i, requests, True), range(clients)))
        elapsed = time.perf_counter() - start
    return {"requests": clients * requests, "errors": len(errors), "first_errors": errors[:3],
            "requests_per_s": round(clients * requests / elapsed, 1), **_percentiles(latencies or [0.0]),
            "versions_answered": {str(v): versions.count(v) for v in sorted(set(versions))}}


def concurrent_clients(server: ModelServer, model: str, clients: int, requests: int, warmup: int = 5) -> dict:
    """`_client_threads` in a spawned process, so client work does not share the server's interpreter."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(1, mp_context=context) as pool:
        return pool.submit(_client_threads, server.grpc_port, model, clients, requests, warmup).result()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model_dir", default=None, help="a model base path <dir>/<version>/ (default: fixture)")
    parser.add_argument("--seconds", type=float, default=10.0, help="time per latency measurement")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=500, help="requests per client in the load test")
    parser.add_argument("--batching_requests", type=int, default=40, help="requests per client, batching test")
    parser.add_argument("--publish_after_s", type=float, default=20.0,
                        help="when the load test publishes a new version (client start-up takes ~10 s)")
    parser.add_argument("--load_test_only", action="store_true")
    parser.add_argument("--skip_load_test", action="store_true")
    args = parser.parse_args(argv)

    model = "electra"
    work = tempfile.mkdtemp(prefix="serving-bench-")
    if args.model_dir:
        base = os.path.abspath(args.model_dir)
        model_source = base
    else:
        base = os.path.join(work, model)
        save_text_model(base, version=1, size=ModelSize.small())
        model_source = "fixture ModelSize.small() (12x256, ELECTRA-Small sizes)"
    batching_file = os.path.join(work, "batching.config")
    with open(batching_file, "w") as file:
        # Batch sizes padded to powers of two: few distinct shapes, so oneDNN's per-shape kernels stay cached.
        file.write(f"max_batch_size {{ value: 32 }} batch_timeout_micros {{ value: 10000 }} "
                   f"num_batch_threads {{ value: {os.cpu_count()} }} max_enqueued_batches {{ value: {args.clients * 4} }} "
                   + " ".join(f"allowed_batch_sizes: {size}" for size in (1, 2, 4, 8, 16, 32)))
    report: dict = {"benchmark": "serving", "model": model_source, "cpus": os.cpu_count()}

    if not args.load_test_only:
        server = _start(base, model, batching_file=None)
        try:
            report["latency_batch_1"] = latency(server, model, 1, args.seconds)
            report["latency_batch_32"] = latency(server, model, 32, args.seconds)
            report["grpc_overhead_batch_32"] = grpc_overhead(server, model, 32, repeats=10)
            report["batching_off"] = concurrent_clients(server, model, args.clients, args.batching_requests)
        finally:
            server.stop()
        server = _start(base, model, batching_file=batching_file)
        try:
            report["batching_on"] = concurrent_clients(server, model, args.clients, args.batching_requests)
        finally:
            server.stop()
        report["batching_gain_x"] = round(
            report["batching_on"]["requests_per_s"] / report["batching_off"]["requests_per_s"], 2)

    if not args.skip_load_test:
        latest = max(int(v) for v in os.listdir(base) if v.isdigit())
        server = _start(base, model, batching_file=batching_file, poll_seconds=1)
        try:
            with concurrent.futures.ThreadPoolExecutor(1) as publisher:
                publish = publisher.submit(lambda: (time.sleep(args.publish_after_s), copy_version(base, latest, latest + 1)))
                report["load_test"] = concurrent_clients(server, model, args.clients, args.requests)
                publish.result()
            report["load_test"]["published_version"] = latest + 1
        finally:
            server.stop()
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
