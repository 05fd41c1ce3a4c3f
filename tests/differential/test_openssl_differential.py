"""Our command against `openssl req` on the reference configs."""

import os
import re

import pytest

from certdiff import describe, load
from conftest import data_path, openssl

CONFIGS = [
    ("imapd", ("openssl", "imapd.cnf")),
    ("pop3d", ("openssl", "pop3d.cnf")),
    ("esmtpd", ("openssl", "esmtpd.cnf")),
    ("pop3d", ("howto", "pop3d.cnf")),
]


def openssl_req(config, out, days=365):
    """Upstream's openssl step, with RANDFILE where upstream's `dd` put the seed.

    `openssl req` exits 1 when it cannot write RANDFILE back, and the
    reference files name /etc/courier/NAME.rand, which need not exist here.
    """
    rand = out.parent / "theirs.rand"
    rand.write_bytes(os.urandom(512))
    text = re.sub(r"(?m)^RANDFILE\s*=.*$", f"RANDFILE = {rand}", open(config).read())
    copy = out.parent / "theirs.cnf"
    copy.write_text(text)
    openssl("req", "-new", "-x509", "-nodes", "-days", days, "-config", copy,
            "-out", out, "-keyout", out)


@pytest.mark.parametrize("name, source", CONFIGS, ids=["/".join(c[1]) for c in CONFIGS])
def test_same_certificate_as_openssl_req(layout, tmp_path, name, source):
    # 4096-bit keys are slow: the upstream files are compared at 2048 bits
    # here, and once at their own size below.
    bits = None if source[0] == "seed" else 2048
    config = layout.install_config(name, data_path(*source), bits=bits)
    theirs = tmp_path / "theirs.pem"
    openssl_req(config, theirs)
    # esmtpd.pem gets DH parameters of BITS bits; their size is not compared here.
    env = dict(layout.env, BITS="512")
    result = layout.command(f"mk{name}cert", "-q", env=env)
    assert result.returncode == 0, result.stderr
    ours = layout.certsdir / f"{name}.pem"
    our_data, our_cert = load(ours)
    their_data, their_cert = load(theirs)
    assert describe(our_cert) == describe(their_cert)
    # Same PEM layout: an unencrypted PKCS#8 key, then the certificate.
    shape = re.compile(rb"-----BEGIN ([A-Z ]+)-----")
    if name == "esmtpd":
        # upstream appends DH parameters to esmtpd.pem; openssl req alone does not.
        assert shape.findall(our_data)[:2] == shape.findall(their_data)
        assert shape.findall(our_data)[2:] == [b"DH PARAMETERS"]
    else:
        assert shape.findall(our_data) == shape.findall(their_data)


def test_upstream_key_size_is_honoured(layout, tmp_path):
    config = layout.install_config("imapd", data_path("openssl", "imapd.cnf"))
    theirs = tmp_path / "theirs.pem"
    openssl_req(config, theirs)
    assert layout.command("mkimapdcert", "-q").returncode == 0
    _, ours = load(layout.certsdir / "imapd.pem")
    _, their_cert = load(theirs)
    assert describe(ours) == describe(their_cert)
    assert ours.public_key().key_size == 4096


def test_days_matches_openssl_days(layout, tmp_path):
    config = layout.install_config("imapd", data_path("howto", "pop3d.cnf"))
    theirs = tmp_path / "theirs.pem"
    openssl_req(config, theirs, days=1000)
    assert layout.command("mkimapdcert", "-q", "--days", "1000").returncode == 0
    _, ours = load(layout.certsdir / "imapd.pem")
    assert describe(ours) == describe(load(theirs)[1])
