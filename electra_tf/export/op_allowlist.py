"""Which ops an exported SavedModel may contain so that TF Serving 2.12+ runs it without Python.

Allowed: core TensorFlow ops (registered in `tf.raw_ops`), except those that call back into Python, and the
TF Text ops that `tensorflow_model_server` 2.12 and later link in. Never allowed: TF Text's trimmer ops
(`RoundRobinTrimmer` builds on `TFText>RoundRobinTrim`/`RoundRobinGenerateMasks`), which TF Serving
2.12-2.19 lack, and `PyFunc`-style ops, which need a Python interpreter in the server.

The check reads `saved_model.pb` only (the graph and every function of its library); it loads nothing.

Example:
>>> disallowed_ops("saved_models/electra/1")  # doctest: +SKIP
{}
>>> sorted(saved_model_op_counts("saved_models/electra/1"))[:3]  # doctest: +SKIP
['AddV2', 'Any', 'Assert']
"""

from __future__ import annotations

import collections
import os

import tensorflow as tf
from tensorflow.core.protobuf import saved_model_pb2

# TF Text ops in TF Serving 2.12+ (`tensorflow_model_server` links tensorflow_text's op library) that an
# export may use: BERT normalisation, regex splitting and both WordPiece implementations.
TF_TEXT_SERVING_OPS = frozenset({
    "CaseFoldUTF8",
    "NormalizeUTF8",
    "NormalizeUTF8WithOffsetsMap",
    "RegexSplitWithOffsets",
    "FastWordpieceTokenizeWithOffsets",
    "WordpieceTokenizeWithOffsets",
    "WhitespaceTokenizeWithOffsets",
    "UnicodeScriptTokenizeWithOffsets",
})

# Ops refused even though TensorFlow registers them, with the reason shown to the user.
FORBIDDEN_OPS = {
    "PyFunc": "runs Python code; TF Serving has no Python interpreter",
    "PyFuncStateless": "runs Python code; TF Serving has no Python interpreter",
    "EagerPyFunc": "runs Python code; TF Serving has no Python interpreter",
    "TFText>RoundRobinTrim": "TF Text trimmer op, absent from TF Serving 2.12-2.19",
    "TFText>RoundRobinGenerateMasks": "TF Text trimmer op, absent from TF Serving 2.12-2.19",
}


def saved_model_op_counts(export_dir: str | os.PathLike) -> collections.Counter:
    """How often each op type occurs in a SavedModel's graphs and function libraries.

    Args:
        export_dir: str. A SavedModel folder (holding `saved_model.pb`).

    Returns:
        collections.Counter of op type name -> number of nodes.
    """
    saved_model = saved_model_pb2.SavedModel()
    with open(os.path.join(os.fspath(export_dir), "saved_model.pb"), "rb") as f:
        saved_model.ParseFromString(f.read())
    counts = collections.Counter()
    for meta_graph in saved_model.meta_graphs:
        graph = meta_graph.graph_def
        counts.update(node.op for node in graph.node)
        for function in graph.library.function:
            counts.update(node.op for node in function.node_def)
    return counts


def op_problem(op: str) -> str | None:
    """Why TF Serving could not run op type `op`, or None when it can."""
    if op in FORBIDDEN_OPS:
        return FORBIDDEN_OPS[op]
    if op in TF_TEXT_SERVING_OPS or hasattr(tf.raw_ops, op):
        return None
    return "neither core TensorFlow nor a TF Text op that TF Serving bundles"


def disallowed_ops(export_dir: str | os.PathLike) -> dict[str, str]:
    """Op types of a SavedModel that TF Serving 2.12+ could not run, with the reason for each."""
    problems = {op: op_problem(op) for op in saved_model_op_counts(export_dir)}
    return {op: reason for op, reason in sorted(problems.items()) if reason is not None}


def check_serving_ops(export_dir: str | os.PathLike) -> None:
    """Raises ValueError naming every op of the SavedModel that TF Serving 2.12+ could not run."""
    problems = disallowed_ops(export_dir)
    if problems:
        listed = "; ".join(f"{op} ({reason})" for op, reason in problems.items())
        raise ValueError(f"The export uses ops TF Serving cannot run: {listed}.")
