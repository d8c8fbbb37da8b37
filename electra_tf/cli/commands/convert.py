"""`electra-tf convert`: Hugging Face ELECTRA checkpoints to a model directory, and back.

Example:
    $ electra-tf convert --from-hf electra-small-discriminator --generator electra-small-generator --out models/small
    $ electra-tf convert --to-hf models/small --out hf/small    # hf/small/{discriminator,generator}/
    $ electra-tf convert --to-hf models/sst2 --out hf/sst2      # a fine-tuned model: one ElectraFor<Task> folder
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import time

from electra_tf.errors import InputError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert Hugging Face ELECTRA checkpoints to a model directory, or a model directory to them",
        description="--from-hf: read an ElectraForPreTraining folder (and the ElectraForMaskedLM generator "
        "of the same run) as config.json + model.safetensors and write a model directory (config.json, "
        "weights, vocab.txt) for finetune/export/pretrain. Without --generator the generator is freshly "
        "initialised. --to-hf: write a model directory as two folders, discriminator/ and generator/, that "
        "transformers' from_pretrained loads; a fine-tuned model directory (finetune's output) becomes one folder "
        "of ElectraForSequenceClassification, ElectraForQuestionAnswering or ElectraForTokenClassification.",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-hf", type=pathlib.Path, metavar="DISC_DIR",
                        help="Hugging Face ElectraForPreTraining folder (config.json + model.safetensors)")
    source.add_argument("--to-hf", type=pathlib.Path, metavar="MODEL_DIR",
                        help="model directory to export (pretraining or fine-tuned)")
    parser.add_argument("--generator", type=pathlib.Path, metavar="GEN_DIR",
                        help="with --from-hf: the ElectraForMaskedLM folder of the same pretraining run")
    parser.add_argument("--vocab", type=pathlib.Path, metavar="VOCAB_TXT",
                        help="with --from-hf: the WordPiece vocabulary (default: vocab.txt in DISC_DIR)")
    parser.add_argument("--cased", action="store_true",
                        help="with --from-hf: the vocabulary is cased (default: do_lower_case of the folder's "
                        "tokenizer_config.json, else uncased)")
    parser.add_argument("--out", required=True, type=pathlib.Path,
                        help="model directory (--from-hf) or Hugging Face output folder (--to-hf)")
    parser.add_argument("--force", action="store_true", help="replace --out if it exists and is not empty")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.out.exists() and not args.out.is_dir():
        raise InputError(f"--out {str(args.out)!r} is a file. Expected a folder path.")
    if args.out.exists() and any(args.out.iterdir()) and not args.force:
        raise InputError(f"{str(args.out)!r} exists and is not empty. Pass --force to replace it.")
    if args.to_hf is not None and (args.generator is not None or args.vocab is not None or args.cased):
        raise InputError("--generator, --vocab and --cased go with --from-hf; --to-hf takes a model directory.")
    folders = (("--from-hf", args.from_hf, "a Hugging Face model folder"),
               ("--generator", args.generator, "a Hugging Face model folder"),
               ("--to-hf", args.to_hf, "a model directory"))
    for flag, folder, expected in folders:
        if folder is not None and not folder.is_dir():
            raise InputError(f"{flag} {str(folder)!r} is not a folder. Expected {expected}.")
    if args.from_hf is not None:
        return _from_hf(args)
    return _to_hf(args)


def _from_hf(args) -> int:
    from electra_tf.convert import from_hf
    from electra_tf.convert.hf import VOCAB_FILE, read_lowercase
    from electra_tf.model_dir import save_model_dir

    start = time.monotonic()
    vocab = args.vocab
    if vocab is None and (args.from_hf / VOCAB_FILE).is_file():
        vocab = args.from_hf / VOCAB_FILE
    if vocab is not None and not vocab.is_file():
        raise InputError(f"No such vocabulary file: {str(vocab)!r}.")
    _log(f"reading {args.from_hf}" + (f" and {args.generator}" if args.generator else ""))
    pretrainer = from_hf(args.from_hf, args.generator, vocab_file=vocab)
    lowercase = False if args.cased else read_lowercase(args.from_hf)
    save_model_dir(pretrainer, args.out, vocab_file=vocab, lowercase=lowercase)
    config = pretrainer.config
    generator = "loaded" if args.generator else "freshly initialised"
    _log(
        f"wrote {args.out}: discriminator {config.num_layers}x{config.hidden_size} "
        f"({pretrainer.discriminator.count_params():,} parameters), generator {config.num_layers}x"
        f"{config.generator_hidden_size} ({generator}), "
        + (f"vocabulary {vocab} ({'uncased' if lowercase else 'cased'})" if vocab else
           "no vocabulary (pass --vocab: export and fine-tuning need one)")
        + f", {time.monotonic() - start:.1f}s"
    )
    return 0


def _to_hf(args) -> int:
    from electra_tf.finetuning.task_model_dir import is_task_model_dir
    from electra_tf.model_dir import VOCAB_FILE, staged_dir

    start = time.monotonic()
    _log(f"reading {args.to_hf}")
    vocab = os.path.join(args.to_hf, VOCAB_FILE)
    if is_task_model_dir(args.to_hf):
        from electra_tf.convert import task_to_hf
        from electra_tf.finetuning.task_model_dir import load_task_model_dir

        model, tokenizer, spec = load_task_model_dir(args.to_hf)
        with staged_dir(args.out) as folder:  # a reader never sees a half-written folder
            written = task_to_hf(model, spec, folder, vocab_file=vocab if tokenizer is not None else None,
                                 lowercase=tokenizer.lowercase if tokenizer is not None else True)
        wrote = f"wrote {args.out} ({written.architecture}, {spec.task}: {written.head})" + (
            f"; transformers ignores {written.not_in_transformers}" if written.not_in_transformers else ""
        )
    else:
        from electra_tf.convert import to_hf
        from electra_tf.model_dir import load_model_dir

        pretrainer, tokenizer = load_model_dir(args.to_hf)
        with staged_dir(args.out) as folder:
            to_hf(pretrainer, folder, vocab_file=vocab if tokenizer is not None else None,
                  lowercase=tokenizer.lowercase if tokenizer is not None else True)
        wrote = (f"wrote {args.out}/discriminator (ElectraForPreTraining) and {args.out}/generator "
                 "(ElectraForMaskedLM)")
    _log(
        wrote
        + ("" if tokenizer is not None else ", without a vocabulary (the model directory has none)")
        + f", {time.monotonic() - start:.1f}s"
    )
    return 0


def _log(message: str) -> None:
    print(f"convert: {message}", file=sys.stderr, flush=True)
