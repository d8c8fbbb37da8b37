"""The object an export saves: signatures for TF Serving, plus the TF Hub / Keras reuse interface.

`build_export_root` traces every selected signature (raw text and token ids) and returns the root trackable
with the signature dict for `tf.saved_model.save`. The root follows the TF Hub BERT encoder convention, so
one SavedModel serves and fine-tunes:

- `__call__(inputs, training=False)`: dict of int32 `[batch, seq]` inputs -> `pooled_output`,
  `sequence_output` of the kept encoder (what `hub.KerasLayer(path, trainable=True)` calls);
- `serve(inputs)`: the same at inference (the default endpoint of Keras 3's `keras.layers.TFSMLayer`);
- `variables`, `trainable_variables` (the encoder's), `regularization_losses` (empty);
- `vocab_file`, `config_file`: assets inside the SavedModel; `do_lower_case`: bool variable.

Only the variables the traced functions read are saved: an `encode`-only export holds no generator.

Example:
>>> root, signatures = build_export_root(context, specs, "vocab.txt", "config.json")  # doctest: +SKIP
>>> tf.saved_model.save(root, "saved_models/electra/1", signatures=signatures)  # doctest: +SKIP
"""

from __future__ import annotations

import tensorflow as tf

from electra_tf.export import names
from electra_tf.export.pretrained_signatures import encoder_outputs


def build_export_root(context, specs, vocab_file: str, config_file: str):
    """Traces the signatures of `specs` and the reuse endpoints, and gathers what they need into a root.

    Args:
        context: `ExportContext`.
        specs: sequence of `SignatureSpec`, in export order; the first is also `serving_default`.
        vocab_file: str. The vocabulary file to store as the `vocab_file` asset.
        config_file: str. The model config JSON to store as the `config_file` asset.

    Returns:
        (root, signatures): an `AutoTrackable` and a dict of signature key -> concrete function.
    """
    signatures = {}
    for spec in specs:
        signatures[spec.name] = _text_signature(context, spec).get_concrete_function()
        if spec.ids_signature_name not in signatures:
            signatures[spec.ids_signature_name] = _ids_signature(context, spec).get_concrete_function()
    signatures[names.SERVING_DEFAULT] = signatures[specs[0].name]

    root = tf.__internal__.tracking.AutoTrackable()
    model = context.model
    id_specs = context.id_input_specs()

    @tf.function(autograph=False)
    def call(inputs, training=False):
        return encoder_outputs(model, inputs, training=training)

    @tf.function(input_signature=[id_specs], autograph=False)
    def serve(inputs):
        return encoder_outputs(model, inputs, training=False)

    call_traces = [call.get_concrete_function(id_specs, training=mode) for mode in (False, True)]
    root.__call__ = call
    root.serve = serve
    encoder_variables = _variables_of(call_traces)
    root.variables = encoder_variables
    root.trainable_variables = [variable for variable in encoder_variables if variable.trainable]
    root.regularization_losses = []
    # Everything else the signatures read (heads, the generator), so that it is saved too.
    root.signature_variables = _variables_of(signatures.values())
    root.tokenizer = context.tokenizer
    root.vocab_file = tf.saved_model.Asset(vocab_file)
    root.config_file = tf.saved_model.Asset(config_file)
    root.do_lower_case = tf.Variable(context.tokenizer.lowercase, trainable=False, name="do_lower_case")
    return root, signatures


def _text_signature(context, spec) -> tf.types.experimental.GenericFunction:
    """`spec.compute` behind in-graph tokenization: string `[batch]` input(s) named `spec.text_inputs`."""
    if spec.text_signature is not None:
        return spec.text_signature(context)
    input_signature = [tf.TensorSpec([None], tf.string, name=name) for name in spec.text_inputs]

    @tf.function(input_signature=input_signature, autograph=False)
    def text_signature(*texts):
        return spec.compute(context, context.pack_texts(list(texts), keep_mask_token=spec.keep_mask_token))

    return text_signature


def _ids_signature(context, spec) -> tf.types.experimental.GenericFunction:
    """`spec.compute` on the three int32 `[batch, seq]` TF Hub BERT inputs."""
    id_specs = context.id_input_specs()
    input_signature = [id_specs[name] for name in names.ID_INPUTS]

    @tf.function(input_signature=input_signature, autograph=False)
    def ids_signature(*ids):
        return spec.compute(context, dict(zip(names.ID_INPUTS, ids)))

    return ids_signature


def _variables_of(concrete_functions) -> list[tf.Variable]:
    """The variables read by some concrete functions, each once, in first-use order."""
    seen, variables = set(), []
    for function in concrete_functions:
        for variable in function.variables:
            if id(variable) not in seen:
                seen.add(id(variable))
                variables.append(variable)
    return variables
