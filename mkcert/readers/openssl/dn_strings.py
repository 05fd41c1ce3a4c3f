"""How OpenSSL writes a distinguished name's values: string types, masks, fields.

The rules OpenSSL 3.0 applies to every name it reads from a config, whether
``req`` reads the subject (:mod:`mkcert.readers.openssl.req`), asks for it
(:mod:`mkcert.readers.openssl.prompt`) or an extension reads a ``dirName`` or an ``ASN1:``
string (:mod:`mkcert.readers.openssl.extensions`): which ASN.1 string type a value gets
(OpenSSL's standard string table and ``string_mask``), which key names which
attribute type, and how the config's numbers are read.  Pure functions over
text: no I/O, no crypto import.
"""

from __future__ import annotations

import re

from mkcert.errors import shorten
from mkcert.readers.openssl.syntax import Config, Entry
from mkcert.request import (BMP_STRING, IA5_STRING, PRINTABLE_STRING, T61_STRING, UNIVERSAL_STRING,
                            UTF8_STRING, Attribute)

__all__ = ["DEFAULT_STRING_MASK", "NUMERIC_STRING", "STRING_MASKS", "STRING_RULES", "add_attribute",
           "checked_attribute", "field_type", "string_type", "types_for", "parse_string_mask",
           "leading_number"]

NUMERIC_STRING = 18

# ASN.1 string type bits of OpenSSL's masks (B_ASN1_*).
B_NUMERIC, B_PRINTABLE, B_T61, B_IA5 = 0x0001, 0x0002, 0x0004, 0x0010
B_UNIVERSAL, B_BMP, B_UTF8 = 0x0100, 0x0800, 0x2000
DIRECTORY_STRING = B_PRINTABLE | B_T61 | B_BMP | B_UTF8
PKCS9_STRING = DIRECTORY_STRING | B_IA5

# string_mask values `req` understands (ASN1_STRING_set_default_mask_asc).
STRING_MASKS = {
    "utf8only": B_UTF8,
    "pkix": 0xFFFFFFFF & ~B_T61,
    "nombstr": 0xFFFFFFFF & ~(B_BMP | B_UTF8),
    "default": 0xFFFFFFFF,
}
DEFAULT_STRING_MASK = B_UTF8

UNLIMITED = -1

# Attribute types with their own rules (OpenSSL's standard string table):
# (min length, max length, allowed types, whether string_mask applies).
# Lengths count characters; -1 means no limit.  Other types may take any
# DirectoryString type the string_mask allows, of any length.
STRING_RULES = {
    "2.5.4.3": (1, 64, DIRECTORY_STRING, True),  # commonName
    "2.5.4.6": (2, 2, B_PRINTABLE, False),  # countryName
    "2.5.4.7": (1, 128, DIRECTORY_STRING, True),  # localityName
    "2.5.4.8": (1, 128, DIRECTORY_STRING, True),  # stateOrProvinceName
    "2.5.4.10": (1, 64, DIRECTORY_STRING, True),  # organizationName
    "2.5.4.11": (1, 64, DIRECTORY_STRING, True),  # organizationalUnitName
    "1.2.840.113549.1.9.1": (1, 128, B_IA5, False),  # emailAddress
    "1.2.840.113549.1.9.2": (1, UNLIMITED, PKCS9_STRING, True),  # unstructuredName
    "1.2.840.113549.1.9.7": (1, UNLIMITED, PKCS9_STRING, True),  # challengePassword
    "1.2.840.113549.1.9.8": (1, UNLIMITED, DIRECTORY_STRING, True),  # unstructuredAddress
    "2.5.4.42": (1, 32768, DIRECTORY_STRING, True),  # givenName
    "2.5.4.4": (1, 32768, DIRECTORY_STRING, True),  # surname
    "2.5.4.43": (1, 32768, DIRECTORY_STRING, True),  # initials
    "2.5.4.5": (1, 64, B_PRINTABLE, False),  # serialNumber
    "1.2.840.113549.1.9.20": (UNLIMITED, UNLIMITED, B_BMP, False),  # friendlyName
    "2.5.4.41": (1, 32768, DIRECTORY_STRING, True),  # name
    "2.5.4.46": (UNLIMITED, UNLIMITED, B_PRINTABLE, False),  # dnQualifier
    "0.9.2342.19200300.100.1.25": (1, UNLIMITED, B_IA5, False),  # domainComponent
    "1.3.6.1.4.1.311.17.1": (UNLIMITED, UNLIMITED, B_BMP, False),  # CSPName
    "1.3.6.1.4.1.311.60.2.1.3": (2, 2, B_PRINTABLE, False),  # jurisdictionC
    "1.2.643.3.131.1.1": (1, 12, B_NUMERIC, False),  # INN
    "1.2.643.100.1": (1, 13, B_NUMERIC, False),  # OGRN
    "1.2.643.100.3": (1, 11, B_NUMERIC, False),  # SNILS
    "2.5.4.98": (3, 3, B_PRINTABLE, False),  # countryCode3c
    "2.5.4.99": (3, 3, B_NUMERIC, False),  # countryCode3n
    "1.2.643.5.1.5.2": (0, UNLIMITED, B_UTF8, False),  # dnsName
    "1.3.6.1.5.5.7.8.9": (1, 128, B_UTF8, False),  # SmtpUTF8Mailbox
}

# Characters of a PrintableString.
_PRINTABLE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789 '()+,-./:=?")


def add_attribute(rdns: list[list[Attribute]], attribute: Attribute, joins_previous: bool) -> None:
    """Append to the name; a ``+`` field joins the previous RDN (a multi-valued RDN)."""
    if joins_previous and rdns:
        rdns[-1].append(attribute)
    else:
        rdns.append([attribute])


def checked_attribute(config: Config, entry: Entry, oid: str, value: str, mask: int) -> Attribute:
    """The attribute ``req`` makes of a subject value, typed as OpenSSL types it.

    ``entry`` is the config line the value comes from (a field given with
    ``prompt = no``, or the question it answers): a value no allowed string
    type can hold is an error at that line.
    """
    try:
        tag = string_type(oid, value, mask)
    except ValueError as problem:
        raise config.error(f"{shorten(entry[0])} = {shorten(value)}: {problem}",
                           entry=entry) from None
    return Attribute(oid=oid, value=value, tag=tag)


def field_type(key: str) -> tuple[str, bool]:
    """The attribute type a distinguished-name key names, and whether it has ``+``.

    Everything up to the first ``.``, ``,`` or ``:`` is a label that lets a
    type repeat (``0.OU``, ``1.OU``) -- even when the key is a numeric OID,
    so ``1.2.3.4`` means 2.3.4, as in OpenSSL.
    """
    type_name = key
    for index, char in enumerate(key):
        if char in ":,.":
            if index + 1 < len(key):
                type_name = key[index + 1:]
            break
    if type_name.startswith("+"):
        return type_name[1:], True
    return type_name, False


def string_type(oid: str, value: str, mask: int) -> int:
    """The ASN.1 string tag OpenSSL 3.0 gives ``value`` for attribute ``oid``.

    Raises ValueError (with OpenSSL's reason) when no allowed type fits.
    """
    rule = STRING_RULES.get(oid)
    if rule is None:
        minimum, maximum, types = UNLIMITED, UNLIMITED, DIRECTORY_STRING & mask
    else:
        minimum, maximum, types, masked = rule
        if masked:
            types &= mask
    if not types:
        types = DIRECTORY_STRING  # what OpenSSL falls back to for an empty mask
    for char in value:
        if 0xD800 <= ord(char) <= 0xDFFF:
            raise ValueError("the value is not valid UTF-8")
    if minimum > 0 and len(value) < minimum:
        if not value:
            raise ValueError("the value is empty, and this field needs one")
        raise ValueError(f"the value is too short (at least {minimum} characters)")
    if maximum > 0 and len(value) > maximum:
        raise ValueError(f"the value is too long (at most {maximum} characters)")
    for char in value:
        types = types_for(ord(char), types)
        if not types:
            raise ValueError("the value has characters this field cannot hold")
    for bit, tag in ((B_NUMERIC, NUMERIC_STRING), (B_PRINTABLE, PRINTABLE_STRING),
                     (B_IA5, IA5_STRING), (B_T61, T61_STRING), (B_BMP, BMP_STRING),
                     (B_UNIVERSAL, UNIVERSAL_STRING)):
        if types & bit:
            return tag
    return UTF8_STRING


def types_for(code: int, types: int) -> int:
    """Drop the string types that cannot hold the character ``code``."""
    if types & B_NUMERIC and not (48 <= code <= 57 or code == 32):
        types &= ~B_NUMERIC
    if types & B_PRINTABLE and not (code < 128 and chr(code) in _PRINTABLE):
        types &= ~B_PRINTABLE
    if types & B_IA5 and code > 127:
        types &= ~B_IA5
    if types & B_T61 and code > 0xFF:
        types &= ~B_T61
    if types & B_BMP and code > 0xFFFF:
        types &= ~B_BMP
    if types & B_UTF8 and (code > 0x10FFFF or 0xD800 <= code <= 0xDFFF):
        types &= ~B_UTF8
    return types


def parse_string_mask(text: str) -> int | None:
    """The mask for a string_mask value, or None if OpenSSL would refuse it."""
    if text.startswith("MASK:"):
        return _strtoul(text[5:])
    return STRING_MASKS.get(text)


def _strtoul(text):
    """C's strtoul(text, &end, 0) where all of text must be the number; else None."""
    match = _C_UNSIGNED.match(text)
    if match is None:
        return None
    sign, digits = match.groups()
    if digits[:2] in ("0x", "0X"):
        number = int(digits[2:], 16)
    elif digits.startswith("0"):
        number = int(digits, 8)
    else:
        number = int(digits)
    if number > _ULONG_MAX:
        return _ULONG_MAX
    return (-number) & _ULONG_MAX if sign == "-" else number


_C_UNSIGNED = re.compile(r"[ \t\n\v\f\r]*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)\Z")
_ULONG_MAX = 0xFFFFFFFFFFFFFFFF


def leading_number(text: str) -> int | None:
    """NCONF_get_number: the decimal digits at the start (0 if none); None on overflow."""
    number = 0
    for char in text:
        if not "0" <= char <= "9":
            break
        number = number * 10 + ord(char) - 48
        if number > 0x7FFFFFFFFFFFFFFF:
            return None
    return number
