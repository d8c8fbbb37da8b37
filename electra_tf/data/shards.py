"""Writing pretraining examples as sharded TFRecord files of `tf.train.Example` protos.

Each record is a `tf.train.Example` with int64 features `input_ids`, `input_mask` and `segment_ids` of
length `seq_length` (the feature names of the official ELECTRA and BERT data). Example `k` goes to shard
`k % num_shards` (round robin, as the official writer does), so shards differ in size by at most one.

Serialising with the protobuf library costs ~60 µs an example in Python, more than building it; so
`serialize_examples` writes the protobuf wire format directly, vectorised with NumPy over a block of examples.
The bytes are exactly those of `tf.train.Example.SerializeToString(deterministic=True)` (tested).

Example:
>>> with ShardWriter("data/", num_shards=4) as writer:  # doctest: +SKIP
...     writer.write(stack_examples(examples))
>>> writer.shard_counts  # doctest: +SKIP
[3, 3, 2, 2]
"""

from __future__ import annotations

import functools
import os

import numpy as np

SHARD_PATTERN = "pretrain_data-{index:05d}-of-{count:05d}.tfrecord"
FEATURE_NAMES = ("input_ids", "input_mask", "segment_ids")


def shard_file_name(index: int, count: int) -> str:
    """The file name of shard `index` of `count`, e.g. `pretrain_data-00003-of-00016.tfrecord`."""
    return SHARD_PATTERN.format(index=index, count=count)


class ShardWriter:
    """Writes serialized examples round robin into `num_shards` TFRecord files in `out_dir`.

    Args:
        out_dir: str or os.PathLike. An existing folder.
        num_shards: int. Number of files.

    Example:
    >>> writer = ShardWriter("data/", 2)  # doctest: +SKIP
    >>> writer.write({"input_ids": ids, "input_mask": mask, "segment_ids": segments})  # doctest: +SKIP
    >>> writer.close()  # doctest: +SKIP
    """

    def __init__(self, out_dir, num_shards: int):
        import tensorflow as tf

        self.file_names = [shard_file_name(index, num_shards) for index in range(num_shards)]
        self.shard_counts = [0] * num_shards
        self._writers = [tf.io.TFRecordWriter(os.path.join(out_dir, name)) for name in self.file_names]
        self._next = 0

    def write(self, features: dict[str, np.ndarray]) -> None:
        """Writes a block of examples: each feature an int [num_examples, seq_length] array."""
        num_shards = len(self._writers)
        for record in serialize_examples(features):
            self._writers[self._next].write(record)
            self.shard_counts[self._next] += 1
            self._next = (self._next + 1) % num_shards

    def close(self) -> None:
        for writer in self._writers:
            writer.close()

    def __enter__(self) -> "ShardWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def serialize_examples(features: dict[str, np.ndarray]) -> list[bytes]:
    """Serializes rows of int64 features as `tf.train.Example` protos, like `SerializeToString(deterministic=True)`.

    Args:
        features: dict of name -> np.ndarray. Non-negative integers [num_examples, length] (lengths may
            differ between features).

    Returns:
        list of bytes. One serialized `tf.train.Example` a row.

    Example:
    >>> import tensorflow as tf
    >>> record = serialize_examples({"input_ids": np.array([[101, 7, 102]])})[0]
    >>> tf.train.Example.FromString(record).features.feature["input_ids"].int64_list.value
    [101, 7, 102]
    """
    names = sorted(features)  # deterministic protobuf serialisation orders map entries by key
    if not names:
        return []
    num_rows = len(features[names[0]])
    # Per feature, either ("fixed", bytes of [rows, stride] entries) when every row's entry has the same
    # length (masks, segment ids: one byte a value), or ("varying", payload, starts, ends) for token ids.
    columns = []
    for name in names:
        values = np.asarray(features[name])
        if values.ndim != 2 or len(values) != num_rows:
            raise ValueError(
                f"Feature {name!r} must be [num_examples={num_rows}, length], received shape {values.shape}."
            )
        if values.size and values.min() < 0:
            raise ValueError(f"Feature {name!r} has negative values; expected token ids, masks or segment ids.")
        payload, row_lengths = _encode_varint_rows(values)
        if num_rows and (row_lengths == row_lengths[0]).all():
            header = np.frombuffer(_entry_header(name, int(row_lengths[0])), np.uint8)
            entries = np.concatenate([np.broadcast_to(header, (num_rows, len(header))), payload.reshape(num_rows, -1)], 1)
            columns.append(("fixed", entries.tobytes(), entries.shape[1]))
        else:
            ends = np.cumsum(row_lengths)
            columns.append(("varying", name, payload.tobytes(), (ends - row_lengths).tolist(), ends.tolist()))
    records = []
    for row in range(num_rows):
        parts = [b""]  # the Example header goes first, once the body length is known
        body_length = 0
        for column in columns:
            if column[0] == "fixed":
                _, entries, stride = column
                parts.append(entries[row * stride : (row + 1) * stride])
                body_length += stride
            else:
                _, name, payload, starts, ends = column
                header = _entry_header(name, ends[row] - starts[row])
                parts.append(header)
                parts.append(payload[starts[row] : ends[row]])
                body_length += len(header) + ends[row] - starts[row]
        parts[0] = _example_header(body_length)
        records.append(b"".join(parts))
    return records


@functools.lru_cache(maxsize=65536)
def _example_header(body_length: int) -> bytes:
    return b"\x0a" + _varint(body_length)  # Example.features


@functools.lru_cache(maxsize=65536)
def _entry_header(name: str, payload_length: int) -> bytes:
    """Wire bytes of one `Features.feature` map entry up to its packed int64 payload of `payload_length`."""
    key = name.encode("utf-8")
    int64_list_length = 1 + len(_varint(payload_length)) + payload_length  # Int64List.value, packed
    feature_length = 1 + len(_varint(int64_list_length)) + int64_list_length  # Feature.int64_list
    entry_length = 1 + len(_varint(len(key))) + len(key) + 1 + len(_varint(feature_length)) + feature_length
    return (
        b"\x0a" + _varint(entry_length)  # Features.feature (a map entry message)
        + b"\x0a" + _varint(len(key)) + key  # entry key
        + b"\x12" + _varint(feature_length)  # entry value: Feature
        + b"\x1a" + _varint(int64_list_length)  # Feature.int64_list
        + b"\x0a" + _varint(payload_length)  # Int64List.value, packed
    )


def _encode_varint_rows(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Protobuf varints of every value, row by row.

    Returns:
        (uint8 [total_bytes] the concatenated varints in row-major order, int64 [num_rows] bytes per row).
    """
    max_value = int(values.max()) if values.size else 0
    dtype = np.uint32 if max_value < 2**32 else np.uint64
    values = values.astype(dtype)  # [rows, length]
    width = max(1, (max_value.bit_length() + 6) // 7)  # bytes of the longest varint
    if width == 1:
        return values.astype(np.uint8).reshape(-1), np.full([len(values)], values.shape[1], np.int64)
    shifts = (7 * np.arange(width, dtype=dtype))[None, None, :]  # [1, 1, width]
    groups = ((values[:, :, None] >> shifts) & dtype(0x7F)).astype(np.uint8)  # [rows, length, width]
    num_bytes = np.ones(values.shape, np.int64)  # [rows, length]
    for k in range(1, width):
        num_bytes += values >= dtype(1 << (7 * k))
    byte_index = np.arange(width)[None, None, :]  # [1, 1, width]
    continuation = byte_index < (num_bytes[:, :, None] - 1)  # more bytes follow
    groups |= (continuation * 0x80).astype(np.uint8)
    present = byte_index < num_bytes[:, :, None]  # [rows, length, width]
    return groups[present], num_bytes.sum(axis=1)


@functools.lru_cache(maxsize=4096)
def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)
