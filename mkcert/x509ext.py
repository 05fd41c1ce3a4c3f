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

import hashlib
import ipaddress

from . import der, objects
from .errors import ConfigError
from .request import Extension

SUBJECT_KEY_IDENTIFIER = "2.5.29.14"
AUTHORITY_KEY_IDENTIFIER = "2.5.29.35"


class ExtensionError(ValueError):
    """A value the extension cannot take; the caller adds file and line."""


def extensions_from_config(config, section_name, oids=None, for_request=False):
    """The extensions ``req -x509`` puts into the certificate for ``section_name``.

    ``section_name`` is the value of ``x509_extensions`` (None when unset:
    then OpenSSL adds nothing, not even a key identifier).  ``oids`` maps
    names defined by the config's ``oid_section``.  With ``for_request`` the
    section is only checked (OpenSSL checks ``req_extensions`` that way).
    """
    if section_name is None:
        return ()
    entries = config.section(section_name)
    if entries is None:
        raise config.error(f"the extension section [ {section_name} ] does not"
                           " exist in the file", "req",
                           "req_extensions" if for_request else "x509_extensions")
    reader = _SectionReader(config, oids or {})
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
    return der.octet_string(hashlib.sha1(context.public_key_bits).digest())


class _SectionReader:
    """Turns the entries of one extension section into Extensions."""

    def __init__(self, config, oids):
        self.config = config
        self.oids = oids
        self.earlier = []  # extensions so far: authorityKeyIdentifier looks back

    def fail(self, entry, message):
        return ConfigError(f"{entry[0]} = {entry[1]}: {message}", entry.path, entry[2])

    def extension(self, entry):
        name, value, _ = entry
        critical, value = split_critical(value)
        try:
            generic, value = split_generic(value)
            if generic:
                oid = self.resolve(name)
                if oid is None:
                    raise ExtensionError(f"{name!r} is not an object name or numeric OID")
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
            raise ExtensionError(f"{name!r} is not an extension name OpenSSL knows")
        handler = _HANDLERS.get(oid)
        if handler is None:
            raise ExtensionError(f"OpenSSL cannot make a {name} extension from a config;"
                                 " write it as DER:hex or ASN1:... instead")
        kind, function = handler
        if kind == "list":
            values = self.list_values(value)
            result = function(self, values)
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
                raise ExtensionError(f"section [ {value[1:]} ] does not exist or is empty")
            return [(name, item) for name, item, _ in entries]
        values = parse_list(value)
        if not values:
            raise ExtensionError("the value is empty")
        return values

    def generic_value(self, kind, value):
        if kind == "DER":
            return parse_hex(value)
        raise ExtensionError("ASN1: values are not supported yet")


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
                raise ExtensionError(f"{name}: has an empty value")
            values.append((name, item))
            in_value, name, start = False, None, pos + 1
    item = _strip_spaces(line[start:])
    if in_value:
        if item is None:
            raise ExtensionError(f"{name}: has an empty value")
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
            raise ExtensionError(f"{text!r} is not a hex string (pairs of hex digits,"
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
                raise ExtensionError(f"{name!r} is not one of "
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
    raise ExtensionError(f"{name}:{value}: expected true or false")


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
        raise ExtensionError(f"{text!r} is not a number")
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
            raise ExtensionError(f"{name!r} is not CA or pathlen")
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
            raise ExtensionError(f"{text!r} is not a key purpose OpenSSL knows"
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
    keyid = issuer = 0  # 0: not asked, 1: asked, 2: "always"
    for name, option in reader.list_values(value):
        if option is not None and option != "always":
            raise ExtensionError(f"{name}:{option}: the only option is 'always'")
        level = 2 if option is not None else 1
        if name == "keyid":
            keyid = level
        elif name == "issuer":
            issuer = level
        elif name not in ("none", "nonss"):
            raise ExtensionError(f"{name!r} is not keyid, issuer or none")
    explicit_key_id = None
    for earlier in reader.earlier:
        if earlier.oid == SUBJECT_KEY_IDENTIFIER:
            explicit_key_id = earlier
    # The certificate is self-signed, so without "always" OpenSSL leaves
    # both parts out, and then drops the empty extension.
    if keyid < 2 and issuer < 2:
        return lambda context: None

    def derive(context):
        items = []
        if keyid == 2:
            key_id = None
            if explicit_key_id is not None:
                key_id = explicit_key_id.value(context)
            if key_id is None or len(key_id) <= 2:
                key_id = _key_hash_identifier(context)
            _, start, end = der.read_tlv(key_id)
            items.append(der.context(0, key_id[start:end], constructed=False))
        if issuer == 2:
            items.append(der.context(1, der.context(4, context.subject)))
            serial = der.integer(context.serial)
            _, start, end = der.read_tlv(serial)
            items.append(der.context(2, serial[start:end], constructed=False))
        return der.sequence(*items)
    return derive


# Netscape strings ------------------------------------------------------------

def ia5_string(reader, value):
    return der.tlv(0x16, value.encode("utf-8", "surrogateescape"))


_HANDLERS = {
    "2.16.840.1.113730.1.1": ("list", _named_bits(NS_CERT_TYPE_BITS)),
    "2.5.29.15": ("list", _named_bits(KEY_USAGE_BITS)),
    "2.5.29.19": ("list", basic_constraints),
    "2.5.29.37": ("list", extended_key_usage),
    SUBJECT_KEY_IDENTIFIER: ("string", subject_key_identifier),
    AUTHORITY_KEY_IDENTIFIER: ("string", authority_key_identifier),
    "2.16.840.1.113730.1.2": ("string", ia5_string),  # nsBaseUrl
    "2.16.840.1.113730.1.3": ("string", ia5_string),  # nsRevocationUrl
    "2.16.840.1.113730.1.4": ("string", ia5_string),  # nsCaRevocationUrl
    "2.16.840.1.113730.1.7": ("string", ia5_string),  # nsRenewalUrl
    "2.16.840.1.113730.1.8": ("string", ia5_string),  # nsCaPolicyUrl
    "2.16.840.1.113730.1.12": ("string", ia5_string),  # nsSslServerName
    "2.16.840.1.113730.1.13": ("string", ia5_string),  # nsComment
}
