"""`ElectraPretrainer`: generator + discriminator trained with replaced-token detection by `model.fit`."""

from __future__ import annotations

import keras
import tensorflow as tf

from electra_tf import losses, masking, sampling
from electra_tf.config import ElectraConfig
from electra_tf.networks.discriminator import ElectraDiscriminator
from electra_tf.networks.encoder import build_embeddings, check_inputs
from electra_tf.networks.generator import ElectraGenerator
from electra_tf.optimization import create_optimizer


@keras.saving.register_keras_serializable(package="electra_tf")
class ElectraPretrainer(keras.Model):
    """ELECTRA pretraining (or, with `objective="mlm"`, the BERT baseline) as one Keras model.

    Each step, in graph and with static shapes: mask the batch (`masking.mask_tokens`), run the generator
    at the masked positions, sample replacements (`sampling.categorical_sample`) outside the gradient, label every
    token original/replaced (a sample equal to the original counts as original), run the discriminator, and
    minimise MLM + `rtd_loss_weight` x RTD. Both losses are averaged over the *global* batch under
    `tf.distribute`. Randomness is stateless, keyed by `seed`, the replica and a step counter saved with
    the weights, so a resumed run draws the same masks an uninterrupted one would.

    With `config.objective == "mlm"` there is no discriminator: `generator` is a discriminator-sized masked
    LM trained alone with the config's masking shares (80/10/10 for BERT), for RTD-vs-MLM comparisons at
    equal compute; `encoder_network` is then that model.

    Args:
        config: `ElectraConfig` (or its dict).
        seed: int. Seed of the masking and sampling streams.

    Example:
    >>> import tensorflow as tf
    >>> pretrainer = ElectraPretrainer(ElectraConfig.preset("tiny", seq_length=16))
    >>> pretrainer.compile()  # the paper's AdamW, clipping and schedule from the config
    >>> ids = tf.random.uniform((4, 16), 1000, 2000, dtype=tf.int32)
    >>> batch = {"input_word_ids": ids, "input_mask": tf.ones_like(ids), "input_type_ids": tf.zeros_like(ids)}
    >>> history = pretrainer.fit(tf.data.Dataset.from_tensors(batch).repeat(2), verbose=0)
    >>> sorted(history.history)[:3]
    ['loss', 'mlm_accuracy', 'mlm_loss']

    References:
        Clark et al., 2020. "ELECTRA: Pre-training Text Encoders as Discriminators Rather Than Generators".
    """

    def __init__(self, config, seed: int = 0, **kwargs):
        config = config if isinstance(config, ElectraConfig) else ElectraConfig.from_dict(config)
        kwargs.setdefault("name", "electra_pretrainer")
        super().__init__(**kwargs)
        self.config = config
        self.seed = int(seed)
        # === Networks ===
        self.embeddings = build_embeddings(config)
        self.embeddings.build()
        if config.objective == "electra":
            self.generator = ElectraGenerator(config, self.embeddings, dtype=self.dtype_policy)
            self.discriminator = ElectraDiscriminator(config, self.embeddings, dtype=self.dtype_policy)
        else:
            self.generator = ElectraGenerator(
                config, self.embeddings, discriminator_sized=True, dtype=self.dtype_policy, name="masked_lm"
            )
            self.discriminator = None
        # Batches seen by train_step; keys the random streams and is saved with the weights.
        self.step_counter = self.add_weight(
            name="step_counter", shape=(), dtype="int64", initializer="zeros", trainable=False,
            aggregation="only_first_replica",
        )
        # === Metrics ===
        self._trackers = {name: keras.metrics.Mean(name=name) for name in self.metric_names}
        if self.discriminator is not None:
            self._trackers["rtd_precision"] = keras.metrics.Precision(name="rtd_precision")
            self._trackers["rtd_recall"] = keras.metrics.Recall(name="rtd_recall")
        self.built = True  # every variable exists: the networks were built by their constructors

    @property
    def metric_names(self) -> tuple[str, ...]:
        """Names of the mean-valued metrics shown during `fit` (precision and recall come on top)."""
        if self.config.objective == "mlm":
            return ("loss", "mlm_loss", "mlm_accuracy")
        return ("loss", "mlm_loss", "mlm_accuracy", "rtd_loss", "rtd_accuracy", "replaced_fraction")

    @property
    def encoder_network(self) -> keras.Model:
        """The network kept after pretraining: the discriminator (or the MLM baseline's masked LM)."""
        return self.discriminator if self.discriminator is not None else self.generator

    @property
    def metrics(self):
        return list(self._trackers.values())

    def compile(self, optimizer=None, **kwargs):
        """Compiles for pretraining; without `optimizer`, uses the paper's recipe (`create_optimizer`)."""
        super().compile(optimizer=optimizer if optimizer is not None else create_optimizer(self.config), **kwargs)

    # --- The forward pass ---

    def call(self, inputs, training=False):
        """Runs masking, generator, sampling and discriminator; returns every intermediate tensor and loss."""
        return self.pretraining_outputs(inputs, seed=self._step_seed(inputs, training), training=training)

    def pretraining_outputs(self, inputs, seed, training=False):
        """The whole pretraining forward pass for one batch with an explicit `[2]` seed.

        Returns: dict with `loss`, `mlm_loss`, `rtd_loss` (scalars over the global batch), the masked
        inputs (`masked_word_ids`, `mask_positions`, `mask_weights`, `original_ids`), `mlm_logits`
        `[batch, P, vocab]`, and for ELECTRA `sampled_ids` `[batch, P]`, `corrupted_word_ids`,
        `rtd_labels` and `rtd_logits` `[batch, seq]`.
        """
        check_inputs(inputs)
        config = self.config
        input_word_ids = tf.cast(inputs["input_word_ids"], tf.int32)
        input_mask = tf.cast(inputs["input_mask"], tf.int32)
        input_type_ids = tf.cast(inputs["input_type_ids"], tf.int32)
        seed = tf.cast(seed, tf.int64)
        masked = masking.mask_tokens(
            input_word_ids,
            input_mask,
            seed=tf.random.experimental.stateless_fold_in(seed, 0),
            max_predictions=config.max_predictions,
            mask_rate=config.mask_rate,
            mask_id=config.mask_id,
            special_ids=config.special_ids,
            vocab_size=config.vocab_size,
            mask_token_rate=config.mask_token_rate,
            random_token_rate=config.random_token_rate,
        )
        generator_inputs = {"input_word_ids": masked.input_word_ids, "input_mask": input_mask,
                            "input_type_ids": input_type_ids}
        mlm_logits = self.generator(generator_inputs, mask_positions=masked.positions, training=training)["mlm_logits"]
        mlm_loss = losses.masked_lm_loss_sum(mlm_logits, masked.original_ids, masked.weights) / _global_sum(
            tf.reduce_sum(masked.weights)
        )
        outputs = {
            "mlm_loss": mlm_loss,
            "masked_word_ids": masked.input_word_ids,
            "mask_positions": masked.positions,
            "mask_weights": masked.weights,
            "original_ids": masked.original_ids,
            "mlm_logits": mlm_logits,
        }
        if self.discriminator is None:
            outputs["loss"] = mlm_loss
            return outputs

        sampled_ids = sampling.categorical_sample(
            mlm_logits,
            seed=tf.random.experimental.stateless_fold_in(seed, 1),
            temperature=config.sampling_temperature,
            disallow_ids=masked.original_ids if config.disallow_correct else None,
        )  # [batch, P], no gradient
        corrupted_word_ids = masking.scatter_at_positions(
            masked.input_word_ids, masked.positions, sampled_ids, masked.weights > 0
        )
        # A sample equal to the original token is labelled original.
        rtd_labels = tf.cast(tf.not_equal(corrupted_word_ids, input_word_ids), tf.int32) * input_mask
        discriminator_inputs = {"input_word_ids": corrupted_word_ids, "input_mask": input_mask,
                                "input_type_ids": input_type_ids}
        rtd_logits = self.discriminator(discriminator_inputs, training=training)["rtd_logits"]
        rtd_loss = losses.replaced_token_loss_sum(rtd_logits, rtd_labels, input_mask) / _global_sum(
            tf.reduce_sum(tf.cast(input_mask, tf.float32))
        )
        outputs.update(
            loss=mlm_loss + config.rtd_loss_weight * rtd_loss,
            rtd_loss=rtd_loss,
            sampled_ids=sampled_ids,
            corrupted_word_ids=corrupted_word_ids,
            rtd_labels=rtd_labels,
            rtd_logits=rtd_logits,
        )
        return outputs

    def _step_seed(self, inputs, training):
        """`[2]` int64 seed: (seed, replica) and the step counter in training, a batch fingerprint otherwise."""
        replica_context = tf.distribute.get_replica_context()
        replica_id = tf.cast(replica_context.replica_id_in_sync_group if replica_context else 0, tf.int64)
        if training:
            counter = tf.cast(self.step_counter, tf.int64)
        else:  # evaluation: the same batch always gets the same masks
            ids = tf.cast(inputs["input_word_ids"], tf.int64)
            counter = tf.reduce_sum(ids * tf.range(1, tf.shape(ids)[1] + 1, dtype=tf.int64)[tf.newaxis]) % (2**31)
        return tf.stack([tf.constant(self.seed, tf.int64) * 1_000_003 + replica_id, counter])

    # --- Training and evaluation steps ---

    def train_step(self, data):
        inputs = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            outputs = self(inputs, training=True)
            scaled_loss = self.optimizer.scale_loss(outputs["loss"])
        trainable_variables = self.trainable_variables
        gradients = tape.gradient(scaled_loss, trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, trainable_variables))
        self.step_counter.assign_add(1)
        return self._update_metrics(outputs, inputs)

    def test_step(self, data):
        inputs = data[0] if isinstance(data, (tuple, list)) else data
        return self._update_metrics(self(inputs, training=False), inputs)

    def _update_metrics(self, outputs, inputs):
        trackers = self._trackers
        # Losses are already global-batch averages of this replica's share: sum the shares.
        for name in ("loss", "mlm_loss", "rtd_loss"):
            if name in trackers:
                trackers[name].update_state(_global_sum(outputs[name]))
        predicted = tf.argmax(outputs["mlm_logits"], axis=-1, output_type=tf.int32)
        trackers["mlm_accuracy"].update_state(
            tf.cast(tf.equal(predicted, outputs["original_ids"]), tf.float32), sample_weight=outputs["mask_weights"]
        )
        if self.discriminator is not None:
            real = tf.cast(inputs["input_mask"], tf.float32)
            labels = tf.cast(outputs["rtd_labels"], tf.float32)
            probabilities = tf.sigmoid(outputs["rtd_logits"])
            predicted_replaced = tf.cast(probabilities > 0.5, tf.float32)
            trackers["rtd_accuracy"].update_state(tf.cast(tf.equal(predicted_replaced, labels), tf.float32), real)
            trackers["replaced_fraction"].update_state(labels, real)
            trackers["rtd_precision"].update_state(labels, probabilities, sample_weight=real)
            trackers["rtd_recall"].update_state(labels, probabilities, sample_weight=real)
        return {name: tracker.result() for name, tracker in trackers.items()}

    # --- Serialization ---

    def get_config(self):
        return {"name": self.name, "config": self.config.to_dict(), "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _global_sum(value):
    """Sums a value over the replicas of the current `tf.distribute` strategy (identity on one replica)."""
    replica_context = tf.distribute.get_replica_context()
    if replica_context is None or tf.distribute.get_strategy().num_replicas_in_sync == 1:
        return value
    return replica_context.all_reduce(tf.distribute.ReduceOp.SUM, value)
