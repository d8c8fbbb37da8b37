"""`electra-tf rerank --model MODEL_DIR CANDIDATE...`: candidates sorted by the discriminator's naturalness.

For n-best lists (speech recognition, translation, spelling suggestions): each candidate's score is the mean
log P(original) over its tokens; the most natural comes first.

Example:
    $ electra-tf rerank --model runs/tiny/final "the cat sat on the mat." "the cat sat on the mad." "cat the mat sat on."
"""

from __future__ import annotations

import argparse

from electra_tf.cli.text_io import add_common_arguments, check_texts, load_model, print_json, read_texts


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "rerank",
        help="sort candidate sentences by the discriminator's naturalness score",
        description="Rank candidate texts (e.g. an ASR or MT n-best list), most natural first.",
    )
    add_common_arguments(parser, texts_metavar="CANDIDATE", texts_help="candidate texts")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    candidates = read_texts(args, what="candidate")
    check_texts(candidates, what="candidate")
    model = load_model(args)
    from electra_tf.scoring import rerank

    ranked = rerank(model, candidates)
    if args.json:
        print_json({"ranking": [{"text": r.text, "naturalness": r.naturalness, "index": r.index} for r in ranked]})
        return 0
    for rank, candidate in enumerate(ranked, start=1):
        print(f"{rank}. {candidate.naturalness:8.4f}  {candidate.text}")
    return 0
