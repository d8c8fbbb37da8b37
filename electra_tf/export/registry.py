"""The registry of exportable signatures: one `SignatureSpec` per computation, written twice per export.

A spec names a computation on packed token ids (`compute`). The exporter writes it as a raw-text signature
(`name`, strings in, tokenized and packed in the graph) and as its token-id twin (`name_ids`, the three
TF Hub BERT int32 inputs in). Adding a signature for a new model type (`classify`, `answer`, `tag`) is one
function plus one `register_signature` call; the exporter, the version folders and the tests of the
serving contract need no change.

Example:
>>> import tensorflow as tf
>>> def count_tokens(context, inputs):
...     return {"real_tokens": tf.reduce_sum(inputs["input_mask"], axis=1)}
>>> spec = SignatureSpec("count_tokens", count_tokens, description="number of real tokens per text")
>>> spec.ids_signature_name
'count_tokens_ids'
"""

from __future__ import annotations

import dataclasses
from typing import Callable

from electra_tf.errors import InputError
from electra_tf.export import names


@dataclasses.dataclass(frozen=True)
class SignatureSpec:
    """One exported computation.

    Attributes:
        name: str. The raw-text signature's key in the SavedModel.
        compute: `(ExportContext, inputs) -> outputs`. `inputs` is a dict of int32 `[batch, seq]`
            `input_word_ids`, `input_mask`, `input_type_ids`; `outputs` a dict of tensors with batch first.
        description: str. One line for `--help` and the export log.
        text_inputs: tuple[str, ...]. Input keys of the text signature, one per segment (one or two).
        keep_mask_token: bool. The literal `[MASK]` in the text is the mask id rather than `[`, `mask`, `]`.
        ids_twin: str | None. Key of the token-id twin; `name + "_ids"` when None. Specs with the same
            computation on ids (`encode`, `encode_pair`) share one twin.
        unavailable_reason: `model -> str | None`. Why this model cannot provide the signature (e.g. an MLM
            baseline has no replaced-token head), or None when it can.
        text_signature: `ExportContext -> tf.function` (with its `input_signature`) or None. Builds the raw-text
            signature itself, for computations that need more of the text than its packed ids (character
            offsets, windows over a long context: `answer`, `tag`) or whose inputs depend on the model
            (`classify` of a pair task). None: `compute` behind in-graph tokenization of `text_inputs`.
    """

    name: str
    compute: Callable
    description: str = ""
    text_inputs: tuple[str, ...] = (names.TEXT,)
    keep_mask_token: bool = False
    ids_twin: str | None = None
    unavailable_reason: Callable = lambda model: None
    text_signature: Callable | None = None

    def __post_init__(self):
        if not 1 <= len(self.text_inputs) <= 2:
            raise ValueError(
                f"Expected one or two text inputs for signature {self.name!r}. Received: {self.text_inputs}"
            )

    @property
    def ids_signature_name(self) -> str:
        """Key of the token-id twin in the SavedModel."""
        return self.ids_twin or names.token_ids_twin(self.name)


_REGISTRY: dict[str, SignatureSpec] = {}


def register_signature(spec: SignatureSpec) -> SignatureSpec:
    """Adds a spec to the registry (export order = registration order). Returns the spec.

    Raises:
        ValueError: a spec of that name is registered already.
    """
    if spec.name in _REGISTRY:
        raise ValueError(f"A signature named {spec.name!r} is registered already.")
    _REGISTRY[spec.name] = spec
    return spec


def registered_signatures() -> tuple[SignatureSpec, ...]:
    """Every registered spec, in registration order."""
    return tuple(_REGISTRY.values())


def get_signature(name: str) -> SignatureSpec:
    """The spec registered under `name`.

    Raises:
        InputError: no such signature; the message lists the registered ones.
    """
    if name not in _REGISTRY:
        raise InputError(f"Unknown signature {name!r}. Expected one of: {', '.join(_REGISTRY)}.")
    return _REGISTRY[name]


def select_signatures(model, requested: list[str] | None = None) -> tuple[SignatureSpec, ...]:
    """The specs to export for `model`: the requested ones (checked), or every one the model can provide.

    Args:
        model: the model being exported (an `ElectraPretrainer` for the pretrained signatures).
        requested: signature names, or None for all available.

    Raises:
        InputError: an unknown name, a signature this model cannot provide, or nothing left to export.
    """
    if requested is None:
        selected = tuple(spec for spec in registered_signatures() if spec.unavailable_reason(model) is None)
    else:
        selected = tuple(get_signature(name) for name in dict.fromkeys(requested))
        for spec in selected:
            reason = spec.unavailable_reason(model)
            if reason is not None:
                raise InputError(f"Cannot export signature {spec.name!r}: {reason}")
    if not selected:
        raise InputError("No signature to export: this model provides none of the registered signatures.")
    return selected
