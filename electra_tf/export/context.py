"""`ExportContext`: what a signature's computation may use — the model, the tokenizer and export settings.

Example:
>>> context = ExportContext(pretrainer, tokenizer, seq_length=128, top_k=10, bucket_size=16)  # doctest: +SKIP
>>> context.pack_texts([tf.constant(["the cat sat"])])["input_word_ids"].shape  # doctest: +SKIP
TensorShape([1, 16])
>>> context.id_to_token(tf.constant([[101, 102]]))  # doctest: +SKIP
<tf.Tensor: shape=(1, 2), dtype=string, numpy=array([[b'[CLS]', b'[SEP]']], dtype=object)>
"""

from __future__ import annotations

import tensorflow as tf

from electra_tf.export import names
from electra_tf.export.text_packing import tokenize_keeping_mask_token
from electra_tf.input_packing import pack_inputs

# Raw-text signatures pad a batch to its longest packed text rounded up to a multiple of this.
DEFAULT_BUCKET_SIZE = 16


class ExportContext:
    """The model, tokenizer and settings shared by the signatures of one export.

    Args:
        model: the exported model (an `ElectraPretrainer` for the pretrained signatures).
        tokenizer: `electra_tf.Tokenizer` whose vocabulary is copied into the SavedModel's assets.
        seq_length: int. Length texts are truncated to, and the longest packed batch.
        top_k: int. Candidates per `[MASK]` returned by `fill_mask`.
        vocab_size: int. Rows of the model's output vocabulary; ids past the tokenizer's vocabulary (a table
            padded for hardware efficiency) read as `[UNK]`.
        bucket_size: int. `pack_texts` pads a batch to its longest packed text rounded up to a multiple of
            this, at most `seq_length`; 0 pads every batch to `seq_length` (the fixed-length export).
        task: dict | None. A fine-tuned model's task settings (its model directory's `task.json`: `task`,
            `labels`, `max_answer_length`, ...), read by the task signatures; None for a pretrained model.
    """

    def __init__(self, model, tokenizer, seq_length: int, top_k: int, vocab_size: int | None = None,
                 bucket_size: int = DEFAULT_BUCKET_SIZE, task: dict | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.seq_length = int(seq_length)
        self.top_k = int(top_k)
        self.bucket_size = int(bucket_size)
        self.task = dict(task or {})
        vocab = tokenizer.vocab
        padding = max(0, (vocab_size or len(vocab)) - len(vocab))
        self.token_table = tf.constant(vocab + ["[UNK]"] * padding, dtype=tf.string)  # [vocab_size]

    def id_to_token(self, ids: tf.Tensor) -> tf.Tensor:
        """Token strings of int ids, same shape."""
        return tf.gather(self.token_table, ids)

    def pack_texts(self, texts: list[tf.Tensor], keep_mask_token: bool = False) -> dict[str, tf.Tensor]:
        """Tokenizes one or two string `[batch]` tensors and packs them as `[CLS] A [SEP] (B [SEP])`.

        Texts are truncated to `seq_length` tokens. The batch is padded to its longest packed text rounded up
        to a multiple of `bucket_size` (capped at `seq_length`), or to `seq_length` when `bucket_size` is 0;
        so every raw-text signature's per-token outputs are `[batch, bucketed length]`.

        Args:
            texts: list of one or two tf.Tensor string [batch]: the segments of each example.
            keep_mask_token: bool. Read the literal `[MASK]` as the mask id.

        Returns:
            dict of int32 [batch, length] `input_word_ids`, `input_mask`, `input_type_ids`; `length` is
            `seq_length` or the batch's bucket (`electra_tf.input_packing.bucketed_length`).
        """
        if keep_mask_token:
            segments = [tokenize_keeping_mask_token(self.tokenizer, text) for text in texts]
        else:
            segments = [self.tokenizer.tokenize(text) for text in texts]
        tokenizer = self.tokenizer
        return pack_inputs(
            segments[0], segments[1] if len(segments) > 1 else None, seq_length=self.seq_length,
            cls_id=tokenizer.cls_id, sep_id=tokenizer.sep_id, pad_id=tokenizer.pad_id, bucket_size=self.bucket_size,
        )

    @staticmethod
    def id_input_specs() -> dict[str, tf.TensorSpec]:
        """TensorSpecs of the three TF Hub BERT inputs, int32 `[batch, seq]` of any length."""
        return {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in names.ID_INPUTS}
