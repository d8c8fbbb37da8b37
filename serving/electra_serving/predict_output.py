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
                  timeout: float = 30.0, tls: str | None = None, batch_size: int = 32) -> Iterator[str]:
    """Queries the server and yields one JSON line per text (`{"text": ..., <results>}`)."""
    with Client(target, model, version=version, label=label, timeout=timeout, tls=tls, transport=transport,
                max_batch_size=batch_size) as client:
        if signature in (keys.SERVING_DEFAULT, keys.REPLACED_TOKEN_DETECTION):
            for text, scores in zip(texts, client.score(texts)):
                yield json.dumps({"text": text, "tokens": scores.tokens,
                                  "replaced_probability": _plain(scores.replaced_probability)}, ensure_ascii=False)
        elif signature == keys.FILL_MASK:
            for text, fills in zip(texts, client.fill_mask(texts, top_k=top_k)):
                masks = [{"tokens": f.tokens, "probabilities": _plain(f.probabilities)} for f in fills]
                yield json.dumps({"text": text, "masks": masks}, ensure_ascii=False)
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
