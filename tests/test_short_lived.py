"""`electra_tf.data.short_lived`: datasets read by one short pass carry tf.data autotuning off, elements unchanged.

Why (measured in `benchmarks/results/train_step_profile/README.md`): with autotuning on, dropping a `fit`
iterator waits for the tf.data model thread's next wake-up, which added up to 8.8 s to a 12 s `fit` call.
"""

import numpy as np


def test_for_short_lived_iterator_keeps_the_elements_and_turns_autotuning_off():
    import tensorflow as tf

    from electra_tf.data.short_lived import for_short_lived_iterator

    dataset = tf.data.Dataset.range(10).map(lambda x: x * x).batch(3)
    short = for_short_lived_iterator(dataset)
    assert [batch.tolist() for batch in short.as_numpy_iterator()] == [[0, 1, 4], [9, 16, 25], [36, 49, 64], [81]]
    assert short.options().autotune.enabled is False
    assert dataset.options().autotune.enabled is not False  # the input dataset is left as it was


def test_batched_arrays_predict_what_keras_predicts_on_the_arrays():
    import keras

    from electra_tf.data.short_lived import batched_arrays

    word_ids = keras.Input((6,), dtype="int32", name="input_word_ids")
    mask = keras.Input((6,), dtype="int32", name="input_mask")
    embedded = keras.layers.Embedding(50, 4)(word_ids) * keras.ops.expand_dims(keras.ops.cast(mask, "float32"), -1)
    model = keras.Model({"input_word_ids": word_ids, "input_mask": mask},
                        {"pooled": keras.layers.Dense(3)(keras.ops.sum(embedded, axis=1))})
    rng = np.random.default_rng(0)
    arrays = {"input_word_ids": rng.integers(0, 50, (11, 6)).astype(np.int32),
              "input_mask": (rng.random((11, 6)) > 0.3).astype(np.int32)}
    dataset = batched_arrays(arrays, 4)
    assert dataset.options().autotune.enabled is False
    assert [len(batch["input_mask"]) for batch in dataset.as_numpy_iterator()] == [4, 4, 3]
    expected = model.predict(arrays, batch_size=4, verbose=0)["pooled"]
    np.testing.assert_allclose(model.predict(dataset, verbose=0)["pooled"], expected, rtol=1e-6)


def test_held_out_and_text_batches_are_short_lived(tmp_path, english_vocab):
    from electra_tf.data.pipeline import validation_dataset
    from electra_tf.data.preparation import PrepareOptions, prepare_pretraining_data
    from electra_tf.evaluation.held_out_text import batches_from_features

    corpus = tmp_path / "text.txt"
    corpus.write_text("\n\n".join(f"Sentence {i} of document {i}. It has a second sentence." for i in range(60)))
    manifest = prepare_pretraining_data([str(corpus)], english_vocab, tmp_path / "data",
                                        PrepareOptions(seq_length=16, num_shards=2, validation_fraction=0.1))
    held_out = validation_dataset(manifest.data_dir, 4)
    assert held_out.options().autotune.enabled is False
    assert sum(len(batch["input_word_ids"]) for batch in held_out.as_numpy_iterator()) == \
        manifest.num_validation_examples > 0
    features = {"input_ids": np.ones((5, 8)), "input_mask": np.ones((5, 8)), "segment_ids": np.zeros((5, 8))}
    assert batches_from_features(features, 2).options().autotune.enabled is False
