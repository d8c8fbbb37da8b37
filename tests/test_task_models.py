"""Task models: .keras round trips, losses against hand computation, layer-wise learning rates, learning, and the
fine-tuned model directory (from our model directories and from a Hugging Face checkpoint)."""

import math
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

from electra_tf.finetuning.task_model_dir import (
    TaskSpec, build_task_model, load_task_model_dir, resolve_source_dir, save_task_model_dir, task_model_from_source,
)
from electra_tf.finetuning.training import create_finetuning_optimizer
from electra_tf.finetuning.options import FinetuneOptions
from electra_tf.models import ElectraQuestionAnswerer, ElectraSequenceClassifier, ElectraTokenTagger
from electra_tf.models.question_answerer import NOT_IN_CONTEXT
from electra_tf.errors import InputError
from finetune_helpers import VOCAB, tiny_config, write_model_dir


def _batch(batch=3, length=10, seed=0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(5, len(VOCAB), (batch, length)).astype(np.int32)
    mask = np.ones_like(ids)
    mask[1, 7:] = 0
    types = np.zeros_like(ids)
    types[:, 4:] = 1
    ids[:, 0], ids[:, 3] = 2, 3
    return {"input_word_ids": ids, "input_mask": mask, "input_type_ids": types * mask}


MODELS = {
    "classifier": lambda: ElectraSequenceClassifier(tiny_config(), num_labels=3),
    "regressor": lambda: ElectraSequenceClassifier(tiny_config(), num_labels=1, task="regression"),
    "qa": lambda: ElectraQuestionAnswerer(tiny_config(), version_2_with_negative=True),
    "tagger": lambda: ElectraTokenTagger(tiny_config(), num_tags=4),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_keras_round_trip_gives_same_outputs(name, tmp_path):
    model = MODELS[name]()
    inputs = _batch()
    expected = model(inputs)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    restored = keras.saving.load_model(path)
    assert type(restored) is type(model)
    assert restored.get_config() == model.get_config()
    outputs = restored(inputs)
    assert sorted(outputs) == sorted(expected)
    for key in expected:
        np.testing.assert_array_equal(outputs[key].numpy(), expected[key].numpy())
    assert model.encoder_network.encoder is model.encoder  # what the exported `encode` signature runs


def test_output_shapes_and_qa_answer_mask():
    inputs = _batch()
    assert MODELS["classifier"]()(inputs)["logits"].shape == (3, 3)
    assert MODELS["regressor"]()(inputs)["logits"].shape == (3, 1)
    assert MODELS["tagger"]()(inputs)["logits"].shape == (3, 10, 4)
    outputs = MODELS["qa"]()(inputs)
    assert outputs["answerable_logits"].shape == (3,)
    start = outputs["start_logits"].numpy()
    allowed = (inputs["input_type_ids"] * inputs["input_mask"]).astype(bool)
    allowed[:, 0] = True  # [CLS]: "no answer"
    assert np.all(start[~allowed] < NOT_IN_CONTEXT / 2)  # question, [SEP] and padding can never be picked
    assert np.all(np.abs(start[allowed]) < 100)


def test_classification_and_regression_losses_match_hand_computation():
    logits = np.array([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]], np.float32)
    classifier = MODELS["classifier"]()
    loss = float(classifier.task_loss(np.array([0, 2]), {"logits": tf.constant(logits)}))
    expected = np.mean([-math.log(math.exp(2) / (math.exp(2) + 1 + math.exp(-1))), math.log(3)])
    assert loss == pytest.approx(expected, rel=1e-6)
    regressor = MODELS["regressor"]()
    loss = float(regressor.task_loss(np.array([1.0, 3.0]), {"logits": tf.constant([[2.0], [3.5]])}))
    assert loss == pytest.approx((1.0 + 0.25) / 2)


def test_qa_loss_matches_hand_computation():
    model = MODELS["qa"]()
    start = np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]], np.float32))
    end = np.log(np.array([[0.2, 0.2, 0.6], [0.5, 0.25, 0.25]], np.float32))
    answerable = np.array([0.0, 2.0], np.float32)
    y = {"start_positions": np.array([1, 0]), "end_positions": np.array([2, 0]), "is_impossible": np.array([0, 1])}
    loss = float(model.task_loss(y, {"start_logits": tf.constant(start), "end_logits": tf.constant(end),
                                     "answerable_logits": tf.constant(answerable)}))
    span = [(-math.log(0.25) - math.log(0.6)) / 2, (-math.log(0.1) - math.log(0.5)) / 2]
    # The answerable logit's label is 1 - is_impossible: softplus(-0) for the first, softplus(2) for the second.
    answer = [math.log(2.0), math.log(1 + math.exp(2.0))]
    assert loss == pytest.approx(np.mean([s + 0.5 * a for s, a in zip(span, answer)]), rel=1e-5)


def test_tagging_loss_ignores_unlabelled_positions():
    model = MODELS["tagger"]()
    logits = np.zeros((1, 3, 4), np.float32)
    logits[0, 1] = [3.0, 0.0, 0.0, 0.0]
    labels = np.array([[-1, 0, 2]])  # [CLS] ignored
    loss = float(model.task_loss(labels, {"logits": tf.constant(logits)}))
    first = -math.log(math.exp(3) / (math.exp(3) + 3))
    assert loss == pytest.approx((first + math.log(4)) / 2, rel=1e-6)


def test_layerwise_learning_rates_are_applied_per_variable():
    config = tiny_config(num_layers=2)
    model = ElectraSequenceClassifier(config, num_labels=2)
    options = FinetuneOptions(task="classification", model="m", train="t", out="o", learning_rate=1e-3,
                              layerwise_lr_decay=0.5, weight_decay=0.0, warmup_fraction=0.0).resolved(config)
    optimizer = create_finetuning_optimizer(model, options, total_steps=1000)
    variables = model.trainable_variables
    optimizer.build(variables)
    expected = {}
    for variable in variables:
        path = variable.path
        if "/embeddings/" in path or "/embedding_projection/" in path:
            expected[path] = 0.5 ** 4  # depth 0: decay ** (layers + 2)
        elif "/block_0/" in path:
            expected[path] = 0.5 ** 3
        elif "/block_1/" in path:
            expected[path] = 0.5 ** 2
        else:
            assert "/classifier/" in path, path
            expected[path] = 1.0  # the head: the full rate
    assert {v.path: optimizer.multiplier_for(v) for v in variables} == expected
    assert any("word_embeddings" in p for p in expected) and any("embedding_projection" in p for p in expected)
    # One real step: the first Adam step without bias correction moves every weight by
    # lr(1) x multiplier x g / (sqrt(0.001) g) with the schedule at step 0 -> use a constant-gradient check of
    # ratios instead of absolute values.
    before = [v.numpy().copy() for v in variables]
    optimizer.apply([tf.ones_like(v) for v in variables], variables)
    moved = {v.path: float(np.max(np.abs(v.numpy() - b))) for v, b in zip(variables, before)}
    head = moved[next(p for p in moved if p.endswith("classifier/bias"))]
    assert head > 0
    for path, multiplier in expected.items():
        assert moved[path] / head == pytest.approx(multiplier, rel=1e-3), path


def test_tiny_classifier_learns_a_keyword_task():
    keras.utils.set_random_seed(1)
    config = tiny_config()
    model = ElectraSequenceClassifier(config, num_labels=2)
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 45, (64, 8)).astype(np.int32)  # filler words
    labels = rng.integers(0, 2, 64).astype(np.int32)
    ids[:, 1] = np.where(labels == 1, VOCAB.index("good"), VOCAB.index("bad"))
    ids[:, 0] = config.cls_id
    inputs = {"input_word_ids": ids, "input_mask": np.ones_like(ids), "input_type_ids": np.zeros_like(ids)}
    options = FinetuneOptions(task="classification", model="m", train="t", out="o", learning_rate=2e-3,
                              layerwise_lr_decay=1.0).resolved(config)
    model.compile(optimizer=create_finetuning_optimizer(model, options, total_steps=80))
    history = model.fit(inputs, labels, batch_size=16, epochs=20, verbose=0)
    accuracy = history.history["accuracy"]
    assert accuracy[-1] >= 0.95 > accuracy[0]
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]


def test_task_model_dir_round_trip_and_encoder_from_model_dir(tmp_path):
    from electra_tf.model_dir import load_model_dir

    model_dir = write_model_dir(tmp_path / "pre")
    spec = TaskSpec("tagging", labels=("O", "B-PER"), seq_length=16, tag_scheme="IOB2", extra={"note": 1})
    model, source = task_model_from_source(model_dir, spec)
    pretrainer, _ = load_model_dir(model_dir)
    inputs = _batch()
    np.testing.assert_array_equal(model.encoder(inputs).numpy(),
                                  pretrainer.discriminator(inputs)["sequence_output"].numpy())
    # A pretraining run directory (its own config.json beside final/) resolves to final/.
    run = tmp_path / "run"
    shutil.copytree(model_dir, run / "final")
    shutil.copy(run / "final" / "config.json", run / "config.json")
    assert resolve_source_dir(run) == str(run / "final")
    fresh, _ = task_model_from_source(model_dir, spec, random_init=True)
    assert not np.allclose(fresh.encoder(inputs).numpy(), model.encoder(inputs).numpy())
    out = save_task_model_dir(model, tmp_path / "task", spec, vocab_file=source.vocab_file)
    loaded, tokenizer, loaded_spec = load_task_model_dir(out)
    assert loaded_spec == spec and tokenizer.vocab == VOCAB
    np.testing.assert_array_equal(loaded(inputs)["logits"].numpy(), model(inputs)["logits"].numpy())
    # A fine-tuned directory is itself a source: its encoder, a new head.
    again, again_source = task_model_from_source(out, TaskSpec("regression", seq_length=16))
    assert again_source.kind == "fine-tuned model directory"
    np.testing.assert_array_equal(again.encoder(inputs).numpy(), model.encoder(inputs).numpy())


def test_saving_a_task_model_dir_replaces_it_whole_and_a_failed_save_leaves_it(tmp_path):
    from electra_tf.model_dir import staged_dir

    spec = TaskSpec("classification", labels=("no", "yes"), seq_length=16)
    model = build_task_model(tiny_config(), spec)
    target = tmp_path / "task"
    target.mkdir()
    (target / "stale.txt").write_text("from an older save")
    save_task_model_dir(model, target, spec)
    assert sorted(os.listdir(target)) == ["config.json", "task.json", "task_model.weights.h5"]
    with pytest.raises(RuntimeError, match="disk full"):
        with staged_dir(target) as staging:
            with open(os.path.join(staging, "task.json"), "w") as stream:
                stream.write("{}")
            raise RuntimeError("disk full")
    assert sorted(os.listdir(tmp_path)) == ["task"]  # no staging or retired folder left behind
    assert load_task_model_dir(target, with_tokenizer=False)[2] == spec


def test_bad_specs_and_sources_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="Unknown task"):
        TaskSpec("ranking")
    with pytest.raises(InputError, match="at least two labels"):
        TaskSpec("classification", labels=("a",))
    with pytest.raises(InputError, match="holds no model"):
        task_model_from_source(tmp_path, TaskSpec("regression"))
    with pytest.raises(ValueError, match="num_labels"):
        ElectraSequenceClassifier(tiny_config(), num_labels=0)
    model = build_task_model(tiny_config(), TaskSpec("classification", labels=("a", "b", "c")))
    with pytest.raises(ValueError, match="shape"):
        model.load_encoder_weights(build_task_model(tiny_config(hidden_size=64, num_heads=1),
                                                    TaskSpec("regression")).encoder)


def test_task_model_from_a_hugging_face_checkpoint_matches_transformers(tmp_path):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    reference = transformers.ElectraForPreTraining(transformers.ElectraConfig(
        vocab_size=len(VOCAB), embedding_size=16, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=64, attn_implementation="eager",
    )).eval()
    folder = tmp_path / "hf"
    reference.save_pretrained(folder)
    (folder / "vocab.txt").write_text("\n".join(VOCAB) + "\n", encoding="utf-8")
    model, source = task_model_from_source(folder, TaskSpec("qa", seq_length=16))
    assert source.kind == "Hugging Face checkpoint" and source.vocab_file.endswith("vocab.txt")
    inputs = _batch()
    with torch.no_grad():
        expected = reference.electra(
            input_ids=torch.tensor(inputs["input_word_ids"], dtype=torch.long),
            attention_mask=torch.tensor(inputs["input_mask"], dtype=torch.long),
            token_type_ids=torch.tensor(inputs["input_type_ids"], dtype=torch.long),
        ).last_hidden_state.numpy()
    actual = model.encoder(inputs).numpy()
    real = inputs["input_mask"].astype(bool)
    np.testing.assert_allclose(actual[real], expected[real], atol=1e-4)
