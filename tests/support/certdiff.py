"""Compare what two tools made: the parts of a certificate that must agree.

The key, the serial and the clock differ by nature; everything else must be
equal, and key-dependent extensions are compared by how they were computed.
"""

import hashlib

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from mkcert.asn1 import der


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


SUBJECT_KEY_IDENTIFIER = "2.5.29.14"
AUTHORITY_KEY_IDENTIFIER = "2.5.29.35"


def key_identifier_method(identifier: bytes, certificate: x509.Certificate):
    """How a key identifier was computed from the certificate's own key, or the bytes."""
    by_public_bits, by_spki = key_bits_hash(certificate)
    return {by_public_bits: "sha1(public key bits)",
            by_spki: "sha1(subjectPublicKeyInfo)"}.get(identifier, identifier)


def own_serial_content(certificate: x509.Certificate) -> bytes:
    """The content octets of the certificate's serial INTEGER, minimally encoded."""
    encoded = der.integer(certificate.serial_number)
    _, start, end = der.read_tlv(encoded)
    return encoded[start:end]


def authority_key_identifier(value: bytes, certificate: x509.Certificate) -> tuple:
    """An authorityKeyIdentifier's fields, by what they say of a self-signed issuer.

    The issuer is the certificate itself: a key identifier is described by
    how it was computed from the own key, the issuer names are kept as DER,
    and the serial, random and so of varying length, by whether it is the
    certificate's own (byte for byte).  Comparing fields, never bytes with
    a part blanked out, keeps the lengths around that serial out of it.
    """
    _, start, end = der.read_tlv(value)
    fields = []
    for field in der.children(value[start:end]):
        tag, body, body_end = der.read_tlv(field)
        content = field[body:body_end]
        if tag == 0x80:
            fields.append(("keyIdentifier", key_identifier_method(content, certificate)))
        elif tag == 0xA1:
            fields.append(("authorityCertIssuer", content))
        elif tag == 0x82:
            own = content == own_serial_content(certificate)
            fields.append(("authorityCertSerialNumber", "own serial" if own else content))
        else:
            fields.append((f"tag 0x{tag:02x}", content))
    return tuple(fields)


def extension_value(oid: str, value: bytes, certificate: x509.Certificate):
    """An extension's DER value, or for key identifiers what they identify."""
    try:
        if oid == SUBJECT_KEY_IDENTIFIER:
            _, start, end = der.read_tlv(value)
            if end == len(value):
                return ("keyIdentifier", key_identifier_method(value[start:end], certificate))
        elif oid == AUTHORITY_KEY_IDENTIFIER:
            return authority_key_identifier(value, certificate)
    except (ValueError, IndexError):  # not DER: compared as it is
        pass
    return value


def extension_summary(certificate):
    """(OID, critical, value) of each extension, key identifiers by method."""
    summary = []
    for extension in certificate.extensions:
        value = extension.value.public_bytes() if hasattr(extension.value, "public_bytes") \
            else extension.value.value
        oid = extension.oid.dotted_string
        summary.append((oid, extension.critical, extension_value(oid, value, certificate)))
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
        "key": (type(certificate.public_key()).__name__.lstrip("_"),
                getattr(certificate.public_key(), "key_size", None)),
        # Whole minutes: a tool that reads the clock once for each end (OpenSSL)
        # is a second longer when a second turns in between.
        "validity": round(validity.total_seconds() / 60),
        "extensions": extension_summary(certificate),
    }
