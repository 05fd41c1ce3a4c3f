"""An extension section in, extensions out: the entry point of the x509v3_config language.

``x509_extensions = cert_type`` in a Courier ``.cnf`` names a section such as
``nsCertType = server``; OpenSSL turns each line into a DER extension value,
and ``req -x509`` then adds a subjectKeyIdentifier of its own.  This module
reads the section, finds each line's handler in one table and adds the key
identifier.

The extensions Courier's configs use (nsCertType, keyUsage,
basicConstraints, extendedKeyUsage, the key identifiers) and the other
one-value extensions are encoded here.  The rest (alternative names, CRL
distribution points, information access, policies and name constraints,
``ASN1:`` values) live in modules of their own, imported by their handler
when a section has such a line: the common certificate path loads this
module and the value syntax only.

Values that depend on the new key (subjectKeyIdentifier = hash,
authorityKeyIdentifier) come out as ``derive`` callables that receive a
:class:`mkcert.request.KeyContext` when the certificate is built.
"""

from __future__ import annotations

import re

from mkcert.asn1 import der, general_names as gn, oids as objects
from mkcert.asn1.oids import (AUTHORITY_INFO_ACCESS, AUTHORITY_KEY_IDENTIFIER, BASIC_CONSTRAINTS,
                              CERTIFICATE_POLICIES, CRL_DISTRIBUTION_POINTS, CT_PRECERT_POISON,
                              EXTENDED_KEY_USAGE, FRESHEST_CRL, INHIBIT_ANY_POLICY, ISSUER_ALT_NAME,
                              ISSUER_SIGN_TOOL, ISSUING_DISTRIBUTION_POINT, KEY_USAGE,
                              NAME_CONSTRAINTS, NS_BASE_URL, NS_CA_POLICY_URL,
                              NS_CA_REVOCATION_URL, NS_CERT_TYPE, NS_COMMENT, NS_RENEWAL_URL,
                              NS_REVOCATION_URL, NS_SSL_SERVER_NAME, OCSP_NO_CHECK,
                              POLICY_CONSTRAINTS, POLICY_MAPPINGS, SUBJECT_ALT_NAME,
                              SUBJECT_INFO_ACCESS, SUBJECT_KEY_IDENTIFIER, SUBJECT_SIGN_TOOL,
                              TLS_FEATURE)
from mkcert.errors import ConfigError, shorten
from mkcert.readers.openssl.extensions.values import (ExtensionError, SectionReader, parse_bool,
                                                      parse_hex, parse_integer, split_critical,
                                                      split_generic)
from mkcert.readers.openssl.syntax import Config
from mkcert.request import Attribute, Extension

__all__ = ["extensions_from_config", "add_key_identifiers"]


def extensions_from_config(config: Config, section_name: str | None,
                           oids: dict[str, str] | None = None, for_request: bool = False,
                           string_mask: int = 0x2000,
                           subject: tuple[tuple[Attribute, ...], ...] = ()
                           ) -> tuple[Extension, ...]:
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
    reader = SectionReader(config, oids or {}, string_mask, subject, for_request)
    extensions = []
    for entry in entries:
        extension = _read_extension(reader, entry)
        # A later extension of the same type replaces the earlier one.
        extensions = [e for e in extensions if e.oid != extension.oid]
        extensions.append(extension)
    if not extensions:
        return ()
    return tuple(add_key_identifiers(extensions))


def add_key_identifiers(extensions: list[Extension]) -> list[Extension]:
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


# One line of the section ----------------------------------------------------

def _read_extension(reader, entry):
    name, value, _ = entry
    critical, value = split_critical(value)
    try:
        generic, value = split_generic(value)
        if generic:
            oid = reader.resolve(name)
            if oid is None:
                raise ExtensionError(f"'{shorten(name)}' is not an object name or numeric OID")
            extension = Extension(oid=oid, critical=critical,
                                  der=_generic_value(reader, generic, value))
        else:
            extension = _known_extension(reader, name, value, critical)
    except ExtensionError as problem:
        raise ConfigError(f"{shorten(entry[0])} = {shorten(entry[1])}: {problem}",
                          entry.path, entry[2]) from None
    reader.earlier.append(extension)
    return extension


def _known_extension(reader, name, value, critical):
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
        result = function(reader, reader.list_values(value))
    else:
        result = function(reader, value)
    if callable(result):
        return Extension(oid=oid, critical=critical, derive=result)
    return Extension(oid=oid, critical=critical, der=result)


def _generic_value(reader, kind, value):
    if kind == "DER":
        return parse_hex(value)
    from mkcert.readers.openssl.extensions.asn1_generator import generate_asn1
    return generate_asn1(reader, value)


# Named bits ----------------------------------------------------------------

_NS_CERT_TYPE_BITS = {
    "client": 0, "SSL Client": 0,
    "server": 1, "SSL Server": 1,
    "email": 2, "S/MIME": 2,
    "objsign": 3, "Object Signing": 3,
    "reserved": 4, "Unused": 4,
    "sslCA": 5, "SSL CA": 5,
    "emailCA": 6, "S/MIME CA": 6,
    "objCA": 7, "Object Signing CA": 7,
}

_KEY_USAGE_BITS = {
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

def _basic_constraints(reader, values):
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


def _extended_key_usage(reader, values):
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

def _subject_key_identifier(reader, value):
    if value == "none":
        return lambda context: None
    if value == "hash":
        return _key_hash_identifier
    return der.octet_string(parse_hex(value))


def _authority_key_identifier(reader, value):
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
            serial = der.content(der.integer(context.serial))
            items.append(der.context(2, serial, constructed=False))
        return der.sequence(*items)
    return derive


# TLS feature, strings, NULLs ---------------------------------------------------

_TLS_FEATURES = {"status_request": 5, "status_request_v2": 17}


def _tls_feature(reader, values):
    numbers = []
    for name, value in values:
        text = value if value is not None else name
        number = _TLS_FEATURES.get(text.lower())
        if number is None:
            if not re.fullmatch(r"\s*[+-]?\d+", text) or not 0 <= int(text) <= 65535:
                raise ExtensionError(f"'{shorten(text)}' is not status_request, status_request_v2"
                                     " or a number from 0 to 65535")
            number = int(text)
        numbers.append(der.integer(number))
    return der.sequence(*numbers)


def _no_check(reader, value):
    return der.null()  # noCheck and ct_precert_poison: any value means NULL


def _utf8_string(reader, value):
    return der.tlv(12, value.encode("utf-8", "surrogateescape"))


def _issuer_sign_tool(reader, values):
    """issuerSignTool (Russian GOST profiles): four UTF8Strings, empty when unset."""
    names = ("signTool", "cATool", "signToolCert", "cAToolCert")
    fields = dict.fromkeys(names, b"")
    for key, value in values:
        if key not in fields or value is None:
            raise ExtensionError(f"'{shorten(key)}': expected signTool, cATool, signToolCert or"
                                 " cAToolCert with a value")
        fields[key] = value.encode("utf-8", "surrogateescape")
    return der.sequence(*(der.tlv(12, fields[name]) for name in names))


def _ia5_string(reader, value):
    return der.tlv(0x16, value.encode("utf-8", "surrogateescape"))


# The extensions with a module of their own, loaded by their handler ------------

def _alt_names(copy_kind):
    def build(reader, values):
        from mkcert.readers.openssl.extensions.general_names import alt_names
        return alt_names(reader, values, copy_kind)
    return build


def _crl_distribution_points(reader, values):
    from mkcert.readers.openssl.extensions.distribution_points import crl_distribution_points
    return crl_distribution_points(reader, values)


def _issuing_distribution_point(reader, values):
    from mkcert.readers.openssl.extensions.distribution_points import issuing_distribution_point
    return issuing_distribution_point(reader, values)


def _information_access(reader, values):
    from mkcert.readers.openssl.extensions.information_access import information_access
    return information_access(reader, values)


def _certificate_policies(reader, value):
    from mkcert.readers.openssl.extensions.policies import certificate_policies
    return certificate_policies(reader, value)


def _name_constraints(reader, values):
    from mkcert.readers.openssl.extensions.policies import name_constraints
    return name_constraints(reader, values)


def _policy_constraints(reader, values):
    from mkcert.readers.openssl.extensions.policies import policy_constraints
    return policy_constraints(reader, values)


def _policy_mappings(reader, values):
    from mkcert.readers.openssl.extensions.policies import policy_mappings
    return policy_mappings(reader, values)


def _inhibit_any_policy(reader, value):
    from mkcert.readers.openssl.extensions.policies import inhibit_any_policy
    return inhibit_any_policy(reader, value)


# Each extension OpenSSL has a config syntax for: ("list", handler) takes
# the parsed name:value list (or @section), ("string", handler) the value
# as written.
_HANDLERS = {
    NS_CERT_TYPE: ("list", _named_bits(_NS_CERT_TYPE_BITS)),
    KEY_USAGE: ("list", _named_bits(_KEY_USAGE_BITS)),
    BASIC_CONSTRAINTS: ("list", _basic_constraints),
    EXTENDED_KEY_USAGE: ("list", _extended_key_usage),
    SUBJECT_KEY_IDENTIFIER: ("string", _subject_key_identifier),
    AUTHORITY_KEY_IDENTIFIER: ("string", _authority_key_identifier),
    SUBJECT_ALT_NAME: ("list", _alt_names("subject")),
    ISSUER_ALT_NAME: ("list", _alt_names("issuer")),
    CRL_DISTRIBUTION_POINTS: ("list", _crl_distribution_points),
    FRESHEST_CRL: ("list", _crl_distribution_points),
    AUTHORITY_INFO_ACCESS: ("list", _information_access),
    SUBJECT_INFO_ACCESS: ("list", _information_access),
    CERTIFICATE_POLICIES: ("string", _certificate_policies),
    TLS_FEATURE: ("list", _tls_feature),
    OCSP_NO_CHECK: ("string", _no_check),
    NAME_CONSTRAINTS: ("list", _name_constraints),
    POLICY_CONSTRAINTS: ("list", _policy_constraints),
    POLICY_MAPPINGS: ("list", _policy_mappings),
    INHIBIT_ANY_POLICY: ("string", _inhibit_any_policy),
    ISSUING_DISTRIBUTION_POINT: ("list", _issuing_distribution_point),
    CT_PRECERT_POISON: ("string", _no_check),
    SUBJECT_SIGN_TOOL: ("string", _utf8_string),
    ISSUER_SIGN_TOOL: ("list", _issuer_sign_tool),
    NS_BASE_URL: ("string", _ia5_string),
    NS_REVOCATION_URL: ("string", _ia5_string),
    NS_CA_REVOCATION_URL: ("string", _ia5_string),
    NS_RENEWAL_URL: ("string", _ia5_string),
    NS_CA_POLICY_URL: ("string", _ia5_string),
    NS_SSL_SERVER_NAME: ("string", _ia5_string),
    NS_COMMENT: ("string", _ia5_string),
}
