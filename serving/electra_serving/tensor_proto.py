"""numpy arrays to and from `tensorflow.TensorProto`, with numpy and the protos only (no `tf.make_tensor_proto`).

Numbers travel in `tensor_content` (raw little-endian bytes, the fastest form to build and parse); strings in
`string_val`. Decoding accepts every form TensorFlow's `Tensor::FromProto` accepts: `tensor_content`, the
typed `*_val` fields, and the short form where fewer values than elements repeat the last value.

Example:
    >>> import numpy as np
    >>> proto = to_tensor_proto(np.array([["a", "b"]]))
    >>> proto.tensor_shape.dim[1].size, list(proto.string_val)
    (2, [b'a', b'b'])
    >>> from_tensor_proto(to_tensor_proto(np.arange(3, dtype=np.int32)))
    array([0, 1, 2], dtype=int32)
"""

from __future__ import annotations

import numpy as np
from tensorflow.core.framework import tensor_pb2

from electra_serving import dtypes

# The repeated field that holds each dtype's values when `tensor_content` is empty.
_VALUE_FIELD = {
    "DT_FLOAT": "float_val",
    "DT_DOUBLE": "double_val",
    "DT_INT32": "int_val",
    "DT_UINT8": "int_val",
    "DT_INT16": "int_val",
    "DT_INT8": "int_val",
    "DT_UINT16": "int_val",
    "DT_HALF": "half_val",
    "DT_STRING": "string_val",
    "DT_INT64": "int64_val",
    "DT_BOOL": "bool_val",
    "DT_UINT32": "uint32_val",
    "DT_UINT64": "uint64_val",
}


def _as_bytes(value) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, np.bytes_):
        return bytes(value)
    raise TypeError(f"A string tensor holds str or bytes; received {type(value).__name__}: {value!r:.80}.")


def to_tensor_proto(value) -> tensor_pb2.TensorProto:
    """Encodes an array-like (numpy array, nested lists, str, bytes) as a `TensorProto`.

    Args:
        value: array-like. Unicode text is encoded as UTF-8; Python ints become int64 and floats float32
            unless `value` is already a numpy array with a dtype.

    Returns:
        A `tensorflow.TensorProto` with dtype, shape and values.
    """
    array = np.asarray(value)
    if array.dtype == np.float64 and not isinstance(value, np.ndarray):
        array = array.astype(np.float32)  # Python floats: TF Serving models take float32.
    dtype_name = dtypes.name_for_numpy(array.dtype)
    proto = tensor_pb2.TensorProto(dtype=dtypes.ENUM_VALUES[dtype_name])
    for size in array.shape:
        proto.tensor_shape.dim.add(size=size)
    if dtype_name == "DT_STRING":
        proto.string_val.extend(_as_bytes(item) for item in array.ravel().tolist())
    else:
        proto.tensor_content = np.ascontiguousarray(array, dtype=array.dtype.newbyteorder("<")).tobytes()
    return proto


def from_tensor_proto(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """Decodes a `TensorProto` into a numpy array (strings as an `object` array of `bytes`).

    Raises:
        ValueError: the proto's dtype is unsupported or its values do not fit its shape.
    """
    dtype_name = dtypes.NAMES_BY_ENUM.get(proto.dtype)
    if dtype_name is None or dtype_name == "DT_INVALID":
        raise ValueError(f"unsupported tensor dtype enum {proto.dtype}")
    if proto.tensor_shape.unknown_rank:
        raise ValueError("tensor shape has unknown rank")
    shape = tuple(dim.size for dim in proto.tensor_shape.dim)
    if any(size < 0 for size in shape):
        raise ValueError(f"tensor shape {list(shape)} has a negative dimension")
    num_elements = int(np.prod(shape, dtype=np.int64))
    dtype = dtypes.numpy_dtype(dtype_name)
    if proto.tensor_content:
        if dtype_name == "DT_STRING":
            raise ValueError("string tensors cannot use tensor_content")
        content_dtype = dtype.newbyteorder("<")
        if len(proto.tensor_content) != num_elements * content_dtype.itemsize:
            raise ValueError(
                f"tensor_content holds {len(proto.tensor_content)} bytes, shape {list(shape)} of "
                f"{dtypes.short_name(dtype_name)} needs {num_elements * content_dtype.itemsize}"
            )
        return np.frombuffer(proto.tensor_content, dtype=content_dtype).astype(dtype).reshape(shape)
    values = getattr(proto, _VALUE_FIELD[dtype_name])
    if dtype_name == "DT_STRING":
        flat = np.empty(len(values), dtype=object)
        flat[:] = list(values)
    elif dtype_name == "DT_HALF":
        flat = np.asarray(values, dtype=np.uint16).view(np.float16)
    else:
        flat = np.asarray(values, dtype=dtype)
    if len(flat) > num_elements:
        raise ValueError(f"{len(flat)} values do not fit shape {list(shape)}")
    if len(flat) == num_elements:
        return flat.reshape(shape)
    # TensorFlow's short form: missing trailing values repeat the last one (zero/empty when there is none).
    filled = np.full(num_elements, flat[-1] if len(flat) else (b"" if dtype == object else 0), dtype=dtype)
    filled[: len(flat)] = flat
    return filled.reshape(shape)
