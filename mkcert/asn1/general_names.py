"""GeneralName (RFC 5280, 4.2.1.6): the one encoder of the names a certificate is for.

subjectAltName, issuerAltName, nameConstraints, CRL distribution points
and access descriptions all hold GeneralNames; each reader checks a name
as its own tool does (OpenSSL takes any bytes, certtool wants ASCII,
``--san`` wants a valid host name) and hands the checked content here, so
the tags are written in one place.
"""

from __future__ import annotations

from mkcert.asn1 import der

# The CHOICE's alternatives, by context tag number.
OTHER_NAME = 0
RFC822_NAME = 1
DNS_NAME = 2
X400_ADDRESS = 3
DIRECTORY_NAME = 4
EDI_PARTY_NAME = 5
URI = 6
IP_ADDRESS = 7
REGISTERED_ID = 8

# The module's ASN.1 uses implicit tags: the alternatives that are
# SEQUENCEs keep a constructed tag, the strings and the OID a primitive one;
# directoryName is explicit (Name is itself a CHOICE), so constructed too.
_CONSTRUCTED = frozenset({OTHER_NAME, X400_ADDRESS, DIRECTORY_NAME, EDI_PARTY_NAME})

# The identifier octet of each alternative, as it appears in DER.
TAGS = frozenset(0x80 | (0x20 if choice in _CONSTRUCTED else 0) | choice for choice in range(9))


def general_name(choice: int, content: bytes) -> bytes:
    """One GeneralName: ``content`` under the context tag of alternative ``choice``."""
    return der.context(choice, content, constructed=choice in _CONSTRUCTED)


def rfc822_name(address: bytes) -> bytes:
    return general_name(RFC822_NAME, address)


def dns_name(name: bytes) -> bytes:
    return general_name(DNS_NAME, name)


def uri(text: bytes) -> bytes:
    return general_name(URI, text)


def ip_address(octets: bytes) -> bytes:
    """An address (4 or 16 octets) or, in nameConstraints, an address and mask (8 or 32)."""
    return general_name(IP_ADDRESS, octets)


def registered_id(dotted: str) -> bytes:
    encoded = der.oid(dotted)
    _, start, _ = der.read_tlv(encoded)
    return general_name(REGISTERED_ID, encoded[start:])


def directory_name(name: bytes) -> bytes:
    """A directoryName around the DER of a whole Name."""
    return general_name(DIRECTORY_NAME, name)


def other_name(type_oid: str, value: bytes) -> bytes:
    """otherName: ``{ type-id, [0] EXPLICIT value }`` around one DER value."""
    return general_name(OTHER_NAME, der.oid(type_oid) + der.context(0, value))


def choice(name: bytes) -> int:
    """Which alternative an encoded GeneralName is."""
    return name[0] & 0x1F


def general_names(names: list[bytes]) -> bytes:
    """GeneralNames: a SEQUENCE of encoded names, in the order given."""
    return der.sequence(*names)


def entries(value: bytes) -> list[bytes] | None:
    """The encoded names of a GeneralNames SEQUENCE, or None if it is DER of something else.

    DER that does not parse raises ValueError, as :func:`mkcert.asn1.der.read_tlv` does.
    """
    tag, _, _ = der.read_tlv(value)
    names = der.members(value)
    if tag != der.SEQUENCE or any(name[0] not in TAGS for name in names):
        return None
    return names
