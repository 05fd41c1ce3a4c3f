"""Reading PEMs that are damaged, hostile or merely unusual: --check, --install, --renew.

Every reader of an existing certificate (``--check``, ``--install``, the
reading side of ``--renew`` and the certbot hook) must answer in one line:
``--check`` with a state of 0-2 (3 is for its own bugs), the others with
exit 1 and the reason, never a traceback.  The certificates are damaged
here byte by byte (a bad version number, a name value of the wrong type)
and the PEM files are shaped to make a careless scanner slow.
"""

import json
import os
import random
import re
import types

import pytest
from cryptography.hazmat.primitives import serialization

import pki
from conftest import ROOT, openssl
from mkcert.x509 import chain
from mkcert.actions import check, check_result, install, renew
from mkcert.asn1 import der
from mkcert.errors import MkcertError
from test_threat_helpers import assert_one_clean_line

EXAMPLE_OPENSSL = os.path.join(ROOT, "examples", "openssl", "imapd.cnf")
VERSION_3 = b"\xa0\x03\x02\x01\x02"  # [0] EXPLICIT INTEGER 2


def der_of(certificate):
    return certificate.public_bytes(serialization.Encoding.DER)


def with_version(certificate, number):
    """The certificate's DER with its version field saying ``number`` (the signature now lies)."""
    data = der_of(certificate)
    assert data.count(VERSION_3) == 1
    return data.replace(VERSION_3, VERSION_3[:-1] + bytes([number]))


def with_common_name_tag(certificate, tag):
    """The DER with every commonName value retagged (0x03: a BIT STRING where text belongs)."""
    data = bytearray(der_of(certificate))
    cn_oid = der.oid("2.5.4.3")
    at = data.find(cn_oid)
    assert at > 0
    while at > 0:
        data[at + len(cn_oid)] = tag
        at = data.find(cn_oid, at + 1)
    return bytes(data)


def pem(der_bytes):
    return der.pem(der_bytes, "CERTIFICATE")


def write(path, data, mode=0o600):
    path.write_bytes(data)
    os.chmod(path, mode)
    return path


@pytest.fixture(scope="module")
def authority():
    return pki.Pki(leaf_kind="ec")


def self_signed(authority, **options):
    return pki.certificate(authority.leaf_key, authority.domain, **options)


def snapshot(directory):
    return {name: (directory / name).read_bytes() for name in sorted(os.listdir(directory))}


# --- unreadable certificates: a bad version, a name of the wrong type ----------------------

UNREADABLE = {
    "version-7": lambda certificate: with_version(certificate, 7),
    "version-1-explicit": lambda certificate: with_version(certificate, 1),
    "cn-bit-string": lambda certificate: with_common_name_tag(certificate, 0x03),
    "cn-tag-0": lambda certificate: with_common_name_tag(certificate, 0x00),
}


@pytest.mark.parametrize("damage", sorted(UNREADABLE))
def test_check_calls_a_damaged_chain_certificate_critical(tmp_path, authority, damage):
    path = write(tmp_path / "imapd.pem",
                 pki.key_pem(authority.leaf_key) + pki.cert_pem(authority.leaf)
                 + pem(UNREADABLE[damage](authority.intermediate)))
    result = check.check_pem(str(path))
    assert result.status == check_result.CRITICAL, result.line()
    assert "certificate 2 of the chain cannot be parsed" in result.line() or (
        "does not verify" in result.line())
    assert "\n" not in result.line()
    json.dumps(result.as_json())


@pytest.mark.parametrize("damage", sorted(UNREADABLE))
def test_check_calls_a_damaged_certificate_critical(tmp_path, authority, damage):
    path = write(tmp_path / "imapd.pem", pki.key_pem(authority.leaf_key)
                 + pem(UNREADABLE[damage](self_signed(authority))))
    result = check.check_pem(str(path))
    assert result.status == check_result.CRITICAL, result.line()
    assert "\n" not in result.line()


@pytest.mark.parametrize("damage", sorted(UNREADABLE))
@pytest.mark.parametrize("prior", [None, b"the old PEM\n"])
def test_install_refuses_a_damaged_chain_certificate_in_one_line(layout, tmp_path, authority,
                                                                  damage, prior):
    key = write(tmp_path / "key.pem", pki.key_pem(authority.leaf_key))
    leaf = write(tmp_path / "leaf.pem", pki.cert_pem(authority.leaf), 0o644)
    bad = write(tmp_path / "chain.pem", pem(UNREADABLE[damage](authority.intermediate)), 0o644)
    if prior is not None:
        write(layout.certsdir / "imapd.pem", prior, 0o640)
    before = snapshot(layout.certsdir)
    result = layout.command("mkimapdcert", "--install", "--key", key, "--cert", leaf,
                            "--chain", bad)
    line = assert_one_clean_line(result, 1, [str(bad)])
    assert result.stdout == ""
    assert "certificate 1 cannot be read" in line or "does not hold" in line
    assert snapshot(layout.certsdir) == before


def test_check_of_a_bad_version_is_critical_end_to_end(layout, tmp_path, authority):
    path = write(layout.certsdir / "imapd.pem",
                 pki.key_pem(authority.leaf_key) + pki.cert_pem(authority.leaf)
                 + pem(with_version(authority.intermediate, 7)))
    result = layout.command("mkimapdcert", "--check", path)
    assert result.returncode == check_result.CRITICAL, result.stdout
    assert result.stderr == "" and result.stdout.count("\n") == 1
    assert "certificate 2 of the chain cannot be parsed: 7 is not a valid X509 version" in (
        result.stdout)


@pytest.fixture
def courier(layout):
    """CERTSDIR/imapd.pem to be renewed from SYSCONFDIR/imapd.cnf (the shipped example)."""
    layout.install_config("imapd", EXAMPLE_OPENSSL)
    return layout


# A version cryptography refuses makes the certificate unreadable; a name value
# of the wrong type is read (and printed as OpenSSL does, in hex), but breaks
# the signature: the certificate is no longer provably self-signed.
RENEWAL_REFUSAL = {"version-7": "the certificate cannot be parsed: 7 is not a valid X509 version",
                   "cn-bit-string": "not renewing: issued by O = mkcert tests, CN = #0311"}


@pytest.mark.parametrize("damage", sorted(RENEWAL_REFUSAL))
def test_renew_of_a_damaged_certificate_says_so_in_one_line(courier, authority, damage):
    pem_file = write(courier.certsdir / "imapd.pem", pki.key_pem(authority.leaf_key)
                     + pem(UNREADABLE[damage](self_signed(authority))), 0o640)
    before = snapshot(courier.certsdir)
    result = courier.command("mkimapdcert", "--renew", "--before", "400")
    assert_one_clean_line(result, 1, [str(pem_file), RENEWAL_REFUSAL[damage], "--force"])
    assert snapshot(courier.certsdir) == before


@pytest.mark.parametrize("damage", sorted(RENEWAL_REFUSAL))
def test_forced_renewal_replaces_a_damaged_certificate_keeping_old(courier, authority, damage):
    old = pki.key_pem(authority.leaf_key) + pem(UNREADABLE[damage](self_signed(authority)))
    pem_file = write(courier.certsdir / "imapd.pem", old, 0o640)
    result = courier.command("mkimapdcert", "--renew", "--force")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout.startswith(f"{pem_file}: renewed (forced; it ")
    assert (courier.certsdir / "imapd.pem.old").read_bytes() == old
    assert courier.listing() == ["imapd.pem", "imapd.pem.old"]
    checked = courier.command("mkimapdcert", "--check")
    assert checked.returncode == 0, checked.stdout


def test_install_replaces_a_pem_whose_certificate_is_damaged(layout, tmp_path, authority):
    old = pki.key_pem(authority.leaf_key) + pem(with_version(authority.leaf, 9))
    write(layout.certsdir / "imapd.pem", old, 0o640)
    key = write(tmp_path / "key.pem", pki.key_pem(authority.leaf_key))
    fullchain = write(tmp_path / "fullchain.pem", pki.cert_pem(authority.leaf)
                      + pki.cert_pem(authority.intermediate), 0o644)
    result = layout.command("mkimapdcert", "--install", "--key", key, "--cert", fullchain)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert (layout.certsdir / "imapd.pem.old").read_bytes() == old


# --- a seeded mutation run through every reader, in process ---------------------------------

def mutants(data, seed, count):
    """``count`` copies of ``data``, each with 1-3 bytes replaced (deterministic for a seed)."""
    chooser = random.Random(seed)
    interesting = [0x00, 0x01, 0x02, 0x03, 0x05, 0x0C, 0x13, 0x1E, 0x30, 0x7F, 0x80, 0x81,
                   0xFF]
    for _ in range(count):
        mutant = bytearray(data)
        for _ in range(chooser.randint(1, 3)):
            where = chooser.randrange(len(mutant))
            mutant[where] = (chooser.choice(interesting) if chooser.random() < 0.6
                             else chooser.randrange(256))
        yield bytes(mutant)


def every_reader(data, key, now):
    """Run what --check, --install and --renew read; return --check's result.

    Anything but success or MkcertError propagates and fails the test.
    """
    findings = check.Findings(path="imapd.pem")
    check.examine(data, findings, check.DEFAULT_WARN_DAYS, now)
    result = findings.result()
    assert result.status in (check_result.OK, check_result.WARNING, check_result.CRITICAL), result.line()
    assert "\n" not in result.line()
    json.dumps(result.as_json())
    result = result.replace(data=data)
    for force in (False, True):
        options = types.SimpleNamespace(before=30, force=force)
        try:
            renew.decide(result, options, "imapd.pem", now=now)
            renew._kept_names(result, options, "imapd.pem")
        except MkcertError:
            pass
    try:
        certificates = install._parse_certificates(data, "fullchain.pem")
        material = install.Material(key, b"", "privkey.pem", certificates, ["fullchain.pem"])
        install.verify(material, now)
        install._summary(material)
    except MkcertError:
        pass
    return result


SEEDS = {"leaf": 16, "chain": 61}


@pytest.mark.parametrize("role", sorted(SEEDS))
def test_mutated_certificates_are_read_or_refused_never_raised(authority, role):
    """1,500 seeded mutations per role, plus every byte of the version and name tags."""
    key = authority.leaf_key
    head = pki.key_pem(key)
    good = der_of(authority.leaf if role == "leaf" else authority.intermediate)

    def pem_of(mutant):
        if role == "leaf":
            return head + pem(mutant)
        return head + pki.cert_pem(authority.leaf) + pem(mutant)

    states = set()
    explicit = [with_version(authority.leaf if role == "leaf" else authority.intermediate, n)
                for n in (0, 1, 3, 7, 255)]
    for mutant in explicit + list(mutants(good, seed=SEEDS[role], count=1500)):
        states.add(every_reader(pem_of(mutant), key, pki.NOW).status)
    assert check_result.CRITICAL in states  # the mutations did reach the certificate


# --- a few end-to-end runs of the same: one line on stderr, no traceback --------------------

@pytest.mark.parametrize("seed", range(4))
def test_mutated_certificate_end_to_end(courier, authority, tmp_path, seed):
    mutant = list(mutants(der_of(self_signed(authority)), seed=1000 + seed, count=1))[0]
    data = pki.key_pem(authority.leaf_key) + pem(mutant)
    pem_file = write(courier.certsdir / "imapd.pem", data, 0o640)
    checked = courier.command("mkimapdcert", "--check")
    assert checked.returncode in (0, 1, 2) and checked.stderr == "", checked
    assert checked.stdout.count("\n") == 1
    renewed = courier.command("mkimapdcert", "--renew", "--before", "1")
    assert "Traceback" not in renewed.stderr
    if renewed.returncode == 1:
        assert_one_clean_line(renewed, 1, [str(pem_file)])
    else:
        assert renewed.returncode == 0 and renewed.stderr == "", renewed
    key = write(tmp_path / "key.pem", pki.key_pem(authority.leaf_key))
    cert = write(tmp_path / "cert.pem", pem(mutant), 0o644)
    installed = courier.command("mkimapdcert", "--install", "--key", key, "--cert", cert,
                                tmp_path / "out")
    assert "Traceback" not in installed.stderr
    if installed.returncode != 0:
        assert_one_clean_line(installed, 1)


# --- certificates our own commands make from odd configs ------------------------------------

NOMBSTR_CONFIG = """\
[ req ]
default_bits = 2048
default_md = sha256
distinguished_name = req_dn
x509_extensions = v3_ca
string_mask = nombstr
utf8 = yes
prompt = no

[ req_dn ]
C = DE
O = Müller GmbH
CN = Müller

[ v3_ca ]
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always,issuer:always
basicConstraints = CA:true
subjectAltName = DNS:mail.example.org
"""


def test_check_reads_a_certificate_made_from_an_easy_rsa_2_config(layout):
    """easy-rsa 2 (``string_mask = nombstr``): names in T61String, one in authorityKeyIdentifier."""
    layout.install_config("imapd", None, text=NOMBSTR_CONFIG)
    made = layout.command("mkimapdcert", "--san", "imap.example.org")
    assert made.returncode == 0, made.stderr
    pem_file = layout.certsdir / "imapd.pem"
    # What made this hard: cryptography refuses the names and every extension.
    from cryptography import x509

    loaded = x509.load_pem_x509_certificate(chain.certificate_blocks(
        chain.pem_blocks(pem_file.read_bytes()))[0])
    with pytest.raises(ValueError):
        loaded.extensions  # noqa: B018 - the access is the test
    result = layout.command("mkimapdcert", "--check")
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(f"CERT OK - {pem_file}: CN=M\\C3\\BCller expires ")
    report = json.loads(layout.command("mkimapdcert", "--check", "--json").stdout)
    assert report["problems"] == []
    assert report["common_name"] == "M\\C3\\BCller"
    assert report["subject"] == openssl("x509", "-in", pem_file, "-noout", "-subject",
                                        "-nameopt", "oneline").stdout.strip()[len("subject="):]


def test_renewal_keeps_the_names_of_an_easy_rsa_2_certificate(layout):
    layout.install_config("imapd", None, text=NOMBSTR_CONFIG)
    assert layout.command("mkimapdcert", "--san", "imap.example.org").returncode == 0
    renewed = layout.command("mkimapdcert", "--renew", "--force")
    assert renewed.returncode == 0, renewed.stderr
    names = openssl("x509", "-in", layout.certsdir / "imapd.pem", "-noout", "-ext",
                    "subjectAltName").stdout
    assert "DNS:mail.example.org, DNS:imap.example.org" in names


# --- output: one line, whatever the names hold ----------------------------------------------

def named(authority, common_name, issuer=None):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    return (x509.CertificateBuilder().subject_name(subject)
            .issuer_name(issuer.subject if issuer is not None else subject)
            .public_key(authority.leaf_key.public_key()).serial_number(5)
            .not_valid_before(pki.NOW - pki.DAY).not_valid_after(pki.NOW + 100 * pki.DAY)
            .sign(authority.leaf_key if issuer is None else authority.intermediate_key,
                  hashes.SHA256()))


def test_a_newline_in_a_common_name_stays_on_the_line(layout, authority):
    leaf = named(authority, "evil\nCERT OK - forged\r")
    pem_file = write(layout.certsdir / "imapd.pem",
                     pki.key_pem(authority.leaf_key) + pki.cert_pem(leaf))
    result = layout.command("mkimapdcert", "--check")
    assert result.stdout.count("\n") == 1, result.stdout
    assert result.stdout.startswith(
        f"CERT WARNING - {pem_file}: CN=evil\\0ACERT OK - forged\\0D expires ")
    report = json.loads(layout.command("mkimapdcert", "--check", "--json").stdout)
    assert report["common_name"] == "evil\\0ACERT OK - forged\\0D"


def test_a_newline_in_an_issuer_or_chain_name_stays_on_the_line(tmp_path, authority):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    evil = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "CA\nCERT OK")])
    intermediate = (x509.CertificateBuilder().subject_name(evil)
                    .issuer_name(authority.root.subject)
                    .public_key(authority.intermediate_key.public_key()).serial_number(6)
                    .not_valid_before(pki.NOW - pki.DAY)
                    .not_valid_after(pki.NOW + 10 * pki.DAY)
                    .sign(authority.root_key, hashes.SHA256()))
    leaf = named(authority, "mail", issuer=intermediate)
    path = write(tmp_path / "imapd.pem", pki.key_pem(authority.leaf_key) + pki.cert_pem(leaf)
                 + pki.cert_pem(intermediate))
    line = check.check_pem(str(path)).line()
    assert "\n" not in line
    assert ("issued by CN=CA\\0ACERT OK (chain of 1 verifies, "
            "shortest-lived: CN=CA\\0ACERT OK, ") in line


# --- PEM files shaped to make a scanner slow -------------------------------------------------

class CountingBytes(bytes):
    """Bytes that count what ``find`` examines: the span from ``start`` to the hit (or the end)."""

    examined = 0
    calls = 0

    def find(self, sub, start=0, end=None):
        CountingBytes.calls += 1
        at = super().find(sub, start, end)
        stop = (len(self) if end is None else end) if at < 0 else at + len(sub)
        CountingBytes.examined += max(0, stop - start)
        return at


def scanning_work(data):
    CountingBytes.examined = CountingBytes.calls = 0
    chain.pem_blocks(CountingBytes(data))
    return CountingBytes.examined, CountingBytes.calls


HOSTILE_SHAPES = {
    "unterminated-begins": lambda n: b"-----BEGIN CERTIFICATE-----\n" * n,
    "distinct-labels": lambda n: b"".join(b"-----BEGIN L%d-----\n" % i for i in range(n)),
    "ends-only": lambda n: b"-----END CERTIFICATE-----\n" * n,
    "begin-then-wrong-ends": lambda n: (b"-----BEGIN CERTIFICATE-----\n"
                                        + b"-----END PRIVATE KEY-----\n" * n),
    "begins-before-one-end": lambda n: (b"-----BEGIN CERTIFICATE-----\n" * n
                                        + b"-----END CERTIFICATE-----\n"),
    "alternating": lambda n: b"-----BEGIN A-----\n-----END B-----\n" * n,
}


@pytest.mark.parametrize("shape", sorted(HOSTILE_SHAPES))
def test_pem_scanning_is_linear(shape):
    """The bytes ``find`` examines grow with the file, not with its square."""
    small, large = (scanning_work(HOSTILE_SHAPES[shape](n)) for n in (2000, 4000))
    size = len(HOSTILE_SHAPES[shape](4000))
    assert large[0] <= 4 * size, (large, size)
    assert large[0] <= 2.2 * small[0] + 1000 and large[1] <= 2.2 * small[1] + 10


def old_pem_blocks(data):
    """The scanner as it was (a backtracking regex): the reference for what a block is."""
    pattern = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----\r?\n.*?-----END \1-----", re.DOTALL)
    return [(m.group(1), m.group(0)) for m in pattern.finditer(data)]


def test_pem_blocks_are_the_blocks_the_regex_found(authority):
    pieces = [b"-----BEGIN CERTIFICATE-----\n", b"-----END CERTIFICATE-----\n",
              b"-----BEGIN PRIVATE KEY-----\r\n", b"-----END PRIVATE KEY-----",
              b"-----BEGIN X-----", b"-----END X-----END CERTIFICATE-----", b"\n", b"ab",
              b"-----BEGIN a-----\n", b"-----BEGIN  -----\n", b"-----END  -----", b"-",
              pki.cert_pem(authority.leaf), pki.key_pem(authority.leaf_key)]
    chooser = random.Random(7)
    for _ in range(3000):
        data = b"".join(chooser.choice(pieces) for _ in range(chooser.randint(0, 12)))
        assert chain.pem_blocks(data) == old_pem_blocks(data), data


HANG_GUARD = 120  # seconds; the linear scanner needs well under one, the old one 16 minutes


def test_a_mebibyte_of_unterminated_begin_lines_is_read_at_once(courier, tmp_path, authority):
    """Each reader, on a 1 MiB file of BEGIN lines; the timeout only guards against a hang."""
    lines = b"-----BEGIN CERTIFICATE-----\n" * ((chain.MAX_PEM_BYTES - 100) // 28)
    pem_file = write(courier.certsdir / "imapd.pem", lines, 0o640)
    checked = courier.command("mkimapdcert", "--check", timeout=HANG_GUARD)
    assert (checked.returncode, checked.stdout) == (
        2, f"CERT CRITICAL - {pem_file}: not a PEM file (no BEGIN/END block)\n")
    renewed = courier.command("mkimapdcert", "--renew", timeout=HANG_GUARD)
    assert_one_clean_line(renewed, 1, ["no BEGIN/END block"])
    key = write(tmp_path / "key.pem", pki.key_pem(authority.leaf_key))
    installed = courier.command("mkimapdcert", "--install", "--key", key, "--cert", pem_file,
                                tmp_path / "out", timeout=HANG_GUARD)
    assert_one_clean_line(installed, 1, ["no certificate in it"])


# --- sizes: what our commands make, our commands read ---------------------------------------

def test_check_says_larger_than_for_an_oversized_file(tmp_path):
    path = write(tmp_path / "imapd.pem", b"A" * (chain.MAX_PEM_BYTES + 1))
    line = check.check_pem(str(path)).line()
    assert line == (f"CERT CRITICAL - {path}: larger than {chain.MAX_PEM_BYTES} bytes, "
                    f"more than any PEM holds; not read")


@pytest.mark.parametrize("force", [False, True])
def test_renewal_of_an_oversized_pem_touches_nothing(courier, force):
    write(courier.certsdir / "imapd.pem", b"A" * (chain.MAX_PEM_BYTES + 1), 0o640)
    before = snapshot(courier.certsdir)
    result = courier.command("mkimapdcert", "--renew", *(["--force"] if force else []))
    assert_one_clean_line(result, 1, [f"larger than {chain.MAX_PEM_BYTES} bytes",
                                      "not even with --force"])
    assert snapshot(courier.certsdir) == before


def names_config(count):
    """An OpenSSL config asking for ``count`` DNS names of 17 characters."""
    names = ",".join(f"DNS:h{i:05d}.example.org" for i in range(count))
    return (f"[ req ]\ndefault_bits = 2048\nprompt = no\ndistinguished_name = dn\n"
            f"x509_extensions = ext\n[ dn ]\nCN = mail.example.org\n"
            f"[ ext ]\nsubjectAltName = {names}\n")


def test_no_command_makes_a_pem_too_large_for_the_readers(layout):
    layout.install_config("imapd", None, text=names_config(30000))  # ~570 KB of names
    result = layout.command("mkimapdcert")
    assert_one_clean_line(result, 1, ["the certificate would be over", "fewer"])
    assert layout.listing() == []


def test_the_largest_pem_a_command_makes_is_read_by_the_others(layout):
    layout.install_config("imapd", None, text=names_config(26000))  # ~490 KB of names
    made = layout.command("mkimapdcert", "-q")
    assert made.returncode == 0, made.stderr
    pem_file = layout.certsdir / "imapd.pem"
    assert os.path.getsize(pem_file) > chain.MAX_PEM_BYTES // 2
    checked = layout.command("mkimapdcert", "--check")
    assert checked.returncode == 0, checked.stdout
    assert layout.command("mkimapdcert", "--renew").returncode == 0


# --- a chain that does not hold the leaf's issuer -------------------------------------------

@pytest.fixture
def loose(tmp_path, authority):
    directory = tmp_path / "in"
    directory.mkdir()
    return types.SimpleNamespace(
        key=write(directory / "key.pem", pki.key_pem(authority.leaf_key)),
        leaf=write(directory / "leaf.pem", pki.cert_pem(authority.leaf), 0o644),
        intermediate=write(directory / "chain.pem", pki.cert_pem(authority.intermediate),
                           0o644),
        fullchain=write(directory / "fullchain.pem", pki.cert_pem(authority.leaf)
                        + pki.cert_pem(authority.intermediate), 0o644))


INTERMEDIATE = "O = mkcert tests, CN = mkcert test intermediate"


@pytest.mark.parametrize("prior", [None, b"the old PEM\n"])
def test_the_leaf_given_again_as_chain_is_refused(layout, loose, prior):
    if prior is not None:
        write(layout.certsdir / "imapd.pem", prior, 0o640)
    before = snapshot(layout.certsdir)
    result = layout.command("mkimapdcert", "--install", "--key", loose.key,
                            "--cert", loose.leaf, "--chain", loose.leaf)
    assert_one_clean_line(result, 1, [f"the chain in {loose.leaf} does not hold the issuer",
                                      INTERMEDIATE])
    assert snapshot(layout.certsdir) == before


def test_a_leaf_installed_without_its_issuer_gets_a_warning(layout, loose):
    result = layout.command("mkimapdcert", "--install", "--key", loose.key, "--cert", loose.leaf)
    assert result.returncode == 0
    assert result.stdout.count("\n") == 1 and ": installed " in result.stdout
    warning = assert_one_clean_line(result, 0, [INTERMEDIATE])
    assert warning.startswith("mkimapdcert: warning: no chain certificate: ")
    quiet = layout.command("mkimapdcert", "--install", "-q", "--key", loose.key,
                           "--cert", loose.leaf)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


@pytest.mark.parametrize("files", [("fullchain", ()), ("fullchain", ("leaf",)),
                                   ("leaf", ("intermediate",)), ("leaf", ("fullchain",))])
def test_a_chain_holding_the_issuer_installs_without_a_word(layout, loose, files):
    cert, chains = files
    args = ["--install", "--key", loose.key, "--cert", getattr(loose, cert)]
    for name in chains:
        args += ["--chain", getattr(loose, name)]
    result = layout.command("mkimapdcert", *args)
    assert (result.returncode, result.stderr) == (0, "")
    assert "1 chain certificate)" in result.stdout


def test_a_self_signed_leaf_needs_no_chain(layout, tmp_path, authority):
    key = write(tmp_path / "key.pem", pki.key_pem(authority.leaf_key))
    cert = write(tmp_path / "cert.pem", pki.cert_pem(self_signed(authority)), 0o644)
    for extra in ([], ["--chain", cert]):
        result = layout.command("mkimapdcert", "--install", "--key", key, "--cert", cert, *extra)
        assert (result.returncode, result.stderr) == (0, "")


def test_the_hook_logs_the_missing_issuer_as_a_warning(layout, tmp_path, authority):
    from mkcert.cli import hook

    live = authority.write_certbot_lineage(str(tmp_path / "letsencrypt"))
    os.unlink(os.path.join(live, "fullchain.pem"))
    os.symlink("cert.pem", os.path.join(live, "fullchain.pem"))  # the leaf alone
    (layout.sysconfdir / "mkcert-install.conf").write_text(f"imapd {authority.domain}\n")
    logged = []
    environ = dict(layout.env, RENEWED_LINEAGE=live)
    assert hook.main(environ, lambda priority, line: logged.append((priority, line))) == 0
    import syslog

    assert [priority for priority, _ in logged] == [syslog.LOG_WARNING, syslog.LOG_INFO]
    assert logged[0][1].startswith(f"{layout.certsdir / 'imapd.pem'}: warning: no chain "
                                   f"certificate: clients must already know {INTERMEDIATE}")


# --- concurrent identical installs ----------------------------------------------------------

def material_of(loose):
    return install.read_material(str(loose.key), str(loose.fullchain))


def test_a_pem_published_meanwhile_with_this_content_is_unchanged(tmp_path, loose, monkeypatch):
    pem_file = str(tmp_path / "imapd.pem")
    user = pki_user()
    install.install_material(pem_file, material_of(loose), user)
    first_look_sees(monkeypatch, None)  # taken before the other run published
    outcome = install.install_material(pem_file, material_of(loose), user)
    assert not outcome.changed and ": unchanged, it already holds " in outcome.line
    assert sorted(os.listdir(tmp_path)) == ["imapd.pem", "in"]


def first_look_sees(monkeypatch, stale):
    """install's first look at the PEM sees ``stale``: another run publishes right after it."""
    real_current = install._current
    looks = []

    def stale_look(path):
        looks.append(path)
        return stale if len(looks) == 1 else real_current(path)

    monkeypatch.setattr(install, "_current", stale_look)


def test_a_pem_replaced_meanwhile_with_this_content_is_unchanged(tmp_path, loose, monkeypatch):
    pem_file = tmp_path / "imapd.pem"
    write(pem_file, b"the old PEM\n", 0o640)
    stale = (b"the old PEM\n", os.lstat(pem_file))
    install.install_material(str(pem_file), material_of(loose), pki_user())  # the other run
    (tmp_path / "imapd.pem.old").unlink()
    first_look_sees(monkeypatch, stale)
    outcome = install.install_material(str(pem_file), material_of(loose), pki_user())
    assert not outcome.changed and ": unchanged, it already holds " in outcome.line
    assert sorted(os.listdir(tmp_path)) == ["imapd.pem", "in"]


def test_other_content_published_meanwhile_is_replaced_as_it_would_be_later(
        tmp_path, loose, monkeypatch):
    pem_file = tmp_path / "imapd.pem"
    write(pem_file, b"another run's PEM\n", 0o600)
    first_look_sees(monkeypatch, None)
    outcome = install.install_material(str(pem_file), material_of(loose), pki_user())
    assert outcome.changed
    assert (tmp_path / "imapd.pem.old").read_bytes() == b"another run's PEM\n"


def pki_user():
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


@pytest.mark.parametrize("prior", [None, b"the old PEM\n"])
def test_concurrent_identical_installs_all_succeed(layout, loose, prior):
    if prior is not None:
        write(layout.certsdir / "imapd.pem", prior, 0o640)
    runs = [layout.popen("mkimapdcert", "--install", "--key", loose.key,
                         "--cert", loose.fullchain) for _ in range(8)]
    results = [(*run.communicate(timeout=120), run.returncode) for run in runs]
    assert [status for _, _, status in results] == [0] * 8, results
    assert all(err == "" for _, err, _ in results), results
    lines = [out for out, _, _ in results]
    installed = [line for line in lines if ": installed " in line]
    assert 1 <= len(installed) and len(installed) + sum(
        ": unchanged, it already holds " in line for line in lines) == 8
    if prior is None:
        assert len(installed) == 1 and layout.listing() == ["imapd.pem"]
    else:
        assert (layout.certsdir / "imapd.pem.old").read_bytes() == prior
    key_public = openssl("pkey", "-in", layout.certsdir / "imapd.pem", "-pubout").stdout
    assert key_public == openssl("x509", "-in", loose.leaf, "-pubkey", "-noout").stdout

