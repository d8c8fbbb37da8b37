"""Runs the server until SIGINT or SIGTERM: `python -m electra_serving.server --model_name=... ...`.

`electra-tf serve` calls `run_server` with the same flags.

Example:
    $ python -m electra_serving.server --model_name=demo --model_base_path=saved_models/demo --rest_api_port=8501
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading

from electra_serving.server.flags import add_server_flags, options_from_args
from electra_serving.server.model_server import ModelServer
from electra_serving.server.options import ServerOptions


def run_server(options: ServerOptions) -> int:
    """Starts a `ModelServer`, serves until interrupted, then stops it cleanly; returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stop_requested = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop_requested.set())
    server = ModelServer(options)
    server.start()
    print(f"Serving gRPC on {options.host}:{server.grpc_port}"
          + (f", REST on {options.host}:{server.rest_port}" if server.rest_port else ""), file=sys.stderr, flush=True)
    while not stop_requested.is_set():
        stop_requested.wait(0.5)  # short waits keep the main thread responsive to signals
    server.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m electra_serving.server",
                                     description="TF Serving-compatible model server for SavedModels.")
    add_server_flags(parser)
    args = parser.parse_args(argv)
    try:
        options = options_from_args(args)
    except ValueError as error:
        parser.error(str(error))
    return run_server(options)
