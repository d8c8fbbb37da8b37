"""Text from ELECTRA's generator: fill-mask, infilling and generation by iterative mask-predict.

ELECTRA's generator is a masked LM: it fills gaps, it does not write left to right. `fill_mask` gives the
candidates for each `[MASK]` (one token, or whole words by joint score); `infill` fills gaps in the middle of
a text by mask-predict (predict all, re-mask the least confident, repeat); `generate` appends slots to a
prefix and fills them the same way, optionally several times with the discriminator choosing the most
natural completion. The tensor functions (`masked_lm`, `mask_predict`, `slots`, `candidates`) are batched,
run in graph with a static iteration count, and are what the exported signatures call.

Example:
>>> from electra_tf.text_model import TextModel
>>> from electra_tf import generation
>>> model = TextModel.load("runs/tiny/final")  # doctest: +SKIP
>>> generation.fill_mask(model, "the [MASK] barked.", top_k=3)[0].masks[0][0].text  # doctest: +SKIP
'dog'
"""

from electra_tf.generation.fill_mask import fill_mask
from electra_tf.generation.results import FillMaskResult, GeneratedText, Generation, MaskCandidate
from electra_tf.generation.text_generation import generate, infill
from electra_tf.text_model import TextModel

__all__ = ["FillMaskResult", "GeneratedText", "Generation", "MaskCandidate", "TextModel", "fill_mask", "generate",
           "infill"]
