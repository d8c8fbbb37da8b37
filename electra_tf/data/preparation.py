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
- A held-out split (`validation_fraction`, 1% by default) is chosen before any example is built
  (`validation_split.py`: whole documents, or for a corpus of a few long documents one contiguous span of
  each), which costs one extra reading pass; its sentences go to a second example builder and to
  `validation/pretrain_data-00000-of-00001.tfrecord`, so no example holds text of both sides.

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
from electra_tf.data.validation_split import (
    DEFAULT_VALIDATION_FRACTION,
    ValidationSplit,
    check_validation_fraction,
    document_sizes,
    plan_validation_split,
)
from electra_tf.errors import InputError

VOCAB_FILE = "vocab.txt"  # name of the vocabulary copy in the data folder
BATCH_CHARACTERS = 256 * 1024  # text per tokenization call: large enough to amortise the op overhead
BATCH_SENTENCES = 8192
WRITE_BLOCK = 2048  # examples serialized together
VALIDATION_DIR = "validation"  # held-out shards, inside the data folder
VALIDATION_SEED_OFFSET = 7919  # the held-out example builder's seed is the seed plus this


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
        validation_fraction: float. Share of the corpus held out for evaluation, in [0, 0.5]; 0 holds out
            nothing (`validation_split.py` says how documents are chosen).
    """

    seq_length: int = 128
    seed: int = 0
    num_shards: int = 16
    workers: int | None = None
    lowercase: bool = True
    corpus: CorpusOptions = dataclasses.field(default_factory=CorpusOptions)
    validation_fraction: float = DEFAULT_VALIDATION_FRACTION

    def __post_init__(self):
        check_validation_fraction(self.validation_fraction)
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

    split = _plan_split(corpus, options)
    builder = ExampleBuilder(options.seq_length, tokenizer.cls_id, tokenizer.sep_id, seed=options.seed)
    writer = ShardWriter(out_dir, options.num_shards)
    block_writer = _BlockWriter(writer, options.seq_length, tokenizer.cls_id, tokenizer.sep_id)
    sides = [(builder, block_writer, [])]  # (builder, block writer, pending examples): training, held out
    if split.sentences:
        os.makedirs(os.path.join(out_dir, VALIDATION_DIR), exist_ok=True)
        held_out_writer = ShardWriter(os.path.join(out_dir, VALIDATION_DIR), 1)
        sides.append((
            ExampleBuilder(options.seq_length, tokenizer.cls_id, tokenizer.sep_id,
                           seed=options.seed + VALIDATION_SEED_OFFSET),
            _BlockWriter(held_out_writer, options.seq_length, tokenizer.cls_id, tokenizer.sep_id),
            [],
        ))
    route = split.router()
    try:
        for token_ids, row_splits, document_ends in _tokenized_batches(reader, tokenizer, options.workers):
            held_out, document_ends = route(document_ends)
            for side, (side_builder, side_writer, pending) in enumerate(sides):
                keep = held_out if side else ~held_out  # [sentences]
                if not keep.any():
                    continue
                if not keep.all():
                    token_ids_kept, row_splits_kept = _select_sentences(token_ids, row_splits, keep)
                    pending += side_builder.add_sentences(token_ids_kept, row_splits_kept, document_ends[keep])
                else:
                    pending += side_builder.add_sentences(token_ids, row_splits, document_ends)
                if len(pending) >= WRITE_BLOCK:
                    side_writer.submit(pending[:])
                    pending.clear()
                    if progress is not None and not side:
                        progress(_progress(reader, builder, start_time))
        for _, side_writer, pending in sides:
            if pending:
                side_writer.submit(pending)
            side_writer.close()
        writer.close()
        if len(sides) > 1:
            held_out_writer.close()
    except BaseException:
        for _, side_writer, _ in sides:
            side_writer.close(cancel=True)
        writer.close()
        if len(sides) > 1:
            held_out_writer.close()
        _remove_outputs(out_dir, writer.file_names + [VOCAB_FILE])
        shutil.rmtree(os.path.join(out_dir, VALIDATION_DIR), ignore_errors=True)
        raise
    if builder.stats.examples == 0:
        _remove_outputs(out_dir, writer.file_names + [VOCAB_FILE])
        shutil.rmtree(os.path.join(out_dir, VALIDATION_DIR), ignore_errors=True)
        raise InputError(
            f"The corpus gave no tokens: {reader.stats.sentences} sentence(s) all tokenized to nothing. "
            "Expected text in the vocabulary's language."
        )
    if progress is not None:
        progress(_progress(reader, builder, start_time))

    counts = {**reader.stats.as_dict(), **builder.stats.as_dict()}
    counts["sentences"] = builder.stats.sentences
    validation = split.describe()
    validation_shards = []
    if len(sides) > 1:
        validation["counts"] = sides[1][0].stats.as_dict()
        validation_shards = [
            {"file": f"{VALIDATION_DIR}/{name}", "examples": count}
            for name, count in zip(held_out_writer.file_names, held_out_writer.shard_counts)
        ]
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
        validation_shards=validation_shards,
        validation=validation,
    )
    write_manifest(manifest)
    return manifest


def _plan_split(corpus, options: PrepareOptions) -> ValidationSplit:
    """The held-out split: a reading pass for the document sizes (skipped when nothing is held out)."""
    sizes = np.zeros([0], np.int64)
    if options.validation_fraction > 0:
        sizes = document_sizes(CorpusReader(corpus, options.corpus))
    return plan_validation_split(sizes, options.validation_fraction, options.seed)


def _select_sentences(token_ids: np.ndarray, row_splits: np.ndarray, keep: np.ndarray) -> tuple:
    """The tokens and row splits of the sentences where `keep` [sentences] is True."""
    lengths = np.diff(np.asarray(row_splits, np.int64))  # [sentences]
    kept_lengths = lengths[keep]
    row_splits_kept = np.concatenate([[0], np.cumsum(kept_lengths)]).astype(np.int64)  # [kept + 1]
    return token_ids[np.repeat(keep, lengths)], row_splits_kept


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
        shutil.rmtree(os.path.join(out_dir, VALIDATION_DIR), ignore_errors=True)
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
