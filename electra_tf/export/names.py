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

# === Outputs: encode (TF Hub BERT convention) ===
POOLED_OUTPUT = "pooled_output"  # float32 [batch, hidden], the [CLS] vector (ELECTRA has no pooler)
SEQUENCE_OUTPUT = "sequence_output"  # float32 [batch, seq, hidden]

# === Files in a version folder besides the SavedModel itself ===
CONFIG_ASSET = "config.json"  # the model's ElectraConfig (assets/)
VOCAB_ASSET = "vocab.txt"  # the WordPiece vocabulary of the in-graph tokenizer (assets/)
EXPORT_INFO_FILE = "export.json"  # how the export was made: seq_length, top_k, signatures (assets.extra/)


def token_ids_twin(signature_name: str) -> str:
    """The name of the token-id twin of a text signature, e.g. `fill_mask` -> `fill_mask_ids`."""
    return signature_name + TOKEN_IDS_SUFFIX
