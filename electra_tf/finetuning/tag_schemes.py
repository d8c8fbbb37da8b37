"""Chunk tag schemes of tagging files: detecting IOB1 / IOB2 / BIOES, and converting between them.

CoNLL-2003's original English files are IOB1 (a chunk starts with I-X; B-X only splits two adjacent X chunks),
most others are IOB2 (every chunk starts with B-X) or BIOES (B-X I-X... E-X, single-token S-X; BILOU's L/U are
E/S). Chunks are read with conlleval's rules (`electra_tf.metrics.entity.get_entities`), which read all three,
so converting keeps every chunk and only rewrites prefixes.

Example:
>>> detect_tag_scheme([["I-ORG", "O", "I-PER", "B-PER"]])
'IOB1'
>>> convert_tags(["I-ORG", "O", "I-PER", "B-PER"], "BIOES")
['S-ORG', 'O', 'S-PER', 'S-PER']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from electra_tf.errors import InputError
from electra_tf.metrics.entity import SCHEMES, get_entities, is_chunk_tag_set, split_tag


def detect_tag_scheme(sentences: Iterable[Sequence[str]]) -> str | None:
    """The chunk scheme the tags are written in, or None when they are not chunk tags (POS tags, say).

    BIOES when any tag has an E/S/L/U prefix; else IOB1 when some chunk starts with I-X; else IOB2.

    Example:
    >>> detect_tag_scheme([["B-PER", "I-PER", "O"]]), detect_tag_scheme([["NN", "VBZ"]])
    ('IOB2', None)
    """
    sentences = [list(tags) for tags in sentences]
    all_tags = {tag for tags in sentences for tag in tags}
    if not is_chunk_tag_set(sorted(all_tags)):
        return None
    prefixes = {split_tag(tag)[0] for tag in all_tags}
    if prefixes & {"E", "S"}:
        return "BIOES"
    for tags in sentences:
        previous = ("O", "")
        for tag in tags:
            prefix, entity_type = split_tag(tag)
            if prefix == "I" and (previous[0] == "O" or previous[1] != entity_type):
                return "IOB1"
            previous = (prefix, entity_type)
    return "IOB2"


def convert_tags(tags: Sequence[str], scheme: str) -> list[str]:
    """Rewrites one sentence's chunk tags in `scheme` ("IOB1", "IOB2" or "BIOES"); the chunks stay the same.

    Example:
    >>> convert_tags(["B-PER", "I-PER", "B-PER", "O", "B-LOC"], "IOB1")
    ['I-PER', 'I-PER', 'B-PER', 'O', 'I-LOC']
    >>> convert_tags(["I-PER", "I-PER", "I-PER"], "BIOES")
    ['B-PER', 'I-PER', 'E-PER']
    """
    if scheme not in SCHEMES:
        raise InputError(f"Unknown tag scheme {scheme!r}. Expected one of {', '.join(SCHEMES)}.")
    result = ["O"] * len(tags)
    previous_end, previous_type = -2, None
    for entity_type, start, end in get_entities(tags):
        for position in range(start, end + 1):
            result[position] = f"I-{entity_type}"
        if scheme == "IOB2":
            result[start] = f"B-{entity_type}"
        elif scheme == "IOB1":
            if previous_end == start - 1 and previous_type == entity_type:
                result[start] = f"B-{entity_type}"
        elif start == end:
            result[start] = f"S-{entity_type}"
        else:
            result[start], result[end] = f"B-{entity_type}", f"E-{entity_type}"
        previous_end, previous_type = end, entity_type
    return result
