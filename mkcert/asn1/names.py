"""Distinguished names as DER, exactly as the readers chose them.

cryptography's Name validates and re-encodes what it is given (it refuses a
64-character CN of non-ASCII letters that OpenSSL accepts, and writes a
T61String as UTF-8 where OpenSSL writes one byte per character), so the
subject is encoded here and the builder's placeholder is replaced by it
(see :mod:`mkcert.x509.certificate`).
"""

from mkcert.asn1 import der
from mkcert.request import BMP_STRING, UNIVERSAL_STRING

# NumericString, PrintableString, T61String, IA5String: one octet per character.
ONE_OCTET_TAGS = (18, 19, 20, 22)


def string_bytes(tag, text):
    """The content octets of an ASN.1 string of type ``tag`` holding ``text``."""
    if tag == BMP_STRING:
        return text.encode("utf-16-be", "surrogatepass")
    if tag == UNIVERSAL_STRING:
        return text.encode("utf-32-be", "surrogatepass")
    if tag in ONE_OCTET_TAGS:
        return text.encode("latin-1")
    return text.encode("utf-8", "surrogateescape")


def attribute_der(attribute):
    return der.sequence(der.oid(attribute.oid),
                        der.tlv(attribute.tag, string_bytes(attribute.tag, attribute.value)))


def name_der(rdns):
    """The DER of a Name: a SEQUENCE of RDNs, each a SET OF attributes."""
    return der.sequence(*(der.set_of(*(attribute_der(a) for a in rdn)) for rdn in rdns))
