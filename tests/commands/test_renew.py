"""--renew: replace a self-signed PEM that is due, and nothing else."""

import os
import signal
import stat
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from conftest import BIN, ROOT, data_path
from dane_oracle import strip_fingerprints
from test_check import DAY, HOUR, certificate, rsa_key, write_pem

from mkcert.actions.check import check_pem


@pytest.fixture
def imapd(layout):
    """An OpenSSL-flavour imapd.cnf at 1024 bits (the size changes nothing here)."""
    layout.install_config("imapd", data_path("openssl", "imapd.cnf"), bits=1024)
    return layout


@pytest.fixture
def pem(imapd):
    return imapd.certsdir / "imapd.pem"


def renew(layout, *args, **kwargs):
    result = layout.command("mkimapdcert", "--renew", *args, **kwargs)
    assert "Traceback" not in result.stderr
    return result


def snapshot(path):
    st = os.lstat(path)
    return path.read_bytes(), st.st_ino, st.st_mtime_ns, stat.S_IMODE(st.st_mode)


def assert_renewed_from_config(pem, old_bytes):
    """A new key and certificate from imapd.cnf, the old PEM kept as .old (0600)."""
    data = pem.read_bytes()
    assert data != old_bytes
    result = check_pem(str(pem))
    assert result.key_matches and result.self_signed
    assert "Automatically-generated IMAP SSL key" in result.subject
    old = pem.with_name("imapd.pem.old")
    assert old.read_bytes() == old_bytes
    assert stat.S_IMODE(os.lstat(old).st_mode) == 0o600
    return result


def test_missing_pem_is_a_first_run(imapd, pem):
    result = renew(imapd)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("subject=")
    assert imapd.listing() == ["imapd.pem"]
    assert check_pem(str(pem)).key_matches


def test_not_due_touches_nothing(imapd, pem):
    write_pem(pem, ends=200 * DAY + HOUR, mode=0o640)
    before = snapshot(pem)
    result = renew(imapd)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{pem}: not due for renewal: expires ")
    assert result.stdout.endswith("(200 days left; renewing within 30 days)\n")
    assert snapshot(pem) == before
    assert imapd.listing() == ["imapd.pem"]


def test_due_self_signed_is_renewed_keeping_mode_owner_and_group(imapd, pem):
    write_pem(pem, ends=10 * DAY, mode=0o640)
    group = 8 if os.geteuid() == 0 else os.getegid()  # Debian's root:courier, as far as we can
    os.chown(pem, -1, group)
    old = pem.read_bytes()
    before = os.stat(pem)
    result = renew(imapd)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == (
        f"{pem}: renewed (expires {check_pem_old_expiry(pem)}, within 30 days); "
        f"the previous one is {pem}.old")
    assert result.stdout.splitlines()[1].startswith("subject=C = US")
    renewed = assert_renewed_from_config(pem, old)
    assert renewed.days_left == 364
    after = os.stat(pem)
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (
        0o640, before.st_uid, group)
    assert imapd.listing() == ["imapd.pem", "imapd.pem.old"]


def check_pem_old_expiry(pem):
    from mkcert.actions.check_result import format_moment

    return format_moment(check_pem(str(pem) + ".old").not_after)


@pytest.mark.parametrize("dates", [dict(starts=-400 * DAY, ends=-DAY),
                                   dict(starts=2 * DAY, ends=300 * DAY)],
                         ids=["expired", "not-yet-valid"])
def test_expired_or_not_yet_valid_is_due(imapd, pem, dates):
    write_pem(pem, **dates)
    old = pem.read_bytes()
    assert renew(imapd, "-q").returncode == 0
    assert_renewed_from_config(pem, old)


def test_before_sets_the_window(imapd, pem):
    write_pem(pem, ends=40 * DAY)
    assert "not due" in renew(imapd, "--before", "39").stdout
    old = pem.read_bytes()
    result = renew(imapd, "--before", "40", "-q")
    assert (result.returncode, result.stdout) == (0, "")
    assert_renewed_from_config(pem, old)


def test_force_renews_one_not_due(imapd, pem):
    write_pem(pem)
    old = pem.read_bytes()
    result = renew(imapd, "--force")
    assert result.returncode == 0, result.stderr
    assert "renewed (forced; it expires " in result.stdout
    assert_renewed_from_config(pem, old)


def test_ca_issued_is_refused_unless_forced(imapd, pem):
    cert = certificate(rsa_key("server"), issuer="Test CA", issuer_key=rsa_key("ca"),
                       ends=5 * DAY)
    write_pem(pem, cert=cert)
    before = snapshot(pem)
    refused = renew(imapd)
    assert refused.returncode == 1
    assert refused.stderr == (
        f"mkimapdcert: {pem}: not renewing: issued by O = Courier Mail Server, CN = Test CA, "
        f"not self-signed; a new self-signed certificate would replace what your CA "
        f"issued (--force does that anyway)\n")
    assert snapshot(pem) == before
    assert imapd.listing() == ["imapd.pem"]
    forced = renew(imapd, "--force", "-q")
    assert forced.returncode == 0, forced.stderr
    assert_renewed_from_config(pem, before[0])


def test_symlink_is_refused(imapd, pem, tmp_path):
    target = tmp_path / "managed.pem"
    write_pem(target, ends=DAY)
    before = snapshot(target)
    pem.symlink_to(target)
    for args in ((), ("--force",)):
        result = renew(imapd, *args)
        assert result.returncode == 1
        assert result.stderr == (
            f"mkimapdcert: {pem} is a symbolic link (to {target}); not renewing through "
            f"it: renew the file it points to, or put a regular file in its place\n")
    assert snapshot(target) == before
    assert os.path.islink(pem) and imapd.listing() == ["imapd.pem"]


def test_unusable_pem_is_replaced_only_with_force(imapd, pem):
    pem.touch(mode=0o600)  # what a killed upstream run leaves behind
    refused = renew(imapd)
    assert refused.returncode == 1
    assert "not a PEM file" in refused.stderr and "--force" in refused.stderr
    assert renew(imapd, "--force", "-q").returncode == 0
    assert_renewed_from_config(pem, b"")


def test_exposed_mode_is_not_kept(imapd, pem):
    write_pem(pem, ends=DAY, mode=0o644)
    result = renew(imapd)
    assert result.returncode == 0
    assert f"{pem} was mode 0644; the new one is 0640" in result.stderr
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o640


def test_subject_alt_names_survive_renewal(imapd, pem):
    write_pem(pem, ends=DAY, san=("mail.example.org", "imap.example.org"))
    assert renew(imapd, "-q", "--san", "192.0.2.7").returncode == 0
    renewed = x509.load_pem_x509_certificate(pem.read_bytes())
    names = renewed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(n.value) for n in names] == ["mail.example.org", "imap.example.org",
                                             "192.0.2.7"]


def test_planted_old_symlink_is_replaced_not_followed(imapd, pem, tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep")
    write_pem(pem, ends=DAY)
    old = pem.read_bytes()
    pem.with_name("imapd.pem.old").symlink_to(victim)
    assert renew(imapd, "-q").returncode == 0
    assert victim.read_bytes() == b"keep"
    assert not os.path.islink(pem.with_name("imapd.pem.old"))
    assert_renewed_from_config(pem, old)


def test_renewed_pem_loads_in_tls_and_checks_ok(imapd, pem):
    write_pem(pem, ends=DAY)
    assert renew(imapd, "-q", "--san", "localhost").returncode == 0
    result = imapd.command("mkimapdcert", "--check")
    # The upstream imapd.cnf still says default_md = sha1 and the test made it
    # 1024 bits, but a renewal never makes what --check calls weak.
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith("CERT OK - ")
    assert strip_fingerprints(result.stdout, pem).endswith("(364 days)\n")


def test_signal_during_renewal_leaves_the_old_pem(layout, pem):
    layout.install_config("imapd", data_path("openssl", "imapd.cnf"), bits=4096)
    write_pem(pem, ends=DAY)
    before = snapshot(pem)
    process = layout.popen("mkimapdcert", "--renew")
    rand = layout.certsdir / "imapd.rand"
    deadline = time.monotonic() + 30
    while not rand.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert rand.exists(), "the renewal never reached key generation"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    if process.returncode == 0:
        pytest.skip("the key was ready before the signal arrived")  # pragma: no cover
    assert (process.returncode, stderr) == (1, "mkimapdcert: interrupted by SIGTERM\n")
    assert snapshot(pem) == before
    assert layout.listing() == ["imapd.pem"]


def test_gnutls_template_renewal(layout, pem):
    layout.install_config("imapd", data_path("gnutls", "imapd.cnf"))
    env = dict(layout.env, BITS="1024")
    write_pem(pem, ends=DAY, mode=0o640)
    old = pem.read_bytes()
    result = layout.command("mkimapdcert", "--renew", "-q", env=env)
    assert result.returncode == 0, result.stderr
    assert pem.read_bytes().startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    renewed = assert_renewed_from_config(pem, old)
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o640
    assert renewed.key_bits == 2048  # BITS=1024 is weak: a renewal raises it


def test_private_key_of_the_old_pem_is_what_old_holds(imapd, pem):
    key = rsa_key("server")
    write_pem(pem, key=key, ends=DAY)
    assert renew(imapd, "-q").returncode == 0
    kept = serialization.load_pem_private_key(pem.with_name("imapd.pem.old").read_bytes(), None)
    assert kept.private_numbers() == key.private_numbers()


# -- debian/courier-mkcert-renew-all: what the timer and cron.monthly run --

RENEW_ALL = os.path.join(ROOT, "debian", "courier-mkcert-renew-all")


def test_renew_all_renews_each_present_pem_and_runs_mkdhparams(imapd, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("imapd", "pop3d", "esmtpd"):
        (bindir / f"mk{name}cert").symlink_to(os.path.join(BIN, "mkcouriercert"))
    marker = tmp_path / "mkdhparams-ran"
    (bindir / "mkdhparams").write_text(f"#!/bin/sh\ntouch {marker}\n")
    os.chmod(bindir / "mkdhparams", 0o755)
    imapd.install_config("pop3d", data_path("openssl", "pop3d.cnf"), bits=1024)
    due, fresh = imapd.certsdir / "imapd.pem", imapd.certsdir / "pop3d.pem"
    write_pem(due, ends=DAY, mode=0o640)
    write_pem(fresh, ends=100 * DAY)
    old_fresh = snapshot(fresh)
    env = dict(imapd.env, COURIER_MKCERT_BINDIR=str(bindir))
    result = subprocess.run([RENEW_ALL], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{due}: renewed" in result.stdout
    assert f"{fresh}: not due for renewal" in result.stdout
    assert snapshot(fresh) == old_fresh
    assert marker.exists()
    # esmtpd.pem is absent: no certificate is made for a service not installed.
    assert imapd.listing() == ["imapd.pem", "imapd.pem.old", "pop3d.pem"]
    assert stat.S_IMODE(os.stat(due).st_mode) == 0o640


def test_renew_all_reports_a_refusal_but_renews_the_others(imapd, tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("imapd", "pop3d"):
        (bindir / f"mk{name}cert").symlink_to(os.path.join(BIN, "mkcouriercert"))
    imapd.install_config("pop3d", data_path("openssl", "pop3d.cnf"), bits=1024)
    cert = certificate(rsa_key("server"), issuer="Test CA", issuer_key=rsa_key("ca"), ends=DAY)
    write_pem(imapd.certsdir / "imapd.pem", cert=cert)
    write_pem(imapd.certsdir / "pop3d.pem", ends=DAY)
    env = dict(imapd.env, COURIER_MKCERT_BINDIR=str(bindir))
    result = subprocess.run([RENEW_ALL, "45"], env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1
    assert "not self-signed" in result.stderr
    assert imapd.listing() == ["imapd.pem", "pop3d.pem", "pop3d.pem.old"]
