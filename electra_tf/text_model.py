"""`TextModel`: a pretrained ELECTRA pair with its tokenizer, the object generation and scoring work on.

It packs raw text (keeping the literal `[MASK]` as the mask id when asked), checks that the networks a task
needs are there, and loads a model directory with a clear error for one that cannot generate or score
(a fine-tuned model, an MLM baseline for scoring).

Example:
>>> model = TextModel.load("runs/tiny/final")  # doctest: +SKIP
>>> inputs = model.pack(["the [MASK] sat"], keep_mask_token=True)  # doctest: +SKIP
>>> inputs["input_word_ids"].shape  # doctest: +SKIP
TensorShape([1, 128])
"""

from __future__ import annotations

import os

from electra_tf.errors import InputError

MASK_TOKEN = "[MASK]"  # how a text marks a position to fill (upper case, as in the vocabulary)


class TextModel:
    """An `ElectraPretrainer` with its `Tokenizer` and the length texts are packed to.

    Args:
        pretrainer: `ElectraPretrainer` (or any model with `generator` / `discriminator` attributes and a
            `config`).
        tokenizer: `electra_tf.Tokenizer` the model was trained with.
        seq_length: int | None. Length every text is packed (and truncated) to; defaults to the config's.
        source: str. Where the model came from, for error messages.

    Example:
    >>> model = TextModel(pretrainer, tokenizer, seq_length=32)  # doctest: +SKIP
    >>> model.require_generator("fill-mask") is model.pretrainer.generator  # doctest: +SKIP
    True
    """

    def __init__(self, pretrainer, tokenizer, seq_length: int | None = None, source: str = "the model"):
        self.pretrainer = pretrainer
        self.tokenizer = tokenizer
        self.config = pretrainer.config
        self.seq_length = int(seq_length or self.config.seq_length)
        self.source = source
        if not 3 <= self.seq_length <= self.config.max_position_embeddings:
            raise InputError(
                f"Expected seq_length in [3, {self.config.max_position_embeddings}] (the model's position table). "
                f"Received: seq_length={self.seq_length}"
            )
        self._functions = {}  # traced tf.functions, by name and static settings

    @classmethod
    def load(cls, model_dir: str | os.PathLike, seq_length: int | None = None) -> "TextModel":
        """Loads a model directory (`electra_tf.model_dir`) with its vocabulary.

        Raises:
            InputError: not a model directory, a fine-tuned model (no generator or discriminator), or no
                vocabulary.
        """
        from electra_tf.model_dir import WEIGHTS_FILE, load_model_dir

        path = os.fspath(model_dir)
        final = os.path.join(path, "final")  # a run directory (`electra-tf pretrain --out`): its final model
        if os.path.isfile(os.path.join(final, "config.json")) and not os.path.isfile(os.path.join(path, WEIGHTS_FILE)):
            path = final
        if os.path.isfile(os.path.join(path, "task.json")) or (
            os.path.isfile(os.path.join(path, "config.json")) and not os.path.isfile(os.path.join(path, WEIGHTS_FILE))
        ):
            raise InputError(
                f"{path!r} holds no generator: it is a fine-tuned model (no {WEIGHTS_FILE}). Expected a pretrained "
                "model directory (`electra-tf pretrain` or `electra-tf convert` output)."
            )
        pretrainer, tokenizer = load_model_dir(path)
        if tokenizer is None:
            raise InputError(f"Model directory {path!r} has no vocab.txt; generation and scoring need it.")
        return cls(pretrainer, tokenizer, seq_length=seq_length, source=path)

    # --- What a task needs ---

    def require_generator(self, task: str):
        """The generator network; InputError when the model has none."""
        generator = getattr(self.pretrainer, "generator", None)
        if generator is None:
            raise InputError(f"{task} needs a generator, and {self.source} has none.")
        return generator

    def require_discriminator(self, task: str):
        """The discriminator network; InputError for an MLM baseline, which has none."""
        discriminator = getattr(self.pretrainer, "discriminator", None)
        if discriminator is None:
            raise InputError(
                f"{task} needs a discriminator, and {self.source} has none (it was pretrained with objective='mlm')."
            )
        return discriminator

    # --- Text in ---

    def pack(self, texts: list[str], keep_mask_token: bool = False) -> dict:
        """Tokenizes and packs texts as `[CLS] text [SEP]`, int32 `[batch, seq_length]` each.

        Args:
            texts: list of str.
            keep_mask_token: bool. Read the literal `[MASK]` as the mask id.
        """
        import tensorflow as tf

        texts_tensor = tf.constant(list(texts), dtype=tf.string)
        if keep_mask_token:
            from electra_tf.export.text_packing import tokenize_keeping_mask_token

            segments = tokenize_keeping_mask_token(self.tokenizer, texts_tensor)
        else:
            segments = self.tokenizer.tokenize(texts_tensor)
        return self.tokenizer.pack(segments, seq_length=self.seq_length)

    def check_texts(self, texts, what: str = "text") -> list[str]:
        """The texts as a list; InputError for none, a non-string or an empty (blank) one."""
        if isinstance(texts, str):
            texts = [texts]
        texts = list(texts)
        if not texts:
            raise InputError(f"No {what}s given. Expected at least one.")
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise InputError(f"Expected each {what} to be a string; item {index} is {type(text).__name__}.")
            if not text.strip():
                raise InputError(f"{what.capitalize()} {index + 1} is empty. Expected some words.")
        return texts

    def check_masks(self, texts: list[str], inputs: dict, needed: bool = True) -> list[int]:
        """Masks per text after packing; InputError when a text has none (and `needed`) or lost some to truncation."""
        import numpy as np

        word_ids = inputs["input_word_ids"].numpy()
        counts = []
        for index, text in enumerate(texts):
            written = text.count(MASK_TOKEN)
            kept = int(np.sum(word_ids[index] == self.tokenizer.mask_id))
            if needed and written == 0:
                raise InputError(
                    f"Text {index + 1} has no {MASK_TOKEN}: {text!r:.80}. Mark each gap with {MASK_TOKEN}."
                )
            if kept < written:
                raise InputError(
                    f"Text {index + 1} has {written} {MASK_TOKEN} but only {kept} fit in the sequence of "
                    f"{self.seq_length} tokens. Expected fewer masks or a shorter text."
                )
            counts.append(kept)
        return counts

    def function(self, key, build):
        """A traced function cached under `key` (built by `build()` on first use)."""
        if key not in self._functions:
            self._functions[key] = build()
        return self._functions[key]
