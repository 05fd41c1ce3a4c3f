"""Weak choices of a .cnf: a first run follows them and says so; --renew never makes them.

Both say it in one line, once the PEM is in place: a run that fails says
only why it failed.

"Weak" is what --check says WARNING about (signed with md5 or sha1, RSA
under 2048 bits): each test asks --check about the result, and openssl
about the certificate itself.
"""

import os

import pytest

from conftest import data_path, openssl

UPSTREAM = data_path("openssl", "imapd.cnf")


def line_of(path, text):
    return open(path).read().splitlines().index(text) + 1


def signature_and_bits(pem):
    text = openssl("x509", "-in", pem, "-noout", "-text").stdout
    algorithm = text.split("Signature Algorithm: ", 1)[1].split("\n", 1)[0]
    bits = text.split("Public-Key: (", 1)[1].split(" bit", 1)[0]
    return algorithm, int(bits)


@pytest.fixture
def weak(layout):
    """Upstream's imapd.cnf (default_md = sha1) at 1024 bits."""
    config = layout.install_config("imapd", UPSTREAM, bits=1024)
    return layout, config


def test_first_run_follows_the_cnf_and_names_each_weak_setting_in_one_line(weak):
    layout, config = weak
    result = layout.command("mkimapdcert")
    pem = layout.certsdir / "imapd.pem"
    assert result.returncode == 0, result.stderr
    md, bits = line_of(config, "default_md = sha1"), line_of(config, "default_bits = 1024")
    assert result.stderr.splitlines() == [
        f"mkimapdcert: warning: {config}:{md}: default_md = sha1: a signature with sha1; "
        f"{config}:{bits}: default_bits = 1024: an RSA key of 1024 bits: --check calls these "
        f"weak; made as the .cnf says, as Courier's script would (set default_md = sha256 and "
        f"default_bits = 2048, or replace it later with --renew --upgrade)"]
    assert signature_and_bits(pem) == ("sha1WithRSAEncryption", 1024)
    check = layout.command("mkimapdcert", "--check")
    assert "signed with sha1" in check.stdout and "RSA key of 1024 bits" in check.stdout
    os.remove(pem)


def test_quiet_first_run_says_nothing(weak):
    layout, _ = weak
    result = layout.command("mkimapdcert", "-q")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    os.remove(layout.certsdir / "imapd.pem")


def test_renew_raises_weak_choices_and_says_so(weak):
    layout, config = weak
    pem = layout.certsdir / "imapd.pem"
    assert layout.command("mkimapdcert", "-q").returncode == 0
    result = layout.command("mkimapdcert", "--renew", "--force")
    assert result.returncode == 0, result.stderr
    md, bits = line_of(config, "default_md = sha1"), line_of(config, "default_bits = 1024")
    assert result.stderr.splitlines() == [
        f"mkimapdcert: warning: {config}:{md}: default_md = sha1: renewed with sha256, not "
        f"sha1; {config}:{bits}: default_bits = 1024: renewed with an RSA key of 2048 bits, "
        f"not 1024 (--renew never makes what --check calls weak)"]
    assert signature_and_bits(pem) == ("sha256WithRSAEncryption", 2048)
    check = layout.command("mkimapdcert", "--check")
    assert "sha1" not in check.stdout and "bits" not in check.stdout
    for name in layout.listing():
        os.remove(layout.certsdir / name)


def test_renew_keeps_stronger_choices(layout):
    text = open(UPSTREAM).read().replace("default_md = sha1", "default_md = sha384")
    layout.install_config("imapd", None, text=text, bits=3072)
    pem = layout.certsdir / "imapd.pem"
    assert layout.command("mkimapdcert", "-q").returncode == 0
    result = layout.command("mkimapdcert", "--renew", "--force")
    assert result.returncode == 0 and result.stderr == ""
    assert signature_and_bits(pem) == ("sha384WithRSAEncryption", 3072)
    for name in layout.listing():
        os.remove(layout.certsdir / name)


def test_certtool_bits_from_the_environment_are_raised_on_renewal(layout):
    layout.install_config("imapd", data_path("gnutls", "imapd.cnf"))
    env = dict(layout.env, BITS="low")
    pem = layout.certsdir / "imapd.pem"
    first = layout.command("mkimapdcert", env=env)
    assert first.returncode == 0
    assert first.stderr.splitlines() == [
        "mkimapdcert: warning: the environment: BITS=low: an RSA key of 1024 bits: --check "
        "calls this weak; made as the .cnf says, as Courier's script would (set BITS=high, "
        "or replace it later with --renew --upgrade)"]
    renewed = layout.command("mkimapdcert", "-q", "--renew", "--force", env=env)
    assert renewed.returncode == 0
    assert signature_and_bits(pem) == ("sha256WithRSAEncryption", 2048)
    for name in layout.listing():
        os.remove(layout.certsdir / name)


def test_upgrade_replaces_a_weak_certificate_that_is_not_due(weak):
    layout, _ = weak
    pem = layout.certsdir / "imapd.pem"
    assert layout.command("mkimapdcert", "-q").returncode == 0
    not_due = layout.command("mkimapdcert", "--renew")
    assert not_due.returncode == 0 and "not due for renewal" in not_due.stdout
    result = layout.command("mkimapdcert", "-q", "--renew", "--upgrade")
    assert result.returncode == 0
    check = layout.command("mkimapdcert", "--check")
    assert check.returncode == 0, check.stdout  # OK: nothing weak is left
    assert "DNS:localhost" in openssl("x509", "-in", pem, "-noout", "-ext",
                                      "subjectAltName").stdout
    assert (layout.certsdir / "imapd.pem.old").exists()
    # A strong certificate is not due for an upgrade.
    again = layout.command("mkimapdcert", "--renew", "--upgrade")
    assert again.returncode == 0 and "not due for renewal" in again.stdout
    for name in layout.listing():
        os.remove(layout.certsdir / name)


def test_upgrade_says_why(weak):
    layout, _ = weak
    pem = layout.certsdir / "imapd.pem"
    assert layout.command("mkimapdcert", "-q").returncode == 0
    result = layout.command("mkimapdcert", "--renew", "--upgrade")
    assert result.stdout.splitlines()[0] == (
        f"{pem}: renewed (upgrading a weak certificate: signed with sha1, an RSA key of 1024 "
        f"bits, no subjectAltName for the stock CN=localhost); the previous one is {pem}.old")
    for name in layout.listing():
        os.remove(layout.certsdir / name)


def test_reused_weak_key_is_refused(weak):
    layout, _ = weak
    pem = layout.certsdir / "imapd.pem"
    assert layout.command("mkimapdcert", "-q").returncode == 0
    before = pem.read_bytes()
    result = layout.command("mkimapdcert", "--renew", "--force", "--reuse-key")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.splitlines()[-1] == (
        f"mkimapdcert: {pem}: the current key is RSA of 1024 bits, which --check calls weak; "
        f"not certifying it again (renew with a new key, without --reuse-key or --rollover)")
    assert pem.read_bytes() == before and layout.listing() == ["imapd.pem"]
    os.remove(pem)


def test_ed25519_warns_once_about_clients(layout):
    layout.install_config("imapd", UPSTREAM)
    result = layout.command("mkimapdcert", "--key-type", "ed25519")
    assert result.returncode == 0
    assert result.stderr == ("mkimapdcert: warning: an Ed25519 key: many mail clients cannot "
                             "use it yet (--key-type ec is the widely supported choice)\n")
    os.remove(layout.certsdir / "imapd.pem")


def test_key_type_from_the_environment_and_the_option_wins(layout):
    layout.install_config("imapd", UPSTREAM, bits=1024)
    pem = layout.certsdir / "imapd.pem"
    env = dict(layout.env, COURIER_KEY_TYPE="ec:P-384")
    assert layout.command("mkimapdcert", "-q", env=env).returncode == 0
    assert "NIST CURVE: P-384" in openssl("x509", "-in", pem, "-noout", "-text").stdout
    os.remove(pem)
    assert layout.command("mkimapdcert", "-q", "--key-type", "ec", env=env).returncode == 0
    assert "NIST CURVE: P-256" in openssl("x509", "-in", pem, "-noout", "-text").stdout
    os.remove(pem)
    bad = layout.command("mkimapdcert", env=dict(layout.env, COURIER_KEY_TYPE="dsa"))
    assert (bad.returncode, bad.stdout) == (1, "")
    assert bad.stderr == ("mkimapdcert: COURIER_KEY_TYPE: key type 'dsa' is not rsa[:BITS], "
                          "ec[:P-256|P-384|P-521] or ed25519\n")
    assert layout.listing() == []
