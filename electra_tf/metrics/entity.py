"""Entity-level precision, recall and F1 over tag sequences, as conlleval (and seqeval's default mode) count them.

Chunks are read from tags `PREFIX-TYPE` (prefix B, I, E, S, or L/U for BILOU, which count as E/S) and `O`, with
conlleval's `startOfChunk`/`endOfChunk` rules, which read IOB1 (I-X starts a chunk after O or another type; B-X
only separates two adjacent X chunks), IOB2 (every chunk starts with B-X) and BIOES alike. A predicted chunk is
correct when a gold chunk has the same type, start and end. Precision = correct / predicted chunks, recall =
correct / gold chunks, F1 their harmonic mean; fractions in [0, 1] (conlleval prints them x 100); 0.0 when a
denominator is 0. Sentences are scored as separate sequences (a chunk never crosses a sentence boundary).

`mode="strict"` with `scheme="IOB2"` or `"BIOES"` keeps only chunks that are well formed in that scheme (as
seqeval's strict mode): IOB2 needs B-X then I-X...; BIOES needs S-X or B-X I-X... E-X.

Example:
>>> entity_scores([["B-PER", "I-PER", "O", "B-LOC"]], [["B-PER", "I-PER", "O", "B-ORG"]])["f1"]
0.5
"""

from __future__ import annotations

from collections.abc import Sequence

from electra_tf.errors import InputError

SCHEMES = ("IOB1", "IOB2", "BIOES")
_SCHEME_ALIASES = {"IOBES": "BIOES", "BILOU": "BIOES", "IOB": "IOB2", "BIO": "IOB2"}
_PREFIX_ALIASES = {"L": "E", "U": "S"}  # BILOU


def split_tag(tag: str) -> tuple[str, str]:
    """(prefix, type) of a tag as conlleval splits it: at the first "-"; "O" and "" are ("O", "").

    Example:
    >>> split_tag("B-ORG"), split_tag("O"), split_tag("I-MISC-X")
    (('B', 'ORG'), ('O', ''), ('I', 'MISC-X'))
    """
    if tag in ("O", "", "0"):
        return "O", ""
    prefix, dash, entity_type = tag.partition("-")
    if not dash:
        return tag, ""
    return _PREFIX_ALIASES.get(prefix, prefix), entity_type


def _end_of_chunk(previous_tag: str, tag: str, previous_type: str, entity_type: str) -> bool:
    """conlleval's endOfChunk: does a chunk end between the previous token and this one?"""
    if previous_tag in ("E", "S"):
        return True
    if previous_tag == "B" and tag in ("B", "S", "O"):
        return True
    if previous_tag == "I" and tag in ("B", "S", "O"):
        return True
    return previous_tag not in ("O", ".") and previous_type != entity_type


def _start_of_chunk(previous_tag: str, tag: str, previous_type: str, entity_type: str) -> bool:
    """conlleval's startOfChunk: does a chunk start at this token?"""
    if tag in ("B", "S"):
        return True
    if previous_tag in ("E", "S", "O") and tag in ("E", "I"):
        return True
    return tag not in ("O", ".") and previous_type != entity_type


def get_entities(tags: Sequence[str]) -> list[tuple[str, int, int]]:
    """Chunks (type, first index, last index inclusive) of one sentence, by conlleval's rules.

    Example:
    >>> get_entities(["I-PER", "I-PER", "B-PER", "O", "S-LOC", "B-ORG", "E-ORG"])
    [('PER', 0, 1), ('PER', 2, 2), ('LOC', 4, 4), ('ORG', 5, 6)]
    """
    chunks = []
    previous_tag, previous_type, start = "O", "", None
    for index, tag in enumerate(list(tags) + ["O"]):
        prefix, entity_type = split_tag(tag)
        if start is not None and _end_of_chunk(previous_tag, prefix, previous_type, entity_type):
            chunks.append((previous_type, start, index - 1))
            start = None
        if _start_of_chunk(previous_tag, prefix, previous_type, entity_type):
            start = index
        previous_tag, previous_type = prefix, entity_type
    return chunks


def get_strict_entities(tags: Sequence[str], scheme: str) -> list[tuple[str, int, int]]:
    """Chunks well formed in `scheme` ("IOB2" or "BIOES"); malformed runs are no chunk.

    Example:
    >>> get_strict_entities(["I-PER", "I-PER", "B-LOC", "I-LOC"], "IOB2")
    [('LOC', 2, 3)]
    >>> get_strict_entities(["B-PER", "I-PER", "S-LOC", "B-ORG"], "BIOES")
    [('LOC', 2, 2)]
    """
    if scheme not in ("IOB2", "BIOES"):
        raise InputError(f"Strict entity matching needs scheme 'IOB2' or 'BIOES'. Received: scheme={scheme!r}")
    parsed = [split_tag(tag) for tag in tags] + [("O", "")]
    chunks = []
    index = 0
    while index < len(tags):
        prefix, entity_type = parsed[index]
        if scheme == "BIOES" and prefix == "S":
            chunks.append((entity_type, index, index))
        elif prefix == "B":
            end = index + 1
            while parsed[end] == ("I", entity_type):
                end += 1
            if scheme == "IOB2":
                chunks.append((entity_type, index, end - 1))
                index = end
                continue
            if parsed[end] == ("E", entity_type):
                chunks.append((entity_type, index, end))
                index = end + 1
                continue
            index = end
            continue
        index += 1
    return chunks


def entity_scores(
    gold: Sequence[Sequence[str]],
    predicted: Sequence[Sequence[str]],
    *,
    scheme: str = "IOB2",
    mode: str = "conlleval",
) -> dict:
    """Entity-level precision, recall and F1 over sentences of tags, overall and per entity type.

    Args:
        gold: per sentence, the gold tags.
        predicted: per sentence, the predicted tags (same lengths).
        scheme: "IOB1" | "IOB2" | "BIOES" (case-insensitive; "IOBES"/"BILOU" mean BIOES, "BIO"/"IOB" IOB2).
            Only `mode="strict"` uses it: conlleval's rules read all three.
        mode: "conlleval" (default, conlleval and seqeval's default) or "strict".

    Returns:
        {"precision", "recall", "f1", "accuracy" (token level), "correct", "predicted", "gold",
        "per_type": {type: {"precision", "recall", "f1", "gold"}}}.

    Raises:
        InputError: sentence counts or lengths that differ, an unknown scheme or mode.

    Example:
    >>> scores = entity_scores([["I-ORG", "O", "I-PER"]], [["I-ORG", "O", "B-PER"]], scheme="IOB1")
    >>> scores["precision"], scores["recall"]
    (1.0, 1.0)
    """
    scheme = _SCHEME_ALIASES.get(str(scheme).upper(), str(scheme).upper())
    if scheme not in SCHEMES:
        raise InputError(f"Unknown tag scheme {scheme!r}. Expected one of {', '.join(SCHEMES)} (or IOBES, BILOU, BIO).")
    if mode not in ("conlleval", "strict"):
        raise InputError(f"Unknown entity matching mode {mode!r}. Expected 'conlleval' or 'strict'.")
    if len(gold) != len(predicted):
        raise InputError(
            f"Expected as many predicted sentences as gold ones. Received: {len(predicted)} and {len(gold)}"
        )
    if mode == "strict" and scheme != "IOB1":
        extract = lambda tags: get_strict_entities(tags, scheme)  # noqa: E731
    else:
        extract = get_entities
    gold_chunks, predicted_chunks = set(), set()
    tokens = correct_tokens = 0
    for sentence, (gold_tags, predicted_tags) in enumerate(zip(gold, predicted)):
        if len(gold_tags) != len(predicted_tags):
            raise InputError(
                f"Sentence {sentence}: {len(predicted_tags)} predicted tags for {len(gold_tags)} gold tags."
            )
        gold_chunks.update((sentence, *chunk) for chunk in extract(gold_tags))
        predicted_chunks.update((sentence, *chunk) for chunk in extract(predicted_tags))
        tokens += len(gold_tags)
        correct_tokens += sum(a == b for a, b in zip(gold_tags, predicted_tags))
    correct = gold_chunks & predicted_chunks

    def prf(right: int, guessed: int, actual: int) -> dict:
        precision = right / guessed if guessed else 0.0
        recall = right / actual if actual else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"precision": precision, "recall": recall, "f1": f1}

    result = prf(len(correct), len(predicted_chunks), len(gold_chunks))
    result.update(
        accuracy=correct_tokens / tokens if tokens else 0.0,
        correct=len(correct),
        predicted=len(predicted_chunks),
        gold=len(gold_chunks),
    )
    types = sorted({chunk[1] for chunk in gold_chunks | predicted_chunks})
    result["per_type"] = {
        entity_type: {
            **prf(
                sum(chunk[1] == entity_type for chunk in correct),
                sum(chunk[1] == entity_type for chunk in predicted_chunks),
                sum(chunk[1] == entity_type for chunk in gold_chunks),
            ),
            "gold": sum(chunk[1] == entity_type for chunk in gold_chunks),
        }
        for entity_type in types
    }
    return result


entity_metrics = entity_scores  # the name `finetuning.task_data` uses; same function


def is_chunk_tag_set(tags: Sequence[str]) -> bool:
    """Whether tags look like chunk tags (O and PREFIX-TYPE with a B/I/E/S/L/U prefix), so entity F1 applies.

    Example:
    >>> is_chunk_tag_set(["O", "B-PER", "I-PER"]), is_chunk_tag_set(["NN", "VB"])
    (True, False)
    """
    prefixes = {tag.partition("-")[0] for tag in tags if tag != "O"}
    has_dash = all("-" in tag for tag in tags if tag != "O")
    return bool(prefixes) and has_dash and prefixes <= {"B", "I", "E", "S", "L", "U"}
