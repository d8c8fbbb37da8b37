"""Held-out quality of the generator and the discriminator, printing one JSON line.

For a pretrained model directory and held-out text (not used for pretraining), per language:

- fill-mask top-1 / top-5 accuracy: 15% of each sentence's word pieces (at least one) become `[MASK]` and are
  predicted in one pass (`electra_tf.generation.masked_lm.top_k_at_masks`, what `fill-mask` and the
  `fill_mask` signature run), beside a unigram-frequency baseline (the most frequent pieces of the
  pretraining corpus, whatever the context);
- discriminator ROC-AUC (`electra_tf.evaluation.pretraining_metrics.roc_auc`, sklearn's when that is absent)
  of P(replaced) over every word piece: (a) 15% of the pieces replaced by generator samples (Gumbel-max at
  temperature 1, as in pretraining; a sample equal to the original counts as original), (b) 15% replaced by
  uniformly random vocabulary pieces.

Example:
    $ python benchmarks/generation_quality.py --model runs/en/final --held-out austen-persuasion.txt \\
        --pretraining-corpus corpus_en/ --language en --sentences 500
"""

from __future__ import annotations

import argparse
import collections
import glob
import json
import os
import random
import time

import numpy as np


def read_lines(paths, min_tokens, tokenizer, limit, seed, tsv_column=None):
    lines = []
    for pattern in paths:
        for path in sorted(glob.glob(os.path.join(pattern, "*.txt")) if os.path.isdir(pattern) else glob.glob(pattern)):
            with open(path, encoding="utf-8", errors="replace") as f:
                rows = [line.strip() for line in f if line.strip()]
            if tsv_column is not None:
                rows = [row.split("\t")[tsv_column] for row in rows if len(row.split("\t")) > tsv_column]
            lines += rows
    random.Random(seed).shuffle(lines)
    kept = []
    for start in range(0, len(lines), 256):
        chunk = lines[start : start + 256]
        lengths = tokenizer(chunk).row_lengths().numpy()
        kept += [line for line, n in zip(chunk, lengths) if n >= min_tokens]
        if len(kept) >= limit:
            break
    return kept[:limit]


def unigram_top5(paths, tokenizer, special):
    counts = collections.Counter()
    for pattern in paths:
        for path in sorted(glob.glob(os.path.join(pattern, "*.txt")) if os.path.isdir(pattern) else glob.glob(pattern)):
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = [line for line in f if line.strip()]
            for start in range(0, len(lines), 4096):
                counts.update(tokenizer(lines[start : start + 4096]).flat_values.numpy().tolist())
    return [token for token, _ in counts.most_common(len(special) + 5) if token not in special][:5]


def auc(scores, labels):
    try:
        from electra_tf.evaluation.pretraining_metrics import roc_auc

        return float(roc_auc(scores, labels))
    except ImportError:
        from sklearn.metrics import roc_auc_score

        return float(roc_auc_score(labels, scores))


def evaluate(args):
    import tensorflow as tf

    from electra_tf.generation.masked_lm import top_k_at_masks
    from electra_tf.sampling import gumbel_max_sample
    from electra_tf.scoring.replaced_tokens import replaced_probabilities
    from electra_tf.text_model import TextModel

    model = TextModel.load(args.model, seq_length=args.seq_length)
    tokenizer = model.tokenizer
    special = {tokenizer.pad_id, tokenizer.unk_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id}
    lines = read_lines(args.held_out, 8, tokenizer, args.sentences, args.seed, args.tsv_column)
    top5_unigram = unigram_top5(args.pretraining_corpus, tokenizer, special)
    generator, discriminator = model.pretrainer.generator, model.pretrainer.discriminator
    fill = tf.function(lambda inputs: top_k_at_masks(generator, inputs, tokenizer.mask_id, 5), autograph=False)
    detect = tf.function(lambda inputs: replaced_probabilities(discriminator, inputs), autograph=False)

    @tf.function(autograph=False)
    def sample(inputs, positions, seed):
        logits = generator(inputs, mask_positions=positions, training=False)["mlm_logits"]
        return gumbel_max_sample(tf.cast(logits, tf.float32), seed)

    rng = np.random.default_rng(args.seed)
    hits1 = hits5 = unigram1 = unigram5 = masked_total = 0
    generator_scores, generator_labels, random_scores, random_labels = [], [], [], []
    start = time.time()
    for batch_start in range(0, len(lines), args.batch_size):
        inputs = model.pack(lines[batch_start : batch_start + args.batch_size])
        ids = inputs["input_word_ids"].numpy()
        real = (inputs["input_mask"].numpy() > 0) & ~np.isin(ids, list(special))
        chosen = np.zeros_like(real)
        for row in range(len(ids)):
            candidates = np.flatnonzero(real[row])
            count = max(1, int(round(0.15 * len(candidates))))
            chosen[row, rng.choice(candidates, count, replace=False)] = True
        max_chosen = int(chosen.sum(axis=1).max())
        positions = np.full((len(ids), max_chosen), -1, np.int32)
        for row in range(len(ids)):
            where = np.flatnonzero(chosen[row])
            positions[row, : len(where)] = where
        valid = positions >= 0
        originals = np.take_along_axis(ids, np.maximum(positions, 0), axis=1)

        # Fill-mask accuracy at the chosen positions.
        masked = ids.copy()
        masked[chosen] = tokenizer.mask_id
        masked_inputs = dict(inputs, input_word_ids=tf.constant(masked))
        top_ids = fill(masked_inputs)["top_ids"].numpy()  # [batch, masks, 5], in position order
        hits1 += int(((top_ids[:, :, 0] == originals) & valid).sum())
        hits5 += int(((top_ids == originals[:, :, None]).any(-1) & valid).sum())
        unigram1 += int(((originals == top5_unigram[0]) & valid).sum())
        unigram5 += int((np.isin(originals, top5_unigram) & valid).sum())
        masked_total += int(valid.sum())

        # Generator replacements (sampled given the masked text, as in pretraining).
        seed = tf.constant([args.seed, batch_start], tf.int64)
        sampled = sample(masked_inputs, tf.constant(np.maximum(positions, 0)), seed).numpy()
        corrupted = ids.copy()
        rows, slots = np.nonzero(valid)
        corrupted[rows, positions[rows, slots]] = sampled[rows, slots]
        labels = corrupted != ids
        probabilities = detect(dict(inputs, input_word_ids=tf.constant(corrupted))).numpy()
        generator_scores.append(probabilities[real])
        generator_labels.append(labels[real])

        # Uniformly random replacements (never a special piece, never the original).
        random_ids = ids.copy()
        for row, column in zip(*np.nonzero(chosen)):
            token = ids[row, column]
            while token == ids[row, column] or token in special:
                token = int(rng.integers(0, tokenizer.vocab_size))
            random_ids[row, column] = token
        probabilities = detect(dict(inputs, input_word_ids=tf.constant(random_ids))).numpy()
        random_scores.append(probabilities[real])
        random_labels.append((random_ids != ids)[real])

    generator_labels = np.concatenate(generator_labels)
    return {
        "model": os.path.abspath(args.model),
        "language": args.language,
        "held_out": args.held_out,
        "sentences": len(lines),
        "seq_length": model.seq_length,
        "masked_tokens": masked_total,
        "fill_mask_top1": hits1 / masked_total,
        "fill_mask_top5": hits5 / masked_total,
        "unigram_top1": unigram1 / masked_total,
        "unigram_top5": unigram5 / masked_total,
        "unigram_top5_tokens": [tokenizer.vocab[i] for i in top5_unigram],
        "rtd_auc_generator_replacements": auc(np.concatenate(generator_scores), generator_labels),
        "generator_replaced_fraction": float(generator_labels.mean()),
        "rtd_auc_random_replacements": auc(np.concatenate(random_scores), np.concatenate(random_labels)),
        "seconds": round(time.time() - start, 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="pretrained model directory")
    parser.add_argument("--held-out", nargs="+", required=True, help="held-out text files, folders or globs")
    parser.add_argument("--pretraining-corpus", nargs="+", required=True,
                        help="the corpus the model was pretrained on (for the unigram baseline)")
    parser.add_argument("--tsv-column", type=int, default=None,
                        help="held-out files are TSV: take this column (0-based) of each line")
    parser.add_argument("--language", default="", help="label for the output")
    parser.add_argument("--sentences", type=int, default=500, help="held-out lines to use")
    parser.add_argument("--seq-length", type=int, default=64, help="tokens per line, [CLS]/[SEP] included")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    print(json.dumps(evaluate(parser.parse_args()), ensure_ascii=False))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    main()
