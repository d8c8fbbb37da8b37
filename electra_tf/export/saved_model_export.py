"""`export_saved_model`: write a model as a TF Serving version folder with raw-text signatures.

    saved_models/NAME/<version>/
        saved_model.pb            signatures (see `pretrained_signatures.py`), the reuse interface
        variables/                the weights the signatures read
        assets/vocab.txt          the in-graph tokenizer's vocabulary (the graph embeds it too: no outside path)
        assets/config.json        the model's ElectraConfig
        assets.extra/export.json  seq_length, bucket_size, top_k, lower-casing, signature keys, library versions

Raw-text signatures pad each batch to its longest packed text rounded up to a multiple of `bucket_size` (16 by
default; at most `seq_length`), so their per-token outputs are `[batch, bucketed length]`: a one-sentence
request runs a 16-token sequence, not a `seq_length` one. `bucket_size=0` writes the fixed-length export
(every batch padded to `seq_length`). Token-id twins run on whatever length the caller sends.

Example:
>>> from electra_tf.model_dir import load_model_dir
>>> pretrainer, tokenizer = load_model_dir("runs/small/model")  # doctest: +SKIP
>>> export_saved_model(pretrainer, tokenizer, "saved_models/electra").version  # doctest: +SKIP
1
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile

from electra_tf.errors import InputError
from electra_tf.export import names
from electra_tf.export.registry import select_signatures
from electra_tf.export.versions import check_base_dir, write_version

DEFAULT_TOP_K = 10
DEFAULT_BUCKET_SIZE = 16  # = context.DEFAULT_BUCKET_SIZE (not imported: that module imports TensorFlow)


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """Where an export went and what it holds.

    Attributes:
        path: str. The new version folder.
        version: int. Its version number.
        signatures: tuple[str, ...]. Every signature key in the SavedModel (text, token-id twins and
            `serving_default`).
        seq_length: int. Length texts are truncated to (and the longest packed batch).
        bucket_size: int. Batches are padded to a multiple of it (at most `seq_length`); 0: to `seq_length`.
    """

    path: str
    version: int
    signatures: tuple[str, ...]
    seq_length: int
    bucket_size: int = 0


def export_saved_model(
    model,
    tokenizer,
    base_dir: str | os.PathLike,
    *,
    version: int | None = None,
    seq_length: int | None = None,
    signatures: list[str] | None = None,
    top_k: int = DEFAULT_TOP_K,
    bucket_size: int = DEFAULT_BUCKET_SIZE,
    task: dict | None = None,
    log=None,
) -> ExportResult:
    """Exports `model` as `base_dir/<version>/`, atomically, refusing to overwrite a version.

    Args:
        model: `ElectraPretrainer` (its `config` gives sizes and special ids).
        tokenizer: `electra_tf.Tokenizer` the model was trained with; its vocabulary goes into the export.
        base_dir: str. The model's base folder, e.g. `saved_models/electra`.
        version: int | None. Version to write; None takes the next free integer (1 for a new model).
        seq_length: int | None. Length texts are packed and truncated to; defaults to `config.seq_length`.
        signatures: list of signature names (`registry.registered_signatures()`); None exports every one the
            model provides. The first is also `serving_default`.
        top_k: int. Candidates per `[MASK]` in `fill_mask`.
        bucket_size: int. Raw-text signatures pad a batch to its longest packed text rounded up to a multiple
            of this, at most `seq_length`; 0 pads every batch to `seq_length` (the fixed-length export).
        task: dict | None. A fine-tuned model's task settings (`task.json`: labels, answer length, ...) for
            the task signatures (`task_signatures.py`). With `signatures=None` the task's signature
            (`classify`, `answer`, `tag`) comes first and so is `serving_default`.
        log: optional callable taking one progress line.

    Returns:
        ExportResult.

    Raises:
        InputError: no tokenizer, a tokenizer that does not match the config, bad sizes, an unknown or
            unavailable signature, or an existing version.
        ValueError: a signature uses an op TF Serving could not run (nothing is written then).
    """
    import tensorflow as tf

    from electra_tf.export.context import ExportContext
    from electra_tf.export.export_root import build_export_root
    from electra_tf.export.op_allowlist import check_serving_ops
    from electra_tf.export.serving_compat import strip_newer_attributes
    from electra_tf.export.task_signatures import serving_default_first
    from electra_tf.tokenization import Tokenizer

    log = log or (lambda line: None)
    config = model.config
    _check_tokenizer(tokenizer, config)
    specs = select_signatures(model, signatures)
    if signatures is None:
        specs = serving_default_first(model, specs)
    pair = any(len(spec.text_inputs) > 1 for spec in specs)
    seq_length = config.seq_length if seq_length is None else seq_length
    _check_positive_int("seq_length", seq_length, low=3 if pair else 2, high=config.max_position_embeddings)
    _check_positive_int("top_k", top_k, low=1, high=config.vocab_size)
    _check_positive_int("bucket_size", bucket_size, low=0, high=config.max_position_embeddings)
    check_base_dir(base_dir, version)

    with tempfile.TemporaryDirectory(prefix="electra-export-") as scratch:
        vocab_file = os.path.join(scratch, names.VOCAB_ASSET)
        config_file = os.path.join(scratch, names.CONFIG_ASSET)
        shutil.copyfile(tokenizer.vocab_file, vocab_file)
        config.save(config_file)
        # The export's tokenizer is built from the copy that becomes the asset, not the caller's path.
        export_tokenizer = Tokenizer(vocab_file, lowercase=tokenizer.lowercase, name="tokenizer")
        context = ExportContext(model, export_tokenizer, seq_length=seq_length, top_k=top_k,
                                vocab_size=config.vocab_size, bucket_size=bucket_size, task=task)
        log(f"tracing {len(specs)} signature(s) and their token-id twins: {', '.join(s.name for s in specs)}")
        root, functions = build_export_root(context, specs, vocab_file, config_file)
        info = {
            "seq_length": seq_length,
            "bucket_size": bucket_size,
            "top_k": top_k,
            "lowercase": export_tokenizer.lowercase,
            "vocab_sha256": export_tokenizer.vocab_hash,
            "serving_default": specs[0].name,
            "signatures": sorted(functions),
            "tensorflow": tf.__version__,
            "electra_tf": _library_version(),
        }
        if task:
            info["task"] = dict(task)

        def write(staging: str) -> None:
            log(f"writing the SavedModel to {staging}")
            tf.saved_model.save(root, staging, signatures=functions)
            strip_newer_attributes(staging)
            check_serving_ops(staging)
            os.makedirs(os.path.join(staging, "assets.extra"), exist_ok=True)
            with open(os.path.join(staging, "assets.extra", names.EXPORT_INFO_FILE), "w", encoding="utf-8") as f:
                json.dump(info, f, indent=2, sort_keys=True)
                f.write("\n")

        path, version = write_version(base_dir, write, version)
    log(f"exported version {version} to {path}")
    return ExportResult(path=path, version=version, signatures=tuple(sorted(functions)), seq_length=seq_length,
                        bucket_size=bucket_size)


def export_model_dir(model_dir: str | os.PathLike, base_dir: str | os.PathLike, **kwargs) -> ExportResult:
    """Loads a model directory and exports it; keyword arguments as `export_saved_model`.

    A pretrained model directory (`electra_tf.model_dir`) exports the pretrained signatures; a fine-tuned one
    (`electra_tf.finetuning.task_model_dir`, with `task.json`) exports its task's signature (`classify`,
    `answer` or `tag`) as `serving_default`, with the settings of its `task.json`, and `encode`.

    Raises:
        InputError: `model_dir` is not a model directory or has no vocabulary.
    """
    from electra_tf.finetuning.task_model_dir import is_task_model_dir, load_task_model_dir
    from electra_tf.model_dir import load_model_dir

    check_base_dir(base_dir, kwargs.get("version"))  # fail before the (slow) model load
    if is_task_model_dir(model_dir):
        model, tokenizer, spec = load_task_model_dir(model_dir)
        kwargs.setdefault("task", spec.to_dict())
    else:
        model, tokenizer = load_model_dir(model_dir)
    if tokenizer is None:
        raise InputError(
            f"Model directory {os.fspath(model_dir)!r} has no vocab.txt; the export tokenizes text in the graph "
            "and needs the vocabulary the model was trained with."
        )
    return export_saved_model(model, tokenizer, base_dir, **kwargs)


def _check_tokenizer(tokenizer, config) -> None:
    if tokenizer is None:
        raise InputError("Exporting needs the model's tokenizer (its vocabulary is tokenized in the graph).")
    if tokenizer.vocab_size > config.vocab_size:
        raise InputError(
            f"The vocabulary {tokenizer.vocab_file!r} has {tokenizer.vocab_size} tokens but the model's "
            f"embedding table has {config.vocab_size} rows. Expected the vocabulary the model was trained with."
        )
    for token in ("pad", "unk", "cls", "sep", "mask"):
        expected, received = getattr(config, f"{token}_id"), getattr(tokenizer, f"{token}_id")
        if expected != received:
            raise InputError(
                f"The vocabulary {tokenizer.vocab_file!r} has [{token.upper()}] at id {received} but the model's "
                f"config says {token}_id={expected}. Expected the vocabulary the model was trained with."
            )


def _check_positive_int(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InputError(f"Expected {name} to be an integer in [{low}, {high}]. Received: {name}={value!r}")


def _library_version() -> str:
    import electra_tf

    return electra_tf.__version__
