"""Which kind of ``.cnf`` is this: an OpenSSL ``req`` config or a certtool template?

Courier installs the same file name (``imapd.cnf``) in two formats, chosen
when Courier was built: an OpenSSL config on openssl builds, a GnuTLS
``certtool`` template on gnutls builds (Debian, Ubuntu).  A drop-in cannot
know the build, so it reads the content.  The two formats differ in one
structural way: OpenSSL configs are divided into ``[ section ]`` blocks and
``openssl req`` needs a ``[ req ]`` block, while certtool templates have no
sections at all (certtool stops reading a template at the first ``[``).

A file that shows signs of both is refused with the line that gives it
away, rather than read as either and turned into the wrong certificate;
so is a file with nothing in it but blank lines and comments, which is
neither (``openssl req`` refuses it, certtool makes a certificate with an
empty subject and issuer), and at /etc/courier more likely a truncated file
than a wish.

``openssl req`` also finds its settings in the unnamed section before the
first ``[ section ]`` (OpenSSL's own test/certs/ee.cnf has no ``[ req ]``),
so OpenSSL ``req`` settings there count as much as a ``[ req ]`` section.
Pure function, no I/O, no crypto import: it runs on every start-up.
"""

from __future__ import annotations

import re

from mkcert.errors import ConfigError, shorten

__all__ = ["CERTTOOL_KEYS", "detect_format"]

# "[ name ]" with optional spaces; OpenSSL also allows a trailing comment.
_SECTION = re.compile(r"^\s*\[\s*([^\]]*?)\s*\]\s*(?:#.*)?$")
# OpenSSL's directives: ".include file", ".pragma dollarid:true" (the
# included file may hold every section, so a directive alone is enough).
_DIRECTIVE = re.compile(r"^\s*\.(include|pragma)\b", re.IGNORECASE)
# "name = value" / "name value" / "name: value": the start of a setting.
_SETTING = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.:^-]*?)\s*(?:[=:]|\s|$)")

# Every option certtool 3.7.9 recognises (mkcert.readers.certtool.template reads them).
# Most are also plain words an OpenSSL config could use as a value name
# inside its own sections, so they only count as evidence outside any
# section (see detect_format).
CERTTOOL_KEYS = frozenset("""
    unit ou organization o dc dns_name ip_address email krb5_principal
    other_name other_name_utf8 other_name_octet xmpp_name key_purpose_oid
    nc_exclude_dns nc_exclude_ip nc_exclude_email nc_permit_dns nc_permit_ip
    nc_permit_email dn_oid add_extension add_critical_extension
    crl_dist_points uri ocsp_uri ca_issuers_uri locality state dn cn uid
    subject_unique_id issuer_unique_id challenge_password password
    pkcs9_email country expiration_date activation_date crl_revocation_date
    crl_this_update_date crl_next_update_date inhibit_anypolicy_skip_certs
    pkcs12_key_name proxy_policy_language serial expiration_days
    crl_next_update crl_number path_len ca honor_crq_extensions honor_crq_ext
    tls_www_client tls_www_server signing_key encryption_key cert_signing_key
    crl_signing_key code_signing_key ocsp_signing_key time_stamping_key
    email_protection_key ipsec_ike_key key_agreement data_encipherment
    non_repudiation tls_feature
""".split())

# What `openssl req` reads from its section, or from the unnamed one before
# the first section when there is no [ req ].
REQ_KEYS = frozenset("""
    default_bits default_keyfile default_md distinguished_name prompt
    x509_extensions req_extensions string_mask encrypt_key encrypt_rsa_key
    attributes input_password output_password utf8
""".split())

# Names that only mean something in an OpenSSL config (req and x509v3).
OPENSSL_KEYS = REQ_KEYS | frozenset("""
    randfile oid_section
    oid_file basicconstraints keyusage extendedkeyusage subjectaltname
    subjectkeyidentifier authoritykeyidentifier nscerttype nscomment
""".split())


# A UTF-8 byte order mark, decoded or kept as undecodable bytes.
_BYTE_ORDER_MARKS = ("\ufeff", "\udcef\udcbb\udcbf")


def _meaningful_lines(text):
    """(line number, stripped line) for every line that is not blank or a comment."""
    for mark in _BYTE_ORDER_MARKS:
        if text.startswith(mark):
            text = text[len(mark):]  # as OpenSSL's reader skips it
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        # ";" starts a comment in OpenSSL configs only; a certtool template
        # cannot have a line starting with ";" either (certtool stops there).
        if stripped and not stripped.startswith(("#", ";")):
            yield number, stripped


def detect_format(text: str, path: str | None = None) -> str:
    """Return ``"openssl"`` or ``"gnutls"`` for the config ``text``.

    Raises :class:`ConfigError` naming the offending line when the file is
    neither or both: sections with no ``[ req ]`` section and no ``req``
    settings before them, certtool options before the first section of an
    OpenSSL config (or beside its ``.include``), or OpenSSL ``req``
    settings in a file without sections; and naming the file when it has
    no settings at all.
    """
    sections = []  # (line, name) in file order
    anything = False
    directive = None  # first .include or .pragma
    certtool_before_sections = None  # first certtool option outside any section
    openssl_outside_sections = None
    req_outside_sections = None
    for number, line in _meaningful_lines(text):
        anything = True
        header = _SECTION.match(line)
        if header:
            sections.append((number, header.group(1).strip()))
            continue
        if _DIRECTIVE.match(line):
            directive = directive or number
            continue
        if sections:
            continue  # inside a section: the OpenSSL reader judges it
        setting = _SETTING.match(line)
        if not setting:
            continue
        name = setting.group(1).rstrip(":")
        if name.lower() in OPENSSL_KEYS and openssl_outside_sections is None:
            openssl_outside_sections = (number, name)
        if name in REQ_KEYS and req_outside_sections is None:
            req_outside_sections = (number, name)
        if name in CERTTOOL_KEYS and certtool_before_sections is None:
            certtool_before_sections = (number, name)

    if not anything:
        raise ConfigError("the config is empty (nothing but blank lines and comments);"
                          " a truncated file? openssl req refuses it, and certtool would"
                          " make a certificate with an empty subject and issuer", path)
    if sections:
        return _openssl_or_mix(sections, certtool_before_sections,
                               req_outside_sections, path)
    if directive is not None:
        if certtool_before_sections is not None:
            number, name = certtool_before_sections
            raise ConfigError(
                f"certtool template option '{name}' in a file with OpenSSL .include "
                "directives; cannot tell which format this is", path, number)
        return "openssl"  # the included files hold the sections
    if openssl_outside_sections is not None:
        number, name = openssl_outside_sections
        raise ConfigError(
            f"'{name}' is an OpenSSL req setting, but the file has no [ req ] section "
            "(and a certtool template cannot use it)", path, number)
    return "gnutls"


def _openssl_or_mix(sections, certtool_line, req_setting_line, path):
    """Sections were found: an OpenSSL config, if it really is one.

    ``req_setting_line``: the first OpenSSL ``req`` setting before any
    section, which ``req`` finds there when it has no ``[ req ]``.
    """
    if certtool_line is not None:
        number, name = certtool_line
        raise ConfigError(
            f"certtool template option '{name}' in a file with OpenSSL [ sections ]; "
            "cannot tell which format this is", path, number)
    if req_setting_line is None and not any(name == "req" for _, name in sections):
        number, name = sections[0]
        raise ConfigError(
            f"section [ {shorten(name)} ] looks like an OpenSSL config, but there is no "
            "[ req ] section, nor req settings before the first section (and certtool "
            "templates have no sections)", path, number)
    return "openssl"
