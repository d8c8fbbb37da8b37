"""The one weight initializer ELECTRA and BERT use everywhere."""

import keras


def truncated_normal(stddev: float) -> keras.initializers.Initializer:
    """Truncated normal with BERT's standard deviation (0.02 by default in `ElectraConfig`).

    Example:
    >>> init = truncated_normal(0.02)
    >>> float(abs(keras.ops.convert_to_numpy(init((1000,)))).max()) <= 0.04
    True
    """
    return keras.initializers.TruncatedNormal(stddev=stddev)
