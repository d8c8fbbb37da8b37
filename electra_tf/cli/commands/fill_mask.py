"""`electra-tf fill-mask --model MODEL_DIR TEXT...`: the generator's candidates for every `[MASK]`.

Each `[MASK]` (upper case) is one word piece, or with `--whole-word` a whole word of up to `--max-pieces`
pieces chosen by joint probability. Prints, per text, the candidates of each mask and the text filled with
the first ones (words, not pieces; Chinese without spaces).

Example:
    $ electra-tf fill-mask --model runs/tiny/final "the cat sat on the [MASK]."
    $ electra-tf fill-mask --model runs/zh/final --top-k 3 "今天天气很好，[MASK][MASK]户外活动。"
"""

from __future__ import annotations

import argparse

from electra_tf.cli.text_io import add_common_arguments, check_texts, load_model, print_json, read_texts


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "fill-mask",
        help="candidates for each [MASK] from the generator",
        description="Fill each [MASK] of each text with the generator's most likely tokens (or whole words).",
    )
    add_common_arguments(parser, texts_help="texts with [MASK] where a token (or word) is missing")
    parser.add_argument("--top-k", type=int, default=5, help="candidates per [MASK] (default: %(default)s)")
    parser.add_argument("--whole-word", action="store_true",
                        help="fill each [MASK] with a whole word of one or more pieces, by joint probability")
    parser.add_argument("--max-pieces", type=int, default=3,
                        help="longest word in pieces with --whole-word (default: %(default)s)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    texts = read_texts(args)
    check_texts(texts, what="text", need_mask=True)
    model = load_model(args)
    from electra_tf.generation import fill_mask

    results = fill_mask(model, texts, top_k=args.top_k, whole_word=args.whole_word, max_pieces=args.max_pieces)
    for result in results:
        if args.json:
            print_json({
                "text": result.text,
                "filled_text": result.filled_text,
                "masks": [[{"text": c.text, "probability": c.probability, "pieces": list(c.pieces), "ids": list(c.ids)}
                           for c in candidates] for candidates in result.masks],
            })
            continue
        print(result.text)
        for index, candidates in enumerate(result.masks, start=1):
            listed = "  ".join(f"{c.text} {c.probability:.3f}" for c in candidates)
            print(f"  [MASK] {index}: {listed}")
        print(f"  -> {result.filled_text}")
    return 0
