"""Hugging Face interop: parity with `transformers`' ELECTRA, exact round trips, clear errors, and the CLI.

The reference models are random-weight `ElectraForPreTraining` / `ElectraForMaskedLM` (PyTorch, CPU) with
embedding_size != hidden_size (so the projection is exercised), several layers and heads, and non-trivial
LayerNorm parameters and biases.
"""

import copy
import json
import os
import shutil

import numpy as np
import pytest

import safetensors.numpy as safetensors_numpy  # installed with electra_tf (setup.py install_requires)

from conftest import requires_package
from electra_tf import ElectraConfig, convert
from electra_tf.cli.main import main
from electra_tf.convert.hf_config import electra_config_from_hf, hf_configs
from electra_tf.errors import InputError
from electra_tf.model_dir import load_model_dir

try:  # the reference (test extra); the tests that need it take the `hf_pair` fixture, which requires it
    import torch
    import transformers
except ImportError:
    torch = transformers = None

TOLERANCE = 1e-4  # max abs difference allowed against the reference, float32
VOCAB_SIZE = 300
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
SHARED = dict(
    vocab_size=VOCAB_SIZE, embedding_size=48, num_hidden_layers=3, max_position_embeddings=64, type_vocab_size=2,
    initializer_range=0.1, attn_implementation="eager",
)


def _randomise_norms_and_biases(model, generator):
    """LayerNorm gains/offsets and biases start at 1/0 in PyTorch; perturb them so their mapping is tested."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "LayerNorm" in name or name.endswith("bias"):
                parameter.add_(0.1 * torch.randn(parameter.shape, generator=generator))


@pytest.fixture(scope="session")
def hf_pair(tmp_path_factory):
    """A random-weight HF discriminator + generator saved as safetensors, embeddings shared as ELECTRA trains."""
    requires_package("torch")
    requires_package("transformers")
    generator_rng = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    discriminator = transformers.ElectraForPreTraining(
        transformers.ElectraConfig(hidden_size=256, num_attention_heads=4, intermediate_size=1024, **SHARED)
    ).eval()
    generator = transformers.ElectraForMaskedLM(
        transformers.ElectraConfig(hidden_size=128, num_attention_heads=2, intermediate_size=512, **SHARED)
    ).eval()
    _randomise_norms_and_biases(discriminator, generator_rng)
    _randomise_norms_and_biases(generator, generator_rng)
    generator.electra.embeddings.load_state_dict(discriminator.electra.embeddings.state_dict())
    root = tmp_path_factory.mktemp("hf")
    discriminator.save_pretrained(root / "discriminator")
    generator.save_pretrained(root / "generator")
    tokens = SPECIAL_TOKENS + [f"tok{index}" for index in range(len(SPECIAL_TOKENS), VOCAB_SIZE)]
    (root / "discriminator" / "vocab.txt").write_text("\n".join(tokens) + "\n", encoding="utf-8")
    return {"root": root, "discriminator": discriminator, "generator": generator,
            "discriminator_dir": root / "discriminator", "generator_dir": root / "generator"}


@pytest.fixture(scope="session")
def converted(hf_pair):
    return convert.from_hf(hf_pair["discriminator_dir"], hf_pair["generator_dir"])


@pytest.fixture(scope="session")
def batch():
    """Three sequences of length 24: two segments each, the second and third padded."""
    rng = np.random.default_rng(0)
    ids = rng.integers(len(SPECIAL_TOKENS), VOCAB_SIZE, (3, 24)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[1, 17:] = 0
    mask[2, 9:] = 0
    types = np.zeros_like(ids)
    types[:, 6:] = 1
    types[mask == 0] = 0
    ids[:, 0] = 2  # [CLS]
    ids[mask == 0] = 0  # [PAD]
    return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": types}


def _reference(model, batch):
    with torch.no_grad():
        outputs = model(
            input_ids=torch.tensor(batch["input_word_ids"], dtype=torch.long),
            attention_mask=torch.tensor(batch["input_mask"], dtype=torch.long),
            token_type_ids=torch.tensor(batch["input_type_ids"], dtype=torch.long),
            output_hidden_states=True,
        )
    return outputs.logits.numpy(), outputs.hidden_states[-1].numpy()


def _max_difference(a, b):
    """Largest absolute difference of two arrays of the same shape (no broadcasting hides a missing row)."""
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.size > 0, f"shapes differ: {a.shape} != {b.shape}"
    return float(np.max(np.abs(a - b)))


def _copy_folder(source, destination, edit_tensors=None, edit_config=None):
    shutil.copytree(source, destination)
    if edit_tensors is not None:
        tensors = safetensors_numpy.load_file(str(destination / "model.safetensors"))
        edit_tensors(tensors)
        safetensors_numpy.save_file(tensors, str(destination / "model.safetensors"), metadata={"format": "pt"})
    if edit_config is not None:
        config = json.loads((destination / "config.json").read_text())
        edit_config(config)
        (destination / "config.json").write_text(json.dumps(config))
    return destination


# --- Parity with the reference ---


def test_discriminator_matches_transformers(hf_pair, converted, batch):
    logits, sequence_output = _reference(hf_pair["discriminator"], batch)
    outputs = converted.discriminator(batch)
    assert np.abs(logits).max() > 1.0  # logits of a useful size, not all ~0
    assert _max_difference(outputs["rtd_logits"], logits) <= TOLERANCE
    assert _max_difference(outputs["sequence_output"], sequence_output) <= TOLERANCE


def test_generator_matches_transformers_at_every_position(hf_pair, converted, batch):
    logits, sequence_output = _reference(hf_pair["generator"], batch)
    outputs = converted.generator(batch)  # no mask_positions: [batch, seq, vocab]
    assert outputs["mlm_logits"].shape == (3, 24, VOCAB_SIZE)
    assert np.abs(logits).max() > 1.0
    assert _max_difference(outputs["mlm_logits"], logits) <= TOLERANCE
    assert _max_difference(outputs["sequence_output"], sequence_output) <= TOLERANCE


def test_config_comes_from_the_checkpoints_and_the_vocabulary(converted):
    config = converted.config
    assert (config.num_layers, config.hidden_size, config.num_heads, config.intermediate_size) == (3, 256, 4, 1024)
    assert (config.embedding_size, config.generator_hidden_size, config.generator_num_heads) == (48, 128, 2)
    assert (config.vocab_size, config.max_position_embeddings, config.initializer_range) == (VOCAB_SIZE, 64, 0.1)
    # The folder's vocab.txt puts [PAD] [UNK] [CLS] [SEP] [MASK] at 0-4, not at BERT's 0/100-103.
    assert (config.pad_id, config.unk_id, config.cls_id, config.sep_id, config.mask_id) == (0, 1, 2, 3, 4)
    assert converted.generator.embeddings is converted.discriminator.embeddings


# --- Exact round trips ---


def test_round_trip_to_transformers_is_bitwise(hf_pair, converted, tmp_path):
    convert.to_hf(converted, tmp_path)
    for name, cls in (("discriminator", transformers.ElectraForPreTraining),
                      ("generator", transformers.ElectraForMaskedLM)):
        reloaded = cls.from_pretrained(tmp_path / name).state_dict()
        original = hf_pair[name].state_dict()
        assert sorted(reloaded) == sorted(original)
        different = [key for key in original if not torch.equal(original[key], reloaded[key])]
        assert different == []


def test_round_trip_from_our_model_is_bitwise(converted, tmp_path):
    convert.to_hf(converted, tmp_path)
    again = convert.from_hf(tmp_path / "discriminator", tmp_path / "generator")
    assert again.config == converted.config.replace(unk_id=100, cls_id=101, sep_id=102, mask_id=103)
    weights = [(w.path, w.numpy()) for w in converted.weights]
    assert len(weights) == len(again.weights) > 0
    for (path, value), reloaded in zip(weights, again.weights, strict=True):
        assert reloaded.path == path
        np.testing.assert_array_equal(reloaded.numpy(), value, err_msg=path)


def test_written_vocabulary_loads_in_transformers(converted, tmp_path, hf_pair):
    vocab = hf_pair["discriminator_dir"] / "vocab.txt"
    convert.to_hf(converted, tmp_path, vocab_file=vocab, lowercase=False)
    tokenizer = transformers.AutoTokenizer.from_pretrained(tmp_path / "discriminator")
    assert tokenizer.convert_tokens_to_ids(["[CLS]", "tok7"]) == [2, 7]
    assert not tokenizer.do_lower_case
    assert convert.from_hf(tmp_path / "discriminator").config.cls_id == 2  # read back from its vocab.txt


def test_sharded_bfloat16_checkpoint_loads_as_float32(hf_pair, tmp_path):
    half = copy.deepcopy(hf_pair["discriminator"]).to(torch.bfloat16)
    half.save_pretrained(tmp_path, max_shard_size="1MB")
    assert (tmp_path / "model.safetensors.index.json").is_file()
    pretrainer = convert.from_hf(tmp_path)
    expected = half.electra.encoder.layer[1].attention.self.value.weight.detach().float().numpy()
    kernel = pretrainer.discriminator.encoder.blocks[1].attention.query_key_value.kernel.numpy()
    np.testing.assert_array_equal(kernel[:, 2 * 256:], expected.T)  # V is the last third of the fused kernel


# --- Generator-less conversion ---


def test_without_generator_the_discriminator_is_exact_and_the_generator_fresh(hf_pair, batch):
    pretrainer = convert.from_hf(hf_pair["discriminator_dir"], generator_hidden_fraction=0.5)
    logits, _ = _reference(hf_pair["discriminator"], batch)
    assert _max_difference(pretrainer.discriminator(batch)["rtd_logits"], logits) <= TOLERANCE
    # The generator shares the loaded embeddings and has new (random, not loaded) encoder and head weights.
    hf_generator = hf_pair["generator"]
    np.testing.assert_array_equal(
        pretrainer.generator.embeddings.word_embeddings.numpy(),
        hf_generator.electra.embeddings.word_embeddings.weight.detach().numpy(),
    )
    fresh = pretrainer.generator.encoder.blocks[0].intermediate.kernel.numpy()
    assert fresh.shape == (128, 512)
    assert not np.allclose(fresh, hf_generator.electra.encoder.layer[0].intermediate.dense.weight.detach().numpy().T)
    assert np.all(pretrainer.generator.masked_lm_head.output_bias.numpy() == 0)
    assert pretrainer.generator(batch)["mlm_logits"].shape == (3, 24, VOCAB_SIZE)


def test_configs_translate_both_ways():
    small = ElectraConfig.preset("small")
    discriminator, generator = hf_configs(small)
    assert (generator["hidden_size"], generator["num_attention_heads"], generator["intermediate_size"]) == (64, 1, 256)
    assert electra_config_from_hf(discriminator, generator) == small
    # Without a generator, the paper's width for a preset's size (1/3 for Base), else 1/4; training fields settable.
    base_discriminator, _ = hf_configs(ElectraConfig.preset("base"))
    assert electra_config_from_hf(base_discriminator).generator_hidden_size == 256
    custom = electra_config_from_hf(dict(discriminator, num_hidden_layers=3), seq_length=32)
    assert (custom.generator_hidden_size, custom.seq_length) == (64, 32)


# --- Errors that name what is wrong ---


def test_missing_tensor_is_named(hf_pair, tmp_path):
    name = "electra.encoder.layer.1.attention.self.key.weight"
    folder = _copy_folder(hf_pair["discriminator_dir"], tmp_path / "d", edit_tensors=lambda t: t.pop(name))
    with pytest.raises(InputError, match=f"missing tensor.*'{name}'"):
        convert.from_hf(folder)


def test_shape_mismatch_is_named(hf_pair, tmp_path):
    name = "discriminator_predictions.dense.weight"

    def shrink(tensors):
        tensors[name] = tensors[name][:, :100].copy()

    folder = _copy_folder(hf_pair["discriminator_dir"], tmp_path / "d", edit_tensors=shrink)
    with pytest.raises(InputError, match=rf"'{name}' has shape \(256, 100\); expected \(256, 256\)"):
        convert.from_hf(folder)


def test_unused_tensors_are_reported(hf_pair, tmp_path):
    folder = _copy_folder(hf_pair["discriminator_dir"], tmp_path / "d",
                          edit_tensors=lambda t: t.update({"pooler.dense.weight": np.ones((2, 2), np.float32)}))
    with pytest.warns(UserWarning, match="1 tensor.*not used.*pooler.dense.weight"):
        pretrainer = convert.from_hf(folder)
    assert pretrainer.discriminator is not None  # the unused tensor is reported, the rest still loads


def test_generator_embeddings_that_differ_warn_and_the_discriminators_are_used(hf_pair, converted, tmp_path):
    name = "electra.embeddings.position_embeddings.weight"

    def perturb(tensors):
        tensors[name] = tensors[name] + np.float32(0.5)

    folder = _copy_folder(hf_pair["generator_dir"], tmp_path / "g", edit_tensors=perturb)
    with pytest.warns(UserWarning, match=rf"{name}.*differs from the discriminator's.*0\.5"):
        pretrainer = convert.from_hf(hf_pair["discriminator_dir"], folder)
    np.testing.assert_array_equal(pretrainer.embeddings.position_embeddings.numpy(),
                                  converted.embeddings.position_embeddings.numpy())


def test_swapped_folders_are_refused(hf_pair):
    with pytest.raises(InputError, match="holds ElectraForMaskedLM; expected ElectraForPreTraining.*swapped"):
        convert.from_hf(hf_pair["generator_dir"], hf_pair["discriminator_dir"])


def test_approximate_gelu_is_refused(hf_pair, tmp_path):
    folder = _copy_folder(hf_pair["discriminator_dir"], tmp_path / "d",
                          edit_config=lambda c: c.update(hidden_act="gelu_new"))
    with pytest.raises(InputError, match="hidden_act='gelu_new'.*expects hidden_act='gelu'"):
        convert.from_hf(folder)


def test_generator_of_another_shape_is_refused(hf_pair, tmp_path):
    folder = _copy_folder(hf_pair["generator_dir"], tmp_path / "g",
                          edit_config=lambda c: c.update(num_attention_heads=4))
    with pytest.raises(InputError, match="generator's num_attention_heads=4.*num_attention_heads=2"):
        convert.from_hf(hf_pair["discriminator_dir"], folder)


def test_pickle_checkpoints_are_refused(hf_pair, tmp_path):
    folder = tmp_path / "pickled"
    folder.mkdir()
    shutil.copy(hf_pair["discriminator_dir"] / "config.json", folder)
    (folder / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(InputError, match="no model.safetensors.*pytorch_model.bin.*pickle"):
        convert.from_hf(folder)


def test_architecture_fields_cannot_be_overridden(hf_pair):
    with pytest.raises(InputError, match=r"Cannot override \['hidden_size'\]"):
        convert.from_hf(hf_pair["discriminator_dir"], hidden_size=128)


# --- Command line ---


def test_cli_converts_to_a_model_directory_and_back(hf_pair, converted, batch, tmp_path, capsys):
    model_dir = tmp_path / "model"
    assert main(["convert", "--from-hf", str(hf_pair["discriminator_dir"]), "--generator",
                 str(hf_pair["generator_dir"]), "--out", str(model_dir)]) == 0
    assert "wrote" in capsys.readouterr().err
    pretrainer, tokenizer = load_model_dir(model_dir)
    assert tokenizer is not None and tokenizer.cls_id == 2 and tokenizer.lowercase
    np.testing.assert_array_equal(pretrainer.discriminator(batch)["rtd_logits"],
                                  converted.discriminator(batch)["rtd_logits"])

    hf_dir = tmp_path / "hf"
    assert main(["convert", "--to-hf", str(model_dir), "--out", str(hf_dir)]) == 0
    assert sorted(os.listdir(hf_dir / "discriminator")) == [
        "config.json", "model.safetensors", "tokenizer_config.json", "vocab.txt"]
    reloaded = transformers.ElectraForMaskedLM.from_pretrained(hf_dir / "generator").state_dict()
    original = hf_pair["generator"].state_dict()
    assert all(torch.equal(original[key], reloaded[key]) for key in original)


def test_cli_errors_are_one_line(hf_pair, tmp_path, capsys):
    assert main(["convert", "--from-hf", str(tmp_path / "absent"), "--out", str(tmp_path / "m")]) == 2
    assert capsys.readouterr().err.strip() == (
        f"electra-tf convert: error: --from-hf '{tmp_path / 'absent'}' is not a folder. "
        "Expected a Hugging Face model folder."
    )
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    assert main(["convert", "--from-hf", str(hf_pair["discriminator_dir"]), "--out", str(tmp_path / "busy")]) == 2
    assert "exists and is not empty. Pass --force" in capsys.readouterr().err
