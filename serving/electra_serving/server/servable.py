"""One loaded version of a SavedModel, held the way TF Serving holds it: a MetaGraphDef in a Session.

TF Serving's `SavedModelBundle` imports the `serve` MetaGraphDef into a graph, restores the variables in a
Session, and runs a signature by feeding and fetching the tensors its SignatureDef names. We do the same
with `tf.compat.v1.saved_model.loader.load`: TF2 and TF1 SavedModels load alike, loading a new version does
not stall requests to the loaded ones (each version has its own graph, and Session.run releases the GIL),
and a model that loads here loads in TF Serving's C++ loader too.

Example:
    >>> servable = SavedModelServable("demo", 1, "saved_models/demo/1")  # doctest: +SKIP
    >>> servable.run("serving_default", {"text": np.array([b"hello"], dtype=object)})  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2

from electra_serving import dtypes
from electra_serving.server.status import ServingStatus

# TF Serving's binary links the TF Text ops (WordPiece, normalisation, regex split); importing the package
# registers the same kernels here. Without it, models that tokenize in the graph fail to load with
# "Op type not registered", which GetModelStatus then reports.
with contextlib.suppress(ImportError):
    import tensorflow_text  # noqa: F401

SAVED_MODEL_FILENAMES = ("saved_model.pb", "saved_model.pbtxt")


@dataclass(frozen=True)
class TensorInfo:
    """One signature input or output: the alias clients use, the graph tensor, dtype and shape.

    Attributes:
        alias: str. The key in requests and responses, e.g. `"text"`.
        tensor_name: str. The graph tensor, e.g. `"serving_default_text:0"`.
        dtype_name: str. `DT_*` name, e.g. `"DT_STRING"`.
        shape: tuple[int, ...] | None. -1 for an unknown dimension; None for unknown rank.
    """

    alias: str
    tensor_name: str
    dtype_name: str
    shape: tuple[int, ...] | None

    @classmethod
    def from_proto(cls, alias: str, proto: meta_graph_pb2.TensorInfo) -> "TensorInfo":
        shape = None if proto.tensor_shape.unknown_rank else tuple(d.size for d in proto.tensor_shape.dim)
        return cls(alias, proto.name, dtypes.NAMES_BY_ENUM.get(proto.dtype, "DT_INVALID"), shape)


@dataclass(frozen=True)
class Signature:
    """A SignatureDef: `inputs` and `outputs` keyed (and sorted) by alias."""

    name: str
    method_name: str
    inputs: dict[str, TensorInfo]
    outputs: dict[str, TensorInfo]


class SavedModelServable:
    """A loaded SavedModel version.

    Args:
        name: str. The model name clients use.
        version: int. The version number (the directory name).
        path: str. The version directory, `<base_path>/<version>`.
        tags: tuple[str, ...]. The MetaGraphDef tag set to load (TF Serving's `--saved_model_tags`).
    """

    def __init__(self, name: str, version: int, path: str, tags: tuple[str, ...] = ("serve",)):
        self.name = name
        self.version = version
        self.path = path
        self._graph = tf.Graph()
        self._session = tf.compat.v1.Session(graph=self._graph)
        with self._graph.as_default():
            self.meta_graph: meta_graph_pb2.MetaGraphDef = tf.compat.v1.saved_model.loader.load(
                self._session, list(tags), path
            )
        self.signatures: dict[str, Signature] = {}
        self._callables: dict[tuple[str, tuple[str, ...]], tuple] = {}
        for signature_name, proto in sorted(self.meta_graph.signature_def.items()):
            self.signatures[signature_name] = Signature(
                name=signature_name,
                method_name=proto.method_name,
                inputs={k: TensorInfo.from_proto(k, v) for k, v in sorted(proto.inputs.items())},
                outputs={k: TensorInfo.from_proto(k, v) for k, v in sorted(proto.outputs.items())},
            )

    def has_function(self, signature_name: str) -> bool:
        """Whether the signature can run: it exists and has outputs (`__saved_model_init_op` has none to feed)."""
        signature = self.signatures.get(signature_name)
        return signature is not None and bool(signature.inputs) and bool(signature.outputs)

    def run(self, signature_name: str, inputs: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], float]:
        """Runs one signature on validated inputs, fetching every output.

        Args:
            signature_name: str. A key of `signatures` that `has_function`.
            inputs: dict[str, np.ndarray]. One array per signature input, dtypes already matching.

        Returns:
            (outputs keyed by alias as numpy arrays, seconds the model took).

        Raises:
            ServingStatus: TensorFlow rejected the inputs (its status code and the first line of its message).
        """
        aliases = tuple(sorted(inputs))
        run_signature, output_aliases = self._callable(signature_name, aliases)
        start = time.perf_counter()
        try:
            values = run_signature(*(inputs[alias] for alias in aliases))
        except tf.errors.OpError as error:
            raise _status_from_tf_error(error) from None
        except (TypeError, ValueError) as error:
            raise ServingStatus("INVALID_ARGUMENT", str(error).strip().splitlines()[0]) from None
        return dict(zip(output_aliases, values)), time.perf_counter() - start

    def _callable(self, signature_name: str, aliases: tuple[str, ...]):
        """The session callable of a signature fed `aliases`, made once: a `Session.run` with a feed dict
        parses its feeds and fetches again on every call, a callable does not."""
        key = (signature_name, aliases)
        found = self._callables.get(key)
        if found is None:
            signature = self.signatures[signature_name]
            output_aliases = tuple(sorted(signature.outputs))
            with self._graph.as_default():
                run_signature = self._session.make_callable(
                    [signature.outputs[alias].tensor_name for alias in output_aliases],
                    feed_list=[signature.inputs[alias].tensor_name for alias in aliases],
                )
            found = self._callables.setdefault(key, (run_signature, output_aliases))
        return found


def _status_from_tf_error(error: tf.errors.OpError) -> ServingStatus:
    codes = {code.value[0]: code.name for code in grpc.StatusCode}
    message = (error.message or str(error)).strip().splitlines()[0]
    return ServingStatus(codes.get(error.error_code, "UNKNOWN"), message)
