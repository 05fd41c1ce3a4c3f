"""``--check --ca-file FILE``: the chain in the PEM must end at a certificate FILE trusts.

openssl's ``verify`` is the oracle: whatever it accepts with FILE as
``-CAfile`` (and the PEM's chain as ``-untrusted``), --check accepts too.
"""

import json

import pytest

import pki
from dane_oracle import strip_fingerprints
from conftest import openssl
from test_install import write

DOMAIN = "mail.example.test"


@pytest.fixture
def authority():
    return pki.Pki()


@pytest.fixture
def pem(layout, authority):
    return write(layout.certsdir / "imapd.pem",
                 pki.key_pem(authority.leaf_key) + pki.cert_pem(authority.leaf)
                 + pki.cert_pem(authority.intermediate))


def openssl_verifies(ca_file, pem):
    return openssl("verify", "-CAfile", ca_file, "-untrusted", pem, pem,
                   check=False).returncode == 0


def test_chain_ending_at_a_trusted_root_is_ok(layout, authority, pem, tmp_path):
    other = pki.certificate(pki.key("ec", slot=300), "another root", ca=True)
    bundle = write(tmp_path / "bundle.pem", pki.cert_pem(other) + pki.cert_pem(authority.root),
                   0o644)
    assert openssl_verifies(bundle, pem)
    result = layout.command("mkimapdcert", "--check", "--ca-file", bundle, pem)
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(f"CERT OK - {pem}: CN={DOMAIN} expires ")
    assert f"(chain of 1 verifies, shortest-lived: CN={DOMAIN}, " in result.stdout
    assert strip_fingerprints(result.stdout, pem).endswith(
        f" left); trusted: ends at CN=mkcert test root from {bundle}\n")
    as_json = json.loads(layout.command("mkimapdcert", "--check", "--json", "--ca-file", bundle,
                                        pem).stdout)
    assert as_json["trust_anchor"] == "O = mkcert tests, CN = mkcert test root"
    assert as_json["status"] == "OK"


def test_without_ca_file_the_json_is_as_before(layout, pem):
    as_json = json.loads(layout.command("mkimapdcert", "--check", "--json", pem).stdout)
    assert "trust_anchor" not in as_json


def test_chain_ending_at_an_anchor_itself(layout, authority, pem, tmp_path):
    anchor = write(tmp_path / "intermediate.pem", pki.cert_pem(authority.intermediate), 0o644)
    result = layout.command("mkimapdcert", "--check", "--ca-file", anchor, pem)
    assert result.returncode == 0, result.stdout
    assert "trusted: ends at CN=mkcert test intermediate from " in result.stdout


def test_chain_of_another_ca_is_critical(layout, pem, tmp_path):
    other = write(tmp_path / "other.pem", pki.cert_pem(pki.Pki(slot=1).root), 0o644)
    # Same names, other keys: only the signature tells them apart.
    assert not openssl_verifies(other, pem)
    result = layout.command("mkimapdcert", "--check", "--ca-file", other, pem)
    assert result.returncode == 2
    assert result.stdout.startswith(f"CERT CRITICAL - {pem}: ")
    assert strip_fingerprints(result.stdout, pem).rstrip().endswith(
        f"; no certificate in {other} is or issued the last one of the PEM (O = mkcert tests, "
        f"CN = mkcert test intermediate): clients trusting only those refuse it")


@pytest.mark.parametrize("content, words", [
    (None, "cannot read --ca-file {path}: No such file or directory"),
    (b"no PEM here\n", "--ca-file {path}: no certificate in it (no BEGIN CERTIFICATE block)"),
    (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
     "--ca-file {path}: certificate 1 cannot be read: "),
])
def test_unusable_ca_file_is_unknown(layout, pem, tmp_path, content, words):
    path = tmp_path / "ca.pem"
    if content is not None:
        write(path, content, 0o644)
    result = layout.command("mkimapdcert", "--check", "--ca-file", path, pem)
    assert result.returncode == 3
    assert "\n" not in result.stdout.rstrip("\n")
    assert words.format(path=path) in result.stdout


def test_ca_file_only_goes_with_check(layout, tmp_path):
    result = layout.command("mkimapdcert", "--ca-file", tmp_path / "x")
    assert result.returncode == 2
    assert result.stderr.rstrip().endswith("mkimapdcert: error: --ca-file only goes with --check")
    assert layout.listing() == []
