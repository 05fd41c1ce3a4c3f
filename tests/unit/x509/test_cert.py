"""The certificate builder, checked with the openssl binary."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conftest import openssl
from mkcert.asn1 import der
from mkcert.x509 import inspect as report
from mkcert.x509.certificate import build_certificate, certificate_pem
from mkcert.errors import MkcertError
from mkcert.x509.keys import generate_key, private_key_pem
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


# The key and public-key encodings are ours (mkcert.x509.keys), so that the
# command never imports cryptography's serialization package.
# They must be byte for byte what cryptography, i.e. OpenSSL, writes, on
# both supported stacks (this module also runs on Debian's cryptography 38).

ENCODING_KEY_SIZES = [1024, 1040, 1536, 2048, 3072, 4096]


@pytest.fixture(scope="module")
def keys_of_every_size():
    from cryptography.hazmat.primitives.asymmetric import rsa

    sized = [rsa.generate_private_key(65537, bits) for bits in ENCODING_KEY_SIZES]
    # Many small keys, so that CRT numbers with leading zero bytes (shorter
    # than usual) and with the top bit set (a 0x00 pad) both occur.
    return sized + [rsa.generate_private_key(65537, 1024) for _ in range(24)]


@pytest.mark.parametrize("pem_format, private_format", [
    ("pkcs8", "PKCS8"), ("pkcs1", "TraditionalOpenSSL")])
def test_private_key_pem_is_what_private_bytes_writes(keys_of_every_size, pem_format,
                                                      private_format):
    fmt = getattr(serialization.PrivateFormat, private_format)
    for key in keys_of_every_size:
        theirs = key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())
        assert private_key_pem(key, KeySpec(pem_format=pem_format)) == theirs, key.key_size


def test_private_key_der_is_what_private_bytes_writes(keys_of_every_size):
    from mkcert.x509.keys import pkcs8_der, rsa_private_key_der

    for key in keys_of_every_size:
        pkcs1 = rsa_private_key_der(key.private_numbers())
        assert pkcs1 == key.private_bytes(serialization.Encoding.DER,
                                          serialization.PrivateFormat.TraditionalOpenSSL,
                                          serialization.NoEncryption())
        assert pkcs8_der(pkcs1) == key.private_bytes(serialization.Encoding.DER,
                                                     serialization.PrivateFormat.PKCS8,
                                                     serialization.NoEncryption())


def test_public_key_info_is_what_public_bytes_writes(keys_of_every_size):
    from mkcert.x509.keys import public_key_info

    for key in keys_of_every_size:
        public = key.public_key()
        assert public_key_info(public.public_numbers()) == public.public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def test_key_pem_loads_back_and_openssl_reads_it(tmp_path, key):
    for spec in (KeySpec(), KeySpec(pem_format="pkcs1")):
        data = private_key_pem(key, spec)
        loaded = serialization.load_pem_private_key(data, None)
        assert loaded.private_numbers() == key.private_numbers()
        path = tmp_path / f"{spec.pem_format}.pem"
        path.write_bytes(data)
        assert openssl("rsa", "-in", path, "-check", "-noout").stdout.strip() == "RSA key ok"


def test_digest_is_hashlibs():
    import hashlib

    from mkcert.x509.digests import digest

    for name in ("sha1", "sha256", "sha384", "md5"):
        for data in (b"", b"x", bytes(range(256)) * 5):
            assert digest(name, data) == hashlib.new(name, data).digest()


@pytest.mark.parametrize("encoded, expected", [
    (b"\x17\x0d500101000000Z", datetime.datetime(1950, 1, 1, tzinfo=datetime.timezone.utc)),
    (b"\x17\x0d491231235959Z",
     datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)),
    (b"\x17\x0d260229120000Z", None),  # 2026 is no leap year
    (b"\x18\x0f20500101000000Z", datetime.datetime(2050, 1, 1, tzinfo=datetime.timezone.utc)),
    (b"\x18\x0f99991231235959Z",
     datetime.datetime(9999, 12, 31, 23, 59, 59, tzinfo=datetime.timezone.utc)),
    (b"\x18\x0f2050010100000+Z", None),
    (b"\x18\x0f205001010000001", None),
    (b"\x17\x0b5001010000Z", None),  # no seconds: not DER
    (b"\x18\x1120500101000000.5Z", None),
])
def test_times_are_read_from_der_digits(encoded, expected):
    if expected is None:
        with pytest.raises(ValueError):
            report._parse_time(encoded)
    else:
        assert report._parse_time(encoded) == expected


def test_key_context_carries_both_tools_key_identifiers():
    """RFC 5280 method 1 (OpenSSL) and SHA-1 over the whole SPKI (GnuTLS), checked by hashlib."""
    import hashlib

    from mkcert.x509.certificate import key_context

    key = generate_key(KeySpec(bits=1024))
    context = key_context(key.public_key(), b"\x30\x00", 7)
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    assert context.public_key_info == spki
    assert context.public_key_info_sha1 == hashlib.sha1(spki).digest()
    assert context.public_key_bits_sha1 == hashlib.sha1(context.public_key_bits).digest()
    assert spki.endswith(context.public_key_bits)
