"""`Client`: call a served ELECTRA model (TF Serving or `electra-tf serve`) over gRPC or REST.

Example:
    >>> from electra_serving import Client
    >>> with Client("localhost:8500", "electra") as client:  # doctest: +SKIP
    ...     scores = client.score(["the chef cooked the meal"])
    ...     print(scores[0].tokens, scores[0].replaced_probability)
    ...     fills = client.fill_mask(["the [MASK] cooked the meal"], top_k=3)
    ...     print(fills[0][0].tokens)  # candidates for the first [MASK]
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from electra_serving import signatures as keys
from electra_serving.results import Encoding, MaskFill, ModelMetadata, SignatureInfo, TokenScores, VersionStatus
from electra_serving.results import GeneratedText, RankedText
from electra_serving.results import Answer, Classification, TaggedWord
from electra_serving.retry import RetryPolicy

_TRANSPORTS = ("grpc", "rest")


def _as_array(value) -> np.ndarray:
    array = np.asarray(value)
    if array.dtype.kind in ("U", "S"):
        encoded = np.empty(array.shape, dtype=object)
        encoded.flat[:] = [v.encode("utf-8") if isinstance(v, str) else bytes(v) for v in array.ravel().tolist()]
        return encoded
    return array


def _cast_to_signature(array: np.ndarray, expected: np.dtype | None) -> np.ndarray:
    """Python ints and floats arrive as int64/float64; cast them to what the signature takes."""
    if expected is None or array.dtype == expected or array.dtype == object or expected == object:
        return array
    if array.dtype.kind in "iub" and expected.kind in "iuf" or array.dtype.kind == "f" and expected.kind == "f":
        return array.astype(expected)
    return array


def _concat_padded(chunks: list[np.ndarray]) -> np.ndarray:
    """Joins per-chunk outputs along dimension 0; chunks padded to different lengths are padded to the longest."""
    if len(chunks) == 1:
        return chunks[0]
    target = tuple(max(sizes) for sizes in zip(*(c.shape[1:] for c in chunks)))
    fill = b"" if chunks[0].dtype == object else 0
    padded = [
        np.pad(c, [(0, 0)] + [(0, t - s) for t, s in zip(target, c.shape[1:])], constant_values=fill)
        if c.shape[1:] != target else c
        for c in chunks
    ]
    return np.concatenate(padded, axis=0)


def _texts(texts: str | Sequence[str]) -> list[str]:
    if isinstance(texts, str):
        return [texts]
    texts = list(texts)
    for index, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"texts must be strings; item {index} is {type(text).__name__}: {text!r:.60}.")
    return texts


def _decode(token) -> str:
    return token.decode("utf-8", "replace") if isinstance(token, bytes) else str(token)


class Client:
    """A client for one model on a TF Serving-compatible server.

    Args:
        target: str. `host:port` of the gRPC port (transport "grpc") or of the REST port (transport "rest").
        model_name: str. The served model's name.
        version: int | None. Pin a version; None uses the latest loaded.
        label: str | None. Use a version label (`stable`, `canary`) instead of a number.
        timeout: float. Seconds per call.
        tls: None | True | str | TlsConfig. gRPC only: True uses the system CAs, a str is the path of a PEM CA
            file, a `TlsConfig` sets CA, client certificate and server name.
        transport: "grpc" or "rest".
        max_batch_size: int. Inputs with more rows are sent in several calls of this many rows (keep it at or
            below the server's batching `max_batch_size`).
        retry: RetryPolicy. Backoff on UNAVAILABLE (server restarting, batch queue full).

    Raises:
        ServingError subclasses (`NotFoundError`, `InvalidArgumentError`, ...) from every call.
    """

    def __init__(
        self,
        target: str,
        model_name: str,
        version: int | None = None,
        label: str | None = None,
        timeout: float = 10.0,
        tls=None,
        transport: str = "grpc",
        max_batch_size: int = 32,
        retry: RetryPolicy | None = None,
    ):
        if version is not None and label is not None:
            raise ValueError(f"Give version or label, not both; received version={version}, label={label!r}.")
        if transport not in _TRANSPORTS:
            raise ValueError(f"transport must be one of {_TRANSPORTS}; received {transport!r}.")
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1; received {max_batch_size}.")
        self.model_name = model_name
        self.version = version
        self.label = label
        self.max_batch_size = max_batch_size
        self.retry = retry or RetryPolicy()
        self._signatures: dict[str, SignatureInfo] | None = None
        if transport == "grpc":
            from electra_serving.grpc_transport import GrpcTransport, TlsConfig

            if tls is True:
                tls = TlsConfig()
            elif isinstance(tls, str):
                tls = TlsConfig.from_files(ca_file=tls)
            self._transport = GrpcTransport(target, timeout, tls)
        else:
            if tls:
                raise ValueError("tls is for the gRPC transport; TF Serving's REST API is plain HTTP.")
            from electra_serving.rest_transport import RestTransport

            self._transport = RestTransport(target, timeout)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    # === Model information ===

    def metadata(self) -> ModelMetadata:
        """The signatures of the version this client targets."""
        metadata = self.retry.call(lambda: self._transport.metadata(self.model_name, self.version, self.label))
        self._signatures = metadata.signatures
        return metadata

    def status(self) -> list[VersionStatus]:
        """The state of every version of the model the server knows (or of the pinned version)."""
        return self.retry.call(lambda: self._transport.status(self.model_name, self.version, self.label))

    # === Raw predict ===

    def predict(
        self,
        inputs: Mapping[str, object],
        signature_name: str = keys.SERVING_DEFAULT,
        output_filter: Sequence[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Runs a signature on any inputs, in chunks of `max_batch_size` rows.

        Args:
            inputs: mapping of input alias to array-like ([batch, ...]); str becomes UTF-8 bytes, and Python
                ints/floats are cast to the signature's dtype.
            signature_name: str.
            output_filter: aliases to return (all outputs when None).

        Returns:
            dict of output alias to np.ndarray (strings as `bytes` in object arrays), rows in input order.
        """
        arrays = {alias: _as_array(value) for alias, value in inputs.items()}
        signature = self._signature(signature_name)
        if signature is not None:
            arrays = {
                alias: _cast_to_signature(array, signature.inputs[alias].numpy_dtype
                                          if alias in signature.inputs else None)
                for alias, array in arrays.items()
            }
        sizes = {array.shape[0] if array.ndim else -1 for array in arrays.values()}
        rows = sizes.pop() if len(sizes) == 1 else -1
        if rows <= self.max_batch_size:  # Also scalars and unequal batches: the server explains those.
            return self._predict_once(arrays, signature_name, output_filter)
        chunks = [
            self._predict_once({k: v[start : start + self.max_batch_size] for k, v in arrays.items()},
                               signature_name, output_filter)
            for start in range(0, rows, self.max_batch_size)
        ]
        return {alias: _concat_padded([chunk[alias] for chunk in chunks]) for alias in chunks[0]}

    def _predict_once(self, arrays, signature_name, output_filter) -> dict[str, np.ndarray]:
        outputs, _ = self.retry.call(
            lambda: self._transport.predict(self.model_name, self.version, self.label, signature_name, arrays,
                                            list(output_filter) if output_filter else None)
        )
        return outputs

    def _signature(self, signature_name: str) -> SignatureInfo | None:
        if self._signatures is None:
            self.metadata()
        return self._signatures.get(signature_name)

    # === ELECTRA signatures ===

    def score(self, texts: str | Sequence[str]) -> list[TokenScores]:
        """Replaced-token detection: per text, its tokens and the probability that each was replaced."""
        texts = _texts(texts)
        outputs = self.predict({keys.TEXT: texts}, keys.SERVING_DEFAULT)
        tokens, probabilities = outputs[keys.TOKENS], outputs[keys.REPLACED_PROBABILITY]
        mask = outputs.get(keys.INPUT_MASK)
        results = []
        for row in range(len(texts)):
            length = int(mask[row].sum()) if mask is not None else sum(1 for t in tokens[row] if t)
            results.append(TokenScores([_decode(t) for t in tokens[row][:length]], probabilities[row][:length]))
        return results

    def fill_mask(self, texts: str | Sequence[str], top_k: int = 5) -> list[list[MaskFill]]:
        """Per text, per `[MASK]` in it (in order), the `top_k` most likely tokens from the generator.

        Raises:
            ValueError: `top_k` is larger than the k the model was exported with.
        """
        texts = _texts(texts)
        outputs = self.predict({keys.TEXT: texts}, keys.FILL_MASK)
        top_tokens, top_probabilities = outputs[keys.TOP_TOKENS], outputs[keys.TOP_PROBABILITIES]
        top_ids = outputs.get(keys.TOP_IDS)
        if top_k > top_tokens.shape[-1]:
            raise ValueError(f"top_k={top_k} but the model returns {top_tokens.shape[-1]} candidates per mask; "
                             f"ask for top_k <= {top_tokens.shape[-1]} or export with a larger k.")
        positions = outputs.get(keys.MASK_POSITIONS)  # -1 pads rows with fewer masks than the batch's most
        results = []
        for row, text in enumerate(texts):
            if positions is not None:
                masks = int((positions[row] >= 0).sum())
            else:  # a model exported without mask_positions: count the markers (truncation unseen)
                masks = min(text.count(keys.MASK_TOKEN), top_tokens.shape[1])
            results.append([
                MaskFill([_decode(t) for t in top_tokens[row, m, :top_k]], top_probabilities[row, m, :top_k],
                         top_ids[row, m, :top_k] if top_ids is not None else None)
                for m in range(masks)
            ])
        return results

    def infill(self, texts: str | Sequence[str]) -> list[GeneratedText]:
        """Per text, its `[MASK]` gaps filled by iterative mask-predict (the `infill` signature; greedy)."""
        texts = _texts(texts)
        return self._generated(texts, self.predict({keys.TEXT: texts}, keys.INFILL))

    def generate(self, prefixes: str | Sequence[str], num_tokens: int | Sequence[int]) -> list[GeneratedText]:
        """Per prefix, `num_tokens` word pieces appended by mask-predict, candidates reranked by the discriminator.

        Args:
            prefixes: one text or a list; `[MASK]`s in them are filled too.
            num_tokens: int for every prefix, or one per prefix.
        """
        prefixes = _texts(prefixes)
        counts = [num_tokens] * len(prefixes) if isinstance(num_tokens, int) else list(num_tokens)
        if len(counts) != len(prefixes):
            raise ValueError(f"num_tokens must be an int or one per prefix: received {len(counts)} for "
                             f"{len(prefixes)} prefixes.")
        outputs = self.predict({keys.TEXT: prefixes, keys.NUM_TOKENS: np.array(counts, np.int32)}, keys.GENERATE)
        return self._generated(prefixes, outputs)

    def rerank(self, candidates: str | Sequence[str]) -> list[RankedText]:
        """Candidates (e.g. an ASR or MT n-best list) most natural first, by the discriminator.

        Naturalness is the mean over a candidate's tokens ([CLS]/[SEP] excluded) of log P(original) =
        log(1 - replaced_probability), as `electra_tf.scoring.naturalness` computes it.
        """
        candidates = _texts(candidates)
        scored = []
        for index, (text, scores) in enumerate(zip(candidates, self.score(candidates))):
            inner = np.asarray(scores.replaced_probability[1:-1], np.float64)
            value = float(np.mean(np.log(np.maximum(1.0 - inner, 1e-30)))) if inner.size else 0.0
            scored.append(RankedText(text, value, index))
        return sorted(scored, key=lambda ranked: (-ranked.naturalness, ranked.index))

    @staticmethod
    def _generated(texts: list[str], outputs: dict[str, np.ndarray]) -> list[GeneratedText]:
        results = []
        for row in range(len(texts)):
            length = int(outputs[keys.INPUT_MASK][row].sum())
            results.append(GeneratedText(
                text=_decode(outputs[keys.OUTPUT_TEXT][row]),
                candidates=[_decode(t) for t in outputs[keys.CANDIDATE_TEXTS][row]],
                scores=outputs[keys.CANDIDATE_SCORES][row],
                tokens=[_decode(t) for t in outputs[keys.TOKENS][row][:length]],
                generated=outputs[keys.GENERATED][row][:length] > 0,
            ))
        return results

    def encode(self, texts: str | Sequence[str]) -> Encoding:
        """Sentence vectors ([texts, hidden]) and token vectors ([texts, seq, hidden]) of the discriminator."""
        outputs = self.predict({keys.TEXT: _texts(texts)}, keys.ENCODE)
        return Encoding(outputs[keys.POOLED_OUTPUT], outputs[keys.SEQUENCE_OUTPUT], outputs.get(keys.INPUT_MASK))

    # === Fine-tuned models: classify, answer, tag ===

    def classify(self, texts: str | Sequence[str], texts_b: str | Sequence[str] | None = None) -> list[Classification]:
        """Per text (or pair, for a model fine-tuned on pairs), its label and class probabilities.

        Args:
            texts: one text or a list.
            texts_b: the second texts of a pair task, as many as `texts` (one str pairs with every text).

        Returns:
            list[Classification]; a regression model fills `score` instead of `label`.
        """
        texts = _texts(texts)
        inputs = {keys.TEXT: texts}
        if texts_b is not None:
            texts_b = [texts_b] * len(texts) if isinstance(texts_b, str) else _texts(texts_b)
            if len(texts_b) != len(texts):
                raise ValueError(f"texts_b must match texts: received {len(texts_b)} second texts for "
                                 f"{len(texts)} texts.")
            inputs[keys.TEXT_B] = texts_b
        outputs = self.predict(inputs, keys.CLASSIFY)
        if keys.SCORE in outputs and keys.LABEL not in outputs:  # a regression model
            return [Classification(None, None, {}, float(score)) for score in outputs[keys.SCORE]]
        results = []
        for row in range(len(texts)):
            names = [_decode(label) for label in outputs[keys.LABELS][row]]
            probabilities = {name: float(p) for name, p in zip(names, outputs[keys.PROBABILITIES][row])}
            results.append(Classification(_decode(outputs[keys.LABEL][row]), int(outputs[keys.LABEL_ID][row]),
                                          probabilities))
        return results

    def answer(self, questions: str | Sequence[str], contexts: str | Sequence[str]) -> list[Answer]:
        """Per question, its answer in its context (one context str is used for every question).

        Returns:
            list[Answer]: `text == context[start:end]`; `has_answer` is False (text "", start = end = -1) when a
            SQuAD 2.0 model finds no answer.
        """
        questions = _texts(questions)
        contexts = [contexts] * len(questions) if isinstance(contexts, str) else _texts(contexts)
        if len(contexts) != len(questions):
            raise ValueError(f"contexts must match questions: received {len(contexts)} contexts for "
                             f"{len(questions)} questions.")
        outputs = self.predict({keys.QUESTION: questions, keys.CONTEXT: contexts}, keys.ANSWER)
        null = outputs.get(keys.NULL_SCORE_DIFF)
        return [
            Answer(_decode(outputs[keys.ANSWER][row]), int(outputs[keys.ANSWER_START][row]),
                   int(outputs[keys.ANSWER_END][row]), float(outputs[keys.SCORE][row]),
                   float(null[row]) if null is not None else 0.0)
            for row in range(len(questions))
        ]

    def tag(self, texts: str | Sequence[str]) -> list[list[TaggedWord]]:
        """Per text, its words with their tags and character spans (`text[word.start:word.end] == word.word`)."""
        texts = _texts(texts)
        outputs = self.predict({keys.TEXT: texts}, keys.TAG)
        words, tags = outputs[keys.WORDS], outputs[keys.TAGS]
        starts, ends = outputs[keys.WORD_STARTS], outputs[keys.WORD_ENDS]
        probabilities = outputs.get(keys.TAG_PROBABILITIES)
        results = []
        for row in range(len(texts)):
            count = sum(1 for word in words[row] if len(word))  # "" pads rows with fewer words
            results.append([
                TaggedWord(_decode(words[row][i]), _decode(tags[row][i]), int(starts[row][i]), int(ends[row][i]),
                           float(probabilities[row][i]) if probabilities is not None else 1.0)
                for i in range(count)
            ])
        return results
