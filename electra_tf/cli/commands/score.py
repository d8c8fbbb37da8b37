"""`electra-tf score --model MODEL_DIR TEXT...`: which words look replaced, and how natural each text is.

Per text: the text with suspect words (P(replaced) >= --threshold) highlighted when printing to a terminal,
the suspects with their probabilities, every word's probability, and the naturalness score (mean log
P(original) over the tokens; 0 = entirely natural).

Example:
    $ electra-tf score --model runs/tiny/final "the cat sat on teh mat."
    $ electra-tf score --model runs/zh/final "今天天气很好，适合户外活动。" --json
"""

from __future__ import annotations

import argparse

from electra_tf.cli.text_io import (
    add_common_arguments, check_texts, highlight, load_model, print_json, read_texts, use_color,
)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "score",
        help="per-word replaced probability, suspects and naturalness (the discriminator)",
        description="Score each text with the discriminator: the probability that each word was replaced, the "
        "suspect words, and a naturalness score.",
    )
    add_common_arguments(parser)
    parser.add_argument("--threshold", type=float, default=0.5,
                        help="words at or above this replaced probability are suspects (default: %(default)s)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    texts = read_texts(args)
    check_texts(texts, what="text")
    model = load_model(args)
    from electra_tf.readable_text import join_words
    from electra_tf.scoring import score

    color = use_color()
    for result in score(model, texts, threshold=args.threshold):
        if args.json:
            print_json({
                "text": result.text,
                "naturalness": result.naturalness,
                "tokens": result.tokens,
                "replaced_probability": result.replaced_probability,
                "words": [{"word": w.word, "replaced_probability": w.replaced_probability, "suspect": w.suspect}
                          for w in result.words],
                "suspects": [w.word for w in result.suspects],
            })
            continue
        # Highlighting is applied after joining, so the layout (spaces, Chinese without them) is the plain one.
        shown = join_words([w.word for w in result.words])
        if color:
            shown = join_words([highlight(w.word, w.suspect) for w in result.words]) if _safe(result.words) else shown
        print(f"{shown}   naturalness {result.naturalness:.4f}")
        suspects = ", ".join(f"{w.word} {w.replaced_probability:.2f}" for w in result.suspects) or "none"
        print(f"  suspects: {suspects}")
        print("  words: " + "  ".join(f"{w.word} {w.replaced_probability:.2f}" for w in result.words))
    return 0


def _safe(words) -> bool:
    """Whether highlighting codes can be put around words without changing where spaces go (never empty)."""
    return all(w.word for w in words)
