"""Dynamic masking on real tokenized text: rates, shares, exclusions, uniqueness and static shapes."""

import numpy as np
import pytest
import tensorflow as tf

from electra_tf.masking import mask_tokens, scatter_at_positions

SEQ_LENGTH = 128
BUDGET = int((0.15 + 0.005) * SEQ_LENGTH)  # 19


@pytest.fixture(scope="module")
def real_batches(shared_data, english_vocab):
    """~2,000 sequences of real English text packed as [CLS] A [SEP] B [SEP] with padding."""
    from electra_tf.tokenization import Tokenizer

    tokenizer = Tokenizer(english_vocab)
    lines = []
    for path in sorted((shared_data / "corpus" / "en" / "gutenberg_sentences").glob("*.txt"))[:6]:
        lines += [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()][:400]
    ids = tokenizer(lines)
    half = len(lines) // 2
    packed = tokenizer.pack(ids[:half], ids[half : 2 * half], seq_length=SEQ_LENGTH)
    return tokenizer, {k: v.numpy() for k, v in packed.items()}


def _mask(inputs, tokenizer, seed, **kwargs):
    return mask_tokens(
        inputs["input_word_ids"],
        inputs["input_mask"],
        seed=seed,
        max_predictions=BUDGET,
        mask_rate=kwargs.get("mask_rate", 0.15),
        mask_id=tokenizer.mask_id,
        special_ids=[tokenizer.pad_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id],
        vocab_size=tokenizer.vocab_size,
        mask_token_rate=kwargs.get("mask_token_rate", 0.85),
        random_token_rate=kwargs.get("random_token_rate", 0.0),
    )


def test_masking_statistics_on_real_text(real_batches):
    tokenizer, inputs = real_batches
    ids, real = inputs["input_word_ids"], inputs["input_mask"]
    specials = {tokenizer.pad_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id}
    chosen = masked_share = kept_share = 0
    for seed in range(5):
        out = _mask(inputs, tokenizer, [seed, 7])
        positions, weights = out.positions.numpy(), out.weights.numpy()
        masked_ids, original = out.input_word_ids.numpy(), out.original_ids.numpy()
        assert positions.shape == weights.shape == (ids.shape[0], BUDGET)
        real_counts = real.sum(axis=1)
        expected = np.clip(np.round(real_counts * 0.15), 1, BUDGET)
        np.testing.assert_array_equal(weights.sum(axis=1), expected)
        for row in range(ids.shape[0]):
            picked = positions[row][weights[row] > 0]
            assert len(set(picked.tolist())) == len(picked), "a position was chosen twice"
            assert not specials & set(ids[row][picked].tolist()), "a special token was chosen"
            assert real[row][picked].all(), "padding was chosen"
            np.testing.assert_array_equal(original[row][weights[row] > 0], ids[row][picked])
            unpicked = np.ones(SEQ_LENGTH, bool)
            unpicked[picked] = False
            np.testing.assert_array_equal(masked_ids[row][unpicked], ids[row][unpicked])
            became_mask = masked_ids[row][picked] == tokenizer.mask_id
            masked_share += became_mask.sum()
            kept_share += (masked_ids[row][picked][~became_mask] == ids[row][picked][~became_mask]).sum()
            chosen += len(picked)
    rate = chosen / (5 * real.sum())
    assert 0.14 < rate < 0.16, rate
    assert abs(masked_share / chosen - 0.85) < 0.01
    assert kept_share == chosen - masked_share, "ELECTRA keeps, never randomises, the non-[MASK] positions"


def test_bert_80_10_10_shares(real_batches):
    tokenizer, inputs = real_batches
    out = _mask(inputs, tokenizer, [3, 3], mask_token_rate=0.8, random_token_rate=0.1)
    picked = out.weights.numpy() > 0
    new = tf.gather(out.input_word_ids, out.positions, batch_dims=1).numpy()[picked]
    original = out.original_ids.numpy()[picked]
    mask_share = np.mean(new == tokenizer.mask_id)
    kept_share = np.mean(new == original)
    assert abs(mask_share - 0.8) < 0.03 and abs(kept_share - 0.1) < 0.03, (mask_share, kept_share)
    specials = {tokenizer.pad_id, tokenizer.cls_id, tokenizer.sep_id, tokenizer.mask_id}
    assert not specials & set(new[(new != tokenizer.mask_id)].tolist())


def test_same_seed_same_masks_other_seed_other_masks(real_batches):
    tokenizer, inputs = real_batches
    a, b, c = (_mask(inputs, tokenizer, seed) for seed in ([1, 2], [1, 2], [1, 3]))
    np.testing.assert_array_equal(a.positions.numpy(), b.positions.numpy())
    assert not np.array_equal(a.positions.numpy(), c.positions.numpy())


def test_short_sequences_never_exceed_their_candidates():
    ids = tf.constant([[101, 5000, 102, 0, 0, 0], [101, 102, 0, 0, 0, 0]])
    out = mask_tokens(ids, tf.cast(ids > 0, tf.int32), seed=[0, 0], max_predictions=4, mask_rate=0.9,
                      mask_id=103, special_ids=[0, 101, 102, 103], vocab_size=30522)
    assert out.weights.numpy().sum(axis=1).tolist() == [1.0, 0.0]  # one candidate; none at all
    assert out.input_word_ids.numpy()[1].tolist() == [101, 102, 0, 0, 0, 0]


def test_static_shapes_compile_under_xla():
    masker = tf.function(
        lambda ids, mask, seed: mask_tokens(ids, mask, seed=seed, max_predictions=5, mask_rate=0.15, mask_id=103,
                                            special_ids=[0, 101, 102, 103], vocab_size=30522).positions,
        jit_compile=True,
    )
    ids = tf.random.stateless_uniform((3, 32), [0, 1], minval=1000, maxval=2000, dtype=tf.int32)
    positions = masker(ids, tf.ones_like(ids), tf.constant([4, 2], tf.int64))
    assert positions.shape == (3, 5)


def test_scatter_only_writes_real_slots():
    out = scatter_at_positions(tf.constant([[1, 2, 3, 4]]), tf.constant([[3, 0, 0]]), tf.constant([[9, 8, 7]]),
                               tf.constant([[True, False, False]]))
    assert out.numpy().tolist() == [[1, 2, 3, 9]]
