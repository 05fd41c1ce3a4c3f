"""mkcert.x509.tlsa: TLSA association data equals what openssl's pipelines compute.

Keys and certificates are made by openssl itself (RSA, EC P-256, Ed25519),
so neither side of a comparison comes from the code under test.
"""

import subprocess

import pytest

import dane_oracle
from conftest import openssl
from mkcert.readers.tlsa_records import TlsaRecord
from mkcert.x509 import tlsa
from mkcert.x509.chain import load_certificate

KEYS = {"rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
        "ec-p256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "ed25519": ["-algorithm", "ED25519"]}


@pytest.fixture(params=sorted(KEYS))
def made_by_openssl(request, tmp_path):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    openssl("genpkey", *KEYS[request.param], "-out", key)
    openssl("req", "-x509", "-new", "-key", key, "-out", cert, "-days", "30",
            "-subj", "/CN=mx.example.org", "-addext", "subjectAltName=DNS:mx.example.org")
    yield key, cert
    key.unlink()
    cert.unlink()


def record(usage, selector, matching, data):
    return TlsaRecord("_25._tcp.mx.example.org.", usage, selector, matching, data, "t", 1)


def shell(command):
    return subprocess.run(command, shell=True, capture_output=True, check=True,
                          timeout=60).stdout


def test_spki_sha256_is_the_pipeline_of_the_dane_guides(made_by_openssl):
    key, cert = made_by_openssl
    certificate = load_certificate(cert.read_bytes())
    assert tlsa.spki_sha256_hex(certificate) == dane_oracle.spki_sha256(cert)
    assert tlsa.certificate_association(certificate, tlsa.PUBLIC_KEY, tlsa.SHA512).hex() == (
        dane_oracle.spki_sha512(cert))
    # A key without its certificate (the staged next key) gives the same.
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    staged = load_pem_private_key(key.read_bytes(), None)
    assert tlsa.association(tlsa.key_spki(staged), tlsa.SHA256).hex() == (
        dane_oracle.key_file_spki_sha256(key))


def test_selector_0_and_matching_0_are_the_certificate_and_the_key_themselves(made_by_openssl):
    key, cert = made_by_openssl
    certificate = load_certificate(cert.read_bytes())
    der = shell(f"openssl x509 -in {cert} -outform DER")
    spki = shell(f"openssl x509 -in {cert} -noout -pubkey | openssl pkey -pubin -outform DER")
    assert tlsa.certificate_association(certificate, tlsa.FULL_CERTIFICATE, tlsa.EXACT) == der
    assert tlsa.certificate_association(certificate, tlsa.PUBLIC_KEY, tlsa.EXACT) == spki
    full_sha256 = shell(f"openssl x509 -in {cert} -outform DER | sha256sum").split()[0]
    assert tlsa.certificate_association(
        certificate, tlsa.FULL_CERTIFICATE, tlsa.SHA256).hex().encode() == full_sha256


def test_records_match_the_certificate_or_key_they_describe(made_by_openssl):
    _, cert = made_by_openssl
    certificate = load_certificate(cert.read_bytes())
    digest = bytes.fromhex(dane_oracle.spki_sha256(cert))
    spki = tlsa.certificate_association(certificate, tlsa.PUBLIC_KEY, tlsa.EXACT)
    assert tlsa.matches_certificate(record(3, 1, 1, digest), certificate)
    assert tlsa.matches_key(record(3, 1, 1, digest), spki)
    assert not tlsa.matches_certificate(record(3, 1, 1, bytes(32)), certificate)
    assert not tlsa.matches_certificate(record(3, 0, 1, digest), certificate)  # not the cert's
    assert not tlsa.matches_key(record(3, 0, 1, digest), spki)  # a key has no certificate yet
    # Usages, selectors and matching types RFC 6698 does not define are unusable.
    assert not tlsa.matches_certificate(record(4, 1, 1, digest), certificate)
    assert not tlsa.matches_certificate(record(3, 2, 1, digest), certificate)
    assert not tlsa.matches_certificate(record(3, 1, 3, digest), certificate)
