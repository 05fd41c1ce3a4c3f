"""Message digests by name (``sha256``, ``sha1``, ...), computed by cryptography.

The signature's digest, key identifiers and the fingerprint all use these
rather than hashlib: cryptography is loaded anyway by the time they are
needed, while hashlib would load the system's libcrypto as well (about
3 ms).  Kept apart from the certificate builder (:mod:`mkcert.x509.certificate`) so the
readers and the PEM inspection reach them without depending on it; this
module loads cryptography's hashes, so those callers import it inside the
function that needs it.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import hashes

from mkcert.errors import MkcertError

_HASHES = {
    "md5": hashes.MD5,
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
    "sha512-224": hashes.SHA512_224,
    "sha512-256": hashes.SHA512_256,
    "sha3-224": hashes.SHA3_224,
    "sha3-256": hashes.SHA3_256,
    "sha3-384": hashes.SHA3_384,
    "sha3-512": hashes.SHA3_512,
}


def hash_algorithm(name: str) -> hashes.HashAlgorithm:
    """The cryptography hash object for a digest name such as ``sha256``."""
    try:
        return _HASHES[name]()
    except KeyError:
        raise MkcertError(f"unsupported signature digest {name!r}") from None


def digest(name: str, data: bytes) -> bytes:
    """``hashlib.new(name, data).digest()``, computed by cryptography's OpenSSL.

    Key identifiers and the fingerprint use this rather than hashlib:
    cryptography is loaded anyway by the time they are computed, while
    hashlib would load the system's libcrypto as well (about 3 ms).
    """
    context = hashes.Hash(hash_algorithm(name))
    context.update(data)
    return context.finalize()
