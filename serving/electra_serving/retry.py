"""Retries with exponential backoff and jitter, for calls that fail with a transient status (UNAVAILABLE).

Example:
    >>> policy = RetryPolicy(max_attempts=3, initial_backoff_s=0.0)
    >>> policy.call(lambda: "ok")
    'ok'
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Callable, TypeVar

from electra_serving.errors import ServingError

T = TypeVar("T")


@dataclass(frozen=True)
class RetryPolicy:
    """How a failing call is retried.

    Attributes:
        max_attempts: int. Total tries, first included (1 = never retry).
        initial_backoff_s: float. Wait before the first retry.
        max_backoff_s: float. Cap on one wait.
        multiplier: float. Growth of the wait per retry.
        retryable_codes: frozenset[str]. gRPC code names worth retrying: the server is restarting, a
            version is swapping, or the batch queue is momentarily full (all UNAVAILABLE in TF Serving).
    """

    max_attempts: int = 5
    initial_backoff_s: float = 0.1
    max_backoff_s: float = 2.0
    multiplier: float = 2.0
    retryable_codes: frozenset = frozenset({"UNAVAILABLE"})

    def __post_init__(self):
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1; received {self.max_attempts}.")

    def call(self, function: Callable[[], T]) -> T:
        """Calls `function` until it succeeds, fails with a non-retryable error, or attempts run out."""
        backoff = self.initial_backoff_s
        attempt = 1
        while True:
            try:
                return function()
            except ServingError as error:
                if error.code not in self.retryable_codes or attempt >= self.max_attempts:
                    raise
            time.sleep(backoff * random.uniform(0.5, 1.0))  # Jitter spreads out clients that failed together.
            backoff = min(backoff * self.multiplier, self.max_backoff_s)
            attempt += 1
