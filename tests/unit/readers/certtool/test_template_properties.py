"""Property tests against certtool: any value, any quoting, the same subject.

Hypothesis writes template lines with arbitrary text (quotes, backslashes,
``#``, Unicode, spaces at either end) and certtool reads the same file.
Either both refuse it, or our subject is certtool's, byte for byte.
"""

import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mkcert.asn1 import der
from mkcert.errors import ConfigError
from mkcert.readers.certtool.template import read_template

pytestmark = pytest.mark.skipif(shutil.which("certtool") is None,
                                reason="certtool (gnutls-bin) is not installed")

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

# Any character but NUL (a C string ends there) and surrogates (not UTF-8).
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"),
               min_size=0, max_size=30)
# Mostly what templates hold, with the syntax characters often.
SYNTAX_HEAVY = st.text(st.sampled_from(list("ab Z09'\"\\#=:\t\n-_.,()+?*@&ü")),
                       min_size=0, max_size=20)


# Where certtool writes something and we refuse (see WE_REFUSE in
# test_template.py): X.520 sizes, characters outside a string type.
OUR_OWN_REFUSALS = ("characters long", "cannot hold", "must be ASCII")
# certtool wrote a certificate that cannot be parsed.
INVALID = "invalid"


def certtool_subject(text, certtool_key, directory):
    """certtool's subject DER for a template, or None if certtool refuses it."""
    from cryptography import x509

    template = directory / "t.cnf"
    template.write_bytes(text.encode("utf-8"))
    out = directory / "c.pem"
    result = subprocess.run(
        ["certtool", "--generate-self-signed", "--load-privkey", str(certtool_key),
         "--template", str(template), "--outfile", str(out)],
        capture_output=True, timeout=60)
    if result.returncode != 0:
        return None
    try:
        return x509.load_pem_x509_certificate(out.read_bytes()).subject.public_bytes()
    except ValueError:
        return INVALID


def our_subject(text):
    try:
        request = read_template(text, "t.cnf")
    except ConfigError:
        return None
    # Encoded here: the request already says every string type, and every
    # value it lets through is UTF-8 (or ASCII for the one-octet types).
    return der.sequence(*(
        der.set_of(*(der.sequence(der.oid(a.oid), der.tlv(a.tag, a.value.encode("utf-8")))
                     for a in rdn))
        for rdn in request.subject))


def check(text, certtool_key, directory):
    ours = our_subject(text)
    theirs = certtool_subject(text, certtool_key, directory)
    if theirs is INVALID:  # e.g. half a UTF-8 character in a UTF8String
        assert ours is None
        return
    if ours is None and theirs is not None:
        # Refusals of ours that certtool does not share are listed in
        # test_template.py (WE_REFUSE); only those may appear here.
        assume(not any(reason in _error(text) for reason in OUR_OWN_REFUSALS))
    assert ours == theirs


def _error(text):
    try:
        read_template(text, "t.cnf")
    except ConfigError as exc:
        return exc.message
    return ""


def quoted(value, quote):
    return quote + value.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote


@SETTINGS
@given(cn=TEXT, organization=TEXT, quote=st.sampled_from(['"', "'"]))
def test_quoted_values(cn, organization, quote, certtool_key, tmp_path):
    """Quoted with escapes as certtool reads them: the value comes through."""
    assume("\\" not in cn and "\\" not in organization)  # escapes vanish (see test_syntax)
    text = (f"cn = {quoted(cn, quote)}\n"
            f"organization = {quoted(organization, quote)}\n")
    check(text, certtool_key, tmp_path)


@SETTINGS
@given(lines=st.lists(st.tuples(st.sampled_from(["cn", "unit", "locality", "ou", "CN",
                                                 "organization", "state", "dc", "uid"]),
                                st.sampled_from([" = ", "=", ": ", " ", "\t=\t"]),
                                SYNTAX_HEAVY),
                      min_size=1, max_size=5))
def test_raw_lines(lines, certtool_key, tmp_path):
    """Unquoted, half-quoted, commented, continued: read as certtool reads it."""
    text = "".join(f"{name}{delimiter}{value}\n" for name, delimiter, value in lines)
    check(text, certtool_key, tmp_path)


KEYS = sorted(["cn", "serial", "expiration_days", "activation_date", "expiration_date",
               "dn", "dn_oid", "ip_address", "dns_name", "email", "key_purpose_oid",
               "add_extension", "tls_feature", "path_len", "ca", "country", "dc",
               "crl_dist_points", "policy1", "unknown", "CN", "uri", "pkcs9_email"])


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(
    st.text(),
    st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from([" = ", "=", " ", ":"]),
                       st.text(max_size=40)), max_size=6).map(
        lambda lines: "".join(f"{k}{d}{v}\n" for k, d, v in lines))))
def test_any_text_reads_or_fails_cleanly(text):
    """Whatever the file holds: a request, or a ConfigError naming a line
    (only the file, for a file with nothing in it)."""
    from mkcert.readers.detect import detect_format

    try:
        detect_format(text, "t.cnf")
    except ConfigError as exc:
        assert exc.path == "t.cnf"
        assert exc.line or exc.message.startswith("the config is empty"), exc.message
    try:
        request = read_template(text, "t.cnf")
    except ConfigError as exc:
        assert exc.path == "t.cnf" and exc.line >= 1
        return
    assert all(w.startswith("t.cnf:") for w in request.warnings)


# Whole templates: option lines drawn from a pool of valid (and a few odd)
# values, in any order and number.  The certificate must be certtool's.
POOL = [
    "cn = mail.example.com", "cn = 'x y'", "organization = Org", "o = Alias Org",
    "unit = Unit 1", "unit = Unit 2", "ou = Alias Unit", "locality = Berlin",
    "state = \"it's\"", "country = DE", "uid = u", "dc = example", "dc = com",
    "pkcs9_email = a@example.com", "dn_oid = 2.5.4.5 1234", "dn = \"CN=dn,O=dn org\"",
    "serial = 001", "serial = 0x00ff", "expiration_days = 30", "expiration_days = -1",
    "activation_date = \"2024-01-02 03:04:05 UTC\"",
    "expiration_date = \"2040-06-07 08:09:10 UTC\"",
    "ca", "ca = no", "path_len = 1", "path_len = -1", "tls_www_server", "tls_www_client",
    "signing_key", "encryption_key", "cert_signing_key", "crl_signing_key",
    "key_agreement", "data_encipherment", "non_repudiation", "ipsec_ike_key",
    "ocsp_signing_key", "code_signing_key", "time_stamping_key", "email_protection_key",
    "key_purpose_oid = 1.3.6.1.5.5.7.3.1", "key_purpose_oid = 1.2.3.4",
    "email = postmaster@example.com", "email = e2@example.com",
    "dns_name = mail.example.com", "dns_name = *.example.com", "ip_address = 192.0.2.1",
    "ip_address = 2001:db8::1", "uri = https://example.com/", "xmpp_name = x@im",
    "other_name_utf8 = 1.2.3.4 text", "krb5_principal = imap/host@REALM",
    "crl_dist_points = http://crl/", "ocsp_uri = http://ocsp/",
    "ca_issuers_uri = http://ca/", "tls_feature = 5",
    "add_extension = 1.2.3.9 0x0500", "add_critical_extension = 1.2.3.10 octet_string(ab)",
    "policy1 = 1.2.3.4", "policy1_txt = note", "policy1_url = http://cps/",
    "policy2 = 2.5.29.32.0", "inhibit_anypolicy_skip_certs = 1",
    "nc_permit_dns = example.com", "nc_exclude_ip = 10.0.0.0/8",
    "challenge_password = secret", "frobnicate = 1", "CN = ignored",
    "# a comment", "",
]


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.sampled_from(POOL), min_size=1, max_size=14))
def test_whole_templates(lines, certtool_key, tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    from mkcert.x509 import compat
    from mkcert.x509.certificate import build_certificate

    text = "\n".join(lines) + "\n"
    template = tmp_path / "t.cnf"
    template.write_text(text)
    out = tmp_path / "c.pem"
    result = subprocess.run(
        ["certtool", "--generate-self-signed", "--load-privkey", str(certtool_key),
         "--template", str(template), "--outfile", str(out)],
        capture_output=True, timeout=60)
    try:
        request = read_template(text, "t.cnf")
    except ConfigError as exc:
        assert result.returncode != 0 or any(r in exc.message for r in (
            "end (", "before 1950")), exc.message  # expired-before-made: ours only
        return
    assert result.returncode == 0, result.stderr
    theirs = x509.load_pem_x509_certificate(out.read_bytes())
    key = serialization.load_pem_private_key(certtool_key.read_bytes(), None)
    pinned = request.replace(serial=theirs.serial_number,
                             not_before=compat.not_valid_before(theirs),
                             not_after=compat.not_valid_after(theirs))
    ours = build_certificate(pinned, key)
    assert ours.tbs_certificate_bytes == theirs.tbs_certificate_bytes
    assert ours.signature == theirs.signature
