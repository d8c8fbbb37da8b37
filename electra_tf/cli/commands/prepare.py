"""`electra-tf prepare`: corpus files to sharded TFRecord examples, the vocabulary and a manifest.

Example:
    $ electra-tf prepare books/ --vocab vocab.txt --out data/ --seq-len 128 --seed 1 --strip-gutenberg
"""

from __future__ import annotations

import sys
import time

from electra_tf.data.corpus import CORPUS_FORMATS


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "prepare",
        help="build pretraining examples (TFRecord shards + manifest) from text files",
        description="Reads text files, folders or globs (.txt, .gz), tokenizes them with a WordPiece vocabulary "
        "and builds pretraining examples with the official ELECTRA algorithm ([CLS] A [SEP] B [SEP]; 10%% single "
        "segment, 5%% shorter). Writes TFRecord shards, a copy of the vocabulary and manifest.json into --out.",
    )
    parser.add_argument("corpus", nargs="+", metavar="CORPUS", help="text files, folders or globs (.txt, .gz)")
    parser.add_argument("--vocab", required=True, help="WordPiece vocabulary (vocab.txt) with [PAD] [UNK] [CLS] [SEP] [MASK]")
    parser.add_argument("--out", required=True, help="output folder (new, empty, or written by an earlier prepare)")
    parser.add_argument("--seq-len", type=int, default=128, help="tokens per example, [CLS]/[SEP] included (default 128)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the example builder (default 0)")
    parser.add_argument("--shards", type=int, default=16, help="TFRecord files to write (default 16)")
    parser.add_argument("--workers", type=int, default=None, help="tokenization threads (default: all cores)")
    parser.add_argument("--cased", action="store_true", help="keep case and accents (for cased vocabularies)")
    parser.add_argument("--strip-gutenberg", action="store_true", help="drop Project Gutenberg headers and footers")
    parser.add_argument(
        "--format",
        default="auto",
        choices=CORPUS_FORMATS,
        help="layout of the text: one sentence a line, one paragraph a line, or hard-wrapped prose "
        "(default: detected per file)",
    )
    parser.add_argument("--max-line-chars", type=int, default=10_000, help="cut longer sentences (default 10000)")
    parser.add_argument(
        "--validation-fraction", type=float, default=0.01, metavar="F",
        help="share of the corpus held out for evaluation, by whole documents (at least 3 when the corpus has "
        "30 or more; a corpus of a few long documents gives one contiguous span of each); written to "
        "--out/validation/; 0 holds nothing out (default 0.01)",
    )
    parser.set_defaults(handler=run)


def run(args) -> int:
    from electra_tf.data.corpus import CorpusOptions
    from electra_tf.data.preparation import PrepareOptions, prepare_pretraining_data

    options = PrepareOptions(
        seq_length=args.seq_len,
        seed=args.seed,
        num_shards=args.shards,
        workers=args.workers,
        lowercase=not args.cased,
        corpus=CorpusOptions(
            corpus_format=args.format, strip_gutenberg=args.strip_gutenberg, max_line_chars=args.max_line_chars
        ),
        validation_fraction=args.validation_fraction,
    )
    display = _ProgressLine()
    manifest = prepare_pretraining_data(args.corpus, args.vocab, args.out, options, progress=display)
    display.close()
    print(format_summary(manifest))
    return 0


class _ProgressLine:
    """One progress line on stderr: rewritten in place on a terminal, else printed every 10 seconds."""

    def __init__(self):
        self._interactive = sys.stderr.isatty()
        self._last = 0.0
        self._shown = False

    def __call__(self, progress) -> None:
        now = time.monotonic()
        if now - self._last < (0.5 if self._interactive else 10.0):
            return
        self._last = now
        percent = 100.0 * progress.bytes_done / max(1, progress.bytes_total)
        rate = progress.examples / max(progress.elapsed_s, 1e-9)
        line = (
            f"prepare: {percent:5.1f}% of {progress.bytes_total / 1e6:,.1f} MB read, "
            f"{progress.examples:,} examples, {rate:,.0f} examples/s"
        )
        if self._interactive:
            sys.stderr.write("\r" + line)
        else:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self._shown = True

    def close(self) -> None:
        if self._interactive and self._shown:
            sys.stderr.write("\n")


def format_summary(manifest) -> str:
    """A few lines saying what `prepare` read, built, repaired, skipped and wrote."""
    counts = manifest.counts
    examples = counts["examples"]
    seconds = manifest.corpus["seconds"]
    layouts = ", ".join(f"{name} {count}" for name, count in counts["formats"].items())
    repairs = ", ".join(f"{name} {count:,}" for name, count in counts["repaired"].items()) or "none"
    skipped = ", ".join(f"{name} {count:,}" for name, count in counts["skipped"].items()) or "none"
    lines = [
        f"Wrote {examples:,} examples of {manifest.seq_length} tokens in {len(manifest.shards)} shards to "
        f"{manifest.data_dir} in {seconds:.1f} s ({examples / max(seconds, 1e-9):,.0f} examples/s).",
        f"  corpus: {counts['files']} files ({counts['bytes'] / 1e6:,.1f} MB; layouts: {layouts}), "
        f"{counts['documents']:,} documents, {counts['sentences']:,} sentences, {counts['tokens']:,} tokens",
        f"  examples: {100 * counts['single_segment_examples'] / examples:.1f}% single segment, "
        f"{100 * counts['short_target_examples'] / examples:.1f}% short target; "
        f"{counts['tokens_in_examples']:,} tokens in examples, {counts['tokens_truncated']:,} cut off by the "
        f"official algorithm ({100 * counts['tokens_truncated'] / max(1, counts['tokens']):.1f}%)",
        f"  repaired: {repairs}; skipped lines: {skipped}",
    ]
    if counts["gutenberg_files"] and not manifest.corpus["options"]["strip_gutenberg"]:
        lines.append(
            f"  note: {counts['gutenberg_files']} file(s) have Project Gutenberg markers; "
            "--strip-gutenberg removes their licence text"
        )
    lines.append(format_validation(manifest))
    lines.append(
        f"  vocabulary: {manifest.vocab_path} ({manifest.vocab_size:,} tokens, sha256 {manifest.vocab_hash[:12]}, "
        f"{'lower-cased' if manifest.lowercase else 'cased'}); manifest: {manifest.data_dir}/manifest.json"
    )
    return "\n".join(lines)


def format_validation(manifest) -> str:
    """The summary line of the held-out split."""
    split = manifest.validation
    if not split or split.get("mode", "none") == "none":
        fraction = split.get("fraction", 0) if split else 0
        reason = "--validation-fraction 0" if not fraction else "the corpus is too small for the fraction"
        return f"  held out: nothing ({reason}); pretrain cannot evaluate on held-out text"
    unit = "whole document(s) of"
    if split["mode"] == "spans":
        unit = "contiguous span(s), at most one per document, from"
    return (
        f"  held out: {split['documents']:,} {unit} {split['corpus_documents']:,} documents, {split['sentences']:,} of "
        f"{split['corpus_sentences']:,} sentences -> {manifest.num_validation_examples:,} examples in "
        f"{manifest.data_dir}/validation/ (fraction {split['fraction']}, seed {split['seed']})"
    )
