"""Several domains (SNI): ``--domain``, ``--which``, ``--check`` of siblings, and
TLS_CERTFILE / TLS_PRIVATE_KEYFILE from the service config, through the real commands.

What the files hold is judged by the ``openssl`` binary; which file Courier
serves is judged against Debian's couriertls in
tests/differential/test_courier_sni.py and the chroot test.
"""

import json
import os
import stat

import pytest

import pki
from conftest import data_path, openssl

NO_COURIERTLS = "/nonexistent/couriertls"  # the IDN library of today's Courier (libidn2)


@pytest.fixture
def sni(layout):
    layout.install_config("imapd", data_path("gnutls", "imapd.cnf"))
    layout.env.update(BITS="1024", COURIER_COURIERTLS=NO_COURIERTLS)
    return layout


def pem(layout, suffix=""):
    return layout.certsdir / f"imapd.pem{suffix}"


def subject_and_names(path):
    out = openssl("x509", "-in", path, "-noout", "-subject", "-ext", "subjectAltName").stdout
    return out


def key_matches_certificate(key_path, cert_path):
    return (openssl("pkey", "-in", key_path, "-pubout").stdout ==
            openssl("x509", "-in", cert_path, "-pubkey", "-noout").stdout)


def test_domain_first_run_names_the_domain(sni):
    result = sni.command("mkimapdcert", "--domain", "Mail.Example.ORG")
    assert result.returncode == 0, result.stderr
    path = pem(sni, ".mail.example.org")
    shown = subject_and_names(path)
    assert "CN = mail.example.org" in shown
    assert "DNS:mail.example.org" in shown
    assert key_matches_certificate(path, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert sni.listing() == ["imapd.pem.mail.example.org"]  # no seed, no temporary left


def test_domain_may_be_an_address_and_repeats(sni):
    result = sni.command("mkimapdcert", "--domain", "192.0.2.1", "--domain", "a.example",
                         "--domain", "A.example", "-q")
    assert result.returncode == 0, result.stderr
    assert sni.listing() == ["imapd.pem.192.0.2.1", "imapd.pem.a.example"]
    assert "IP Address:192.0.2.1" in subject_and_names(pem(sni, ".192.0.2.1"))


@pytest.mark.parametrize("name", ["a/b.example", "a..example", "*.example.org", "", "a b"])
def test_bad_domain_is_one_line_exit_1_and_writes_nothing(sni, name):
    result = sni.command("mkimapdcert", "--domain", "ok.example", "--domain", name)
    assert result.returncode == 1
    assert result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert sni.listing() == []


def test_domain_already_exists_as_upstream_says_it(sni):
    pem(sni, ".a.example").write_text("x")
    result = sni.command("mkimapdcert", "--domain", "a.example")
    assert result.returncode == 1
    assert result.stdout == f"{pem(sni, '.a.example')} already exists.\n"


def test_renew_of_a_domain_keeps_its_name(sni):
    assert sni.command("mkimapdcert", "--domain", "a.example", "-q").returncode == 0
    result = sni.command("mkimapdcert", "--renew", "--force", "--domain", "a.example")
    assert result.returncode == 0, result.stderr
    assert "DNS:a.example" in subject_and_names(pem(sni, ".a.example"))
    assert sorted(sni.listing()) == ["imapd.pem.a.example", "imapd.pem.a.example.old"]


def test_install_into_a_domain_file(sni, tmp_path):
    authority = pki.Pki(leaf_kind="rsa")
    live = authority.write_certbot_lineage(str(tmp_path / "le"))
    result = sni.command("mkimapdcert", "--install", "--from-certbot", live,
                         "--domain", "mail.example.test")
    assert result.returncode == 0, result.stderr
    path = pem(sni, ".mail.example.test")
    assert key_matches_certificate(path, path)
    assert "CN = mail.example.test" in subject_and_names(path)


# --- --which -------------------------------------------------------------------

def test_which_gnutls_serves_the_parent_domain(sni):
    for suffix in ("", ".example.net"):
        pem(sni, suffix).write_text("x")
    result = sni.command("mkimapdcert", "--which", "imap.example.net")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{pem(sni, '.example.net')}: served to a client naming "
                               f"imap.example.net")
    assert f"tried {pem(sni, '.imap.example.net')}: not there" in lines[1]


def test_which_openssl_takes_the_exact_name_only(sni):
    for suffix in ("", ".example.net"):
        pem(sni, suffix).write_text("x")
    env = dict(sni.env, COURIER_SSLLIB="openssl")
    result = sni.command("mkimapdcert", "--which", "imap.example.net", env=env)
    assert result.returncode == 1  # only the default
    assert result.stdout.splitlines()[0].startswith(f"{pem(sni)}: served")


def test_which_local_ip_and_no_name(sni):
    for suffix in ("", ".127.0.0.1"):
        pem(sni, suffix).write_text("x")
    result = sni.command("mkimapdcert", "--which", "", "--local-ip", "::ffff:127.0.0.1")
    assert result.returncode == 0
    assert result.stdout.startswith(f"{pem(sni, '.127.0.0.1')}: served to a client sending "
                                    f"no name")
    result = sni.command("mkimapdcert", "--which", "")
    assert result.returncode == 1


def test_which_usage_errors(sni):
    assert sni.command("mkimapdcert", "--local-ip", "1.2.3.4").returncode == 2
    assert sni.command("mkimapdcert", "--which", "a", "--check").returncode == 3
    assert sni.command("mkimapdcert", "--which", "a", "--domain", "a").returncode == 2


# --- --check of the siblings -------------------------------------------------------

def test_check_covers_every_sibling_worst_first(sni):
    assert sni.command("mkimapdcert", "-q").returncode == 0
    assert sni.command("mkimapdcert", "--domain", "a.example", "-q").returncode == 0
    os.link(pem(sni, ".a.example"), pem(sni, ".Capital.example"))
    pem(sni, ".broken.example").write_text("garbage")
    os.chmod(pem(sni, ".broken.example"), 0o600)
    for leftover in (".old", ".a.example.old", ".tmp.0123456789abcdef", ".rand"):
        pem(sni, leftover).write_text("not checked")
    result = sni.command("mkimapdcert", "--check")
    lines = result.stdout.splitlines()
    assert result.returncode == 2
    assert len(lines) == 4
    assert lines[0].startswith(f"CERT CRITICAL - {pem(sni, '.broken.example')}:")
    capital = [line for line in lines if ".Capital.example" in line]
    assert capital and capital[0].startswith("CERT WARNING") and "capitals" in capital[0]
    listed = json.loads(sni.command("mkimapdcert", "--check", "--json").stdout)
    assert isinstance(listed, list) and len(listed) == 4
    assert listed[0]["status"] == "CRITICAL"


def test_check_without_siblings_prints_one_object_as_before(sni):
    assert sni.command("mkimapdcert", "-q").returncode == 0
    found = json.loads(sni.command("mkimapdcert", "--check", "--json").stdout)
    assert isinstance(found, dict) and found["path"] == str(pem(sni))


def test_check_of_one_domain(sni):
    assert sni.command("mkimapdcert", "--domain", "a.example", "-q").returncode == 0
    result = sni.command("mkimapdcert", "--check", "--domain", "a.example")
    assert result.stdout.startswith(f"CERT WARNING - {pem(sni, '.a.example')}: CN=a.example")
    assert result.returncode == 1  # a 1024-bit key
    result = sni.command("mkimapdcert", "--check", "--domain", "b.example")
    assert result.returncode == 2 and "missing" in result.stdout


# --- the service config ------------------------------------------------------------

def test_tls_certfile_from_the_service_config_is_every_modes_default(sni, tmp_path):
    elsewhere = tmp_path / "tls"
    elsewhere.mkdir()
    certfile = elsewhere / "mail.crt"
    (sni.sysconfdir / "imapd-ssl").write_text(f'# Courier\nTLS_CERTFILE="{certfile}"\n')
    assert sni.command("mkimapdcert", "-q").returncode == 0
    assert certfile.exists() and sni.listing() == []
    result = sni.command("mkimapdcert")
    assert result.returncode == 1 and result.stdout == f"{certfile} already exists.\n"
    assert sni.command("mkimapdcert", "--check").stdout.startswith(f"CERT WARNING - {certfile}")
    assert sni.command("mkimapdcert", "--domain", "a.example", "-q").returncode == 0
    assert os.path.exists(f"{certfile}.a.example")


def test_a_config_we_cannot_follow_stops_the_run(sni):
    (sni.sysconfdir / "imapd-ssl").write_text("TLS_CERTFILE=$SOMEWHERE/imapd.pem\n")
    result = sni.command("mkimapdcert")
    assert result.returncode == 1
    assert result.stderr.startswith(f"mkimapdcert: {sni.sysconfdir / 'imapd-ssl'}:1: ")
    assert sni.listing() == []
    assert sni.command("mkimapdcert", "--check").returncode == 3


def test_separate_key_file(sni, tmp_path):
    certfile, keyfile = sni.certsdir / "chain.pem", sni.certsdir / "private.pem"
    (sni.sysconfdir / "imapd-ssl").write_text(
        f"TLS_CERTFILE={certfile}\nTLS_PRIVATE_KEYFILE={keyfile}\n")
    assert sni.command("mkimapdcert", "-q").returncode == 0
    assert key_matches_certificate(keyfile, certfile)
    assert b"PRIVATE KEY" not in certfile.read_bytes()
    assert stat.S_IMODE(os.stat(keyfile).st_mode) == 0o600
    assert sni.command("mkimapdcert", "--check").stdout.startswith("CERT WARNING")  # 1024 bits
    authority = pki.Pki(leaf_kind="rsa")
    live = authority.write_certbot_lineage(str(tmp_path / "le"))
    result = sni.command("mkimapdcert", "--install", "--from-certbot", live)
    assert result.returncode == 0, result.stderr
    assert key_matches_certificate(keyfile, certfile)
    assert sorted(sni.listing()) == ["chain.pem", "chain.pem.old", "private.pem",
                                     "private.pem.old"]
    again = sni.command("mkimapdcert", "--install", "--from-certbot", live)
    assert again.returncode == 0 and "unchanged" in again.stdout
    assert sni.command("mkimapdcert", "--domain", "a.example", "-q").returncode == 0
    assert key_matches_certificate(f"{keyfile}.a.example", f"{certfile}.a.example")


def test_renew_all_renews_per_domain_siblings(sni, tmp_path):
    import subprocess

    from conftest import BIN, ROOT

    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "mkimapdcert").symlink_to(os.path.join(BIN, "mkcouriercert"))
    assert sni.command("mkimapdcert", "--days", "400", "-q").returncode == 0
    assert sni.command("mkimapdcert", "--days", "2", "--domain", "a.example",
                       "-q").returncode == 0
    pem(sni, ".Capital.example").write_bytes(pem(sni, ".a.example").read_bytes())
    os.chmod(pem(sni, ".Capital.example"), 0o600)
    pem(sni, ".old").write_text("a leftover")
    env = dict(sni.env, COURIER_MKCERT_BINDIR=str(bindir))
    result = subprocess.run([os.path.join(ROOT, "debian", "courier-mkcert-renew-all")],
                            env=env, capture_output=True, text=True, timeout=300)
    assert f"{pem(sni, '.a.example')}: renewed" in result.stdout, result.stderr
    assert f"{pem(sni)}: not due" in result.stdout
    assert f"{pem(sni, '.Capital.example')}: not renewed" in result.stderr
    assert sorted(sni.listing()) == ["imapd.pem", "imapd.pem.Capital.example",
                                     "imapd.pem.a.example", "imapd.pem.a.example.old",
                                     "imapd.pem.old"]
    assert "DNS:a.example" in subject_and_names(pem(sni, ".a.example"))


def test_check_warns_when_a_domain_file_does_not_name_its_domain(sni):
    assert sni.command("mkimapdcert", "--domain", "a.example", "-q").returncode == 0
    assert sni.command("mkimapdcert", "--domain", "example.net", "-q").returncode == 0
    pem(sni, ".b.example").write_bytes(pem(sni, ".a.example").read_bytes())
    os.chmod(pem(sni, ".b.example"), 0o600)
    result = sni.command("mkimapdcert", "--check", "--domain", "b.example", "--domain",
                         "a.example")
    lines = result.stdout.splitlines()
    assert "its subjectAltName does not name b.example" in lines[0]
    assert "subjectAltName does not name" not in lines[1]


@pytest.mark.parametrize("options", [["--renew", "--force", "--reuse-key"],
                                     ["--renew", "--force", "--rollover"],
                                     ["--stage-next-key"]])
def test_separate_key_file_renews_but_keeps_no_key_across(sni, options):
    """--reuse-key, --rollover and --stage-next-key do not yet follow a key into
    TLS_PRIVATE_KEYFILE: they say so and change nothing; a plain --renew
    replaces both files."""
    certfile, keyfile = sni.certsdir / "chain.pem", sni.certsdir / "private.pem"
    (sni.sysconfdir / "imapd-ssl").write_text(
        f"TLS_CERTFILE={certfile}\nTLS_PRIVATE_KEYFILE={keyfile}\n")
    assert sni.command("mkimapdcert", "-q").returncode == 0
    before = {name: (sni.certsdir / name).read_bytes() for name in sni.listing()}
    result = sni.command("mkimapdcert", *options)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert f"its key is in {keyfile} (TLS_PRIVATE_KEYFILE); {options[-1]} does not" \
        in result.stderr
    assert {name: (sni.certsdir / name).read_bytes() for name in sni.listing()} == before
    assert sni.command("mkimapdcert", "-q", "--renew", "--force").returncode == 0
    assert key_matches_certificate(keyfile, certfile)
    assert (sni.certsdir / "chain.pem.old").read_bytes() == before["chain.pem"]
    assert (sni.certsdir / "private.pem.old").read_bytes() == before["private.pem"]
