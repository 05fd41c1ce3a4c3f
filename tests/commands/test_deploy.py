"""The hooks of dehydrated, lego, uacme and acme.sh, and the deploy command under them.

Run here with a throw-away CA's files (tests/support/pki.py) laid out as
each client lays them out; tests/acme/ runs the real clients against a real
ACME server.  openssl judges what each PEM holds.
"""

import os
import shutil
import subprocess
import sys

import pytest

import pki
from conftest import ROOT
from test_hook import INTERMEDIATE, LEAF, assert_holds, mode
from test_install import certificates_in_order, write
from test_threat_helpers import assert_one_clean_line

CONTRIB = os.path.join(ROOT, "contrib")
DEPLOY = os.path.join(CONTRIB, "courier-mkcert-deploy")
DOMAIN = "mail.example.test"


@pytest.fixture
def authority():
    return pki.Pki()


@pytest.fixture
def files(authority, tmp_path):
    """A client's key and full chain for DOMAIN, in a directory of their own."""
    directory = tmp_path / "client" / DOMAIN
    directory.mkdir(parents=True, mode=0o700)
    key = write(directory / "privkey.pem", pki.key_pem(authority.leaf_key))
    fullchain = write(directory / "fullchain.pem",
                      pki.cert_pem(authority.leaf) + pki.cert_pem(authority.intermediate), 0o644)
    return key, fullchain


def configure(layout, text):
    path = layout.sysconfdir / "mkcert-install.conf"
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o644)


def deploy(layout, *arguments, env=None):
    return subprocess.run([sys.executable, DEPLOY, *map(str, arguments)], env=env or layout.env,
                          capture_output=True, text=True, timeout=120)


def hook(layout, program, *arguments, env=None):
    """A shell hook, with the deploy command run by this Python (not the #! one)."""
    wrapper = layout.sysconfdir.parent / "bin"
    wrapper.mkdir(exist_ok=True)
    for name in ("dehydrated-hook", "lego-hook", "uacme-deploy"):
        shutil.copy(os.path.join(CONTRIB, name), wrapper)
    (wrapper / "courier-mkcert-deploy").write_text(
        f"#!/bin/sh\nexec {sys.executable} {DEPLOY} \"$@\"\n", encoding="utf-8")
    os.chmod(wrapper / "courier-mkcert-deploy", 0o755)
    return subprocess.run([str(wrapper / program), *map(str, arguments)],
                          env=env or layout.env, capture_output=True, text=True, timeout=120)


def test_deploy_by_name(layout, files, authority):
    key, fullchain = files
    configure(layout, f"imapd {DOMAIN}\npop3d other.example.test\n")
    result = deploy(layout, "--client", "lego", "--name", DOMAIN, "--key", key,
                    "--fullchain", fullchain, DOMAIN, "imap.example.test")
    assert result.returncode == 0, result.stderr
    pem = layout.certsdir / "imapd.pem"
    assert result.stdout == (f"{pem}: installed {LEAF} (issued by {INTERMEDIATE}, valid until "
                             f"{result.stdout.split('valid until ')[1].split(';')[0]}; 1 chain "
                             f"certificate) from {key}, {fullchain}; lego renewed {DOMAIN} "
                             f"imap.example.test\n")
    assert_holds(pem, authority)
    assert mode(pem) == 0o600
    assert layout.listing() == ["imapd.pem"]


def test_deploy_by_the_key_files_directory_and_relative_paths(layout, files, authority):
    key, fullchain = files
    pem = layout.certsdir / "elsewhere.pem"
    configure(layout, f"{pem} {key.parent}\n")
    result = subprocess.run([sys.executable, DEPLOY, "--client", "dehydrated", "--name", "x",
                             "--key", key.name, "--fullchain", fullchain.name],
                            cwd=key.parent, env=layout.env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{pem}: installed ")
    assert f"from {key}, {fullchain}" in result.stdout  # made absolute
    assert_holds(pem, authority)


def test_a_certificate_no_pem_takes_is_not_an_error(layout, files):
    key, fullchain = files
    configure(layout, "imapd other.example.test\n")
    result = deploy(layout, "--client", "uacme", "--name", DOMAIN, "--key", key,
                    "--fullchain", fullchain)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (f"no PEM in {layout.sysconfdir}/mkcert-install.conf takes the "
                             f"certificate {DOMAIN} ({key.parent}); nothing to install\n")
    assert layout.listing() == []


def test_a_key_of_another_certificate_is_refused_and_the_pem_kept(layout, files, tmp_path):
    key, fullchain = files
    configure(layout, f"imapd {DOMAIN}\n")
    pem = write(layout.certsdir / "imapd.pem", b"old content\n")
    other = write(tmp_path / "other.pem", pki.key_pem(pki.key("ec", slot=7)))
    result = deploy(layout, "--client", "acme.sh", "--name", DOMAIN, "--key", other,
                    "--fullchain", fullchain, DOMAIN)
    assert_one_clean_line(result, 1)
    assert result.stderr.startswith(f"{pem}: not installed: the private key in {other} does "
                                    f"not belong to the certificate in {fullchain}")
    assert result.stderr.rstrip().endswith(f"; acme.sh renewed {DOMAIN}")
    assert pem.read_bytes() == b"old content\n"
    assert layout.listing() == ["imapd.pem"]


def test_usage_errors_are_exit_2(layout, files):
    key, _ = files
    result = deploy(layout, "--client", "lego", "--name", DOMAIN, "--key", key)
    assert result.returncode == 2
    assert "the following arguments are required: --fullchain" in result.stderr
    assert layout.listing() == []


def test_dehydrated_hook_deploys_on_deploy_cert_only(layout, files, authority):
    key, fullchain = files
    configure(layout, f"imapd {DOMAIN}\n")
    for handler in ("deploy_challenge", "clean_challenge", "unchanged_cert", "startup_hook",
                    "exit_hook", "some_future_handler"):
        result = hook(layout, "dehydrated-hook", handler, DOMAIN, key, "cert.pem", fullchain)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), handler
    assert layout.listing() == []
    result = hook(layout, "dehydrated-hook", "deploy_cert", DOMAIN, key, "cert.pem",
                  fullchain, "chain.pem", "1700000000")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f"; dehydrated renewed {DOMAIN}\n")
    assert_holds(layout.certsdir / "imapd.pem", authority)


def test_lego_hook_reads_legos_environment(layout, files, authority):
    key, fullchain = files
    configure(layout, f"imapd {DOMAIN}\n")
    missing = hook(layout, "lego-hook")
    assert missing.returncode != 0 and "LEGO_CERT_DOMAIN" in missing.stderr
    env = dict(layout.env, LEGO_CERT_DOMAIN=DOMAIN, LEGO_CERT_KEY_PATH=str(key),
               LEGO_CERT_PATH=str(fullchain), LEGO_ACCOUNT_EMAIL="postmaster@example.test")
    result = hook(layout, "lego-hook", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f"; lego renewed {DOMAIN}\n")
    assert certificates_in_order(layout.certsdir / "imapd.pem") == [LEAF, INTERMEDIATE]


def test_uacme_deploy_reads_uacmes_layout(layout, authority, tmp_path):
    confdir = tmp_path / "uacme"
    (confdir / "private" / DOMAIN).mkdir(parents=True, mode=0o700)
    (confdir / DOMAIN).mkdir()
    write(confdir / "private" / DOMAIN / "key.pem", pki.key_pem(authority.leaf_key, "traditional"),
          0o400)
    write(confdir / DOMAIN / "cert.pem",
          pki.cert_pem(authority.leaf) + pki.cert_pem(authority.intermediate), 0o444)
    configure(layout, f"imapd {DOMAIN}\n")
    usage = hook(layout, "uacme-deploy")
    assert usage.returncode == 2 and usage.stderr.startswith("usage: uacme-deploy")
    result = hook(layout, "uacme-deploy", "-c", confdir, DOMAIN)
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith(f"; uacme renewed {DOMAIN}\n")
    assert certificates_in_order(layout.certsdir / "imapd.pem") == [LEAF, INTERMEDIATE]
    os.chmod(confdir / "private" / DOMAIN / "key.pem", 0o600)  # so that it can be removed
