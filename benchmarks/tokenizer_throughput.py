"""Tokenizer throughput and parity against Hugging Face's BertTokenizerFast, same lines, same run.

For each language: every non-blank line of the shared corpora, tokenized in batches by
`electra_tf.Tokenizer` (inside a `tf.function`, as tf.data and exported signatures run it), by the same
tokenizer with every line forced through its full normalisation path (`tokenize_general`: what the plain-line
fast path gains), by `transformers.BertTokenizerFast` (Rust, multi-threaded) and by tensorflow-text's stock
`BertTokenizer(lower_case=True)`. Reports lines/s of each, the share of plain lines, and the share of lines
whose ids equal the reference's. Prints one JSON line.

    python benchmarks/tokenizer_throughput.py [--batch-size 1024] [--max-lines 0]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import tensorflow as tf  # noqa: E402
import tensorflow_text as tf_text  # noqa: E402
import transformers  # noqa: E402

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from electra_tf.tokenization import Tokenizer  # noqa: E402

DATA = pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"


def _lines(files, column=None):
    lines = []
    for path in sorted(files):
        for line in path.read_bytes().decode("utf-8").split("\n"):
            if column is not None:
                line = line.split("\t")[column]
            if line.strip():
                lines.append(line)
    return lines


def _corpora():
    english = [p for p in (DATA / "corpus" / "en").rglob("*.txt") if not p.name.startswith("LICENSE")]
    chinese = _lines((DATA / "corpus" / "zh" / "classical_novels").glob("*.txt")) + _lines(
        (DATA / "tasks" / "chnsenticorp").glob("[td]*.tsv"), column=0
    )
    return {
        "en": (_lines(english), DATA / "vocab" / "bert-base-uncased-vocab.txt"),
        "zh": (chinese, DATA / "vocab" / "bert-base-chinese-vocab.txt"),
    }


def _timed(function, batches):
    function(batches[0])  # trace / warm up
    start = time.perf_counter()
    outputs = [function(batch) for batch in batches]
    return time.perf_counter() - start, outputs


def _same_share(ours, reference):
    return sum(a == b for a, b in zip(ours, reference)) / len(reference)


def measure(lines, vocab_file, batch_size):
    batches = [lines[i : i + batch_size] for i in range(0, len(lines), batch_size)]
    reference = transformers.BertTokenizerFast(vocab=str(vocab_file), do_lower_case=True)
    tokenizer = Tokenizer(vocab_file)
    stock = tf_text.BertTokenizer(str(vocab_file), lower_case=True, token_out_type=tf.int32)

    ours_fn = tf.function(lambda texts: tokenizer(texts), input_signature=[tf.TensorSpec([None], tf.string)])
    general_fn = tf.function(
        lambda texts: tokenizer.tokenize_general(texts), input_signature=[tf.TensorSpec([None], tf.string)]
    )
    stock_fn = tf.function(
        lambda texts: stock.tokenize(texts).merge_dims(1, 2), input_signature=[tf.TensorSpec([None], tf.string)]
    )
    hf_seconds, hf_out = _timed(lambda b: reference(b, add_special_tokens=False)["input_ids"], batches)
    ours_seconds, ours_out = _timed(lambda b: ours_fn(tf.constant(b)), batches)
    general_seconds, general_out = _timed(lambda b: general_fn(tf.constant(b)), batches)
    stock_seconds, stock_out = _timed(lambda b: stock_fn(tf.constant(b)), batches)

    hf_ids = [ids for batch in hf_out for ids in batch]
    ours_ids = [ids for batch in ours_out for ids in batch.to_list()]
    general_ids = [ids for batch in general_out for ids in batch.to_list()]
    stock_ids = [ids for batch in stock_out for ids in batch.to_list()]
    return {
        "lines": len(lines),
        "plain_line_share": round(float(tokenizer.is_plain(lines).numpy().mean()), 4),
        "electra_tf_lines_per_s": round(len(lines) / ours_seconds),
        "electra_tf_full_path_only_lines_per_s": round(len(lines) / general_seconds),
        "hf_fast_lines_per_s": round(len(lines) / hf_seconds),
        "tf_text_stock_lines_per_s": round(len(lines) / stock_seconds),
        "speedup_vs_hf": round(hf_seconds / ours_seconds, 2),
        "parity_electra_tf": round(_same_share(ours_ids, hf_ids), 6),
        "parity_electra_tf_full_path_only": round(_same_share(general_ids, hf_ids), 6),
        "parity_tf_text_stock": round(_same_share(stock_ids, hf_ids), 6),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--max-lines", type=int, default=0, help="0 = all lines")
    args = parser.parse_args()
    result = {"benchmark": "tokenizer_throughput", "batch_size": args.batch_size, "cpu_count": os.cpu_count()}
    for language, (lines, vocab_file) in _corpora().items():
        if args.max_lines:
            lines = lines[: args.max_lines]
        result[language] = measure(lines, vocab_file, args.batch_size)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
