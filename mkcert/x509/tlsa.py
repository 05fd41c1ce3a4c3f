"""DANE TLSA association data (RFC 6698, 2.1): what a record says about a certificate or key.

A TLSA record names a certificate (usage 1 and 3: the server's own, 0 and
2: a CA's), which part of it is matched (selector 0: the whole certificate,
1: its SubjectPublicKeyInfo) and how (matching type 0: the bytes
themselves, 1: their SHA-256, 2: their SHA-512).  ``3 1 1``, the SHA-256 of
the server's public key, is what mail servers publish for port 25 (RFC
7672): it survives a renewal that keeps the key.

The SubjectPublicKeyInfo is taken from the certificate's DER as it is
served, not re-encoded; for a key that has no certificate yet (the staged
next key) from the key, in the same DER form (the two are equal for every
key OpenSSL and cryptography write).  Tests compare the digest with
``openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256sum``.
"""

from __future__ import annotations

from mkcert.x509.chain import public_key_der
from mkcert.x509.inspect import certificate_der, subject_public_key_info_der

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

    from mkcert.readers.tlsa_records import TlsaRecord

__all__ = ["PKIX_TA", "PKIX_EE", "DANE_TA", "DANE_EE", "FULL_CERTIFICATE", "PUBLIC_KEY",
           "EXACT", "SHA256", "SHA512", "END_ENTITY_USAGES", "AUTHORITY_USAGES",
           "association", "certificate_association", "key_spki", "spki_sha256_hex",
           "matches_certificate", "matches_key", "is_usable"]

PKIX_TA, PKIX_EE, DANE_TA, DANE_EE = 0, 1, 2, 3
FULL_CERTIFICATE, PUBLIC_KEY = 0, 1
EXACT, SHA256, SHA512 = 0, 1, 2
# Usages about the server's own certificate, and about a CA's in its chain.
END_ENTITY_USAGES = (PKIX_EE, DANE_EE)
AUTHORITY_USAGES = (PKIX_TA, DANE_TA)
_DIGEST_NAMES = {SHA256: "sha256", SHA512: "sha512"}


def association(selected: bytes, matching: int) -> bytes:
    """The certificate association data of ``selected`` bytes for a matching type."""
    if matching == EXACT:
        return bytes(selected)
    from mkcert.x509.digests import digest

    return digest(_DIGEST_NAMES[matching], selected)


def certificate_association(certificate: "bytes | x509.Certificate", selector: int,
                            matching: int) -> bytes:
    """What a record with ``selector`` and ``matching`` holds for this certificate."""
    if selector == FULL_CERTIFICATE:
        return association(certificate_der(certificate), matching)
    return association(subject_public_key_info_der(certificate), matching)


def key_spki(key: "PrivateKeyTypes") -> bytes:
    """The SubjectPublicKeyInfo DER a certificate for ``key`` will hold."""
    return public_key_der(key.public_key())


def spki_sha256_hex(certificate: "bytes | x509.Certificate") -> str:
    """``3 1 1``'s data for a certificate: the SHA-256 of its public key, lower-case hex."""
    return certificate_association(certificate, PUBLIC_KEY, SHA256).hex()


def is_usable(record: "TlsaRecord") -> bool:
    """A usage, selector and matching type RFC 6698 defines (others are skipped, 4.1)."""
    return (record.usage in END_ENTITY_USAGES + AUTHORITY_USAGES
            and record.selector in (FULL_CERTIFICATE, PUBLIC_KEY)
            and record.matching in (EXACT, SHA256, SHA512))


def matches_certificate(record: "TlsaRecord", certificate: "bytes | x509.Certificate") -> bool:
    """Does a usable record's data describe this certificate?"""
    return is_usable(record) and record.data == certificate_association(
        certificate, record.selector, record.matching)


def matches_key(record: "TlsaRecord", spki: bytes) -> bool:
    """Does a usable selector-1 record describe the key with this SubjectPublicKeyInfo?

    A key without its certificate can match only a record of its public key.
    """
    return (is_usable(record) and record.selector == PUBLIC_KEY
            and record.data == association(spki, record.matching))
