"""The signatures of a fine-tuned ELECTRA: `classify`, `answer` and `tag`, on raw text and on token ids.

A fine-tuned model's export has its task's signature as `serving_default`, plus `encode`/`encode_pair`
(every task model has the encoder). Task settings (label names, answer length, SQuAD 2.0) come from the
model directory's `task.json` (`ExportContext.task`); without one, labels are `"0"`, `"1"`, ...

| signature (text / ids)     | text inputs             | outputs (text signature)                                  |
|----------------------------|-------------------------|-----------------------------------------------------------|
| `classify` / `classify_ids`| `text` (+ `text_b` for  | `label` string [b], `label_id` int32 [b], `probabilities` |
|                            | a pair task)            | float32 [b, classes], `labels` string [b, classes];       |
|                            |                         | regression: `score` float32 [b]                           |
| `answer` / `answer_ids`    | `question`, `context`   | `answer` string [b], `start`/`end` int32 [b] (characters, |
|                            |                         | `context[start:end] == answer`, -1 when none), `score`    |
|                            |                         | float32 [b], `null_score_diff` float32 [b]                |
| `tag` / `tag_ids`          | `text`                  | `words`, `tags` string [b, words], `tag_ids` int32,       |
|                            |                         | `tag_probabilities` float32, `word_starts`/`word_ends`    |
|                            |                         | int32 [b, words] (characters; "" / -1 / 0 padding)        |

`answer` does the whole reference pipeline in the graph: the question is cut to `max_query_length` tokens,
the context is split into words with character offsets (`text_offsets.py`) and covered by windows of
`seq_length` with `doc_stride` (`answer_spans.py`); each window's best span (n-best over start and end logits,
maximum context, `max_answer_length`) competes on `start_logit + end_logit`, and the answer is the original
context text of the winning tokens (a piece's own characters when the word's pieces spell it, else the whole
word, as `electra_tf.finetuning.word_pieces.piece_spans`). For a SQuAD 2.0 model (`version_2_with_negative`),
`null_score_diff` is minus the answerability classifier's largest `answerable_logits` over the question's
windows, and the answer is empty (`start = end = -1`) when it exceeds `null_score_diff_threshold` (task.json,
default 0). SQuAD 1.1 models always answer; their `null_score_diff` is 0. This is what
`electra_tf.finetuning.qa_decoding.decode_qa` computes from the same logits (the tests compare the two).

`tag` splits the text into the tokenizer's words (whitespace, each punctuation character, each CJK
ideograph), tags each word at its first piece (a word of only deleted characters is one [UNK], as in
`electra_tf.finetuning.tagging_features`) and returns the words with their character spans. Sentences
longer than one window are covered by windows of `seq_length - 2` tokens every `stride` tokens (task.json,
default half a window, as `tagging_features`); each word takes its tag from the window where it has the most context.

The `_ids` twins take one packed window (the TF Hub BERT inputs): `classify_ids` returns what `classify`
does; `answer_ids` returns `start_index`/`end_index` (token positions in the window, -1 when none), `score`,
`null_score_diff` and `answer` (the WordPiece tokens of the span joined); `tag_ids` returns per token `tokens`,
`tags`, `tag_ids`, `tag_probabilities` and `input_mask` ("" / 0 at padding).

Example:
>>> loaded = tf.saved_model.load("saved_models/squad/1")  # doctest: +SKIP
>>> answer = loaded.signatures["answer"]  # doctest: +SKIP
>>> answer(question=tf.constant(["who sat?"]), context=tf.constant(["The cat sat."]))  # doctest: +SKIP
{'answer': <tf.Tensor: ... numpy=array([b'The cat'], dtype=object)>, 'start': ... [0], 'end': ... [7], ...}
"""

from __future__ import annotations

import tensorflow as tf

from electra_tf.errors import InputError
from electra_tf.export import names
from electra_tf.export.answer_spans import best_spans, best_window, context_windows, max_context_mask
from electra_tf.export.registry import SignatureSpec, register_signature
from electra_tf.export.text_offsets import split_words_with_offsets, tokenize_words
from electra_tf.input_packing import pack_inputs

# The signature that serves each task, and becomes `serving_default` of its export.
TASK_SIGNATURES = {
    "classification": names.CLASSIFY,
    "regression": names.CLASSIFY,
    "qa": names.ANSWER,
    "tagging": names.TAG,
}
# Defaults of the reference (google-research/electra `configure_finetuning.py`) when task.json has no value.
DEFAULT_MAX_QUERY_LENGTH = 64
DEFAULT_DOC_STRIDE = 128
DEFAULT_MAX_ANSWER_LENGTH = 30
DEFAULT_N_BEST_SIZE = 20


def task_signature_name(model) -> str | None:
    """The signature serving `model`'s task (`classify`, `answer`, `tag`), or None for a pretrained model."""
    return TASK_SIGNATURES.get(getattr(model, "task", None) or "")


def serving_default_first(model, specs: tuple) -> tuple:
    """`specs` with the model's task signature first (so that it becomes `serving_default`)."""
    name = task_signature_name(model)
    return tuple(sorted(specs, key=lambda spec: spec.name != name))


# === classify ===

def _labels(context, count: int) -> list[str]:
    """The class or tag names of task.json; "0", "1", ... without them.

    Raises:
        InputError: task.json lists another number of labels than the model has outputs.
    """
    labels = [str(label) for label in context.task.get("labels") or []]
    if not labels:
        return [str(index) for index in range(count)]
    if len(labels) != count:
        raise InputError(f"task.json lists {len(labels)} labels ({', '.join(labels)}) but the model has {count} "
                         "outputs. Expected the task.json the model was fine-tuned with.")
    return labels


def classify(context, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """Class probabilities and the most likely label; for a regression model, the predicted score.

    Returns:
        classification: `label` string [batch], `label_id` int32 [batch], `probabilities` float32
        [batch, classes], `labels` string [batch, classes] (the label names, repeated per row).
        regression: `score` float32 [batch].
    """
    logits = tf.cast(context.model(inputs, training=False)["logits"], tf.float32)  # [batch, classes]
    if context.model.task == "regression":
        return {names.SCORE: logits[:, 0]}
    labels = tf.constant(_labels(context, context.model.num_labels), tf.string)  # [classes]
    label_id = tf.argmax(logits, axis=-1, output_type=tf.int32)  # [batch]
    return {
        names.LABEL: tf.gather(labels, label_id),
        names.LABEL_ID: label_id,
        names.PROBABILITIES: tf.nn.softmax(logits, axis=-1),
        names.LABELS: tf.tile(labels[tf.newaxis], [tf.shape(logits)[0], 1]),
    }


def _is_pair_task(context) -> bool:
    task = context.task
    return bool(task.get("text_pair") or task.get("pair") or task.get("text_pair_column") is not None)


def _classify_text_signature(context):
    inputs = (names.TEXT, names.TEXT_B) if _is_pair_task(context) else (names.TEXT,)
    input_signature = [tf.TensorSpec([None], tf.string, name=name) for name in inputs]

    @tf.function(input_signature=input_signature, autograph=False)
    def classify_text(*texts):
        return classify(context, context.pack_texts(list(texts)))

    return classify_text


# === answer ===

def _qa_settings(context) -> dict:
    task, model = context.task, context.model
    return {
        "max_query_length": int(task.get("max_query_length") or DEFAULT_MAX_QUERY_LENGTH),
        "doc_stride": int(task.get("doc_stride") or DEFAULT_DOC_STRIDE),
        "max_answer_length": int(task.get("max_answer_length") or DEFAULT_MAX_ANSWER_LENGTH),
        "n_best_size": int(task.get("n_best_size") or DEFAULT_N_BEST_SIZE),
        "version_2_with_negative": bool(task.get("version_2_with_negative",
                                                 getattr(model, "version_2_with_negative", False))),
        "null_score_diff_threshold": float(task.get("null_score_diff_threshold") or 0.0),
    }


def _decode_windows(context, inputs, can_start, settings):
    """The model on packed windows and each window's best span: (start, end, score, answerable logit) [windows]."""
    outputs = context.model(inputs, training=False)
    start, end, score = best_spans(
        tf.cast(outputs["start_logits"], tf.float32), tf.cast(outputs["end_logits"], tf.float32), can_start,
        _context_positions(inputs), settings["max_answer_length"], settings["n_best_size"],
    )
    return start, end, score, tf.cast(outputs["answerable_logits"], tf.float32)


def _context_positions(inputs) -> tf.Tensor:
    """bool [batch, seq]: the context tokens of `[CLS] question [SEP] context [SEP]` (type 1, real, not [SEP])."""
    real_b = (inputs[names.INPUT_TYPE_IDS] > 0) & (inputs[names.INPUT_MASK] > 0)  # [batch, seq]
    last = tf.reduce_sum(inputs[names.INPUT_MASK], axis=1) - 1  # [batch], the final [SEP]
    not_last = tf.range(tf.shape(real_b)[1])[tf.newaxis] != last[:, tf.newaxis]
    return real_b & not_last


def answer_ids(context, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """The best span of one packed window `[CLS] question [SEP] context [SEP]` per row.

    Returns:
        `start_index`, `end_index` int32 [batch] (token positions, -1 when none or when a SQuAD 2.0 model
        says there is no answer), `score` float32 [batch] (`start_logit + end_logit`), `null_score_diff`
        float32 [batch], `answer` string [batch] (the span's WordPiece tokens, `##` joined to their word).
    """
    settings = _qa_settings(context)
    can = _context_positions(inputs)
    start, end, score, answerable = _decode_windows(context, inputs, can, settings)
    null_score_diff = _null_score_diff(answerable, settings)
    if settings["version_2_with_negative"]:
        no_answer = null_score_diff > settings["null_score_diff_threshold"]
        start, end = tf.where(no_answer, -1, start), tf.where(no_answer, -1, end)
    positions = tf.range(tf.shape(can)[1])[tf.newaxis]  # [1, seq]
    in_span = (positions >= start[:, tf.newaxis]) & (positions <= end[:, tf.newaxis])  # [batch, seq]
    tokens = tf.ragged.boolean_mask(context.id_to_token(inputs[names.INPUT_WORD_IDS]), in_span)
    text = tf.strings.regex_replace(tf.strings.reduce_join(tokens, axis=1, separator=" "), " ##", "")
    return {names.START_INDEX: start, names.END_INDEX: end, names.SCORE: score,
            names.NULL_SCORE_DIFF: null_score_diff, names.ANSWER: text}


def _null_score_diff(answerable_logits: tf.Tensor, settings: dict) -> tf.Tensor:
    """SQuAD 2.0: minus the (best) answerability logit, `qa_decoding`'s `null_score_diff`; 0 for SQuAD 1.1."""
    if settings["version_2_with_negative"]:
        return -answerable_logits
    return tf.zeros_like(answerable_logits)


def answer_text(context, questions: tf.Tensor, contexts: tf.Tensor) -> dict[str, tf.Tensor]:
    """The answer to each question in its context, with character offsets (module docstring).

    Args:
        questions, contexts: tf.Tensor. string [batch].

    Returns:
        `answer` string [batch], `start`, `end` int32 [batch] (characters; -1 when none), `score`,
        `null_score_diff` float32 [batch].
    """
    settings = _qa_settings(context)
    tokenizer = context.tokenizer
    batch_size = tf.shape(contexts)[0]
    question_ids = tokenizer.tokenize(questions)[:, : settings["max_query_length"]]  # [batch, (q)]
    words = split_words_with_offsets(contexts)
    pieces = tokenize_words(tokenizer, words.words)  # [batch, (words), (pieces)]
    context_ids = pieces.merge_dims(1, 2)  # [batch, (tokens)]
    token_starts, token_ends = _piece_spans(context, words, pieces)  # [batch, (tokens)] each, characters

    # === Windows: [CLS] question [SEP] window [SEP] ===
    question_lengths = tf.cast(question_ids.row_lengths(), tf.int32)
    window_room = tf.maximum(context.seq_length - question_lengths - 3, 1)  # [batch]
    example, window_start, window_length = context_windows(
        tf.cast(context_ids.row_lengths(), tf.int32), window_room, settings["doc_stride"])
    token_index = tf.ragged.range(window_length) + window_start[:, tf.newaxis]  # [windows, (length)] in context
    flat_index = token_index + tf.cast(tf.gather(context_ids.row_splits, example), tf.int32)[:, tf.newaxis]
    window_ids = tf.gather(context_ids.flat_values, flat_index)  # [windows, (length)]
    packed = pack_inputs(tf.gather(question_ids, example), window_ids, seq_length=context.seq_length,
                         cls_id=tokenizer.cls_id, sep_id=tokenizer.sep_id, pad_id=tokenizer.pad_id,
                         bucket_size=context.bucket_size)
    # Where each window's context starts in its packed row, and which tokens have their max context there.
    offset = tf.gather(question_lengths, example) + 2  # [windows]
    is_max = max_context_mask(example, window_start, window_length, batch_size)  # [windows, (length)]
    seq = tf.shape(packed[names.INPUT_WORD_IDS])[1]
    can_start = _scatter_rows(is_max, offset, seq)  # [windows, seq]

    start, end, score, answerable = _decode_windows(context, packed, can_start, settings)
    best = best_window(example, score, batch_size)  # [batch]
    start, end, score = tf.gather(start, best), tf.gather(end, best), tf.gather(score, best)  # in the window
    # The most answerable window speaks for the question (`qa_decoding.decode_qa`).
    null_score_diff = _null_score_diff(tf.math.unsorted_segment_max(answerable, example, batch_size), settings)
    found = start >= 0
    if settings["version_2_with_negative"]:
        found &= null_score_diff <= settings["null_score_diff_threshold"]
    # Packed position -> context token -> characters.
    first_token = tf.gather(window_start, best) - tf.gather(offset, best)  # [batch]
    row_start = tf.cast(context_ids.row_splits[:-1], tf.int32)
    start_token = tf.where(found, row_start + first_token + start, 0)
    end_token = tf.where(found, row_start + first_token + end, 0)
    safe = tf.concat([token_starts.flat_values, [0]], 0), tf.concat([token_ends.flat_values, [0]], 0)
    char_start = tf.where(found, tf.gather(safe[0], start_token), -1)
    char_end = tf.where(found, tf.gather(safe[1], end_token), -1)
    text = tf.strings.substr(words.texts, tf.maximum(char_start, 0), tf.maximum(char_end - char_start, 0),
                             unit="UTF8_CHAR")
    return {names.ANSWER: text, names.ANSWER_START: char_start, names.ANSWER_END: char_end, names.SCORE: score,
            names.NULL_SCORE_DIFF: null_score_diff}


def _scatter_rows(values: tf.RaggedTensor, offset: tf.Tensor, width) -> tf.Tensor:
    """Dense bool [rows, width] with row r's ragged values placed from column `offset[r]`; False elsewhere."""
    columns = tf.ragged.range(values.row_lengths()) + tf.cast(offset, tf.int64)[:, tf.newaxis]
    indices = tf.stack([values.value_rowids(), columns.flat_values], axis=1)  # [tokens, 2]
    shape = tf.cast(tf.stack([values.nrows(), tf.cast(width, tf.int64)]), tf.int64)
    return tf.scatter_nd(indices, tf.cast(values.flat_values, tf.int32), shape) > 0


def _piece_spans(context, words, pieces: tf.RaggedTensor):
    """Character spans of every piece (`word_pieces.piece_spans` in graph): [batch, (tokens)] starts and ends.

    A word's pieces get their own characters when, without `##`, their lengths add up to the word's length and
    none is [UNK]; otherwise each gets the whole word.
    """
    piece_tokens = context.id_to_token(pieces.flat_values)  # [all pieces]
    index_in_word = tf.ragged.range(pieces.values.row_lengths()).flat_values  # [all pieces]
    continuation = (index_in_word > 0) & tf.strings.regex_full_match(piece_tokens, "##.*")
    lengths = tf.strings.length(piece_tokens, unit="UTF8_CHAR") - tf.where(continuation, 2, 0)  # [all pieces]
    per_word = pieces.values.with_values(lengths)  # [all words, (pieces)]
    unknown = tf.reduce_any(tf.equal(pieces.values.with_values(piece_tokens), "[UNK]"), axis=1)  # [all words]
    word_starts, word_ends = words.starts.flat_values, words.ends.flat_values  # [all words]
    spelled = (tf.reduce_sum(per_word, axis=1) == word_ends - word_starts) & ~unknown  # [all words]
    within = tf.cumsum(lengths, exclusive=True) - tf.repeat(
        tf.gather(tf.concat([tf.cumsum(lengths, exclusive=True), [0]], 0), pieces.values.row_splits[:-1]),
        pieces.values.row_lengths())  # [all pieces], characters before the piece within its word
    piece_word = tf.cast(pieces.values.value_rowids(), tf.int32)  # [all pieces]
    own = tf.gather(spelled, piece_word)
    starts = tf.where(own, tf.gather(word_starts, piece_word) + within, tf.gather(word_starts, piece_word))
    ends = tf.where(own, starts + lengths, tf.gather(word_ends, piece_word))
    splits = pieces.merge_dims(1, 2).row_splits
    return (tf.RaggedTensor.from_row_splits(starts, splits, validate=False),
            tf.RaggedTensor.from_row_splits(ends, splits, validate=False))


def _answer_text_signature(context):
    input_signature = [tf.TensorSpec([None], tf.string, name=names.QUESTION),
                       tf.TensorSpec([None], tf.string, name=names.CONTEXT)]

    @tf.function(input_signature=input_signature, autograph=False)
    def answer(questions, contexts):
        return answer_text(context, questions, contexts)

    return answer


# === tag ===

def _tag_names(context) -> tf.Tensor:
    return tf.constant(_labels(context, context.model.num_tags), tf.string)  # [tags]


def tag_ids(context, inputs: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
    """The most likely tag at every real token of packed inputs (use the first piece of each word).

    Returns:
        `tokens`, `tags` string [batch, seq], `tag_ids` int32 [batch, seq], `tag_probabilities` float32
        [batch, seq] ("" / 0 at padding), `input_mask` int32 [batch, seq].
    """
    real = inputs[names.INPUT_MASK] > 0
    probabilities = tf.nn.softmax(tf.cast(context.model(inputs, training=False)["logits"], tf.float32), axis=-1)
    ids = tf.argmax(probabilities, axis=-1, output_type=tf.int32)  # [batch, seq]
    return {
        names.TOKENS: tf.where(real, context.id_to_token(inputs[names.INPUT_WORD_IDS]), ""),
        names.TAGS: tf.where(real, tf.gather(_tag_names(context), ids), ""),
        names.TAG_IDS: tf.where(real, ids, 0),
        names.TAG_PROBABILITIES: tf.where(real, tf.reduce_max(probabilities, axis=-1), 0.0),
        names.INPUT_MASK: inputs[names.INPUT_MASK],
    }


def tag_text(context, texts: tf.Tensor) -> dict[str, tf.Tensor]:
    """Tags of each word of each text, with the words' character spans (module docstring).

    Returns:
        `words`, `tags` string [batch, words], `tag_ids` int32, `tag_probabilities` float32, `word_starts`,
        `word_ends` int32 [batch, words]; rows padded with "", 0, 0.0, -1, -1.
    """
    tokenizer = context.tokenizer
    batch_size = tf.shape(texts)[0]
    words = split_words_with_offsets(texts)
    pieces = _unknown_if_empty(tokenize_words(tokenizer, words.words), tokenizer.unk_id)  # [b, (words), (p)]
    starts, ends = words.starts, words.ends
    token_ids = pieces.merge_dims(1, 2)  # [batch, (tokens)]
    counts = tf.cast(pieces.values.row_lengths(), tf.int32)  # [all words]
    first_flat = tf.cumsum(counts, exclusive=True)  # [all words], first token in the batch's flat tokens

    # === Windows of seq_length - 2 tokens ===
    room = max(context.seq_length - 2, 1)
    stride = int(context.task.get("stride") or context.task.get("doc_stride") or max(room // 2, 1))
    example, window_start, window_length = context_windows(
        tf.cast(token_ids.row_lengths(), tf.int32), tf.fill([batch_size], room), min(stride, room))
    flat_index = (tf.ragged.range(window_length) + window_start[:, tf.newaxis]
                  + tf.cast(tf.gather(token_ids.row_splits, example), tf.int32)[:, tf.newaxis])
    packed = pack_inputs(tf.gather(token_ids.flat_values, flat_index), seq_length=context.seq_length,
                         cls_id=tokenizer.cls_id, sep_id=tokenizer.sep_id, pad_id=tokenizer.pad_id,
                         bucket_size=context.bucket_size)
    probabilities = tf.nn.softmax(tf.cast(context.model(packed, training=False)["logits"], tf.float32), axis=-1)
    # Each token's window: where it has its maximum context; its packed position is 1 + offset in the window.
    is_max = max_context_mask(example, window_start, window_length, batch_size)  # [windows, (length)]
    token_flat = flat_index.flat_values  # [window tokens], index into the flat tokens
    chosen = tf.boolean_mask(tf.stack([tf.cast(is_max.value_rowids(), tf.int32),
                                       tf.cast(tf.ragged.range(window_length).flat_values, tf.int32) + 1,
                                       token_flat], axis=1), is_max.flat_values)  # [tokens, 3]
    token_window = tf.scatter_nd(chosen[:, 2:], chosen[:, 0], tf.shape(token_ids.flat_values))  # [tokens]
    token_position = tf.scatter_nd(chosen[:, 2:], chosen[:, 1], tf.shape(token_ids.flat_values))
    word_window = tf.gather(token_window, first_flat)  # [all kept words]
    word_position = tf.gather(token_position, first_flat)
    word_probabilities = tf.gather_nd(probabilities, tf.stack([word_window, word_position], axis=1))  # [w, tags]
    word_tag = tf.argmax(word_probabilities, axis=-1, output_type=tf.int32)
    as_rows = lambda values: words.words.with_flat_values(values)  # noqa: E731
    return {
        names.WORDS: words.words.to_tensor(default_value=""),
        names.TAGS: as_rows(tf.gather(_tag_names(context), word_tag)).to_tensor(default_value=""),
        names.TAG_IDS: as_rows(word_tag).to_tensor(default_value=0),
        names.TAG_PROBABILITIES: as_rows(tf.reduce_max(word_probabilities, axis=-1)).to_tensor(default_value=0.0),
        names.WORD_STARTS: starts.to_tensor(default_value=-1),
        names.WORD_ENDS: ends.to_tensor(default_value=-1),
    }


def _unknown_if_empty(pieces: tf.RaggedTensor, unk_id: int) -> tf.RaggedTensor:
    """A word without pieces (only deleted characters) gets one [UNK], as `tagging_features` gives it."""
    words = pieces.values  # [all words, (pieces)]
    with_unknown = tf.concat([words, tf.fill([words.nrows(), 1], tf.constant(unk_id, words.dtype))], axis=1)
    keep = tf.maximum(words.row_lengths(), 1)  # [all words]
    kept = tf.ragged.boolean_mask(with_unknown, tf.ragged.range(words.row_lengths() + 1) < keep[:, tf.newaxis])
    return pieces.with_values(kept)


def _tag_text_signature(context):
    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=names.TEXT)], autograph=False)
    def tag(texts):
        return tag_text(context, texts)

    return tag


# === Registration ===

def _needs_task(*tasks):
    def reason(model) -> str | None:
        task = getattr(model, "task", None)
        if task in tasks:
            return None
        received = f"a {task} model" if task else "a pretrained model"
        return f"needs a fine-tuned {' or '.join(tasks)} model; received {received}."

    return reason


register_signature(SignatureSpec(
    names.CLASSIFY, classify, text_signature=_classify_text_signature,
    unavailable_reason=_needs_task("classification", "regression"),
    description="label and class probabilities (regression: score) of a text or a pair",
))
register_signature(SignatureSpec(
    names.ANSWER, answer_ids, text_inputs=(names.QUESTION, names.CONTEXT), text_signature=_answer_text_signature,
    unavailable_reason=_needs_task("qa"),
    description="the answer to a question in a context: text, character offsets, score",
))
register_signature(SignatureSpec(
    names.TAG, tag_ids, text_signature=_tag_text_signature, unavailable_reason=_needs_task("tagging"),
    description="a tag for every word, with the words' character spans",
))
