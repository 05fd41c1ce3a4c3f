"""GeneralNames as OpenSSL's config writes them: ``DNS:x``, ``IP:1.2.3.4``, ``dirName:sect``.

subjectAltName and issuerAltName are lists of them; CRL distribution
points, information access and name constraints hold them too.  Each name
is checked as OpenSSL checks it (it takes any bytes for DNS, email and
URI) and encoded by :mod:`mkcert.asn1.general_names`.  IP addresses are
read the way OpenSSL reads them, ``::`` rules and all; ``dirName`` sections
get the string types of the request's ``string_mask``.
"""

from __future__ import annotations

import re

from mkcert.asn1 import der, general_names as gn
from mkcert.asn1.names import name_der
from mkcert.asn1.oids import EMAIL_ADDRESS, SUBJECT_ALT_NAME
from mkcert.errors import shorten
from mkcert.readers.openssl.dn_strings import add_attribute, field_type, string_type
from mkcert.readers.openssl.extensions.values import (ExtensionError, SectionReader, name_matches,
                                                      parse_list)
from mkcert.request import Attribute

__all__ = ["alt_names", "general_name", "names_from", "relative_name", "parse_ip_address"]

_NAME_KINDS = ("email", "URI", "DNS", "RID", "IP", "dirName", "otherName")


def alt_names(reader: SectionReader, values: list[tuple[str, str | None]],
              copy_kind: str) -> bytes:
    """subjectAltName (``copy_kind`` "subject") or issuerAltName ("issuer")."""
    return gn.general_names(_general_names(reader, values, copy_kind))


def general_name(reader: SectionReader, name: str, value: str | None,
                 constraint: bool = False) -> bytes:
    """One GeneralName's DER from ``DNS:x``-style name and value.

    In nameConstraints (``constraint``) an IP is ``address/mask``.
    """
    if value is None:
        raise ExtensionError(f"{shorten(name)} needs a value ({shorten(name)}:something)")
    kind = next((k for k in _NAME_KINDS if name_matches(name, k)), None)
    if kind is None:
        raise ExtensionError(f"'{shorten(name)}' is not a name type (use DNS, IP, email, URI,"
                             " RID, dirName or otherName)")
    raw = value.encode("utf-8", "surrogateescape")
    if kind == "email":
        return gn.rfc822_name(raw)
    if kind == "DNS":
        return gn.dns_name(raw)
    if kind == "URI":
        return gn.uri(raw)
    if kind == "RID":
        oid = reader.resolve(value)
        if oid is None:
            raise ExtensionError(f"RID:{shorten(value)}: not an object name or numeric OID")
        return gn.registered_id(oid)
    if kind == "IP":
        address = _parse_ip_range(value) if constraint else parse_ip_address(value)
        if address is None:
            raise ExtensionError(f"IP:{shorten(value)} is not an IPv4 or IPv6 address")
        return gn.ip_address(address)
    if kind == "dirName":
        return gn.directory_name(_directory_name(reader, value))
    return _other_name(reader, value)


def _general_names(reader, values, copy_kind=None):
    """The encoded GeneralNames of a list of ``TYPE:value`` items.

    With ``copy_kind`` "subject", ``email:copy`` takes the subject's
    emailAddress values; with "issuer", ``issuer:copy`` the names of the
    subjectAltName before it.
    """
    names = []
    for name, value in values:
        if copy_kind == "subject" and name_matches(name, "email") and value in ("copy", "move"):
            if value == "move" and not reader.checking:
                raise ExtensionError(
                    "email:move is not supported: OpenSSL then makes a certificate"
                    " whose issuer differs from its subject; use email:copy")
            names.extend(_subject_emails(reader))
        elif copy_kind == "issuer" and name_matches(name, "issuer") and value == "copy":
            names.extend(_issuer_alt_names(reader))
        else:
            names.append(general_name(reader, name, value))
    return names


def names_from(reader: SectionReader, text: str | None) -> list[bytes]:
    """GeneralNames from ``@section`` or an inline ``URI:x, DNS:y`` list."""
    if text is None:
        raise ExtensionError("a list of names is missing")
    values = reader.section(text[1:]) if text.startswith("@") else parse_list(text)
    return _general_names(reader, values)


def _subject_emails(reader):
    return [gn.rfc822_name(attribute.value.encode("utf-8", "surrogateescape"))
            for rdn in reader.subject for attribute in rdn
            if attribute.oid == EMAIL_ADDRESS]


def _issuer_alt_names(reader):
    """issuer:copy: the names of the subjectAltName made so far (self-signed)."""
    for earlier in reader.earlier:
        if earlier.oid == SUBJECT_ALT_NAME and earlier.der is not None:
            return der.members(earlier.der)
    return []


def _directory_name(reader, section_name):
    """dirName:section -- a Name read as OpenSSL reads it (bytes as Latin-1)."""
    entries = reader.config.section(section_name)
    if entries is None:
        raise ExtensionError(f"dirName: section [ {shorten(section_name)} ] does not exist")
    rdns = []
    for key, value, _ in entries:
        type_name, joins_previous = field_type(key)
        oid = reader.resolve(type_name)
        if oid is None:
            raise ExtensionError(f"dirName [ {section_name} ]: '{shorten(type_name)}' is not a"
                                 " name field OpenSSL knows")
        # OpenSSL reads dirName values as single bytes (MBSTRING_ASC).
        chars = value.encode("utf-8", "surrogateescape").decode("latin-1")
        try:
            tag = string_type(oid, chars, reader.string_mask)
        except ValueError as problem:
            raise ExtensionError(f"dirName [ {shorten(section_name)} ] {shorten(key)} ="
                                 f" {shorten(value)}: {problem}") from None
        add_attribute(rdns, Attribute(oid, chars, tag), joins_previous)
    return name_der(rdns)


def relative_name(reader: SectionReader, section_name: str) -> bytes:
    """The content of one RDN (a name fragment) from a section: all but the first '+'."""
    name = _directory_name(reader, section_name)
    rdns = der.members(name)
    if len(rdns) != 1:
        raise ExtensionError(f"relativename [ {shorten(section_name)} ] must be one RDN:"
                             " start every field after the first with '+'")
    return der.content(rdns[0])


def _other_name(reader, value):
    """otherName:OID;TYPE:value -- [0] { type-id, [0] EXPLICIT value }."""
    from mkcert.readers.openssl.extensions.asn1_generator import generate_asn1

    oid_text, semicolon, content = value.partition(";")
    if not semicolon:
        raise ExtensionError(f"otherName:{shorten(value)}: expected OID;TYPE:value")
    encoded = generate_asn1(reader, content)
    oid = reader.resolve(oid_text)
    if oid is None:
        raise ExtensionError(f"otherName: '{shorten(oid_text)}' is not an object name or OID")
    return gn.other_name(oid, encoded)


# IP addresses ------------------------------------------------------------------

_IPV4 = re.compile(r"\s*[+-]?\d+\.\s*[+-]?\d+\.\s*[+-]?\d+\.\s*[+-]?\d+")


def _parse_ipv4(text):
    """sscanf("%d.%d.%d.%d") then end or whitespace, as OpenSSL parses IPv4."""
    match = _IPV4.match(text)
    if match is None:
        return None
    rest = text[match.end():]
    if rest and rest[0] not in " \t\n\v\f\r":
        return None
    parts = [int(part.strip()) for part in match.group(0).split(".")]
    if any(not 0 <= part <= 255 for part in parts):
        return None
    return bytes(parts)


def parse_ip_address(text: str) -> bytes | None:
    """An IPv4 or IPv6 address's octets as OpenSSL reads it, or None."""
    if ":" not in text:
        return _parse_ipv4(text)
    return _parse_ipv6(text)


def _parse_ip_range(text):
    """``address/mask`` (both in address form, same family) for nameConstraints."""
    address, slash, mask = text.partition("/")
    if not slash:
        return None
    first, second = parse_ip_address(address), parse_ip_address(mask)
    if first is None or second is None or len(first) != len(second):
        return None
    return first + second


def _parse_ipv6(text):
    """IPv6 the way OpenSSL reads it (``::`` rules, a trailing dotted IPv4)."""
    elements = text.split(":")
    groups = bytearray()
    zero_at, zeros = -1, 0
    for index, element in enumerate(elements):
        if len(groups) == 16:
            return None
        if not element:
            if zero_at == -1:
                zero_at = len(groups)
            elif zero_at != len(groups):
                return None
            zeros += 1
        elif len(element) > 4:
            if len(groups) > 12 or index != len(elements) - 1:
                return None
            v4 = _parse_ipv4(element)
            if v4 is None:
                return None
            groups += v4
        else:
            if any(c not in "0123456789abcdefABCDEF" for c in element):
                return None
            groups += int(element, 16).to_bytes(2, "big")
    total = len(groups)
    if zero_at == -1:
        return bytes(groups) if total == 16 else None
    if total == 16 or zeros > 3 or (zeros == 3 and total > 0):
        return None
    if zeros == 2 and zero_at not in (0, total):
        return None
    if zeros == 1 and zero_at in (0, total):
        return None
    return bytes(groups[:zero_at]) + bytes(16 - total) + bytes(groups[zero_at:])
