"""What every extension's handler works with: the section reader, the error, the value syntax.

A handler gets the :class:`SectionReader` (the config, the names it
defined, the extensions made so far) and the value of its line, and raises
:class:`ExtensionError` for a value OpenSSL refuses; the section reader adds
file and line.  The syntax here is what OpenSSL's extension values share:
``critical,`` in front, ``DER:``/``ASN1:`` values, ``name:value, name``
lists (X509V3_parse_list), hex strings, booleans, integers and ``DNS.1``
style names.
"""

from __future__ import annotations

from mkcert.asn1 import oids as objects
from mkcert.errors import shorten
from mkcert.readers.openssl.syntax import Config
from mkcert.request import Attribute, Extension

__all__ = ["ExtensionError", "SectionReader", "split_critical", "split_generic", "name_matches",
           "parse_list", "parse_hex", "parse_bool", "parse_integer"]


class ExtensionError(ValueError):
    """A value the extension cannot take; the caller adds file and line."""


class SectionReader:
    """One extension section being read: what its values may refer to."""

    def __init__(self, config: Config, oids: dict[str, str], string_mask: int = 0x2000,
                 subject: tuple[tuple[Attribute, ...], ...] = (), checking: bool = False):
        self.config = config
        self.oids = oids  # the names the config's oid_section defined
        self.string_mask = string_mask
        self.subject = subject
        self.checking = checking  # only checking the syntax (req_extensions)
        self.earlier: list[Extension] = []  # extensions so far: authorityKeyIdentifier looks back

    def resolve(self, name: str) -> str | None:
        """The dotted OID of an object name (the config's own first) or numeric OID."""
        return self.oids.get(name) or objects.resolve(name)

    def list_values(self, value: str) -> list[tuple[str, str | None]]:
        """A multi-valued setting: ``@section`` or ``name:value, name, ...``."""
        if value.startswith("@"):
            entries = self.config.section(value[1:])
            if not entries:
                raise ExtensionError(f"section [ {shorten(value[1:])} ] does not exist"
                                     " or is empty")
            return [(name, item) for name, item, _ in entries]
        values = parse_list(value)
        if not values:
            raise ExtensionError("the value is empty")
        return values

    def section(self, name: str) -> list[tuple[str, str]]:
        """The (name, value) lines of a section the value refers to, which must exist."""
        entries = self.config.section(name)
        if entries is None:
            raise ExtensionError(f"section [ {shorten(name)} ] does not exist")
        return [(key, item) for key, item, _ in entries]


def split_critical(value: str) -> tuple[bool, str]:
    """``critical,`` in front makes the extension critical (spaces after it allowed)."""
    if value.startswith("critical,"):
        rest = value[len("critical,"):]
        return True, rest.lstrip(" \t\n\v\f\r")
    return False, value


def split_generic(value: str) -> tuple[str | None, str]:
    """"DER" or "ASN1" and the rest for a value written in one of those, else None."""
    for prefix, kind in (("DER:", "DER"), ("ASN1:", "ASN1")):
        if value.startswith(prefix):
            return kind, value[len(prefix):].lstrip(" \t\n\v\f\r")
    return None, value


def name_matches(name: str, kind: str) -> bool:
    """``DNS``, ``DNS.1``, ``DNS.anything`` all mean DNS (OpenSSL's v3_name_cmp)."""
    return name == kind or name.startswith(kind + ".")


def _strip_spaces(text):
    stripped = text.strip(" \t\n\v\f\r")
    return stripped or None


def parse_list(line: str) -> list[tuple[str, str | None]]:
    """``a:b, c`` -> [("a", "b"), ("c", None)], as X509V3_parse_list splits it.

    Splitting stops at a CR or LF.  An empty name or value is an error.
    """
    values = []
    name = None
    in_value = False
    start = 0
    end = len(line)
    for stop_char in "\r\n":
        if stop_char in line:
            end = min(end, line.index(stop_char))
    line = line[:end]
    if not line.strip(" \t\n\v\f\r"):
        raise ExtensionError("the value is empty")
    for pos, char in enumerate(line):
        if not in_value:
            if char == ":":
                name = _strip_spaces(line[start:pos])
                if name is None:
                    raise ExtensionError("an item has an empty name")
                in_value, start = True, pos + 1
            elif char == ",":
                item = _strip_spaces(line[start:pos])
                if item is None:
                    raise ExtensionError("an item has an empty name")
                values.append((item, None))
                start = pos + 1
        elif char == ",":
            item = _strip_spaces(line[start:pos])
            if item is None:
                raise ExtensionError(f"{shorten(name)}: has an empty value")
            values.append((name, item))
            in_value, name, start = False, None, pos + 1
    item = _strip_spaces(line[start:])
    if in_value:
        if item is None:
            raise ExtensionError(f"{shorten(name)}: has an empty value")
        values.append((name, item))
    else:
        if item is None:
            raise ExtensionError("an item has an empty name")
        values.append((item, None))
    return values


def parse_hex(text: str) -> bytes:
    """OPENSSL_hexstr2buf: hex digit pairs, optionally separated by ':'."""
    out = bytearray()
    pos = 0
    while pos < len(text):
        if text[pos] == ":":
            pos += 1
            continue
        pair = text[pos:pos + 2]
        if len(pair) < 2 or any(c not in "0123456789abcdefABCDEF" for c in pair):
            raise ExtensionError(f"'{shorten(text)}' is not a hex string (pairs of hex digits,"
                                 " optionally separated by ':')")
        out.append(int(pair, 16))
        pos += 2
    if not out and not text:
        raise ExtensionError("the hex string is empty")
    return bytes(out)


_TRUE = ("TRUE", "true", "Y", "y", "YES", "yes")
_FALSE = ("FALSE", "false", "N", "n", "NO", "no")


def parse_bool(name: str, value: str) -> bool:
    """OpenSSL's spellings of true and false; ``name`` is for the message."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ExtensionError(f"{shorten(name)}:{shorten(value)}: expected true or false")


def parse_integer(text: str | None) -> int:
    """s2i_ASN1_INTEGER: decimal, or hex after 0x, with an optional '-'."""
    if text is None:
        raise ExtensionError("a number is missing")
    body = text
    negative = body.startswith("-")
    if negative:
        body = body[1:]
    digits = "0123456789"
    if body[:2] in ("0x", "0X"):
        body, digits, base = body[2:], "0123456789abcdefABCDEF", 16
    else:
        base = 10
    if not body or any(c not in digits for c in body):
        raise ExtensionError(f"'{shorten(text)}' is not a number")
    number = int(body, base)
    return -number if negative else number
