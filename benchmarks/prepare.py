"""Benchmark: `electra-tf prepare` against the official ELECTRA data builder, and the tf.data read path.

Same input, same run: the shared English corpora (the 17 NLTK Gutenberg books, one sentence a line, and the
5 raw Project Gutenberg books). The peer is google-research/electra's `build_pretraining_dataset.py` with its
pure-Python `FullTokenizer` (`benchmarks/reference_builder.py`), on one core as the official script runs a
process per core. Ours reads the same lines with the same meaning (`--format sentences`: a line is a sentence,
a blank line ends a document) and the same seed, so both should build the same examples; the share of
identical examples is reported. Ours is also timed with layout detection (`auto`, the default), and the
whole command line (interpreter start and TensorFlow import included).

The read path is timed on one core (tf.data private thread pool of 1) and with all cores.

Prints one JSON line. Usage:
    python benchmarks/prepare.py [--data ../shared/data] [--repeats 3]
"""

import argparse
import glob
import json
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import tensorflow as tf  # noqa: E402

import reference_builder  # noqa: E402
from electra_tf.data.corpus import CorpusOptions  # noqa: E402
from electra_tf.data.pipeline import pretraining_dataset  # noqa: E402
from electra_tf.data.preparation import PrepareOptions, prepare_pretraining_data  # noqa: E402
from electra_tf.tokenization import Tokenizer  # noqa: E402

SEQ_LENGTH = 128
SHARDS = 16
SEED = 0


def run_reference(files, vocab, out_dir):
    start = time.perf_counter()
    tokenizer = reference_builder.FullTokenizer(vocab, do_lower_case=True)
    builder = reference_builder.ExampleBuilder(tokenizer, SEQ_LENGTH, random.Random(SEED))
    writers = [tf.io.TFRecordWriter(os.path.join(out_dir, f"ref-{i:05d}.tfrecord")) for i in range(SHARDS)]
    examples = reference_builder.write_examples(builder, files, writers)
    for writer in writers:
        writer.close()
    return time.perf_counter() - start, examples


def run_ours(files, vocab, out_dir, corpus_format):
    start = time.perf_counter()
    tokenizer = Tokenizer(vocab)
    options = PrepareOptions(seq_length=SEQ_LENGTH, seed=SEED, num_shards=SHARDS, corpus=CorpusOptions(corpus_format=corpus_format))
    manifest = prepare_pretraining_data(files, vocab, out_dir, options, tokenizer=tokenizer)
    return time.perf_counter() - start, manifest


def input_ids(paths):
    spec = {"input_ids": tf.io.FixedLenFeature([SEQ_LENGTH], tf.int64)}
    rows = [tf.io.parse_example(list(tf.data.TFRecordDataset(p).as_numpy_iterator()), spec)["input_ids"].numpy() for p in paths]
    return rows  # per shard [examples, seq]


def identical_share(reference_paths, our_paths):
    same = total = 0
    for ref, ours in zip(input_ids(reference_paths), input_ids(our_paths)):
        count = min(len(ref), len(ours))
        same += int((ref[:count] == ours[:count]).all(axis=1).sum())
        total += max(len(ref), len(ours))
    return same / max(total, 1)


def read_throughput(data_dir, one_core, batches=300, batch_size=256):
    dataset = pretraining_dataset(data_dir, batch_size=batch_size, seed=1)
    if one_core:
        options = tf.data.Options()
        options.threading.private_threadpool_size = 1
        options.threading.max_intra_op_parallelism = 1
        dataset = dataset.with_options(options)
    iterator = iter(dataset)
    for _ in range(20):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def tokenizer_throughput(files, vocab):
    lines = [line.strip() for f in files for line in open(f, encoding="utf-8", errors="replace") if line.strip()]
    tokenizer = Tokenizer(vocab)
    tokenizer(lines[:100])
    start = time.perf_counter()
    tokens = sum(int(tokenizer(lines[i : i + 4096]).flat_values.shape[0]) for i in range(0, len(lines), 4096))
    return tokens / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = pathlib.Path(args.data)
    vocab = str(data / "vocab/bert-base-uncased-vocab.txt")
    files = sorted(glob.glob(str(data / "corpus/en/gutenberg_sentences/*.txt"))) + sorted(
        glob.glob(str(data / "corpus/en/gutenberg_raw/*-0.txt"))
    )
    result = {"benchmark": "prepare", "cpu_count": os.cpu_count(), "files": len(files),
              "corpus_mb": round(sum(os.path.getsize(f) for f in files) / 1e6, 2)}
    with tempfile.TemporaryDirectory() as tmp:
        ref_dir = os.path.join(tmp, "reference")
        os.makedirs(ref_dir)
        ours_times = []
        for repeat in range(args.repeats):
            seconds, manifest = run_ours(files, vocab, os.path.join(tmp, "ours"), "sentences")
            ours_times.append(seconds)
            if repeat == 0:
                ref_seconds, ref_examples = run_reference(files, vocab, ref_dir)
        ours_seconds = min(ours_times)
        result.update(
            reference_seconds=round(ref_seconds, 2),
            reference_examples=ref_examples,
            reference_examples_per_s=round(ref_examples / ref_seconds),
            ours_seconds=round(ours_seconds, 2),
            ours_seconds_all_runs=[round(t, 2) for t in ours_times],
            ours_examples=manifest.counts["examples"],
            ours_examples_per_s=round(manifest.counts["examples"] / ours_seconds),
            speedup=round((manifest.counts["examples"] / ours_seconds) / (ref_examples / ref_seconds), 2),
            identical_examples_share=round(identical_share(sorted(glob.glob(ref_dir + "/*")), manifest.shard_paths), 4),
        )
        auto_seconds, auto_manifest = run_ours(files, vocab, os.path.join(tmp, "auto"), "auto")
        result.update(ours_auto_layout_seconds=round(auto_seconds, 2), ours_auto_layout_examples=auto_manifest.counts["examples"])
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "electra_tf", "prepare", *files, "--vocab", vocab, "--out", os.path.join(tmp, "cli"),
             "--format", "sentences"],
            check=True, cwd=ROOT, capture_output=True,
            env={**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "serving")])},
        )
        result["ours_cli_wall_seconds"] = round(time.perf_counter() - start, 2)
        result["tokenizer_tokens_per_s_one_call_at_a_time"] = round(tokenizer_throughput(files, vocab))
        result["read_sequences_per_s_one_core"] = round(read_throughput(manifest.data_dir, one_core=True))
        result["read_sequences_per_s_all_cores"] = round(read_throughput(manifest.data_dir, one_core=False))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
