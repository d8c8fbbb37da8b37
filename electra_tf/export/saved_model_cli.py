"""TensorFlow's `saved_model_cli` with TF Text's ops registered, for exports that tokenize in the graph.

The stock `saved_model_cli run` fails on our exports with "Op type not registered 'NormalizeUTF8'": it
never imports `tensorflow_text`, whose ops (like those of TF Serving's own binary) the tokenizer needs. This
module imports it first and then hands every argument to `saved_model_cli` unchanged. `saved_model_cli
show` works without it.

Example:
    $ python -m electra_tf.export.saved_model_cli run --dir saved_models/electra/1 --tag_set serve \\
        --signature_def fill_mask --input_exprs 'text=["the [MASK] sat on the mat"]'
"""

import os
import re
import sys


def main() -> int:
    """Runs `saved_model_cli` on `sys.argv[1:]` after registering TF Text's ops."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow_text  # noqa: F401  (registers NormalizeUTF8, RegexSplitWithOffsets, FastWordpiece...)
    from tensorflow.python.tools import saved_model_cli

    sys.argv[0] = re.sub(r"\.py$", "", sys.argv[0])
    return saved_model_cli.main() or 0


if __name__ == "__main__":
    sys.exit(main())
