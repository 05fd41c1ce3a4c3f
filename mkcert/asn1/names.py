"""Distinguished names as DER, exactly as the readers chose them.

cryptography's Name validates and re-encodes what it is given (it refuses a
64-character CN of non-ASCII letters that OpenSSL accepts, and writes a
T61String as UTF-8 where OpenSSL writes one byte per character), so the
subject (and a dirName) is encoded here, and the certificate builder
(:mod:`mkcert.x509.certificate`) writes these bytes as they are.
"""

from __future__ import annotations

from mkcert.asn1 import der
from mkcert.request import BMP_STRING, UNIVERSAL_STRING, Attribute

# NumericString, PrintableString, T61String, IA5String: one octet per character.
ONE_OCTET_TAGS = (18, 19, 20, 22)


def string_bytes(tag: int, text: str) -> bytes:
    """The content octets of an ASN.1 string of type ``tag`` holding ``text``."""
    if tag == BMP_STRING:
        return text.encode("utf-16-be", "surrogatepass")
    if tag == UNIVERSAL_STRING:
        return text.encode("utf-32-be", "surrogatepass")
    if tag in ONE_OCTET_TAGS:
        return text.encode("latin-1")
    return text.encode("utf-8", "surrogateescape")


def attribute_der(attribute: Attribute) -> bytes:
    """One AttributeTypeAndValue: the OID and the value as a string of the attribute's tag."""
    return der.sequence(der.oid(attribute.oid),
                        der.tlv(attribute.tag, string_bytes(attribute.tag, attribute.value)))


def name_der(rdns: tuple[tuple[Attribute, ...], ...] | list[list[Attribute]]) -> bytes:
    """The DER of a Name: a SEQUENCE of RDNs, each a SET OF attributes."""
    return der.sequence(*(der.set_of(*(attribute_der(a) for a in rdn)) for rdn in rdns))
