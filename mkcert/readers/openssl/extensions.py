"""The x509v3_config extension language: a config section in, extensions out.

``x509_extensions = cert_type`` in a Courier ``.cnf`` names a section such as
``nsCertType = server``; OpenSSL turns each line into a DER extension value,
and ``req -x509`` then adds a subjectKeyIdentifier of its own.  This module
reproduces both, byte for byte as OpenSSL 3.0 encodes them (checked against
the ``openssl`` binary), and refuses what OpenSSL refuses, naming the line.

Values that depend on the new key (subjectKeyIdentifier = hash,
authorityKeyIdentifier) come out as ``derive`` callables that receive a
:class:`mkcert.request.KeyContext` when the certificate is built.
"""

import re

from mkcert.asn1 import der, general_names as gn, oids as objects
from mkcert.asn1.names import name_der
from mkcert.asn1.oids import (AUTHORITY_KEY_IDENTIFIER, CPS_QUALIFIER, EMAIL_ADDRESS, SUBJECT_ALT_NAME,
                              SUBJECT_KEY_IDENTIFIER, USER_NOTICE_QUALIFIER)
from mkcert.errors import ConfigError, shorten
from mkcert.readers.openssl.dn_strings import add_attribute, field_type, string_type, types_for
from mkcert.request import Attribute, Extension


class ExtensionError(ValueError):
    """A value the extension cannot take; the caller adds file and line."""


def extensions_from_config(config, section_name, oids=None, for_request=False,
                           string_mask=0x2000, subject=()):
    """The extensions ``req -x509`` puts into the certificate for ``section_name``.

    ``section_name`` is the value of ``x509_extensions`` (None when unset:
    then OpenSSL adds nothing, not even a key identifier).  ``oids`` maps
    names defined by the config's ``oid_section``; ``string_mask`` is the
    req's (it also governs dirName values); ``subject`` (the request's RDNs)
    feeds ``email:copy``.  With ``for_request`` the section is only checked
    (OpenSSL checks ``req_extensions`` that way).
    """
    if section_name is None:
        return ()
    entries = config.section(section_name)
    if entries is None:
        raise config.error(f"the extension section [ {shorten(section_name)} ] does not"
                           " exist in the file", "req",
                           "req_extensions" if for_request else "x509_extensions")
    reader = _SectionReader(config, oids or {}, string_mask, subject, for_request)
    extensions = []
    for entry in entries:
        extension = reader.extension(entry)
        # A later extension of the same type replaces the earlier one.
        extensions = [e for e in extensions if e.oid != extension.oid]
        extensions.append(extension)
    if not extensions:
        return ()
    return tuple(add_key_identifiers(extensions))


def add_key_identifiers(extensions):
    """What ``req -x509`` adds when it signs a certificate with extensions.

    It appends subjectKeyIdentifier = hash unless the section has one, and
    drops a key identifier that came out empty ("none"; authorityKeyIdentifier
    on a self-signed certificate without "always").  It never adds an
    authorityKeyIdentifier to a self-signed certificate.
    """
    if not any(e.oid == SUBJECT_KEY_IDENTIFIER for e in extensions):
        extensions.append(Extension(oid=SUBJECT_KEY_IDENTIFIER, derive=_key_hash_identifier))
    return extensions


def _key_hash_identifier(context):
    return der.octet_string(context.public_key_bits_sha1)


class _SectionReader:
    """Turns the entries of one extension section into Extensions."""

    def __init__(self, config, oids, string_mask=0x2000, subject=(), checking=False):
        self.config = config
        self.oids = oids
        self.string_mask = string_mask
        self.subject = subject
        self.checking = checking  # only checking the syntax (req_extensions)
        self.earlier = []  # extensions so far: authorityKeyIdentifier looks back

    def fail(self, entry, message):
        return ConfigError(f"{shorten(entry[0])} = {shorten(entry[1])}: {message}",
                           entry.path, entry[2])

    def extension(self, entry):
        name, value, _ = entry
        critical, value = split_critical(value)
        try:
            generic, value = split_generic(value)
            if generic:
                oid = self.resolve(name)
                if oid is None:
                    raise ExtensionError(f"'{shorten(name)}' is not an object name or numeric OID")
                extension = Extension(oid=oid, critical=critical,
                                      der=self.generic_value(generic, value))
            else:
                extension = self.known_extension(name, value, critical)
        except ExtensionError as problem:
            raise self.fail(entry, str(problem)) from None
        self.earlier.append(extension)
        return extension

    def resolve(self, name):
        return self.oids.get(name) or objects.resolve(name)

    def known_extension(self, name, value, critical):
        # Extension names are OpenSSL short names only ("nsCertType", not
        # "Netscape Cert Type").
        oid = objects.oid_by_name(name)
        if oid is None or objects.short_name(oid) != name:
            raise ExtensionError(f"'{shorten(name)}' is not an extension name OpenSSL knows")
        handler = _HANDLERS.get(oid)
        if handler is None:
            raise ExtensionError(f"{name} cannot be set this way here (mkcert or OpenSSL"
                                 " has no config syntax for it); write it as DER:hex or"
                                 " ASN1:... instead")
        kind, function = handler
        if kind == "list":
            result = function(self, self.list_values(value))
        else:
            result = function(self, value)
        if callable(result):
            return Extension(oid=oid, critical=critical, derive=result)
        return Extension(oid=oid, critical=critical, der=result)

    def list_values(self, value):
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

    def generic_value(self, kind, value):
        if kind == "DER":
            return parse_hex(value)
        return generate_asn1(self, value)

    def section(self, name):
        entries = self.config.section(name)
        if entries is None:
            raise ExtensionError(f"section [ {shorten(name)} ] does not exist")
        return [(key, item) for key, item, _ in entries]


def split_critical(value):
    """``critical,`` in front makes the extension critical (spaces after it allowed)."""
    if value.startswith("critical,"):
        rest = value[len("critical,"):]
        return True, rest.lstrip(" \t\n\v\f\r")
    return False, value


def split_generic(value):
    for prefix, kind in (("DER:", "DER"), ("ASN1:", "ASN1")):
        if value.startswith(prefix):
            return kind, value[len(prefix):].lstrip(" \t\n\v\f\r")
    return None, value


def _strip_spaces(text):
    stripped = text.strip(" \t\n\v\f\r")
    return stripped or None


def parse_list(line):
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


def parse_hex(text):
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


# Named bits ----------------------------------------------------------------

NS_CERT_TYPE_BITS = {
    "client": 0, "SSL Client": 0,
    "server": 1, "SSL Server": 1,
    "email": 2, "S/MIME": 2,
    "objsign": 3, "Object Signing": 3,
    "reserved": 4, "Unused": 4,
    "sslCA": 5, "SSL CA": 5,
    "emailCA": 6, "S/MIME CA": 6,
    "objCA": 7, "Object Signing CA": 7,
}

KEY_USAGE_BITS = {
    "digitalSignature": 0, "Digital Signature": 0,
    "nonRepudiation": 1, "Non Repudiation": 1,
    "keyEncipherment": 2, "Key Encipherment": 2,
    "dataEncipherment": 3, "Data Encipherment": 3,
    "keyAgreement": 4, "Key Agreement": 4,
    "keyCertSign": 5, "Certificate Sign": 5,
    "cRLSign": 6, "CRL Sign": 6,
    "encipherOnly": 7, "Encipher Only": 7,
    "decipherOnly": 8, "Decipher Only": 8,
}


def _named_bits(table):
    def build(reader, values):
        positions = set()
        for name, _ in values:
            if name not in table:
                raise ExtensionError(f"'{shorten(name)}' is not one of "
                                     + ", ".join(k for k in table if " " not in k and "/" not in k))
            positions.add(table[name])
        return der.named_bits(positions)
    return build


# basicConstraints, extendedKeyUsage ------------------------------------------

_TRUE = ("TRUE", "true", "Y", "y", "YES", "yes")
_FALSE = ("FALSE", "false", "N", "n", "NO", "no")


def parse_bool(name, value):
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ExtensionError(f"{shorten(name)}:{shorten(value)}: expected true or false")


def parse_integer(text):
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


def basic_constraints(reader, values):
    ca, pathlen = False, None
    for name, value in values:
        if name == "CA":
            if value is None:
                raise ExtensionError("CA needs a value: CA:true or CA:false")
            ca = parse_bool(name, value)
        elif name == "pathlen":
            pathlen = parse_integer(value)
        else:
            raise ExtensionError(f"'{shorten(name)}' is not CA or pathlen")
    items = []
    if ca:
        items.append(der.boolean(True))
    if pathlen is not None:
        items.append(der.integer(pathlen))
    return der.sequence(*items)


def extended_key_usage(reader, values):
    oids = []
    for name, value in values:
        text = value if value is not None else name
        oid = reader.resolve(text)
        if oid is None:
            raise ExtensionError(f"'{shorten(text)}' is not a key purpose OpenSSL knows"
                                 " (e.g. serverAuth, clientAuth) or a numeric OID")
        oids.append(der.oid(oid))
    return der.sequence(*oids)


# Key identifiers -------------------------------------------------------------

def subject_key_identifier(reader, value):
    if value == "none":
        return lambda context: None
    if value == "hash":
        return _key_hash_identifier
    return der.octet_string(parse_hex(value))


def authority_key_identifier(reader, value):
    """authorityKeyIdentifier on a self-signed certificate, as OpenSSL 3.0 makes it.

    ``keyid`` alone is left out for a self-signed certificate, ``keyid:always``
    takes the key hash; ``issuer`` (issuer name and serial) is added when
    asked with ``always`` or when no key id was taken.  An empty result is
    dropped.  OpenSSL refuses ``keyid:always`` after a subjectKeyIdentifier
    that is not the key hash ("none" or a hex value).
    """
    keyid = issuer = 0  # 0: not asked, 1: asked, 2: "always"
    for name, option in reader.list_values(value):
        level = 2 if option == "always" else 1  # OpenSSL ignores other options
        if name == "keyid":
            keyid = level
        elif name == "issuer":
            issuer = level
        elif name not in ("none", "nonss"):
            raise ExtensionError(f"'{shorten(name)}' is not keyid, issuer or none")
    if reader.checking:
        return der.sequence()
    if keyid == 2:
        for earlier in reader.earlier:
            if earlier.oid == SUBJECT_KEY_IDENTIFIER and earlier.derive is not _key_hash_identifier:
                raise ExtensionError(
                    "keyid:always needs the subjectKeyIdentifier before it to be"
                    " 'hash' (OpenSSL cannot get the issuer key id otherwise)")
    with_key_id = keyid == 2
    with_issuer = issuer == 2 or (issuer == 1 and not with_key_id)
    if not (with_key_id or with_issuer):
        return lambda context: None

    def derive(context):
        items = []
        if with_key_id:
            key_id = context.public_key_bits_sha1
            items.append(der.context(0, key_id, constructed=False))
        if with_issuer:
            items.append(der.context(1, gn.directory_name(context.subject)))
            serial = der.integer(context.serial)
            _, start, end = der.read_tlv(serial)
            items.append(der.context(2, serial[start:end], constructed=False))
        return der.sequence(*items)
    return derive


# General names (subjectAltName, issuerAltName, CRL points, AIA) ----------------

GENERAL_NAME_KINDS = ("email", "URI", "DNS", "RID", "IP", "dirName", "otherName")


def name_matches(name, kind):
    """``DNS``, ``DNS.1``, ``DNS.anything`` all mean DNS (OpenSSL's v3_name_cmp)."""
    return name == kind or name.startswith(kind + ".")


def general_name(reader, name, value, constraint=False):
    """One GeneralName's DER from ``DNS:x``-style name and value.

    In nameConstraints (``constraint``) an IP is ``address/mask``.
    """
    if value is None:
        raise ExtensionError(f"{shorten(name)} needs a value ({shorten(name)}:something)")
    kind = next((k for k in GENERAL_NAME_KINDS if name_matches(name, k)), None)
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
        address = parse_ip_range(value) if constraint else parse_ip_address(value)
        if address is None:
            raise ExtensionError(f"IP:{shorten(value)} is not an IPv4 or IPv6 address")
        return gn.ip_address(address)
    if kind == "dirName":
        return gn.directory_name(directory_name(reader, value))
    return other_name(reader, value)


def general_names(reader, values, allow_copy=False):
    """GeneralNames; ``email:copy`` takes the subject's emailAddress values."""
    names = []
    for name, value in values:
        if allow_copy == "subject" and name_matches(name, "email") and value in ("copy", "move"):
            if value == "move" and not reader.checking:
                raise ExtensionError(
                    "email:move is not supported: OpenSSL then makes a certificate"
                    " whose issuer differs from its subject; use email:copy")
            names.extend(subject_emails(reader))
        elif allow_copy == "issuer" and name_matches(name, "issuer") and value == "copy":
            names.extend(issuer_alt_names(reader))
        else:
            names.append(general_name(reader, name, value))
    return names


def subject_emails(reader):
    return [gn.rfc822_name(attribute.value.encode("utf-8", "surrogateescape"))
            for rdn in reader.subject for attribute in rdn
            if attribute.oid == EMAIL_ADDRESS]


def issuer_alt_names(reader):
    """issuer:copy: the names of the subjectAltName made so far (self-signed)."""
    for earlier in reader.earlier:
        if earlier.oid == SUBJECT_ALT_NAME and earlier.der is not None:
            _, start, end = der.read_tlv(earlier.der)
            return der.children(earlier.der[start:end])
    return []


def alt_name_extension(copy_kind):
    def build(reader, values):
        return gn.general_names(general_names(reader, values, copy_kind))
    return build


def directory_name(reader, section_name):
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


def relative_name(reader, section_name):
    """The content of one RDN (a name fragment) from a section: all but the first '+'."""
    name = directory_name(reader, section_name)
    _, start, end = der.read_tlv(name)
    rdns = der.children(name[start:end])
    if len(rdns) != 1:
        raise ExtensionError(f"relativename [ {shorten(section_name)} ] must be one RDN:"
                             " start every field after the first with '+'")
    _, rdn_start, rdn_end = der.read_tlv(rdns[0])
    return rdns[0][rdn_start:rdn_end]


def other_name(reader, value):
    """otherName:OID;TYPE:value -- [0] { type-id, [0] EXPLICIT value }."""
    oid_text, semicolon, content = value.partition(";")
    if not semicolon:
        raise ExtensionError(f"otherName:{shorten(value)}: expected OID;TYPE:value")
    encoded = generate_asn1(reader, content)
    oid = reader.resolve(oid_text)
    if oid is None:
        raise ExtensionError(f"otherName: '{shorten(oid_text)}' is not an object name or OID")
    return gn.other_name(oid, encoded)


_IPV4 = re.compile(r"\s*[+-]?\d+\.\s*[+-]?\d+\.\s*[+-]?\d+\.\s*[+-]?\d+")


def parse_ipv4(text):
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


def parse_ip_address(text):
    if ":" not in text:
        return parse_ipv4(text)
    return parse_ipv6(text)


def parse_ip_range(text):
    """``address/mask`` (both in address form, same family) for nameConstraints."""
    address, slash, mask = text.partition("/")
    if not slash:
        return None
    first, second = parse_ip_address(address), parse_ip_address(mask)
    if first is None or second is None or len(first) != len(second):
        return None
    return first + second


def parse_ipv6(text):
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
            v4 = parse_ipv4(element)
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


# CRL distribution points, information access, policies -----------------------

REASON_BITS = {"unused": 0, "keyCompromise": 1, "CACompromise": 2,
               "affiliationChanged": 3, "superseded": 4, "cessationOfOperation": 5,
               "certificateHold": 6, "privilegeWithdrawn": 7, "AACompromise": 8}


def names_from(reader, text):
    """GeneralNames from ``@section`` or an inline ``URI:x, DNS:y`` list."""
    if text is None:
        raise ExtensionError("a list of names is missing")
    values = reader.section(text[1:]) if text.startswith("@") else parse_list(text)
    return general_names(reader, values)


def crl_distribution_points(reader, values):
    points = []
    for name, value in values:
        if value is None:
            points.append(distribution_point_from_section(reader, reader.section(name)))
        else:
            full_name = der.context(0, general_name(reader, name, value))
            points.append(der.sequence(der.context(0, full_name)))
    return der.sequence(*points)


def point_name(reader, name, value):
    """[0] fullName or [1] nameRelativeToCRLIssuer for a fullname/relativename line."""
    if name == "fullname":
        return der.context(0, b"".join(names_from(reader, value)))
    if value is None:
        raise ExtensionError("relativename needs a section name")
    return der.context(1, relative_name(reader, value))


def reason_flags(value):
    """The ReasonFlags BIT STRING content for ``keyCompromise, CACompromise, ...``."""
    bits = set()
    for reason, _ in parse_list(value or ""):
        if reason not in REASON_BITS:
            raise ExtensionError(f"'{shorten(reason)}' is not a revocation reason")
        bits.add(REASON_BITS[reason])
    return der.named_bits(bits)[2:]


def distribution_point_from_section(reader, entries):
    name = reasons = issuer = None
    for key, value in entries:
        if key in ("fullname", "relativename"):
            if name is not None:
                raise ExtensionError("the distribution point name is set twice")
            name = point_name(reader, key, value)
        elif key == "reasons":
            if reasons is not None:
                raise ExtensionError("reasons is set twice")
            reasons = der.tlv(0x81, reason_flags(value))
        elif key == "CRLissuer":
            issuer = der.context(2, b"".join(names_from(reader, value)))
    parts = [der.context(0, name)] if name is not None else []
    parts += [part for part in (reasons, issuer) if part is not None]
    return der.sequence(*parts)


def issuing_distribution_point(reader, values):
    """issuingDistributionPoint (a CRL extension OpenSSL also puts in certificates)."""
    name, flags, reasons = None, {}, None
    numbers = {"onlyuser": 1, "onlyCA": 2, "indirectCRL": 4, "onlyAA": 5}
    for key, value in values:
        if key in ("fullname", "relativename"):
            if name is not None:
                raise ExtensionError("the distribution point name is set twice")
            name = point_name(reader, key, value)
        elif key in numbers:
            if value is None:
                raise ExtensionError(f"{key} needs a value: {key}:true or {key}:false")
            flags[numbers[key]] = parse_bool(key, value)
        elif key == "onlysomereasons":
            if reasons is not None:
                raise ExtensionError("onlysomereasons is set twice")
            reasons = reason_flags(value)
        else:
            raise ExtensionError(f"'{shorten(key)}' is not fullname, relativename, onlyuser,"
                                 " onlyCA,"
                                 " onlyAA, indirectCRL or onlysomereasons")
    parts = [der.context(0, name)] if name is not None else []
    for number in (1, 2, 3, 4, 5):
        if number == 3 and reasons is not None:
            parts.append(der.tlv(0x83, reasons))
        elif flags.get(number):  # FALSE is the default and is left out
            parts.append(der.tlv(0x80 | number, b"\xff"))
    return der.sequence(*parts)


def information_access(reader, values):
    descriptions = []
    for name, value in values:
        method, semicolon, kind = name.partition(";")
        if not semicolon:
            raise ExtensionError(f"{shorten(name)}: expected METHOD;TYPE:value,"
                                 " e.g. OCSP;URI:http://...")
        location = general_name(reader, kind, value)
        oid = reader.resolve(method)
        if oid is None:
            raise ExtensionError(f"'{shorten(method)}' is not an access method (OCSP,"
                                 " caIssuers or an OID)")
        descriptions.append(der.sequence(der.oid(oid), location))
    return der.sequence(*descriptions)


def certificate_policies(reader, value):
    policies = []
    ia5org = False
    for name, item in parse_list(value):
        if item is not None:
            raise ExtensionError(f"{shorten(name)}:{shorten(item)}: a policy is an OID"
                                 " or @section")
        if name == "ia5org":
            ia5org = True  # later notice sections write organization as IA5String
            continue
        if name.startswith("@"):
            policies.append(policy_from_section(reader, reader.section(name[1:]), ia5org))
            continue
        oid = reader.resolve(name)
        if oid is None:
            raise ExtensionError(f"'{shorten(name)}' is not a policy OID")
        policies.append(der.sequence(der.oid(oid)))
    return der.sequence(*policies)


def policy_from_section(reader, entries, ia5org=False):
    policy_oid, qualifiers = None, []
    for name, value in entries:
        if name == "policyIdentifier":
            policy_oid = reader.resolve(value)
            if policy_oid is None:
                raise ExtensionError(f"policyIdentifier = {shorten(value)} is not an OID")
        elif name_matches(name, "CPS"):
            qualifiers.append(der.sequence(der.oid(CPS_QUALIFIER),
                                           der.tlv(0x16, value.encode("utf-8", "surrogateescape"))))
        elif name_matches(name, "userNotice"):
            if not value.startswith("@"):
                raise ExtensionError(f"{shorten(name)} = {shorten(value)}: expected @section")
            notice = user_notice(reader.section(value[1:]), ia5org)
            qualifiers.append(der.sequence(der.oid(USER_NOTICE_QUALIFIER), notice))
        else:
            raise ExtensionError(f"'{shorten(name)}' is not policyIdentifier, CPS or userNotice")
    if policy_oid is None:
        raise ExtensionError("a policy section needs a policyIdentifier")
    parts = [der.oid(policy_oid)]
    if qualifiers:
        parts.append(der.sequence(*qualifiers))
    return der.sequence(*parts)


# explicitText = TYPE:text picks the DisplayText type; the bytes go in as
# they are (OpenSSL does not convert them, not even for BMP).
_DISPLAY_TEXT_TYPES = (("UTF8:", 12), ("UTF8String:", 12), ("BMP:", 30),
                       ("BMPSTRING:", 30), ("VISIBLE:", 26), ("VISIBLESTRING:", 26),
                       ("IA5:", 22), ("IA5STRING:", 22))


def user_notice(entries, ia5org):
    explicit_text, organization, numbers = None, None, None
    for name, value in entries:
        raw = value.encode("utf-8", "surrogateescape")
        if name == "explicitText":
            tag = 26
            for prefix, prefix_tag in _DISPLAY_TEXT_TYPES:
                if value.startswith(prefix):
                    tag, raw = prefix_tag, raw[len(prefix):]
                    break
            explicit_text = der.tlv(tag, raw)
        elif name == "organization":
            organization = raw
        elif name == "noticeNumbers":
            items = parse_list(value)
            numbers = (numbers or []) + [der.integer(parse_integer(number)) for number, _ in items]
        else:
            raise ExtensionError(f"'{shorten(name)}' is not explicitText, organization or"
                                 " noticeNumbers")
    if numbers is not None and organization is None:
        # OpenSSL writes an undecodable organization field in this case.
        raise ExtensionError("noticeNumbers needs an organization in the same section")
    parts = []
    if organization is not None or numbers is not None:
        parts.append(der.sequence(der.tlv(22 if ia5org else 26, organization or b""),
                                  der.sequence(*(numbers or []))))
    if explicit_text is not None:
        parts.append(explicit_text)
    return der.sequence(*parts)


def name_constraints(reader, values):
    subtrees = {"permitted": [], "excluded": []}
    for name, value in values:
        for kind in subtrees:
            if name.startswith(kind) and len(name) > len(kind):
                # One separator character after the word: permitted;DNS.
                base = general_name(reader, name[len(kind) + 1:], value, constraint=True)
                subtrees[kind].append(der.sequence(base))
                break
        else:
            raise ExtensionError(f"'{shorten(name)}': expected permitted;TYPE or excluded;TYPE")
    parts = []
    for number, kind in enumerate(("permitted", "excluded")):
        if subtrees[kind]:
            parts.append(der.context(number, b"".join(subtrees[kind])))
    return der.sequence(*parts)


def policy_constraints(reader, values):
    fields = {}
    for name, value in values:
        if name not in ("requireExplicitPolicy", "inhibitPolicyMapping"):
            raise ExtensionError(f"'{shorten(name)}' is not requireExplicitPolicy or"
                                 " inhibitPolicyMapping")
        fields[name] = parse_integer(value)
    if not fields:
        raise ExtensionError("policyConstraints needs a value")
    parts = []
    for number, name in enumerate(("requireExplicitPolicy", "inhibitPolicyMapping")):
        if name in fields:
            encoded = der.integer(fields[name])
            _, start, _ = der.read_tlv(encoded)
            parts.append(der.context(number, encoded[start:], constructed=False))
    return der.sequence(*parts)


def policy_mappings(reader, values):
    mappings = []
    for issuer_policy, subject_policy in values:
        first = reader.resolve(issuer_policy) if subject_policy is not None else None
        second = reader.resolve(subject_policy) if subject_policy is not None else None
        if first is None or second is None:
            raise ExtensionError(f"{shorten(f'{issuer_policy}:{subject_policy}')}: expected"
                                 " issuerPolicyOID:subjectPolicyOID")
        mappings.append(der.sequence(der.oid(first), der.oid(second)))
    return der.sequence(*mappings)


def inhibit_any_policy(reader, value):
    return der.integer(parse_integer(value))


TLS_FEATURES = {"status_request": 5, "status_request_v2": 17}


def tls_feature(reader, values):
    numbers = []
    for name, value in values:
        text = value if value is not None else name
        number = TLS_FEATURES.get(text.lower())
        if number is None:
            if not re.fullmatch(r"\s*[+-]?\d+", text) or not 0 <= int(text) <= 65535:
                raise ExtensionError(f"'{shorten(text)}' is not status_request, status_request_v2"
                                     " or a number from 0 to 65535")
            number = int(text)
        numbers.append(der.integer(number))
    return der.sequence(*numbers)


def no_check(reader, value):
    return der.null()  # noCheck and ct_precert_poison: any value means NULL


def utf8_string(reader, value):
    return der.tlv(12, value.encode("utf-8", "surrogateescape"))


def issuer_sign_tool(reader, values):
    """issuerSignTool (Russian GOST profiles): four UTF8Strings, empty when unset."""
    names = ("signTool", "cATool", "signToolCert", "cAToolCert")
    fields = dict.fromkeys(names, b"")
    for key, value in values:
        if key not in fields or value is None:
            raise ExtensionError(f"'{shorten(key)}': expected signTool, cATool, signToolCert or"
                                 " cAToolCert with a value")
        fields[key] = value.encode("utf-8", "surrogateescape")
    return der.sequence(*(der.tlv(12, fields[name]) for name in names))


# Netscape strings ------------------------------------------------------------

def ia5_string(reader, value):
    return der.tlv(0x16, value.encode("utf-8", "surrogateescape"))


# ASN1: values (OpenSSL's ASN1_generate_nconf) ----------------------------------

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
# String types: the OpenSSL mask bit each allows (see dnrules.string_type).
_ASN1_STRING_BITS = {18: 0x0001, 19: 0x0002, 20: 0x0004, 22: 0x0010, 26: 0x0040,
                     27: 0x0080, 28: 0x0100, 30: 0x0800, 12: 0x2000}
MAX_ASN1_DEPTH = 50  # nesting of SEQUENCE/SET sections
MAX_EXPLICIT_TAGS = 20
_CLASSES = {"U": 0x00, "A": 0x40, "C": 0x80, "P": 0xC0}
_WS = " \t\n\v\f\r"


def generate_asn1(reader, text, depth=0):
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
        _, start, end = der.read_tlv(inner)
        encoded = _asn1_header(tag_class, constructed, number, end - start) + inner[start:end]
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
    _, start, end = der.read_tlv(encoded)
    content = encoded[start:end]
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


_HANDLERS = {
    "2.16.840.1.113730.1.1": ("list", _named_bits(NS_CERT_TYPE_BITS)),
    "2.5.29.15": ("list", _named_bits(KEY_USAGE_BITS)),
    "2.5.29.19": ("list", basic_constraints),
    "2.5.29.37": ("list", extended_key_usage),
    SUBJECT_KEY_IDENTIFIER: ("string", subject_key_identifier),
    AUTHORITY_KEY_IDENTIFIER: ("string", authority_key_identifier),
    "2.5.29.17": ("list", alt_name_extension("subject")),  # subjectAltName
    "2.5.29.18": ("list", alt_name_extension("issuer")),  # issuerAltName
    "2.5.29.31": ("list", crl_distribution_points),
    "2.5.29.46": ("list", crl_distribution_points),  # freshestCRL
    "1.3.6.1.5.5.7.1.1": ("list", information_access),  # authorityInfoAccess
    "1.3.6.1.5.5.7.1.11": ("list", information_access),  # subjectInfoAccess
    "2.5.29.32": ("string", certificate_policies),
    "1.3.6.1.5.5.7.1.24": ("list", tls_feature),
    "1.3.6.1.5.5.7.48.1.5": ("string", no_check),  # noCheck
    "2.5.29.30": ("list", name_constraints),
    "2.5.29.36": ("list", policy_constraints),
    "2.5.29.33": ("list", policy_mappings),
    "2.5.29.54": ("string", inhibit_any_policy),
    "2.5.29.28": ("list", issuing_distribution_point),
    "1.3.6.1.4.1.11129.2.4.3": ("string", no_check),  # ct_precert_poison
    "1.2.643.100.111": ("string", utf8_string),  # subjectSignTool
    "1.2.643.100.112": ("list", issuer_sign_tool),
    "2.16.840.1.113730.1.2": ("string", ia5_string),  # nsBaseUrl
    "2.16.840.1.113730.1.3": ("string", ia5_string),  # nsRevocationUrl
    "2.16.840.1.113730.1.4": ("string", ia5_string),  # nsCaRevocationUrl
    "2.16.840.1.113730.1.7": ("string", ia5_string),  # nsRenewalUrl
    "2.16.840.1.113730.1.8": ("string", ia5_string),  # nsCaPolicyUrl
    "2.16.840.1.113730.1.12": ("string", ia5_string),  # nsSslServerName
    "2.16.840.1.113730.1.13": ("string", ia5_string),  # nsComment
}
