"""--check: every state and exit status of the monitoring check.

Certificates are made here with cryptography, one per situation: expired,
about to expire, not yet valid, CA-issued, mismatched, sha1/md5-signed,
1024-bit, without subjectAltName, with wrong modes.  The factory is shared
with test_renew.py.
"""

import datetime
import functools
import json
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from dane_oracle import certificate_sha256, spki_sha256, strip_fingerprints
from mkcert.actions import check as checkmod
from mkcert.actions import check_result
from mkcert.asn1 import der
from mkcert.x509.dhparams import named_group_pem

DAY = datetime.timedelta(days=1)
HOUR = datetime.timedelta(hours=1)


@functools.lru_cache(maxsize=None)
def rsa_key(label, bits=1024):
    """One cached key per label: small where the size changes nothing."""
    return rsa.generate_private_key(65537, bits)


def now():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Courier Mail Server"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def certificate(key, *, subject="localhost", issuer=None, issuer_key=None,
                starts=-DAY, ends=200 * DAY + HOUR, digest="sha256",
                san=("localhost",)):
    """A certificate for ``key``, self-signed unless issuer_key is given."""
    moment = now()
    builder = (x509.CertificateBuilder()
               .subject_name(name(subject))
               .issuer_name(name(issuer or subject))
               .public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before((moment + starts).replace(tzinfo=None))
               .not_valid_after((moment + ends).replace(tzinfo=None)))
    if san:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(n) for n in san]), critical=False)
    signer = issuer_key or key
    if digest in WEAK_SIGNATURES:  # the builder refuses these since cryptography 39
        return sign_weak(builder, signer, digest)
    return builder.sign(signer, getattr(hashes, digest.upper())())


WEAK_SIGNATURES = {"sha1": "1.2.840.113549.1.1.5", "md5": "1.2.840.113549.1.1.4"}


def sign_weak(builder, signer, digest):
    """RSA PKCS#1 v1.5 over the builder's TBSCertificate with its algorithm swapped."""
    from cryptography.hazmat.primitives.asymmetric import padding

    draft = builder.sign(signer, hashes.SHA256())
    algorithm = der.sequence(der.oid(WEAK_SIGNATURES[digest]), der.null())
    _, body, _ = der.read_tlv(draft.tbs_certificate_bytes)
    fields = der.children(draft.tbs_certificate_bytes[body:])
    fields[2] = algorithm  # version, serial, *signature*, issuer, ...
    tbs = der.sequence(*fields)
    signature = signer.sign(tbs, padding.PKCS1v15(), getattr(hashes, digest.upper())())
    return x509.load_der_x509_certificate(der.sequence(tbs, algorithm,
                                                       der.bit_string(signature)))


def key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def write_pem(path, key=None, cert=None, mode=0o600, extra=b"", **options):
    """Write key + certificate (made from ``options`` unless given) as Courier does."""
    key = key or rsa_key("server")
    cert = cert or certificate(key, **options)
    path.write_bytes(key_pem(key) + cert_pem(cert) + extra)
    os.chmod(path, mode)
    return path


@pytest.fixture
def pem(layout):
    return layout.certsdir / "imapd.pem"


def run_check(layout, *args):
    result = layout.command("mkimapdcert", "--check", *args)
    assert "Traceback" not in result.stderr
    return result


def first_line(result):
    return result.stdout.splitlines()[0]


# -- OK ------------------------------------------------------------------

def test_healthy_pem_is_ok_with_plugin_line(layout, pem):
    write_pem(pem, key=rsa_key("big", 2048))
    result = run_check(layout)  # default PEMFILE: CERTSDIR/imapd.pem
    assert result.returncode == 0, result.stdout
    expires = check_result.format_moment(checkmod.check_pem(str(pem)).not_after)
    assert strip_fingerprints(result.stdout, pem) == (
        f"CERT OK - {pem}: CN=localhost expires {expires} (200 days)\n")


def test_debian_group_readable_0640_is_ok(layout, pem):
    write_pem(pem, key=rsa_key("big", 2048), mode=0o640)
    assert run_check(layout, pem).returncode == 0


def test_ca_issued_certificate_is_ok_and_not_self_signed(layout, pem):
    ca = rsa_key("ca")
    cert = certificate(rsa_key("big", 2048), issuer="Test CA", issuer_key=ca)
    write_pem(pem, key=rsa_key("big", 2048), cert=cert)
    result = run_check(layout, "--json", pem)
    report = json.loads(result.stdout)
    assert result.returncode == 0, report
    assert (report["self_signed"], report["key_matches"]) == (False, True)
    assert report["issuer"] == "O = Courier Mail Server, CN = Test CA"


def test_same_name_but_signed_by_another_key_is_not_self_signed(pem):
    ca = rsa_key("ca")
    cert = certificate(rsa_key("server"), issuer="localhost", issuer_key=ca)
    write_pem(pem, cert=cert)
    result = checkmod.check_pem(str(pem))
    assert result.certificate.issuer == result.certificate.subject
    assert result.self_signed is False


def test_dh_parameters_and_text_dump_after_the_certificate_are_ignored(layout, pem):
    # esmtpd.pem as upstream's openssl build writes it.
    extra = named_group_pem("ffdhe2048") + b"Certificate:\n    Data:\n        Version: 3\n"
    write_pem(pem, key=rsa_key("big", 2048), extra=extra)
    result = run_check(layout, pem)
    assert result.returncode == 0, result.stdout


# -- WARNING -------------------------------------------------------------

def test_about_to_expire_warns_with_days_left(layout, pem):
    write_pem(pem, key=rsa_key("big", 2048), ends=12 * DAY + HOUR)
    result = run_check(layout, pem)
    assert result.returncode == 1
    assert first_line(result).startswith(f"CERT WARNING - {pem}: CN=localhost expires ")
    assert strip_fingerprints(first_line(result), pem).endswith(" UTC (12 days)")
    assert run_check(layout, "--warn", "10", pem).returncode == 0


@pytest.mark.parametrize("digest", ["sha1", "md5"])
def test_weak_signature_digest_warns(layout, pem, digest):
    write_pem(pem, key=rsa_key("big", 2048), digest=digest)
    result = run_check(layout, pem)
    assert result.returncode == 1
    assert strip_fingerprints(first_line(result), pem).endswith(
        f"(200 days); signed with {digest}")


def test_small_rsa_key_warns(layout, pem):
    write_pem(pem, key=rsa_key("server", 1024))
    result = run_check(layout, pem)
    assert result.returncode == 1
    assert "RSA key of 1024 bits (under 2048)" in first_line(result)


def test_missing_subject_alt_name_warns(layout, pem):
    write_pem(pem, key=rsa_key("big", 2048), san=())
    result = run_check(layout, pem)
    assert result.returncode == 1
    assert "no subjectAltName" in first_line(result)


def test_all_warnings_are_listed_on_the_one_line(layout, pem):
    write_pem(pem, key=rsa_key("server"), digest="sha1", san=(), ends=3 * DAY + HOUR)
    result = run_check(layout, pem)
    assert result.returncode == 1
    assert result.stdout.count("\n") == 1
    assert strip_fingerprints(first_line(result), pem).split("; ")[1:] == [
        "signed with sha1", "RSA key of 1024 bits (under 2048)",
        "no subjectAltName (clients match names only there)"]


# -- CRITICAL ------------------------------------------------------------

def test_expired_is_critical(layout, pem):
    write_pem(pem, starts=-400 * DAY, ends=-3 * DAY - HOUR)
    result = run_check(layout, "--json", pem)
    report = json.loads(result.stdout)
    assert result.returncode == 2
    assert report["status"] == "CRITICAL"
    assert report["days_left"] == -4  # floored: -3 days 1 hour
    assert "expired 3 days ago" in report["problems"]
    line = run_check(layout, pem).stdout
    assert line.startswith(f"CERT CRITICAL - {pem}: CN=localhost expired ")
    assert "UTC (3 days ago)" in line


def test_not_yet_valid_is_critical(layout, pem):
    write_pem(pem, starts=2 * DAY, ends=300 * DAY)
    result = run_check(layout, pem)
    assert result.returncode == 2
    assert "not yet valid: valid from " in first_line(result)


def test_missing_is_critical(layout, pem):
    result = run_check(layout)
    assert (result.returncode, result.stdout) == (
        2, f"CERT CRITICAL - {pem}: missing (no such file)\n")


@pytest.mark.parametrize("content, problem", [
    (b"", "not a PEM file"),
    (b"hello, I am not a certificate\n", "not a PEM file"),
    (b"-----BEGIN CERTIFICATE-----\nbm90IGRlcg==\n-----END CERTIFICATE-----\n",
     "the certificate cannot be parsed"),
])
def test_not_a_pem_is_critical(layout, pem, content, problem):
    pem.write_bytes(content)
    os.chmod(pem, 0o600)
    result = run_check(layout, pem)
    assert result.returncode == 2
    assert first_line(result).startswith(f"CERT CRITICAL - {pem}: {problem}")


def test_no_private_key_is_critical(layout, pem):
    pem.write_bytes(cert_pem(certificate(rsa_key("server"))))
    os.chmod(pem, 0o600)
    result = run_check(layout, "--json", pem)
    report = json.loads(result.stdout)
    assert result.returncode == 2
    assert "no private key in the file" in report["problems"]
    assert report["key_matches"] is None


def test_encrypted_private_key_is_critical(layout, pem):
    key = rsa_key("server")
    encrypted = key.private_bytes(serialization.Encoding.PEM,
                                  serialization.PrivateFormat.PKCS8,
                                  serialization.BestAvailableEncryption(b"secret"))
    pem.write_bytes(encrypted + cert_pem(certificate(key)))
    os.chmod(pem, 0o600)
    result = run_check(layout, pem)
    assert result.returncode == 2
    assert "the private key is encrypted" in first_line(result)


def test_mismatched_key_is_critical(layout, pem):
    cert = certificate(rsa_key("server"))
    write_pem(pem, key=rsa_key("other"), cert=cert)
    result = run_check(layout, "--json", pem)
    report = json.loads(result.stdout)
    assert result.returncode == 2
    assert report["key_matches"] is False
    assert "the private key does not match the certificate" in report["problems"]


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o602, 0o620, 0o666])
def test_modes_that_expose_the_key_are_critical(layout, pem, mode):
    write_pem(pem, key=rsa_key("big", 2048), mode=mode)
    result = run_check(layout, pem)
    assert result.returncode == 2
    assert f"mode {mode:04o}" in first_line(result)
    assert stat.S_IMODE(os.stat(pem).st_mode) == mode  # --check changes nothing


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_not_a_regular_file_is_critical(layout, pem, kind):
    pem.mkdir() if kind == "directory" else os.mkfifo(pem)  # a FIFO must not hang it
    result = run_check(layout, pem)
    assert (result.returncode, first_line(result)) == (
        2, f"CERT CRITICAL - {pem}: not a regular file")


def test_unreadable_is_critical(pem, monkeypatch):
    # Root reads any file, and the tests run as root: refuse the open instead.
    write_pem(pem, mode=0o000)

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)  # the one reader, mkcert.system.files, opens with os.open
    result = checkmod.check_pem(str(pem))
    assert (result.status, result.line()) == (
        2, f"CERT CRITICAL - {pem}: cannot read: Permission denied")


# -- UNKNOWN, JSON and the never-touch promise ---------------------------

def test_unexpected_failure_is_unknown_without_traceback(pem, monkeypatch, capsys):
    from mkcert.cli import main as cli

    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(checkmod, "check_pem", explode)
    status = cli.main(["--check", str(pem)], program="mkimapdcert", environ={})
    assert status == 3
    assert capsys.readouterr().out == (
        f"CERT UNKNOWN - {pem}: check failed: RuntimeError: boom\n")


def test_usage_error_with_check_is_unknown(layout):
    result = run_check(layout, "--warn", "soon")
    assert result.returncode == 3
    assert "--warn" in result.stderr


def test_json_has_every_field(layout, pem):
    write_pem(pem, key=rsa_key("big", 2048), ends=45 * DAY - HOUR, digest="sha1")
    result = run_check(layout, "--json", pem)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert result.stdout.count("\n") == 1
    not_after = datetime.datetime.fromisoformat(report["not_after"])
    assert not_after.utcoffset() == datetime.timedelta(0)
    assert report == {
        "path": str(pem), "status": "WARNING", "exit_status": 1,
        "subject": "O = Courier Mail Server, CN = localhost", "common_name": "localhost",
        "issuer": "O = Courier Mail Server, CN = localhost",
        "not_before": report["not_before"], "not_after": report["not_after"],
        "days_left": 44, "self_signed": True, "key_matches": True,
        "signature_digest": "sha1", "key_type": "RSA", "key_bits": 2048, "mode": "0600",
        "chain": [], "chain_verifies": True, "shortest_days_left": 44,
        "shortest_lived": "O = Courier Mail Server, CN = localhost",
        "certificate_sha256": certificate_sha256(pem), "key_sha256": spki_sha256(pem),
        "tlsa": None, "problems": ["signed with sha1"]}


def test_check_never_creates_modifies_or_chmods(layout, pem):
    write_pem(pem, mode=0o644, starts=-400 * DAY, ends=-DAY)
    before = (pem.read_bytes(), os.stat(pem))
    run_check(layout, pem)
    run_check(layout, "--json", pem)
    run_check(layout, layout.certsdir / "absent")
    after = (pem.read_bytes(), os.stat(pem))
    assert before[0] == after[0]
    assert (before[1].st_mode, before[1].st_mtime_ns, before[1].st_ino) == (
        after[1].st_mode, after[1].st_mtime_ns, after[1].st_ino)
    assert layout.listing() == ["imapd.pem"]


def test_tls_context_loads_a_matching_pair_and_names_a_mismatch():
    from mkcert.x509.compat import tls_context_error

    key = rsa_key("server")
    assert tls_context_error(certificate(key), key) is None
    reason = tls_context_error(certificate(key), rsa_key("other"))
    assert reason and "mismatch" in reason


def test_days_left_is_floored():
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    assert check_result.days_between(start, start + 12 * DAY + 23 * HOUR) == 12
    assert check_result.days_between(start, start - HOUR) == -1
