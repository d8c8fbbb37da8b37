"""TensorFlow `DataType` names and their numpy equivalents, without importing TensorFlow.

Example:
    >>> numpy_dtype("DT_FLOAT")
    dtype('float32')
    >>> short_name("DT_INT32")
    'int32'
"""

from __future__ import annotations

import numpy as np

# DataType enum values from tensorflow/core/framework/types.proto.
ENUM_VALUES: dict[str, int] = {
    "DT_INVALID": 0,
    "DT_FLOAT": 1,
    "DT_DOUBLE": 2,
    "DT_INT32": 3,
    "DT_UINT8": 4,
    "DT_INT16": 5,
    "DT_INT8": 6,
    "DT_STRING": 7,
    "DT_INT64": 9,
    "DT_BOOL": 10,
    "DT_UINT16": 17,
    "DT_HALF": 19,
    "DT_UINT32": 22,
    "DT_UINT64": 23,
}
NAMES_BY_ENUM: dict[int, str] = {value: name for name, value in ENUM_VALUES.items()}

_NUMPY_BY_NAME: dict[str, np.dtype] = {
    "DT_FLOAT": np.dtype(np.float32),
    "DT_DOUBLE": np.dtype(np.float64),
    "DT_INT32": np.dtype(np.int32),
    "DT_UINT8": np.dtype(np.uint8),
    "DT_INT16": np.dtype(np.int16),
    "DT_INT8": np.dtype(np.int8),
    "DT_STRING": np.dtype(object),
    "DT_INT64": np.dtype(np.int64),
    "DT_BOOL": np.dtype(np.bool_),
    "DT_UINT16": np.dtype(np.uint16),
    "DT_HALF": np.dtype(np.float16),
    "DT_UINT32": np.dtype(np.uint32),
    "DT_UINT64": np.dtype(np.uint64),
}


def numpy_dtype(name: str) -> np.dtype:
    """The numpy dtype for a `DT_*` name; strings are `object` arrays of `bytes`."""
    if name not in _NUMPY_BY_NAME:
        raise ValueError(f"Unsupported tensor dtype {name!r}; expected one of {sorted(_NUMPY_BY_NAME)}.")
    return _NUMPY_BY_NAME[name]


def name_for_numpy(dtype: np.dtype) -> str:
    """The `DT_*` name for a numpy dtype; unicode, bytes and object arrays are `DT_STRING`."""
    dtype = np.dtype(dtype)
    if dtype.kind in ("U", "S", "O"):
        return "DT_STRING"
    for name, candidate in _NUMPY_BY_NAME.items():
        if candidate == dtype:
            return name
    raise ValueError(f"Cannot send numpy dtype {dtype} as a tensor; supported: {sorted(_NUMPY_BY_NAME)}.")


def short_name(name: str) -> str:
    """TensorFlow's `DataTypeString`: `DT_FLOAT` -> `float`, `DT_INT32` -> `int32`."""
    return name[len("DT_") :].lower() if name.startswith("DT_") else name
