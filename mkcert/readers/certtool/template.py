"""Read a GnuTLS ``certtool`` template into a :class:`~mkcert.request.CertRequest`.

Debian's ``/etc/courier/*.cnf`` are certtool templates, and Debian's scripts
run ``certtool --generate-self-signed --template NAME.cnf``.  The request
made here describes the certificate certtool 3.7.9 makes from the same
template, byte for byte where it matters (subject string types and order,
the extensions certtool adds and their order, the serial).  Every rule below
was checked against certtool itself; the tests keep checking it
(``tests/differential/test_template_certtool.py``).

certtool reads templates loosely: option names are looked up exactly (so
``CN`` is silently not ``cn``), a boolean is true whenever it is present
(``ca = no`` makes a CA), unknown names are skipped, a repeated single-valued
option keeps its first value, and the first line that cannot start a name
ends the template without a word.  We make the same certificate, and say
so in :attr:`CertRequest.warnings` where the template probably does not mean
what certtool makes of it.  Where certtool would fail, or would write
something invalid or something our certificate library cannot (a
three-letter country, a negative serial, UTF-8 in an IA5String, a date
before 1950), the reader raises :class:`ConfigError` with file and line.

Every option certtool 3.7.9 knows is read, except subject_unique_id and
issuer_unique_id (the certificate library cannot write unique IDs);
international domain names (certtool's IDNA conversion) and GNU date
strings other than ISO dates and ``@seconds`` are refused, not guessed.

This module checks the option names and puts the request together; the
modules beside it read the parts: :mod:`~mkcert.readers.certtool.options`
(the syntax, the lookup, the values), :mod:`~mkcert.readers.certtool.subject`,
:mod:`~mkcert.readers.certtool.serial_and_validity` and
:mod:`~mkcert.readers.certtool.extensions`.

Pure: text in, request out, no I/O and no crypto import (start-up time).
"""

from __future__ import annotations

import datetime

from mkcert.readers.detect import CERTTOOL_KEYS
from mkcert.errors import shorten
from mkcert.request import CertRequest, KeySpec
from mkcert.readers.certtool.extensions import extensions_of
from mkcert.readers.certtool.options import Template, scan
from mkcert.readers.certtool.seclevel import CERTTOOL_KEY, certtool_digest
from mkcert.readers.certtool.serial_and_validity import serial_of, validity_of
from mkcert.readers.certtool.subject import refuse_empty_subject, subject_of

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:
    from mkcert.readers.key_type import KeyType

__all__ = ["read_template"]

# --- What certtool knows -------------------------------------------------

# Every option certtool 3.7.9 recognises (the list format detection uses
# too).  Names are matched exactly when values are read, but without regard
# to case when certtool decides whether to warn about an unknown option;
# "policy*" matches any name starting so.
KNOWN_OPTIONS = CERTTOOL_KEYS

# Options that may appear many times; each occurrence adds a value.
MULTI_VALUED = frozenset("""
    unit ou organization o dc dns_name ip_address email krb5_principal
    other_name other_name_utf8 other_name_octet xmpp_name key_purpose_oid
    nc_exclude_dns nc_exclude_ip nc_exclude_email nc_permit_dns nc_permit_ip
    nc_permit_email dn_oid add_extension add_critical_extension
    crl_dist_points uri ocsp_uri ca_issuers_uri honor_crq_ext tls_feature
""".split())

# Options that are true when present, whatever their value.
BOOLEANS = frozenset("""
    ca honor_crq_extensions tls_www_client tls_www_server signing_key
    encryption_key cert_signing_key crl_signing_key code_signing_key
    ocsp_signing_key time_stamping_key email_protection_key ipsec_ike_key
    key_agreement data_encipherment non_repudiation
""".split())

# Options certtool only uses for other commands (requests, CRLs, PKCS#12,
# proxy certificates): --generate-self-signed reads and ignores them.
NO_EFFECT = frozenset("""
    challenge_password password pkcs12_key_name crl_revocation_date
    crl_this_update_date crl_next_update_date crl_next_update crl_number
    honor_crq_extensions honor_crq_ext proxy_policy_language
""".split())

# Options that change certtool's certificate in a way this reader cannot
# reproduce.  Refused rather than ignored: a different certificate than
# the admin asked for is worse than a clear message.
UNSUPPORTED = frozenset("""
    subject_unique_id issuer_unique_id
""".split())


# --- The request ---------------------------------------------------------

def read_template(text: str, path: str | None = None, now: datetime.datetime | None = None,
                  require_subject: bool = False, key_type: "KeyType | None" = None
                  ) -> CertRequest:
    """The :class:`CertRequest` certtool's ``--generate-self-signed`` would follow.

    ``now`` (an aware datetime) is only consulted when the template has an
    ``activation_date`` but no ``expiration_date``: certtool then counts
    ``expiration_days`` from the moment it runs, not from the activation
    date, and the request can only say so with an absolute end date.

    ``require_subject``: refuse a template that names nothing for the
    subject.  certtool makes such a certificate, with an empty subject and
    so an empty issuer, which RFC 5280 (4.1.2.4) forbids and `openssl req`
    refuses to make; a command refuses it, while the reader alone can still
    say what certtool would make.

    ``key_type`` (a :class:`mkcert.readers.key_type.KeyType`; None for
    certtool's default RSA key) is the key certtool signs: it decides the
    digest and, for a key that can only sign, the key usage.
    """
    options, warnings = scan(text, path)
    template = Template(options, path, list(warnings))
    _check_names(template)
    not_before, not_after, days = validity_of(template, now)
    subject = subject_of(template)
    if require_subject and not subject:
        refuse_empty_subject(template)
    key, digest = _key_and_digest(key_type)
    request = CertRequest(
        subject=subject,
        key=key,
        digest=digest,
        days=days,
        not_before=not_before,
        not_after=not_after,
        serial=serial_of(template),
        extensions=extensions_of(template, key.algorithm),
        flavour="gnutls",
    )
    return request.replace(warnings=tuple(template.warnings))


def _key_and_digest(key_type):
    """The key certtool --generate-privkey makes for the key type, and what it signs with.

    certtool writes an EC key as SEC 1 (BEGIN EC PRIVATE KEY) and signs with
    the curve's own strength of SHA-2; Ed25519 as PKCS#8 (BEGIN PRIVATE KEY),
    signed with no separate digest.
    """
    if key_type is None or (key_type.algorithm == "rsa" and key_type.bits is None):
        return CERTTOOL_KEY, certtool_digest(CERTTOOL_KEY.bits)
    if key_type.algorithm == "rsa":
        return CERTTOOL_KEY.replace(bits=key_type.bits), certtool_digest(key_type.bits)
    if key_type.algorithm == "ec":
        from mkcert.readers.key_type import curve_digest

        return (KeySpec(algorithm="ec", bits=None, curve=key_type.curve, pem_format="sec1"),
                curve_digest(key_type.curve))
    return KeySpec(algorithm="ed25519", bits=None, pem_format="pkcs8"), "sha256"


def _check_names(template):
    """Warn about what certtool skips or ignores; refuse what we cannot make."""
    seen = {}
    for option in template.options:
        name = option.name
        lower = name.lower()
        shown = shorten(name)
        # certtool knows every name starting with "policy" (a wildcard) but
        # only reads policy1 to policy8 and their _url and _txt companions.
        known = lower in KNOWN_OPTIONS or lower.startswith("policy")
        if not known:
            template.warn(option, f"unknown option '{shown}' (certtool ignores it)")
            continue
        if name != lower:
            template.warn(option, f"certtool ignores '{shown}': option names are "
                                  f"case-sensitive (did you mean '{shorten(lower)}'?)")
            continue
        if name in UNSUPPORTED:
            template.fail(option, f"certtool option '{shown}' is not supported by mkcert")
        if name.startswith("nc_") and not template.has("ca"):
            template.warn(option, f"certtool ignores '{shown}' without 'ca'")
        if lower.startswith("policy"):
            from mkcert.readers.certtool.policies import policy_used  # few templates name one

            if not policy_used(template, name):
                template.warn(option, f"certtool ignores '{shown}' (it reads policy1, policy2 "
                                      "... up to the first one missing, and at most policy8)")
        if name in NO_EFFECT:
            template.warn(option, f"'{shown}' has no effect on a self-signed certificate")
        if name in BOOLEANS and option.value.strip().lower() in ("no", "false", "0", "off", "n"):
            template.warn(option, f"'{shown} = {shorten(option.value.strip())}' still turns "
                                  f"'{shown}' on: certtool only looks at whether it is there")
        if name not in MULTI_VALUED:
            if name in seen:
                template.warn(option, f"'{shown}' is given again; certtool uses only "
                                      f"the first, on line {seen[name].line}")
            else:
                seen[name] = option
    for option_name, alias in (("unit", "ou"), ("organization", "o")):
        if template.has(option_name) and template.has(alias):
            template.warn(template.first(alias), f"'{alias}' is ignored because the "
                                                 f"template also has '{option_name}'")

