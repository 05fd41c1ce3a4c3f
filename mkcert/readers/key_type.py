"""``--key-type``: which kind of key to make, from the command line's text.

A stand-in of this branch, with the API that the commands meet on:
:func:`parse_key_type` turns ``rsa``, ``rsa:3072``, ``ec``, ``ec:P-384``
or ``ed25519`` into a :class:`KeyType`.  Nothing here imports a crypto
library: the text is checked while the command line is parsed, before any
file exists.
"""

from __future__ import annotations

from mkcert.record import REQUIRED, Record
from mkcert.request import MAX_RSA_BITS, MIN_RSA_BITS

__all__ = ["KeyType", "KeyTypeError", "CURVES", "DEFAULT_RSA_BITS", "parse_key_type"]

CURVES = ("P-256", "P-384", "P-521")
DEFAULT_RSA_BITS = 3072
_ALGORITHMS = ("rsa", "ec", "ed25519")


class KeyTypeError(ValueError):
    """Text that names no key type; the message says what is accepted."""


class KeyType(Record):
    """``algorithm`` "rsa", "ec" or "ed25519"; ``bits`` for RSA, ``curve`` for EC (else None)."""

    FIELDS = (("algorithm", REQUIRED), ("bits", None), ("curve", None))
    __slots__ = tuple(name for name, _ in FIELDS)


def parse_key_type(text: str) -> KeyType:
    """``rsa[:BITS]``, ``ec[:P-256|P-384|P-521]`` or ``ed25519`` (any case) -> :class:`KeyType`."""
    algorithm, colon, parameter = text.strip().partition(":")
    algorithm = algorithm.lower()
    if algorithm not in _ALGORITHMS or (colon and not parameter):
        raise KeyTypeError(f"{text!r} is not a key type: rsa[:BITS], ec[:P-256|P-384|P-521] "
                           f"or ed25519")
    if algorithm == "rsa":
        return KeyType("rsa", bits=_rsa_bits(parameter) if colon else DEFAULT_RSA_BITS)
    if algorithm == "ec":
        curve = _curve(parameter) if colon else CURVES[0]
        return KeyType("ec", curve=curve)
    if colon:
        raise KeyTypeError(f"{text!r}: ed25519 takes no parameter")
    return KeyType("ed25519")


def _rsa_bits(text):
    from mkcert.readers.number import NumberError, whole_number

    try:
        return whole_number(text, "--key-type rsa:", MIN_RSA_BITS, MAX_RSA_BITS, unit="bits")
    except NumberError as exc:
        raise KeyTypeError(f"rsa:{exc.reason}") from None


def _curve(text):
    spelled = text.upper().replace("SECP256R1", "P-256").replace("SECP384R1", "P-384")
    spelled = spelled.replace("SECP521R1", "P-521").replace("PRIME256V1", "P-256")
    if spelled in ("P256", "P384", "P521"):
        spelled = spelled[0] + "-" + spelled[1:]
    if spelled not in CURVES:
        raise KeyTypeError(f"ec:{text!r}: not a curve (P-256, P-384 or P-521)")
    return spelled
