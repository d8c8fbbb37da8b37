"""TF Serving's REST JSON: request bodies to typed numpy inputs, outputs back to JSON, with its messages.

Follows `tensorflow_serving/util/json_tensor.cc`: the row format (`"instances"`: one item per example, an
object per item when there are several inputs) answers with `"predictions"`; the columnar format
(`"inputs"`: one value or one object of named values) answers with `"outputs"`. Strings are UTF-8; binary
strings travel as `{"b64": "..."}` (outputs whose alias ends in `_bytes`, and any output that is not valid
UTF-8, are written that way).

Example:
    >>> from electra_serving.server.servable import TensorInfo
    >>> infos = {"text": TensorInfo("text", "serving_default_text:0", "DT_STRING", (-1,))}
    >>> inputs, row_format = inputs_from_json(parse_json(b'{"instances": ["a b", "c"]}'), infos)
    >>> inputs["text"], row_format
    (array([b'a b', b'c'], dtype=object), True)
"""

from __future__ import annotations

import base64
import binascii
import json
import math

import numpy as np

from electra_serving import dtypes
from electra_serving.server.servable import TensorInfo
from electra_serving.server.status import ServingStatus, invalid_argument

_MAX_VALUE_TEXT = 256  # Longest JSON excerpt quoted back in an error (TF Serving quotes it all).
_INT_RANGES = {
    "DT_INT8": (-(2**31), 2**31 - 1),  # rapidjson's IsInt(): any int32, narrowed by the cast.
    "DT_UINT8": (-(2**31), 2**31 - 1),
    "DT_INT16": (-(2**31), 2**31 - 1),
    "DT_INT32": (-(2**31), 2**31 - 1),
    "DT_INT64": (-(2**63), 2**63 - 1),
    "DT_UINT32": (0, 2**32 - 1),
    "DT_UINT64": (0, 2**64 - 1),
}
_MAX_EXACT_INT = {"DT_FLOAT": 2**24 - 1, "DT_DOUBLE": 2**53 - 1}
_MAX_MAGNITUDE = {"DT_FLOAT": float(np.finfo(np.float32).max), "DT_DOUBLE": float(np.finfo(np.float64).max)}


def json_value_text(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _MAX_VALUE_TEXT else text[:_MAX_VALUE_TEXT] + "..."


def _json_type(value) -> str:
    if value is None:
        return "Null"
    if value is True:
        return "True"
    if value is False:
        return "False"
    if isinstance(value, dict):
        return "Object"
    if isinstance(value, list):
        return "Array"
    if isinstance(value, str):
        return "String"
    return "Number"


def parse_json(body: bytes) -> dict:
    """Parses a request body; errors read like TF Serving's (`JSON Parse error: ... at offset: N`)."""
    if not body.strip():
        raise invalid_argument("JSON Parse error: The document is empty")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise invalid_argument(f"JSON Parse error: Invalid encoding in string. at offset: {error.start}") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        offset = len(text[: error.pos].encode("utf-8"))
        raise invalid_argument(f"JSON Parse error: {error.msg}. at offset: {offset}") from None
    if not isinstance(document, dict):
        raise invalid_argument(f"JSON Value: {json_value_text(document)} Is not object")
    return document


def signature_name_of(document: dict) -> str:
    name = document.get("signature_name", "")
    if not isinstance(name, str):
        raise invalid_argument(
            f"JSON Value: {json_value_text(document)} not formatted correctly. 'signature_name' key must be a "
            "string value."
        )
    return name


def _is_b64(value) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get("b64"), str)


def _leaf(value, dtype_name: str):
    """One scalar, checked against the dtype as rapidjson's `Is*()` checks do."""
    if dtype_name == "DT_STRING":
        if isinstance(value, str):
            return value.encode("utf-8")
        if isinstance(value, dict):
            if not _is_b64(value):
                raise invalid_argument(f"JSON Value: {json_value_text(value)} not formatted correctly for base64 data")
            try:
                return base64.b64decode(value["b64"], validate=True)
            except (binascii.Error, ValueError):
                raise invalid_argument("Unable to base64 decode") from None
    elif isinstance(value, bool) or value is None or isinstance(value, (str, dict)):
        if dtype_name == "DT_BOOL" and isinstance(value, bool):
            return value
    elif dtype_name in _MAX_EXACT_INT:
        if isinstance(value, int) and abs(value) > _MAX_EXACT_INT[dtype_name] or (
            isinstance(value, float) and math.isfinite(value) and abs(value) > _MAX_MAGNITUDE[dtype_name]
        ):
            raise invalid_argument(
                f"Cannot convert JSON value: {json_value_text(value)} to {dtypes.short_name(dtype_name)} "
                "without loss of precision."
            )
        return value
    elif dtype_name in _INT_RANGES and isinstance(value, int):
        low, high = _INT_RANGES[dtype_name]
        if low <= value <= high:
            return value
    elif dtype_name not in _INT_RANGES and dtype_name != "DT_BOOL":
        raise ServingStatus(
            "UNIMPLEMENTED",
            f"Conversion of JSON Value: {json_value_text(value)} to type: {dtypes.short_name(dtype_name)}",
        )
    raise invalid_argument(
        f"JSON Value: {json_value_text(value)} Type: {_json_type(value)} is not of expected type: "
        f"{dtypes.short_name(dtype_name)}"
    )


def _dense_shape(value) -> list[int]:
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if not value:
            break
        value = value[0]
    return shape


def _fill(value, level: int, shape: list[int], dtype_name: str, out: list) -> None:
    rank = len(shape)
    if not isinstance(value, list):
        if level != rank:
            raise invalid_argument(
                f"JSON Value: {json_value_text(value)} found at incorrect level: {level + 1} in the JSON DOM. "
                f"Expected at level: {rank}"
            )
        out.append(_leaf(value, dtype_name))
        return
    if level >= rank:
        raise invalid_argument(f"Encountered list at unexpected level: {level} expected < {rank}")
    if len(value) != shape[level]:
        raise invalid_argument(
            f"Encountered list at unexpected size: {len(value)} at level: {level} expected size: {shape[level]}"
        )
    for item in value:
        _fill(item, level + 1, shape, dtype_name, out)


def json_to_array(value, dtype_name: str) -> np.ndarray:
    """A JSON value (scalar or nested lists) as a dense array of the signature's dtype."""
    shape = _dense_shape(value)
    flat: list = []
    _fill(value, 0, shape, dtype_name, flat)
    dtype = dtypes.numpy_dtype(dtype_name)
    if dtype == object:
        array = np.empty(len(flat), dtype=object)
        array[:] = flat
        return array.reshape(shape)
    return np.asarray(flat, dtype=dtype).reshape(shape)


def _instances_to_arrays(instances: list, infos: dict[str, TensorInfo]) -> dict[str, np.ndarray]:
    names = sorted(infos)
    first = instances[0]
    if not isinstance(first, dict) and len(infos) > 1:
        raise invalid_argument(
            "instances is a plain list, but expecting list of objects as multiple input tensors required as per "
            "tensorinfo_map"
        )
    objects = isinstance(first, dict) and not _is_b64(first)
    rows: dict[str, list[np.ndarray]] = {name: [] for name in names}
    for index, item in enumerate(instances):
        if objects:
            if not isinstance(item, dict) or _is_b64(item):
                raise invalid_argument(f"Expecting object but got list at item {index} of input list")
            for key, value in item.items():
                if key not in infos:
                    raise invalid_argument(
                        f"Failed to process element: {index} key: {key} of 'instances' list. Error: "
                        f"INVALID_ARGUMENT: JSON object: does not have named input: {key}"
                    )
                rows[key].append(_instance_item(value, infos[key], index, rows[key], key))
            if sorted(item) != names:
                raise invalid_argument(
                    f"Failed to process element: {index} of 'instances' list. JSON object: "
                    f"{json_value_text(item)} keys must be equal to: {','.join(names)}"
                )
        else:
            if isinstance(item, dict) and not _is_b64(item):
                raise invalid_argument(f"Expecting value/list but got object at item {index} of input list")
            rows[names[0]].append(_instance_item(item, infos[names[0]], index, rows[names[0]], None))
    return {name: np.stack(values) if values else np.zeros((0,)) for name, values in rows.items()}


def _instance_item(value, info: TensorInfo, index: int, previous: list[np.ndarray], key: str | None) -> np.ndarray:
    where = f"element: {index}" + (f" key: {key}" if key else "")
    try:
        array = json_to_array(value, info.dtype_name)
        if previous and array.shape != previous[0].shape:
            if array.size != previous[0].size:
                raise invalid_argument(f"Expecting tensor size: {previous[0].size} but got: {array.size}")
            raise invalid_argument(
                f"Expecting shape [{','.join(map(str, previous[0].shape))}] but got: "
                f"[{','.join(map(str, array.shape))}]"
            )
    except ServingStatus as error:
        raise invalid_argument(
            f"Failed to process {where} of 'instances' list. Error: {error.code}: {error.message}"
        ) from None
    return array


def inputs_from_json(document: dict, infos: dict[str, TensorInfo]) -> tuple[dict[str, np.ndarray], bool]:
    """Typed inputs from a `:predict` body, and whether it used the row (`instances`) format.

    Args:
        document: dict. The parsed body.
        infos: dict[str, TensorInfo]. The signature's inputs.
    """
    if not infos:
        raise invalid_argument("Failed to get input map for signature")
    has_instances, has_inputs = "instances" in document, "inputs" in document
    if has_instances and has_inputs:
        raise invalid_argument(
            f"JSON Value: {json_value_text(document)} Not formatted correctly expecting only one of 'inputs' or "
            "'instances' keys to exist "
        )
    if has_instances:
        instances = document["instances"]
        if not isinstance(instances, list):
            raise invalid_argument(
                f"JSON Value: {json_value_text(document)} Excepting 'instances' to be an list/array"
            )
        if not instances:
            raise invalid_argument(f"JSON Value: {json_value_text(document)} No values in 'instances' array")
        return _instances_to_arrays(instances, infos), True
    if has_inputs:
        value = document["inputs"]
        if not isinstance(value, dict) or _is_b64(value):
            if len(infos) > 1:
                raise invalid_argument(
                    "inputs is a plain value/list, but expecting an object as multiple input tensors required as "
                    "per tensorinfo_map"
                )
            (name, info), = infos.items()
            return {name: json_to_array(value, info.dtype_name)}, False
        arrays = {}
        for name, info in sorted(infos.items()):
            if name not in value:
                raise invalid_argument(f"Missing named input: {name} in 'inputs' object.")
            arrays[name] = json_to_array(value[name], info.dtype_name)
        return arrays, False
    raise invalid_argument("Missing 'inputs' or 'instances' key")


def _jsonable(value, as_b64: bool):
    if isinstance(value, list):
        return [_jsonable(item, as_b64) for item in value]
    if isinstance(value, bytes):
        if not as_b64:
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:  # not text: only base64 survives JSON
                return _base64_json(value)
        return _base64_json(value)
    return value


def _base64_json(value: bytes) -> dict:
    return {"b64": base64.b64encode(value).decode("ascii")}


def _output_json(alias: str, value: np.ndarray):
    if value.dtype == object:
        return _jsonable(value.tolist(), alias.endswith("_bytes"))
    return value.tolist()


def outputs_to_json(outputs: dict[str, np.ndarray], row_format: bool) -> bytes:
    """`{"predictions": ...}` (row format) or `{"outputs": ...}` (columnar), as TF Serving writes them."""
    if not outputs:
        raise invalid_argument("Cannot convert empty tensor map to JSON")
    if row_format:
        batch_size = None
        for alias, value in outputs.items():
            if value.ndim == 0:
                raise invalid_argument(f"Tensor name: {alias} has no shape information ")
            if batch_size is not None and value.shape[0] != batch_size:
                raise invalid_argument(
                    f"Tensor name: {alias} has inconsistent batch size: {value.shape[0]} expecting: {batch_size}"
                )
            batch_size = value.shape[0]
        columns = {alias: _output_json(alias, value) for alias, value in outputs.items()}
        if len(columns) == 1:
            (predictions,) = columns.values()
        else:
            predictions = [{alias: column[i] for alias, column in columns.items()} for i in range(batch_size)]
        body = {"predictions": predictions}
    else:
        columns = {alias: _output_json(alias, value) for alias, value in outputs.items()}
        body = {"outputs": next(iter(columns.values())) if len(columns) == 1 else columns}
    return json.dumps(body, ensure_ascii=False).encode("utf-8")
