"""ElectraConfig: presets, derived sizes, validation messages and the JSON round trip."""

import pytest

from electra_tf.config import ElectraConfig


@pytest.mark.parametrize(
    "name, layers, hidden, heads, ffn, embedding, generator_hidden, seq, batch, lr, mask_rate",
    [
        ("small", 12, 256, 4, 1024, 128, 64, 128, 128, 5e-4, 0.15),
        ("base", 12, 768, 12, 3072, 768, 256, 512, 256, 2e-4, 0.15),
        ("large", 24, 1024, 16, 4096, 1024, 256, 512, 2048, 2e-4, 0.25),
    ],
)
def test_presets_match_the_paper(name, layers, hidden, heads, ffn, embedding, generator_hidden, seq, batch, lr, mask_rate):
    config = ElectraConfig.preset(name)
    assert (config.num_layers, config.hidden_size, config.num_heads, config.intermediate_size) == (layers, hidden, heads, ffn)
    assert config.embedding_size == embedding
    assert config.generator_hidden_size == generator_hidden
    assert config.generator_num_heads == max(1, generator_hidden // 64)
    assert config.generator_intermediate_size == 4 * generator_hidden
    assert (config.seq_length, config.batch_size, config.learning_rate, config.mask_rate) == (seq, batch, lr, mask_rate)


def test_masking_budget_is_derived_once():
    assert ElectraConfig.preset("small").max_predictions == 19  # int((0.15 + 0.005) * 128)
    assert ElectraConfig.preset("base").max_predictions == 79  # int(0.155 * 512)
    assert ElectraConfig.preset("large").max_predictions == 130  # int(0.255 * 512)


def test_json_round_trip(tmp_path):
    config = ElectraConfig.preset("tiny", vocab_size=5000, seq_length=64)
    assert ElectraConfig.from_json(config.to_json()) == config
    config.save(tmp_path / "config.json")
    assert ElectraConfig.load(tmp_path / "config.json") == config


def test_unknown_key_is_named():
    with pytest.raises(ValueError, match="hiden_size"):
        ElectraConfig.from_dict({"hiden_size": 256})


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"hidden_size": 0}, "hidden_size=0"),
        ({"hidden_size": 250}, "multiple of num_heads"),
        ({"mask_rate": 1.5}, "mask_rate=1.5"),
        ({"objective": "gan"}, "objective='gan'"),
        ({"seq_length": 1024}, "max_position_embeddings"),
        ({"mask_id": 40000}, "mask_id=40000"),
        ({"mask_token_rate": 0.9, "random_token_rate": 0.2}, "random_token_rate=0.2"),
    ],
)
def test_validation_names_field_and_value(overrides, message):
    with pytest.raises(ValueError, match=message):
        ElectraConfig.preset("small", **overrides)


def test_unknown_preset():
    with pytest.raises(ValueError, match="Unknown preset 'huge'"):
        ElectraConfig.preset("huge")
