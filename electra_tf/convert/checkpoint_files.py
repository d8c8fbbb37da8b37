"""Reading and writing Hugging Face checkpoint folders (`config.json` + safetensors), with numpy only.

Only safetensors is read: `pytorch_model.bin` is a pickle, and unpickling a downloaded file can run any
code, so such a folder is refused with the one-line command that re-saves it as safetensors.

Example:
>>> config, tensors = read_checkpoint_folder("electra-small-discriminator")  # doctest: +SKIP
>>> tensors["electra.embeddings.word_embeddings.weight"].shape  # doctest: +SKIP
(30522, 128)
"""

from __future__ import annotations

import json
import os
import struct

import numpy as np
import safetensors.numpy

from electra_tf.errors import InputError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.safetensors"
WEIGHTS_INDEX_FILE = "model.safetensors.index.json"
PICKLE_WEIGHT_FILES = ("pytorch_model.bin", "tf_model.h5", "flax_model.msgpack")


def read_config(folder) -> dict:
    """The `config.json` of a checkpoint folder as a dict, with a clear error when the folder is not one."""
    folder = os.fspath(folder)
    if not os.path.isdir(folder):
        raise InputError(f"No such checkpoint folder: {folder!r}. Expected a Hugging Face model folder.")
    path = os.path.join(folder, CONFIG_FILE)
    if not os.path.isfile(path):
        raise InputError(f"{folder!r} has no {CONFIG_FILE}. Expected a Hugging Face model folder "
                         "(config.json + model.safetensors), as `save_pretrained` writes it.")
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"{path!r} is not valid JSON: {error}") from None


def read_tensors(folder) -> dict[str, np.ndarray]:
    """All tensors of `model.safetensors` (or of the shards its `.index.json` lists), as float32 arrays.

    Half-precision checkpoints (float16, bfloat16) are widened to float32, the dtype of the Keras variables.
    Legacy LayerNorm names (`.gamma`, `.beta`) are read as `.weight`, `.bias`, as `transformers` does.
    """
    folder = os.fspath(folder)
    single = os.path.join(folder, WEIGHTS_FILE)
    index = os.path.join(folder, WEIGHTS_INDEX_FILE)
    if os.path.isfile(single):
        files = [single]
    elif os.path.isfile(index):
        with open(index, encoding="utf-8") as f:
            weight_map = json.load(f).get("weight_map", {})
        files = [os.path.join(folder, name) for name in sorted(set(weight_map.values()))]
    else:
        present = [name for name in PICKLE_WEIGHT_FILES if os.path.isfile(os.path.join(folder, name))]
        hint = (
            f" It holds {present[0]}, which electra-tf does not load (pickle files can run code). Re-save it as "
            "safetensors once with transformers: `AutoModel...from_pretrained(DIR).save_pretrained(NEW_DIR)`."
            if present else ""
        )
        raise InputError(f"{folder!r} has no {WEIGHTS_FILE} (nor {WEIGHTS_INDEX_FILE}).{hint}")
    tensors = {}
    for path in files:
        if not os.path.isfile(path):
            raise InputError(f"Checkpoint shard {path!r} listed in {WEIGHTS_INDEX_FILE} is missing.")
        for name, array in _load_safetensors(path).items():
            tensors[_modern_name(name)] = array.astype(np.float32) if array.dtype != np.float32 else array
    return tensors


def write_checkpoint_folder(folder, config: dict, tensors: dict[str, np.ndarray]) -> None:
    """Writes `config.json` and `model.safetensors` (PyTorch metadata, so `from_pretrained` accepts it)."""
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, CONFIG_FILE), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2, sort_keys=True)
        f.write("\n")
    contiguous = {name: np.ascontiguousarray(array) for name, array in tensors.items()}
    safetensors.numpy.save_file(contiguous, os.path.join(folder, WEIGHTS_FILE), metadata={"format": "pt"})


def _load_safetensors(path) -> dict[str, np.ndarray]:
    """`safetensors.numpy.load_file`, plus bfloat16 tensors (which numpy has no dtype for) as float32."""
    try:
        return safetensors.numpy.load_file(path)
    except TypeError as error:
        if "bfloat16" not in str(error):
            raise
    return _load_with_bfloat16(path)


def _load_with_bfloat16(path) -> dict[str, np.ndarray]:
    """Reads a safetensors file by its documented layout: u64 header size, JSON header, raw little-endian data.

    bfloat16 is the upper half of a float32, so its 16 bits shifted left are the exact float32 value.
    """
    dtypes = {"F32": np.float32, "F16": np.float16, "F64": np.float64, "I64": np.int64, "I32": np.int32,
              "I16": np.int16, "I8": np.int8, "U8": np.uint8, "BOOL": np.bool_}
    with open(path, "rb") as f:
        (header_size,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(header_size))
        data = f.read()
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        begin, end = entry["data_offsets"]
        raw = data[begin:end]
        if entry["dtype"] == "BF16":
            bits = np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16
            array = bits.view(np.float32)
        elif entry["dtype"] in dtypes:
            array = np.frombuffer(raw, dtype=np.dtype(dtypes[entry["dtype"]]).newbyteorder("<"))
        else:
            raise InputError(f"Tensor {name!r} in {path!r} has dtype {entry['dtype']}, which cannot be converted.")
        tensors[name] = array.reshape(entry["shape"])
    return tensors


def _modern_name(name: str) -> str:
    """Maps TF-era LayerNorm names (`LayerNorm.gamma`/`.beta`) to today's (`.weight`/`.bias`)."""
    if name.endswith(".gamma"):
        return name[: -len(".gamma")] + ".weight"
    if name.endswith(".beta"):
        return name[: -len(".beta")] + ".bias"
    return name
