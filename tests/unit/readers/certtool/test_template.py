"""read_template: certtool's template reading, its quirks, warnings and refusals.

The byte-for-byte comparison with certtool is in test_template_certtool.py;
this file pins the reader's own behaviour, and runs certtool where a claim
about certtool (it fails too) is cheap to check.  The security levels of
``BITS`` are in test_seclevel.py.
"""

import datetime
import os
import shutil
import subprocess

import pytest

from conftest import data_files

from mkcert.asn1 import der
from mkcert.errors import ConfigError
from mkcert.request import IA5_STRING, PRINTABLE_STRING, UTF8_STRING, KeyContext
from mkcert.readers.certtool.extensions import subject_key_identifier
from mkcert.readers.certtool.options import scan
from mkcert.readers.certtool.serial_and_validity import NO_WELL_DEFINED_EXPIRATION
from mkcert.readers.certtool.template import read_template

PATH = "/etc/courier/imapd.cnf"
UTC = datetime.timezone.utc
needs_certtool = pytest.mark.skipif(shutil.which("certtool") is None,
                                    reason="certtool (gnutls-bin) is not installed")


def options(text):
    found, _ = scan(text, PATH)
    return [(o.name, o.value) for o in found]


def subject(request):
    return [(a.oid, a.value, a.tag) for rdn in request.subject for a in rdn]


# --- The reference templates ---------------------------------------------

@pytest.mark.parametrize("path", data_files("gnutls"),
                         ids=lambda p: "/".join(p.split("/")[-2:]))
def test_reference_templates(path):
    with open(path, encoding="utf-8") as handle:
        request = read_template(handle.read(), path)
    unit = {"esmtpd": "ESMTP", "imapd": "IMAP", "pop3d": "POP3"}[
        os.path.basename(path).split(".")[0]]
    assert subject(request) == [
        ("2.5.4.6", "US", PRINTABLE_STRING),
        ("2.5.4.8", "Vermont", PRINTABLE_STRING),
        ("2.5.4.7", "Burlington", PRINTABLE_STRING),
        ("2.5.4.10", "Mkcert Test Mail", PRINTABLE_STRING),
        ("2.5.4.11", f"Automatically-generated {unit} SSL key", PRINTABLE_STRING),
        ("2.5.4.3", "localhost", PRINTABLE_STRING),
    ]
    assert request.flavour == "gnutls"
    assert request.serial == 1  # "001" is decimal
    assert request.days == 365 and request.not_before is None and request.not_after is None
    assert request.digest == "sha256"
    assert request.key.pem_format == "pkcs1" and request.key.bits == 3072
    assert request.warnings == ()
    extensions = request.extensions
    assert [e.oid for e in extensions] == ["2.5.29.19", "2.5.29.17", "2.5.29.14"]
    assert extensions[0].critical and extensions[0].der == b"\x30\x00"
    assert extensions[1].der == der.sequence(der.tlv(0x81, b"hostmaster@mail.example"))
    assert extensions[2].derive is not None


def test_subject_key_identifier_hashes_whole_spki():
    import hashlib

    spki = b"\x30\x03\x02\x01\x05"
    context = KeyContext(public_key_info=spki, public_key_bits=b"x", subject=b"", serial=1,
                         public_key_bits_sha1=hashlib.sha1(b"x").digest(),
                         public_key_info_sha1=hashlib.sha1(spki).digest())
    assert subject_key_identifier(context) == der.octet_string(hashlib.sha1(spki).digest())


# --- Syntax ----------------------------------------------------------------

SYNTAX = [
    ("cn = localhost\n", [("cn", "localhost")]),
    ("cn=localhost", [("cn", "localhost")]),
    ("cn: localhost\n", [("cn", "localhost")]),
    ("cn localhost\n", [("cn", "localhost")]),
    ("  \tcn   =   spaced out  \n", [("cn", "spaced out  ")]),
    ("cn = a # not a comment\n", [("cn", "a # not a comment")]),
    ('cn = "a" # a comment\nou = b\n', [("cn", "a"), ("ou", "b")]),
    ("# c\n\n   # c\ncn = x\n#c", [("cn", "x")]),
    ("cn = 'single'\n", [("cn", "single")]),
    ('cn = "say \\"hi\\""\n', [("cn", 'say "hi"')]),
    ("cn = 'it\\'s'\n", [("cn", "it's")]),
    ('cn = "two\nlines"\n', [("cn", "two\nlines")]),
    ('cn = "joined \\\nline"\n', [("cn", "joined  line")]),
    ('cn = "a\\zb"\n', [("cn", "ab")]),  # backslash + other: both vanish
    ("cn = a\\zb\n", [("cn", "ab")]),
    ("cn = \\x\n", [("cn", "\\x")]),  # ...except as the first character
    ("cn = a\\\nb\n", [("cn", "a\nb")]),  # continuation keeps the newline
    ("cn = tail\\", [("cn", "tail")]),
    ("cn = a\\\u00fcb\n", [("cn", "a\udcbcb")]),  # a byte of the "ü" is left
    ("ca\nsigning_key\n", [("ca", ""), ("signing_key", "")]),
    ("ca =\ncn = x\n", [("ca", ""), ("cn", "x")]),
    ("cn = x", [("cn", "x")]),
    ('cn = "x" y\n', [("cn", "x"), ("y", "")]),
    ("cn:x\n", [("cn:x", "")]),  # ":" is a name character when not last
    ("cn = x\r\n", [("cn", "x\r")]),
    ('cn = "x"\r\nou = y\r\n', [("cn", "x"), ("ou", "y\r")]),
    ("cn == x\n", [("cn", "= x")]),
    ("cn = a\n[ req ]\nou = b\n", [("cn", "a")]),  # "[" ends the template
    ("cn = a\n1x = b\nou = c\n", [("cn", "a")]),
    ("Some_Name-2^x = v\n", [("Some_Name-2^x", "v")]),
    ('cn = "open\nou = y\n', [("cn", "open\nou = y\n")]),  # quote never closed
    ("cn\t=\ttabs\tinside\n", [("cn", "tabs\tinside")]),
    ("ca =\n  x\ncn = c\n", [("ca", ""), ("x", ""), ("cn", "c")]),  # empty value: newline ends it
    ("ou = a\n\n\n  ou = b\ncn = c", [("ou", "a"), ("ou", "b"), ("cn", "c")]),
]


@pytest.mark.parametrize("text, expected", SYNTAX)
def test_syntax(text, expected):
    assert options(text) == expected


@needs_certtool
def _valid_utf8(values):
    return all(v.encode("utf-8", "surrogateescape").decode("utf-8", "ignore") == v
               for _, v in values)


@pytest.mark.parametrize("text", [t for t, e in SYNTAX if _valid_utf8(e) and (
    any(n in ("cn", "ou") for n, _ in e) or "cn" in t)])
def test_syntax_as_certtool_reads_it(text, tmp_path, certtool_key):
    """certtool's CN and OU are the values our scanner found for cn and ou."""
    from cryptography import x509

    template = tmp_path / "t.cnf"
    template.write_bytes(text.encode("utf-8"))
    subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", str(certtool_key),
                    "--template", str(template), "--outfile", str(tmp_path / "c.pem")],
                   capture_output=True, check=True, timeout=60)
    certificate = x509.load_pem_x509_certificate((tmp_path / "c.pem").read_bytes())
    found = dict(reversed(options(text)))  # the first value of each name
    for name, oid in (("cn", x509.NameOID.COMMON_NAME),
                      ("ou", x509.NameOID.ORGANIZATIONAL_UNIT_NAME)):
        values = [a.value for a in certificate.subject.get_attributes_for_oid(oid)]
        assert values[:1] == ([found[name]] if name in found else [])


@pytest.mark.parametrize("text, line", [
    ("cn = a\n\n[ req ]\n", 3),
    ("cn = a\n  ; semicolon\n", 2),
])
def test_parse_stop_warns_with_line(text, line):
    _, warnings = scan(text, PATH)
    assert warnings == [f"{PATH}:{line}: certtool stops reading the template at "
                        f"{text.splitlines()[line - 1].strip()[0]!r}; the rest of the "
                        "file is ignored"]


def test_option_lines_count_multiline_values():
    found, _ = scan('# c\ncn = "a\nb"\n\nou = c\n', PATH)
    assert [(o.name, o.line) for o in found] == [("cn", 2), ("ou", 5)]


# --- Subject ---------------------------------------------------------------

def test_subject_order_and_types():
    request = read_template(
        "dc = one\ndc = two\nuid = u\ncn = c\nunit = u1\nunit = u2\norganization = o\n"
        "locality = l\nstate = s\ncountry = DE\n", PATH)
    assert [oid for oid, _, _ in subject(request)] == [
        "2.5.4.6", "2.5.4.8", "2.5.4.7", "2.5.4.10", "2.5.4.11", "2.5.4.11",
        "2.5.4.3", "0.9.2342.19200300.100.1.1", "0.9.2342.19200300.100.1.25",
        "0.9.2342.19200300.100.1.25"]
    assert subject(request)[-1] == ("0.9.2342.19200300.100.1.25", "two", IA5_STRING)


@pytest.mark.parametrize("value, tag", [
    ("Plain (1+1=2, ok?) -./:", PRINTABLE_STRING),
    ("it's", UTF8_STRING),  # GnuTLS leaves the apostrophe out of PrintableString
    ("a_b", UTF8_STRING),
    ("a@b", UTF8_STRING),
    ("a*b", UTF8_STRING),
    ("Müller", UTF8_STRING),
])
def test_directory_string_types(value, tag):
    request = read_template(f'cn = "{value}"\n', PATH)
    assert subject(request) == [("2.5.4.3", value, tag)]


def test_aliases_o_and_ou():
    request = read_template("o = org\nou = unit1\nou = unit2\n", PATH)
    assert [v for _, v, _ in subject(request)] == ["org", "unit1", "unit2"]
    request = read_template("o = ignored\norganization = used\n", PATH)
    assert [v for _, v, _ in subject(request)] == ["used"]
    assert request.warnings == (
        f"{PATH}:1: 'o' is ignored because the template also has 'organization'",)


# --- Warnings: what certtool skips or reads differently ----------------------

@pytest.mark.parametrize("text, warning", [
    ("frobnicate = 1\n", "1: unknown option 'frobnicate' (certtool ignores it)"),
    ("cn = x\nCN = y\n", "2: certtool ignores 'CN': option names are case-sensitive "
                         "(did you mean 'cn'?)"),
    ("cn = x\ncn = y\n", "2: 'cn' is given again; certtool uses only the first, on line 1"),
    ("ca = no\n", "1: 'ca = no' still turns 'ca' on: certtool only looks at whether "
                  "it is there"),
    ("challenge_password = x\n", "1: 'challenge_password' has no effect on a "
                                 "self-signed certificate"),
    ("tls_www_server\nemail = a@b.c\n", "2: certtool leaves 'email' out of a "
                                        "tls_www_server certificate"),
    ("cert_signing_key\n", "1: certtool ignores 'cert_signing_key' without 'ca'"),
    ("nc_exclude_ip = 10.0.0.0/8\n", "1: certtool ignores 'nc_exclude_ip' without 'ca'"),
    ("ca\nencryption_key\n", "2: certtool ignores 'encryption_key' for a CA that is "
                             "not also a tls_www_server"),
    ("ca\nipsec_ike_key\n", "2: certtool ignores 'ipsec_ike_key' for a CA that is not "
                              "also a tls_www_server"),
    ("policy1 = 1.2.3\npolicy3 = 1.2.5\n", "2: certtool ignores 'policy3' (it reads "
                                            "policy1, policy2 ... up to the first one "
                                            "missing, and at most policy8)"),
    ("policy9 = 1.2.3\n", "1: certtool ignores 'policy9' (it reads policy1, policy2 ... "
                           "up to the first one missing, and at most policy8)"),
    ("cn = x\r\n", "1: the value of 'cn' ends with a carriage return (DOS line "
                   "ending), which certtool keeps"),
    ('cn = "x\n', "1: the quote opened here is never closed; certtool reads to the "
                  "end of the file"),
    ("expiration_days = 10 days\n", "1: certtool reads only the number at the start "
                                    "of 'expiration_days = 10 days'"),
])
def test_warnings(text, warning):
    request = read_template(text, PATH)
    assert f"{PATH}:{warning}" in request.warnings


def test_case_mismatch_is_not_used():
    request = read_template("CN = upper\nOrganization = x\n", PATH)
    assert request.subject == ()


def test_boolean_value_is_ignored():
    request = read_template("ca = no\n", PATH)
    assert request.extensions[0].der == der.sequence(der.boolean(True))


# --- Serial and validity ----------------------------------------------------

@pytest.mark.parametrize("text, serial", [
    ("001", 1), ("42", 42), ("+7", 7), ("9223372036854775806", 2**63 - 2),
    ("0000000000000000000000000012", 12),
    ("0x01", 1), ("0x0001", 1), ("0x00ff", 255), ("0xABcd00", 0xABCD00 - 2**24),
    ("0x7f112233445566778899aabbccddeeff00112233",
     0x7f112233445566778899aabbccddeeff00112233),
])
def test_serial(text, serial):
    if serial <= 0:  # certtool's two's complement: we refuse a negative serial
        with pytest.raises(ConfigError):
            read_template(f"serial = {text}\n", PATH)
        return
    assert read_template(f"serial = {text}\n", PATH).serial == serial


def test_no_serial_means_random():
    assert read_template("cn = x\n", PATH).serial is None


@pytest.mark.parametrize("days, expected", [
    ("365", 365), ("1", 1), ("0", 365), ("-3", 365), ("-100", 365), ("10 days", 10),
    ("  20", 20),
])
def test_expiration_days(days, expected):
    request = read_template(f"expiration_days = {days}\n", PATH)
    assert request.days == expected and request.not_after is None


def test_expiration_days_minus_one_never_expires():
    request = read_template("expiration_days = -1\n", PATH)
    assert request.not_after == NO_WELL_DEFINED_EXPIRATION
    assert request.not_before is None


def test_absolute_dates():
    request = read_template('activation_date = "2024-01-02 03:04:05 UTC"\n'
                            'expiration_date = "2030-01-02T03:04:05+0200"\n', PATH)
    assert request.not_before == datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert request.not_after == datetime.datetime(2030, 1, 2, 1, 4, 5, tzinfo=UTC)
    request = read_template("expiration_date = @1900000000\n", PATH)
    assert request.not_after == datetime.datetime(2030, 3, 17, 17, 46, 40, tzinfo=UTC)


def test_days_past_9999_are_clamped_like_certtool():
    now = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    last_full_day = (NO_WELL_DEFINED_EXPIRATION - now).days
    request = read_template(f"expiration_days = {last_full_day}\n", PATH, now=now)
    assert request.not_after is None and request.days == last_full_day
    for days in (last_full_day + 1, 2**31 - 1):
        request = read_template(f"expiration_days = {days}\n", PATH, now=now)
        assert request.not_after == NO_WELL_DEFINED_EXPIRATION


def test_activation_date_with_days_counts_from_now():
    now = datetime.datetime(2026, 1, 1, 12, 0, 0, 123, tzinfo=UTC)
    request = read_template('activation_date = "2025-06-01 UTC"\nexpiration_days = 10\n',
                            PATH, now=now)
    assert request.not_before == datetime.datetime(2025, 6, 1, tzinfo=UTC)
    assert request.not_after == datetime.datetime(2026, 1, 11, 12, 0, 0, tzinfo=UTC)


# --- Extensions ---------------------------------------------------------------

def extension_oids(text):
    return [e.oid for e in read_template(text, PATH).extensions]


@pytest.mark.parametrize("text, order", [
    ("", ["2.5.29.19", "2.5.29.14"]),
    ("key_purpose_oid = 1.2.3\n", ["2.5.29.37", "2.5.29.19", "2.5.29.14"]),
    ("tls_www_client\nemail = a@b\n", ["2.5.29.19", "2.5.29.37", "2.5.29.17", "2.5.29.14"]),
    ("tls_www_server\ndns_name = a\n", ["2.5.29.19", "2.5.29.17", "2.5.29.37", "2.5.29.14"]),
    ("ocsp_uri = http://o/\nsigning_key\ncrl_dist_points = http://c/\n",
     ["2.5.29.19", "1.3.6.1.5.5.7.1.1", "2.5.29.15", "2.5.29.14", "2.5.29.31"]),
])
def test_extension_order(text, order):
    assert extension_oids(text) == order


def test_key_usage_bits():
    def usage(text):
        found = [e for e in read_template(text, PATH).extensions if e.oid == "2.5.29.15"]
        return found[0].der if found else None

    assert usage("") is None
    assert usage("signing_key\n") == bytes.fromhex("03020780")
    assert usage("signing_key\nencryption_key\n") == bytes.fromhex("030205a0")
    assert usage("ca\nsigning_key\ncert_signing_key\ncrl_signing_key\n") == \
        bytes.fromhex("03020186")
    assert usage("key_agreement\ndata_encipherment\nnon_repudiation\n") == \
        bytes.fromhex("03020358")


def test_basic_constraints():
    def bc(text):
        return read_template(text, PATH).extensions[0]

    assert bc("").der == bytes.fromhex("3000") and bc("").critical
    assert bc("ca\n").der == bytes.fromhex("30030101ff")
    assert bc("ca\npath_len = 2\n").der == bytes.fromhex("30060101ff020102")
    assert bc("ca\npath_len = -1\n").der == bytes.fromhex("30030101ff")
    assert bc("path_len = 2\n").der == bytes.fromhex("3000")  # only for a CA


def test_crl_distribution_points_share_one_point():
    request = read_template("crl_dist_points = http://a/\ncrl_dist_points = http://b/\n",
                            PATH)
    assert request.extensions[-1].der == bytes.fromhex(
        "301C301AA018A0168609687474703A2F2F612F8609687474703A2F2F622F")


# --- Refusals -------------------------------------------------------------------

# Templates certtool refuses too (checked below): we fail before any file exists.
CERTTOOL_REFUSES = [
    ("cn = x\nserial = 0\n", 2),
    ("serial = -5\n", 1),
    ("serial = 1x\n", 1),
    ("serial = 0x1\n", 1),
    ("serial = 0x\n", 1),
    ("serial = 0X10\n", 1),
    ("serial = 0x00\n", 1),
    ("serial = 9223372036854775807\n", 1),
    ("serial = 0x00112233445566778899aabbccddeeff0011223344\n", 1),
    ("serial = 0x80112233445566778899aabbccddeeff00112233\n", 1),
    ("serial = 5\r\n", 1),
    ("cn = \"\"\n", 1),
    ("organization = \"\"\n", 1),
    ("country = \"\"\n", 1),
    ("cn = x\nip_address = 1.2.3\n", 2),
    ("ip_address = 10.0.0.1/8\n", 1),
    ("cn = x\ntls_feature = 70000\n", 2),
    ("ip_address = \"fe80::1%eth0\"\n", 1),
    ("key_purpose_oid = foo\n", 1),
    ("email = \"j\u00f6@x.de\"\n", 1),
    ("expiration_date = \"2030-02-30\"\n", 1),
    ("activation_date = garbage\n", 1),
    ('cn = "x\\', 1),
    ("cn = x\ndn_oid = 1.2.3.4 y\n", 2),  # an OID GnuTLS has no string type for
    ("dn_oid = CN y\n", 1),
    ("other_name = foo 0C0161\n", 1),
    ("policy1 = foo\n", 1),
    ("ca\nnc_permit_ip = 10.0.0.0\n", 2),
    ("ca\nnc_exclude_ip = 10.0.0.0/33\n", 2),
    ("krb5_principal = noat\n", 1),
    ("krb5_principal = a/b/c/d/e/f/g@R\n", 1),
    ("cn = x\nother_name_utf8 = 1.2.3.4\n", 2),
    ("add_extension = 1.2.3.4 0x050\n", 1),
    ("add_extension = 1.2.3.4\n", 1),
    ("add_critical_extension = 1.2.3.4 octet_string(zz)\n", 1),
    ("dn_oid = 2.5.4.3\n", 1),
    ("dn_oid = 2.5.4.3\t  y\n", 1),  # split at the space: the OID keeps the tab
    ('dn = "CN=x,O=y+OU=z"\n', 1),
    ('dn = "CN=x,,O=y"\n', 1),
    ('dn = "CN="\n', 1),
    ('dn = "CN=x,emailAddress=e@x"\n', 1),  # GnuTLS calls it EMAIL
]

# Templates certtool turns into something we cannot or will not make.
WE_REFUSE = [
    ("serial = 0x80\n", 1),  # certtool: serial -128
    ("country = usa\n", 1),  # certtool: a three-letter PrintableString
    ("country = \"\u00dc\"\n", 1),
    ("dc = \"m\u00fcller\"\n", 1),  # certtool: UTF-8 bytes in an IA5String
    ("cn = x\ndns_name = \"b\u00fccher.de\"\n", 2),  # certtool: IDNA
    ("dns_name = \"\"\n", 1),  # certtool: an empty name
    ("key_purpose_oid = 1\n", 1),  # certtool: invalid DER
    ("key_purpose_oid = 1.2.3.\n", 1),  # certtool: 1.2.3.0
    ("ca\npath_len = abc\n", 2),  # certtool: 0
    ("expiration_days = abc\n", 1),  # certtool: 365
    ("expiration_days = -2\n", 1),  # certtool: expired two days ago
    ('activation_date = "2090-01-01 UTC"\nexpiration_date = "2080-01-01 UTC"\n', 2),
    ("expiration_date = tomorrow\n", 1),  # relative dates
    ('activation_date = "1949-12-31 23:59:59 UTC"\n', 1),  # certtool: 2049
    ('expiration_date = "1900-01-01"\n', 1),
    ('dn = "CN=x,O=a\\\\,b"\n', 1),  # GnuTLS's DN escapes: not read here
    ("dn_oid = 2.5.4.5 a_b\n", 1),  # certtool: "_" in a PrintableString
    ("dn_oid = 1.2.643.100.1 12a\n", 1),  # certtool: "a" in a NumericString
    ('dn = "C=USA"\n', 1),  # certtool: three-letter country
    ("other_name = 1.2.3.4 0C05\n", 1),  # certtool: a broken subjectAltName
    ("other_name = 1.2.3.4 0C01610C0162\n", 1),
    ("subject_unique_id = 00ff\n", 1),  # certtool options we do not implement
    ("ca\nnc_permit_dns = b\u00fccher.de\n", 2),  # certtool: UTF-8 in an IA5String
    ("add_extension = 2.5.29.19 0x3000\n", 1),  # certtool merges/overwrites its own
    ("add_extension = 1.2.3.4 bitstring(00)\n", 1),
    ("tls_feature = abc\n", 1),  # certtool: 0
    ("policy1 = 1.2.3\npolicy1_url = \"\u00fc\"\n", 2),  # certtool: UTF-8 in IA5String
    ("inhibit_anypolicy_skip_certs = abc\n", 1),  # certtool: 0
    ("add_extension = 2.5.29.14 0x0400\n", 1),  # certtool overwrites its own
    ("key_purpose_oid = 1.2.3\nadd_extension = 2.5.29.37 0x3000\n", 2),
    ("add_extension = 2.5.29.17 0x3000\ndns_name = x\n", 1),
    ("policy1 = 1.2.3\nadd_extension = 2.5.29.32 0x3000\n", 2),
    ("cn = \udcff\n", 1),  # not UTF-8
    ("pkcs9_email = \"\u00fc@x\"\n", 1),  # certtool: UTF-8 bytes in an IA5String
]


@pytest.mark.parametrize("text, line", CERTTOOL_REFUSES + WE_REFUSE)
def test_refusals_name_file_and_line(text, line):
    with pytest.raises(ConfigError) as caught:
        read_template(text, PATH)
    assert caught.value.path == PATH and caught.value.line == line
    assert str(caught.value).startswith(f"{PATH}:{line}: ")


@needs_certtool
@pytest.mark.parametrize("text, line", CERTTOOL_REFUSES)
def test_certtool_refuses_too(text, line, tmp_path, certtool_key):
    template = tmp_path / "t.cnf"
    template.write_bytes(text.encode("utf-8"))
    result = subprocess.run(
        ["certtool", "--generate-self-signed", "--load-privkey", str(certtool_key),
         "--template", str(template), "--outfile", str(tmp_path / "c.pem")],
        capture_output=True, timeout=60)
    assert result.returncode != 0
