"""A certificate's fields, read by hand from its DER and shown as ``openssl x509`` shows them.

Names, validity, extensions and subjectAltName are read from the bytes, not
through cryptography, which refuses some certificates OpenSSL writes (see
:func:`extensions`); damaged DER raises ValueError only.  The names print in
OpenSSL 3's default ``-nameopt oneline`` form and the dates as
``ASN1_TIME_print`` writes them, for ``--check`` and ``--install`` as for
:func:`summary_lines`: upstream runs ``openssl x509 -subject -dates
-fingerprint -noout`` on every new PEM, and admins and log scrapers know
those four lines, so we print them the same way.  They are the certificate's
own fields in OpenSSL's words, so they are made here; the caller only prints
them.
"""

from __future__ import annotations

import datetime

from mkcert.asn1 import der, general_names, oids as objects
from mkcert.asn1.oids import SUBJECT_ALT_NAME

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing at start-up
if TYPE_CHECKING:
    from cryptography import x509

__all__ = ["MONTHS", "certificate_der", "extensions", "fingerprint", "format_name", "format_time",
           "issuer_der", "name_value", "subject_alt_names", "subject_der",
           "subject_public_key_info_der", "summary_lines", "validity"]

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

# How `openssl x509 -subject` (OpenSSL 3.0, default name options) shows a
# value: characters RFC 2253 treats specially make OpenSSL quote the whole
# value instead of escaping them, except '"' and '\\', which it escapes with a
# backslash; control characters and every byte of a non-ASCII character's
# UTF-8 form print as \\XX.
_QUOTE_TRIGGERS = set(",+<>;")
_BACKSLASHED = set('"\\')

# Bytes per character of the string types OpenSSL prints as text; other
# types print as '#' and the hex of their DER.
_CHARACTER_WIDTH = {12: 1, 18: 1, 19: 1, 20: 1, 22: 1, 23: 1, 24: 1, 26: 1,
                    28: 4, 30: 2}

# The TBSCertificate's explicitly tagged fields: version [0], extensions [3].
_VERSION_TAG = der.context_tag(0)
_EXTENSIONS_TAG = der.context_tag(3)


def _escape_value(tag, content):
    """One attribute value as OpenSSL's "oneline" format prints it."""
    width = _CHARACTER_WIDTH.get(tag)
    if width is None:
        return "#" + der.tlv(tag, content).hex().upper()
    data = _as_utf8(tag, width, content)
    quote = False
    out = []
    for index, byte in enumerate(data):
        char = chr(byte)
        if byte > 0x7F or byte < 0x20 or byte == 0x7F:
            out.append(f"\\{byte:02X}")
        elif char in _BACKSLASHED:
            out.append("\\" + char)
        else:
            last = index == len(data) - 1
            # OpenSSL checks the last character as "last", never as "first":
            # a lone '#' stays bare, a lone space is quoted.
            if char in _QUOTE_TRIGGERS or (index == 0 and not last and char in " #") or (
                    last and char == " "):
                quote = True
            out.append(char)
    body = "".join(out)
    return f'"{body}"' if quote else body


def _as_utf8(tag, width, content):
    """The value's characters as UTF-8 bytes, the way OpenSSL converts them.

    A UTF8String is taken byte by byte as it is; one-byte types are Latin-1
    (so a T61String byte 0xE9 prints as \\C3\\A9); BMP and Universal strings
    are UCS-2 and UCS-4.
    """
    if tag == 12:
        return bytes(content)
    if width == 1:
        return bytes(content).decode("latin-1").encode("utf-8")
    chars = []
    for offset in range(0, len(content) - width + 1, width):
        code = int.from_bytes(content[offset:offset + width], "big")
        chars.append(chr(code) if code <= 0x10FFFF else "\ufffd")
    return "".join(chars).encode("utf-8", "surrogatepass")


def _oid_text(dotted):
    return objects.short_name(dotted) or dotted


def format_name(name: "bytes | x509.Name") -> str:
    """A name as ``openssl x509 -subject`` prints it: ``C = US, ..., CN = x``.

    ``name`` is a cryptography Name or the DER of one.  Working from DER keeps
    this exact (members of a multi-valued RDN print in their DER order, joined
    by " + ") and lets it show strings cryptography cannot parse.  Raises
    ValueError for DER that is no Name.
    """
    data = name if isinstance(name, (bytes, bytearray)) else name.public_bytes()
    rdns = [" + ".join(f"{_oid_text(oid)} = {_escape_value(tag, value)}"
                       for oid, tag, value in rdn)
            for rdn in _relative_names(data)]
    return ", ".join(rdns)


def name_value(name_der: bytes, oid: str) -> str | None:
    """The first value of attribute ``oid`` in a Name, escaped as :func:`format_name` prints it.

    None when the name has no such attribute.  Escaped, because the value
    goes into one-line reports: a control character (a newline in a common
    name) must not start a line of its own.
    """
    for rdn in _relative_names(name_der):
        for attribute_oid, tag, value in rdn:
            if attribute_oid == oid:
                return _escape_value(tag, value)
    return None


def _relative_names(data):
    """The RDNs of a Name's DER, each a list of (dotted OID, value tag, value bytes)."""
    return [[_attribute(attribute) for attribute in der.members(rdn)]
            for rdn in der.members(data)]


def _attribute(encoded):
    """(dotted OID, value tag, value bytes) of one AttributeTypeAndValue."""
    parts = der.members(encoded)
    if len(parts) != 2:
        raise ValueError("a name attribute is not a type and a value")
    attribute_type, value = parts
    tag, text = der.tag_and_content(value)
    return der.read_oid(attribute_type), tag, text


def subject_der(certificate: "bytes | x509.Certificate") -> bytes:
    """The subject's DER, read from the TBSCertificate without parsing the name.

    cryptography refuses some names OpenSSL writes (a T61String holding
    Latin-1), so the summary works from the bytes.
    """
    return _tbs_field(certificate, 5)


def issuer_der(certificate: "bytes | x509.Certificate") -> bytes:
    """The issuer's DER, as :func:`subject_der` reads the subject's."""
    return _tbs_field(certificate, 3)


def extensions(certificate: "bytes | x509.Certificate") -> list[tuple[str, bool, bytes]]:
    """The certificate's extensions as (dotted OID, critical, value DER), in DER order.

    Read from the DER, not through cryptography, which refuses a whole
    extension list when one value holds a string it does not accept (an
    authorityKeyIdentifier naming its issuer in a T61String, as OpenSSL
    writes under ``string_mask = nombstr``).  A version 1 certificate has
    none.  Raises ValueError for DER that is no extension list.
    """
    found = _tbs_extensions_field(certificate)
    if found is None:
        return []
    extension_list = der.content(found)  # [3] EXPLICIT around the SEQUENCE OF
    return [_extension(extension) for extension in der.members(extension_list)]


def _extension(encoded):
    """(dotted OID, critical, value DER) of one Extension."""
    parts = der.members(encoded)
    if len(parts) not in (2, 3) or parts[0][0] != der.OBJECT_IDENTIFIER or (
            parts[-1][0] != der.OCTET_STRING):
        raise ValueError("an extension is not an OID, a flag and an OCTET STRING")
    critical = len(parts) == 3 and parts[1] == der.boolean(True)
    return der.read_oid(parts[0]), critical, der.content(parts[-1])


def _tbs_extensions_field(certificate):
    """The ``[3]`` field of the TBSCertificate (after the optional unique IDs), or None."""
    fields = _tbs_fields(certificate)
    return next((field for field in fields[7:] if field[0] == _EXTENSIONS_TAG), None)


def certificate_der(certificate: "bytes | x509.Certificate") -> bytes:
    """DER bytes as they are, or those of a cryptography certificate."""
    if isinstance(certificate, (bytes, bytearray)):
        return bytes(certificate)
    from cryptography.hazmat.primitives import serialization

    return certificate.public_bytes(serialization.Encoding.DER)


def _tbs_field(certificate, index):
    return _tbs_fields(certificate)[index]


def _tbs_fields(certificate):
    """The TBSCertificate's fields, numbered as for version 3 (``[0]`` version first).

    A version 1 certificate has no explicit version; a None stands in for it.
    """
    members = der.members(certificate_der(certificate))
    if not members:
        raise ValueError("no TBSCertificate")
    fields = der.members(members[0])
    if not fields or fields[0][0] != _VERSION_TAG:  # no explicit version: a v1 certificate
        fields = [None] + fields
    if len(fields) < 7:
        raise ValueError("a TBSCertificate of too few fields")
    return fields


def subject_public_key_info_der(certificate: "bytes | x509.Certificate") -> bytes:
    """The SubjectPublicKeyInfo's DER exactly as the certificate holds it.

    What DANE's selector 1 hashes (RFC 6698, 2.1.2): the bytes as served,
    read without asking cryptography to understand the key.
    """
    return _tbs_field(certificate, 6)


def validity(certificate: "bytes | x509.Certificate") -> tuple[datetime.datetime, ...]:
    """(notBefore, notAfter) as aware UTC datetimes, read from the DER."""
    return tuple(_parse_time(encoded) for encoded in der.members(_tbs_field(certificate, 4)))


def _parse_time(encoded):
    """A DER UTCTime or GeneralizedTime as an aware UTC datetime.

    DER allows one form of each (RFC 5280, 4.1.2.5): YYMMDDHHMMSSZ for
    UTCTime, YYYYMMDDHHMMSSZ for GeneralizedTime.  Read digit by digit
    rather than with strptime, whose module costs 1.5 ms to import.
    """
    tag, digits = der.tag_and_content(encoded)
    text = digits.decode("ascii")
    if tag == der.UTC_TIME:  # years 1950-2049
        year = int(text[:2])
        text = str(year + (2000 if year < 50 else 1900)) + text[2:]
    if len(text) != 15 or text[-1] != "Z" or not text[:-1].isdigit():
        raise ValueError(f"not a DER time: {text!r}")
    fields = [int(text[:4])] + [int(text[i:i + 2]) for i in range(4, 14, 2)]
    return datetime.datetime(*fields, tzinfo=datetime.timezone.utc)


def format_time(moment: datetime.datetime) -> str:
    """``ASN1_TIME_print``: ``Nov  7 05:07:24 2026 GMT`` (day padded with a space)."""
    return (f"{MONTHS[moment.month - 1]} {moment.day:2d} "
            f"{moment:%H:%M:%S} {moment.year} GMT")


def fingerprint(certificate_der: bytes, digest_name: str = "sha1") -> str:
    """The fingerprint as ``openssl x509 -fingerprint [-sha256]`` prints it: ``AB:CD:...``."""
    # cryptography's digests: they are loaded whenever there is a certificate
    # to show, while hashlib would load the system's libcrypto besides.
    from mkcert.x509.digests import digest as hash_digest

    digest = hash_digest(digest_name, certificate_der).hex().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def summary_lines(certificate: "bytes | x509.Certificate") -> list[str]:
    """The four lines of ``openssl x509 -subject -dates -fingerprint -noout``.

    ``certificate``: DER bytes or a cryptography certificate; no crypto
    library is needed for DER.
    """
    not_before, not_after = validity(certificate)
    return [
        "subject=" + format_name(subject_der(certificate)),
        "notBefore=" + format_time(not_before),
        "notAfter=" + format_time(not_after),
        "SHA1 Fingerprint=" + fingerprint(certificate_der(certificate)),
    ]


def subject_alt_names(certificate: "bytes | x509.Certificate") -> list[bytes]:
    """The GeneralName DER entries of a certificate's subjectAltName (none: []).

    From the DER as it is: cryptography refuses the whole extension list
    for one value it does not accept (a T61String in an issuer name), and
    the names must survive a renewal all the same.  Raises ValueError for a
    subjectAltName that is no list of names.
    """
    value = next((value for oid, _, value in extensions(certificate) if oid == SUBJECT_ALT_NAME), None)
    if value is None:
        return []
    names = general_names.entries(value)
    if names is None:
        raise ValueError("its subjectAltName is not a list of names")
    return names
