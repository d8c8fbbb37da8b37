"""`electra-tf serve` under load: server-side batching, a version swap with zero failed requests, a broken
version that is retried, TLS and mutual TLS (client certificates), and the `electra-tf serve` command as a
subprocess."""

import concurrent.futures
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request

import grpc
import numpy as np
import pytest
import tensorflow as tf

from conftest import requires_package
from electra_serving import Client, InvalidArgumentError, RetryPolicy, UnavailableError
from electra_serving.grpc_transport import TlsConfig
from electra_serving.server import ModelServer, ServerOptions
from electra_serving.testing import copy_version, free_port, save_text_model

MODEL = "demo"


@pytest.fixture(scope="module")
def version_one(tmp_path_factory):
    """A saved version to copy from (saving costs seconds, copying milliseconds)."""
    base = tmp_path_factory.mktemp("source") / MODEL
    return save_text_model(str(base), version=1)


def _new_base(tmp_path, version_one, versions=(1,)):
    base = tmp_path / MODEL
    base.mkdir()
    for version in versions:
        shutil.copytree(version_one, base / str(version))
    return base


def _run_count(server) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{server.rest_port}/monitoring/prometheus/metrics") as response:
        page = response.read().decode()
    return int(sum(float(line.split()[-1]) for line in page.splitlines()
                   if line.startswith(":tensorflow:serving:runtime_latency_count")))


def test_batching_merges_concurrent_requests(tmp_path, version_one):
    base = _new_base(tmp_path, version_one)
    batching = tmp_path / "batching.config"
    batching.write_text("max_batch_size { value: 16 } batch_timeout_micros { value: 50000 } "
                        "num_batch_threads { value: 1 } max_enqueued_batches { value: 8 }")
    monitoring = tmp_path / "monitoring.config"
    monitoring.write_text("prometheus_config { enable: true }")
    server = ModelServer(ServerOptions(port=free_port(), rest_api_port=free_port(), model_name=MODEL,
                                       model_base_path=str(base), enable_batching=True,
                                       batching_parameters_file=str(batching), monitoring_config_file=str(monitoring)))
    server.start()
    try:
        texts = [f"sentence number {i} " + "word " * (i % 5) for i in range(32)]
        reference = tf.saved_model.load(version_one).signatures["serving_default"]
        runs_before = _run_count(server)
        with Client(f"127.0.0.1:{server.grpc_port}", MODEL) as client:
            client.metadata()
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                results = list(pool.map(lambda text: client.score([text])[0], texts))
            runs = _run_count(server) - runs_before
            assert runs < len(texts) / 2, f"{len(texts)} requests ran the model {runs} times"
            for text, result in zip(texts, results):
                expected = reference(text=tf.constant([text]))["replaced_probability"].numpy()[0]
                np.testing.assert_allclose(result.replaced_probability, expected[: len(result.tokens)], atol=1e-5)
            with pytest.raises(InvalidArgumentError, match="Task size 17 is larger than maximum input batch size 16"):
                client.predict({"text": ["x"] * 17})
            client.max_batch_size = 16  # The client splits what the server would refuse.
            assert client.predict({"text": ["x"] * 40})["tokens"].shape == (40, 1)
    finally:
        server.stop()


def test_version_swap_under_load_has_zero_failures(tmp_path, version_one):
    base = _new_base(tmp_path, version_one)
    server = ModelServer(ServerOptions(port=free_port(), model_name=MODEL, model_base_path=str(base),
                                       file_system_poll_wait_seconds=1, max_num_load_retries=100,
                                       load_retry_interval_micros=200_000))
    server.start()
    failures, versions = [], []

    def client_loop(worker: int):
        with Client(f"127.0.0.1:{server.grpc_port}", MODEL) as client:
            for i in range(100):
                try:
                    outputs = client._transport.predict(MODEL, None, None, "serving_default",
                                                        {"text": np.array([f"w{worker} r{i}".encode()], dtype=object)},
                                                        None)
                    versions.append(outputs[1])
                except Exception as error:  # Counted, not raised: the assertion reports them all.
                    failures.append(repr(error))

    try:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            workers = [pool.submit(client_loop, w) for w in range(8)]
            time.sleep(0.5)
            (base / "3").mkdir()  # A version still being written: no saved_model.pb yet.
            shutil.copytree(os.path.join(version_one, "variables"), base / "3" / "variables")
            copy_version(str(base), 1, 2)  # A complete version, published atomically.
            for worker in workers:
                worker.result()
        assert failures == []
        assert len(versions) == 800 and versions[0] == 1
        deadline = time.time() + 20
        while server.manager.servable(MODEL).version != 2 and time.time() < deadline:
            time.sleep(0.2)
        assert server.manager.servable(MODEL).version == 2
        states = {v: s.state for v, s in server.manager.version_states(MODEL)}
        assert states == {1: "END", 2: "AVAILABLE"}  # The half-written 3 is not even attempted.
        shutil.copy(os.path.join(version_one, "saved_model.pb"), base / "3" / "saved_model.pb")
        shutil.copy(os.path.join(version_one, "fingerprint.pb"), base / "3" / "fingerprint.pb")
        deadline = time.time() + 20
        while server.manager.servable(MODEL).version != 3 and time.time() < deadline:
            time.sleep(0.2)
        assert server.manager.servable(MODEL).version == 3
    finally:
        server.stop()


def test_broken_version_is_reported_retried_and_replaced(tmp_path, version_one):
    base = _new_base(tmp_path, version_one)
    server = ModelServer(ServerOptions(port=free_port(), model_name=MODEL, model_base_path=str(base),
                                       file_system_poll_wait_seconds=1, max_num_load_retries=1,
                                       load_retry_interval_micros=100_000))
    server.start()
    try:
        broken = base / "2"
        shutil.copytree(version_one, broken)
        (broken / "saved_model.pb").write_bytes(b"not a protobuf")
        with Client(f"127.0.0.1:{server.grpc_port}", MODEL) as client:
            deadline = time.time() + 20
            while time.time() < deadline and not any(s.version == 2 and s.state == "END" for s in client.status()):
                assert client.score(["still served"])[0].tokens == ["still", "served"]
                time.sleep(0.2)
            (status,) = [s for s in client.status() if s.version == 2]
            assert (status.state, status.error_code) == ("END", "UNKNOWN") and status.error_message
            assert client.metadata().version == 1
            shutil.copy(os.path.join(version_one, "saved_model.pb"), broken / "saved_model.pb")  # Fixed in place.
            deadline = time.time() + 20
            while client.metadata().version != 2 and time.time() < deadline:
                time.sleep(0.2)
            assert client.metadata().version == 2
    finally:
        server.stop()


def _self_signed_certificate(common_name="localhost"):
    """(key PEM, certificate PEM) of a self-signed CA certificate for `common_name`, 127.0.0.1 and localhost."""
    requires_package("cryptography")  # in the test extra: a failure in CI where it is missing
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                serialization.NoEncryption()).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


def test_grpc_with_tls(tmp_path, version_one):
    key_pem, cert_pem = _self_signed_certificate()
    ssl_config = tmp_path / "ssl.config"
    ssl_config.write_text(f"server_key: {key_pem!r}\nserver_cert: {cert_pem!r}\n".replace("'", '"'))
    base = _new_base(tmp_path, version_one)
    server = ModelServer(ServerOptions(port=free_port(), model_name=MODEL, model_base_path=str(base),
                                       ssl_config_file=str(ssl_config), file_system_poll_wait_seconds=0))
    server.start()
    try:
        tls = TlsConfig(root_certificates=cert_pem.encode())
        with Client(f"127.0.0.1:{server.grpc_port}", MODEL, tls=tls) as client:
            assert client.score(["secure text"])[0].tokens == ["secure", "text"]
        ca_file = tmp_path / "ca.pem"
        ca_file.write_text(cert_pem)
        with Client(f"localhost:{server.grpc_port}", MODEL, tls=str(ca_file)) as client:
            assert client.status()[0].state == "AVAILABLE"
        plain = Client(f"127.0.0.1:{server.grpc_port}", MODEL, timeout=30.0,  # refused at once
                       retry=RetryPolicy(max_attempts=1))
        with pytest.raises(UnavailableError):
            plain.status()
        plain.close()
    finally:
        server.stop()


def _ssl_config_text(**fields):
    """An SSLConfig text proto; PEM values quoted (json.dumps escapes the newlines as the format expects)."""
    import json

    return "".join(f"{name}: {json.dumps(value) if isinstance(value, str) else str(value).lower()}\n"
                   for name, value in fields.items())


def test_grpc_with_mutual_tls_requires_a_client_certificate_from_the_trusted_ca(tmp_path, version_one):
    server_key, server_cert = _self_signed_certificate("localhost")
    client_key, client_cert = _self_signed_certificate("trusted client")
    stranger_key, stranger_cert = _self_signed_certificate("untrusted client")
    ssl_config = tmp_path / "ssl.config"
    ssl_config.write_text(_ssl_config_text(server_key=server_key, server_cert=server_cert, custom_ca=client_cert,
                                           client_verify=True))
    base = _new_base(tmp_path, version_one)
    server = ModelServer(ServerOptions(port=free_port(), model_name=MODEL, model_base_path=str(base),
                                       ssl_config_file=str(ssl_config), file_system_poll_wait_seconds=0))
    server.start()
    target = f"127.0.0.1:{server.grpc_port}"
    try:
        trusted = TlsConfig(root_certificates=server_cert.encode(), private_key=client_key.encode(),
                            certificate_chain=client_cert.encode())
        with Client(target, MODEL, tls=trusted) as client:
            assert client.score(["mutual text"])[0].tokens == ["mutual", "text"]
        for key, cert in ((None, None), (stranger_key, stranger_cert)):  # no certificate; one the CA did not sign
            tls = TlsConfig(root_certificates=server_cert.encode(), private_key=key and key.encode(),
                            certificate_chain=cert and cert.encode())
            refused = Client(target, MODEL, tls=tls, timeout=30.0, retry=RetryPolicy(max_attempts=1))  # fails fast
            with pytest.raises(UnavailableError):
                refused.status()
            refused.close()
    finally:
        server.stop()


def test_serve_command_runs_until_sigterm(tmp_path, version_one):
    base = _new_base(tmp_path, version_one)
    port, rest_port = free_port(), free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path), TF_CPP_MIN_LOG_LEVEL="3")
    process = subprocess.Popen(
        [sys.executable, "-m", "electra_tf", "serve", f"--port={port}", "--rest_api_port", str(rest_port),
         "--model_name", MODEL, "--model_base_path", str(base), "--enable_batching"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    try:
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(channel).result(timeout=120)
        channel.close()
        with Client(f"127.0.0.1:{rest_port}", MODEL, transport="rest", timeout=60) as client:
            deadline = time.time() + 60
            while True:
                try:
                    assert client.score(["over rest"])[0].tokens == ["over", "rest"]
                    break
                except UnavailableError:
                    assert time.time() < deadline
                    time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
