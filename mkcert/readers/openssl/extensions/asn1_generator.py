"""``ASN1:`` values: OpenSSL's ASN1_generate_nconf, for extensions it has no syntax for.

``ASN1:[modifier,...]TYPE[:value]`` writes any DER value: a type
(``UTF8``, ``INT``, ``OID``, ``SEQUENCE:section``, ...), modifiers that tag
or wrap it (``IMPLICIT:0``, ``EXPLICIT:2A``, ``OCTWRAP``) and a value
format (``FORMAT:HEX``).  A tagged value is re-read as OpenSSL re-reads it,
so what OpenSSL refuses is refused here too.  ``otherName`` values use the
same language.
"""

from __future__ import annotations

import re

from mkcert.asn1 import der
from mkcert.errors import shorten
from mkcert.readers.openssl.dn_strings import types_for
from mkcert.readers.openssl.extensions.values import (ExtensionError, SectionReader, parse_bool,
                                                      parse_hex, parse_integer)

__all__ = ["generate_asn1"]

_ASN1_TYPES = {
    "BOOL": 1, "BOOLEAN": 1, "NULL": 5, "INT": 2, "INTEGER": 2, "ENUM": 10,
    "ENUMERATED": 10, "OID": 6, "OBJECT": 6, "UTCTIME": 23, "UTC": 23,
    "GENERALIZEDTIME": 24, "GENTIME": 24, "OCT": 4, "OCTETSTRING": 4,
    "BITSTR": 3, "BITSTRING": 3, "UNIVERSALSTRING": 28, "UNIV": 28, "IA5": 22,
    "IA5STRING": 22, "UTF8": 12, "UTF8String": 12, "BMP": 30, "BMPSTRING": 30,
    "VISIBLESTRING": 26, "VISIBLE": 26, "PRINTABLESTRING": 19, "PRINTABLE": 19,
    "T61": 20, "T61STRING": 20, "TELETEXSTRING": 20, "GeneralString": 27,
    "GENSTR": 27, "NUMERIC": 18, "NUMERICSTRING": 18, "SEQUENCE": 16, "SEQ": 16,
    "SET": 17,
}
_ASN1_MODIFIERS = {
    "EXP": "explicit", "EXPLICIT": "explicit", "IMP": "implicit", "IMPLICIT": "implicit",
    "OCTWRAP": "octwrap", "SEQWRAP": "seqwrap", "SETWRAP": "setwrap",
    "BITWRAP": "bitwrap", "FORM": "format", "FORMAT": "format",
}
# String types: the OpenSSL mask bit each allows (see dn_strings.string_type).
_ASN1_STRING_BITS = {18: 0x0001, 19: 0x0002, 20: 0x0004, 22: 0x0010, 26: 0x0040,
                     27: 0x0080, 28: 0x0100, 30: 0x0800, 12: 0x2000}
MAX_ASN1_DEPTH = 50  # nesting of SEQUENCE/SET sections
MAX_EXPLICIT_TAGS = 20
_CLASSES = {"U": 0x00, "A": 0x40, "C": 0x80, "P": 0xC0}
_WS = " \t\n\v\f\r"


def generate_asn1(reader: SectionReader, text: str, depth: int = 0) -> bytes:
    """The DER of an ``ASN1:`` value: ``[modifier,...]TYPE[:value]``."""
    if depth > MAX_ASN1_DEPTH:
        raise ExtensionError("ASN1 SEQUENCE/SET sections nest too deeply (a loop?)")
    kind, value, state = _asn1_parse_modifiers(text)
    if kind in (16, 17):
        inner = _asn1_multiple(reader, kind, value, depth)
    else:
        inner = _asn1_primitive(reader, kind, value, state["format"])
    return _asn1_apply_tags(inner, state)


def _asn1_parse_modifiers(text):
    state = {"format": "ASCII", "implicit": None, "explicit": []}
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _WS:
            pos += 1
        comma = text.find(",", pos)
        stop = len(text) if comma == -1 else comma
        element = text[pos:stop].rstrip(_WS)
        if not element:
            raise ExtensionError(f"ASN1:{shorten(text)}: an empty item")
        name, colon, _ = element.partition(":")
        value_start = pos + len(name) + 1 if colon else None
        if name in _ASN1_TYPES:
            if value_start is None and pos + len(element) < len(text):
                raise ExtensionError(f"ASN1:{shorten(text)}: {name} needs ':value'")
            return _ASN1_TYPES[name], (text[value_start:] if colon else None), state
        modifier = _ASN1_MODIFIERS.get(name)
        if modifier is None:
            raise ExtensionError(f"ASN1:{shorten(text)}: '{shorten(name)}' is not an ASN.1"
                                 " type or modifier")
        argument = element[len(name) + 1:] if colon else None
        _asn1_modifier(state, modifier, argument, text)
        if comma == -1:
            raise ExtensionError(f"ASN1:{shorten(text)}: no type after the modifiers")
        pos = comma + 1


def _asn1_modifier(state, modifier, argument, text):
    if modifier == "format":
        for name in ("ASCII", "UTF8", "HEX", "BITLIST"):
            if argument is not None and argument.startswith(name):
                state["format"] = name
                return
        raise ExtensionError(f"ASN1:{shorten(text)}: FORMAT must be ASCII, UTF8, HEX or BITLIST")
    if modifier == "implicit":
        if state["implicit"] is not None:
            raise ExtensionError(f"ASN1:{shorten(text)}: IMPLICIT twice")
        state["implicit"] = _asn1_tagging(argument, text)
        return
    wrappers = {"explicit": None, "seqwrap": (0x00, 16, True, False),
                "setwrap": (0x00, 17, True, False), "octwrap": (0x00, 4, False, False),
                "bitwrap": (0x00, 3, False, True)}
    if modifier == "explicit":
        if state["implicit"] is not None:
            raise ExtensionError(f"ASN1:{shorten(text)}: IMPLICIT cannot be followed by EXPLICIT")
        tag_class, number = _asn1_tagging(argument, text)
        wrapper = (tag_class, number, True, False)
    else:
        wrapper = wrappers[modifier]
        if state["implicit"] is not None:
            # The wrapper takes the pending IMPLICIT tag.
            wrapper = state["implicit"] + wrapper[2:]
            state["implicit"] = None
    if len(state["explicit"]) >= MAX_EXPLICIT_TAGS:
        raise ExtensionError(f"ASN1:{shorten(text)}: too many tags")
    state["explicit"].append(wrapper)


def _asn1_tagging(argument, text):
    """``n`` or ``nX`` with class U, A, P or C (context, the default)."""
    match = re.fullmatch(r"(\d+)(.*)", argument or "", re.S)
    if match is None:
        raise ExtensionError(f"ASN1:{shorten(text)}: a tag needs a number")
    suffix = match.group(2)
    if suffix and suffix[0] not in _CLASSES:
        raise ExtensionError(f"ASN1:{shorten(text)}: '{shorten(suffix[0])}' is not a tag"
                             " class (U, A, P, C)")
    return (_CLASSES[suffix[0]] if suffix else 0x80), int(match.group(1))


def _asn1_header(tag_class, constructed, number, length):
    first = tag_class | (0x20 if constructed else 0)
    if number < 31:
        head = bytes([first | number])
    else:
        chunks = [number & 0x7F]
        number >>= 7
        while number:
            chunks.append(0x80 | (number & 0x7F))
            number >>= 7
        head = bytes([first | 0x1F] + list(reversed(chunks)))
    return head + der.length(length)


def _asn1_apply_tags(inner, state):
    encoded = inner
    if state["implicit"] is not None:
        tag_class, number = state["implicit"]
        constructed = bool(inner[0] & 0x20)
        if tag_class == 0x00 and number in (16, 17):
            constructed = True
        content = der.content(inner)
        encoded = _asn1_header(tag_class, constructed, number, len(content)) + content
    for tag_class, number, constructed, pad in reversed(state["explicit"]):
        content = (b"\0" if pad else b"") + encoded
        encoded = _asn1_header(tag_class, constructed, number, len(content)) + content
    if state["implicit"] is not None or state["explicit"]:
        encoded = _asn1_reparse(encoded)
    return encoded


def _asn1_reparse(encoded):
    """What OpenSSL's re-reading of a tagged value accepts, and how it re-encodes it.

    A value whose outer tag is universal must be a valid value of that type
    (a BOOLEAN of one byte, a NULL of none, a minimal INTEGER, ...); other
    classes pass as they are.
    """
    first = encoded[0]
    if first & 0xC0:
        return encoded
    number, constructed = first & 0x1F, bool(first & 0x20)
    content = der.content(encoded)
    if number in (16, 17):
        if not constructed:
            raise ExtensionError("a universal SEQUENCE or SET tag needs a constructed value")
        return encoded
    if constructed or number in (0, 31):
        raise ExtensionError(f"universal tag {number} cannot take this value"
                             " (mkcert does not support constructed strings)")
    problem = _universal_problem(number, content)
    if problem:
        raise ExtensionError(f"the tagged value is not a valid universal {number}: {problem}")
    if number == 1:
        return der.boolean(content[0] != 0)
    if number == 3 and len(content) > 1:
        unused = content[0]
        content = content[:-1] + bytes([content[-1] & (0xFF << unused) & 0xFF])
        return der.tlv(3, content)
    return encoded


def _universal_problem(number, content):
    if number == 1 and len(content) != 1:
        return "a BOOLEAN has one byte"
    if number == 5 and content:
        return "a NULL is empty"
    if number in (2, 10):
        if not content:
            return "an INTEGER cannot be empty"
        if len(content) > 1:
            padded = content[0] == 0 or (content[0] == 0xFF and any(content[1:]))
            if padded and (content[0] & 0x80) == (content[1] & 0x80):
                return "an INTEGER must be minimal"
    if number == 6:
        if not content or content[-1] & 0x80:
            return "an OBJECT IDENTIFIER must end its last arc"
        for index, byte in enumerate(content):
            if byte == 0x80 and (index == 0 or not content[index - 1] & 0x80):
                return "an OBJECT IDENTIFIER arc cannot start with 0x80"
    if number == 3 and (not content or content[0] > 7):
        return "a BIT STRING starts with its unused-bit count (0 to 7)"
    if number == 30 and len(content) % 2:
        return "a BMPString has two bytes per character"
    if number == 28 and len(content) % 4:
        return "a UniversalString has four bytes per character"
    return None


def _asn1_multiple(reader, kind, section_name, depth):
    items = []
    if section_name is not None:
        for _, value in reader.section(section_name):
            items.append(generate_asn1(reader, value, depth + 1))
    if kind == 17:
        return der.set_of(*items)
    return der.sequence(*items)


def _asn1_primitive(reader, kind, value, form):
    if kind == 5:
        if value:
            raise ExtensionError("NULL takes no value")
        return der.null()
    if kind in (1, 2, 10, 6, 23, 24) and form != "ASCII":
        raise ExtensionError("this ASN.1 type takes FORMAT:ASCII only")
    if kind == 1:
        if value is None:
            raise ExtensionError("BOOL needs a value (TRUE or FALSE)")
        return der.boolean(parse_bool("BOOL", value))
    if kind in (2, 10):
        encoded = der.integer(parse_integer(value))
        return bytes([kind]) + encoded[1:]
    if kind == 6:
        oid = reader.resolve(value) if value is not None else None
        if oid is None:
            raise ExtensionError(f"OID:{shorten(value)} is not an object name or numeric OID")
        return der.oid(oid)
    if kind in (23, 24):
        return der.tlv(kind, _asn1_time(kind, value))
    if kind in (3, 4):
        return _asn1_bytes(kind, value, form)
    return _asn1_string(kind, value, form)


def _asn1_time(kind, value):
    pattern = (r"\d{10}(\d{2})?(Z|[+-]\d{4})" if kind == 23
               else r"\d{12}(\d{2}(\.\d+)?)?(Z|[+-]\d{4})?")
    if value is None or not re.fullmatch(pattern, value, re.A):
        raise ExtensionError(f"'{shorten(value)}' is not a valid"
                             f" {'UTCTIME' if kind == 23 else 'GENTIME'}")
    return value.encode("ascii")


def _asn1_bytes(kind, value, form):
    if form == "HEX":
        data = parse_hex(value or "")
    elif form == "ASCII":
        data = (value or "").encode("utf-8", "surrogateescape")
    elif form == "BITLIST" and kind == 3:
        bits = set()
        for item in (value or "").split(","):
            item = item.strip(_WS)
            if not item.isdigit() or not item.isascii() or int(item) > 1 << 20:
                raise ExtensionError(f"BITLIST: '{shorten(item)}' is not a bit number")
            bits.add(int(item))
        return der.named_bits(bits)
    else:
        raise ExtensionError("this ASN.1 type takes FORMAT:ASCII or HEX (or BITLIST)")
    if kind == 3:
        return der.bit_string(data)
    return der.octet_string(data)


def _asn1_string(kind, value, form):
    if form == "ASCII":
        text = (value or "").encode("utf-8", "surrogateescape").decode("latin-1")
    elif form == "UTF8":
        text = value or ""
        if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
            raise ExtensionError("the value is not valid UTF-8")
    else:
        raise ExtensionError("a string takes FORMAT:ASCII or UTF8")
    allowed = _ASN1_STRING_BITS[kind]
    for char in text:
        allowed = types_for(ord(char), allowed)
        if not allowed:
            raise ExtensionError(f"'{shorten(value)}' has characters this string type"
                                 " cannot hold")
    if kind in (18, 19, 20, 22):
        content = text.encode("latin-1")
    elif kind == 30:
        content = text.encode("utf-16-be")
    elif kind == 28:
        content = text.encode("utf-32-be", "surrogatepass")
    else:
        content = text.encode("utf-8", "surrogateescape")
    return der.tlv(kind, content)
