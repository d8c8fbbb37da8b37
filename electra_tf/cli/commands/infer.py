"""`electra-tf infer`: predictions of a fine-tuned model directory in process, for texts or files, no server.

(`electra-tf predict` queries a running server; `infer` loads the model itself.)

Example:
    $ electra-tf infer --model models/sst2 --text "a fine film" --text "a dull film"
    positive    0.9731    a fine film
    negative    0.9524    a dull film
    $ electra-tf infer --model models/squad --question "Who wrote it?" --context "It was written by Ann." --json
    {"id": "0", "question": "Who wrote it?", "answer": "Ann", "char_start": 18, "char_end": 21, "score": 7.1}
    $ electra-tf infer --model models/ner --data test.txt --out predictions.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys

from electra_tf.cli.commands.finetune import add_reader_arguments


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "infer",
        help="run a fine-tuned model directory on texts or a file, in process (no server)",
        description="Load a fine-tuned model directory and predict: labels and probabilities "
        "(classification), a number (regression), answers with character offsets (qa), a tag per word "
        "(tagging). Give texts with --text (and --text-pair), --question/--context, or a file with --data "
        "(read like the training files; unlabelled rows are fine).",
    )
    parser.add_argument("--model", required=True, metavar="MODEL_DIR", help="fine-tuned model directory")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--text", action="append", metavar="TEXT",
                        help="a text to classify or tag (repeatable); tagging splits it on whitespace")
    source.add_argument("--question", action="append", metavar="Q", help="qa: a question (repeatable, one "
                        "--context each, or one --context for all)")
    source.add_argument("--data", metavar="FILE", help="a file in the task's training format")
    parser.add_argument("--text-pair", action="append", metavar="TEXT",
                        help="the second text of each --text (pair tasks)")
    parser.add_argument("--context", action="append", metavar="C", help="qa: the context of each --question")
    parser.add_argument("--labelled", action="store_true",
                        help="with --data: the file has labels (they are checked and shown as gold)")
    add_reader_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print one JSON object per prediction")
    parser.add_argument("--out", metavar="FILE", help="write the predictions to FILE (JSON Lines for .jsonl, "
                        "else a JSON array) instead of stdout")
    parser.add_argument("--batch-size", type=int, default=64, help="inference batch size (default %(default)s)")
    parser.add_argument("--seq-length", type=int, help="packed length (default: the training length)")
    parser.set_defaults(handler=run)


def _examples(args, spec):
    from electra_tf.errors import InputError
    from electra_tf.finetuning.examples import ClassificationExample, QuestionAnsweringExample, TaggingExample

    if spec.task == "qa":
        if args.question is None:
            raise InputError("A qa model takes --question and --context (or --data).")
        contexts = args.context or []
        if len(contexts) == 1:
            contexts = contexts * len(args.question)
        if len(contexts) != len(args.question):
            raise InputError(f"Expected one --context per --question (or one for all). Received: "
                             f"{len(args.question)} question(s), {len(args.context or [])} context(s).")
        from electra_tf.finetuning.readers.squad import AnswerCheck, SquadFile

        examples = [QuestionAnsweringExample(qid=str(index), question=question, context=context,
                                             source=f"--question {index + 1}")
                    for index, (question, context) in enumerate(zip(args.question, contexts))]
        return SquadFile(examples, spec.version_2_with_negative, AnswerCheck())
    if args.text is None:
        raise InputError(f"A {spec.task} model takes --text (or --data), not --question.")
    if args.context:
        raise InputError("--context goes with --question (qa models).")
    if spec.task == "tagging":
        if args.text_pair:
            raise InputError("--text-pair does not apply to tagging.")
        examples = [TaggingExample(words=tuple(text.split()), source=f"--text {index + 1}")
                    for index, text in enumerate(args.text)]
        empty = [example.source for example in examples if not example.words]
        if empty:
            raise InputError(f"{empty[0]} has no words to tag.")
        return examples
    pairs = args.text_pair or []
    if pairs and len(pairs) != len(args.text):
        raise InputError(f"Expected one --text-pair per --text. Received: {len(args.text)} text(s), "
                         f"{len(pairs)} pair(s).")
    return [ClassificationExample(text_a=text, text_b=pairs[index] if pairs else None, source=f"--text {index + 1}")
            for index, text in enumerate(args.text)]


def _line(record: dict, task: str) -> str:
    if task == "classification":
        return f"{record['label']}\t{record['probabilities'][record['label']]:.4f}\t{record.get('text', '')}"
    if task == "regression":
        return f"{record['prediction']:.4f}\t{record.get('text', '')}"
    if task == "qa":
        return f"{record['answer'] or '(no answer)'}\t{record.get('score', float('nan')):.3f}\t{record['question']}"
    return " ".join(f"{word}/{tag}" for word, tag in zip(record["words"], record["tags"]))


def run(args: argparse.Namespace) -> int:
    from electra_tf.cli.commands.evaluate import reader_overrides
    from electra_tf.errors import InputError
    from electra_tf.finetuning.inference import TaskRunner, write_records

    if args.batch_size < 1:
        raise InputError(f"Expected --batch-size to be a positive integer. Received: {args.batch_size}")
    overrides = reader_overrides(args)
    runner = TaskRunner.from_model_dir(args.model, batch_size=args.batch_size, seq_length=args.seq_length)
    if args.data is not None:
        records = runner.predict_file(args.data, overrides, labelled=args.labelled)
    else:
        records = runner.predict_examples(_examples(args, runner.spec))
    if args.out:
        write_records(args.out, records)
        print(f"electra-tf infer: wrote {len(records)} prediction(s) to {args.out}", file=sys.stderr)
        return 0
    for record in records:
        print(json.dumps(record, ensure_ascii=False) if args.json else _line(record, runner.spec.task))
    return 0
