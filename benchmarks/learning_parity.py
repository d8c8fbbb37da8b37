"""Learning parity: our ElectraPretrainer against an independent ELECTRA built on Hugging Face PyTorch classes.

Both learners see the same prepared data (the same batches in the same order for a given seed), for the same
number of steps, with the same recipe, and are evaluated on the same held-out batches with the same masks:

- **ours**: `electra_tf.ElectraPretrainer(config, seed)`, `compile()` (ElectraAdamW, clip 1.0, warm-up and
  linear decay), `fit` over the batches.
- **reference**: `transformers.ElectraForMaskedLM` (generator) and `ElectraForPreTraining` (discriminator) in
  PyTorch, written here from the paper and google-research/electra, not from our code: the generator shares the
  discriminator's embedding module (word, position, type embeddings and LayerNorm) and its output layer is
  tied to the word embeddings; masking is a NumPy version of the paper's rule (15% of real tokens, budget
  `int((rate + 0.005) * seq)`, chosen without replacement, never [CLS]/[SEP]/[PAD]/[MASK], 85% [MASK], 15%
  kept); Gumbel-max sampling at the config's temperature outside the gradient, a sample equal to the
  original labelled original; loss MLM + 50 x RTD over non-pad tokens; AdamW without bias correction (the reference
  optimizer's `AdamWeightDecayOptimizer`), decay 0.01 except LayerNorm and biases, clip 1.0, the same schedule.

Held-out evaluation (identical for both): the first `--eval-batches` batches of the held-out split, masked by
NumPy with seed (1234, batch), generator samples drawn by each learner with fixed seeds, then RTD ROC-AUC over
all non-pad tokens (sklearn) and generator top-1 accuracy at the masked positions.

Prints one JSON object: per seed and learner the held-out `rtd_auc`, `mlm_accuracy`, the final training loss
and the seconds, then the mean and sample std of each learner and whether ours lies within the reference's
spread (mean ± 2 std, or its min–max for fewer than 3 seeds).

Example:
    $ electra-tf prepare corpus.txt --vocab vocab.txt --out data --seq-len 64 --validation-fraction 0.05
    $ python benchmarks/learning_parity.py --data data --config pipelines/quickstart_model.yaml --steps 600 \\
          --batch-size 64 --seeds 0 1 2
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))

EVAL_SEED = 1234


# --- Data (shared by both learners) ---

def _parse_fn(seq_length):
    import tensorflow as tf

    names = ("input_ids", "input_mask", "segment_ids")
    features = {name: tf.io.FixedLenFeature([seq_length], tf.int64) for name in names}

    def parse(records):
        parsed = tf.io.parse_example(records, features)
        return {"input_word_ids": tf.cast(parsed["input_ids"], tf.int32),
                "input_mask": tf.cast(parsed["input_mask"], tf.int32),
                "input_type_ids": tf.cast(parsed["segment_ids"], tf.int32)}

    return parse


def _manifest(data_dir):
    with open(os.path.join(data_dir, "manifest.json"), encoding="utf-8") as stream:
        return json.load(stream)


def training_batches(data_dir, batch_size, steps, seed):
    """`steps` batches (dict of int32 numpy `[batch, seq]`) in a seeded shuffled order, the same for both learners."""
    import tensorflow as tf

    manifest = _manifest(data_dir)
    files = [os.path.join(data_dir, shard["file"]) for shard in manifest["shards"]]
    dataset = tf.data.TFRecordDataset(files).shuffle(20_000, seed=seed).repeat()
    dataset = dataset.batch(batch_size, drop_remainder=True).map(_parse_fn(manifest["seq_length"])).take(steps)
    return [{name: value.numpy() for name, value in batch.items()} for batch in dataset]


def held_out_batches(data_dir, held_out_dir, batch_size, count):
    """The first `count` held-out batches: the data folder's validation split, or a separately prepared folder."""
    import tensorflow as tf

    if held_out_dir:
        manifest = _manifest(held_out_dir)
        files = [os.path.join(held_out_dir, shard["file"]) for shard in manifest["shards"]]
    else:
        manifest = _manifest(data_dir)
        shards = manifest.get("validation_shards") or []
        files = [os.path.join(data_dir, shard["file"] if isinstance(shard, dict) else shard) for shard in shards]
        if not files:
            files = sorted(glob.glob(os.path.join(data_dir, "validation*.tfrecord")))
        if not files:
            raise SystemExit(f"{data_dir} has no held-out split: prepare it with --validation-fraction, or pass "
                             "--held-out DIR (a folder prepared from held-out text with the same vocabulary).")
    dataset = tf.data.TFRecordDataset(files).batch(batch_size).map(_parse_fn(manifest["seq_length"])).take(count)
    return [{name: value.numpy() for name, value in batch.items()} for batch in dataset]


# --- The paper's masking, in NumPy (the reference learner's, and the evaluation's) ---

def numpy_mask(batch, config, rng):
    """Returns (masked_ids [B, L], positions [B, P], original_ids [B, P], weights [B, P]) by the paper's rule."""
    ids, real = batch["input_word_ids"], batch["input_mask"].astype(bool)
    budget = config.max_predictions
    special = np.isin(ids, list(config.special_ids))
    candidate = real & ~special
    count = np.clip(np.round(real.sum(-1) * config.mask_rate).astype(int), 1, budget)
    count = np.minimum(count, candidate.sum(-1))
    positions = np.zeros((ids.shape[0], budget), np.int64)
    weights = np.zeros((ids.shape[0], budget), np.float32)
    masked = ids.copy()
    for row in range(ids.shape[0]):
        chosen = rng.choice(np.flatnonzero(candidate[row]), size=count[row], replace=False)
        positions[row, :count[row]] = chosen
        weights[row, :count[row]] = 1.0
        to_mask = chosen[rng.random(count[row]) < config.mask_token_rate]
        masked[row, to_mask] = config.mask_id
    original = np.take_along_axis(ids, positions, axis=1)
    return masked, positions, original, weights


def roc_auc(scores, labels):
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores)) if 0 < labels.sum() < labels.size else math.nan


# --- Ours ---

def train_ours(config, batches, seed):
    import keras
    import tensorflow as tf

    from electra_tf import ElectraPretrainer

    keras.utils.set_random_seed(seed)
    pretrainer = ElectraPretrainer(config, seed=seed)
    pretrainer.compile()
    dataset = tf.data.Dataset.from_tensor_slices(
        {name: np.stack([batch[name] for batch in batches]) for name in batches[0]})
    start = time.perf_counter()
    history = pretrainer.fit(dataset, epochs=1, steps_per_epoch=len(batches), verbose=0)
    seconds = time.perf_counter() - start
    return pretrainer, {"train_loss": float(history.history["loss"][-1]), "seconds": seconds}


def evaluate_ours(pretrainer, config, held_out):
    import tensorflow as tf

    from electra_tf.masking import scatter_at_positions
    from electra_tf.sampling import gumbel_max_sample

    scores, labels, correct, total = [], [], 0.0, 0.0
    for index, batch in enumerate(held_out):
        masked, positions, original, weights = numpy_mask(batch, config, np.random.default_rng([EVAL_SEED, index]))
        inputs = {"input_word_ids": tf.constant(masked, tf.int32), "input_mask": tf.constant(batch["input_mask"]),
                  "input_type_ids": tf.constant(batch["input_type_ids"])}
        logits = pretrainer.generator(inputs, mask_positions=tf.constant(positions, tf.int32))["mlm_logits"]
        sampled = gumbel_max_sample(logits, seed=[EVAL_SEED + 1, index], temperature=config.sampling_temperature,
                                    disallow_ids=tf.constant(original, tf.int32) if config.disallow_correct else None)
        corrupted = scatter_at_positions(inputs["input_word_ids"], tf.constant(positions, tf.int32), sampled,
                                         tf.constant(weights > 0)).numpy()
        rtd_logits = pretrainer.discriminator({**inputs, "input_word_ids": tf.constant(corrupted)})["rtd_logits"]
        real = batch["input_mask"] > 0
        scores.append(rtd_logits.numpy()[real])
        labels.append((corrupted != batch["input_word_ids"])[real])
        correct += float(((np.argmax(logits.numpy(), -1) == original) * weights).sum())
        total += float(weights.sum())
    return {"rtd_auc": roc_auc(np.concatenate(scores), np.concatenate(labels)), "mlm_accuracy": correct / total}


# --- The reference (Hugging Face PyTorch) ---

def build_reference(config, seed):
    import torch
    from transformers import ElectraConfig as HFConfig
    from transformers import ElectraForMaskedLM, ElectraForPreTraining

    torch.manual_seed(seed)
    common = dict(vocab_size=config.vocab_size, embedding_size=config.embedding_size,
                  max_position_embeddings=config.max_position_embeddings, type_vocab_size=config.type_vocab_size,
                  hidden_dropout_prob=config.hidden_dropout, attention_probs_dropout_prob=config.attention_dropout,
                  initializer_range=config.initializer_range, layer_norm_eps=config.layer_norm_epsilon,
                  hidden_act="gelu", num_hidden_layers=config.num_layers, pad_token_id=config.pad_id)
    discriminator = ElectraForPreTraining(HFConfig(hidden_size=config.hidden_size, num_attention_heads=config.num_heads,
                                                   intermediate_size=config.intermediate_size, **common))
    generator = ElectraForMaskedLM(HFConfig(hidden_size=config.generator_hidden_size,
                                            num_attention_heads=config.generator_num_heads,
                                            intermediate_size=config.generator_intermediate_size, **common))
    # Shared embeddings (word, position, type, LayerNorm) and the generator's output tied to the word embeddings.
    generator.electra.embeddings = discriminator.electra.embeddings
    generator.generator_lm_head.weight = discriminator.electra.embeddings.word_embeddings.weight
    return generator, discriminator


class ReferenceAdamW:
    """google-research/electra's AdamWeightDecayOptimizer: Adam without bias correction, decoupled decay."""

    def __init__(self, named_parameters, weight_decay, beta_1=0.9, beta_2=0.999, epsilon=1e-6):
        import torch

        unique = {}
        for name, parameter in named_parameters:
            unique.setdefault(id(parameter), (name, parameter))
        self.parameters = [parameter for _, parameter in unique.values()]
        self.decay = [0.0 if ("LayerNorm" in name or name.endswith("bias")) else weight_decay
                      for name, _ in unique.values()]
        self.m = [torch.zeros_like(parameter) for parameter in self.parameters]
        self.v = [torch.zeros_like(parameter) for parameter in self.parameters]
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def step(self, learning_rate):
        import torch

        with torch.no_grad():
            for parameter, m, v, decay in zip(self.parameters, self.m, self.v, self.decay):
                if parameter.grad is None:
                    continue
                gradient = parameter.grad
                m.mul_(self.beta_1).add_(gradient, alpha=1 - self.beta_1)
                v.mul_(self.beta_2).addcmul_(gradient, gradient, value=1 - self.beta_2)
                update = m / (v.sqrt() + self.epsilon) + decay * parameter
                parameter.add_(update, alpha=-learning_rate)

    def zero_grad(self):
        for parameter in self.parameters:
            parameter.grad = None


def _learning_rate(config, step):
    """Linear warm-up to the peak, then linear decay to 0 at `train_steps` (step counts from 0)."""
    if config.warmup_steps and step < config.warmup_steps:
        return config.learning_rate * step / config.warmup_steps
    return config.learning_rate * max(0.0, 1 - step / config.train_steps)


def _gumbel_sample(logits, generator, config, original):
    """Gumbel-max sample of softmax(logits / temperature), optionally never the original token; no gradient."""
    import torch

    logits = logits.detach() / config.sampling_temperature
    if config.disallow_correct:
        logits = logits - 1000.0 * torch.nn.functional.one_hot(original, logits.shape[-1])
    uniform = torch.rand(logits.shape, generator=generator)
    return torch.argmax(logits - torch.log(-torch.log(uniform + 1e-9) + 1e-9), dim=-1)


def reference_forward(generator, discriminator, batch, masked, positions, original, weights, torch_rng, config):
    """One ELECTRA forward pass: returns (loss, mlm_loss, rtd_loss, mlm_logits [B, P, V], corrupted, rtd_logits)."""
    import torch
    import torch.nn.functional as F

    ids = torch.as_tensor(batch["input_word_ids"], dtype=torch.long)
    mask = torch.as_tensor(batch["input_mask"], dtype=torch.long)
    types = torch.as_tensor(batch["input_type_ids"], dtype=torch.long)
    positions_t = torch.as_tensor(positions, dtype=torch.long)
    weights_t = torch.as_tensor(weights)
    logits = generator(input_ids=torch.as_tensor(masked, dtype=torch.long), attention_mask=mask,
                       token_type_ids=types).logits  # [B, L, V]
    logits = torch.gather(logits, 1, positions_t[..., None].expand(-1, -1, logits.shape[-1]))  # [B, P, V]
    original_t = torch.as_tensor(original, dtype=torch.long)
    token_loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), original_t.reshape(-1), reduction="none")
    mlm_loss = (token_loss * weights_t.reshape(-1)).sum() / weights_t.sum()
    sampled = _gumbel_sample(logits, torch_rng, config, original_t)  # [B, P], no gradient
    corrupted = torch.as_tensor(masked, dtype=torch.long).clone()
    real_slots = weights_t > 0
    rows = torch.arange(ids.shape[0])[:, None].expand_as(positions_t)
    corrupted[rows[real_slots], positions_t[real_slots]] = sampled[real_slots]
    labels = ((corrupted != ids).long() * mask).float()
    rtd_logits = discriminator(input_ids=corrupted, attention_mask=mask, token_type_ids=types).logits  # [B, L]
    rtd_token_loss = F.binary_cross_entropy_with_logits(rtd_logits, labels, reduction="none")
    rtd_loss = (rtd_token_loss * mask).sum() / mask.sum()
    loss = mlm_loss + config.rtd_loss_weight * rtd_loss
    return loss, mlm_loss, rtd_loss, logits, corrupted, rtd_logits


def train_reference(config, batches, seed):
    import torch

    generator, discriminator = build_reference(config, seed)
    named = list(discriminator.named_parameters()) + list(generator.named_parameters())
    optimizer = ReferenceAdamW(named, config.weight_decay)
    rng = np.random.default_rng([seed, 7])
    torch_rng = torch.Generator().manual_seed(seed)
    generator.train()
    discriminator.train()
    start = time.perf_counter()
    loss_value = math.nan
    for step, batch in enumerate(batches):
        masked, positions, original, weights = numpy_mask(batch, config, rng)
        loss, *_ = reference_forward(generator, discriminator, batch, masked, positions, original, weights, torch_rng,
                                     config)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(optimizer.parameters, config.clip_norm)
        optimizer.step(_learning_rate(config, step))
        loss_value = float(loss.detach())
    return (generator, discriminator), {"train_loss": loss_value, "seconds": time.perf_counter() - start}


def evaluate_reference(models, config, held_out):
    import torch

    generator, discriminator = models
    generator.eval()
    discriminator.eval()
    scores, labels, correct, total = [], [], 0.0, 0.0
    with torch.no_grad():
        for index, batch in enumerate(held_out):
            masked, positions, original, weights = numpy_mask(batch, config, np.random.default_rng([EVAL_SEED, index]))
            torch_rng = torch.Generator().manual_seed(EVAL_SEED + index)
            _, _, _, logits, corrupted, rtd_logits = reference_forward(
                generator, discriminator, batch, masked, positions, original, weights, torch_rng, config)
            real = batch["input_mask"] > 0
            scores.append(rtd_logits.numpy()[real])
            labels.append((corrupted.numpy() != batch["input_word_ids"])[real])
            correct += float(((logits.argmax(-1).numpy() == original) * weights).sum())
            total += float(weights.sum())
    return {"rtd_auc": roc_auc(np.concatenate(scores), np.concatenate(labels)), "mlm_accuracy": correct / total}


# --- Driver ---

def model_config(args, manifest):
    from electra_tf import ElectraConfig
    from electra_tf.tokenization import Tokenizer

    overrides = {}
    if args.config:
        import yaml

        with open(args.config, encoding="utf-8") as stream:
            overrides = dict(yaml.safe_load(stream) or {})
    preset = overrides.pop("preset", None) or args.preset
    vocab = Tokenizer(os.path.join(args.data, manifest.get("vocab_file", "vocab.txt")))
    facts = {name: int(getattr(vocab, name)) for name in ("vocab_size", "pad_id", "unk_id", "cls_id", "sep_id",
                                                            "mask_id")}
    flags = {"train_steps": args.steps, "batch_size": args.batch_size, "seq_length": manifest["seq_length"]}
    if args.learning_rate:
        flags["learning_rate"] = args.learning_rate
    if args.warmup_steps is not None:
        flags["warmup_steps"] = args.warmup_steps
    values = {**overrides, **flags, **facts}
    if "warmup_steps" not in values:
        values["warmup_steps"] = min(ElectraConfig.preset(preset).warmup_steps, args.steps // 10)
    return ElectraConfig.preset(preset, **values)


def spread(values):
    values = [value for value in values if not math.isnan(value)]
    if not values:
        return {"mean": math.nan, "std": math.nan, "min": math.nan, "max": math.nan}
    mean = float(np.mean(values))
    std = float(np.std(values, ddof=1)) if len(values) > 1 else 0.0
    return {"mean": mean, "std": std, "min": float(min(values)), "max": float(max(values))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="folder written by `electra-tf prepare`")
    parser.add_argument("--held-out", help="held-out folder (default: the data folder's validation split)")
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--config", help="YAML of ElectraConfig fields (as `electra-tf pretrain --config`)")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float)
    parser.add_argument("--warmup-steps", type=int)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--eval-batches", type=int, default=16)
    parser.add_argument("--eval-batch-size", type=int, default=64)
    parser.add_argument("--learners", nargs="+", default=["ours", "reference"], choices=["ours", "reference"])
    args = parser.parse_args()

    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    manifest = _manifest(args.data)
    config = model_config(args, manifest)
    held_out = held_out_batches(args.data, args.held_out, args.eval_batch_size, args.eval_batches)
    results = {learner: [] for learner in args.learners}
    for seed in args.seeds:
        batches = training_batches(args.data, config.batch_size, config.train_steps, seed)
        for learner in args.learners:
            if learner == "ours":
                model, info = train_ours(config, batches, seed)
                metrics = evaluate_ours(model, config, held_out)
            else:
                model, info = train_reference(config, batches, seed)
                metrics = evaluate_reference(model, config, held_out)
            entry = {"seed": seed, **metrics, **info}
            results[learner].append(entry)
            print(json.dumps({"learner": learner, **entry}), file=sys.stderr, flush=True)
    summary = {learner: {metric: spread([entry[metric] for entry in entries])
                         for metric in ("rtd_auc", "mlm_accuracy", "seconds")}
               for learner, entries in results.items()}
    verdict = {}
    if "ours" in summary and "reference" in summary:
        for metric in ("rtd_auc", "mlm_accuracy"):
            ours, reference = summary["ours"][metric], summary["reference"][metric]
            if len(args.seeds) >= 3:
                low, high = reference["mean"] - 2 * reference["std"], reference["mean"] + 2 * reference["std"]
            else:
                low, high = reference["min"], reference["max"]
            verdict[metric] = {"difference": ours["mean"] - reference["mean"], "reference_band": [low, high],
                               "ours_within": bool(low <= ours["mean"] <= high)}
    print(json.dumps({
        "benchmark": "learning_parity", "data": args.data, "steps": config.train_steps,
        "batch_size": config.batch_size, "seq_length": config.seq_length, "seeds": args.seeds,
        "config": config.to_dict(), "held_out_sequences": sum(len(batch["input_mask"]) for batch in held_out),
        "results": results, "summary": summary, "verdict": verdict,
    }))


if __name__ == "__main__":
    main()
