"""The names that exported ELECTRA SavedModels and this client agree on: signatures, input and output keys.

This is the one place to change when the exporter renames a signature or a tensor. The server does not use
these names: like TF Serving, it serves whatever signatures a SavedModel has.

Example:
    >>> from electra_serving import signatures
    >>> signatures.FILL_MASK, signatures.TEXT
    ('fill_mask', 'text')
"""

# === Signature names ===
SERVING_DEFAULT = "serving_default"  # TF Serving's default key; the exporter maps it to replaced-token detection.
REPLACED_TOKEN_DETECTION = "replaced_token_detection"
FILL_MASK = "fill_mask"
ENCODE = "encode"
TOKEN_IDS_SUFFIX = "_ids"  # `fill_mask_ids` etc.: the same computation on token ids instead of raw text.

# === Inputs ===
TEXT = "text"  # string [batch], raw UTF-8 text, tokenized in the graph.
INPUT_WORD_IDS = "input_word_ids"  # int32 [batch, seq]
INPUT_MASK = "input_mask"  # int32 [batch, seq], 1 = real token (also an output of the text signatures).
INPUT_TYPE_IDS = "input_type_ids"  # int32 [batch, seq]

# === Outputs: replaced-token detection ===
TOKENS = "tokens"  # string [batch, seq], the WordPiece tokens the model saw.
REPLACED_PROBABILITY = "replaced_probability"  # float [batch, seq], P(token was replaced).

# === Outputs: fill mask ===
TOP_TOKENS = "top_tokens"  # string [batch, masks, k]
TOP_PROBABILITIES = "top_probabilities"  # float [batch, masks, k]
TOP_IDS = "top_ids"  # int32 [batch, masks, k]
MASK_POSITIONS = "mask_positions"  # int32 [batch, masks], index of each [MASK] in the sequence; -1 = no mask
MASK_TOKEN = "[MASK]"  # how a text marks a position to fill; one row of `top_*` per occurrence.

# === Generation: `infill` (input `text` with [MASK] gaps), `generate` (inputs `text`, `num_tokens`) ===
INFILL = "infill"
GENERATE = "generate"
NUM_TOKENS = "num_tokens"  # int32 [batch], word pieces `generate` appends to each prefix.
OUTPUT_TEXT = "output_text"  # string [batch], the best filled text.
CANDIDATE_TEXTS = "candidate_texts"  # string [batch, candidates], best first.
CANDIDATE_SCORES = "candidate_scores"  # float [batch, candidates], the discriminator's mean log P(original).
GENERATED = "generated"  # int32 [batch, seq], 1 where a token was generated.

# === Outputs: encode (TF Hub BERT convention) ===
POOLED_OUTPUT = "pooled_output"  # float [batch, hidden]
SEQUENCE_OUTPUT = "sequence_output"  # float [batch, seq, hidden]

# === Signatures of fine-tuned models: classify, answer, tag ===
CLASSIFY = "classify"  # label and class probabilities (regression: score) of `text` (+ `text_b` for pair tasks)
ANSWER = "answer"  # `question` + `context` -> answer text and character offsets; also the answer text output
TAG = "tag"  # a tag per word of `text`, with character spans
TEXT_B = "text_b"  # string [batch], the second text of a pair task
QUESTION = "question"  # string [batch]
CONTEXT = "context"  # string [batch]
LABEL = "label"  # string [batch]
LABEL_ID = "label_id"  # int32 [batch]
PROBABILITIES = "probabilities"  # float [batch, classes]
LABELS = "labels"  # string [batch, classes], class names in index order
SCORE = "score"  # float [batch]: regression prediction (classify); start + end logit (answer)
ANSWER_START = "start"  # int32 [batch], character offset in the context; -1 = no answer
ANSWER_END = "end"  # int32 [batch], character offset just past the answer; -1 = no answer
NULL_SCORE_DIFF = "null_score_diff"  # float [batch], SQuAD 2.0: above the model's threshold = no answer
WORDS = "words"  # string [batch, words]; "" pads shorter rows
TAGS = "tags"  # string [batch, words]
TAG_PROBABILITIES = "tag_probabilities"  # float [batch, words]
WORD_STARTS = "word_starts"  # int32 [batch, words], character offsets; -1 pads
WORD_ENDS = "word_ends"  # int32 [batch, words]


def token_ids_twin(signature_name: str) -> str:
    """Returns the name of the token-id twin of a text signature, e.g. `fill_mask` -> `fill_mask_ids`."""
    return signature_name + TOKEN_IDS_SUFFIX
