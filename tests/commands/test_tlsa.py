"""``--tlsa`` and ``--check --tlsa-records`` as admins run them, with openssl as the oracle.

PEMs and staged next keys are made by openssl (``req -x509``, ``genpkey``),
and every digest expected is computed by openssl's pipeline
(:mod:`dane_oracle`), never copied from our own output.
"""

import json
import os
import subprocess
import sys

import pytest

import dane_oracle
import pki
from conftest import BIN, openssl
from mkcert import layout as courier_layout

KEYS = {"rsa": ["-newkey", "rsa:2048"],
        "ec": ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"],
        "ed25519": ["-newkey", "ed25519"]}
MX = "mx.example.org"


class Made:
    """A PEM made by openssl in the layout's CERTSDIR, and its staged next key if asked."""

    def __init__(self, layout, service="esmtpd", kind="ec", san=f"DNS:{MX}"):
        self.layout = layout
        self.pem = layout.certsdir / f"{service}.pem"
        key, cert = layout.certsdir / "k.tmp", layout.certsdir / "c.tmp"
        extra = ["-addext", f"subjectAltName={san}"] if san else []
        openssl("req", "-x509", *KEYS[kind], "-nodes", "-keyout", key, "-out", cert,
                "-days", "90", "-subj", f"/CN={MX}", *extra)
        self.pem.write_bytes(key.read_bytes() + cert.read_bytes())
        self.pem.chmod(0o600)
        key.unlink()
        cert.unlink()

    @property
    def staged(self):
        return self.layout.certsdir / os.path.basename(
            courier_layout.staged_key_path(str(self.pem)))

    def stage(self, kind="ec"):
        algorithm = {"rsa": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                     "ec": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
                     "ed25519": ["-algorithm", "ED25519"]}[kind]
        openssl("genpkey", *algorithm, "-out", self.staged)
        self.staged.chmod(0o600)
        return dane_oracle.key_file_spki_sha256(self.staged)


@pytest.fixture
def made(layout):
    """Whatever a test makes in CERTSDIR (keys above all) is removed after it."""
    yield lambda **options: Made(layout, **options)
    for name in os.listdir(layout.certsdir):
        os.unlink(layout.certsdir / name)


def run(layout, program, *args):
    result = layout.command(program, *args)
    assert "Traceback" not in result.stderr
    return result


def record(name, digest, about, usage=3):
    return f"{name} IN TLSA {usage} 1 1 {digest} ; {about}"


# -- --tlsa ----------------------------------------------------------------

@pytest.mark.parametrize("kind", sorted(KEYS))
def test_tlsa_prints_the_current_and_the_staged_key_as_openssl_digests_them(
        layout, made, kind):
    pem = made(kind=kind)
    result = run(layout, "mkesmtpdcert", "--tlsa")
    assert (result.returncode, result.stderr) == (0, "")
    name = f"_25._tcp.{MX}."
    assert result.stdout == record(name, dane_oracle.spki_sha256(pem.pem), "current key") + "\n"
    staged = pem.stage(kind)
    result = run(layout, "mkesmtpdcert", "--tlsa", pem.pem)
    assert result.stdout.splitlines() == [
        record(name, dane_oracle.spki_sha256(pem.pem), "current key"),
        record(name, staged, f"staged next key {pem.staged}")]


@pytest.mark.parametrize("program, port", [("mkesmtpdcert", 25), ("mkimapdcert", 993),
                                           ("mkpop3dcert", 995)])
def test_the_port_by_service_and_the_port_and_host_options(layout, made, program, port):
    service = program[2:-4]
    pem = made(service=service)
    digest = dane_oracle.spki_sha256(pem.pem)
    result = run(layout, program, "--tlsa")
    assert result.stdout.split(" IN ")[0] == f"_{port}._tcp.{MX}."
    result = run(layout, program, "--tlsa", "--port", "587", "--host", "Submit.Example.ORG.")
    assert result.stdout == record("_587._tcp.submit.example.org.", digest, "current key") + "\n"


def test_other_services_need_a_port(layout, made):
    made(service="sieved")
    result = run(layout, "mkcouriercert", "sieved", "--tlsa")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("mkcouriercert: no default port for service 'sieved' (esmtpd 25, "
                             "imapd 993, pop3d 995): give --port\n")
    result = run(layout, "mkcouriercert", "sieved", "--tlsa", "--port", "4190")
    assert result.returncode == 0 and result.stdout.startswith(f"_4190._tcp.{MX}. IN TLSA 3 1 1 ")


def test_the_host_is_the_first_dns_name_that_is_no_wildcard(layout, made):
    made(san=f"IP:192.0.2.1,email:postmaster@example.org,DNS:*.example.org,DNS:{MX},DNS:b.org")
    result = run(layout, "mkesmtpdcert", "--tlsa")
    assert result.stdout.startswith(f"_25._tcp.{MX}. IN TLSA")


def test_no_dns_name_and_no_host_is_one_clear_line(layout, made):
    made(san=None)  # Courier's stock certificate: CN=localhost style, no subjectAltName
    result = run(layout, "mkesmtpdcert", "--tlsa")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == ("mkesmtpdcert: no host name for the TLSA record: the certificate "
                             "has no DNS subjectAltName; give --host\n")
    assert run(layout, "mkesmtpdcert", "--tlsa", "--host", MX).returncode == 0


def test_usage_2_is_the_issuing_ca_of_a_ca_issued_chain(layout, made, tmp_path):
    chain = pki.Pki(domain=MX)
    pem = layout.certsdir / "esmtpd.pem"
    pem.write_bytes(pki.key_pem(chain.leaf_key) + pki.cert_pem(chain.leaf)
                    + pki.cert_pem(chain.intermediate))
    pem.chmod(0o600)
    intermediate = tmp_path / "intermediate.pem"
    intermediate.write_bytes(pki.cert_pem(chain.intermediate))
    result = run(layout, "mkesmtpdcert", "--tlsa", "--tlsa-usage", "2")
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout == record(
        f"_25._tcp.{MX}.", dane_oracle.spki_sha256(intermediate),
        "issuing CA O = mkcert tests, CN = mkcert test intermediate", usage=2) + "\n"
    # the chain's second certificate must be the leaf's issuer
    stranger = pki.Pki(slot=1).intermediate
    pem.write_bytes(pki.key_pem(chain.leaf_key) + pki.cert_pem(chain.leaf)
                    + pki.cert_pem(stranger))
    result = run(layout, "mkesmtpdcert", "--tlsa", "--tlsa-usage", "2")
    assert (result.returncode, result.stdout) == (1, "")
    assert "certificate 2 (O = mkcert tests, CN = mkcert test intermediate) did not issue" in (
        result.stderr)
    intermediate.unlink()


def test_usage_2_of_a_self_signed_certificate_is_an_error(layout, made):
    pem = made()
    result = run(layout, "mkesmtpdcert", "--tlsa", "--tlsa-usage", "2")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"mkesmtpdcert: {pem.pem}: no issuing CA certificate after the "
                             f"server's own (a self-signed one needs usage 3: --tlsa without "
                             f"--tlsa-usage 2)\n")


def test_what_cannot_be_read_is_one_line_and_exit_1(layout, made):
    result = run(layout, "mkesmtpdcert", "--tlsa")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"mkesmtpdcert: cannot read {layout.certsdir}/esmtpd.pem: "
                             f"No such file or directory\n")
    pem = made()
    pem.staged.write_text("not a key\n")
    result = run(layout, "mkesmtpdcert", "--tlsa")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr == (f"mkesmtpdcert: {pem.staged}: no private key in it "
                             f"(no BEGIN ... PRIVATE KEY block)\n")
    assert sorted(os.listdir(layout.certsdir)) == ["esmtpd.next-key.pem", "esmtpd.pem"]


@pytest.mark.parametrize("args, status, message", [
    (["--tlsa", "--check"], 3, "argument --tlsa: not allowed with argument --check"),
    (["--tlsa", "--renew"], 2, "argument --tlsa: not allowed with argument --renew"),
    (["--tlsa", "--san", MX], 2, "--san is for making a certificate, not with --tlsa"),
    (["--tlsa-usage", "2"], 2, "--tlsa-usage only goes with --tlsa"),
    (["--tlsa", "--tlsa-usage", "1"], 2, "invalid choice"),
    (["--port", "25"], 2, "--port only goes with --tlsa, or --check with TLSA records"),
    (["--check", "--host", MX], 3, "--host only goes with --tlsa, or --check with TLSA"),
    (["--tlsa", "--port", "0"], 2, "--port"),
    (["--tlsa", "--host", "*.example.org"], 2, "not a wildcard"),
    (["--tlsa", "--host", "bad_name!"], 2, "not a valid DNS name"),
    (["--tlsa-records", "z"], 2, "--tlsa-records only goes with --check"),
    (["--check", "--tlsa-records", "z", "--tlsa-from-dns"], 3, "give one source of records"),
    (["--check", "--dns-server", "127.0.0.1"], 3, "--dns-server only goes with --tlsa-from-dns"),
    (["--check", "--tlsa-from-dns", "--dns-server", "ns.example"], 3, "is not an IP address"),
    (["--check", "--tlsa-from-dns", "--dns-server", "127.0.0.1:99999"], 3, "port '99999'"),
])
def test_misused_options_are_usage_errors(layout, args, status, message):
    result = run(layout, "mkesmtpdcert", *args)
    assert (result.returncode, result.stdout) == (status, "")
    assert message in result.stderr.splitlines()[-1]


# -- --check --tlsa-records ------------------------------------------------

def check(layout, *args):
    result = run(layout, "mkesmtpdcert", "--check", *args)
    assert result.stdout.count("\n") == 1
    return result


def line_without_fingerprints(result, pem):
    return dane_oracle.strip_fingerprints(result.stdout, pem.pem).rstrip("\n")


def test_records_of_both_keys_are_ok(layout, made, tmp_path):
    pem = made()
    staged = pem.stage()
    name = f"_25._tcp.{MX}."
    zone = tmp_path / "example.org.zone"
    zone.write_text("$ORIGIN example.org.\n@ IN SOA ns1 hostmaster ( 1 2 3 4 5 )\n"
                    f"_25._tcp.mx 3600 IN TLSA 3 1 1 {dane_oracle.spki_sha256(pem.pem)}\n"
                    f"            3600 IN TLSA ( 3 1 1\n {staged[:32]}\n {staged[32:]} )\n")
    result = check(layout, "--tlsa-records", zone)
    assert result.returncode == 0, result.stdout
    assert line_without_fingerprints(result, pem).endswith(
        f"(89 days); TLSA at {name} matches the served and the staged key")
    report = json.loads(check(layout, "--tlsa-records", zone, "--json").stdout)
    assert report["tlsa"] == {
        "name": name, "source": str(zone), "records": 2,
        "served_matches": [f"{zone}:3 3 1 1 {dane_oracle.spki_sha256(pem.pem)}"],
        "staged_key": str(pem.staged), "staged_key_sha256": staged,
        "staged_matches": [f"{zone}:4 3 1 1 {staged}"]}
    zone.unlink()


def test_what_tlsa_prints_is_what_check_accepts(layout, made, tmp_path):
    pem = made(kind="ed25519")
    pem.stage("rsa")
    records = tmp_path / "records"
    records.write_text(run(layout, "mkesmtpdcert", "--tlsa").stdout)
    assert check(layout, "--tlsa-records", records).returncode == 0
    records.unlink()


def test_no_record_for_the_served_key_is_critical(layout, made, tmp_path):
    pem = made()
    name = f"_25._tcp.{MX}."
    records = tmp_path / "records"
    records.write_text(f"{name} IN TLSA 3 1 1 {'00' * 32}\n"
                       f"_25._tcp.other.example.org. IN TLSA 3 1 1 "
                       f"{dane_oracle.spki_sha256(pem.pem)}\n")
    result = check(layout, "--tlsa-records", records)
    assert result.returncode == 2
    assert line_without_fingerprints(result, pem).endswith(
        f"(89 days); none of the 1 TLSA records at {name} in {records} matches "
        f"the served certificate")
    records.write_text(f"_25._tcp.other.example.org. IN TLSA 3 1 1 "
                       f"{dane_oracle.spki_sha256(pem.pem)}\n")
    result = check(layout, "--tlsa-records", records)
    assert result.returncode == 2
    assert line_without_fingerprints(result, pem).endswith(
        f"; no TLSA record at {name} in {records}")
    records.unlink()


def test_a_staged_key_without_a_record_warns(layout, made, tmp_path):
    pem = made()
    pem.stage()
    records = tmp_path / "records"
    records.write_text(f"_25._tcp.mx IN TLSA 3 1 1 {dane_oracle.spki_sha256(pem.pem)}\n")
    result = check(layout, "--tlsa-records", records)
    assert result.returncode == 1
    assert line_without_fingerprints(result, pem).endswith(
        f"(89 days); TLSA at _25._tcp.{MX}. matches the served key; the staged next key "
        f"{pem.staged} has no TLSA record at _25._tcp.{MX}. yet: a rollover now would "
        f"break DANE")
    records.unlink()


def test_full_certificate_and_sha512_records_match(layout, made, tmp_path):
    pem = made(kind="rsa")
    full = subprocess.run(f"openssl x509 -in {pem.pem} -outform DER | sha256sum", shell=True,
                          capture_output=True, text=True, check=True).stdout.split()[0]
    records = tmp_path / "records"
    for fields in (f"3 0 1 {full}", f"3 1 2 {dane_oracle.spki_sha512(pem.pem)}"):
        records.write_text(f"_25._tcp.{MX}. IN TLSA {fields}\n")
        assert check(layout, "--tlsa-records", records).returncode == 0, fields
    records.unlink()


def test_a_ca_record_keeps_a_rollover_safe(layout, tmp_path):
    chain = pki.Pki(domain=MX)
    pem = layout.certsdir / "esmtpd.pem"
    pem.write_bytes(pki.key_pem(chain.leaf_key) + pki.cert_pem(chain.leaf)
                    + pki.cert_pem(chain.intermediate))
    pem.chmod(0o600)
    staged = courier_layout.staged_key_path(str(pem))
    openssl("genpkey", "-algorithm", "ED25519", "-out", staged)
    intermediate = tmp_path / "intermediate.pem"
    intermediate.write_bytes(pki.cert_pem(chain.intermediate))
    records = tmp_path / "records"
    records.write_text(f"_25._tcp.{MX}. IN TLSA 2 1 1 {dane_oracle.spki_sha256(intermediate)}\n")
    result = check(layout, "--tlsa-records", records)
    assert result.returncode == 0, result.stdout
    assert f"; TLSA at _25._tcp.{MX}. matches the served key; " in result.stdout
    # the leaf's key in a usage 2 record is no CA's: it matches nothing
    records.write_text(f"_25._tcp.{MX}. IN TLSA 2 1 1 {dane_oracle.spki_sha256(pem)}\n")
    assert check(layout, "--tlsa-records", records).returncode == 2
    for path in (records, intermediate, pem):
        path.unlink()
    os.unlink(staged)


def test_bad_records_are_unknown_naming_file_and_line(layout, made, tmp_path):
    pem = made()
    records = tmp_path / "records"
    records.write_text(f"; ok\n_25._tcp.{MX}. IN TLSA 3 1 1 {'ab' * 31}\n")
    result = check(layout, "--tlsa-records", records)
    assert result.returncode == 3
    assert line_without_fingerprints(result, pem).endswith(
        f"(89 days); TLSA: {records}:2: TLSA matching type 1 holds 32 bytes, this record 31")
    result = check(layout, "--tlsa-records", tmp_path / "absent")
    assert result.returncode == 3
    assert f"; TLSA: cannot read TLSA records {tmp_path}/absent: No such file or directory" in (
        result.stdout)
    records.unlink()


def test_a_staged_key_that_cannot_be_used_warns(layout, made, tmp_path):
    pem = made()
    pem.staged.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    records = tmp_path / "records"
    records.write_text(f"_25._tcp.{MX}. IN TLSA 3 1 1 {dane_oracle.spki_sha256(pem.pem)}\n")
    result = check(layout, "--tlsa-records", records)
    assert result.returncode == 1
    assert f"; {pem.staged}: the private key cannot be read: " in result.stdout
    assert result.stdout.rstrip("\n").split("; ")[-3].endswith("(a rollover to it would fail)")
    records.unlink()


def test_without_dnspython_tlsa_from_dns_is_unknown_in_one_line(layout, made):
    made()
    hide_dnspython = ("import runpy, sys; sys.modules['dns'] = None; "
                      f"sys.argv = ['mkesmtpdcert', '--check', '--tlsa-from-dns', "
                      f"'--dns-server', '127.0.0.1:9']; "
                      f"runpy.run_path({os.path.join(BIN, 'mkesmtpdcert')!r}, "
                      f"run_name='__main__')")
    result = subprocess.run([sys.executable, "-c", hide_dnspython], env=layout.env,
                            capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr) == (3, "")
    assert result.stdout.count("\n") == 1
    assert ("; TLSA: --tlsa-from-dns needs dnspython, which is not installed (Debian: apt "
            "install python3-dnspython)") in result.stdout


def test_a_subject_alt_name_that_is_no_list_of_names_is_one_line(layout, made):
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID

    key = pki.key("ec", slot=31)
    builder = (x509.CertificateBuilder().subject_name(pki.name(MX)).issuer_name(pki.name(MX))
               .public_key(key.public_key()).serial_number(1)
               .not_valid_before(pki.NOW - pki.DAY).not_valid_after(pki.NOW + 9 * pki.DAY)
               .add_extension(x509.UnrecognizedExtension(
                   ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x04\x01x"), critical=False))
    pem = layout.certsdir / "esmtpd.pem"
    pem.write_bytes(pki.key_pem(key) + pki.cert_pem(builder.sign(key, pki.hashes.SHA256())))
    pem.chmod(0o600)
    result = run(layout, "mkesmtpdcert", "--tlsa")
    assert (result.returncode, result.stdout) == (1, "")
    assert result.stderr.startswith("mkesmtpdcert: no host name for the TLSA record: the "
                                    "certificate's subjectAltName cannot be read (")
    assert result.stderr.endswith("); give --host\n") and result.stderr.count("\n") == 1
    result = run(layout, "mkesmtpdcert", "--check", "--tlsa-records", "/dev/null")
    assert result.returncode == 3
    assert "; TLSA: no host name for the TLSA record: the certificate's subjectAltName" in (
        result.stdout)
    assert run(layout, "mkesmtpdcert", "--tlsa", "--host", MX).returncode == 0


def test_a_dns_name_that_is_no_host_name_is_passed_over(layout, made, tmp_path):
    key = pki.key("ec", slot=32)
    forged = "evil\nCERT OK - forged"
    pem = layout.certsdir / "esmtpd.pem"
    pem.write_bytes(pki.key_pem(key) + pki.cert_pem(
        pki.certificate(key, MX, dns_names=[forged, "*.example.org", MX])))
    pem.chmod(0o600)
    result = run(layout, "mkesmtpdcert", "--tlsa")
    assert result.stdout.startswith(f"_25._tcp.{MX}. IN TLSA 3 1 1 ")
    records = tmp_path / "records"
    records.write_text(result.stdout)
    result = check(layout, "--tlsa-records", records)
    assert result.returncode == 0 and "forged" not in result.stdout
    records.unlink()
