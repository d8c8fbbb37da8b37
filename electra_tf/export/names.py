"""The names exported ELECTRA SavedModels expose: signatures, input and output keys, root attributes.

They are a contract with clients (the `electra_serving` package keeps the same strings in its own
`signatures.py`, since it imports nothing from `electra_tf`), so change them in both places or not at all.

Example:
>>> token_ids_twin(FILL_MASK)
'fill_mask_ids'
"""

# === Signature names ===
SERVING_DEFAULT = "serving_default"  # TF Serving's default key: an alias of the first exported text signature
REPLACED_TOKEN_DETECTION = "replaced_token_detection"
FILL_MASK = "fill_mask"
ENCODE = "encode"
ENCODE_PAIR = "encode_pair"  # two texts packed as [CLS] A [SEP] B [SEP]; its token-id twin is `encode_ids`
TOKEN_IDS_SUFFIX = "_ids"  # `fill_mask_ids`: the same computation on packed token ids instead of raw text

# === Inputs ===
TEXT = "text"  # string [batch], raw UTF-8 text, tokenized in the graph
TEXT_B = "text_b"  # string [batch], the second segment of `encode_pair`
INPUT_WORD_IDS = "input_word_ids"  # int32 [batch, seq]
INPUT_MASK = "input_mask"  # int32 [batch, seq], 1 = real token (also an output of every signature)
INPUT_TYPE_IDS = "input_type_ids"  # int32 [batch, seq], 0 = segment A, 1 = segment B
ID_INPUTS = (INPUT_WORD_IDS, INPUT_MASK, INPUT_TYPE_IDS)

# === Outputs: replaced-token detection ===
TOKENS = "tokens"  # string [batch, seq], WordPiece tokens the model saw; "" at padding
REPLACED_PROBABILITY = "replaced_probability"  # float32 [batch, seq], P(token was replaced); 0 at padding

# === Outputs: fill mask ===
TOP_IDS = "top_ids"  # int32 [batch, masks, k]
TOP_TOKENS = "top_tokens"  # string [batch, masks, k]
TOP_PROBABILITIES = "top_probabilities"  # float32 [batch, masks, k]
MASK_POSITIONS = "mask_positions"  # int32 [batch, masks], index of each [MASK] in the sequence; -1 = no mask
MASK_TOKEN = "[MASK]"  # how a text marks a position to fill (upper case, as written in the vocabulary)

# === Generation (`generation_signatures.py`): `infill`, `generate` (inputs `text`, `num_tokens`), `infill_ids` ===
INFILL = "infill"
GENERATE = "generate"
NUM_TOKENS = "num_tokens"  # int32 [batch], input of `generate`: word pieces to append to the prefix
OUTPUT_TEXT = "output_text"  # string [batch], the best filled text, words rejoined (Chinese without spaces)
OUTPUT_IDS = "output_ids"  # int32 [batch, seq], its token ids (0 at padding)
GENERATED = "generated"  # int32 [batch, seq], 1 where the token was generated (a slot)
SLOT_PROBABILITIES = "slot_probabilities"  # float32 [batch, seq], the generator's probability of each generated token
CANDIDATE_TEXTS = "candidate_texts"  # string [batch, candidates], best (most natural to the discriminator) first
CANDIDATE_SCORES = "candidate_scores"  # float32 [batch, candidates], mean log P(original) of each candidate

# === Outputs: encode (TF Hub BERT convention) ===
POOLED_OUTPUT = "pooled_output"  # float32 [batch, hidden], the [CLS] vector (ELECTRA has no pooler)
SEQUENCE_OUTPUT = "sequence_output"  # float32 [batch, seq, hidden]

# === Signatures of fine-tuned models (`task_signatures.py`) ===
CLASSIFY = "classify"  # classification / regression of a text (or a pair: `text`, `text_b`)
ANSWER = "answer"  # extractive QA: `question` + `context` -> answer text and character offsets (also an output)
TAG = "tag"  # a tag per word of `text`, with the words' character spans
QUESTION = "question"  # string [batch], input of `answer`
CONTEXT = "context"  # string [batch], input of `answer`
LABEL = "label"  # string [batch], the most likely class
LABEL_ID = "label_id"  # int32 [batch], its index
PROBABILITIES = "probabilities"  # float32 [batch, classes]
LABELS = "labels"  # string [batch, classes], the class names in index order (the same in every row)
SCORE = "score"  # float32 [batch]: regression prediction (classify); start_logit + end_logit (answer, -1e9 = none)
ANSWER_START = "start"  # int32 [batch], character offset of the answer in the context; -1 = no answer
ANSWER_END = "end"  # int32 [batch], character offset just past the answer; -1 = no answer
NULL_SCORE_DIFF = "null_score_diff"  # float32 [batch], SQuAD 2.0: > threshold = no answer (0 for SQuAD 1.1)
START_INDEX = "start_index"  # int32 [batch], answer_ids: first answer token in the window; -1 = none
END_INDEX = "end_index"  # int32 [batch], answer_ids: last answer token in the window; -1 = none
WORDS = "words"  # string [batch, words], the words of `tag`'s text ("" = padding)
TAGS = "tags"  # string [batch, words] (tag) / [batch, seq] (tag_ids)
TAG_IDS = "tag_ids"  # int32, same shape as `tags`
TAG_PROBABILITIES = "tag_probabilities"  # float32, same shape as `tags`
WORD_STARTS = "word_starts"  # int32 [batch, words], character offset of each word; -1 = padding
WORD_ENDS = "word_ends"  # int32 [batch, words], character offset just past each word; -1 = padding

# === Files in a version folder besides the SavedModel itself ===
CONFIG_ASSET = "config.json"  # the model's ElectraConfig (assets/)
VOCAB_ASSET = "vocab.txt"  # the WordPiece vocabulary of the in-graph tokenizer (assets/)
EXPORT_INFO_FILE = "export.json"  # how the export was made: seq_length, top_k, signatures (assets.extra/)


def token_ids_twin(signature_name: str) -> str:
    """The name of the token-id twin of a text signature, e.g. `fill_mask` -> `fill_mask_ids`."""
    return signature_name + TOKEN_IDS_SUFFIX
