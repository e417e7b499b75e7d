"""The one error type for bad input.

Every layer raises :class:`InputError` for input a user can fix (NaN, wrong shapes, unknown
activation names, labels a loss cannot take, ...).  The ``sbias`` CLI turns it into exit
status 2 and one line on stderr, with no traceback.
"""


class InputError(ValueError):
    """Bad input or usage.  ``str(err)`` is a one-line message naming the problem."""
