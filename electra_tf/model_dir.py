"""The model directory: how a trained ELECTRA pair is stored between pretraining, fine-tuning and export.

    MODEL_DIR/
        config.json               ElectraConfig
        pretrainer.weights.h5     Keras weights of the whole ElectraPretrainer (both networks)
        vocab.txt                 the WordPiece vocabulary the model was trained with
        tokenizer.json            {"lowercase": true}

`electra-tf pretrain` writes one at the end of a run, `electra-tf convert` writes one from a Hugging Face
checkpoint, and `electra-tf export` / fine-tuning read one.

Example:
>>> from electra_tf import ElectraConfig, ElectraPretrainer
>>> save_model_dir(ElectraPretrainer(ElectraConfig.preset("tiny")), "/tmp/m", vocab_file="vocab.txt")  # doctest: +SKIP
>>> pretrainer, tokenizer = load_model_dir("/tmp/m")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator

from electra_tf.config import ElectraConfig
from electra_tf.errors import InputError

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "pretrainer.weights.h5"
VOCAB_FILE = "vocab.txt"
TOKENIZER_FILE = "tokenizer.json"


def save_model_dir(pretrainer, model_dir, vocab_file=None, lowercase=True) -> str:
    """Writes config, weights and (when given) vocabulary into `model_dir`, atomically.

    The files are written into a temporary sibling folder that is renamed into place, so a reader never
    sees a half-written model directory; an existing `model_dir` is replaced.

    Returns: the model directory path.
    """
    model_dir = os.path.abspath(os.fspath(model_dir))
    with staged_dir(model_dir) as staging:
        pretrainer.config.save(os.path.join(staging, CONFIG_FILE))
        pretrainer.save_weights(os.path.join(staging, WEIGHTS_FILE))
        if vocab_file is not None:
            shutil.copyfile(vocab_file, os.path.join(staging, VOCAB_FILE))
            with open(os.path.join(staging, TOKENIZER_FILE), "w", encoding="utf-8") as f:
                json.dump({"lowercase": bool(lowercase)}, f)
    return model_dir


@contextlib.contextmanager
def staged_dir(target) -> Iterator[str]:
    """A temporary sibling folder of `target` to write into, renamed to `target` when the block succeeds.

    A reader never sees a half-written `target`; an existing one is replaced (`replace_dir`). When the block
    raises, the staging folder is deleted and `target` is left as it was.

    Args:
        target: str or os.PathLike. The folder to write; its parent is created when missing.

    Yields:
        str. The staging folder (`.tmp-NAME-XXXX` beside `target`).

    Example:
    >>> with staged_dir("/tmp/m") as staging:  # doctest: +SKIP
    ...     open(os.path.join(staging, "config.json"), "w").write("{}")
    """
    target = os.path.abspath(os.fspath(target))
    parent = os.path.dirname(target)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".tmp-" + os.path.basename(target) + "-", dir=parent)
    try:
        yield staging
        replace_dir(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def replace_dir(staging: str, target: str) -> None:
    """Renames `staging` to `target`, replacing an existing `target` (moved aside first, then deleted)."""
    if os.path.isdir(target):
        retired = target + ".old"
        shutil.rmtree(retired, ignore_errors=True)
        os.rename(target, retired)
        os.rename(staging, target)
        shutil.rmtree(retired, ignore_errors=True)
    else:
        os.rename(staging, target)


FINAL_DIR = "final"  # a pretraining run directory's model directory


def resolve_model_dir(path, announce=None) -> str:
    """The model directory meant by `path`: `path` itself, or a run directory's `final/`.

    A run directory (`electra-tf pretrain --out RUN_DIR`) holds a `config.json` too, but no weights; its model
    is `RUN_DIR/final`. Every command taking `--model` goes through here.

    Args:
        path: str or os.PathLike. A model directory or a run directory.
        announce: callable or None. Called with one line saying which folder was taken, when it is not `path`.

    Returns:
        str. The folder to load.

    Example:
    >>> resolve_model_dir("runs/small", announce=print)  # doctest: +SKIP
    using the run's final model directory runs/small/final
    'runs/small/final'
    """
    path = os.fspath(path)
    final = os.path.join(path, FINAL_DIR)
    holds_weights = any(name.endswith(".weights.h5") for name in (os.listdir(path) if os.path.isdir(path) else []))
    if not holds_weights and os.path.isfile(os.path.join(final, CONFIG_FILE)):
        if announce is not None:
            announce(f"using the run's final model directory {final}")
        return final
    return path


def load_config(model_dir) -> ElectraConfig:
    """Reads `config.json` of a model directory, with a clear error when it is not one."""
    path = os.path.join(os.fspath(model_dir), CONFIG_FILE)
    if not os.path.isfile(path):
        raise InputError(
            f"{os.fspath(model_dir)!r} is not a model directory: {CONFIG_FILE} is missing. Expected the output "
            "of `electra-tf pretrain` or `electra-tf convert`."
        )
    return ElectraConfig.load(path)


def load_model_dir(model_dir, with_tokenizer=True):
    """Rebuilds the `ElectraPretrainer` of a model directory and, when a vocabulary is there, its `Tokenizer`.

    Returns: `(pretrainer, tokenizer_or_None)`.
    """
    from electra_tf.models.pretrainer import ElectraPretrainer

    config = load_config(model_dir)
    weights = os.path.join(os.fspath(model_dir), WEIGHTS_FILE)
    if not os.path.isfile(weights):
        raise InputError(f"Model directory {os.fspath(model_dir)!r} has no {WEIGHTS_FILE}.")
    pretrainer = ElectraPretrainer(config)
    pretrainer.load_weights(weights)
    tokenizer = load_tokenizer(model_dir) if with_tokenizer else None
    return pretrainer, tokenizer


def load_tokenizer(model_dir):
    """The `Tokenizer` stored in a model directory, or None when it holds no vocabulary."""
    vocab = os.path.join(os.fspath(model_dir), VOCAB_FILE)
    if not os.path.isfile(vocab):
        return None
    from electra_tf.tokenization import Tokenizer

    lowercase = True
    settings = os.path.join(os.fspath(model_dir), TOKENIZER_FILE)
    if os.path.isfile(settings):
        with open(settings, encoding="utf-8") as f:
            lowercase = bool(json.load(f).get("lowercase", True))
    return Tokenizer(vocab, lowercase=lowercase)
