"""Export trained models as SavedModels that TF Serving, TF Hub and Keras load as they are.

Example:
>>> from electra_tf.export import export_model_dir
>>> result = export_model_dir("runs/small/model", "saved_models/electra")  # doctest: +SKIP
>>> result.path, result.signatures[:2]  # doctest: +SKIP
('/.../saved_models/electra/1', ('encode', 'encode_ids'))
"""

# Importing the signature modules registers their signatures.
from electra_tf.export import pretrained_signatures  # noqa: F401
from electra_tf.export import generation_signatures  # noqa: F401
from electra_tf.export import task_signatures  # noqa: F401
from electra_tf.export.registry import SignatureSpec, get_signature, register_signature, registered_signatures
from electra_tf.export.saved_model_export import ExportResult, export_model_dir, export_saved_model
from electra_tf.export.versions import list_versions, next_version

__all__ = [
    "ExportResult",
    "SignatureSpec",
    "export_model_dir",
    "export_saved_model",
    "get_signature",
    "list_versions",
    "next_version",
    "register_signature",
    "registered_signatures",
]
