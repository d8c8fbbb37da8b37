"""Tests for `electra_tf.input_packing`: `[CLS] A [SEP] (B [SEP])` layout, truncation, padding, graph use."""

import itertools

import pytest
import tensorflow as tf

from electra_tf.errors import InputError
from electra_tf.input_packing import pack_inputs, truncated_lengths

CLS, SEP, PAD = 101, 102, 0


def _truncate_seq_pair(tokens_a, tokens_b, max_num_tokens):
    """BERT's reference loop (create_pretraining_data.py / run_classifier.py), pops from the end here."""
    tokens_a, tokens_b = list(tokens_a), list(tokens_b)
    while len(tokens_a) + len(tokens_b) > max_num_tokens:
        (tokens_a if len(tokens_a) > len(tokens_b) else tokens_b).pop()
    return tokens_a, tokens_b


def test_truncated_lengths_match_berts_loop_on_a_grid():
    cases = list(itertools.product(range(0, 12), range(0, 12), range(0, 14)))
    lengths_a = tf.constant([a for a, _, _ in cases])
    lengths_b = tf.constant([b for _, b, _ in cases])
    for budget in range(0, 14):
        new_a, new_b = truncated_lengths(lengths_a, lengths_b, budget)
        for (a, b, _), got_a, got_b in zip(cases, new_a.numpy(), new_b.numpy()):
            want_a, want_b = _truncate_seq_pair(range(a), range(b), budget)
            assert (got_a, got_b) == (len(want_a), len(want_b)), (a, b, budget)


def test_pair_layout_types_mask_and_padding():
    a = tf.ragged.constant([[1, 2, 3, 4, 5, 6], [7]])
    b = tf.ragged.constant([[11, 12, 13], []])
    inputs = pack_inputs(a, b, seq_length=9, cls_id=CLS, sep_id=SEP, pad_id=PAD)
    assert inputs["input_word_ids"].numpy().tolist() == [
        [CLS, 1, 2, 3, SEP, 11, 12, 13, SEP],  # budget 6 of 9: A keeps 3, B keeps all 3
        [CLS, 7, SEP, SEP, PAD, PAD, PAD, PAD, PAD],  # an empty B still gets its [SEP]
    ]
    assert inputs["input_type_ids"].numpy().tolist() == [[0, 0, 0, 0, 0, 1, 1, 1, 1], [0, 0, 0, 1, 0, 0, 0, 0, 0]]
    assert inputs["input_mask"].numpy().tolist() == [[1] * 9, [1, 1, 1, 1, 0, 0, 0, 0, 0]]
    for value in inputs.values():
        assert value.dtype == tf.int32 and value.shape == (2, 9)


def test_single_segment_truncates_and_pads():
    inputs = pack_inputs([[1, 2, 3, 4, 5], [], [9]], seq_length=4, cls_id=CLS, sep_id=SEP, pad_id=PAD)
    assert inputs["input_word_ids"].numpy().tolist() == [[CLS, 1, 2, SEP], [CLS, SEP, PAD, PAD], [CLS, 9, SEP, PAD]]
    assert inputs["input_type_ids"].numpy().tolist() == [[0] * 4] * 3
    assert inputs["input_mask"].numpy().sum(axis=1).tolist() == [4, 2, 3]


def test_dense_input_and_tf_function_with_unknown_batch():
    @tf.function(
        input_signature=[tf.RaggedTensorSpec([None, None], tf.int32), tf.RaggedTensorSpec([None, None], tf.int32)]
    )
    def pack(a, b):
        return pack_inputs(a, b, seq_length=6, cls_id=CLS, sep_id=SEP, pad_id=PAD)

    traced = pack(tf.ragged.constant([[5, 5, 5, 5]]), tf.ragged.constant([[6, 6, 6]]))
    assert traced["input_word_ids"].shape.as_list() == [1, 6]
    assert traced["input_word_ids"].numpy().tolist() == [[CLS, 5, 5, SEP, 6, SEP]]
    dense = pack_inputs(tf.constant([[5, 5, 5, 5]]), [[6, 6, 6]], seq_length=6, cls_id=CLS, sep_id=SEP, pad_id=PAD)
    assert dense["input_word_ids"].numpy().tolist() == traced["input_word_ids"].numpy().tolist()


@pytest.mark.parametrize("seq_length, pair", [(1, False), (2, True), ("128", False)])
def test_seq_length_too_short(seq_length, pair):
    with pytest.raises(InputError, match="seq_length"):
        pack_inputs([[1]], [[2]] if pair else None, seq_length=seq_length, cls_id=CLS, sep_id=SEP, pad_id=PAD)
