"""detect_format: OpenSSL req config or certtool template, from the content alone."""

import glob
import os

import pytest

from conftest import data_files

from mkcert.readers.detect import detect_format
from mkcert.errors import ConfigError

from conftest import ROOT  # noqa: E402

HERE = os.path.join(ROOT, "tests")  # the tests directory


def text_of(path):
    with open(path, "rb") as handle:
        return handle.read().decode("utf-8", "surrogateescape")


@pytest.mark.parametrize("path", sorted(
    data_files("gnutls") + glob.glob(os.path.join(HERE, "templates", "*.cnf"))),
    ids=lambda p: "/".join(p.split(os.sep)[-2:]))
def test_templates_are_gnutls(path):
    assert detect_format(text_of(path), path) == "gnutls"


@pytest.mark.parametrize("path", data_files("openssl") + data_files("howto"),
                         ids=lambda p: "/".join(p.split(os.sep)[-2:]))
def test_openssl_configs_are_openssl(path):
    assert detect_format(text_of(path), path) == "openssl"


@pytest.mark.parametrize("text", [
    "[req]\nprompt=no\n",
    "  [ req ]  # the request\ndistinguished_name = dn\n[dn]\nCN=x\n",
    "HOME = .\nRANDFILE = $ENV::HOME/.rnd\n\n[ req ]\n",
    "; comment\n[ new_oids ]\n[ req ]\n",
    "[ req_dn ]\nCN = x\n[ req ]\n",  # req need not come first
    ".include /etc/ssl/courier-req.cnf\n",  # the sections come from there
    "# shared settings\n.pragma dollarid:true\n.include common.cnf\n",
    # Inside sections, certtool-looking names are just OpenSSL value names.
    "[ req ]\ndistinguished_name = dn\n[ dn ]\ncn = x\norganization = y\n",
])
def test_openssl_shapes(text):
    assert detect_format(text, "x.cnf") == "openssl"


@pytest.mark.parametrize("text", [
    "cn = localhost\n",
    'organization = "Courier Mail Server"\nexpiration_days = 365\n',
    "cn: colon\ntls_www_server\n",
    "frobnicate = 1\n",  # unknown to both: certtool skips it, no sections
    "cn = \xff\udcff\n",  # undecodable bytes arrive as surrogates
])
def test_template_shapes(text):
    assert detect_format(text, "x.cnf") == "gnutls"


@pytest.mark.parametrize("text, line, words", [
    # certtool options outside the sections of an OpenSSL config: a mix.
    ("cn = localhost\n\n[ req ]\nprompt = no\n", 1, "cn"),
    ("# top\nexpiration_days = 10\n[ req ]\n", 2, "expiration_days"),
    # sections, but nothing for openssl req.
    ("cn = x\n", None, None),
    ("[ dn ]\nCN = x\n", 1, "no [ req ] section"),
    ("\n\n[ ca ]\n[ policy ]\n", 3, "[ ca ]"),
    # OpenSSL req settings without sections.
    ("default_bits = 2048\ncn = x\n", 1, "default_bits"),
    ("cn = x\ndistinguished_name = req_dn\n", 2, "distinguished_name"),
    ("prompt = no\n", 1, "prompt"),
    (".include common.cnf\ncn = x\n", 2, "cn"),
])
def test_mixes_name_the_line(text, line, words):
    if line is None:
        assert detect_format(text, "x.cnf") == "gnutls"
        return
    with pytest.raises(ConfigError) as caught:
        detect_format(text, "/etc/courier/imapd.cnf")
    assert caught.value.line == line
    assert caught.value.path == "/etc/courier/imapd.cnf"
    assert words in caught.value.message
    assert str(caught.value).startswith(f"/etc/courier/imapd.cnf:{line}: ")


def test_detect_imports_no_crypto():
    import subprocess
    import sys

    code = ("import sys; import mkcert.readers.detect, mkcert.readers.certtool.template; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('cryptography', 'OpenSSL', '_cffi_backend')))")
    root = os.path.dirname(HERE)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=root, env=dict(os.environ, PYTHONPATH=root), check=True)
    assert out.stdout.strip() == "[]"
