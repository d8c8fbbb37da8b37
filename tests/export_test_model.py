"""A tiny random-weight ELECTRA pair with a small hand-written vocabulary, for the export tests.

No training and no shared data: the export tests compare a SavedModel with the same weights called
in-process, so random weights are as good as trained ones and much faster.
"""

from __future__ import annotations

import pathlib

WORDS = (
    "the a cat dog sat on mat ran fast slow big small red blue house tree hello world is was and of to in "
    "##s ##ed ##ing ##er . , ! ? ' un ##able"
).split()
VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + WORDS
SEQ_LENGTH = 16


def write_vocab(folder: pathlib.Path, vocab=VOCAB) -> pathlib.Path:
    """Writes `vocab` (default VOCAB) as `folder/vocab.txt` and returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "vocab.txt"
    path.write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return path


def tiny_config(**overrides):
    """An ElectraConfig of a few thousand parameters whose special ids match VOCAB (ids 0-4: [PAD] ... [MASK])."""
    from electra_tf import ElectraConfig

    values = dict(
        vocab_size=len(VOCAB), pad_id=0, unk_id=1, cls_id=2, sep_id=3, mask_id=4, seq_length=SEQ_LENGTH,
        num_layers=2, hidden_size=32, num_heads=2, intermediate_size=64, embedding_size=16,
        max_position_embeddings=64,
    )
    values.update(overrides)
    return ElectraConfig.preset("tiny", **values)


def make_model_dir(folder: pathlib.Path, seed: int = 0, **config_overrides):
    """Saves a random-weight ElectraPretrainer and VOCAB as a model directory; returns (path, pretrainer)."""
    import keras

    from electra_tf import ElectraPretrainer
    from electra_tf.model_dir import save_model_dir

    keras.utils.set_random_seed(seed)
    pretrainer = ElectraPretrainer(tiny_config(**config_overrides))
    vocab = write_vocab(folder.parent / f"{folder.name}-vocab")
    return pathlib.Path(save_model_dir(pretrainer, folder, vocab_file=vocab)), pretrainer
