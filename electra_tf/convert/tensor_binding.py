"""`TensorBinding`: one Keras variable and the checkpoint tensor(s) it is stored as, in both directions.

Every converter is a list of bindings. Loading checks *all* of them (missing tensors, wrong shapes)
before assigning anything, so a bad checkpoint leaves the model untouched and the error names the tensor.

Example:
>>> import keras
>>> dense = keras.layers.Dense(3)
>>> dense.build((None, 2))
>>> binding = transposed(dense.kernel, "fc.weight")  # PyTorch stores Linear weights as [out, in]
>>> binding.checkpoint_shapes
((3, 2),)
>>> load_bindings([binding], {"fc.weight": np.ones((3, 2), np.float32)}, source="demo")
{'fc.weight'}
"""

from __future__ import annotations

import dataclasses
import warnings
from typing import Callable

import numpy as np

from electra_tf.errors import InputError


@dataclasses.dataclass(frozen=True)
class TensorBinding:
    """How one variable is stored in a checkpoint.

    Attributes:
        variable: the Keras variable.
        names: the checkpoint tensor name(s) it is stored as (three for a fused query/key/value).
        checkpoint_shapes: the shape each named tensor must have.
        to_checkpoint: variable value -> tuple of checkpoint tensors (one per name).
        from_checkpoint: tuple of checkpoint tensors -> variable value.
    """

    variable: object
    names: tuple[str, ...]
    checkpoint_shapes: tuple[tuple[int, ...], ...]
    to_checkpoint: Callable[[np.ndarray], tuple[np.ndarray, ...]]
    from_checkpoint: Callable[[tuple[np.ndarray, ...]], np.ndarray]


def same(variable, name: str) -> TensorBinding:
    """A tensor stored with the variable's own layout (embedding tables, LayerNorm, biases)."""
    shape = tuple(variable.shape)
    return TensorBinding(variable, (name,), (shape,), lambda value: (value,), lambda arrays: arrays[0])


def transposed(variable, name: str) -> TensorBinding:
    """A Keras Dense kernel `[in, out]` stored as a PyTorch Linear weight `[out, in]`."""
    shape = tuple(variable.shape)
    return TensorBinding(
        variable, (name,), (shape[::-1],), lambda value: (value.T,), lambda arrays: arrays[0].T
    )


def reshaped(variable, name: str, checkpoint_shape: tuple[int, ...]) -> TensorBinding:
    """A tensor stored with the same values in another shape (e.g. per-head `[hidden, heads, head_size]`)."""
    shape = tuple(variable.shape)
    return TensorBinding(
        variable,
        (name,),
        (tuple(checkpoint_shape),),
        lambda value: (value.reshape(checkpoint_shape),),
        lambda arrays: arrays[0].reshape(shape),
    )


def split_along_last_axis(variable, names: tuple[str, ...], part: Callable) -> TensorBinding:
    """A variable whose last axis is the concatenation of several checkpoint tensors.

    The fused `query_key_value` kernel `[hidden, 3 * hidden]` is `concat([Wq, Wk, Wv], axis=-1)`, each with
    its heads contiguous, so it splits into equal thirds.

    Args:
        variable: the fused variable.
        names: checkpoint names of the parts, in order.
        part: how each part is stored: `same`, `transposed` or any `(variable, name) -> TensorBinding`.
    """
    shape = tuple(variable.shape)
    count = len(names)
    if shape[-1] % count:
        raise ValueError(f"Cannot split the last axis of {variable.path} {shape} into {count} equal parts.")
    part_shape = shape[:-1] + (shape[-1] // count,)
    parts = [part(_ShapeOnly(part_shape, variable.path), name) for name in names]

    def to_checkpoint(value):
        return tuple(
            binding.to_checkpoint(piece)[0] for binding, piece in zip(parts, np.split(value, count, axis=-1))
        )

    def from_checkpoint(arrays):
        return np.concatenate(
            [binding.from_checkpoint((array,)) for binding, array in zip(parts, arrays)], axis=-1
        )

    return TensorBinding(
        variable, tuple(names), tuple(binding.checkpoint_shapes[0] for binding in parts), to_checkpoint,
        from_checkpoint,
    )


def check_bindings(bindings, tensors: dict[str, np.ndarray], source: str) -> None:
    """Checks that every tensor the bindings need is in `tensors` with the right shape.

    Args:
        bindings: iterable of `TensorBinding`.
        tensors: checkpoint name -> array.
        source: what the tensors came from (a folder path), for error messages.

    Raises:
        InputError: naming the missing tensors (the first five), or a tensor with the wrong shape.
    """
    bindings = list(bindings)
    missing = [name for binding in bindings for name in binding.names if name not in tensors]
    if missing:
        listed = ", ".join(repr(name) for name in missing[:5])
        if len(missing) > 5:
            listed += f" and {len(missing) - 5} more"
        raise InputError(
            f"{source}: missing tensor(s) {listed}. Expected a complete checkpoint of this architecture "
            "(is it the right model: discriminator vs generator?)."
        )
    for binding in bindings:
        for name, expected in zip(binding.names, binding.checkpoint_shapes):
            received = tuple(tensors[name].shape)
            if received != tuple(expected):
                raise InputError(
                    f"{source}: tensor {name!r} has shape {received}; expected {tuple(expected)} "
                    f"(for {binding.variable.path}). The checkpoint's config.json and its weights disagree."
                )


def load_bindings(bindings, tensors: dict[str, np.ndarray], source: str) -> set[str]:
    """Assigns every bound variable from `tensors`, after `check_bindings` has passed for all of them.

    A bad checkpoint therefore leaves the model unchanged.

    Returns: the set of checkpoint names that were used.
    """
    bindings = list(bindings)
    check_bindings(bindings, tensors, source)
    for binding in bindings:
        value = binding.from_checkpoint(tuple(tensors[name] for name in binding.names))
        binding.variable.assign(np.asarray(value, dtype=binding.variable.dtype))
    return {name for binding in bindings for name in binding.names}


def warn_if_different(bindings, tensors: dict[str, np.ndarray], source: str, consequence: str) -> None:
    """Warns, naming the tensor and the largest difference, where a checkpoint tensor is not the variable's value.

    Used where a checkpoint stores a second copy of shared weights (ELECTRA's generator embeddings).
    """
    for binding in bindings:
        stored = binding.to_checkpoint(np.asarray(binding.variable.numpy()))
        for name, value in zip(binding.names, stored):
            difference = float(np.max(np.abs(value - tensors[name]))) if value.size else 0.0
            if difference > 0.0:
                warnings.warn(
                    f"{source}: tensor {name!r}: {consequence} (max abs difference {difference:.3g}).", stacklevel=3
                )


def export_bindings(bindings) -> dict[str, np.ndarray]:
    """The checkpoint tensors of every bound variable, as contiguous numpy arrays."""
    tensors = {}
    for binding in bindings:
        value = np.asarray(binding.variable.numpy())
        for name, array in zip(binding.names, binding.to_checkpoint(value)):
            tensors[name] = np.ascontiguousarray(array)
    return tensors


@dataclasses.dataclass(frozen=True)
class _ShapeOnly:
    """Stands in for a variable where only the shape and path are needed (one part of a fused variable)."""

    shape: tuple[int, ...]
    path: str
