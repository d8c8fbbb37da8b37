"""keras-hub interop: `ElectraBackbone` weights into our encoders and back, with equal outputs.

keras-hub's backbone computes the tanh-approximate GELU where ELECTRA uses the exact one; the tests swap
in the exact GELU to show that the weight mapping itself is exact, and bound the approximation's effect.
"""

import keras
import keras_hub  # installed with electra_tf (setup.py install_requires), so never skipped
import numpy as np
import pytest

from electra_tf import convert
from electra_tf.errors import InputError

SIZES = dict(vocab_size=300, num_layers=2, embedding_dim=48, max_sequence_length=64)


def _backbone(hidden_dim, num_heads, seed, **overrides):
    """A random backbone with non-trivial LayerNorm parameters and biases."""
    keras.utils.set_random_seed(seed)
    backbone = keras_hub.models.ElectraBackbone(
        **{**SIZES, **overrides}, hidden_dim=hidden_dim, num_heads=num_heads, intermediate_dim=4 * hidden_dim
    )
    rng = np.random.default_rng(seed)
    for variable in backbone.weights:
        if variable.path.endswith(("bias", "beta", "gamma")):
            variable.assign(variable.numpy() + rng.normal(0.0, 0.1, variable.shape).astype("float32"))
    return backbone


def _use_exact_gelu(backbone):
    for layer in backbone.transformer_layers:
        layer._feedforward_intermediate_dense.activation = keras.activations.get("gelu")  # erf form


@pytest.fixture(scope="module")
def inputs():
    rng = np.random.default_rng(1)
    ids = rng.integers(5, 300, (3, 20)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[1, 13:] = 0
    mask[2, 6:] = 0
    types = np.zeros_like(ids)
    types[:, 8:] = 1
    ids[mask == 0] = 0
    ours = {"input_word_ids": ids, "input_mask": mask, "input_type_ids": types * mask}
    theirs = {"token_ids": ids, "segment_ids": types * mask, "padding_mask": mask}
    return ours, theirs


def test_backbone_outputs_are_reproduced(inputs):
    ours, theirs = inputs
    backbone = _backbone(hidden_dim=128, num_heads=4, seed=0)
    pretrainer = convert.from_keras_hub(backbone)
    sequence_output = pretrainer.discriminator(ours)["sequence_output"].numpy()
    # keras-hub's tanh-approximate GELU: close, not equal.
    assert backbone(theirs)["sequence_output"].shape == sequence_output.shape == (3, 20, 128)
    approximate = np.abs(sequence_output - backbone(theirs)["sequence_output"].numpy()).max()
    assert approximate <= 1e-3
    # With the exact GELU ELECTRA uses, every position (padding included) agrees.
    _use_exact_gelu(backbone)
    exact = np.abs(sequence_output - backbone(theirs)["sequence_output"].numpy()).max()
    assert exact <= 1e-5
    assert pretrainer.config.hidden_size == 128 and pretrainer.config.embedding_size == 48


def test_round_trip_is_bitwise(inputs):
    ours, _ = inputs
    backbone = _backbone(hidden_dim=128, num_heads=4, seed=2)
    pretrainer = convert.from_keras_hub(backbone)
    exported = convert.to_keras_hub(pretrainer)
    assert len(backbone.weights) == len(exported.weights) > 0
    for original, written in zip(backbone.weights, exported.weights, strict=True):
        assert original.path == written.path
        if not original.path.startswith("pooled_dense/"):  # ELECTRA has no pooler: a new one is made
            np.testing.assert_array_equal(written.numpy(), original.numpy(), err_msg=original.path)
    again = convert.from_keras_hub(exported)
    np.testing.assert_array_equal(again.discriminator.encoder(ours).numpy(),
                                  pretrainer.discriminator.encoder(ours).numpy())


def test_generator_backbone_loads_into_the_generator(inputs):
    ours, theirs = inputs
    discriminator = _backbone(hidden_dim=128, num_heads=2, seed=3)
    generator = _backbone(hidden_dim=64, num_heads=1, seed=4)
    for name in ("token_embedding", "position_embedding", "segment_embedding", "embeddings_layer_norm"):
        shared_weights, copies = discriminator.get_layer(name).weights, generator.get_layer(name).weights
        assert len(shared_weights) == len(copies) > 0
        for shared, copy in zip(shared_weights, copies, strict=True):
            copy.assign(shared.numpy())
    pretrainer = convert.from_keras_hub(discriminator, generator)
    assert pretrainer.config.generator_hidden_size == 64
    _use_exact_gelu(generator)
    ours_output, theirs_output = pretrainer.generator(ours)["sequence_output"], generator(theirs)["sequence_output"]
    assert ours_output.shape == theirs_output.shape == (3, 20, 64)
    difference = np.abs(ours_output.numpy() - theirs_output.numpy()).max()
    assert difference <= 1e-5
    exported = convert.to_keras_hub(pretrainer, network="generator")
    np.testing.assert_array_equal(exported.get_layer("transformer_layer_1").weights[0].numpy(),
                                  generator.get_layer("transformer_layer_1").weights[0].numpy())


def test_generator_backbone_of_another_shape_is_refused():
    discriminator = _backbone(hidden_dim=128, num_heads=2, seed=5)
    generator = _backbone(hidden_dim=64, num_heads=1, seed=5, num_layers=1)
    with pytest.raises(InputError, match="generator's num_hidden_layers=1 differs from the discriminator's"):
        convert.from_keras_hub(discriminator, generator)
