"""What `electra-tf predict` prints: one JSON object per text, for each ELECTRA signature.

Example:
    >>> for line in predict_lines(["the [MASK] barked"], target="localhost:8500", model="electra",
    ...                           signature="fill_mask"):  # doctest: +SKIP
    ...     print(line)
    {"text": "the [MASK] barked", "masks": [{"tokens": ["dog", ...], "probabilities": [0.91, ...]}]}
"""

from __future__ import annotations

import json
from typing import Iterator

import numpy as np

from electra_serving import signatures as keys
from electra_serving.client import Client


def _plain(value):
    """numpy values and bytes as JSON-ready Python values."""
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, (np.floating, float)):
        return round(float(value), 6)
    if isinstance(value, np.integer):
        return int(value)
    return value


def predict_lines(texts: list[str], *, target: str, model: str, signature: str = keys.SERVING_DEFAULT,
                  version: int | None = None, label: str | None = None, transport: str = "grpc", top_k: int = 5,
                  timeout: float = 30.0, tls: str | None = None, batch_size: int = 32,
                  texts_b: list[str] | None = None, context: str | None = None) -> Iterator[str]:
    """Queries the server and yields one JSON line per text (`{"text": ..., <results>}`).

    `classify` pairs each text with `texts_b` (pair tasks); `answer` reads each text as a question about
    `context` and yields `{"question": ..., "answer": ..., "start": ..., "end": ..., "score": ...}`.
    `serving_default` of a fine-tuned export is its task's signature (`classify`, `answer` or `tag`, told
    apart by their outputs in the model's metadata); of a pretrained one, replaced-token detection.

    Raises:
        ValueError: `answer` without a context, `texts_b` of another length than `texts`, a too large `top_k`.
    """
    with Client(target, model, version=version, label=label, timeout=timeout, tls=tls, transport=transport,
                max_batch_size=batch_size) as client:
        if signature == keys.SERVING_DEFAULT:
            signature = _task_of_serving_default(client)
        if signature in (keys.SERVING_DEFAULT, keys.REPLACED_TOKEN_DETECTION):
            for text, scores in zip(texts, client.score(texts)):
                yield json.dumps({"text": text, "tokens": scores.tokens,
                                  "replaced_probability": _plain(scores.replaced_probability)}, ensure_ascii=False)
        elif signature == keys.FILL_MASK:
            for text, fills in zip(texts, client.fill_mask(texts, top_k=top_k)):
                masks = [{"tokens": f.tokens, "probabilities": _plain(f.probabilities)} for f in fills]
                yield json.dumps({"text": text, "masks": masks}, ensure_ascii=False)
        elif signature == keys.CLASSIFY:
            for row, (text, result) in enumerate(zip(texts, client.classify(texts, texts_b))):
                record = {"text": text, **({"text_b": texts_b[row]} if texts_b is not None else {})}
                if result.label is None:
                    record[keys.SCORE] = _plain(result.score)
                else:
                    record.update({keys.LABEL: result.label, keys.LABEL_ID: result.label_id,
                                   keys.PROBABILITIES: {k: _plain(v) for k, v in result.probabilities.items()}})
                yield json.dumps(record, ensure_ascii=False)
        elif signature == keys.ANSWER:
            if context is None:
                raise ValueError("The answer signature needs a context: the texts are questions about it.")
            for question, result in zip(texts, client.answer(texts, context)):
                yield json.dumps({keys.QUESTION: question, keys.ANSWER: result.text, keys.ANSWER_START: result.start,
                                  keys.ANSWER_END: result.end, keys.SCORE: _plain(result.score),
                                  keys.NULL_SCORE_DIFF: _plain(result.null_score_diff)}, ensure_ascii=False)
        elif signature == keys.TAG:
            for text, words in zip(texts, client.tag(texts)):
                yield json.dumps({"text": text, keys.WORDS: [
                    {"word": w.word, "tag": w.tag, "start": w.start, "end": w.end, "probability": _plain(w.probability)}
                    for w in words]}, ensure_ascii=False)
        elif signature == keys.ENCODE:
            encoding = client.encode(texts)
            for row, text in enumerate(texts):
                yield json.dumps({"text": text, keys.POOLED_OUTPUT: _plain(encoding.pooled_output[row])},
                                 ensure_ascii=False)
        else:
            outputs = client.predict({keys.TEXT: texts}, signature)
            for row, text in enumerate(texts):
                yield json.dumps({"text": text, **{k: _plain(v[row]) for k, v in sorted(outputs.items())}},
                                 ensure_ascii=False)


def _task_of_serving_default(client: Client) -> str:
    """The fine-tuned task signature that `serving_default` is, judged by its outputs; else `serving_default`."""
    info = client.metadata().signatures.get(keys.SERVING_DEFAULT)
    outputs = set(info.outputs) if info is not None else set()
    if keys.WORDS in outputs:
        return keys.TAG
    if keys.ANSWER in outputs:
        return keys.ANSWER
    if keys.LABEL in outputs or (keys.SCORE in outputs and keys.TOKENS not in outputs):
        return keys.CLASSIFY
    return keys.SERVING_DEFAULT
