"""GnuTLS security levels, the ``BITS`` of Debian's certificate scripts.

Debian's mkcouriercert runs ``certtool --generate-privkey --sec-param=$BITS``
with ``BITS`` defaulting to ``high``, so ``BITS`` names a GnuTLS security
level, not a size.  The RSA sizes below are what certtool 3.7.9 generates
for each name (checked by running it; note ``legacy`` is an odd 1776 and
``ultra`` 8192, with 15360 only at ``future``).  certtool matches the names without
regard to case, accepts ``normal`` as another name for ``medium``, and
refuses everything else, numbers included; an admin who wrote a number of
bits for the OpenSSL scripts gets that number from us instead of a failure.

The key and digest certtool makes a certificate with (its default key,
:func:`with_key_bits`) follow from the same table, so they live here too.
"""

from __future__ import annotations

from mkcert.request import MAX_RSA_BITS, MIN_RSA_BITS, CertRequest, KeySpec

__all__ = ["LEVELS", "DEFAULT_LEVEL", "CERTTOOL_KEY", "bits_for_security_level",
           "certtool_digest", "with_key_bits"]

# Each level: the RSA key size certtool generates for it, and the digest
# certtool signs with for a key of up to that size.  GnuTLS picks the SHA-2
# matching the key's strength (NIST SP 800-57): the first level, smallest
# first, whose size reaches the key's decides.  Checked with certtool: 3072
# bits sign with SHA-256, 4096 and 8192 with SHA-384, 8200 with SHA-512;
# past the last level (15360) GnuTLS falls back to SHA-256.
LEVELS = {
    "low": (1024, "sha256"),
    "legacy": (1776, "sha256"),
    "medium": (2048, "sha256"),
    "normal": (2048, "sha256"),
    "high": (3072, "sha256"),
    "ultra": (8192, "sha384"),
    "future": (15360, "sha512"),
}
RSA_BITS_BY_LEVEL = {level: bits for level, (bits, _) in LEVELS.items()}
DIGEST_PAST_THE_LAST_LEVEL = "sha256"

DEFAULT_LEVEL = "high"

# certtool's own default key: it writes PKCS#1 ("BEGIN RSA PRIVATE KEY").
CERTTOOL_KEY = KeySpec(algorithm="rsa", bits=RSA_BITS_BY_LEVEL[DEFAULT_LEVEL],
                       pem_format="pkcs1")


def bits_for_security_level(value: str | int) -> int:
    """RSA key size for ``BITS``: a level name (any case) or a number of bits.

    Raises :class:`MkcertError` for anything else, including a number of
    bits the key generator would refuse: the command line calls this before
    it creates any file, so a bad ``BITS`` fails before anything is touched.
    """
    text = str(value)
    bits = RSA_BITS_BY_LEVEL.get(text.lower())
    if bits is not None:
        return bits
    from mkcert.readers.number import whole_number  # only a BITS that is not a level

    names = ", ".join(n for n in RSA_BITS_BY_LEVEL if n != "normal")
    return whole_number(text, "BITS", MIN_RSA_BITS, MAX_RSA_BITS, unit="(bits of an RSA key)",
                        alternatives=f"a GnuTLS security level ({names}) or ")


def certtool_digest(bits: int) -> str:
    """The digest certtool 3.7 signs a self-signed certificate with, for an RSA key."""
    for size, digest in sorted(LEVELS.values()):
        if bits <= size:
            return digest
    return DIGEST_PAST_THE_LAST_LEVEL


def with_key_bits(request: CertRequest, bits: int) -> CertRequest:
    """``request`` with an RSA key of ``bits``, signed as certtool would sign it.

    certtool picks the signature digest from the key size (SHA-384 from
    4096 bits on), so the size from ``BITS`` must change both.
    """
    key = request.key.replace(bits=bits)
    return request.replace(key=key, digest=certtool_digest(bits))
