"""--san: subjectAltName entries as openssl -addext and certtool put them."""

import ipaddress
import shutil
import subprocess

import pytest
from cryptography import x509

from certdiff import describe, load
from conftest import data_path, openssl

from mkcert.asn1 import der
from mkcert.readers import san
from mkcert.x509.inspect import subject_alt_names

UPSTREAM_IMAPD = ("openssl", "imapd.cnf")


def general_names(*names):
    """What cryptography encodes for the same names: the independent oracle."""
    return x509.SubjectAlternativeName(list(names)).public_bytes()


@pytest.mark.parametrize("text, expected", [
    ("mail.example.org", x509.DNSName("mail.example.org")),
    ("*.example.org", x509.DNSName("*.example.org")),
    ("localhost", x509.DNSName("localhost")),
    ("DNS:mail.example.org", x509.DNSName("mail.example.org")),
    ("dns:MAIL.example.org", x509.DNSName("MAIL.example.org")),
    ("192.0.2.1", x509.IPAddress(ipaddress.ip_address("192.0.2.1"))),
    ("IP:2001:db8::25", x509.IPAddress(ipaddress.ip_address("2001:db8::25"))),
    ("::1", x509.IPAddress(ipaddress.ip_address("::1"))),
    ("postmaster@example.org", x509.RFC822Name("postmaster@example.org")),
    ("email:postmaster@example.org", x509.RFC822Name("postmaster@example.org")),
    ("URI:https://mail.example.org/", x509.UniformResourceIdentifier(
        "https://mail.example.org/")),
])
def test_each_name_is_the_general_name_cryptography_encodes(text, expected):
    assert san.merge(None, [san.general_name(text)]) == general_names(expected)


@pytest.mark.parametrize("text", [
    "", "bad name", "-mail.example.org", "mail..example.org", "mail.example.org.",
    "m\u00fcller.example", "a" * 64 + ".example", "IP:300.1.1.1", "IP:mail.example.org",
    "email:nobody", "email:@example.org", "DNS:", "*.*.example.org", "mail_1.example.org",
    "URI:not a uri"])
def test_invalid_names_are_refused(text):
    with pytest.raises(san.SanError):
        san.general_name(text)


@pytest.mark.parametrize("text", ["bad name", "IP:300.1.1.1", "email:nobody"])
def test_invalid_name_is_a_usage_error_before_any_file(layout, text):
    layout.install_config("imapd", data_path(*UPSTREAM_IMAPD), bits=1024)
    result = layout.command("mkimapdcert", "--san", "ok.example", "--san", text)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1].startswith(
        f"mkimapdcert: error: argument --san: {text!r}: not ")
    assert "Traceback" not in result.stderr
    assert layout.listing() == []


def test_merge_keeps_order_and_drops_repeats():
    existing = general_names(x509.DNSName("a.example"), x509.RFC822Name("x@a.example"))
    merged = san.merge(existing, [san.general_name("b.example"),
                                  san.general_name("a.example")])
    assert merged == general_names(x509.DNSName("a.example"),
                                   x509.RFC822Name("x@a.example"), x509.DNSName("b.example"))


def test_certtool_order_groups_by_type():
    mixed = general_names(x509.RFC822Name("x@a.example"),
                          x509.IPAddress(ipaddress.ip_address("192.0.2.1")),
                          x509.DNSName("b.example"), x509.DNSName("a.example"))
    assert san.certtool_order(mixed) == general_names(
        x509.DNSName("b.example"), x509.DNSName("a.example"),
        x509.IPAddress(ipaddress.ip_address("192.0.2.1")), x509.RFC822Name("x@a.example"))


# -- OpenSSL flavour: the same certificate as `openssl req -addext` --------

SAN_ARGS = ["mail.example.org", "192.0.2.25", "IP:2001:db8::25", "email:postmaster@example.org"]
ADDEXT = "DNS:mail.example.org,IP:192.0.2.25,IP:2001:db8::25,email:postmaster@example.org"


def cnf_with(extension_lines):
    text = open(data_path(*UPSTREAM_IMAPD)).read().replace("default_bits = 4096",
                                                           "default_bits = 1024")
    text = text.replace("RANDFILE = /etc/courier/imapd.rand\n", "")
    return text.replace("nsCertType = server", "\n".join(extension_lines or []))


@pytest.mark.parametrize("lines, addext", [
    (["nsCertType = server"], ADDEXT),
    # openssl's -addext replaces a config's own subjectAltName (and moves it
    # to the end); we merge, so the oracle is given both lists.
    (["nsCertType = server", "subjectAltName = DER:" + general_names(
        x509.DNSName("cfg.example")).hex(), "keyUsage = digitalSignature"],
     "DNS:cfg.example," + ADDEXT),
    (["subjectKeyIdentifier = hash", "nsCertType = server"], ADDEXT),
    (["basicConstraints = CA:FALSE", "extendedKeyUsage = serverAuth"], ADDEXT),
    (None, ADDEXT),
], ids=["stock", "config-san", "explicit-ski", "bc-eku", "no-extensions"])
def test_openssl_flavour_matches_openssl_req_addext(layout, tmp_path, lines, addext):
    text = cnf_with(lines)
    if lines is None:  # no x509_extensions section at all
        text = text.replace("x509_extensions = cert_type\n", "")
    config = layout.install_config("imapd", None, text=text)
    theirs = tmp_path / "theirs.pem"
    openssl("req", "-new", "-x509", "-nodes", "-days", "365", "-config", config, "-out", theirs,
            "-keyout", theirs, "-addext", f"subjectAltName={addext}")
    args = [a for name in SAN_ARGS for a in ("--san", name)]
    result = layout.command("mkimapdcert", "-q", *args)
    assert result.returncode == 0, result.stderr
    assert describe(load(layout.certsdir / "imapd.pem")[1]) == describe(load(theirs)[1])


# -- GnuTLS flavour: the same certificate as certtool with name lines ------

needs_certtool = pytest.mark.skipif(shutil.which("certtool") is None,
                                    reason="certtool (gnutls-bin) is not installed")

DEBIAN_TEMPLATE = open(data_path("gnutls", "imapd.cnf")).read()
BARE_TEMPLATE = 'cn = "localhost"\nserial = 7\nexpiration_days = 365\n'


@needs_certtool
@pytest.mark.parametrize("template", [
    DEBIAN_TEMPLATE,  # has email = ...: merged into the one subjectAltName
    BARE_TEMPLATE,
    BARE_TEMPLATE + "tls_www_server\nencryption_key\nsigning_key\n",
    BARE_TEMPLATE + "tls_www_server\ntls_www_client\n",
    BARE_TEMPLATE + 'dns_name = "cfg.example"\nip_address = "192.0.2.9"\n',
], ids=["debian", "bare", "server", "server-client", "template-names"])
def test_gnutls_flavour_matches_certtool_with_name_lines(layout, tmp_path, template):
    layout.install_config("imapd", None, text=template)
    names = ["--san", "mail.example.org", "--san", "192.0.2.25", "--san", "b.example"]
    lines = 'dns_name = "mail.example.org"\nip_address = "192.0.2.25"\ndns_name = "b.example"\n'
    if "tls_www_server" not in template:
        # certtool drops template e-mail names from a server certificate; a
        # name asked for with --san is kept (see test_server_keeps_asked_email).
        names += ["--san", "email:x@example.org"]
        lines += 'email = "x@example.org"\n'
    result = layout.command("mkimapdcert", "-q", *names, env=dict(layout.env, BITS="1024"))
    assert result.returncode == 0, result.stderr
    with_lines = tmp_path / "with-lines.cnf"
    with_lines.write_text(template + lines)
    key, theirs = tmp_path / "key.pem", tmp_path / "theirs.pem"
    subprocess.run(["certtool", "--generate-privkey", "--bits", "1024", "--outfile", key],
                   check=True, capture_output=True)
    subprocess.run(["certtool", "--generate-self-signed", "--load-privkey", key,
                    "--template", with_lines, "--outfile", theirs],
                   check=True, capture_output=True)
    assert describe(load(layout.certsdir / "imapd.pem")[1]) == describe(load(theirs)[1])


def test_subject_alt_names_round_trip(layout):
    layout.install_config("imapd", data_path(*UPSTREAM_IMAPD), bits=1024)
    assert layout.command("mkimapdcert", "-q", "--san", "a.example", "--san", "::1").returncode == 0
    _, certificate = load(layout.certsdir / "imapd.pem")
    assert subject_alt_names(certificate) == [
        san.general_name("a.example"), san.general_name("::1")]
    _, start, end = der.read_tlv(san.merge(None, subject_alt_names(certificate)))
    assert start == 2


def test_server_keeps_asked_email(layout):
    layout.install_config("imapd", None, text=BARE_TEMPLATE + "tls_www_server\n")
    result = layout.command("mkimapdcert", "-q", "--san", "x@example.org",
                            env=dict(layout.env, BITS="1024"))
    assert result.returncode == 0, result.stderr
    _, certificate = load(layout.certsdir / "imapd.pem")
    assert subject_alt_names(certificate) == [san.general_name("email:x@example.org")]
