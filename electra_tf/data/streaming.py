"""`streaming_dataset`: model inputs tokenized and packed on the fly from raw text, without TFRecords.

For quick experiments and corpora that change: no `prepare` step, nothing written to disk. The packing is
simpler than the official example builder (`electra-tf prepare`), and documented here:

- Lines are read in order from each file (`.txt` or `.gz`, UTF-8; invalid bytes become U+FFFD), tokenized
  with the same `Tokenizer`, and their tokens are concatenated into one stream. A blank line (a document
  end) puts one `[SEP]` into the stream; a run of blank lines puts one (two if the run straddles two
  tokenizer batches of 1,024 lines).
- The stream is cut greedily into runs of `seq_length - 2` tokens; each becomes `[CLS] run [SEP]` with
  segment id 0 and mask 1 everywhere (no padding, no segment B, no short examples). A run may start or end
  mid-sentence and may span documents (separated by that `[SEP]`).
- The tokens after the last full run of a pass over the files are dropped (fewer than `seq_length - 2`).
- No layout detection, Gutenberg stripping or repair counts: lines are taken as they are. Use
  `electra-tf prepare` for the official algorithm and a manifest of what was read.

Example:
>>> tokenizer = electra_tf.Tokenizer("vocab.txt")  # doctest: +SKIP
>>> dataset = streaming_dataset(["books/"], tokenizer, seq_length=128, batch_size=32)  # doctest: +SKIP
>>> sorted(next(iter(dataset)))  # doctest: +SKIP
['input_mask', 'input_type_ids', 'input_word_ids']
"""

from __future__ import annotations

import tensorflow as tf

from electra_tf.data.corpus import resolve_corpus_paths
from electra_tf.errors import InputError

LINES_PER_TOKENIZER_CALL = 1024
DEFAULT_SHUFFLE_BUFFER = 10_000  # sequences


def streaming_dataset(
    corpus,
    tokenizer,
    seq_length: int,
    batch_size: int,
    *,
    input_context: tf.distribute.InputContext | None = None,
    shuffle: bool = True,
    repeat: bool = True,
    seed: int | None = None,
    shuffle_buffer: int = DEFAULT_SHUFFLE_BUFFER,
) -> tf.data.Dataset:
    """Tokenizes and packs text files into batches of model inputs (the rules in the module docstring).

    Args:
        corpus: list of str or os.PathLike. Text files, folders and globs (`.txt`, `.gz`).
        tokenizer: electra_tf.Tokenizer. Gives the ids, `cls_id` and `sep_id`.
        seq_length: int. Tokens per sequence, [CLS] and [SEP] included.
        batch_size: int. The global batch size; with `input_context`, each input pipeline batches
            `input_context.get_per_replica_batch_size(batch_size)` sequences.
        input_context: tf.distribute.InputContext or None. Splits the files between input pipelines when
            there are at least as many files as pipelines, else the lines.
        shuffle: bool. Shuffle the file order and the sequences (buffer of `shuffle_buffer`).
        repeat: bool. Repeat forever.
        seed: int or None. Seed of the shuffles.
        shuffle_buffer: int. Sequences in the shuffle buffer.

    Returns:
        tf.data.Dataset of dicts `input_word_ids`, `input_mask`, `input_type_ids`: int32
        `[per_replica_batch, seq_length]`.
    """
    if isinstance(seq_length, bool) or not isinstance(seq_length, int) or seq_length < 3:
        raise InputError(f"Received an invalid value for seq_length, expected an integer >= 3. Received: {seq_length!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise InputError(f"Received an invalid value for batch_size, expected a positive integer. Received: {batch_size!r}")
    files = [str(path) for path in resolve_corpus_paths(corpus)]
    num_pipelines = input_context.num_input_pipelines if input_context else 1
    pipeline_id = input_context.input_pipeline_id if input_context else 0
    per_replica_batch = input_context.get_per_replica_batch_size(batch_size) if input_context else batch_size
    shard_by_files = num_pipelines > 1 and len(files) >= num_pipelines
    if shard_by_files:
        files = files[pipeline_id::num_pipelines]

    lines = _lines(files, shuffle=shuffle and (shard_by_files or num_pipelines == 1), seed=seed)
    if num_pipelines > 1 and not shard_by_files:
        lines = lines.shard(num_pipelines, pipeline_id)
    run_length = seq_length - 2
    cls_id, sep_id = int(tokenizer.cls_id), int(tokenizer.sep_id)

    def tokenize(texts: tf.Tensor) -> tf.Tensor:
        """[lines] strings -> [tokens] int32: the lines' tokens, one [SEP] where a run of blank lines ends."""
        texts = tf.strings.unicode_transcode(texts, "UTF-8", "UTF-8", errors="replace")
        texts = tf.strings.strip(texts)  # also drops the \r of CRLF line endings
        is_blank = tf.equal(texts, "")  # [lines]
        next_is_blank = tf.concat([is_blank[1:], [False]], axis=0)  # the last blank line of a run marks the end
        document_end = tf.cast(is_blank & ~next_is_blank, tf.int32)  # [lines]
        token_ids = tf.cast(tokenizer(texts), tf.int32)  # [lines, (tokens)]
        separators = tf.RaggedTensor.from_row_lengths(
            tf.fill([tf.reduce_sum(document_end)], sep_id), tf.cast(document_end, token_ids.row_splits.dtype)
        )  # [lines, (0 or 1)]
        return tf.concat([token_ids, separators], axis=1).flat_values  # [tokens]

    def cut_runs(carry: tf.Tensor, tokens: tf.Tensor):
        """Appends a batch's tokens to the leftover of the previous one; emits the full runs."""
        stream = tf.concat([carry, tokens], axis=0)
        num_runs = tf.shape(stream)[0] // run_length
        runs = tf.reshape(stream[: num_runs * run_length], [num_runs, run_length])  # [runs, seq - 2]
        return stream[num_runs * run_length :], runs

    def add_special_tokens(runs: tf.Tensor) -> dict[str, tf.Tensor]:
        num_runs = tf.shape(runs)[0]
        input_word_ids = tf.concat(
            [tf.fill([num_runs, 1], cls_id), runs, tf.fill([num_runs, 1], sep_id)], axis=1
        )  # [runs, seq]
        ones = tf.ones_like(input_word_ids)
        return {"input_word_ids": input_word_ids, "input_mask": ones, "input_type_ids": tf.zeros_like(ones)}

    dataset = lines.batch(LINES_PER_TOKENIZER_CALL)
    dataset = dataset.map(tokenize, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    dataset = dataset.scan(tf.zeros([0], tf.int32), cut_runs)
    dataset = dataset.map(add_special_tokens).unbatch()
    if shuffle:
        dataset = dataset.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        dataset = dataset.repeat()
    dataset = dataset.batch(per_replica_batch, drop_remainder=True)  # static shapes for XLA and TPUs
    return dataset.prefetch(tf.data.AUTOTUNE)


def _lines(files: list[str], shuffle: bool, seed: int | None) -> tf.data.Dataset:
    """Lines of all files, `.gz` ones decompressed; file order shuffled when asked."""
    plain = [path for path in files if not path.lower().endswith(".gz")]
    gzipped = [path for path in files if path.lower().endswith(".gz")]
    parts = []
    for group, compression in ((plain, ""), (gzipped, "GZIP")):
        if not group:
            continue
        names = tf.data.Dataset.from_tensor_slices(group)
        if shuffle:
            names = names.shuffle(len(group), seed=seed, reshuffle_each_iteration=True)
        parts.append(names.flat_map(lambda name, compression=compression: tf.data.TextLineDataset(name, compression)))
    if not parts:
        raise InputError("No corpus files to stream.")
    dataset = parts[0]
    for part in parts[1:]:
        dataset = dataset.concatenate(part)
    return dataset
