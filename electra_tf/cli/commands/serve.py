"""`electra-tf serve`: a TF Serving-compatible server (gRPC and REST) for SavedModels.

Flags are `tensorflow_model_server`'s (`--port`, `--rest_api_port`, `--model_name`, `--model_base_path`,
`--model_config_file`, `--enable_batching`, `--batching_parameters_file`, ...); the server itself is
`electra_serving.server`, which serves any SavedModel.

Example:
    $ electra-tf serve --model_name=electra --model_base_path=saved_models/electra --rest_api_port=8501
"""

from __future__ import annotations

import argparse

from electra_tf.errors import InputError


def add_parser(subparsers) -> None:
    from electra_serving.server.flags import add_server_flags

    parser = subparsers.add_parser(
        "serve",
        help="serve SavedModels over TF Serving's gRPC and REST APIs",
        description="Serve SavedModels (saved_models/<name>/<version>/) with TF Serving's gRPC "
        "PredictionService/ModelService, the gRPC health service and the REST API. Binds 127.0.0.1 unless "
        "--host says otherwise. Stop with Ctrl-C.",
    )
    add_server_flags(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from electra_serving.server.flags import options_from_args
    from electra_serving.server.main import run_server

    try:
        options = options_from_args(args)
    except ValueError as error:
        raise InputError(str(error)) from None
    return run_server(options)
