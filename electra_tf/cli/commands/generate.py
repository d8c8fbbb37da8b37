"""`electra-tf generate --model MODEL_DIR PREFIX --num-tokens N`: continue a text, or fill its `[MASK]` gaps.

ELECTRA's generator is a masked LM, so generation is iterative mask-predict: N slots are appended (and any
`[MASK]` in the text is a slot too), all are predicted, the least confident re-masked and predicted again,
`--iterations` times. `--temperature 0` is greedy; with `--candidates N` (and a temperature) several
completions are drawn and ranked by the discriminator's "all original" score. Deterministic for a `--seed`.

Example:
    $ electra-tf generate --model runs/tiny/final "the old man" --num-tokens 8 --temperature 1 --top-k 20 --candidates 4
    $ electra-tf generate --model runs/tiny/final "the [MASK] sat on the [MASK]."
"""

from __future__ import annotations

import argparse

from electra_tf.cli.text_io import add_common_arguments, check_texts, load_model, print_json, read_texts
from electra_tf.errors import InputError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "generate",
        help="continue texts or fill [MASK] gaps by iterative mask-predict",
        description="Append --num-tokens word pieces to each text (and fill any [MASK] in it) with the generator "
        "by iterative mask-predict; rank several candidates with the discriminator.",
    )
    add_common_arguments(parser, texts_metavar="PREFIX", texts_help="texts to continue (or with [MASK] gaps)")
    parser.add_argument("--num-tokens", type=int, default=0,
                        help="word pieces to append (default: %(default)s: only fill [MASK]s)")
    parser.add_argument("--iterations", type=int, default=4, help="mask-predict passes (default: %(default)s)")
    parser.add_argument("--temperature", type=float, default=0.0,
                        help="sampling temperature; 0 is greedy (default: %(default)s)")
    parser.add_argument("--top-k", type=int, default=0,
                        help="sample among the k most likely tokens; 0 = no limit (default: %(default)s)")
    parser.add_argument("--candidates", type=int, default=1,
                        help="completions per text, ranked by the discriminator (default: %(default)s)")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default: %(default)s)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    texts = read_texts(args, what="prefix")
    check_texts(texts, what="prefix")
    if args.num_tokens == 0:
        for index, text in enumerate(texts, start=1):
            if "[MASK]" not in text:
                raise InputError(f"Nothing to generate for text {index}: give --num-tokens N or mark gaps with [MASK].")
    model = load_model(args)
    from electra_tf.generation import generate

    results = generate(model, texts, args.num_tokens, iterations=args.iterations, temperature=args.temperature,
                       top_k=args.top_k, candidates=args.candidates, seed=args.seed)
    for result in results:
        if args.json:
            print_json({
                "prompt": result.prompt,
                "text": result.text,
                "candidates": [{"text": c.text, "score": c.score, "tokens": c.tokens, "generated": c.generated,
                                "probabilities": c.probabilities} for c in result.candidates],
            })
            continue
        print(result.prompt)
        if len(result.candidates) == 1:
            print(f"  -> {result.text}")
        else:
            for rank, candidate in enumerate(result.candidates, start=1):
                print(f"  {rank}. {candidate.score:8.4f}  {candidate.text}")
    return 0
