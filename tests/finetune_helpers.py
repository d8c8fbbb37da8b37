"""Tiny model directories and toy task files for the fine-tuning tests (written by the tests themselves)."""

from __future__ import annotations

import json
import random

SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
FILLER = [f"w{index}" for index in range(40)]
POSITIVE = ["good", "great", "fine"]
NEGATIVE = ["bad", "awful", "poor"]
VOCAB = SPECIALS + FILLER + POSITIVE + NEGATIVE + ["who", "what", "is", "the", "ann", "bob", "paris", "rome"]


def tiny_config(**overrides):
    """A one-block, 32-wide ELECTRA config over `VOCAB` (fast enough for CLI tests)."""
    from electra_tf import ElectraConfig

    values = dict(
        vocab_size=len(VOCAB), pad_id=0, unk_id=1, cls_id=2, sep_id=3, mask_id=4, num_layers=1, hidden_size=32,
        num_heads=1, intermediate_size=64, embedding_size=16, seq_length=16, max_position_embeddings=64,
    )
    values.update(overrides)
    return ElectraConfig.preset("tiny", **values)


def write_vocab(path) -> str:
    path.write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    return str(path)


def write_model_dir(root, seed: int = 0, **overrides) -> str:
    """A pretraining-style model directory (random weights) with the toy vocabulary."""
    import keras

    from electra_tf import ElectraPretrainer
    from electra_tf.model_dir import save_model_dir

    keras.utils.set_random_seed(seed)
    root.mkdir(parents=True, exist_ok=True)
    vocab = write_vocab(root / "vocab.txt")
    return save_model_dir(ElectraPretrainer(tiny_config(**overrides)), root / "model", vocab_file=vocab)


def keyword_rows(count: int, seed: int) -> list[tuple[str, str]]:
    """Sentences of filler words with one sentiment keyword; the label is the keyword's polarity."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        label = rng.choice(["pos", "neg"])
        words = [rng.choice(FILLER) for _ in range(rng.randrange(2, 7))]
        words.insert(rng.randrange(len(words) + 1), rng.choice(POSITIVE if label == "pos" else NEGATIVE))
        rows.append((" ".join(words), label))
    return rows


def write_tsv(path, rows, header=("sentence", "label")) -> str:
    lines = ["\t".join(header)] if header else []
    lines += ["\t".join(row) for row in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def write_squad(path, count: int, seed: int, impossible_every: int = 0) -> str:
    """A SQuAD-format file of "who is in CITY ?" questions over short contexts."""
    rng = random.Random(seed)
    paragraphs = []
    for index in range(count):
        name, city = rng.choice(["ann", "bob"]), rng.choice(["paris", "rome"])
        filler = " ".join(rng.choice(FILLER) for _ in range(rng.randrange(1, 4)))
        context = f"{filler} {name} is the {city} w1"
        impossible = bool(impossible_every) and index % impossible_every == 0
        answers = [] if impossible else [{"text": name, "answer_start": context.index(f" {name} ") + 1}]
        question = {"id": f"q{index}", "question": f"who is the {city}", "answers": answers}
        if impossible_every:
            question["is_impossible"] = impossible
        paragraphs.append({"context": context, "qas": [question]})
    document = {"version": "2.0" if impossible_every else "1.1", "data": [{"title": "t", "paragraphs": paragraphs}]}
    path.write_text(json.dumps(document), encoding="utf-8")
    return str(path)


def write_conll(path, count: int, seed: int) -> str:
    """CoNLL rows "token TAG": names are B-PER, cities B-LOC, the rest O."""
    rng = random.Random(seed)
    lines = ["-DOCSTART- O", ""]
    for _ in range(count):
        words = [rng.choice(FILLER + ["ann", "bob", "paris", "rome"]) for _ in range(rng.randrange(2, 7))]
        for word in words:
            tag = "B-PER" if word in ("ann", "bob") else "B-LOC" if word in ("paris", "rome") else "O"
            lines.append(f"{word} {tag}")
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)
