"""The extensions certtool adds from a template, in certtool's order and encoding.

basicConstraints always, then key purposes, subject alternative names,
policies, name constraints, authority information access, keyUsage, the
subject key identifier and CRL distribution points, each where certtool's
``--generate-self-signed`` first sets it.  The rarely used ones (policies,
name constraints, raw DER, otherNames) are made by modules of their own,
which only the templates naming them load.
"""

from __future__ import annotations

import re

from mkcert.asn1 import der, general_names as gn
from mkcert.asn1.oids import (AUTHORITY_INFO_ACCESS, BASIC_CONSTRAINTS, CA_ISSUERS, CLIENT_AUTH,
                              CODE_SIGNING, CRL_DISTRIBUTION_POINTS, EMAIL_PROTECTION,
                              EXTENDED_KEY_USAGE, INHIBIT_ANY_POLICY, IPSEC_IKE, KEY_USAGE,
                              NAME_CONSTRAINTS, OCSP, OCSP_SIGNING, SERVER_AUTH, SUBJECT_ALT_NAME,
                              SUBJECT_KEY_IDENTIFIER, TIME_STAMPING, TLS_FEATURE)
from mkcert.errors import shorten
from mkcert.request import Extension, KeyContext
from mkcert.readers.certtool.options import (Option, Template, ia5_name, ip_name,
                                             numeric_option, object_identifier)

__all__ = ["extensions_of", "subject_key_identifier"]

# keyUsage bit positions (RFC 5280 4.2.1.3).
DIGITAL_SIGNATURE, NON_REPUDIATION, KEY_ENCIPHERMENT = 0, 1, 2
DATA_ENCIPHERMENT, KEY_AGREEMENT, KEY_CERT_SIGN, CRL_SIGN = 3, 4, 5, 6

# The options that become otherNames in the subjectAltName, in certtool's
# order (mkcert.readers.certtool.other_names reads them).
OTHER_NAME_OPTIONS = ("other_name", "other_name_octet", "other_name_utf8", "xmpp_name",
                      "krb5_principal")


class _ExtensionSet:
    """Extensions in the order certtool first sets each one.

    GnuTLS keeps an extension where it was first added and updates it in
    place, so adding a key purpose late still leaves extendedKeyUsage where
    an earlier option created it.
    """

    def __init__(self, template):
        self.template = template
        self.items = {}  # oid -> list of parts, in insertion order
        self.raw = {}  # oid -> the add_extension option that gave its DER

    def add(self, oid: str, *parts: bytes) -> None:
        if oid in self.raw:
            self._conflict(self.raw[oid], oid)
        self.items.setdefault(oid, []).extend(parts)

    def set_raw(self, oid: str, value: tuple[bytes, bool], option: Option) -> None:
        """An add_extension value: a later one for the same OID overwrites it in place."""
        if oid in self.items and oid not in self.raw:
            self._conflict(option, oid)
        self.raw[oid] = option
        self.items[oid] = [value]

    def _conflict(self, option, oid):
        # certtool merges or overwrites the two in ways that depend on the
        # extension; not worth reproducing for a raw extension.
        self.template.fail(option, f"'{option.name}' for {shorten(oid)}, an extension certtool "
                                   "also writes from this template, is not supported "
                                   "by mkcert")


def extensions_of(template: Template, algorithm: str = "rsa") -> tuple[Extension, ...]:
    """The extensions certtool adds, in certtool's order (checked against it).

    Each step below is one stage of certtool's --generate-self-signed, in
    the order certtool runs them; an extension sits where its first value
    was set.  ``algorithm``: the key's ("rsa", "ec", "ed25519"), which
    decides the key usage of a key that can only sign.
    """
    ca = template.has("ca")
    server = template.has("tls_www_server")
    found = _ExtensionSet(template)
    _requested_extensions(template, found)
    found.add(BASIC_CONSTRAINTS)
    if template.has("tls_www_client"):
        found.add(EXTENDED_KEY_USAGE, der.oid(CLIENT_AUTH))
    _alternative_names(template, found)
    if template.has("inhibit_anypolicy_skip_certs") or template.has("policy1"):
        from mkcert.readers.certtool.policies import policy_extensions

        for oid, value in policy_extensions(template):
            found.add(oid, value)
    _server_or_email(template, found, server)
    _key_purposes(template, found, ca, server)
    if ca and any(option.name.startswith("nc_") for option in template.options):
        from mkcert.readers.certtool.name_constraints import name_constraints

        constraints = name_constraints(template)
        if constraints is not None:
            found.add(NAME_CONSTRAINTS, constraints)
    for option in template.all("ocsp_uri"):
        found.add(AUTHORITY_INFO_ACCESS, _access(template, option, OCSP))
    for option in template.all("ca_issuers_uri"):
        found.add(AUTHORITY_INFO_ACCESS, _access(template, option, CA_ISSUERS))
    usage = _key_usage(template, ca, server, algorithm)
    if usage:
        found.add(KEY_USAGE)
    found.add(SUBJECT_KEY_IDENTIFIER)
    for option in template.all("crl_dist_points"):
        found.add(CRL_DISTRIBUTION_POINTS, ia5_name(template, option, gn.URI))
    return tuple(_extension(oid, parts, template, ca, usage, oid in found.raw)
                 for oid, parts in found.items.items())


def _requested_extensions(template, found):
    """What certtool sets while it still builds the subject: explicit key
    purposes, TLS features and raw extensions, so they come first."""
    for option in template.all("key_purpose_oid"):
        found.add(EXTENDED_KEY_USAGE, object_identifier(template, option))
    for option in template.all("tls_feature"):
        found.add(TLS_FEATURE, _tls_feature(template, option))
    raw = template.all("add_extension") + template.all("add_critical_extension")
    if raw:
        from mkcert.readers.certtool.raw_extensions import raw_extension

        for option in raw:
            oid, value = raw_extension(template, option)
            found.set_raw(oid, (value, option.name == "add_critical_extension"), option)


def _alternative_names(template, found):
    """subjectAltName grouped by type: DNS names, URIs, IP addresses, other names."""
    for option in template.all("dns_name"):
        found.add(SUBJECT_ALT_NAME, ia5_name(template, option, gn.DNS_NAME))
    for option in template.all("uri"):
        found.add(SUBJECT_ALT_NAME, ia5_name(template, option, gn.URI))
    for option in template.all("ip_address"):
        found.add(SUBJECT_ALT_NAME, ip_name(template, option))
    others = [option for name in OTHER_NAME_OPTIONS for option in template.all(name)]
    if others:
        from mkcert.readers.certtool.other_names import other_name

        for option in others:
            found.add(SUBJECT_ALT_NAME, other_name(template, option))


def _server_or_email(template, found, server):
    """certtool leaves the e-mail addresses out of a TLS server certificate:
    it sets the server key purpose instead, in the same step."""
    if server:
        found.add(EXTENDED_KEY_USAGE, der.oid(SERVER_AUTH))
        for option in template.all("email"):
            template.warn(option, "certtool leaves 'email' out of a tls_www_server "
                                  "certificate")
        return
    for option in template.all("email"):
        found.add(SUBJECT_ALT_NAME, ia5_name(template, option, gn.RFC822_NAME))


def _key_purposes(template, found, ca, server):
    ike = template.first("ipsec_ike_key")
    if ike is not None and (not ca or server):
        found.add(EXTENDED_KEY_USAGE, der.oid(IPSEC_IKE))
    elif ike is not None:
        template.warn(ike, "certtool ignores 'ipsec_ike_key' for a CA that is not "
                           "also a tls_www_server")
    for name, purpose in (("ocsp_signing_key", OCSP_SIGNING),
                          ("code_signing_key", CODE_SIGNING),
                          ("time_stamping_key", TIME_STAMPING),
                          ("email_protection_key", EMAIL_PROTECTION)):
        if template.has(name):
            found.add(EXTENDED_KEY_USAGE, der.oid(purpose))


def _extension(oid, parts, template, ca, usage, raw):
    if raw:  # from add_extension: (DER, critical)
        value, critical = parts[0]
        return Extension(oid, critical=critical, der=value)
    if oid == BASIC_CONSTRAINTS:
        return Extension(oid, critical=True, der=_basic_constraints(template, ca))
    if oid == INHIBIT_ANY_POLICY:
        return Extension(oid, critical=True, der=parts[0])
    if oid == NAME_CONSTRAINTS:
        return Extension(oid, critical=True, der=parts[0])
    if oid == KEY_USAGE:
        return Extension(oid, critical=True, der=der.named_bits(usage))
    if oid == SUBJECT_KEY_IDENTIFIER:
        return Extension(oid, derive=subject_key_identifier)
    if oid == CRL_DISTRIBUTION_POINTS:
        # One distribution point whose full name lists every URI (checked).
        full_name = der.context(0, b"".join(parts))
        return Extension(oid, der=der.sequence(der.sequence(der.context(0, full_name))))
    return Extension(oid, der=der.sequence(*parts))


def subject_key_identifier(context: KeyContext) -> bytes:
    """SHA-1 over the whole DER SubjectPublicKeyInfo, as GnuTLS computes it.

    RFC 5280's method 1 hashes only the public key BIT STRING; GnuTLS's
    ``gnutls_x509_crt_get_key_id(GNUTLS_KEYID_USE_SHA1)`` hashes the whole
    SubjectPublicKeyInfo (checked: certtool's identifier equals
    ``sha1(SPKI DER)``).
    """
    return der.octet_string(context.public_key_info_sha1)


def _basic_constraints(template, ca):
    if not ca:
        return der.sequence()  # cA FALSE is the DEFAULT, so DER leaves it out
    path_len, option = numeric_option(template, "path_len")
    if path_len is None or path_len < 0:
        return der.sequence(der.boolean(True))
    return der.sequence(der.boolean(True), der.integer(path_len))


def _key_usage(template, ca, server, algorithm="rsa"):
    """keyUsage bits as certtool sets them from the booleans.

    A CA that is not also a TLS server gets no keyEncipherment from
    encryption_key; keyCertSign and cRLSign only count for a CA.  A key
    that can only sign (EC, Ed25519) gets digitalSignature whatever the
    template says, and never keyEncipherment, unless it is a CA that is not
    also a TLS server (certtool's generate_certificate).
    """
    usage = set()
    signs_only = algorithm != "rsa" and (not ca or server)
    if template.has("signing_key") or signs_only:
        usage.add(DIGITAL_SIGNATURE)
    encryption = template.first("encryption_key")
    if signs_only:
        pass
    elif encryption is not None and (not ca or server):
        usage.add(KEY_ENCIPHERMENT)
    elif encryption is not None:
        template.warn(encryption, "certtool ignores 'encryption_key' for a CA that is "
                                  "not also a tls_www_server")
    for name, bit in (("key_agreement", KEY_AGREEMENT),
                      ("data_encipherment", DATA_ENCIPHERMENT),
                      ("non_repudiation", NON_REPUDIATION)):
        if template.has(name):
            usage.add(bit)
    for name, bit in (("cert_signing_key", KEY_CERT_SIGN), ("crl_signing_key", CRL_SIGN)):
        option = template.first(name)
        if option is not None and ca:
            usage.add(bit)
        elif option is not None:
            template.warn(option, f"certtool ignores '{name}' without 'ca'")
    # RFC 4945 5.1.3.2: an IKE certificate with key usages needs
    # digitalSignature or nonRepudiation; certtool adds the latter.
    if usage and template.has("ipsec_ike_key") and not template.has("signing_key"):
        usage.add(NON_REPUDIATION)
    return usage


def _tls_feature(template, option):
    """A TLS extension number (RFC 7633), e.g. 5 for OCSP must-staple."""
    if not re.fullmatch(r"[0-9]+", option.value.strip()):
        template.fail(option, f"'tls_feature' needs a TLS extension number, "
                              f"not '{shorten(option.value)}'")
    number = int(option.value)
    if number > 0xFFFF:
        template.fail(option, f"TLS extension number {number} is over 65535")
    return der.integer(number)


def _access(template, option, method):
    return der.sequence(der.oid(method), ia5_name(template, option, gn.URI))
