"""Read a GnuTLS ``certtool`` template into a :class:`~mkcert.request.CertRequest`.

Debian's ``/etc/courier/*.cnf`` are certtool templates, and Debian's scripts
run ``certtool --generate-self-signed --template NAME.cnf``.  The request
made here describes the certificate certtool 3.7.9 makes from the same
template, byte for byte where it matters (subject string types and order,
the extensions certtool adds and their order, the serial).  Every rule below
was checked against certtool itself; the tests keep checking it
(``tests/test_template_certtool.py``).

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

Pure: text in, request out, no I/O and no crypto import (start-up time).
"""

import datetime
import re

from mkcert.asn1 import der, general_names as gn
from mkcert.asn1.oids import (AUTHORITY_INFO_ACCESS, BASIC_CONSTRAINTS, CA_ISSUERS, CERTIFICATE_POLICIES,
                              CLIENT_AUTH, CODE_SIGNING, COMMON_NAME, CPS_QUALIFIER,
                              CRL_DISTRIBUTION_POINTS, EMAIL_PROTECTION, EXTENDED_KEY_USAGE,
                              INHIBIT_ANY_POLICY, IPSEC_IKE, KEY_USAGE, KRB5_PRINCIPAL,
                              NAME_CONSTRAINTS, OCSP, OCSP_SIGNING, SERVER_AUTH, SUBJECT_ALT_NAME,
                              SUBJECT_KEY_IDENTIFIER, TIME_STAMPING, TLS_FEATURE,
                              USER_NOTICE_QUALIFIER, XMPP_ADDR)
from mkcert.readers.detect import CERTTOOL_KEYS
from mkcert.errors import ConfigError, shorten
from mkcert.request import (IA5_STRING, PRINTABLE_STRING, REQUIRED, UTF8_STRING, Attribute,
                      CertRequest, Extension, KeySpec, Record)
from mkcert.readers.certtool.seclevel import bits_for_security_level, certtool_digest  # noqa: F401  (CLI API)

NUMERIC_STRING = 18  # not among mkcert.request's tags; GnuTLS uses it for OGRN etc.

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

# Name constraints, which certtool only writes for a CA: (option, GeneralName
# choice), permitted before excluded, IP addresses, then DNS names, then e-mail.
NAME_CONSTRAINT_OPTIONS = (
    ("nc_permit_ip", gn.IP_ADDRESS), ("nc_permit_dns", gn.DNS_NAME),
    ("nc_permit_email", gn.RFC822_NAME),
    ("nc_exclude_ip", gn.IP_ADDRESS), ("nc_exclude_dns", gn.DNS_NAME),
    ("nc_exclude_email", gn.RFC822_NAME),
)

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
    ("country", "2.5.4.6"),
    ("state", "2.5.4.8"),
    ("locality", "2.5.4.7"),
    ("organization", "2.5.4.10"),
    ("unit", "2.5.4.11"),
    ("cn", "2.5.4.3"),
    ("uid", "0.9.2342.19200300.100.1.1"),
    ("dc", "0.9.2342.19200300.100.1.25"),
    ("dn_oid", None),  # each names its own attribute
    ("pkcs9_email", "1.2.840.113549.1.9.1"),
)

# GnuTLS's PrintableString alphabet: the ASN.1 one without "'" (GnuTLS
# writes "it's" as UTF8String; checked).
_PRINTABLE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789 ()+,-./:=?")
# What a PrintableString may hold (X.680), which the certificate library checks.
_ASN1_PRINTABLE = _PRINTABLE | {"'"}
_NUMERIC = frozenset("0123456789 ")

# A country is two letters (ISO 3166); certtool takes any length, but
# cryptography, which --check reads certificates with, insists on two.
_LENGTH_LIMITS = {"2.5.4.6": (2, 2), "1.3.6.1.4.1.311.60.2.1.3": (2, 2)}

# RFC 5280's ub-common-name.  certtool writes a longer CN, and OpenSSL
# (s_client, verify, python's ssl), GnuTLS (gnutls-cli) and cryptography
# load such a certificate and match a host name against it (checked by
# tests/test_readers_hostile.py), so a longer CN is made, with a warning:
# `openssl req` refuses it, and a strict validator may too.
UB_COMMON_NAME = 64

_TAGS = {"printable": PRINTABLE_STRING, "ia5": IA5_STRING, "utf8": UTF8_STRING,
         "numeric": NUMERIC_STRING}

GENERAL_STRING = 0x1B

# keyUsage bit positions (RFC 5280 4.2.1.3).
DIGITAL_SIGNATURE, NON_REPUDIATION, KEY_ENCIPHERMENT = 0, 1, 2
DATA_ENCIPHERMENT, KEY_AGREEMENT, KEY_CERT_SIGN, CRL_SIGN = 3, 4, 5, 6

# certtool stores serials as at most 20 octets (RFC 5280 4.1.2.2) and reads
# decimal serials into a signed 64-bit integer.
MAX_DECIMAL_SERIAL = 2**63 - 2
MAX_SERIAL_OCTETS = 20

# What certtool writes for expiration_days = -1: the X.509 "no end date".
NO_WELL_DEFINED_EXPIRATION = datetime.datetime(
    9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)

# certtool's own default key: it writes PKCS#1 ("BEGIN RSA PRIVATE KEY").
CERTTOOL_KEY = KeySpec(algorithm="rsa", bits=bits_for_security_level("high"),
                       pem_format="pkcs1")


# --- Reading the file ----------------------------------------------------

class Option(Record):
    """One ``name = value`` of the template, with the line it starts on."""

    FIELDS = (("name", REQUIRED), ("value", REQUIRED), ("line", REQUIRED))
    __slots__ = tuple(name for name, _ in FIELDS)


_NAME_FIRST = frozenset("_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_NAME_REST = _NAME_FIRST | frozenset("0123456789:^-")
_BLANK = frozenset(" \t\n\v\f\r\b")
# Where a value's plain run of characters ends.
_UNQUOTED_SPECIAL = re.compile(r"[\\\n]")
_QUOTED_SPECIAL = {quote: re.compile(f"[\\\\{quote}]") for quote in "'\""}


class _Scanner:
    """certtool's template syntax, one character at a time.

    ``name [=|:] value``, where the value runs to the end of the line, or is
    quoted with " or ' (and then may span lines).  ``#`` starts a comment
    only where a name could start: after an unquoted value it is part of the
    value.  Backslashes: ``\\`` + newline continues a line, ``\\`` + the
    quote character is that character, and ``\\`` + anything else vanishes
    with that character (certtool's reading; we keep it, odd as it is).
    """

    def __init__(self, text, path):
        self.text = text
        self.path = path
        self.pos = 0
        self.warnings = []
        self._counted_to, self._line = 0, 1

    def line_at(self, pos):
        """The line of ``pos``, counted on from the last answer.

        Positions asked about mostly grow, so a template of many lines costs
        linear time, not a count from the start for every option.
        """
        if pos < self._counted_to:
            self._counted_to, self._line = 0, 1
        self._line += self.text.count("\n", self._counted_to, pos)
        self._counted_to = pos
        return self._line

    def peek(self):
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def options(self):
        found = []
        while True:
            self._skip_blanks_and_comments()
            if self.pos >= len(self.text):
                return found
            if self.peek() not in _NAME_FIRST:
                self.warnings.append(
                    f"{self.path}:{self.line_at(self.pos)}: certtool stops reading the "
                    f"template at {self.peek()!r}; the rest of the file is ignored")
                return found
            start = self.pos
            name = self._name()
            option = Option(name, self._value(), self.line_at(start))
            if option.value.endswith("\r"):
                self.warnings.append(
                    f"{self.path}:{option.line}: the value of '{shorten(name)}' ends with a "
                    "carriage return (DOS line ending), which certtool keeps")
            found.append(option)

    def _skip_blanks_and_comments(self):
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end + 1
            elif c in _BLANK:
                self.pos += 1
            else:
                return

    def _name(self):
        start = self.pos
        self.pos += 1
        while self.peek() and self.peek() in _NAME_REST:
            self.pos += 1
        if self.text[self.pos - 1] == ":" and self.pos - 1 > start:
            self.pos -= 1  # "cn: value" - the colon is the delimiter
        return self.text[start:self.pos]

    def _skip_horizontal(self):
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1

    def _value(self):
        self._skip_horizontal()
        if self.peek() in (":", "=") and self.peek():
            self.pos += 1
            self._skip_horizontal()
        c = self.peek()
        if c == "":
            return ""
        if c == "\n":
            self.pos += 1
            return ""
        if c in ("'", '"'):
            return self._quoted(c)
        return self._unquoted()

    def _plain_run(self, special):
        """The text up to the next character ``special`` matches, in one step.

        A value may be megabytes long; one character at a time, it took seconds.
        """
        match = special.search(self.text, self.pos)
        end = len(self.text) if match is None else match.start()
        run, self.pos = self.text[self.pos:end], end
        return run

    def _unquoted(self):
        # The first character is taken as it is, even a backslash.
        out = [self.text[self.pos]]
        self.pos += 1
        while self.pos < len(self.text):
            out.append(self._plain_run(_UNQUOTED_SPECIAL))
            if self.pos >= len(self.text):
                break
            c = self.text[self.pos]
            self.pos += 1
            if c == "\\":
                if self.pos >= len(self.text):
                    break
                following = self.text[self.pos]
                self.pos += 1
                if following == "\n":
                    out.append("\n")
                else:
                    out.append(_rest_of_character(following))
            else:  # the newline that ends the value
                break
        return "".join(out)

    def _quoted(self, quote):
        opened_at = self.pos
        self.pos += 1
        out = []
        special = _QUOTED_SPECIAL[quote]
        while self.pos < len(self.text):
            out.append(self._plain_run(special))
            if self.pos >= len(self.text):
                break
            c = self.text[self.pos]
            self.pos += 1
            if c == "\\":
                if self.pos >= len(self.text):
                    raise ConfigError("a backslash ends the file inside a quoted value "
                                      "(certtool cannot load this template)",
                                      self.path, self.line_at(opened_at))
                following = self.text[self.pos]
                self.pos += 1
                if following == "\n":
                    out.append(" ")
                elif following == quote:
                    out.append(quote)
                else:
                    out.append(_rest_of_character(following))
            else:  # the closing quote
                return "".join(out)
        self.warnings.append(f"{self.path}:{self.line_at(opened_at)}: the quote opened "
                             "here is never closed; certtool reads to the end of the file")
        return "".join(out)


def _rest_of_character(character):
    """What is left of ``character`` after certtool drops one byte of it.

    certtool reads bytes: a backslash swallows the byte after it, which for
    a non-ASCII character is only its first UTF-8 byte.  The rest stays in
    the value as undecodable bytes (surrogates), which the reader refuses
    as not UTF-8, rather than writing certtool's invalid string.
    """
    return character.encode("utf-8", "surrogateescape")[1:].decode("utf-8", "surrogateescape")


class _Template:
    """The options of one template, looked up the way certtool looks them up."""

    def __init__(self, options, path, warnings):
        self.options = options
        self.path = path
        self.warnings = warnings

    def where(self, option):
        return f"{self.path}:{option.line}"

    def warn(self, option, text):
        self.warnings.append(f"{self.where(option)}: {text}")

    def fail(self, option, text):
        raise ConfigError(text, self.path, option.line)

    def first(self, name):
        for option in self.options:
            if option.name == name:
                return option
        return None

    def all(self, name):
        return [option for option in self.options if option.name == name]

    def has(self, name):
        return self.first(name) is not None


def scan(text, path=None):
    """The options of a template, in file order, and the scanner's warnings."""
    scanner = _Scanner(text, path)
    return scanner.options(), scanner.warnings


# --- The request ---------------------------------------------------------

def read_template(text: str, path: str | None = None, now: datetime.datetime | None = None,
                  require_subject: bool = False) -> CertRequest:
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
    """
    options, warnings = scan(text, path)
    template = _Template(options, path, list(warnings))
    _check_names(template)
    not_before, not_after, days = _validity(template, now)
    subject = _subject(template)
    if require_subject and not subject:
        _refuse_empty_subject(template)
    request = CertRequest(
        subject=subject,
        key=CERTTOOL_KEY,
        digest=certtool_digest(CERTTOOL_KEY.bits),
        days=days,
        not_before=not_before,
        not_after=not_after,
        serial=_serial(template),
        extensions=_extensions(template),
        flavour="gnutls",
    )
    return request.replace(warnings=tuple(template.warnings))


def with_key_bits(request, bits):
    """``request`` with an RSA key of ``bits``, signed as certtool would sign it.

    certtool picks the signature digest from the key size (SHA-384 from
    4096 bits on), so the size from ``BITS`` must change both.
    """
    key = request.key.replace(bits=bits)
    return request.replace(key=key, digest=certtool_digest(bits))


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
        if lower.startswith("policy") and not _policy_used(template, name):
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


def _policy_used(template, name):
    match = re.fullmatch(r"policy([1-8])(_txt|_url)?", name)
    return match is not None and all(template.has(f"policy{i}")
                                     for i in range(1, int(match.group(1)) + 1))


# --- Subject -------------------------------------------------------------

def _subject(template):
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


# Every option that puts something into the subject.
SUBJECT_OPTIONS = frozenset(name for name, _ in SUBJECT_ORDER) | {"dn", "o", "ou"}


def _refuse_empty_subject(template):
    """Say that the subject is empty, and why, if a name only differs in case."""
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


def _oid_and_value(template, option):
    """``OID value``: split at the first space (a tab only if there is no space).

    certtool splits exactly so: "2.5.4.3\t x" has a space, so its OID is
    "2.5.4.3\t", which GnuTLS does not know.
    """
    text = option.value
    cut = text.find(" ") if " " in text else text.find("\t")
    if cut < 0 or not text[cut + 1:].lstrip(" \t"):
        template.fail(option, f"'{option.name}' needs an OID and a value")
    return text[:cut], text[cut + 1:].lstrip(" \t")


def _dn_oid(template, option):
    """``dn_oid = OID value``, for the attributes GnuTLS has a string type for."""
    oid, value = _oid_and_value(template, option)
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
    _require_utf8(template, option)
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


def _require_utf8(template, option):
    try:
        option.value.encode("utf-8")
    except UnicodeEncodeError:
        template.fail(option, f"'{option.name}' is not valid UTF-8")


# --- Serial --------------------------------------------------------------

def _serial(template):
    """certtool's serial: decimal, or ``0x`` + hex octets read as two's complement.

    ``001`` is decimal 1.  ``0x80`` is -128 to certtool (the octets are
    written as they are into the INTEGER); we refuse that rather than make
    a negative serial.  Without a serial, certtool picks 159 random bits,
    as the builder does.
    """
    option = template.first("serial")
    if option is None:
        return None
    text = option.value
    if text.startswith("0x"):
        digits = text[2:]
        if not digits or len(digits) % 2 or not re.fullmatch(r"[0-9A-Fa-f]+", digits):
            template.fail(option, f"serial '{shorten(text)}' is not an even number of hex digits")
        octets = bytes.fromhex(digits)
        if len(octets) > MAX_SERIAL_OCTETS or (
                len(octets) == MAX_SERIAL_OCTETS and octets[0] & 0x80):
            template.fail(option, f"serial '{shorten(text)}' would take more than 20 octets")
        value = int.from_bytes(octets, "big", signed=True)
        if value <= 0:
            template.fail(option, f"serial '{shorten(text)}' is not positive as certtool reads it "
                                  "(the first octet's top bit is a sign; prefix 00)")
        return value
    match = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?[0-9]+)", text)
    if not match:
        template.fail(option, f"serial '{shorten(text)}' is not a decimal number or 0x followed "
                              "by hex digits")
    value = int(match.group(1))
    if not 1 <= value <= MAX_DECIMAL_SERIAL:
        template.fail(option, f"serial {value} is out of range (1 to {MAX_DECIMAL_SERIAL})")
    return value


# --- Validity ------------------------------------------------------------

def _number(template, name):
    """A numeric option as certtool reads it (a leading decimal number), or None."""
    option = template.first(name)
    if option is None:
        return None, None
    match = re.match(r"[ \t\n\v\f\r]*([+-]?[0-9]+)", option.value)
    if not match:
        template.fail(option, f"'{name}' needs a number, not '{shorten(option.value)}'")
    if match.end() != len(option.value):
        template.warn(option, f"certtool reads only the number at the start of "
                              f"'{name} = {shorten(option.value)}'")
    value = int(match.group(1))
    if not -2**31 <= value < 2**31:
        template.fail(option, f"'{name}' is out of range: {value}")
    return value, option


def _validity(template, now):
    """(not_before, not_after, days) with certtool's meaning of each option.

    certtool computes the end as now + expiration_days (from the moment it
    runs, even with an activation_date), and writes any end past the year
    9999 as 99991231235959Z.  expiration_days -1 means that "no end" date;
    0, a missing value and anything below -2 mean 365.  -2 makes certtool
    compute now - 2 days, a certificate expired before it was made, which
    our certificate library refuses, and so do we, with a clear message.
    """
    not_before = _date(template, "activation_date")
    not_after = _date(template, "expiration_date")
    days, option = _number(template, "expiration_days")
    if days is None or days == 0 or days < -2:
        days = 365
    if not_after is None:
        not_after = _end_from_days(template, option, days, not_before, now)
    if not_before is not None and not_after is not None and not_after < not_before:
        option = template.first("expiration_date") or template.first("activation_date")
        template.fail(option, f"the certificate would end ({not_after:%Y-%m-%d %H:%M:%S} "
                              f"UTC) before it starts ({not_before:%Y-%m-%d %H:%M:%S} UTC)")
    _refuse_past_end(template, not_after, now)
    return not_before, not_after, days


def _refuse_past_end(template, not_after, now):
    """An expiration_date that has passed: the certificate would be dead on arrival.

    certtool makes it (exit 0), and a renewal timer would then "renew" it
    every day, never failing where anyone looks; expiration_days = -2 is
    the same mistake and is refused too.
    """
    option = template.first("expiration_date")
    moment = now or datetime.datetime.now(datetime.timezone.utc)
    if option is not None and not_after <= moment:
        template.fail(option, f"expiration_date {not_after:%Y-%m-%d %H:%M:%S} UTC has "
                              "passed: the certificate would have expired before it was "
                              "made (certtool makes it anyway)")


def _end_from_days(template, option, days, not_before, now):
    """An absolute end for ``days`` where the builder's now + days would differ."""
    if days == -2:
        template.fail(option, "expiration_days = -2 makes certtool write a certificate "
                              "that expired two days before it was made")
    if days == -1:
        return NO_WELL_DEFINED_EXPIRATION
    moment = (now or datetime.datetime.now(datetime.timezone.utc)).replace(microsecond=0)
    if days * 86400 > (NO_WELL_DEFINED_EXPIRATION - moment).total_seconds():
        return NO_WELL_DEFINED_EXPIRATION  # certtool's clamp, not an overflow
    if not_before is not None:
        return moment + datetime.timedelta(days=days)  # from now, not from not_before
    return None  # the builder's now + days is certtool's


_DATE = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"
    r"\s*(Z|UTC|GMT|[+-]\d{2}:?\d{2})?", re.IGNORECASE)


def _date(template, name):
    """An absolute date in the forms certtool's date parser takes most often.

    certtool accepts any GNU date string ("next month", "Jan 2 2030");
    relative ones cannot be reproduced at another moment and the rest are
    rarely used, so only ISO dates and ``@seconds`` are read here.  Without
    a zone the time is local, as for certtool.
    """
    option = template.first(name)
    if option is None:
        return None
    text = option.value.strip()
    if re.fullmatch(r"@[0-9]+", text):
        try:
            moment = datetime.datetime.fromtimestamp(int(text[1:]), datetime.timezone.utc)
        except (OverflowError, ValueError, OSError):
            template.fail(option, f"{name} '{shorten(option.value)}' is beyond the year 9999")
        return _check_epoch(template, option, name, moment)
    match = _DATE.fullmatch(text)
    if not match:
        template.fail(option, f"cannot read the date '{shorten(option.value)}' (mkcert takes "
                              "YYYY-MM-DD [HH:MM[:SS]] [UTC|+HHMM] or @seconds)")
    year, month, day, hour, minute, second, zone = match.groups()
    try:
        moment = datetime.datetime(int(year), int(month), int(day), int(hour or 0),
                                   int(minute or 0), int(second or 0))
    except ValueError as exc:
        template.fail(option, f"invalid date '{shorten(option.value)}': {exc}")
    if zone is None:
        moment = moment.astimezone()  # local time, like certtool
    elif zone.upper() in ("Z", "UTC", "GMT"):
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    else:
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        moment = moment.replace(tzinfo=datetime.timezone(sign * offset))
    return _check_epoch(template, option, name, moment.astimezone(datetime.timezone.utc))


def _check_epoch(template, option, name, moment):
    if moment.year < 1950:
        # certtool writes it as UTCTime with two digits, i.e. 100 years later.
        template.fail(option, f"{name} '{shorten(option.value)}' is before 1950, which "
                              "certtool writes as a date 100 years later")
    return moment


# --- Extensions ----------------------------------------------------------

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

    def add(self, oid, *parts):
        if oid in self.raw:
            self._conflict(self.raw[oid], oid)
        self.items.setdefault(oid, []).extend(parts)

    def set_raw(self, oid, value, option):
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


def _extensions(template):
    """The extensions certtool adds, in certtool's order (checked against it).

    Each step below is one stage of certtool's --generate-self-signed, in
    the order certtool runs them; an extension sits where its first value
    was set.
    """
    ca = template.has("ca")
    server = template.has("tls_www_server")
    found = _ExtensionSet(template)
    _requested_extensions(template, found)
    found.add(BASIC_CONSTRAINTS)
    if template.has("tls_www_client"):
        found.add(EXTENDED_KEY_USAGE, der.oid(CLIENT_AUTH))
    _alternative_names(template, found)
    _policies(template, found)
    _server_or_email(template, found, server)
    _key_purposes(template, found, ca, server)
    if ca:
        _name_constraints(template, found)
    for option in template.all("ocsp_uri"):
        found.add(AUTHORITY_INFO_ACCESS, _access(template, option, OCSP))
    for option in template.all("ca_issuers_uri"):
        found.add(AUTHORITY_INFO_ACCESS, _access(template, option, CA_ISSUERS))
    usage = _key_usage(template, ca, server)
    if usage:
        found.add(KEY_USAGE)
    found.add(SUBJECT_KEY_IDENTIFIER)
    for option in template.all("crl_dist_points"):
        found.add(CRL_DISTRIBUTION_POINTS, _ia5_name(template, option, gn.URI))
    return tuple(_extension(oid, parts, template, ca, usage, oid in found.raw)
                 for oid, parts in found.items.items())


def _requested_extensions(template, found):
    """What certtool sets while it still builds the subject: explicit key
    purposes, TLS features and raw extensions, so they come first."""
    for option in template.all("key_purpose_oid"):
        found.add(EXTENDED_KEY_USAGE, _oid(template, option))
    for option in template.all("tls_feature"):
        found.add(TLS_FEATURE, _tls_feature(template, option))
    for name in ("add_extension", "add_critical_extension"):
        for option in template.all(name):
            oid, value = _raw_extension(template, option)
            found.set_raw(oid, (value, name == "add_critical_extension"), option)


def _alternative_names(template, found):
    """subjectAltName grouped by type: DNS names, URIs, IP addresses, other names."""
    for option in template.all("dns_name"):
        found.add(SUBJECT_ALT_NAME, _ia5_name(template, option, gn.DNS_NAME))
    for option in template.all("uri"):
        found.add(SUBJECT_ALT_NAME, _ia5_name(template, option, gn.URI))
    for option in template.all("ip_address"):
        found.add(SUBJECT_ALT_NAME, _ip_name(template, option))
    for name in ("other_name", "other_name_octet", "other_name_utf8", "xmpp_name"):
        for option in template.all(name):
            found.add(SUBJECT_ALT_NAME, _other_name(template, option))
    for option in template.all("krb5_principal"):
        found.add(SUBJECT_ALT_NAME, _krb5_principal(template, option))


def _policies(template, found):
    """inhibitAnyPolicy, then certificatePolicies from policy1 up to the first gap."""
    skip, _ = _number(template, "inhibit_anypolicy_skip_certs")
    if skip is not None and skip >= 0:
        found.add(INHIBIT_ANY_POLICY, der.integer(skip))
    for number in range(1, 9):
        option = template.first(f"policy{number}")
        if option is None:
            break
        qualifiers = []
        text = template.first(f"policy{number}_txt")
        if text is not None:
            _require_utf8(template, text)
            notice = der.sequence(der.tlv(UTF8_STRING, text.value.encode("utf-8")))
            qualifiers.append(der.sequence(der.oid(USER_NOTICE_QUALIFIER), notice))
        url = template.first(f"policy{number}_url")
        if url is not None:
            if not url.value.isascii():
                template.fail(url, f"'{url.name}' must be ASCII: '{shorten(url.value)}'")
            qualifiers.append(der.sequence(der.oid(CPS_QUALIFIER),
                                           der.tlv(IA5_STRING, url.value.encode("ascii"))))
        policy = [_oid(template, option)] + ([der.sequence(*qualifiers)] if qualifiers else [])
        found.add(CERTIFICATE_POLICIES, der.sequence(*policy))


def _name_constraints(template, found):
    """permittedSubtrees [0], excludedSubtrees [1]: one GeneralSubtree per option."""
    subtrees = {"permit": [], "exclude": []}
    for name, choice in NAME_CONSTRAINT_OPTIONS:
        for option in template.all(name):
            if choice == gn.IP_ADDRESS:
                base = gn.ip_address(_cidr(template, option))
            else:
                base = _ia5_name(template, option, choice, empty_ok=True)
            subtrees[name.split("_")[1]].append(der.sequence(base))
    parts = [der.context(number, b"".join(subtrees[kind]))
             for number, kind in ((0, "permit"), (1, "exclude")) if subtrees[kind]]
    if parts:
        found.add(NAME_CONSTRAINTS, der.sequence(*parts))


def _cidr(template, option):
    """``10.0.0.0/8`` as RFC 5280 wants it: the address, then the mask.

    As GnuTLS reads it: the prefix is required, and host bits are cleared.
    """
    import ipaddress  # only CA templates with IP constraints pay for it

    address, slash, prefix = option.value.partition("/")
    try:
        if not slash or not re.fullmatch(r"[0-9]+", prefix) or "%" in address:
            raise ValueError(option.value)
        network = ipaddress.ip_network(f"{address}/{int(prefix)}", strict=False)
    except ValueError:
        template.fail(option, f"'{shorten(option.value)}' is not an address/prefix (CIDR)")
    return network.network_address.packed + network.netmask.packed


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
        found.add(SUBJECT_ALT_NAME, _ia5_name(template, option, gn.RFC822_NAME))


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


def subject_key_identifier(context):
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
    path_len, option = _number(template, "path_len")
    if path_len is None or path_len < 0:
        return der.sequence(der.boolean(True))
    return der.sequence(der.boolean(True), der.integer(path_len))


def _key_usage(template, ca, server):
    """keyUsage bits as certtool sets them from the booleans.

    A CA that is not also a TLS server gets no keyEncipherment from
    encryption_key; keyCertSign and cRLSign only count for a CA.
    """
    usage = set()
    if template.has("signing_key"):
        usage.add(DIGITAL_SIGNATURE)
    encryption = template.first("encryption_key")
    if encryption is not None and (not ca or server):
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


def _oid(template, option):
    text = option.value
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)+", text):
        template.fail(option, f"'{shorten(text)}' is not an object identifier "
                              "(like 1.3.6.1.5.5.7.3.1)")
    try:
        return der.oid(text)
    except ValueError:
        template.fail(option, f"'{shorten(text)}' is not a valid object identifier")


def _raw_extension(template, option):
    """``add_extension = OID hex`` (or ``OID octet_string(hex)``): DER as given.

    The OID and the value are split as for dn_oid.
    """
    oid, value = _oid_and_value(template, option)
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)+", oid):
        template.fail(option, f"'{shorten(oid)}' is not an object identifier")
    wrap = value.startswith("octet_string(")
    if wrap:
        if not value.endswith(")"):  # certtool ignores what follows the ")"
            template.fail(option, f"cannot read '{shorten(value)}'")
        value = value[len("octet_string("):-1]
    elif "(" in value:
        template.fail(option, f"cannot read '{shorten(value)}': only octet_string(...) is known")
    if value.startswith("0x"):
        value = value[2:]
    if not value or len(value) % 2 or not re.fullmatch(r"[0-9A-Fa-f]+", value):
        template.fail(option, f"'{shorten(value)}' is not an even number of hex digits")
    raw = bytes.fromhex(value)
    return oid, der.octet_string(raw) if wrap else raw


def _tls_feature(template, option):
    """A TLS extension number (RFC 7633), e.g. 5 for OCSP must-staple."""
    if not re.fullmatch(r"[0-9]+", option.value.strip()):
        template.fail(option, f"'tls_feature' needs a TLS extension number, "
                              f"not '{shorten(option.value)}'")
    number = int(option.value)
    if number > 0xFFFF:
        template.fail(option, f"TLS extension number {number} is over 65535")
    return der.integer(number)


def _ia5_name(template, option, choice, empty_ok=False):
    value = option.value
    if value == "" and not empty_ok:
        template.fail(option, f"'{option.name}' is empty")
    if not value.isascii():
        # GnuTLS converts international names (IDNA, RFC 8398 mailboxes);
        # we do not, so refuse rather than write something different.
        template.fail(option, f"'{option.name}' must be ASCII: '{shorten(value)}'")
    return gn.general_name(choice, value.encode("ascii"))


def _ip_name(template, option):
    import ipaddress  # only templates with ip_address pay for it

    try:
        if "%" in option.value:  # a scope: Python reads it, inet_pton does not
            raise ValueError(option.value)
        address = ipaddress.ip_address(option.value)
    except ValueError:
        template.fail(option, f"'{shorten(option.value)}' is not an IPv4 or IPv6 address")
    return gn.ip_address(address.packed)


def _other_name(template, option):
    """An otherName: ``xmpp_name = addr``, ``other_name_utf8 = OID text``,
    ``other_name_octet = OID text`` (its bytes) or ``other_name = OID hex-DER``."""
    if option.name == "xmpp_name":
        oid, value = XMPP_ADDR, option.value
    else:
        oid, value = _oid_and_value(template, option)
        if not re.fullmatch(r"[0-9]+(\.[0-9]+)+", oid):
            template.fail(option, f"'{shorten(oid)}' is not an object identifier")
    if option.name == "other_name_octet":
        inner = der.octet_string(value.encode("utf-8", "surrogateescape"))
    elif option.name == "other_name":
        inner = _single_der_value(template, option, value)
    else:
        _require_utf8(template, option)
        inner = der.tlv(UTF8_STRING, value.encode("utf-8"))
    return gn.other_name(oid, inner)


def _krb5_principal(template, option):
    """A Kerberos principal name as an otherName (RFC 4556 KRB5PrincipalName).

    As GnuTLS reads ``user/instance@REALM``: the realm follows the last
    "@"; with one "@" the rest is split at "/" (empty parts dropped, at
    most 6; name type 2 for krbtgt/REALM, else 1); with more than one "@"
    the rest is a single enterprise name (type 10).
    """
    text = option.value
    if "@" not in text:
        template.fail(option, f"Kerberos principal '{shorten(text)}' has no @REALM")
    name, _, realm = text.rpartition("@")
    if "@" in name:
        parts, name_type = [name], 10
    else:
        parts = [part for part in name.split("/") if part]
        if len(parts) > 6:
            template.fail(option, f"Kerberos principal '{shorten(text)}' has more than 6 parts")
        name_type = 2 if len(parts) == 2 and parts[0] == "krbtgt" else 1
    general = [der.tlv(GENERAL_STRING, p.encode("utf-8", "surrogateescape")) for p in parts]
    principal = der.sequence(
        der.context(0, der.tlv(GENERAL_STRING, realm.encode("utf-8", "surrogateescape"))),
        der.context(1, der.sequence(der.context(0, der.integer(name_type)),
                                    der.context(1, der.sequence(*general)))))
    return gn.other_name(KRB5_PRINCIPAL, principal)


def _single_der_value(template, option, digits):
    if len(digits) % 2 or not re.fullmatch(r"[0-9A-Fa-f]+", digits):
        template.fail(option, f"'{shorten(digits)}' is not an even number of hex digits")
    value = bytes.fromhex(digits)
    try:
        if der.read_tlv(value)[2] != len(value):
            raise ValueError("more than one value")
    except (ValueError, IndexError):
        template.fail(option, f"'{shorten(digits)}' is not one DER value")
    return value


def _access(template, option, method):
    return der.sequence(der.oid(method), _ia5_name(template, option, gn.URI))
