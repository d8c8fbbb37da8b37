"""`electra-tf predict`: query a served model (ours or TF Serving) and print JSON, one object per text.

Texts come from the command line or, with none given, from stdin (one per line). `--signature` picks
`serving_default` (replaced-token detection), `fill_mask` or `encode` of a pretrained export, `classify`,
`answer` or `tag` of a fine-tuned one; any other signature name runs a raw predict on `{"text": [...]}` and
prints every output. `classify` pairs the texts with `--text-b` (pair tasks); `answer` reads the texts as
questions about `--context` (or `--context-file`). `--human` prints one readable line per text instead of JSON.

Example:
    $ electra-tf predict --target localhost:8500 --model electra --signature fill_mask "the [MASK] barked"
    $ electra-tf predict --model squad --signature answer --context "The cat sat on the mat." "Where did it sit?"
    {"question": "Where did it sit?", "answer": "on the mat", "start": 12, "end": 22, "score": 7.1, ...}
    $ electra-tf predict --model sst2 --signature classify --human "a fine film"
    pos 0.93	a fine film
"""

from __future__ import annotations

import argparse
import sys

from electra_tf.errors import InputError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "predict",
        help="query a served model and print JSON",
        description="Send texts to a TF Serving-compatible server and print one JSON object per text.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("texts", nargs="*", metavar="TEXT", help="texts to send; read from stdin when absent")
    parser.add_argument("--target", default="localhost:8500", help="host:port of the server")
    parser.add_argument("--model", required=True, help="served model name")
    parser.add_argument("--signature", default="serving_default",
                        help="serving_default | replaced_token_detection | fill_mask | encode | classify | answer | "
                        "tag | any other")
    parser.add_argument("--text-b", action="append", default=None, metavar="TEXT",
                        help="classify, pair tasks: the second text (once for every text, or once per text)")
    parser.add_argument("--context", default=None, help="answer: the context the questions (TEXTs) are about")
    parser.add_argument("--context-file", default=None, metavar="FILE", help="answer: read the context from FILE")
    parser.add_argument("--human", action="store_true", help="print one readable line per text instead of JSON")
    parser.add_argument("--version", type=int, default=None, help="model version (default: latest)")
    parser.add_argument("--label", default=None, help="model version label, instead of --version")
    parser.add_argument("--transport", choices=("grpc", "rest"), default="grpc", help="API to use")
    parser.add_argument("--top_k", type=int, default=5, help="candidates per [MASK] for fill_mask")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds per call")
    parser.add_argument("--tls_ca", default=None, help="PEM CA file: use TLS (gRPC) and trust this CA")
    parser.add_argument("--batch_size", type=int, default=32, help="texts per call")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from electra_serving import ServingError
    from electra_serving.predict_output import predict_lines

    texts = args.texts or [line.rstrip("\n") for line in sys.stdin if line.strip()]
    if not texts:
        raise InputError("No texts: give TEXT arguments or pipe lines on stdin.")
    texts_b, context = _task_inputs(args, texts)
    try:
        for line in predict_lines(
            texts, target=args.target, model=args.model, signature=args.signature, version=args.version,
            label=args.label, transport=args.transport, top_k=args.top_k, timeout=args.timeout,
            tls=args.tls_ca, batch_size=args.batch_size, texts_b=texts_b, context=context,
        ):
            print(human_line(line) if args.human else line, flush=True)
    except ServingError as error:
        raise InputError(f"{args.target} answered {error.code}: {error.message}") from None
    except ValueError as error:  # the client's checks of what was asked (top_k, --text-b, --context)
        raise InputError(str(error)) from None
    return 0


def _task_inputs(args: argparse.Namespace, texts: list[str]):
    """`--text-b` (one per text) and `--context` for `classify` / `answer`, checked."""
    texts_b = args.text_b
    if texts_b is not None:
        if args.signature not in ("classify", "serving_default"):
            raise InputError(f"--text-b is for --signature classify; received --signature {args.signature}.")
        if len(texts_b) == 1:
            texts_b = texts_b * len(texts)
        elif len(texts_b) != len(texts):
            raise InputError(f"Expected one --text-b, or one per text ({len(texts)}); received {len(texts_b)}.")
    context = args.context
    if args.context_file is not None:
        if context is not None:
            raise InputError("Give --context or --context-file, not both.")
        try:
            with open(args.context_file, encoding="utf-8") as f:
                context = f.read()
        except (OSError, UnicodeDecodeError) as error:
            raise InputError(f"Cannot read --context-file {args.context_file!r}: {error}") from None
    if args.signature == "answer" and context is None:  # (serving_default of a QA model: predict_lines says so)
        raise InputError("--signature answer needs --context TEXT or --context-file FILE (the TEXTs are questions).")
    if context is not None and args.signature not in ("answer", "serving_default"):
        raise InputError(f"--context is for --signature answer; received --signature {args.signature}.")
    return texts_b, context


def human_line(line: str) -> str:
    """One readable line for a JSON result of `predict_lines` (classify, answer, tag; others unchanged).

    Example:
    >>> human_line('{"text": "a fine film", "label": "pos", "probabilities": {"neg": 0.1, "pos": 0.9}}')
    'pos 0.900\\ta fine film'
    >>> human_line('{"text": "Ann ran", "words": [{"word": "Ann", "tag": "B-PER"}, {"word": "ran", "tag": "O"}]}')
    'Ann/B-PER ran/O'
    """
    import json

    record = json.loads(line)
    if "label" in record:  # classify
        return f"{record['label']} {record['probabilities'][record['label']]:.3f}\t{record['text']}"
    if "question" in record:  # answer
        if record["start"] < 0:
            return f"(no answer)\t{record['question']}"
        return f"{record['answer']} [{record['start']}:{record['end']}] {record['score']:.3f}\t{record['question']}"
    if "words" in record and "text" in record:  # tag
        return " ".join(f"{word['word']}/{word['tag']}" for word in record["words"])
    if set(record) <= {"text", "text_b", "score"} and "score" in record:  # classify, regression
        return f"{record['score']:.4f}\t{record['text']}"
    return line

