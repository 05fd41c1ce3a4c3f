"""``--san``: subjectAltName entries on top of what the ``.cnf`` asks for.

Clients match a server's name against subjectAltName only (RFC 6125), and
Courier's stock ``.cnf`` files name none, so ``--san mail.example.org``
is how an admin gets a certificate that a modern client accepts.

Each name becomes one DER GeneralName.  The extension is merged or placed
exactly where the tool that owns the ``.cnf`` format would have put it:

* OpenSSL flavour: as ``openssl req -addext subjectAltName=...`` does, after
  the config's own extensions and before the subjectKeyIdentifier that
  OpenSSL 3 adds by default.  A config's own subjectAltName moves there too
  (openssl drops it for the -addext one), but keeps its names, ours after;
* GnuTLS flavour: as certtool does with ``dns_name``/``ip_address``/``email``
  template lines: right after basicConstraints, the names grouped by type in
  certtool's order (DNS names, URIs, IP addresses, e-mail addresses).

Nothing here imports a crypto library: names are checked while the command
line is parsed, before any file exists.
"""

import ipaddress
import re

from mkcert.asn1 import der, general_names
from mkcert.asn1.oids import (BASIC_CONSTRAINTS, CLIENT_AUTH, EXTENDED_KEY_USAGE, SUBJECT_ALT_NAME,
                              SUBJECT_KEY_IDENTIFIER)

# certtool writes the names of a template in this order of types.
CERTTOOL_TYPE_ORDER = (general_names.DNS_NAME, general_names.URI, general_names.IP_ADDRESS,
                       general_names.RFC822_NAME)

_LABEL = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")
_EMAIL_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[!-~]+$")


class SanError(ValueError):
    """A name that cannot go into subjectAltName; the message says why."""


def general_name(text):
    """One ``--san`` value -> the DER of its GeneralName.

    ``DNS:``, ``IP:``, ``email:`` and ``URI:`` prefixes (OpenSSL's spelling,
    any case) choose the type; without one, an IP address is an IP, a name
    with ``@`` an e-mail address, anything else a DNS name.
    """
    kind, _, value = text.partition(":")
    kind = kind.lower()
    if kind not in _ENCODERS or not value:
        kind = "ip" if _is_ip(text) else "email" if "@" in text else "dns"
        value = text
    try:
        return _ENCODERS[kind](value)
    except SanError as exc:
        raise SanError(f"{text!r}: {exc}") from None


def _is_ip(text):
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def dns_name(text):
    """A host name, or ``*.`` and a host name; ASCII only (give IDNs as xn--)."""
    if not text.isascii():
        raise SanError("not ASCII; write an international name in its xn-- form")
    labels = text.split(".")
    if labels[0] == "*" and len(labels) > 2:
        labels = labels[1:]
    if len(text) > 253 or not all(_LABEL.match(label) for label in labels):
        raise SanError("not a valid DNS name")
    return general_names.dns_name(text.encode("ascii"))


def ip_name(text):
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise SanError("not an IPv4 or IPv6 address") from None
    return general_names.ip_address(address.packed)


def email_name(text):
    local, at, domain = text.rpartition("@")
    if not at or not local or not _EMAIL_LOCAL.match(local):
        raise SanError("not an e-mail address")
    try:
        dns_name(domain)
    except SanError:
        raise SanError("not an e-mail address") from None
    return general_names.rfc822_name(text.encode("ascii"))


def uri_name(text):
    if not _URI.match(text):
        raise SanError("not a URI")
    return general_names.uri(text.encode("ascii"))


_ENCODERS = {"dns": dns_name, "ip": ip_name, "email": email_name, "uri": uri_name}


def merge(existing_value, names):
    """A GeneralNames SEQUENCE: the existing entries, then the new ones not already there."""
    entries = []
    if existing_value is not None:
        _, start, end = der.read_tlv(existing_value)
        entries = der.children(existing_value[start:end])
    for name in names:
        if name not in entries:
            entries.append(name)
    return general_names.general_names(entries)


def certtool_order(value):
    """Regroup a GeneralNames SEQUENCE by type as certtool writes it (stable within a type)."""
    _, start, end = der.read_tlv(value)
    entries = der.children(value[start:end])

    def rank(entry):
        choice = general_names.choice(entry)
        return CERTTOOL_TYPE_ORDER.index(choice) if choice in CERTTOOL_TYPE_ORDER else len(
            CERTTOOL_TYPE_ORDER)

    return general_names.general_names(sorted(entries, key=rank))


def add_to_request(request, names):
    """The request with ``names`` (GeneralName DER) added to its subjectAltName."""
    if not names:
        return request
    from mkcert.request import Extension

    gnutls = request.flavour == "gnutls"
    arrange = certtool_order if gnutls else (lambda value: value)
    extensions = list(request.extensions)
    found = [i for i, extension in enumerate(extensions) if extension.oid == SUBJECT_ALT_NAME]
    if found:
        merged = _merged_extension(extensions.pop(found[0]), names, arrange)
        # certtool keeps one place for it; openssl -addext drops the config's
        # and appends its own, so the merged one moves to where -addext puts it.
        position = found[0] if gnutls else _new_position(extensions, request.flavour)
    else:
        merged = Extension(oid=SUBJECT_ALT_NAME, critical=False, der=arrange(merge(None, names)))
        position = _new_position(extensions, request.flavour)
    extensions.insert(position, merged)
    if not gnutls and not request.extensions:
        # Without an extensions section, `req -x509` adds none of its own,
        # but once -addext gives it one it appends subjectKeyIdentifier too.
        from mkcert.readers.openssl.extensions.section import add_key_identifiers

        extensions = add_key_identifiers(extensions)
    return request.replace(extensions=tuple(extensions))


def _merged_extension(extension, names, arrange):
    if extension.derive is None:
        return extension.replace(der=arrange(merge(extension.der, names)))
    original = extension.derive

    def derive(context):  # a reader may compute SAN late; merge into whatever it makes
        return arrange(merge(original(context), names))

    return extension.replace(derive=derive)


def _new_position(extensions, flavour):
    """Where the tool of this flavour puts a subjectAltName the file did not ask for."""
    oids = [e.oid for e in extensions]
    if flavour == "gnutls":
        return _certtool_position(extensions, oids)
    # OpenSSL 3 `req -x509` adds the default subjectKeyIdentifier after the
    # -addext extensions.  A config that itself names subjectKeyIdentifier as
    # its last extension is indistinguishable here; there the order differs
    # from openssl's by one place, with the same extensions and values.
    if oids and oids[-1] == SUBJECT_KEY_IDENTIFIER:
        return len(oids) - 1
    return len(oids)


def _certtool_position(extensions, oids):
    """Right after basicConstraints, as certtool creates subjectAltName next.

    Only ``tls_www_client`` makes an extension between the two: an
    extendedKeyUsage that starts with clientAuth (one that starts otherwise
    is certtool's later, server one, which follows subjectAltName).
    """
    if BASIC_CONSTRAINTS not in oids:
        return 0
    position = oids.index(BASIC_CONSTRAINTS) + 1
    if position < len(oids) and oids[position] == EXTENDED_KEY_USAGE:
        value = extensions[position].der
        _, start, end = der.read_tlv(value)
        if der.children(value[start:end])[:1] == [der.oid(CLIENT_AUTH)]:
            position += 1
    return position


def parse_argument(text):
    """argparse ``type=`` for --san: the GeneralName DER, or a usage error."""
    import argparse

    try:
        return general_name(text)
    except SanError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
