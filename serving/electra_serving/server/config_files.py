"""Reads TF Serving's text-format config files: models, batching, monitoring and SSL.

Every file is the protobuf text format `tensorflow_model_server` reads, so one `models.config` or
`batching.config` serves both servers. Errors name the file and the protobuf parser's line and column.

Example:
    >>> config = model_server_config_for_model("demo", "/models/demo")
    >>> config.model_config_list.config[0].model_platform
    'tensorflow'
"""

from __future__ import annotations

import os

from google.protobuf import text_format
from tensorflow_serving.config import model_server_config_pb2

from electra_serving.server import extra_protos


def _parse_file(path: str, message):
    if not os.path.isfile(path):
        raise FileNotFoundError(f"No such config file: {path!r}.")
    with open(path, encoding="utf-8") as file:
        text = file.read()
    try:
        return text_format.Parse(text, message)
    except text_format.ParseError as error:
        raise ValueError(f"Cannot parse {path} as a {message.DESCRIPTOR.full_name} text proto: {error}") from None


def read_model_server_config(path: str) -> model_server_config_pb2.ModelServerConfig:
    """`--model_config_file`: a `ModelServerConfig` with a `model_config_list`."""
    return _parse_file(path, model_server_config_pb2.ModelServerConfig())


def model_server_config_for_model(name: str, base_path: str) -> model_server_config_pb2.ModelServerConfig:
    """The one-model config `--model_name`/`--model_base_path` stand for (the base path made absolute)."""
    config = model_server_config_pb2.ModelServerConfig()
    config.model_config_list.config.add(name=name, base_path=os.path.abspath(base_path), model_platform="tensorflow")
    return config


def read_batching_parameters(path: str):
    """`--batching_parameters_file`: a `tensorflow.serving.BatchingParameters`."""
    return _parse_file(path, extra_protos.BatchingParameters())


def read_monitoring_config(path: str):
    """`--monitoring_config_file`: a `tensorflow.serving.MonitoringConfig`."""
    return _parse_file(path, extra_protos.MonitoringConfig())


def read_ssl_config(path: str):
    """`--ssl_config_file`: a `tensorflow.serving.SSLConfig` holding PEM text (not paths)."""
    config = _parse_file(path, extra_protos.SSLConfig())
    if not config.server_key or not config.server_cert:
        raise ValueError(f"{path}: an SSLConfig needs both server_key and server_cert (PEM text).")
    return config
