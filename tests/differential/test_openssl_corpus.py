"""Every config in tests/openssl_corpus/ against `openssl req -new -x509`.

OpenSSL is the oracle: a config it refuses must raise ConfigError here; one
it accepts must give the same subject, extensions, digest, key size and
validity (see tests/openssl_corpus/oracle.py).  The configs in Courier's
shapes (tests/data/) are part of the run, with 1024-bit keys instead of 4096.
"""

import glob
import os
import sys

import pytest

from conftest import ROOT  # noqa: E402

HERE = os.path.join(ROOT, "tests")  # the tests directory
CORPUS = os.path.join(HERE, "openssl_corpus")
sys.path.insert(0, CORPUS)

import oracle  # noqa: E402
from conftest import data_files  # noqa: E402

COURIER_SHAPED = data_files("openssl") + data_files("howto")


@pytest.fixture(scope="session", autouse=True)
def report_openssl_version():
    print(f"\ncomparing with {oracle.openssl_version()}")


def corpus_files():
    return sorted(glob.glob(os.path.join(CORPUS, "*.cnf")))


@pytest.mark.parametrize("path", corpus_files(), ids=[os.path.basename(p) for p in corpus_files()])
def test_corpus_config_matches_openssl(path):
    case = oracle.Case.from_file(path)
    try:
        problems = oracle.compare(case)
    except oracle.BuilderLimitation as limitation:
        # The request is right (its subject matched OpenSSL's) but
        # mkcert.x509.certificate cannot build it yet: see the xfail reason.
        pytest.xfail(f"mkcert.x509.certificate cannot build this request: {limitation.args[1]}")
    assert not problems, f"{oracle.openssl_version()}: {path}: " + "; ".join(problems)


@pytest.mark.parametrize("path", COURIER_SHAPED,
                         ids=["/".join(p.split(os.sep)[-2:]) for p in COURIER_SHAPED])
def test_courier_shaped_config_matches_openssl(path):
    with open(path, encoding="utf-8", errors="surrogateescape") as handle:
        text = handle.read().replace("default_bits = 4096", "default_bits = 1024")
    case = oracle.Case(text, os.path.basename(path), keygen=True)
    problems = oracle.compare(case)
    assert not problems, f"{oracle.openssl_version()}: {path}: " + "; ".join(problems)


def test_summary_lines_equal_openssl_x509_output(tmp_path):
    """report.summary_lines prints what `openssl x509 -subject -dates -fingerprint` does."""
    import subprocess

    from cryptography.hazmat.primitives import serialization

    from mkcert.x509.inspect import summary_lines

    with open(COURIER_SHAPED[0], encoding="utf-8", errors="surrogateescape") as handle:
        text = handle.read()
    case = oracle.Case(text, "summary.cnf")
    _, certificate = oracle.run_ours(case)
    pem = tmp_path / "cert.pem"
    pem.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    expected = subprocess.run(
        ["openssl", "x509", "-subject", "-dates", "-fingerprint", "-noout", "-in", str(pem)],
        capture_output=True, text=True, check=True).stdout.splitlines()
    assert summary_lines(certificate) == expected, oracle.openssl_version()


# -- The comparison itself: authorityKeyIdentifier with a random serial ------

# 159 random bits encode in 20 octets, or fewer when the top bits are zero
# (one run in 128 for 19): two certificates need not agree on the length.
SERIAL_OF_20_OCTETS = (1 << 158) | 0x5A5A
SERIAL_OF_19_OCTETS = (1 << 150) | 0x5A5A


@pytest.mark.parametrize("name, fields", [
    # "keyid" without a subjectKeyIdentifier to copy: issuer and serial instead.
    ("ext_aki_keyid_issuer.cnf", ["authorityCertIssuer", "authorityCertSerialNumber"]),
    ("ext_aki_issuer_always.cnf",
     ["keyIdentifier", "authorityCertIssuer", "authorityCertSerialNumber"]),
])
def test_aki_serials_of_different_lengths_compare_alike(name, fields):
    from mkcert.x509.certificate import build_certificate

    request, _ = oracle.run_ours(oracle.Case.from_file(os.path.join(CORPUS, name)))
    long, short = (build_certificate(request.replace(serial=serial), oracle.fixed_key()[0])
                   for serial in (SERIAL_OF_20_OCTETS, SERIAL_OF_19_OCTETS))
    assert oracle.extension_list(long) == oracle.extension_list(short)
    aki = dict(next(value for oid, _, value in oracle.extension_list(long)
                    if oid == "2.5.29.35"))
    assert list(aki) == fields
    assert aki["authorityCertSerialNumber"] == "own serial"
    assert aki.get("keyIdentifier", "sha1(public key bits)") == "sha1(public key bits)"


def _self_signed_with_aki(serial, aki_serial):
    """A certificate whose authorityKeyIdentifier names the serial given."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = oracle.fixed_key()[0]
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "aki.example")])
    start = datetime.datetime(2026, 1, 1)
    identifier = x509.SubjectKeyIdentifier.from_public_key(key.public_key()).digest
    aki = x509.AuthorityKeyIdentifier(identifier, [x509.DirectoryName(name)], aki_serial)
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(serial)
            .not_valid_before(start).not_valid_after(start + datetime.timedelta(days=30))
            .add_extension(aki, critical=False)
            .sign(key, hashes.SHA256()))


def test_aki_serial_must_be_the_certificates_own():
    import certdiff

    right = _self_signed_with_aki(SERIAL_OF_20_OCTETS, SERIAL_OF_20_OCTETS)
    also_right = _self_signed_with_aki(SERIAL_OF_19_OCTETS, SERIAL_OF_19_OCTETS)
    wrong = _self_signed_with_aki(SERIAL_OF_20_OCTETS, SERIAL_OF_20_OCTETS + 1)
    for listing in (oracle.extension_list, certdiff.extension_summary):
        assert listing(right) == listing(also_right)
        assert listing(right) != listing(wrong)
