"""`from_hf` / `to_hf`: Hugging Face ELECTRA checkpoint folders to and from an `ElectraPretrainer`.

Hugging Face stores ELECTRA as two models: the discriminator (`ElectraForPreTraining`) and the generator
(`ElectraForMaskedLM`), each with its own copy of the embeddings. ELECTRA trains one shared set, so the
two copies are equal in checkpoints ELECTRA produced (google/electra-*); `from_hf` loads the
discriminator's and warns, naming the tensor, when the generator's differ. `to_hf` writes the shared set
into both folders.

Example:
>>> pretrainer = from_hf("electra-small-discriminator", "electra-small-generator")  # doctest: +SKIP
>>> to_hf(pretrainer, "exported/")  # doctest: +SKIP
'exported'
>>> # transformers.ElectraForPreTraining.from_pretrained("exported/discriminator") loads it back.
"""

from __future__ import annotations

import json
import os
import shutil
import warnings

from electra_tf.convert import hf_names
from electra_tf.convert.checkpoint_files import read_config, read_tensors, write_checkpoint_folder
from electra_tf.convert.hf_config import electra_config_from_hf, hf_configs, special_ids_from_vocab
from electra_tf.convert.tensor_binding import check_bindings, export_bindings, load_bindings, warn_if_different
from electra_tf.errors import InputError
from electra_tf.models.pretrainer import ElectraPretrainer

VOCAB_FILE = "vocab.txt"
TOKENIZER_CONFIG_FILE = "tokenizer_config.json"
DISCRIMINATOR_FOLDER = "discriminator"
GENERATOR_FOLDER = "generator"


def from_hf(discriminator_dir, generator_dir=None, *, vocab_file=None, **config_overrides):
    """Builds an `ElectraPretrainer` from Hugging Face ELECTRA checkpoint folders.

    Without `generator_dir` the generator is freshly initialised (truncated normal, as `ElectraPretrainer`
    does): the discriminator is ready to fine-tune or export, and pretraining can continue with a new
    generator of the paper's width for that size (or `generator_hidden_fraction=` to choose).

    Args:
        discriminator_dir: path. An `ElectraForPreTraining` folder (config.json + model.safetensors).
        generator_dir: path or None. An `ElectraForMaskedLM` folder of the same pretraining run.
        vocab_file: path or None. The WordPiece vocabulary; defaults to `vocab.txt` in `discriminator_dir`
            when there is one. The special-token ids ([PAD], [UNK], [CLS], [SEP], [MASK]) come from it;
            without a vocabulary they keep BERT's ids.
        **config_overrides: training fields of `ElectraConfig` (`seq_length`, `mask_rate`, `learning_rate`,
            ...); the architecture comes from the checkpoint.

    Returns: `ElectraPretrainer` whose discriminator (and generator) compute what the Hugging Face models do.

    Raises:
        InputError: a folder is missing or not an ELECTRA checkpoint of the expected kind, a tensor is
            missing or has the wrong shape (the message names it), or the config cannot be represented.
    """
    discriminator_dir = os.fspath(discriminator_dir)
    discriminator_config = read_config(discriminator_dir)
    _check_architecture(discriminator_config, "ElectraForPreTraining", discriminator_dir)
    generator_config = None
    if generator_dir is not None:
        generator_dir = os.fspath(generator_dir)
        generator_config = read_config(generator_dir)
        _check_architecture(generator_config, "ElectraForMaskedLM", generator_dir)
    if "objective" in config_overrides:
        raise InputError("from_hf builds an ELECTRA pair; objective cannot be overridden.")
    if vocab_file is None and os.path.isfile(os.path.join(discriminator_dir, VOCAB_FILE)):
        vocab_file = os.path.join(discriminator_dir, VOCAB_FILE)
    special_ids = None
    if vocab_file is not None:
        special_ids = special_ids_from_vocab(vocab_file, discriminator_config["vocab_size"])
    config = electra_config_from_hf(
        discriminator_config, generator_config, special_ids,
        source=os.path.join(discriminator_dir, "config.json"), **config_overrides,
    )
    tensors = read_tensors(discriminator_dir)
    generator_tensors = read_tensors(generator_dir) if generator_dir is not None else None
    pretrainer = ElectraPretrainer(config)

    used = load_bindings(hf_names.discriminator_bindings(pretrainer.discriminator), tensors, discriminator_dir)
    _warn_unused(tensors, used, discriminator_dir)
    if generator_dir is not None:
        tensors = generator_tensors
        used = load_bindings(
            hf_names.generator_bindings(pretrainer.generator, with_embeddings=False), tensors, generator_dir
        )
        embeddings = hf_names.embedding_bindings(pretrainer.embeddings)
        check_bindings(embeddings, tensors, generator_dir)
        warn_if_different(
            embeddings, tensors, generator_dir,
            "the generator's copy differs from the discriminator's; ELECTRA shares the embeddings, so the "
            "discriminator's are used for both",
        )
        used |= {name for binding in embeddings for name in binding.names} | {hf_names.TIED_OUTPUT_WEIGHT}
        _warn_unused(tensors, used, generator_dir)
    return pretrainer


def to_hf(pretrainer, out_dir, vocab_file=None, lowercase=True) -> str:
    """Writes an `ElectraPretrainer` as two Hugging Face folders, `discriminator/` and `generator/`.

    Each holds `config.json` and `model.safetensors` (float32) that `transformers`' `ElectraForPreTraining`
    and `ElectraForMaskedLM` `from_pretrained` load, and, with `vocab_file`, the `vocab.txt` and
    `tokenizer_config.json` its `ElectraTokenizer` reads. Converting back with `from_hf` gives the same
    weights bit for bit.

    Args:
        pretrainer: `ElectraPretrainer` with `objective="electra"`.
        out_dir: path. Created if needed; files of the same names are overwritten.
        vocab_file: path or None. The vocabulary to ship beside the weights.
        lowercase: bool. Whether the tokenizer lower-cases (written as `do_lower_case`).

    Returns: `out_dir`.
    """
    if getattr(pretrainer, "discriminator", None) is None:
        raise InputError(
            "to_hf writes ELECTRA generator-discriminator pairs; this pretrainer has objective="
            f"{pretrainer.config.objective!r} and no discriminator."
        )
    out_dir = os.fspath(out_dir)
    discriminator_config, generator_config = hf_configs(pretrainer.config)
    folders = (
        (DISCRIMINATOR_FOLDER, discriminator_config, hf_names.discriminator_bindings(pretrainer.discriminator)),
        (GENERATOR_FOLDER, generator_config, hf_names.generator_bindings(pretrainer.generator)),
    )
    for folder, config, bindings in folders:
        path = os.path.join(out_dir, folder)
        write_checkpoint_folder(path, config, export_bindings(bindings))
        if vocab_file is not None:
            write_tokenizer_files(path, vocab_file, lowercase, pretrainer.config.max_position_embeddings)
    return out_dir


def write_tokenizer_files(folder, vocab_file, lowercase: bool, max_length: int) -> None:
    """Writes `vocab.txt` and the `tokenizer_config.json` that `transformers`' `ElectraTokenizer` reads."""
    shutil.copyfile(vocab_file, os.path.join(folder, VOCAB_FILE))
    tokenizer_config = {"tokenizer_class": "ElectraTokenizer", "do_lower_case": bool(lowercase),
                        "model_max_length": max_length}
    with open(os.path.join(folder, TOKENIZER_CONFIG_FILE), "w", encoding="utf-8") as f:
        json.dump(tokenizer_config, f, indent=2)
        f.write("\n")


def read_lowercase(folder, default=True) -> bool:
    """`do_lower_case` from a Hugging Face folder's `tokenizer_config.json`, or `default` without one."""
    path = os.path.join(os.fspath(folder), TOKENIZER_CONFIG_FILE)
    if not os.path.isfile(path):
        return default
    with open(path, encoding="utf-8") as f:
        return bool(json.load(f).get("do_lower_case", default))


def _check_architecture(config: dict, expected: str, folder: str) -> None:
    architectures = config.get("architectures") or []
    if architectures and expected not in architectures:
        swap = " (the generator and discriminator folders look swapped)" if (
            {"ElectraForPreTraining", "ElectraForMaskedLM"} - {expected}
        ) & set(architectures) else ""
        raise InputError(f"{folder!r} holds {', '.join(architectures)}; expected {expected}{swap}.")


def _warn_unused(tensors, used, folder: str) -> None:
    unused = sorted(set(tensors) - set(used) - hf_names.IGNORED_TENSORS)
    if unused:
        listed = ", ".join(repr(name) for name in unused[:5]) + (" ..." if len(unused) > 5 else "")
        warnings.warn(f"{folder}: {len(unused)} tensor(s) not used by the conversion: {listed}", stacklevel=3)
