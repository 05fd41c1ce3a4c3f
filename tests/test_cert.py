"""The certificate builder, checked with the openssl binary."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conftest import openssl
from mkcert import der, report
from mkcert.cert import build_certificate, certificate_pem
from mkcert.errors import MkcertError
from mkcert.keys import generate_key, private_key_pem
from mkcert.request import (IA5_STRING, PRINTABLE_STRING, Attribute, CertRequest,
                            Extension, KeySpec)

SUBJECT = (
    (Attribute("2.5.4.6", "US", PRINTABLE_STRING),),
    (Attribute("2.5.4.10", "Courier Mail Server"),),
    (Attribute("2.5.4.3", "localhost"),),
    (Attribute("1.2.840.113549.1.9.1", "postmaster@example.com", IA5_STRING),),
)
NS_CERT_TYPE_SERVER = Extension("2.16.840.1.113730.1.1", der=der.named_bits([1]))


@pytest.fixture(scope="module")
def key():
    return generate_key(KeySpec(bits=1024))


def write(tmp_path, key, certificate, spec=KeySpec()):
    path = tmp_path / "x.pem"
    path.write_bytes(private_key_pem(key, spec) + certificate_pem(certificate))
    return path


@pytest.mark.parametrize("digest, name", [
    ("sha1", "sha1WithRSAEncryption"),
    ("md5", "md5WithRSAEncryption"),
    ("sha256", "sha256WithRSAEncryption"),
    ("sha512", "sha512WithRSAEncryption"),
])
def test_digest_is_honoured_and_signature_verifies(tmp_path, key, digest, name):
    # cryptography >= 39 refuses sha1 and md5 in its builder; upstream's
    # imapd.cnf asks for sha1, so the legacy path must produce a valid cert.
    request = CertRequest(subject=SUBJECT, digest=digest, extensions=(NS_CERT_TYPE_SERVER,))
    path = write(tmp_path, key, build_certificate(request, key))
    text = openssl("x509", "-in", path, "-noout", "-text").stdout
    assert f"Signature Algorithm: {name}" in text
    verify = openssl("verify", "-auth_level", "0", "-CAfile", path, path, check=False)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_self_signed_v3_with_random_159_bit_serial(key):
    request = CertRequest(subject=SUBJECT, extensions=(NS_CERT_TYPE_SERVER,))
    serials = {build_certificate(request, key).serial_number for _ in range(8)}
    assert len(serials) == 8
    assert all(0 < s < 2 ** 159 for s in serials)
    certificate = build_certificate(request, key)
    assert certificate.version == x509.Version.v3
    assert certificate.issuer == certificate.subject


def test_validity_is_now_plus_days():
    now = datetime.datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=datetime.timezone.utc)
    start, end = CertRequest(subject=SUBJECT, days=10).validity(now)
    assert start == now.replace(microsecond=0)
    assert end - start == datetime.timedelta(days=10)


def test_validity_past_year_9999_is_refused():
    with pytest.raises(MkcertError, match="9999"):
        CertRequest(subject=SUBJECT, days=3_000_000).validity()


def test_explicit_dates_win_over_days(key):
    start = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)
    end = datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)
    certificate = build_certificate(
        CertRequest(subject=SUBJECT, not_before=start, not_after=end), key)
    tbs = certificate.tbs_certificate_bytes
    assert b"99991231235959Z" in tbs  # GeneralizedTime, as RFC 5280 requires
    assert b"300101000000Z" in tbs  # UTCTime before 2050


def test_derived_extension_sees_the_key(key):
    seen = []

    def derive(context):
        seen.append(context)
        return der.octet_string(b"\x01\x02")

    request = CertRequest(subject=SUBJECT, extensions=(
        Extension("2.5.29.14", derive=derive), Extension("2.5.29.35", derive=lambda c: None)))
    certificate = build_certificate(request, key)
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    assert seen[0].public_key_info == spki
    assert spki.endswith(seen[0].public_key_bits)
    assert seen[0].serial == certificate.serial_number
    assert seen[0].subject == certificate.subject.public_bytes()
    assert [e.oid.dotted_string for e in certificate.extensions] == ["2.5.29.14"]


def test_summary_lines_match_openssl_x509(tmp_path, key):
    request = CertRequest(subject=SUBJECT + ((Attribute("2.5.4.7", "New York"),),))
    path = write(tmp_path, key, build_certificate(request, key))
    expected = openssl("x509", "-subject", "-dates", "-fingerprint", "-noout",
                       "-in", path).stdout.splitlines()
    certificate = x509.load_pem_x509_certificate(path.read_bytes())
    assert report.summary_lines(certificate) == expected


def test_pkcs8_and_pkcs1_key_formats(key):
    assert private_key_pem(key, KeySpec()).startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert private_key_pem(key, KeySpec(pem_format="pkcs1")).startswith(
        b"-----BEGIN RSA PRIVATE KEY-----\n")


def test_no_extensions_makes_version_1_as_openssl_does(tmp_path, key):
    config = tmp_path / "v1.cnf"
    config.write_text("[req]\nprompt = no\ndistinguished_name = dn\n[dn]\nCN = x\n")
    theirs = tmp_path / "theirs.pem"
    openssl("req", "-new", "-x509", "-nodes", "-newkey", "rsa:1024", "-config", config,
            "-keyout", theirs, "-out", theirs)
    assert "Version: 1 (0x0)" in openssl("x509", "-in", theirs, "-noout", "-text").stdout
    ours = build_certificate(CertRequest(subject=SUBJECT), key)
    assert ours.version == x509.Version.v1
    path = write(tmp_path, key, ours)
    assert "Version: 1 (0x0)" in openssl("x509", "-in", path, "-noout", "-text").stdout
