"""Building blocks (Model Garden's "layers" level): each is a Keras layer with `get_config`."""

from electra_tf.layers.embeddings import ElectraEmbeddings
from electra_tf.layers.masked_lm_head import MaskedLMHead
from electra_tf.layers.replaced_token_head import ReplacedTokenHead
from electra_tf.layers.self_attention import SelfAttention
from electra_tf.layers.transformer_block import TransformerBlock

__all__ = ["ElectraEmbeddings", "MaskedLMHead", "ReplacedTokenHead", "SelfAttention", "TransformerBlock"]
