"""The subject: the ``dn`` string, then the single name options, in GnuTLS's string types.

certtool writes the attributes of a ``dn`` first (last component first, as
RFC 4514 reads), then country, state, locality, organization, unit, cn,
uid, dc, each ``dn_oid`` and pkcs9_email, one attribute per RDN; each value
gets the string type GnuTLS gives its attribute.
"""

from __future__ import annotations

from mkcert.asn1.oids import (COMMON_NAME, COUNTRY_NAME, DOMAIN_COMPONENT, EMAIL_ADDRESS,
                              JURISDICTION_COUNTRY_NAME, LOCALITY_NAME, ORGANIZATION_NAME,
                              ORGANIZATIONAL_UNIT_NAME, STATE_OR_PROVINCE_NAME, USER_ID)
from mkcert.errors import ConfigError, shorten
from mkcert.request import IA5_STRING, PRINTABLE_STRING, UTF8_STRING, Attribute
from mkcert.readers.certtool.options import Template, oid_and_value, require_utf8

__all__ = ["subject_of", "refuse_empty_subject"]

# The name attributes GnuTLS can write (its OID table), with the name the
# ``dn`` option knows each by, and the string type GnuTLS gives its value:
# "directory" is PrintableString when every character allows it, else
# UTF8String; the others are fixed, whatever the value.
ATTRIBUTE_TYPES = {
    "2.5.4.3": ("CN", "directory"),
    "2.5.4.10": ("O", "directory"),
    "2.5.4.11": ("OU", "directory"),
    "2.5.4.7": ("L", "directory"),
    "2.5.4.8": ("ST", "directory"),
    "2.5.4.9": ("street", "directory"),
    "2.5.4.12": ("title", "directory"),
    "2.5.4.13": ("description", "directory"),
    "2.5.4.4": ("surName", "directory"),
    "2.5.4.42": ("givenName", "directory"),
    "2.5.4.43": ("initials", "directory"),
    "2.5.4.44": ("generationQualifier", "directory"),
    "2.5.4.65": ("pseudonym", "directory"),
    "2.5.4.17": ("postalCode", "directory"),
    "2.5.4.41": ("name", "directory"),
    "2.5.4.15": ("businessCategory", "directory"),
    "0.9.2342.19200300.100.1.1": ("UID", "directory"),
    "1.2.840.113556.1.4.656": ("userPrincipalName", "directory"),
    "1.3.6.1.5.5.7.9.2": ("placeOfBirth", "directory"),
    "1.3.6.1.4.1.311.60.2.1.1": ("jurisdictionOfIncorporationLocalityName", "directory"),
    "1.3.6.1.4.1.311.60.2.1.2": ("jurisdictionOfIncorporationStateOrProvinceName",
                                 "directory"),
    "2.5.4.6": ("C", "printable"),
    "2.5.4.5": ("serialNumber", "printable"),
    "2.5.4.20": ("telephoneNumber", "printable"),
    "2.5.4.46": ("dnQualifier", "printable"),
    "1.3.6.1.5.5.7.9.3": ("gender", "printable"),
    "1.3.6.1.5.5.7.9.4": ("countryOfCitizenship", "printable"),
    "1.3.6.1.5.5.7.9.5": ("countryOfResidence", "printable"),
    "1.3.6.1.4.1.311.60.2.1.3": ("jurisdictionOfIncorporationCountryName", "printable"),
    "0.9.2342.19200300.100.1.25": ("DC", "ia5"),
    "1.2.840.113549.1.9.1": ("EMAIL", "ia5"),
    "1.3.6.1.5.5.7.8.5": ("XmppAddr", "utf8"),
    "1.2.643.100.1": ("OGRN", "numeric"),
    "1.2.643.100.3": ("SNILS", "numeric"),
    "1.2.643.100.5": ("OGRNIP", "numeric"),
    "1.2.643.3.131.1.1": ("INN", "numeric"),
}
OID_BY_NAME = {name.lower(): oid for oid, (name, _) in ATTRIBUTE_TYPES.items()}

# The subject attributes certtool writes after a ``dn``, in this order.
SUBJECT_ORDER = (
    ("country", COUNTRY_NAME),
    ("state", STATE_OR_PROVINCE_NAME),
    ("locality", LOCALITY_NAME),
    ("organization", ORGANIZATION_NAME),
    ("unit", ORGANIZATIONAL_UNIT_NAME),
    ("cn", COMMON_NAME),
    ("uid", USER_ID),
    ("dc", DOMAIN_COMPONENT),
    ("dn_oid", None),  # each names its own attribute
    ("pkcs9_email", EMAIL_ADDRESS),
)
# Every option that puts something into the subject.
SUBJECT_OPTIONS = frozenset(name for name, _ in SUBJECT_ORDER) | {"dn", "o", "ou"}

# GnuTLS's PrintableString alphabet: the ASN.1 one without "'" (GnuTLS
# writes "it's" as UTF8String; checked).
_PRINTABLE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789 ()+,-./:=?")
# What a PrintableString may hold (X.680), which the certificate library checks.
_ASN1_PRINTABLE = _PRINTABLE | {"'"}
_NUMERIC = frozenset("0123456789 ")

# A country is two letters (ISO 3166); certtool takes any length, but
# cryptography, which --check reads certificates with, insists on two.
_LENGTH_LIMITS = {COUNTRY_NAME: (2, 2), JURISDICTION_COUNTRY_NAME: (2, 2)}

# RFC 5280's ub-common-name.  certtool writes a longer CN, and OpenSSL
# (s_client, verify, python's ssl), GnuTLS (gnutls-cli) and cryptography
# load such a certificate and match a host name against it (checked by
# tests/threats/test_readers_hostile.py), so a longer CN is made, with a warning:
# `openssl req` refuses it, and a strict validator may too.
UB_COMMON_NAME = 64

NUMERIC_STRING = 18  # not among mkcert.request's tags; GnuTLS uses it for OGRN etc.
_TAGS = {"printable": PRINTABLE_STRING, "ia5": IA5_STRING, "utf8": UTF8_STRING,
         "numeric": NUMERIC_STRING}


def subject_of(template: Template) -> tuple[tuple[Attribute, ...], ...]:
    """The subject: a ``dn`` string's attributes, then the single options."""
    rdns = list(_dn_string(template))
    for name, oid in SUBJECT_ORDER:
        for option in _subject_values(template, name):
            if name == "dn_oid":
                oid, value = _dn_oid(template, option)
            else:
                value = option.value
            rdns.append((_attribute(template, option, oid, value),))
    return tuple(rdns)


def refuse_empty_subject(template: Template) -> None:
    """Raise the error for an empty subject, saying why if a name only differs in case."""
    hint = ""
    for option in template.options:
        if option.name.lower() in SUBJECT_OPTIONS:  # only a different case
            hint = (f" ('{shorten(option.name)}' on line {option.line} is not"
                    f" '{option.name.lower()}': option names are case-sensitive)")
            break
    raise ConfigError("the template gives the certificate no name (no cn, organization,"
                      " unit, ... or dn): certtool would make one with an empty subject"
                      " and issuer, which RFC 5280 forbids" + hint, template.path)


def _subject_values(template, name):
    if name in ("unit", "organization"):
        alias = "ou" if name == "unit" else "o"
        return template.all(name) or template.all(alias)
    if name in ("dc", "dn_oid"):
        return template.all(name)
    option = template.first(name)
    return [option] if option is not None else []


def _dn_oid(template, option):
    """``dn_oid = OID value``, for the attributes GnuTLS has a string type for."""
    oid, value = oid_and_value(template, option)
    if oid not in ATTRIBUTE_TYPES:
        template.fail(option, f"GnuTLS cannot write the name attribute '{shorten(oid)}'")
    return oid, value


def _dn_string(template):
    """``dn = "CN=x,O=y"``: RFC 4514 order, so the last component comes first.

    Only plain ``NAME=value`` components are read (names as GnuTLS knows
    them, in any case, or dotted OIDs); GnuTLS's escapes, hex values and
    ``+`` are refused rather than guessed at.
    """
    option = template.first("dn")
    if option is None:
        return []
    rdns = []
    for component in option.value.split(","):
        name, equals, value = component.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not value:
            template.fail(option, f"cannot read '{shorten(component.strip())}' in 'dn' "
                                  "(certtool refuses it too)")
        if any(c in value for c in '+\\"#<>;') or "+" in name:
            template.fail(option, f"'dn' component '{shorten(component.strip())}' uses syntax "
                                  "mkcert does not read; use the single options")
        oid = name if name in ATTRIBUTE_TYPES else OID_BY_NAME.get(name.lower())
        if oid is None:
            template.fail(option, "'dn' names an attribute GnuTLS does not know: "
                                  f"'{shorten(name)}'")
        rdns.append((_attribute(template, option, oid, value),))
    return reversed(rdns)


def _attribute(template, option, oid, value):
    """One attribute, in the string type GnuTLS would use for it."""
    label = ATTRIBUTE_TYPES[oid][0]
    if value == "":
        template.fail(option, f"'{option.name}' is empty (certtool refuses an empty "
                              "name attribute)")
    require_utf8(template, option)
    kind = ATTRIBUTE_TYPES[oid][1]
    lowest, highest = _LENGTH_LIMITS.get(oid, (1, None))
    if len(value) < lowest or highest is not None and len(value) > highest:
        size = f"exactly {lowest}" if lowest == highest else f"at most {highest}"
        template.fail(option, f"{label} '{shorten(value)}' must be {size} characters long")
    if oid == COMMON_NAME and len(value) > UB_COMMON_NAME:
        template.warn(option, f"the CN is {len(value)} characters long, over the "
                              f"{UB_COMMON_NAME} of RFC 5280; certtool writes it and TLS "
                              "clients accept it, but openssl req would refuse it")
    allowed = {"printable": _ASN1_PRINTABLE, "numeric": _NUMERIC}.get(kind)
    if allowed is not None and not set(value) <= allowed:
        # certtool writes the bytes as they are: invalid X.509.
        template.fail(option, f"{label} '{shorten(value)}' has characters a "
                              f"{'PrintableString' if kind == 'printable' else 'NumericString'}"
                              " cannot hold")
    if kind == "ia5" and not value.isascii():
        template.fail(option, f"{label} '{shorten(value)}' must be ASCII (an IA5String)")
    if kind == "directory":
        return Attribute(oid, value, PRINTABLE_STRING if set(value) <= _PRINTABLE
                         else UTF8_STRING)
    return Attribute(oid, value, _TAGS[kind])
