"""Exceptions that mean "the user's input is wrong", shown by the command line as one line."""


class InputError(ValueError):
    """A path, file, vocabulary, corpus or flag that cannot be used, with a message saying why.

    Example:
    >>> raise InputError("No such corpus path: 'books/'. Expected a file, folder or glob.")
    Traceback (most recent call last):
    ...
    electra_tf.errors.InputError: No such corpus path: 'books/'. Expected a file, folder or glob.
    """
