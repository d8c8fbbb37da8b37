"""Label lists: checking labels against a given list, collecting the list from training examples."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from electra_tf.errors import InputError


def check_label(label: str, labels: Sequence[str] | None, where: str) -> None:
    """Raises InputError naming `where` when `label` is not one of `labels` (None: anything goes).

    Example:
    >>> check_label("2", ["0", "1"], "dev.tsv:7")
    Traceback (most recent call last):
    ...
    electra_tf.errors.InputError: dev.tsv:7: unknown label '2'. Known labels: '0', '1'.
    """
    if labels is not None and label not in labels:
        known = ", ".join(repr(name) for name in labels)
        raise InputError(f"{where}: unknown label {label!r}. Known labels: {known}.")


def parse_regression_label(label: str, where: str) -> float:
    """A regression target as float; InputError naming `where` for anything that is not a finite number.

    Example:
    >>> parse_regression_label(" 3.8 ", "dev.tsv:2")
    3.8
    """
    try:
        value = float(label)
    except (TypeError, ValueError):
        raise InputError(
            f"{where}: regression label {label!r} is not a number. Expected a decimal number such as 3.8."
        ) from None
    if not math.isfinite(value):
        raise InputError(f"{where}: regression label {label!r} is not a finite number.")
    return value


def collect_labels(examples: Iterable) -> list[str]:
    """The sorted set of labels in `examples` (ClassificationExample or TaggingExample), None labels skipped.

    Sorted so that the same training file always gives the same label ids (GLUE's "0"/"1" keep their order).

    Example:
    >>> from electra_tf.finetuning.examples import ClassificationExample
    >>> collect_labels([ClassificationExample("a", label="pos"), ClassificationExample("b", label="neg")])
    ['neg', 'pos']
    """
    seen: set[str] = set()
    for example in examples:
        tags = getattr(example, "tags", None)
        if tags is not None:
            seen.update(tags)
        label = getattr(example, "label", None)
        if label is not None:
            seen.add(label)
    return sorted(seen)
