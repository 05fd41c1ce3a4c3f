"""Whole numbers from the command line and the environment: the one parser.

Every number a user types (``--days``, ``--warn``, ``--before``, ``--jobs``,
``BITS``, ``DH_BITS``) goes through :func:`whole_number`, so they all
accept the same text and fail the same way: one line naming the option or
variable and the range, never a traceback.

Only ASCII digits are a number here.  ``int()`` is far more lenient: it
takes ``' 12 '``, ``'+12'``, ``'1_000'`` and other scripts' digits
(``'١٢'`` is 12), and ``str.isdigit()`` is true for ``'²'``, which ``int()``
then refuses with a ValueError.  No one means a sign, a space or another
script's digits in a key size or a number of days; taking them silently
would hide a typo, so they are refused, and a caller that must be lenient
(mkdhparams strips ``DH_BITS``, as the shell's unquoted ``$DH_BITS`` did)
says so itself.  Leading zeros are harmless and accepted (``0100`` is
100).  Digits are compared by length before conversion, so a value of
thousands of digits is refused as out of range instead of tripping Python's
limit on converting long digit strings.

Nothing but :mod:`mkcert.errors` is imported: the command line may load this
before it decides anything else, and no crypto library may come with it.
"""

from __future__ import annotations

from mkcert.errors import MkcertError

__all__ = ["NumberError", "whole_number", "is_ascii_digits"]

SHOWN_CHARACTERS = 40  # of a rejected value in the message; the rest is elided


class NumberError(MkcertError):
    """A value that is not a whole number in its range.

    ``reason`` is the message without the name, for argparse, which puts
    ``argument --NAME:`` in front of it itself.
    """

    def __init__(self, name: str, text: str, accepted: str):
        self.reason = f"{_shown(text)} is not {accepted}"
        super().__init__(f"{name}={self.reason}")


def whole_number(text: str, name: str, minimum: int, maximum: int, *,
                 unit: str = "", alternatives: str = "") -> int:
    """``text`` as an int from ``minimum`` to ``maximum`` inclusive, or :class:`NumberError`.

    ``name`` is the option or variable the text came from (``--days``,
    ``BITS``); ``unit`` follows the range in the message (``"bits"``);
    ``alternatives`` names what else the caller accepts, for a message that
    lists everything (``"a GnuTLS security level (low, ...) or "``).
    """
    accepted = f"{alternatives}a whole number from {minimum} to {maximum}"
    if unit:
        accepted += f" {unit}"
    if not is_ascii_digits(text):
        raise NumberError(name, text, accepted)
    significant = text.lstrip("0") or "0"
    if len(significant) > len(str(maximum)):
        raise NumberError(name, text, accepted)
    value = int(significant)
    if not minimum <= value <= maximum:
        raise NumberError(name, text, accepted)
    return value


def is_ascii_digits(text: str) -> bool:
    """True for ``"0"``, ``"0100"``; False for ``""``, ``"²"``, ``"١٢"``, ``" 1"``, ``"+1"``, ``"1_0"``."""
    return text.isascii() and text.isdigit()


def _shown(text):
    if len(text) > SHOWN_CHARACTERS:
        return repr(text[:SHOWN_CHARACTERS]) + f"... ({len(text)} characters)"
    return repr(text)
