"""``--key-type`` (and ``COURIER_KEY_TYPE``): which kind of key to make.

``rsa[:BITS]``, ``ec[:P-256|P-384|P-521]`` or ``ed25519``.  The text is read
here, with no crypto library: a bad value is an error before any file exists.
What the key type does to a request (key, digest, certtool's key usage) is
decided by the readers, which know the config's own choices; what a key of
each type is made of is :mod:`mkcert.x509.key_types`.
"""

from __future__ import annotations

from mkcert.errors import MkcertError, shorten
from mkcert.record import REQUIRED, Record
from mkcert.request import MAX_RSA_BITS, MIN_RSA_BITS

__all__ = ["ALGORITHMS", "CURVES", "DEFAULT_CURVE", "KeyType", "KeyTypeError",
           "curve_digest", "parse_key_type"]

ALGORITHMS = ("rsa", "ec", "ed25519")
# The NIST curves every TLS client has (RFC 8422); the names are FIPS 186's,
# as `openssl ... -pkeyopt ec_paramgen_curve:P-256` spells them.
CURVES = ("P-256", "P-384", "P-521")
DEFAULT_CURVE = "P-256"
# Other names the tools accept for the same curves.
_CURVE_ALIASES = {"p256": "P-256", "prime256v1": "P-256", "secp256r1": "P-256",
                  "p384": "P-384", "secp384r1": "P-384",
                  "p521": "P-521", "secp521r1": "P-521"}


class KeyTypeError(MkcertError):
    """A key type that is not one of those above (one line, no location)."""


class KeyType(Record):
    """``algorithm`` ("rsa", "ec" or "ed25519"); ``bits`` for RSA (None: the
    config's size); ``curve`` for EC ("P-256", "P-384" or "P-521")."""

    FIELDS = (("algorithm", REQUIRED), ("bits", None), ("curve", None))
    __slots__ = tuple(name for name, _ in FIELDS)

    def __str__(self):
        if self.algorithm == "rsa" and self.bits is not None:
            return f"rsa:{self.bits}"
        if self.algorithm == "ec":
            return f"ec:{self.curve}"
        return self.algorithm


def parse_key_type(text: str) -> KeyType:
    """The :class:`KeyType` of ``rsa[:BITS]``, ``ec[:CURVE]`` or ``ed25519`` (any case)."""
    algorithm, colon, parameter = text.strip().partition(":")
    algorithm = algorithm.lower()
    if algorithm in ("ecdsa",):
        algorithm = "ec"
    if algorithm == "rsa":
        return KeyType("rsa", bits=_rsa_bits(parameter, text) if colon else None)
    if algorithm == "ec":
        if not colon:
            return KeyType("ec", curve=DEFAULT_CURVE)
        curve = _CURVE_ALIASES.get(parameter.strip().lower().replace("-", ""))
        if curve is None:
            raise KeyTypeError(f"key type {shorten(text)!r}: the curve is one of "
                               f"{', '.join(CURVES)}")
        return KeyType("ec", curve=curve)
    if algorithm == "ed25519" and not colon:
        return KeyType("ed25519")
    raise KeyTypeError(f"key type {shorten(text)!r} is not rsa[:BITS], "
                       f"ec[:{'|'.join(CURVES)}] or ed25519")


def _rsa_bits(parameter, text):
    parameter = parameter.strip()
    if not parameter.isascii() or not parameter.isdigit():
        raise KeyTypeError(f"key type {shorten(text)!r}: rsa:BITS needs a whole number of bits")
    bits = int(parameter)
    if not MIN_RSA_BITS <= bits <= MAX_RSA_BITS:
        raise KeyTypeError(f"key type {shorten(text)!r}: RSA keys here are {MIN_RSA_BITS} to "
                           f"{MAX_RSA_BITS} bits")
    return bits


def curve_digest(curve: str) -> str:
    """The digest certtool signs with for a key on ``curve`` (the curve's strength)."""
    return {"P-256": "sha256", "P-384": "sha384", "P-521": "sha512"}[curve]
