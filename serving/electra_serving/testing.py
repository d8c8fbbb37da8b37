"""Stand-in SavedModels with the exported ELECTRA signatures, for tests and benchmarks of the serving stack.

`save_text_model` writes a small transformer encoder as a SavedModel with the signatures (and the input and
output keys of `electra_serving.signatures`) that `electra-tf export` produces: `serving_default` /
`replaced_token_detection`, `fill_mask`, `encode`, each on raw text, and their `*_ids` twins on token ids.
Tokenization is whitespace splitting plus hashing into the vocabulary, so no vocabulary file is needed;
`[MASK]` maps to id 1, padding to id 0. With ELECTRA-Small's sizes (`ModelSize.small()`) one call costs what
ELECTRA-Small costs, which is what the benchmark needs before a real export exists. `copy_version`
publishes another version atomically; `free_port` finds a port for a test server.

Example:
    >>> path = save_text_model("/tmp/models/demo", version=1, size=ModelSize.tiny())  # doctest: +SKIP
    >>> import tensorflow as tf  # doctest: +SKIP
    >>> tf.saved_model.load(path).signatures["fill_mask"](text=tf.constant(["a [MASK] b"]))  # doctest: +SKIP
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass

import tensorflow as tf

from electra_serving import signatures as keys

PAD_ID = 0
MASK_ID = 1


@dataclass(frozen=True)
class ModelSize:
    """Encoder sizes: vocabulary, hidden width, layers, attention heads, feed-forward width, sequence cap."""

    vocab_size: int
    hidden_size: int
    num_layers: int
    num_heads: int
    intermediate_size: int
    max_seq_length: int
    top_k: int = 5

    @classmethod
    def tiny(cls) -> "ModelSize":
        return cls(vocab_size=64, hidden_size=16, num_layers=1, num_heads=2, intermediate_size=32, max_seq_length=32)

    @classmethod
    def small(cls) -> "ModelSize":
        """ELECTRA-Small's discriminator: 12 layers, hidden 256, 4 heads, FFN 1024, 30522 tokens, 128 positions."""
        return cls(vocab_size=30522, hidden_size=256, num_layers=12, num_heads=4, intermediate_size=1024,
                   max_seq_length=128)


class _TextEncoderModule(tf.Module):
    """Post-LayerNorm transformer blocks over hashed whitespace tokens; weights drawn from `seed`."""

    def __init__(self, size: ModelSize, seed: int):
        super().__init__()
        self.size = size
        h, f = size.hidden_size, size.intermediate_size

        def weight(shape, index):
            return tf.Variable(tf.random.stateless_normal(shape, seed=[seed, index], stddev=0.02))

        self.embeddings = weight([size.vocab_size, h], 0)
        self.positions = weight([size.max_seq_length, h], 1)
        self.layers = []
        for i in range(size.num_layers):
            base = 10 + 10 * i
            self.layers.append(
                {name: weight(shape, base + j) for j, (name, shape) in enumerate(
                    [("q", [h, h]), ("k", [h, h]), ("v", [h, h]), ("o", [h, h]), ("in", [h, f]), ("out", [f, h])])}
            )
        self.rtd_head = weight([h, 1], 2)
        self.vocabulary = tf.constant([f"tok{i}" for i in range(size.vocab_size)])

    @staticmethod
    def _layer_norm(x):
        mean, variance = tf.nn.moments(x, axes=[-1], keepdims=True)
        return (x - mean) * tf.math.rsqrt(variance + 1e-12)

    def _tokenize(self, text):
        words = tf.strings.split(text)[:, : self.size.max_seq_length]  # ragged [batch, words]
        hashed = tf.strings.to_hash_bucket_fast(words, self.size.vocab_size - 2) + 2
        ids = tf.where(tf.equal(words, keys.MASK_TOKEN), tf.cast(MASK_ID, tf.int64), hashed)
        tokens = words.to_tensor(default_value="")  # [batch, seq]
        word_ids = tf.cast(ids.to_tensor(default_value=PAD_ID), tf.int32)  # [batch, seq]
        input_mask = tf.cast(tf.not_equal(tokens, ""), tf.int32)
        return tokens, word_ids, input_mask

    def _encode(self, word_ids, input_mask, type_ids):
        seq = tf.shape(word_ids)[1]
        h, heads = self.size.hidden_size, self.size.num_heads
        x = tf.gather(self.embeddings, word_ids) + self.positions[tf.newaxis, :seq]  # [batch, seq, hidden]
        x = self._layer_norm(x + 0.01 * tf.cast(type_ids, tf.float32)[..., tf.newaxis])
        bias = (1.0 - tf.cast(input_mask, tf.float32))[:, tf.newaxis, tf.newaxis, :] * -1e4  # [batch, 1, 1, seq]

        def split_heads(t):  # [batch, seq, hidden] -> [batch, heads, seq, head_dim]
            return tf.transpose(tf.reshape(t, [tf.shape(t)[0], seq, heads, h // heads]), [0, 2, 1, 3])

        for layer in self.layers:
            q, k, v = (split_heads(tf.einsum("bsh,hd->bsd", x, layer[n])) for n in ("q", "k", "v"))
            scores = tf.matmul(q, k, transpose_b=True) / float((h // heads) ** 0.5) + bias
            context = tf.matmul(tf.nn.softmax(scores), v)  # [batch, heads, seq, head_dim]
            context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [tf.shape(x)[0], seq, h])
            x = self._layer_norm(x + tf.einsum("bsh,hd->bsd", context, layer["o"]))
            ffn = tf.nn.gelu(tf.einsum("bsh,hf->bsf", x, layer["in"]), approximate=False)
            x = self._layer_norm(x + tf.einsum("bsf,fh->bsh", ffn, layer["out"]))
        return x

    def _rtd(self, tokens, word_ids, input_mask):
        sequence = self._encode(word_ids, input_mask, tf.zeros_like(word_ids))
        logits = tf.einsum("bsh,ho->bso", sequence, self.rtd_head)[..., 0]
        probability = tf.sigmoid(logits) * tf.cast(input_mask, tf.float32)
        return {keys.TOKENS: tokens, keys.REPLACED_PROBABILITY: probability, keys.INPUT_MASK: input_mask}

    def _fill_mask(self, word_ids, input_mask):
        sequence = self._encode(word_ids, input_mask, tf.zeros_like(word_ids))
        is_mask = tf.equal(word_ids, MASK_ID)
        positions = tf.ragged.boolean_mask(tf.broadcast_to(tf.range(tf.shape(word_ids)[1]), tf.shape(word_ids)),
                                           is_mask).to_tensor(default_value=0)  # [batch, masks]
        gathered = tf.gather(sequence, positions, batch_dims=1)  # [batch, masks, hidden]
        probabilities = tf.nn.softmax(tf.einsum("bmh,vh->bmv", gathered, self.embeddings))
        top = tf.math.top_k(probabilities, k=self.size.top_k)  # [batch, masks, k]
        return {keys.TOP_TOKENS: tf.gather(self.vocabulary, top.indices), keys.TOP_PROBABILITIES: top.values,
                keys.TOP_IDS: top.indices}

    def _encode_outputs(self, word_ids, input_mask, type_ids):
        sequence = self._encode(word_ids, input_mask, type_ids)
        return {keys.POOLED_OUTPUT: sequence[:, 0], keys.SEQUENCE_OUTPUT: sequence, keys.INPUT_MASK: input_mask}

    def signatures(self) -> dict:
        text_spec = tf.TensorSpec([None], tf.string, name=keys.TEXT)
        ids_specs = [tf.TensorSpec([None, None], tf.int32, name=n)
                     for n in (keys.INPUT_WORD_IDS, keys.INPUT_MASK, keys.INPUT_TYPE_IDS)]

        @tf.function(input_signature=[text_spec])
        def replaced_token_detection(text):
            return self._rtd(*self._tokenize(text))

        @tf.function(input_signature=[text_spec])
        def fill_mask(text):
            _, word_ids, input_mask = self._tokenize(text)
            return self._fill_mask(word_ids, input_mask)

        @tf.function(input_signature=[text_spec])
        def encode(text):
            _, word_ids, input_mask = self._tokenize(text)
            return self._encode_outputs(word_ids, input_mask, tf.zeros_like(word_ids))

        @tf.function(input_signature=ids_specs)
        def replaced_token_detection_ids(input_word_ids, input_mask, input_type_ids):
            tokens = tf.gather(self.vocabulary, input_word_ids)
            return self._rtd(tokens, input_word_ids, input_mask)

        @tf.function(input_signature=ids_specs)
        def fill_mask_ids(input_word_ids, input_mask, input_type_ids):
            return self._fill_mask(input_word_ids, input_mask)

        @tf.function(input_signature=ids_specs)
        def encode_ids(input_word_ids, input_mask, input_type_ids):
            return self._encode_outputs(input_word_ids, input_mask, input_type_ids)

        return {
            keys.SERVING_DEFAULT: replaced_token_detection,
            keys.REPLACED_TOKEN_DETECTION: replaced_token_detection,
            keys.FILL_MASK: fill_mask,
            keys.ENCODE: encode,
            keys.token_ids_twin(keys.REPLACED_TOKEN_DETECTION): replaced_token_detection_ids,
            keys.token_ids_twin(keys.FILL_MASK): fill_mask_ids,
            keys.token_ids_twin(keys.ENCODE): encode_ids,
        }


def save_text_model(base_path: str, version: int, size: ModelSize | None = None, seed: int | None = None) -> str:
    """Writes `<base_path>/<version>/` atomically (a temporary folder renamed into place); returns its path.

    Args:
        base_path: str. The model's folder (created if absent).
        version: int. The version folder name.
        size: ModelSize. Defaults to `ModelSize.tiny()`.
        seed: int | None. Weight seed; defaults to `version`, so versions give different outputs.
    """
    module = _TextEncoderModule(size or ModelSize.tiny(), version if seed is None else seed)
    os.makedirs(base_path, exist_ok=True)
    target = os.path.join(base_path, str(version))
    staging = tempfile.mkdtemp(prefix=f".{version}-", dir=base_path)  # Not an integer name: never polled.
    try:
        tf.saved_model.save(module, staging, signatures=module.signatures())
        os.rename(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago (for test servers)."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def copy_version(base_path: str, source_version: int, new_version: int) -> str:
    """Publishes a copy of one version under a new number, atomically (copy to a hidden folder, rename)."""
    staging = tempfile.mkdtemp(prefix=f".{new_version}-", dir=base_path)
    shutil.copytree(os.path.join(base_path, str(source_version)), staging, dirs_exist_ok=True)
    target = os.path.join(base_path, str(new_version))
    os.rename(staging, target)
    return target
