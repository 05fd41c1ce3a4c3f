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

HERE = os.path.dirname(os.path.abspath(__file__))
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
        # mkcert.cert cannot build it yet: see the xfail reason.
        pytest.xfail(f"mkcert.cert cannot build this request: {limitation.args[1]}")
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

    from mkcert.report import summary_lines

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

