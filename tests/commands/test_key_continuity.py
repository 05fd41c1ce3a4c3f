"""Key continuity: --reuse-key, --stage-next-key, --renew --rollover, --install of the staged key.

A DANE 3 1 1 record is the SHA-256 of the served key's SubjectPublicKeyInfo,
computed here as the issue asks: ``openssl x509 -pubkey | openssl pkey
-pubin -outform DER | sha256sum`` (openssl is the oracle, never our code).
"""

import hashlib
import os
import stat
import subprocess
import threading

import pytest

from conftest import data_path, openssl


@pytest.fixture
def imapd(layout):
    text = open(data_path("openssl", "imapd.cnf")).read().replace("default_md = sha1",
                                                                   "default_md = sha256")
    layout.install_config("imapd", None, text=text, bits=2048)
    return layout


def served_key_digest(pem):
    """TLSA 3 1 1 of the certificate in ``pem``, by openssl."""
    public = openssl("x509", "-in", pem, "-noout", "-pubkey").stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=public.encode(),
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def key_digest(path):
    """The same digest of the private key in ``path`` (PEM or staged key), by openssl."""
    der = subprocess.run(["openssl", "pkey", "-in", str(path), "-pubout", "-outform", "DER"],
                         capture_output=True, check=True).stdout
    return hashlib.sha256(der).hexdigest()


def run(layout, *args):
    result = layout.command("mkimapdcert", *args)
    assert "Traceback" not in result.stderr
    return result


def cleanup(layout):
    for name in layout.listing():
        os.remove(layout.certsdir / name)


@pytest.mark.parametrize("key_type", ["rsa", "ec", "ed25519"])
def test_reuse_key_keeps_the_subject_public_key_info(imapd, key_type):
    pem = imapd.certsdir / "imapd.pem"
    assert run(imapd, "-q", "--key-type", key_type).returncode == 0
    before = served_key_digest(pem)
    spki_before = openssl("x509", "-in", pem, "-noout", "-pubkey").stdout
    result = run(imapd, "--renew", "--force", "--reuse-key")
    assert result.returncode == 0, result.stderr
    assert "renewed (forced" in result.stdout
    assert openssl("x509", "-in", pem, "-noout", "-pubkey").stdout == spki_before
    assert served_key_digest(pem) == before == key_digest(pem)
    # a new certificate all the same
    assert (imapd.certsdir / "imapd.pem.old").read_bytes() != pem.read_bytes()
    cleanup(imapd)


def test_renew_without_reuse_key_makes_a_new_key_of_the_same_type(imapd):
    pem = imapd.certsdir / "imapd.pem"
    assert run(imapd, "-q", "--key-type", "ec:P-384").returncode == 0
    before = served_key_digest(pem)
    assert run(imapd, "-q", "--renew", "--force").returncode == 0
    assert served_key_digest(pem) != before
    text = openssl("x509", "-in", pem, "-noout", "-text").stdout
    assert "NIST CURVE: P-384" in text  # the type was kept, the key was not
    cleanup(imapd)


def test_stage_next_key_writes_a_private_file_beside_the_pem(imapd):
    pem = imapd.certsdir / "imapd.pem"
    assert run(imapd, "-q", "--key-type", "ec").returncode == 0
    result = run(imapd, "--stage-next-key")
    staged = imapd.certsdir / "imapd.next-key.pem"
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"{staged}: the next key (EC P-256) is staged; --renew "
                             f"--rollover makes the certificate for it\n")
    st, pem_st = os.stat(staged), os.stat(pem)
    assert stat.S_IMODE(st.st_mode) == 0o600 and st.st_uid == pem_st.st_uid
    assert openssl("pkey", "-in", staged, "-noout").returncode == 0
    assert staged.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert key_digest(staged) != served_key_digest(pem)
    # Never replaced behind a published record's back.
    again = run(imapd, "--stage-next-key")
    assert again.returncode == 1 and again.stdout == ""
    assert again.stderr == (f"mkimapdcert: {staged} already holds the next key; publish its "
                            f"TLSA record and run --renew --rollover, or remove it to stage "
                            f"another\n")
    cleanup(imapd)


def test_stage_next_key_needs_the_pem(imapd):
    result = run(imapd, "--stage-next-key")
    pem = imapd.certsdir / "imapd.pem"
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"mkimapdcert: {pem}: missing; make the certificate first, then "
                             f"stage its next key\n")
    assert imapd.listing() == []


def test_stage_next_key_of_another_type(imapd):
    assert run(imapd, "-q").returncode == 0
    result = run(imapd, "--stage-next-key", "--key-type", "ec:P-521")
    assert result.returncode == 0, result.stderr
    text = openssl("pkey", "-in", imapd.certsdir / "imapd.next-key.pem", "-noout",
                   "-text").stdout
    assert "NIST CURVE: P-521" in text
    cleanup(imapd)


def test_rollover_cycle_keeps_a_matching_record_at_every_moment(imapd):
    """Published records: the current key's and the staged key's.  Whatever a
    client meets at any instant of the rollover is one of them, and the
    staged file is never missing."""
    pem = imapd.certsdir / "imapd.pem"
    staged = imapd.certsdir / "imapd.next-key.pem"
    assert run(imapd, "-q", "--key-type", "ec", "--san", "mail.example").returncode == 0
    assert run(imapd, "-q", "--stage-next-key").returncode == 0
    published = {served_key_digest(pem), key_digest(staged)}
    seen, problems, stop = set(), [], threading.Event()

    def watch():
        while not stop.is_set():
            try:
                served = served_key_digest(pem)
            except subprocess.CalledProcessError as exc:  # pragma: no cover - a failure
                problems.append(f"unreadable PEM: {exc}")
                continue
            seen.add(served)
            if not staged.exists():
                problems.append("no staged key file")

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = run(imapd, "--renew", "--rollover")
    finally:
        stop.set()
        watcher.join()
    assert result.returncode == 0, result.stderr
    assert "renewed (rolling over to the staged key; it expires " in result.stdout
    assert problems == []
    assert seen <= published
    # The new certificate is for the key that was staged; a fresh one is staged.
    old = served_key_digest(imapd.certsdir / "imapd.pem.old")
    assert served_key_digest(pem) == (published - {old}).pop()
    assert key_digest(staged) not in published
    assert stat.S_IMODE(os.stat(staged).st_mode) == 0o600
    # --check is happy with the result.
    check = run(imapd, "--check")
    assert check.returncode == 0, check.stdout
    cleanup(imapd)


def test_rollover_without_a_staged_key_changes_nothing(imapd):
    pem = imapd.certsdir / "imapd.pem"
    assert run(imapd, "-q").returncode == 0
    before = pem.read_bytes()
    result = run(imapd, "--renew", "--rollover")
    staged = imapd.certsdir / "imapd.next-key.pem"
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"mkimapdcert: {staged}: no staged key to roll over to "
                             f"(--stage-next-key writes one)\n")
    assert pem.read_bytes() == before and imapd.listing() == ["imapd.pem"]
    cleanup(imapd)


def test_install_of_a_ca_certificate_for_the_staged_key(imapd, tmp_path):
    """certbot --csr: the CA certifies the staged key; --install --cert takes it from there."""
    pem = imapd.certsdir / "imapd.pem"
    staged = imapd.certsdir / "imapd.next-key.pem"
    assert run(imapd, "-q", "--key-type", "ec").returncode == 0
    assert run(imapd, "-q", "--stage-next-key").returncode == 0
    next_digest = key_digest(staged)
    ca_key, ca_cert, csr, leaf = (tmp_path / n for n in ("ca.key", "ca.pem", "csr.pem", "leaf.pem"))
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-subj", "/CN=Test CA", "-days", "30", "-keyout", ca_key, "-out", ca_cert,
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext",
            "keyUsage=critical,keyCertSign")
    openssl("req", "-new", "-key", staged, "-subj", "/CN=mail.example", "-out", csr)
    openssl("x509", "-req", "-in", csr, "-CA", ca_cert, "-CAkey", ca_key, "-days", "30",
            "-out", leaf)
    result = imapd.command("mkimapdcert", "--install", "--cert", leaf, "--chain", ca_cert)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f"; a fresh next key is staged in {staged}\n")
    assert served_key_digest(pem) == next_digest
    assert key_digest(staged) != next_digest
    os.remove(ca_key)
    cleanup(imapd)


def test_install_without_key_or_staged_key_says_what_is_missing(imapd, tmp_path):
    staged = imapd.certsdir / "imapd.next-key.pem"
    cert = tmp_path / "leaf.pem"
    cert.write_text("")
    result = imapd.command("mkimapdcert", "--install", "--cert", cert)
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"mkimapdcert: --install needs --key, or a staged key in {staged} "
                             f"(--stage-next-key) that the certificate is for\n")


@pytest.mark.parametrize("args, message", [
    (["--reuse-key"], "--reuse-key only goes with --renew"),
    (["--rollover"], "--rollover only goes with --renew"),
    (["--upgrade"], "--upgrade only goes with --renew"),
    (["--renew", "--reuse-key", "--rollover"],
     "--reuse-key keeps the current key, --rollover takes the staged one: not both"),
    (["--renew", "--reuse-key", "--key-type", "ec"],
     "--key-type is for a new key, not with --reuse-key or --rollover"),
    (["--stage-next-key", "--renew"],
     "argument --stage-next-key: not allowed with argument --renew"),
    (["--check", "--key-type", "ec"],
     "--key-type is for making a key, not with --check or --install"),
    (["--key-type", "dsa"],
     "argument --key-type: key type 'dsa' is not rsa[:BITS], ec[:P-256|P-384|P-521] or ed25519"),
])
def test_option_combinations(imapd, args, message):
    result = imapd.command("mkimapdcert", *args)
    assert result.returncode in (2, 3)
    assert result.stderr.splitlines()[-1] == f"mkimapdcert: error: {message}"
    assert imapd.listing() == []


def _published(imapd, records):
    """``--tlsa``'s records, written where the zone file would be; each checked by openssl."""
    result = run(imapd, "--tlsa")
    assert result.returncode == 0, result.stderr
    records.write_text(result.stdout)
    return {line.split()[6] for line in result.stdout.splitlines()}


def _check_against(imapd, records):
    result = run(imapd, "--check", "--tlsa-records", str(records))
    assert "Traceback" not in result.stderr
    return result.returncode, result.stdout


def test_dane_cycle_stage_publish_rollover_publish(imapd, tmp_path):
    """The whole cycle an admin with DANE on port 25 runs, our --tlsa and
    --check against openssl's digests at every step: the served key always
    has a record that was published before it was served."""
    pem = imapd.certsdir / "imapd.pem"
    staged = imapd.certsdir / "imapd.next-key.pem"
    records = tmp_path / "tlsa.zone"
    assert run(imapd, "-q", "--key-type", "ec", "--san", "mail.example").returncode == 0
    assert run(imapd, "-q", "--stage-next-key").returncode == 0
    first = _published(imapd, records)
    assert first == {served_key_digest(pem), key_digest(staged)}
    assert _check_against(imapd, records)[0] == 0
    staged_before = key_digest(staged)

    assert run(imapd, "-q", "--renew", "--rollover").returncode == 0
    # Served now: the key staged before, whose record is already out there.
    assert served_key_digest(pem) == staged_before
    status, line = _check_against(imapd, records)
    assert status == 1 and "has no TLSA" in line, line  # the fresh staged key is not published
    second = _published(imapd, records)
    assert second == {staged_before, key_digest(staged)}
    assert _check_against(imapd, records)[0] == 0
    # A zone that still has only the first key would now break DANE.
    owner = records.read_text().split()[0]
    assert owner == "_993._tcp.mail.example."
    records.write_text("".join(f"{owner} IN TLSA 3 1 1 {digest}\n"
                               for digest in first - {staged_before}))
    assert _check_against(imapd, records)[0] == 2
    records.unlink()
    cleanup(imapd)
