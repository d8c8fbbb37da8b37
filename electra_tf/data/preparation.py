"""`prepare_pretraining_data`: corpus files in, TFRecord shards + vocabulary + `manifest.json` out.

The work is split the way the costs fall on a CPU:

- Reading and cleaning the text (`CorpusReader`) runs in the calling thread; it is cheap.
- WordPiece tokenization runs as TensorFlow ops on batches of sentences, `workers` batches at a time on a
  thread pool (TensorFlow releases the GIL, so the batches use all cores); most lines take the tokenizer's
  C++ fast path for plain text (`Tokenizer.tokenize_plain`).
- The example builder (`ExampleBuilder`, the official algorithm) consumes the tokenized batches strictly in
  corpus order in the calling thread, a batch at a time (`ExampleBuilder.add_sentences`), with one seeded
  random generator, so the output depends on the seed and the corpus only, never on the number of workers or
  on timing.
- Examples are laid out and serialized a block at a time (`serialize_examples`, mostly NumPy) on a background
  thread, overlapping with the builder, and written round robin into the shards in order.

Example:
>>> manifest = prepare_pretraining_data(["books/"], "vocab.txt", "data/", PrepareOptions(seed=1))  # doctest: +SKIP
>>> manifest.counts["examples"], manifest.shard_paths[0]  # doctest: +SKIP
(21873, 'data/pretrain_data-00000-of-00016.tfrecord')
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import os
import shutil
import time
from typing import Callable, Iterator

import numpy as np

from electra_tf.data.corpus import CorpusOptions, CorpusReader
from electra_tf.data.example_builder import ExampleBuilder, stack_examples
from electra_tf.data.manifest import MANIFEST_FILE, DataManifest, file_sha256, write_manifest
from electra_tf.data.shards import ShardWriter
from electra_tf.errors import InputError

VOCAB_FILE = "vocab.txt"  # name of the vocabulary copy in the data folder
BATCH_CHARACTERS = 256 * 1024  # text per tokenization call: large enough to amortise the op overhead
BATCH_SENTENCES = 8192
WRITE_BLOCK = 2048  # examples serialized together


@dataclasses.dataclass(frozen=True)
class PrepareOptions:
    """Settings of `prepare_pretraining_data`.

    Attributes:
        seq_length: int. Tokens per example, [CLS] and [SEP]s included.
        seed: int. Seed of the example builder's random decisions.
        num_shards: int. TFRecord files to write (use at least a few per input pipeline of training).
        workers: int or None. Tokenization threads; None uses every core.
        lowercase: bool. Lower-case and strip accents (uncased vocabularies); False for cased ones.
        corpus: CorpusOptions. Layout, Gutenberg stripping, long-line limit.
    """

    seq_length: int = 128
    seed: int = 0
    num_shards: int = 16
    workers: int | None = None
    lowercase: bool = True
    corpus: CorpusOptions = dataclasses.field(default_factory=CorpusOptions)

    def __post_init__(self):
        for name in ("seq_length", "num_shards"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise InputError(f"Received an invalid value for {name}, expected a positive integer. Received: {name}={value!r}")
        if self.seq_length < 8:
            raise InputError(f"Received an invalid value for seq_length, expected at least 8. Received: seq_length={self.seq_length}")
        if self.workers is not None and (not isinstance(self.workers, int) or self.workers <= 0):
            raise InputError(f"Received an invalid value for workers, expected a positive integer. Received: workers={self.workers!r}")


@dataclasses.dataclass(frozen=True)
class PrepareProgress:
    """A progress report: bytes of the corpus read (of the total on disk) and examples written."""

    bytes_done: int
    bytes_total: int
    examples: int
    elapsed_s: float


def prepare_pretraining_data(
    corpus,
    vocab_file,
    out_dir,
    options: PrepareOptions | None = None,
    *,
    tokenizer=None,
    progress: Callable[[PrepareProgress], None] | None = None,
) -> DataManifest:
    """Builds pretraining examples from a corpus and writes shards, the vocabulary and `manifest.json`.

    Args:
        corpus: list of str or os.PathLike. Text files, folders and globs (`.txt`, `.gz`).
        vocab_file: str or os.PathLike. WordPiece vocabulary with [PAD] [UNK] [CLS] [SEP] [MASK].
        out_dir: str or os.PathLike. New or empty folder, or one written by an earlier run (replaced).
        options: PrepareOptions. Sequence length, seed, shards, workers, casing, corpus reading.
        tokenizer: electra_tf.Tokenizer or None. Built from `vocab_file` and `options.lowercase` when None.
        progress: callable or None. Called with a `PrepareProgress` after every block of examples.

    Returns:
        DataManifest. Also written to `out_dir/manifest.json`.

    Raises:
        InputError: a missing or binary corpus file, an empty corpus, a bad vocabulary or output folder.
    """
    options = options or PrepareOptions()
    start_time = time.monotonic()
    reader = CorpusReader(corpus, options.corpus)
    if tokenizer is None:
        from electra_tf.tokenization import Tokenizer

        tokenizer = Tokenizer(vocab_file, lowercase=options.lowercase)
    out_dir = os.fspath(out_dir)
    _prepare_out_dir(out_dir)
    vocab_copy = os.path.join(out_dir, VOCAB_FILE)
    if os.path.abspath(os.fspath(vocab_file)) != os.path.abspath(vocab_copy):
        shutil.copyfile(vocab_file, vocab_copy)

    builder = ExampleBuilder(options.seq_length, tokenizer.cls_id, tokenizer.sep_id, seed=options.seed)
    writer = ShardWriter(out_dir, options.num_shards)
    block_writer = _BlockWriter(writer, options.seq_length, tokenizer.cls_id, tokenizer.sep_id)
    try:
        pending = []
        for token_ids, row_splits, document_ends in _tokenized_batches(reader, tokenizer, options.workers):
            pending += builder.add_sentences(token_ids, row_splits, document_ends)
            if len(pending) >= WRITE_BLOCK:
                block_writer.submit(pending)
                pending = []
                if progress is not None:
                    progress(_progress(reader, builder, start_time))
        if pending:
            block_writer.submit(pending)
        block_writer.close()
        writer.close()
    except BaseException:
        block_writer.close(cancel=True)
        writer.close()
        _remove_outputs(out_dir, writer.file_names + [VOCAB_FILE])
        raise
    if builder.stats.examples == 0:
        _remove_outputs(out_dir, writer.file_names + [VOCAB_FILE])
        raise InputError(
            f"The corpus gave no tokens: {reader.stats.sentences} sentence(s) all tokenized to nothing. "
            "Expected text in the vocabulary's language."
        )
    if progress is not None:
        progress(_progress(reader, builder, start_time))

    counts = {**reader.stats.as_dict(), **builder.stats.as_dict()}
    counts["sentences"] = builder.stats.sentences
    manifest = DataManifest(
        data_dir=out_dir,
        seq_length=options.seq_length,
        vocab_file=VOCAB_FILE,
        vocab_hash=file_sha256(vocab_copy),
        vocab_size=tokenizer.vocab_size,
        lowercase=options.lowercase,
        seed=options.seed,
        shards=[{"file": name, "examples": count} for name, count in zip(writer.file_names, writer.shard_counts)],
        counts=counts,
        corpus={
            "options": dataclasses.asdict(options.corpus),
            "files": reader.stats.files,
            "seconds": round(time.monotonic() - start_time, 3),
        },
    )
    write_manifest(manifest)
    return manifest


def _tokenized_batches(reader: CorpusReader, tokenizer, workers: int | None) -> Iterator[tuple]:
    """Yields `(token_ids [tokens] int32, row_splits [sentences + 1] int64, document_ends [sentences] bool)`.

    Batches are tokenized `workers` at a time on threads and yielded in corpus order.
    """
    import tensorflow as tf

    # No AutoGraph: the tokenizer has no tensor-dependent Python control flow, and converting it costs ~1 s
    # the first time in a process.
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)], autograph=False)
    def tokenize(texts):
        token_ids = tokenizer(texts)  # [sentences, (tokens)]
        return token_ids.flat_values, token_ids.row_splits

    def run(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        flat_values, row_splits = tokenize(tf.constant(texts, tf.string))
        return flat_values.numpy(), row_splits.numpy()

    workers = workers or os.cpu_count() or 1
    in_flight: collections.deque = collections.deque()
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tokenize") as pool:
        for texts, document_ends in _sentence_batches(reader):
            in_flight.append((pool.submit(run, texts), document_ends))
            if len(in_flight) > 2 * workers:
                future, ends = in_flight.popleft()
                yield (*future.result(), ends)
        while in_flight:
            future, ends = in_flight.popleft()
            yield (*future.result(), ends)


class _BlockWriter:
    """Lays out, serializes and writes blocks of examples on one background thread, in submission order.

    Serialization is mostly NumPy, which releases the GIL, so it overlaps with the example builder. At most
    `max_pending` blocks wait; an error on the thread is raised by the next `submit` or by `close`.
    """

    def __init__(self, writer: ShardWriter, seq_length: int, cls_id: int, sep_id: int, max_pending: int = 2):
        self._writer = writer
        self._layout = (seq_length, cls_id, sep_id)
        self._max_pending = max_pending
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="write")
        self._pending: collections.deque = collections.deque()

    def submit(self, examples: list) -> None:
        self._pending.append(self._pool.submit(self._write, examples))
        while len(self._pending) > self._max_pending:
            self._pending.popleft().result()

    def close(self, cancel: bool = False) -> None:
        """Waits for every block (raising the first error), or with `cancel` drops those not started."""
        self._pool.shutdown(wait=True, cancel_futures=cancel)
        while self._pending and not cancel:
            self._pending.popleft().result()

    def _write(self, examples: list) -> None:
        self._writer.write(stack_examples(examples, *self._layout))


def _sentence_batches(reader: CorpusReader) -> Iterator[tuple[list[str], np.ndarray]]:
    """Regroups the corpus into batches of about `BATCH_CHARACTERS`: `(sentences, document_ends [n] bool)`.

    `document_ends[i]` is True when a document ends after sentence `i`.
    """
    texts: list[str] = []
    flags: list[np.ndarray] = []
    characters = 0
    for block in reader.blocks():
        count = len(block.sentences)
        block_flags = np.zeros([count], bool)
        block_flags[block.document_ends] = True
        cumulative = np.cumsum(np.fromiter(map(len, block.sentences), np.int64, count))  # [count]
        start = 0
        while start < count:
            before = int(cumulative[start - 1]) if start else 0
            stop = int(np.searchsorted(cumulative, before + BATCH_CHARACTERS - characters)) + 1
            stop = min(stop, count, start + BATCH_SENTENCES - len(texts))
            texts.extend(block.sentences[start:stop])
            flags.append(block_flags[start:stop])
            characters += int(cumulative[stop - 1]) - before
            start = stop
            if characters >= BATCH_CHARACTERS or len(texts) >= BATCH_SENTENCES:
                yield texts, np.concatenate(flags)
                texts, flags, characters = [], [], 0
    if texts:
        yield texts, np.concatenate(flags)


def _prepare_out_dir(out_dir: str) -> None:
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise InputError(f"Output path {out_dir!r} is a file. Expected a folder for the data.")
    if os.path.isdir(out_dir):
        entries = os.listdir(out_dir)
        if entries and MANIFEST_FILE not in entries:
            raise InputError(
                f"Output folder {out_dir!r} is not empty and holds no {MANIFEST_FILE}. "
                "Expected a new or empty folder, or one written by `electra-tf prepare`."
            )
        old_shards = [name for name in entries if name.startswith("pretrain_data-") and name.endswith(".tfrecord")]
        _remove_outputs(out_dir, old_shards + [MANIFEST_FILE])
    os.makedirs(out_dir, exist_ok=True)


def _remove_outputs(out_dir: str, names: list[str]) -> None:
    for name in names:
        path = os.path.join(out_dir, name)
        if os.path.isfile(path):
            os.remove(path)


def _progress(reader: CorpusReader, builder: ExampleBuilder, start_time: float) -> PrepareProgress:
    return PrepareProgress(
        bytes_done=reader.position_bytes(),
        bytes_total=reader.total_bytes,
        examples=builder.stats.examples,
        elapsed_s=time.monotonic() - start_time,
    )
