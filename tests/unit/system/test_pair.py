"""A certificate file and its separate key file (TLS_PRIVATE_KEYFILE): the order of the two publications.

couriertls reads the certificate file first and the key file second, for
every connection (mkcert.system.pair says why that decides the order):
a new pair is published key first, a replaced pair certificate first.
"""

import os
import stat

import pytest

from mkcert.errors import AlreadyExists
from mkcert.system import pair, publish
from mkcert.system.target import Target


def existing(path, data):
    path.write_bytes(data)
    os.chmod(path, 0o640)
    return Target(str(path), data, os.lstat(path))


@pytest.fixture
def published(monkeypatch, tmp_path):
    """The final names as they appear, in order (links for new files, renames for replaced)."""
    order = []
    finals = {str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")}
    real_link, real_rename = os.link, os.rename

    def link(source, target, *args, **kwargs):
        real_link(source, target, *args, **kwargs)
        if str(target) in finals:
            order.append(os.path.basename(target))

    def rename(source, target, *args, **kwargs):
        real_rename(source, target, *args, **kwargs)
        if str(target) in finals:
            order.append(os.path.basename(target))

    monkeypatch.setattr(pair.os, "link", link)
    monkeypatch.setattr(pair.os, "rename", rename)
    return order


def test_a_new_pair_is_published_key_first(tmp_path, published):
    certificate, key = Target(str(tmp_path / "cert.pem")), Target(str(tmp_path / "key.pem"))
    assert pair.order(certificate, key) == ("key", "certificate")
    with publish.Run() as run:
        pair.publish_pair(certificate, b"CERT\n", key, b"KEY\n", run)
    assert published == ["key.pem", "cert.pem"]
    assert (tmp_path / "cert.pem").read_bytes() == b"CERT\n"
    assert (tmp_path / "key.pem").read_bytes() == b"KEY\n"
    assert sorted(os.listdir(tmp_path)) == ["cert.pem", "key.pem"]
    assert stat.S_IMODE(os.stat(tmp_path / "key.pem").st_mode) == 0o600


def test_a_replaced_pair_is_published_certificate_first_keeping_old(tmp_path, published):
    certificate = existing(tmp_path / "cert.pem", b"OLD CERT\n")
    key = existing(tmp_path / "key.pem", b"OLD KEY\n")
    assert pair.order(certificate, key) == ("certificate", "key")
    with publish.Run() as run:
        pair.publish_pair(certificate, b"CERT\n", key, b"KEY\n", run)
    assert published == ["cert.pem", "key.pem"]
    assert (tmp_path / "key.pem.old").read_bytes() == b"OLD KEY\n"
    assert (tmp_path / "cert.pem.old").read_bytes() == b"OLD CERT\n"
    assert stat.S_IMODE(os.stat(tmp_path / "key.pem").st_mode) == 0o640
    assert stat.S_IMODE(os.stat(tmp_path / "key.pem.old").st_mode) == 0o600


def test_a_file_that_appeared_meanwhile_is_not_overwritten(tmp_path):
    certificate, key = Target(str(tmp_path / "cert.pem")), Target(str(tmp_path / "key.pem"))
    (tmp_path / "key.pem").write_bytes(b"SOMEONE ELSE'S\n")
    with pytest.raises(AlreadyExists):
        with publish.Run() as run:
            pair.publish_pair(certificate, b"CERT\n", key, b"KEY\n", run)
    assert (tmp_path / "key.pem").read_bytes() == b"SOMEONE ELSE'S\n"
    assert sorted(os.listdir(tmp_path)) == ["key.pem"]
