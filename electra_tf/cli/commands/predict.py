"""`electra-tf predict`: query a served model (ours or TF Serving) and print JSON, one object per text.

Texts come from the command line or, with none given, from stdin (one per line). `--signature` picks
`serving_default` (replaced-token detection), `fill_mask` or `encode`; any other signature name runs a raw
predict on `{"text": [...]}` and prints every output.

Example:
    $ electra-tf predict --target localhost:8500 --model electra --signature fill_mask "the [MASK] barked"
"""

from __future__ import annotations

import argparse
import sys

from electra_tf.errors import InputError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="query a served model and print JSON",
        description="Send texts to a TF Serving-compatible server and print one JSON object per text.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts to send; read from stdin when absent")
    parser.add_argument("--target", default="localhost:8500", help="host:port of the server")
    parser.add_argument("--model", required=True, help="served model name")
    parser.add_argument("--signature", default="serving_default",
                        help="serving_default | replaced_token_detection | fill_mask | encode | any other")
    parser.add_argument("--version", type=int, default=None, help="model version (default: latest)")
    parser.add_argument("--label", default=None, help="model version label, instead of --version")
    parser.add_argument("--transport", choices=("grpc", "rest"), default="grpc", help="API to use")
    parser.add_argument("--top_k", type=int, default=5, help="candidates per [MASK] for fill_mask")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per call")
    parser.add_argument("--tls_ca", default=None, help="PEM CA file: use TLS (gRPC) and trust this CA")
    parser.add_argument("--batch_size", type=int, default=32, help="texts per call")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from electra_serving import ServingError
    from electra_serving.predict_output import predict_lines

    texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise InputError("No texts: give TEXT arguments or pipe lines on stdin.")
    try:
        for line in predict_lines(
            texts, target=args.target, model=args.model, signature=args.signature, version=args.version,
            label=args.label, transport=args.transport, top_k=args.top_k, timeout=args.timeout,
            tls=args.tls_ca, batch_size=args.batch_size,
        ):
            print(line, flush=True)
    except ServingError as error:
        raise InputError(f"{args.target} answered {error.code}: {error.message}") from None
    return 0
