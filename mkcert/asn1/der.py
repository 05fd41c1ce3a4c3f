"""The few DER encodings the project writes by hand.

Extensions must come out byte for byte as OpenSSL or certtool encode them,
and cryptography has no public encoder for arbitrary ASN.1, so the readers
build extension values from these primitives.  Only definite-length DER is
produced; :func:`read_tlv` parses what these functions (and any DER) make,
and the readers below it (:func:`content`, :func:`members`, ...) name what
a caller looks for instead of the offsets it would otherwise compute.
"""

from __future__ import annotations

SEQUENCE = 0x30
SET = 0x31
BOOLEAN = 0x01
INTEGER = 0x02
BIT_STRING = 0x03
OCTET_STRING = 0x04
NULL = 0x05
OBJECT_IDENTIFIER = 0x06
ENUMERATED = 0x0A
UTC_TIME = 0x17
GENERALIZED_TIME = 0x18

# The class and form bits of an identifier octet.
CONTEXT_SPECIFIC = 0x80
CONSTRUCTED = 0x20


def length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + length(len(content)) + content


def sequence(*items: bytes) -> bytes:
    return tlv(SEQUENCE, b"".join(items))


def set_of(*items: bytes) -> bytes:
    # DER orders the members of a SET OF by their encodings.
    return tlv(SET, b"".join(sorted(items)))


def integer(value: int) -> bytes:
    size = value.bit_length() // 8 + 1  # room for the sign bit
    return tlv(INTEGER, value.to_bytes(size, "big", signed=True))


def boolean(value: bool) -> bytes:
    return tlv(BOOLEAN, b"\xff" if value else b"\x00")


def null() -> bytes:
    return tlv(NULL, b"")


def octet_string(data: bytes) -> bytes:
    return tlv(OCTET_STRING, bytes(data))


def bit_string(data: bytes, unused_bits: int = 0) -> bytes:
    return tlv(BIT_STRING, bytes([unused_bits]) + bytes(data))


def named_bits(positions: set[int] | list[int]) -> bytes:
    """A BIT STRING of named bits (keyUsage, nsCertType), trailing zeros dropped.

    DER requires the shortest encoding: the last byte holds the highest set
    bit, and the unused-bits count says how many low bits of it are padding.
    """
    if not positions:
        return bit_string(b"")
    top = max(positions)
    data = bytearray(top // 8 + 1)
    for bit in positions:
        data[bit // 8] |= 0x80 >> (bit % 8)
    return bit_string(bytes(data), 7 - top % 8)


def oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    if len(parts) < 2 or parts[0] > 2 or (parts[0] < 2 and parts[1] >= 40):
        raise ValueError(f"not an object identifier: {dotted!r}")
    body = bytearray()
    for arc in [parts[0] * 40 + parts[1]] + parts[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        body.extend(reversed(chunk))
    return tlv(OBJECT_IDENTIFIER, bytes(body))


def context_tag(number: int, constructed: bool = True) -> int:
    """The identifier octet of the context-specific tag [number] (numbers below 31)."""
    return CONTEXT_SPECIFIC | (CONSTRUCTED if constructed else 0) | number


def context(number: int, content: bytes, constructed: bool = True) -> bytes:
    """A context-specific tag [number], IMPLICIT over ``content`` bytes."""
    return tlv(context_tag(number, constructed), content)


def pem(der_bytes: bytes, label: str) -> bytes:
    """PEM armour with 64-character lines, as OpenSSL's PEM_write does it."""
    import binascii  # the base64 module around it would import struct as well

    text = binascii.b2a_base64(der_bytes, newline=False).decode("ascii")
    body = "".join(text[i:i + 64] + "\n" for i in range(0, len(text), 64))
    return f"-----BEGIN {label}-----\n{body}-----END {label}-----\n".encode("ascii")


def read_tlv(data: bytes, offset: int = 0) -> tuple[int, int, int]:
    """Parse one TLV at ``offset``: return (tag, content start, end offset).

    Whatever the bytes, the only failure is ValueError: certificates from
    outside are read with this, and a damaged one must not surface as an
    IndexError far from where it was read.
    """
    if offset + 2 > len(data):
        raise ValueError("truncated DER")
    tag = data[offset]
    first = data[offset + 1]
    start = offset + 2
    if first < 0x80:
        size = first
    else:
        count = first & 0x7F
        if start + count > len(data):
            raise ValueError("truncated DER")
        size = int.from_bytes(data[start:start + count], "big")
        start += count
    end = start + size
    if end > len(data):
        raise ValueError("truncated DER")
    return tag, start, end


def children(data: bytes) -> list[bytes]:
    """Split the content of a constructed value into its encoded members."""
    members, offset = [], 0
    while offset < len(data):
        _, _, end = read_tlv(data, offset)
        members.append(data[offset:end])
        offset = end
    return members


def content(data: bytes) -> bytes:
    """The content octets of the value that starts ``data`` (what follows it is ignored)."""
    _, start, end = read_tlv(data)
    return data[start:end]


def members(data: bytes) -> list[bytes]:
    """The encoded members of the constructed value that starts ``data`` (SEQUENCE, SET, [n])."""
    return children(content(data))


def tag_and_content(data: bytes) -> tuple[int, bytes]:
    """(identifier octet, content octets) of the value that starts ``data``."""
    tag, start, end = read_tlv(data)
    return tag, data[start:end]


def read_oid(data: bytes) -> str:
    """The dotted form of the OBJECT IDENTIFIER that starts ``data``: the inverse of :func:`oid`.

    The tag is not checked (a caller that cares looks at ``data[0]``), so a
    damaged certificate still shows what its bytes say; a last arc cut
    short is dropped, and no content at all reads as "".
    """
    arcs, value = [], 0
    for byte in content(data):
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    if not arcs:
        return ""
    first = min(arcs[0] // 40, 2)
    return ".".join(str(arc) for arc in [first, arcs[0] - 40 * first] + arcs[1:])
