"""Loading a private key from a PEM block, including the EC keys GnuTLS writes.

GnuTLS (3.7 at least, so uacme and certtool on Debian 12) encodes an EC
private key's ``privateKey`` OCTET STRING (RFC 5915) like an INTEGER: one
byte longer, with a leading zero, whenever the scalar's top bit is set,
which is about every second key, and shorter when the scalar starts with
zero bytes (every second P-521 key, whose top byte holds one bit).  OpenSSL, GnuTLS itself, and so Courier's
``couriertls`` read those keys; cryptography 38 (Debian's) does too, but
recent releases refuse them ("private key value is too short").  Such a key
is read here from its parts instead: the curve from its parameters, the
scalar as a number, and the public key it carries must be the one derived.
The PEM block itself is never rewritten: it is served as it came.
"""

from __future__ import annotations

from mkcert.asn1 import der

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

__all__ = ["EC_PRIVATE_KEY_LABEL", "load_private_key"]

EC_PRIVATE_KEY_LABEL = b"EC PRIVATE KEY"
_CONTEXT_0 = 0xA0
_CONTEXT_1 = 0xA1
_OID = 0x06


def load_private_key(block: bytes) -> "PrivateKeyTypes":
    """cryptography's key for one unencrypted PEM block; what cryptography raises if unreadable."""
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        return load_pem_private_key(block, None)
    except ValueError:
        key = _padded_ec_key(block)
        if key is None:
            raise
        return key


def _padded_ec_key(block):
    """The SEC1 key in ``block`` read from its parts, or None if it is not one that holds.

    The scalar may be one zero byte too long or any number of zero bytes too
    short; the public key the file carries must be the one it gives.
    """
    import binascii

    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from cryptography.x509 import ObjectIdentifier

    begin = b"-----BEGIN " + EC_PRIVATE_KEY_LABEL + b"-----"
    if not block.startswith(begin):
        return None
    body = block[len(begin):].split(b"-----END", 1)[0]
    try:
        parts = der.members(binascii.a2b_base64(body))
        curve_oid = [der.members(p)[0] for p in parts if p[0] == _CONTEXT_0]
        public = [der.content(der.members(p)[0]) for p in parts if p[0] == _CONTEXT_1]
        if len(parts) < 3 or not curve_oid or curve_oid[0][0] != _OID:
            return None
        curve = ec.get_curve_for_oid(ObjectIdentifier(der.read_oid(curve_oid[0])))()
        scalar = der.content(parts[1])
        size = (curve.key_size + 7) // 8
        if not scalar or len(scalar) > size + 1 or (len(scalar) == size + 1 and scalar[0]):
            return None  # not one of the known mistakes: let cryptography's refusal stand
        key = ec.derive_private_key(int.from_bytes(scalar, "big"), curve)
    except (ValueError, LookupError, binascii.Error):
        return None
    derived = key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    if public and public[0][1:] != derived:  # a BIT STRING: its first octet counts unused bits
        return None
    return key
