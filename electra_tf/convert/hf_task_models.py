"""`task_to_hf`: a fine-tuned task model as one Hugging Face folder that `transformers` loads.

- `ElectraTokenTagger` (tagging) -> `ElectraForTokenClassification`: our `tagger` is its `classifier`.
- `ElectraQuestionAnswerer` (qa) -> `ElectraForQuestionAnswering`: our `span_head` is its `qa_outputs`
  (output 0 start, 1 end).
- `ElectraSequenceClassifier` (classification, regression) -> `ElectraForSequenceClassification`, through the
  exact rewrite below.

The encoder and embeddings use the bindings of `hf_names`, as `to_hf` does.

Sequence classification: ours is the reference's `[CLS] -> dropout -> Dense(num_labels)` (`x W + b`);
transformers' `ElectraClassificationHead` is `[CLS] -> dense(hidden, hidden) -> GELU -> out_proj`, with the
erf GELU fixed in its code. The linear head is written into it exactly through `gelu(u) - gelu(-u) = u`
(`u Phi(u) + u Phi(-u) = u`, as `Phi(u) + Phi(-u) = 1`): `dense` rows `0..L-1` are `W^T`, rows `L..2L-1` are
`-W^T`, the others and its bias 0 (`gelu(0) = 0`); `out_proj` is `[I_L, -I_L, 0]` with bias `b`. Inference
gives our logits up to float32 rounding; it needs `2 * num_labels <= hidden_size`, and a model with more labels
is refused. Training it further in transformers is possible (its dropout sits between the two layers, so the
head then leaves this form).

Question answering: transformers' model returns the raw start/end logits; ours adds -10000 outside the context
(`answer_positions_mask`: real type-1 tokens and `[CLS]`), which decoding applies anyway. Our answerability
classifier (SQuAD 2.0) has no place in `ElectraForQuestionAnswering`; for a `version_2_with_negative` model it
is written beside the weights in `answerable_head.safetensors` (PyTorch layout, see `ANSWERABLE_FORMULA`),
which transformers ignores. A SQuAD 1.1 model's classifier was never trained and is not written.

Example:
>>> from electra_tf.finetuning.task_model_dir import load_task_model_dir
>>> model, tokenizer, spec = load_task_model_dir("models/conll")  # doctest: +SKIP
>>> task_to_hf(model, spec, "hf/conll").architecture  # doctest: +SKIP
'ElectraForTokenClassification'
>>> # transformers.ElectraForTokenClassification.from_pretrained("hf/conll") loads it.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import safetensors.numpy

from electra_tf.convert import hf_names
from electra_tf.convert.checkpoint_files import write_checkpoint_folder
from electra_tf.convert.hf import write_tokenizer_files
from electra_tf.convert.hf_config import hf_configs
from electra_tf.convert.tensor_binding import export_bindings
from electra_tf.errors import InputError

ANSWERABLE_FILE = "answerable_head.safetensors"
ANSWERABLE_FORMULA = (
    "answerable_logit = answerable_head(gelu(answerable_hidden(concat([h[:, 0], softmax(start) @ h], -1)))), "
    "h = the encoder's last hidden state [batch, seq, hidden], start = the start logits with -10000 added "
    "outside the context (positions that are not real type-1 tokens, [CLS] excepted); gelu is the erf form; "
    "weights are PyTorch Linear [out, in]; > 0 means answerable"
)


@dataclasses.dataclass(frozen=True)
class HfTaskFolder:
    """What `task_to_hf` wrote.

    Attributes:
        path: str. The Hugging Face folder.
        architecture: str. The `transformers` class that loads it.
        head: str. How our head's weights appear in it.
        side_file: str or None. A file of weights transformers does not load (the answerability classifier).
        not_in_transformers: str. What our model computes that the transformers class does not ("" if nothing).
    """

    path: str
    architecture: str
    head: str
    side_file: str | None
    not_in_transformers: str


def task_to_hf(model, spec, out_dir, vocab_file=None, lowercase=True) -> HfTaskFolder:
    """Writes a fine-tuned task model as one Hugging Face folder (see the module docstring for the mapping).

    The folder holds `config.json` (with `id2label`/`label2id` from `spec.labels`), `model.safetensors`
    (float32), with `vocab_file` the `vocab.txt` and `tokenizer_config.json` of `ElectraTokenizer`, and for a
    SQuAD 2.0 model `answerable_head.safetensors`.

    Args:
        model: `ElectraSequenceClassifier`, `ElectraQuestionAnswerer` or `ElectraTokenTagger`.
        spec: `TaskSpec`. The model's `task.json`.
        out_dir: path. Created if needed; files of the same names are overwritten.
        vocab_file: path or None. The vocabulary to ship beside the weights.
        lowercase: bool. Whether the tokenizer lower-cases (written as `do_lower_case`).

    Returns: `HfTaskFolder`.

    Raises:
        InputError: a classifier has more than `hidden_size / 2` labels (no exact form; nothing is written).
    """
    out_dir = os.fspath(out_dir)
    config, _ = hf_configs(model.config)
    body = hf_names.embedding_bindings(model.embeddings) + hf_names.encoder_bindings(model.encoder)
    tensors = export_bindings(body)
    side_tensors = None
    not_in_transformers = ""
    if spec.task in ("classification", "regression"):
        architecture = "ElectraForSequenceClassification"
        head = "our Dense(num_labels) as classifier.dense [W, -W] -> GELU -> out_proj [I, -I], exactly"
        tensors.update(_sequence_head_tensors(model))
        labels = spec.labels or ("LABEL_0",)
        config.update(
            problem_type="regression" if spec.task == "regression" else "single_label_classification",
            classifier_dropout=model.classifier_dropout,
        )
    elif spec.task == "tagging":
        architecture = "ElectraForTokenClassification"
        head = "our tagger as classifier"
        tensors.update(export_bindings(hf_names.dense_bindings(model.tagger, "classifier")))
        labels = spec.labels
        config.update(classifier_dropout=0.0)  # ours has no dropout before the tag layer
    else:  # "qa": TaskSpec accepts no other task
        architecture = "ElectraForQuestionAnswering"
        head = "our span_head as qa_outputs (start, end)"
        tensors.update(export_bindings(hf_names.dense_bindings(model.span_head, "qa_outputs")))
        labels = ("start", "end")
        not_in_transformers = "the -10000 on start/end logits outside the context"
        if spec.version_2_with_negative:
            side_tensors = export_bindings(
                hf_names.dense_bindings(model.answerable_hidden, "answerable_hidden")
                + hf_names.dense_bindings(model.answerable_head, "answerable_head")
            )
            not_in_transformers += f" and the answerability classifier (written to {ANSWERABLE_FILE})"
    config.update(
        architectures=[architecture],
        id2label={str(index): label for index, label in enumerate(labels)},
        label2id={label: index for index, label in enumerate(labels)},
    )
    write_checkpoint_folder(out_dir, config, tensors)
    side_file = None
    if side_tensors is not None:
        side_file = os.path.join(out_dir, ANSWERABLE_FILE)
        safetensors.numpy.save_file(side_tensors, side_file, metadata={"format": "pt", "formula": ANSWERABLE_FORMULA})
    if vocab_file is not None:
        write_tokenizer_files(out_dir, vocab_file, lowercase, model.config.max_position_embeddings)
    return HfTaskFolder(out_dir, architecture, head, side_file, not_in_transformers)


def _sequence_head_tensors(model) -> dict[str, np.ndarray]:
    """Our `Dense(num_labels)` on `[CLS]` as `ElectraClassificationHead`'s dense -> GELU -> out_proj, exactly.

    `kernel` `[hidden, L]`, `bias` `[L]` -> `classifier.dense` `[hidden, hidden]` holding `W^T` and `-W^T`,
    `classifier.out_proj` `[L, hidden]` holding `I` and `-I`: `gelu(u) - gelu(-u) = u` (module docstring).
    """
    kernel = np.asarray(model.classifier.kernel.numpy(), np.float32)  # [hidden, L]
    bias = np.asarray(model.classifier.bias.numpy(), np.float32)  # [L]
    hidden, num_labels = kernel.shape
    if 2 * num_labels > hidden:
        raise InputError(
            f"Cannot write this classifier as ElectraForSequenceClassification exactly: it has num_labels="
            f"{num_labels} and hidden_size={hidden}; the exact form needs 2 * num_labels <= hidden_size. "
            "Export it with `electra-tf export` instead."
        )
    dense = np.zeros((hidden, hidden), np.float32)  # [out, in]
    dense[:num_labels] = kernel.T
    dense[num_labels:2 * num_labels] = -kernel.T
    out_proj = np.zeros((num_labels, hidden), np.float32)  # [out, in]
    identity = np.eye(num_labels, dtype=np.float32)
    out_proj[:, :num_labels] = identity
    out_proj[:, num_labels:2 * num_labels] = -identity
    return {
        "classifier.dense.weight": dense,
        "classifier.dense.bias": np.zeros((hidden,), np.float32),
        "classifier.out_proj.weight": out_proj,
        "classifier.out_proj.bias": bias,
    }
