"""Rewrites a fresh SavedModel so that model servers built on older TensorFlow (TF Serving 2.12+) import it.

Newer TensorFlow records optional attributes that older binaries reject when they import the graph
("NodeDef mentions attr 'debug_name' not in Op<name=VarHandleOp ...>. Check whether your GraphDef-interpreting
binary is up to date with your GraphDef-generating binary."). Each has a default, so removing it changes
nothing for the TensorFlow that wrote the model. After the rewrite, `fingerprint.pb` is recomputed so that it
describes the new `saved_model.pb`.

Example:
>>> strip_newer_attributes("saved_models/electra/.tmp-export-x")  # doctest: +SKIP
412
"""

from __future__ import annotations

import os

from tensorflow.core.protobuf import saved_model_pb2

# op type -> optional attributes that TensorFlow 2.12 does not know (their defaults apply when absent).
NEWER_ATTRIBUTES = {
    "VarHandleOp": ("debug_name",),
}


def _nodes(saved_model):
    """Every NodeDef of a SavedModel: graphs and the functions of their libraries."""
    for meta_graph in saved_model.meta_graphs:
        yield from meta_graph.graph_def.node
        for function in meta_graph.graph_def.library.function:
            yield from function.node_def


def _read(export_dir: str) -> saved_model_pb2.SavedModel:
    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(export_dir, "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    return saved_model


def newer_attributes(export_dir: str | os.PathLike) -> list[tuple[str, str]]:
    """The `(op type, attribute)` pairs of `NEWER_ATTRIBUTES` that a SavedModel still contains."""
    found = set()
    for node in _nodes(_read(os.fspath(export_dir))):
        for attribute in NEWER_ATTRIBUTES.get(node.op, ()):
            if attribute in node.attr:
                found.add((node.op, attribute))
    return sorted(found)


def strip_newer_attributes(export_dir: str | os.PathLike) -> int:
    """Removes the attributes of `NEWER_ATTRIBUTES` from a SavedModel in place; returns how many it removed."""
    from tensorflow.python.saved_model import fingerprinting_utils

    export_dir = os.fspath(export_dir)
    saved_model = _read(export_dir)
    removed = 0
    for node in _nodes(saved_model):
        for attribute in NEWER_ATTRIBUTES.get(node.op, ()):
            if attribute in node.attr:
                del node.attr[attribute]
                removed += 1
    if removed:
        with open(os.path.join(export_dir, "saved_model.pb"), "wb") as f:
            f.write(saved_model.SerializeToString(deterministic=True))
        fingerprinting_utils.write_fingerprint(export_dir)
    return removed
