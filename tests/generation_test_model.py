"""A tiny ELECTRA pair trained in seconds on a few repeated sentences, for the generation and scoring tests.

The corpus is small and repetitive, so after a few hundred steps the generator has learnt it (it fills
`the dog was [MASK] to run` with `unable`, two pieces) and the discriminator spots a word that does not
belong. Trained once per test session (the result is cached) and saved as a model directory with a small
vocabulary that includes a few Chinese characters.
"""

from __future__ import annotations

import atexit
import pathlib
import shutil
import tempfile

import export_test_model

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + (
    "the a cat dog sat on mat ran fast slow big small red blue house tree hello world is was and of to in run "
    "##s ##ed ##ing ##er . , ! ? un ##able 今 天 气 很 好 ， 适 合 户 外 活 动 。"
).split()
SEQ_LENGTH = 16
SENTENCES = [
    "the cat sat on the mat .",
    "the dog was unable to run .",
    "a big red house is in the tree .",
    "the small cat ran fast .",
    "hello world !",
    "the blue dog was slow .",
    "今天天气很好，适合户外活动。",
    "the dog was unable to run and the cat sat .",
]
_CACHE: dict[str, pathlib.Path] = {}


TRAIN_STEPS = 600  # full-batch steps on SENTENCES: the generator then fills "the cat sat on the [MASK] ." with
# "mat" at P ≈ 0.6 (at 400 steps it tied with "to", and which led depended on the random stream)


def write_vocab(folder: pathlib.Path) -> pathlib.Path:
    """Writes VOCAB as `folder/vocab.txt` and returns its path."""
    return export_test_model.write_vocab(folder, VOCAB)


def tiny_config(**overrides):
    """The export tests' config (the same special ids) for VOCAB: wider, one head, no dropout, trains fast."""
    values = dict(
        vocab_size=len(VOCAB), seq_length=SEQ_LENGTH, num_layers=2, hidden_size=64, num_heads=1,
        intermediate_size=128, embedding_size=32, generator_hidden_fraction=0.5, max_position_embeddings=32,
        hidden_dropout=0.0, attention_dropout=0.0,
        warmup_steps=0, disallow_correct=True,  # every sample is a replacement: the discriminator learns fast
    )
    return export_test_model.tiny_config(**{**values, **overrides})


def trained_model_dir() -> pathlib.Path:
    """A model directory of a pair trained on SENTENCES (trained on first use, then cached for the session)."""
    if "trained" in _CACHE:
        return _CACHE["trained"]
    import keras
    import tensorflow as tf

    from electra_tf import ElectraPretrainer, Tokenizer
    from electra_tf.model_dir import save_model_dir
    from electra_tf.optimization import ElectraAdamW

    folder = pathlib.Path(tempfile.mkdtemp(prefix="electra-generation-test-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # cached for the session, removed at its end
    vocab = write_vocab(folder / "vocab")
    tokenizer = Tokenizer(vocab)
    packed = tokenizer.pack(tokenizer(SENTENCES * 4), seq_length=SEQ_LENGTH)  # 32 rows: one batch
    keras.utils.set_random_seed(0)
    pretrainer = ElectraPretrainer(tiny_config(), seed=0)
    pretrainer.compile(optimizer=ElectraAdamW(1e-3, weight_decay=0.0, global_clipnorm=1.0))
    pretrainer.fit(tf.data.Dataset.from_tensors(packed).repeat(), steps_per_epoch=TRAIN_STEPS, epochs=1, verbose=0,
                   shuffle=False)
    _CACHE["trained"] = pathlib.Path(save_model_dir(pretrainer, folder / "model", vocab_file=vocab))
    return _CACHE["trained"]


def random_model_dir(folder: pathlib.Path, objective: str = "electra") -> pathlib.Path:
    """An untrained model directory with VOCAB (fast; for layout and error tests)."""
    import keras

    from electra_tf import ElectraPretrainer
    from electra_tf.model_dir import save_model_dir

    keras.utils.set_random_seed(1)
    pretrainer = ElectraPretrainer(tiny_config(objective=objective))
    vocab = write_vocab(folder.parent / f"{folder.name}-vocab")
    return pathlib.Path(save_model_dir(pretrainer, folder, vocab_file=vocab))


def served_client(loaded):
    """An `electra_serving.Client` whose predict calls the loaded SavedModel's signatures in-process."""
    import tensorflow as tf
    from electra_serving import Client

    def predict(inputs, signature_name="serving_default", output_filter=None):
        function = loaded.signatures[signature_name]
        outputs = function(**{key: tf.constant(value) for key, value in inputs.items()})
        return {key: value.numpy() for key, value in outputs.items()}

    client = Client.__new__(Client)
    client.predict = predict
    return client
