"""mkcourierca and mk<NAME>cert --ca: a private CA, proven with openssl as the oracle.

openssl x509 reads what the CA certificate says, ``openssl verify -CAfile
courier-ca.pem`` decides whether a client that imported the CA accepts a
PEM (before and after renewals), and a leaf that openssl itself signs with
the CA key shows that the name constraints bind.
"""

import os
import re
import stat
import subprocess

import pytest

from conftest import BIN, data_path, openssl

SERVER = "mail.example.org"
CA_FILES = ["courier-ca.key", "courier-ca.pem"]


def ca(layout, *args, **kwargs):
    result = layout.command("mkcourierca", *args, **kwargs)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def make_ca(layout, *args):
    result = ca(layout, "--domain", "example.org", *args)
    assert result.returncode == 0, result.stderr
    return layout.certsdir / "courier-ca.pem", layout.certsdir / "courier-ca.key"


def issue(layout, program="mkimapdcert", *args):
    result = layout.command(program, "--ca", "--san", SERVER, *args)
    assert "Traceback" not in result.stderr, result.stderr
    return result


def install_services(layout):
    layout.install_config("imapd", data_path("openssl", "imapd.cnf"), bits=1024)
    layout.install_config("pop3d", data_path("gnutls", "pop3d.cnf"))
    layout.env["BITS"] = "1024"


def text_of(path):
    return openssl("x509", "-in", path, "-noout", "-text").stdout


def verify(ca_pem, pem, purpose="sslserver"):
    """openssl verify of the PEM's first certificate, the PEM's others as untrusted."""
    return subprocess.run(["openssl", "verify", "-purpose", purpose, "-CAfile", str(ca_pem),
                           "-untrusted", str(pem), str(pem)], capture_output=True, text=True)


def sha256_fingerprint(path):
    return openssl("x509", "-in", path, "-noout", "-fingerprint", "-sha256").stdout.strip()


def public_key(path):
    return openssl("x509", "-in", path, "-noout", "-pubkey").stdout


def extension(path, name):
    """The lines openssl prints for one extension (its header without the label)."""
    lines = text_of(path).splitlines()
    for index, line in enumerate(lines):
        if line.strip().startswith(f"X509v3 {name}:"):
            found = [line.strip()]
            for following in lines[index + 1:]:
                if following.strip().startswith(("X509v3", "Signature Algorithm", "Authority")):
                    break
                found.append(following.strip())
            return found
    return None


def test_the_ca_certificate_says_what_the_issue_asks(layout):
    certificate, key = make_ca(layout, "--domain", "example.net", "--ip", "192.0.2.0/24")
    assert extension(certificate, "Basic Constraints") == [
        "X509v3 Basic Constraints: critical", "CA:TRUE, pathlen:0"]
    assert extension(certificate, "Key Usage") == [
        "X509v3 Key Usage: critical", "Certificate Sign, CRL Sign"]
    assert extension(certificate, "Name Constraints") == [
        "X509v3 Name Constraints: critical", "Permitted:", "DNS:example.org", "DNS:example.net",
        "IP:192.0.2.0/255.255.255.0"]
    assert extension(certificate, "Subject Key Identifier") is not None
    text = text_of(certificate)
    assert "Public-Key: (3072 bit)" in text and "sha256WithRSAEncryption" in text
    dates = openssl("x509", "-in", certificate, "-noout", "-startdate", "-enddate").stdout
    start, end = (re.search(r"(\d{4}) GMT", line).group(1) for line in dates.splitlines())
    assert int(end) - int(start) == 10
    # The key is the certificate's, 0600 and the caller's; the certificate 0644.
    assert openssl("pkey", "-in", key, "-pubout").stdout == public_key(certificate)
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert os.stat(key).st_uid == os.geteuid()
    assert stat.S_IMODE(os.stat(certificate).st_mode) == 0o644
    assert layout.listing() == CA_FILES
    assert verify(certificate, certificate, "any").returncode == 0


def test_without_ip_no_address_is_permitted(layout):
    certificate, _ = make_ca(layout, "--key-type", "ec")
    assert extension(certificate, "Name Constraints") == [
        "X509v3 Name Constraints: critical", "Permitted:", "DNS:example.org", "Excluded:",
        "IP:0.0.0.0/0.0.0.0", "IP:0:0:0:0:0:0:0:0/0:0:0:0:0:0:0:0"]
    assert "ASN1 OID: prime256v1" in text_of(certificate)


def test_it_never_overwrites_and_says_so_as_upstream(layout):
    certificate, key = make_ca(layout, "--key-type", "ec")
    before = certificate.read_bytes(), key.read_bytes()
    result = ca(layout, "--domain", "example.org")
    assert (result.returncode, result.stdout) == (1, f"{certificate} already exists.\n")
    certificate.unlink()
    result = ca(layout, "--domain", "example.org")
    assert (result.returncode, result.stdout) == (1, f"{key} already exists.\n")
    assert key.read_bytes() == before[1] and layout.listing() == ["courier-ca.key"]


@pytest.mark.parametrize("args, message", [
    ([], "needs at least one --domain"),
    (["--domain", "*.example.org"], "its subdomains are always included"),
    (["--domain", "exa mple.org"], "not a valid DNS name"),
    (["--domain", "example.org", "--ip", "192.0.2.1/24"], "not an IP address or network"),
    (["--domain", "example.org", "--key-type", "dsa"], "is not rsa[:BITS], ec"),
    (["--export", "--der"], "give the file with -o FILE"),
])
def test_usage_errors_are_one_line_and_touch_nothing(layout, args, message):
    result = ca(layout, *args)
    assert result.returncode == 2 and message in result.stderr.splitlines()[-1], result.stderr
    assert layout.listing() == []


def test_export_pem_der_and_fingerprint_match_openssl(layout, tmp_path):
    certificate, _ = make_ca(layout, "--key-type", "ec")
    result = ca(layout, "--export")
    assert result.stdout.encode() == certificate.read_bytes()
    der = tmp_path / "ca.der"
    result = ca(layout, "--export", "--der", "-o", der, "--fingerprint")
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(der).st_mode) == 0o644
    assert openssl("x509", "-inform", "DER", "-in", der).stdout.encode() == \
        certificate.read_bytes()
    assert result.stdout.splitlines()[-1] == sha256_fingerprint(certificate)
    assert ca(layout, "--fingerprint").stdout.strip() == sha256_fingerprint(certificate)
    again = ca(layout, "--export", "--der", "-o", der)
    assert (again.returncode, again.stdout) == (1, f"{der} already exists.\n")
    der.unlink()


def test_issued_pems_verify_before_and_after_two_renewals(layout):
    """Item 6: every issued PEM verifies; the CA's fingerprint never changes."""
    install_services(layout)
    certificate, _ = make_ca(layout)
    fingerprint = sha256_fingerprint(certificate)
    keys = {}
    for program, name in (("mkimapdcert", "imapd"), ("mkpop3dcert", "pop3d")):
        result = issue(layout, program)
        assert result.returncode == 0, result.stderr
        pem = layout.certsdir / f"{name}.pem"
        assert verify(certificate, pem).returncode == 0, verify(certificate, pem).stdout
        blocks = re.findall(r"-----BEGIN ([A-Z ]+)-----", pem.read_text())
        assert blocks[:3] == [blocks[0], "CERTIFICATE", "CERTIFICATE"] and "KEY" in blocks[0]
        assert pem.read_text().split("-----BEGIN CERTIFICATE-----")[2].strip() == \
            certificate.read_text().split("-----BEGIN CERTIFICATE-----")[1].strip()
        keys[name] = [public_key(pem)]
    for _ in range(2):
        for program, name in (("mkimapdcert", "imapd"), ("mkpop3dcert", "pop3d")):
            result = layout.command(program, "--renew", "--force")
            assert result.returncode == 0, result.stderr
            assert "renewed from the local CA" in result.stdout
            pem = layout.certsdir / f"{name}.pem"
            assert verify(certificate, pem).returncode == 0
            keys[name].append(public_key(pem))
    assert sha256_fingerprint(certificate) == fingerprint
    for name in keys:
        assert len(set(keys[name])) == 3, f"{name}: each renewal makes a new key"
        assert SERVER in "".join(extension(layout.certsdir / f"{name}.pem",
                                           "Subject Alternative Name"))


def test_the_leaf_has_what_a_ca_issued_server_certificate_needs(layout):
    install_services(layout)
    certificate, _ = make_ca(layout)
    assert issue(layout).returncode == 0
    pem = layout.certsdir / "imapd.pem"
    assert extension(pem, "Extended Key Usage")[1] == "TLS Web Server Authentication"
    ca_ski = extension(certificate, "Subject Key Identifier")[1]
    assert extension(pem, "Authority Key Identifier")[1].removeprefix("keyid:") == ca_ski
    text = text_of(pem)
    # Courier's imapd.cnf says default_md = sha1, which a CA must not sign with.
    assert "Signature Algorithm: sha256WithRSAEncryption" in text
    assert re.search(r"Issuer: O = Courier mail server, OU = private CA [0-9A-F]{8}, "
                     r"CN = example.org mail CA", text)
    assert "Subject: C = US, ST = Vermont" in text  # the .cnf's subject, as a first run
    assert check_output_line(layout).startswith(f"CERT WARNING - {pem}: CN=localhost")  # 1024 bits
    # The template's fixed "serial = 001" is not repeated under one issuer.
    assert issue(layout, "mkpop3dcert").returncode == 0
    serial = openssl("x509", "-in", layout.certsdir / "pop3d.pem", "-noout", "-serial").stdout
    assert serial.strip() != "serial=01"


def check_output_line(layout, program="mkimapdcert"):
    return layout.command(program, "--check").stdout.strip()


def _openssl_leaf(tmp_path, ca_pem, ca_key, name, days=30):
    """A leaf for ``name`` that openssl signs with the CA's key (AKI from the CA)."""
    key, csr, leaf = tmp_path / "leaf.key", tmp_path / "leaf.csr", tmp_path / "leaf.crt"
    extensions = tmp_path / "leaf.ext"
    extensions.write_text(f"subjectAltName = DNS:{name}\nextendedKeyUsage = serverAuth\n"
                          f"authorityKeyIdentifier = keyid\n")
    openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr,
            "-subj", f"/CN={name}")
    openssl("x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key, "-CAcreateserial",
            "-days", days, "-out", leaf, "-extfile", extensions)
    return key, leaf


def test_a_name_outside_the_constraints_fails_openssl_and_our_ca_refuses_it(layout, tmp_path):
    install_services(layout)
    certificate, key = make_ca(layout, "--ip", "192.0.2.0/24")
    _, leaf = _openssl_leaf(tmp_path, certificate, key, "mail.example.net")
    result = verify(certificate, leaf)
    assert result.returncode != 0 and "permitted subtree violation" in result.stdout + \
        result.stderr
    for name in ("mail.example.net", "198.51.100.7", "example.org.evil.test"):
        ours = layout.command("mkimapdcert", "--ca", "--san", SERVER, "--san", name)
        assert ours.returncode == 1 and len(ours.stderr.splitlines()) == 1, ours.stderr
        assert "outside the CA's names" in ours.stderr and name in ours.stderr
        assert layout.listing() == CA_FILES + ["courier-ca.srl"]
    inside = issue(layout, "mkimapdcert", "--san", "192.0.2.25", "--san", "*.mx.example.org")
    assert inside.returncode == 0, inside.stderr
    assert verify(certificate, layout.certsdir / "imapd.pem").returncode == 0
    (layout.certsdir / "courier-ca.srl").unlink()


def test_without_names_the_ca_issues_nothing(layout):
    install_services(layout)
    make_ca(layout)
    result = layout.command("mkimapdcert", "--ca")
    assert result.returncode == 1 and "give them with --san" in result.stderr
    assert layout.listing() == CA_FILES


def test_renew_knows_the_ca_by_key_identifier_and_signature_not_by_name(layout, tmp_path):
    install_services(layout)
    certificate, key = make_ca(layout)
    pem = layout.certsdir / "imapd.pem"
    # A due leaf that the CA's key signed (made by openssl): re-issued.
    leaf_key, leaf = _openssl_leaf(tmp_path, certificate, key, SERVER, days=5)
    pem.write_bytes(leaf_key.read_bytes() + leaf.read_bytes())
    result = layout.command("mkimapdcert", "--renew")
    assert result.returncode == 0 and "renewed from the local CA" in result.stdout, result
    assert verify(certificate, pem).returncode == 0
    # The same names, but another key signed it: not ours, not renewed.
    impostor = tmp_path / "impostor"
    impostor.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", impostor / "ca.key",
            "-out", impostor / "ca.pem", "-subj",
            openssl("x509", "-in", certificate, "-noout", "-subject", "-nameopt",
                    "compat").stdout.strip().removeprefix("subject="),
            "-addext", "basicConstraints=critical,CA:TRUE", "-days", "30")
    leaf_key, leaf = _openssl_leaf(tmp_path, impostor / "ca.pem", impostor / "ca.key", SERVER,
                                   days=5)
    pem.write_bytes(leaf_key.read_bytes() + leaf.read_bytes())
    result = layout.command("mkimapdcert", "--renew")
    assert result.returncode == 1 and "not self-signed" in result.stderr, result
    for path in (impostor / "ca.pem", impostor / "ca.key", impostor / "ca.srl"):
        path.unlink(missing_ok=True)
    (layout.certsdir / "courier-ca.srl").unlink()


def test_a_renewed_ca_keeps_key_subject_and_identifier(layout):
    install_services(layout)
    certificate, _ = make_ca(layout)
    assert issue(layout).returncode == 0
    old_key, old_text = public_key(certificate), text_of(certificate)
    not_due = ca(layout, "--renew")
    assert not_due.returncode == 0 and "not due for renewal" in not_due.stdout
    result = ca(layout, "--renew", "--force")
    assert result.returncode == 0, result.stderr
    assert public_key(certificate) == old_key
    for name in ("Subject Key Identifier", "Name Constraints"):
        assert extension(certificate, name) == [
            line.strip() for line in _section(old_text, name)]
    assert openssl("x509", "-in", certificate, "-noout", "-subject").stdout == openssl(
        "x509", "-in", layout.certsdir / "courier-ca.pem.old", "-noout", "-subject").stdout
    assert stat.S_IMODE(os.stat(certificate).st_mode) == 0o644
    # What the old certificate's key signed verifies under the new one.
    assert verify(certificate, layout.certsdir / "imapd.pem").returncode == 0
    renewed = layout.command("mkimapdcert", "--renew", "--force")
    assert renewed.returncode == 0, renewed.stderr
    assert verify(layout.certsdir / "courier-ca.pem.old",
                  layout.certsdir / "imapd.pem").returncode == 0


def _section(text, name):
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(f"X509v3 {name}:"))
    end = start + 1
    while end < len(lines) and not lines[end].strip().startswith(("X509v3", "Signature Alg")):
        end += 1
    return lines[start:end]


def test_check_warns_of_the_ca_ending_and_caps_the_leaf(layout):
    install_services(layout)
    certificate, _ = make_ca(layout, "--days", "60")
    assert issue(layout).returncode == 0
    pem = layout.certsdir / "imapd.pem"
    ends = [openssl("x509", "-in", path, "-noout", "-enddate").stdout
            for path in (certificate, pem)]
    assert ends[0] == ends[1]  # capped at the CA's end, not the .cnf's 365 days
    result = layout.command("mkimapdcert", "--check")
    assert result.returncode == 1, result.stdout
    assert f"the CA {certificate} expires" in result.stdout and "mkcourierca --renew" in \
        result.stdout
    own = ca(layout, "--check")
    assert own.returncode == 1 and "due for renewal (mkcourierca --renew)" in own.stdout
    assert ca(layout, "--check", "--warn", "30").returncode == 0


def test_check_of_the_ca_finds_an_exposed_key(layout):
    certificate, key = make_ca(layout, "--key-type", "ec")
    assert ca(layout, "--check").returncode == 0
    os.chmod(key, 0o640)
    result = ca(layout, "--check")
    assert result.returncode == 2 and "mode 0640" in result.stdout
    issued = layout.command("mkimapdcert", "--ca", "--san", SERVER)
    assert issued.returncode == 1 and "readable by its owner alone" in issued.stderr
    assert ca(layout, "--check", "--bogus").returncode == 3


def test_destroy_key_issues_the_services_then_renewal_needs_a_new_ca(layout):
    install_services(layout)
    certificate, key = make_ca(layout)
    assert issue(layout).returncode == 0
    assert layout.command("mkpop3dcert", "-q").returncode == 0  # self-signed, no names yet
    refused = ca(layout, "--destroy-key")
    assert refused.returncode == 1 and f"not removing {key}" in refused.stderr
    assert "pop3d.pem" in refused.stderr and key.exists()
    result = ca(layout, "--destroy-key", "--san", SERVER)
    assert result.returncode == 0, result.stderr
    assert not key.exists() and f"{key}: removed" in result.stdout
    for name in ("imapd", "pop3d"):
        assert verify(certificate, layout.certsdir / f"{name}.pem").returncode == 0
    assert not (layout.certsdir / "esmtpd.pem").exists()  # no PEM: not a service here
    renew = layout.command("mkimapdcert", "--renew", "--force")
    assert renew.returncode == 1 and "renewal needs a new CA" in renew.stderr
    assert len(renew.stderr.splitlines()) == 1
    checked = ca(layout, "--check")
    assert checked.returncode == 0 and "no key (removed)" in checked.stdout


@pytest.mark.parametrize("args", [["--help"], ["--version"], ["--domain", "example.org"]])
def test_cheap_answers_load_no_crypto(layout, args):
    """--help, --version and "already exists" load no crypto library."""
    from test_startup import HEAVY, imported_modules

    for name in CA_FILES:
        (layout.certsdir / name).write_text("x")
    result, modules = imported_modules([os.path.join(BIN, "mkcourierca"), *args], layout.env)
    assert result.returncode == (1 if args[0] == "--domain" else 0), result.stderr
    assert not [m for m in modules if m.split(".")[0] in HEAVY]
    for name in CA_FILES:
        (layout.certsdir / name).unlink()


def test_the_timers_helper_renews_the_ca_and_what_it_issued(layout, tmp_path):
    """debian/courier-mkcert-renew-all: the CA while it has its key, then its PEMs."""
    from conftest import ROOT

    install_services(layout)
    certificate, key = make_ca(layout, "--days", "300")  # within the CA's year: due
    assert issue(layout).returncode == 0
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "mkimapdcert").symlink_to(os.path.join(BIN, "mkcouriercert"))
    (bindir / "mkcourierca").symlink_to(os.path.join(BIN, "mkcourierca"))
    old_key = public_key(certificate)
    env = dict(layout.env, COURIER_MKCERT_BINDIR=str(bindir))
    helper = os.path.join(ROOT, "debian", "courier-mkcert-renew-all")
    result = subprocess.run([helper, "400"], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{certificate}: renewed with the same key")
    assert any(line.startswith(f"{layout.certsdir / 'imapd.pem'}: renewed from the local CA")
               for line in lines), lines
    assert public_key(certificate) == old_key
    assert verify(certificate, layout.certsdir / "imapd.pem").returncode == 0
    # Without the key the CA is left alone, and a due PEM it issued fails.
    key.unlink()
    result = subprocess.run([helper, "400"], env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1 and "renewal needs a new CA" in result.stderr
    assert "courier-ca.pem" not in result.stdout


def test_a_damaged_ca_file_does_not_stop_checking_other_pems(layout, tmp_path):
    install_services(layout)
    certificate, _ = make_ca(layout)
    assert issue(layout).returncode == 0
    certificate.write_text("not a certificate\n")
    result = layout.command("mkimapdcert", "--check")
    assert result.returncode == 1 and "Traceback" not in result.stderr  # 1024 bits: WARNING
    assert result.stdout.startswith("CERT WARNING") and "check failed" not in result.stdout
    own = ca(layout, "--check")
    assert own.returncode == 2 and own.stdout.startswith(f"CA CRITICAL - {certificate}")
