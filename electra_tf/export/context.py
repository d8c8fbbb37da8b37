"""`ExportContext`: what a signature's computation may use — the model, the tokenizer and export settings.

Example:
>>> context = ExportContext(pretrainer, tokenizer, seq_length=128, top_k=10)  # doctest: +SKIP
>>> context.id_to_token(tf.constant([[101, 102]]))  # doctest: +SKIP
<tf.Tensor: shape=(1, 2), dtype=string, numpy=array([[b'[CLS]', b'[SEP]']], dtype=object)>
"""

from __future__ import annotations

import tensorflow as tf

from electra_tf.export import names
from electra_tf.export.text_packing import tokenize_keeping_mask_token


class ExportContext:
    """The model, tokenizer and settings shared by the signatures of one export.

    Args:
        model: the exported model (an `ElectraPretrainer` for the pretrained signatures).
        tokenizer: `electra_tf.Tokenizer` whose vocabulary is copied into the SavedModel's assets.
        seq_length: int. Length every text is packed (and truncated) to.
        top_k: int. Candidates per `[MASK]` returned by `fill_mask`.
        vocab_size: int. Rows of the model's output vocabulary; ids past the tokenizer's vocabulary (a table
            padded for hardware efficiency) read as `[UNK]`.
    """

    def __init__(self, model, tokenizer, seq_length: int, top_k: int, vocab_size: int | None = None):
        self.model = model
        self.tokenizer = tokenizer
        self.seq_length = int(seq_length)
        self.top_k = int(top_k)
        vocab = tokenizer.vocab
        padding = max(0, (vocab_size or len(vocab)) - len(vocab))
        self.token_table = tf.constant(vocab + ["[UNK]"] * padding, dtype=tf.string)  # [vocab_size]

    def id_to_token(self, ids: tf.Tensor) -> tf.Tensor:
        """Token strings of int ids, same shape."""
        return tf.gather(self.token_table, ids)

    def pack_texts(self, texts: list[tf.Tensor], keep_mask_token: bool = False) -> dict[str, tf.Tensor]:
        """Tokenizes one or two string `[batch]` tensors and packs them as `[CLS] A [SEP] (B [SEP])`.

        Args:
            texts: list of one or two tf.Tensor string [batch]: the segments of each example.
            keep_mask_token: bool. Read the literal `[MASK]` as the mask id.

        Returns:
            dict of int32 [batch, seq_length] `input_word_ids`, `input_mask`, `input_type_ids`.
        """
        if keep_mask_token:
            segments = [tokenize_keeping_mask_token(self.tokenizer, text) for text in texts]
        else:
            segments = [self.tokenizer.tokenize(text) for text in texts]
        return self.tokenizer.pack(segments[0], segments[1] if len(segments) > 1 else None, self.seq_length)

    @staticmethod
    def id_input_specs() -> dict[str, tf.TensorSpec]:
        """TensorSpecs of the three TF Hub BERT inputs, int32 `[batch, seq]` of any length."""
        return {name: tf.TensorSpec([None, None], tf.int32, name=name) for name in names.ID_INPUTS}
