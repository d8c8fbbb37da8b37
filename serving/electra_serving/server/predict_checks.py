"""TF Serving's checks on a Predict request, with its status codes and messages.

The wording follows `predict_util.cc` (input count, output filter), `saved_model/util.cc` (`GetInputValues`)
and the TensorFlow runtime (dtype of a fed tensor), so a client that matches on TF Serving's messages works
against this server too. Shape checks and the empty-batch check are ours: TF Serving leaves those to the
graph, whose errors are far less clear.

Example:
    >>> from electra_serving.server.servable import Signature, TensorInfo
    >>> signature = Signature("serving_default", "tensorflow/serving/predict",
    ...     {"text": TensorInfo("text", "serving_default_text:0", "DT_STRING", (-1,))}, {})
    >>> check_input_names(signature, ["text", "ids"])
    Traceback (most recent call last):
    ...
    electra_serving.server.status.ServingStatus: input size does not match signature: 2!=1 len({ids,text}) != \
len({text}). Sent extra: {ids}. Missing but required: {}.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from electra_serving import dtypes
from electra_serving.server.servable import SavedModelServable, Signature
from electra_serving.server.status import ServingStatus, failed_precondition, invalid_argument

DEFAULT_SIGNATURE = "serving_default"


def signature_for_grpc(servable: SavedModelServable, signature_name: str) -> Signature:
    """The signature a gRPC Predict asks for (`serving_default` when empty); FAILED_PRECONDITION if absent."""
    name = signature_name or DEFAULT_SIGNATURE
    if name not in servable.signatures or not servable.has_function(name):
        raise failed_precondition(f'Serving signature key "{name}" not found.')
    return servable.signatures[name]


def signature_for_rest(servable: SavedModelServable, signature_name: str) -> Signature:
    """The signature a REST `:predict` asks for; INVALID_ARGUMENT if absent (`GetInfoMap` in TF Serving)."""
    name = signature_name or DEFAULT_SIGNATURE
    if name not in servable.signatures or not servable.has_function(name):
        raise invalid_argument(f'Serving signature name: "{name}" not found in signature def')
    return servable.signatures[name]


def check_input_names(signature: Signature, request_aliases: Iterable[str]) -> None:
    """Missing or extra inputs, reported as TF Serving's `VerifyRequestInputsSize` and `GetInputValues` do."""
    request = sorted(set(request_aliases))
    expected = sorted(signature.inputs)
    if len(request) != len(expected):
        extra = sorted(set(request) - set(expected))
        missing = sorted(set(expected) - set(request))
        raise invalid_argument(
            f"input size does not match signature: {len(request)}!={len(expected)} "
            f"len({{{','.join(request)}}}) != len({{{','.join(expected)}}}). "
            f"Sent extra: {{{','.join(extra)}}}. Missing but required: {{{','.join(missing)}}}."
        )
    for alias in expected:
        if alias not in request:
            raise invalid_argument(
                f"Signature input alias: {alias}(feed name: {signature.inputs[alias].tensor_name}) not found in "
                f"request and no default value provided. Inputs expected to be in the request "
                f"{{{','.join(request)}}}, or default input alias set: "
            )


def check_input_values(signature: Signature, inputs: dict[str, np.ndarray]) -> None:
    """Dtype, shape and batch checks on decoded inputs (after `check_input_names`)."""
    for index, alias in enumerate(sorted(signature.inputs)):
        info = signature.inputs[alias]
        value = inputs[alias]
        received = dtypes.name_for_numpy(value.dtype)
        if received != info.dtype_name:
            raise invalid_argument(
                f"Expects arg[{index}] to be {dtypes.short_name(info.dtype_name)} but "
                f"{dtypes.short_name(received)} is provided"
            )
        if info.shape is None:
            continue
        if len(info.shape) != value.ndim or any(
            want not in (-1, got) for want, got in zip(info.shape, value.shape)
        ):
            raise invalid_argument(
                f"Input {alias} has shape {_shape_text(value.shape)} but the signature expects "
                f"{_shape_text(info.shape)} (-1 = any size)."
            )
        if value.ndim and value.shape[0] == 0 and info.shape[0] == -1:
            raise invalid_argument(
                f"Input {alias} is an empty batch (shape {_shape_text(value.shape)}); send at least one row."
            )


def select_outputs(signature: Signature, output_filter: Iterable[str]) -> list[str]:
    """The output aliases to return: the filter in order, or every output when the filter is empty."""
    selected: list[str] = []
    for alias in output_filter:
        if alias not in signature.outputs:
            raise invalid_argument(
                f"output tensor alias not found in signature: {alias} Outputs expected to be in the set "
                f"{{{','.join(sorted(signature.outputs))}}}."
            )
        if alias in selected:
            raise invalid_argument(f"duplicate output tensor alias: {alias}")
        selected.append(alias)
    return selected or sorted(signature.outputs)


def _shape_text(shape) -> str:
    return "[" + ",".join(str(size) for size in shape) + "]"


def as_status(error: Exception) -> ServingStatus:
    """Any unexpected exception as an INTERNAL status with its type and message."""
    if isinstance(error, ServingStatus):
        return error
    return ServingStatus("INTERNAL", f"{type(error).__name__}: {error}")
