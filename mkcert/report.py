"""What the originals print on success.

Upstream runs ``openssl x509 -subject -dates -fingerprint -noout`` on the new
PEM; admins and log scrapers know those four lines, so we print them the same
way (OpenSSL 3's default ``-nameopt oneline``, ``ASN1_TIME_print`` dates).
"""

import hashlib

from . import der

# Short names OpenSSL prints for the attribute types; others print as OIDs.
SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.13": "description",
    "2.5.4.15": "businessCategory",
    "2.5.4.17": "postalCode",
    "2.5.4.41": "name",
    "2.5.4.42": "GN",
    "2.5.4.43": "initials",
    "2.5.4.44": "generationQualifier",
    "2.5.4.45": "x500UniqueIdentifier",
    "2.5.4.46": "dnQualifier",
    "2.5.4.65": "pseudonym",
    "2.5.4.97": "organizationIdentifier",
    "1.2.840.113549.1.9.1": "emailAddress",
    "1.2.840.113549.1.9.2": "unstructuredName",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
}

MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()

# Characters RFC 2253 treats specially; OpenSSL's "oneline" quotes the value.
_SPECIAL = set(',+"\\<>;')


def _escape_value(text):
    quote = False
    out = []
    for index, char in enumerate(text):
        code = ord(char)
        if char in _SPECIAL or (char == "#" and index == 0) or (
                char == " " and index in (0, len(text) - 1)):
            quote = True
            out.append("\\" + char if char in '\\"' else char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\{code:02X}")
        elif code > 0xFFFF:
            out.append(f"\\W{code:08X}")
        elif code > 0x7F:
            out.append("".join(f"\\{b:02X}" for b in char.encode("utf-8")))
        else:
            out.append(char)
    body = "".join(out)
    return f'"{body}"' if quote else body


def _oid_text(oid):
    return SHORT_NAMES.get(oid.dotted_string, oid.dotted_string)


def format_name(name):
    """A name as ``openssl x509 -subject`` prints it: ``C = US, ..., CN = x``."""
    rdns = []
    for rdn in name.rdns:
        # A multi-valued RDN prints in its DER order, members joined by " + ".
        members = sorted(rdn, key=lambda a: x509_attribute_der(a))
        rdns.append(" + ".join(
            f"{_oid_text(a.oid)} = {_escape_value(a.value)}" for a in members))
    return ", ".join(rdns)


def x509_attribute_der(attribute):
    return der.sequence(der.oid(attribute.oid.dotted_string),
                        der.tlv(attribute._type.value, _string_bytes(attribute)))


def _string_bytes(attribute):
    tag = attribute._type.value
    if tag == 30:
        return attribute.value.encode("utf-16-be")
    if tag == 28:
        return attribute.value.encode("utf-32-be")
    return attribute.value.encode("utf-8")


def format_time(moment):
    """``ASN1_TIME_print``: ``Nov  7 05:07:24 2026 GMT`` (day padded with a space)."""
    return (f"{MONTHS[moment.month - 1]} {moment.day:2d} "
            f"{moment:%H:%M:%S} {moment.year} GMT")


def fingerprint(certificate_der):
    digest = hashlib.sha1(certificate_der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def summary_lines(certificate):
    """The four lines of ``openssl x509 -subject -dates -fingerprint -noout``."""
    from cryptography.hazmat.primitives import serialization

    from .compat import not_valid_after, not_valid_before

    return [
        "subject=" + format_name(certificate.subject),
        "notBefore=" + format_time(not_valid_before(certificate)),
        "notAfter=" + format_time(not_valid_after(certificate)),
        "SHA1 Fingerprint=" + fingerprint(
            certificate.public_bytes(serialization.Encoding.DER)),
    ]
