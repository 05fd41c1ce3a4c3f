"""Compare what two tools made: the parts of a certificate that must agree.

The key, the serial and the clock differ by nature; everything else must be
equal, and key-dependent extensions are compared by how they were computed.
"""

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mkcert import der


def load(path):
    data = open(path, "rb").read()
    return data, x509.load_pem_x509_certificate(data)


def key_bits_hash(certificate):
    spki = certificate.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    _, body, _ = der.read_tlv(spki)
    _, bits = der.children(spki[body:])
    _, start, end = der.read_tlv(bits)
    return hashlib.sha1(bits[start + 1:end]).digest(), hashlib.sha1(spki).digest()


def extension_summary(certificate):
    """(OID, critical, value) of each extension, key identifiers by method."""
    by_public_bits, by_spki = key_bits_hash(certificate)
    summary = []
    for extension in certificate.extensions:
        value = extension.value.public_bytes() if hasattr(extension.value, "public_bytes") \
            else extension.value.value
        if extension.oid.dotted_string == "2.5.29.14":
            if value == der.octet_string(by_public_bits):
                value = "sha1(public key bits)"
            elif value == der.octet_string(by_spki):
                value = "sha1(subjectPublicKeyInfo)"
        summary.append((extension.oid.dotted_string, extension.critical, value))
    return summary


def describe(certificate):
    """Everything that must be equal between two tools' certificates."""
    validity = certificate.not_valid_after - certificate.not_valid_before if not hasattr(
        certificate, "not_valid_after_utc") else (
        certificate.not_valid_after_utc - certificate.not_valid_before_utc)
    return {
        "version": certificate.version,
        "subject": certificate.subject.public_bytes(),
        "issuer": certificate.issuer.public_bytes(),
        "signature": certificate.signature_algorithm_oid.dotted_string,
        "key": (type(certificate.public_key()).__name__, certificate.public_key().key_size),
        "validity": validity,
        "extensions": extension_summary(certificate),
    }
