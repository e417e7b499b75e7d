"""The one error type for bad input.

Every layer raises :class:`InputError` for input a user can fix (NaN, wrong shapes, unknown
activation names, labels a loss cannot take, ...).  The ``sbias`` CLI turns it into exit
status 2 and one line on stderr, with no traceback.
"""


class InputError(ValueError):
    """Bad input or usage.  ``str(err)`` is a one-line message naming the problem."""


def read_input_text(path, what: str) -> str:
    """The text of a user's input file; :class:`InputError` naming ``what`` (e.g. "claim
    file") when it is missing or unreadable."""
    from pathlib import Path

    p = Path(path)
    try:
        return p.read_text()
    except FileNotFoundError:
        raise InputError(f"{what} not found: {p}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {what} {p}: {exc}") from None
