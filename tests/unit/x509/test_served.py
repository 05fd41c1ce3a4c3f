"""mkcert.x509.served: the handshake of --probe, against Python's ssl and openssl s_server here.

What the server sent is compared with the files it was given (the oracle
is the file, never our own output); every failure is a ProbeFailed line.
"""

import os
import socket
import struct
import subprocess
import time

import pytest
from cryptography.hazmat.primitives import serialization

import pki
from mkcert.system.starttls import ProbeFailed, connect
from mkcert.x509 import served
from servers import OpenSSLServer, Scripted, read_line, serve_tls, tls_context

TIMEOUT = 3.0


class Files:
    """PEM files for servers, removed at the end (private keys above all)."""

    def __init__(self, directory):
        self.directory, self.paths = directory, []

    def write(self, name, *parts):
        path = os.path.join(self.directory, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"".join(parts))
        self.paths.append(path)
        return path

    def remove(self):
        for path in self.paths:
            os.unlink(path)


@pytest.fixture
def files(tmp_path):
    made = Files(str(tmp_path))
    yield made
    made.remove()


def der(certificate):
    return certificate.public_bytes(serialization.Encoding.DER)


def fetch(port, servername=None, host="127.0.0.1"):
    sock = connect(host, port, TIMEOUT)
    try:
        return served.handshake(sock, servername, TIMEOUT)
    finally:
        sock.close()


def test_the_chain_as_sent_and_the_name_asked(files):
    ca = pki.Pki()
    other = pki.Pki(domain="other.example.test", slot=1)
    base = files.write("base.pem", pki.cert_pem(ca.leaf), pki.cert_pem(ca.intermediate))
    base_key = files.write("base.key", pki.key_pem(ca.leaf_key))
    named = files.write("named.pem", pki.cert_pem(other.leaf))
    named_key = files.write("named.key", pki.key_pem(other.leaf_key))
    seen = []
    context = tls_context(base, base_key, names={"other.example.test": (named, named_key)})
    original = context.sni_callback

    def note(sock, servername, ctx):
        seen.append(servername)
        original(sock, servername, ctx)

    context.sni_callback = note
    with Scripted(serve_tls(context)) as server:
        plain = fetch(server.port)
        sni = fetch(server.port, "other.example.test")
    assert seen == [None, "other.example.test"]
    assert plain.certificates == (der(ca.leaf), der(ca.intermediate))
    assert sni.certificates == (der(other.leaf),)
    assert plain.protocol == "TLSv1.3" and plain.cipher.startswith("TLS_")
    # the test CA is in no trust store: OpenSSL says the issuer is unknown
    assert any(text == "unable to get local issuer certificate" for _, text in sni.verify_errors)
    assert not server.errors


def test_dhe_group_size_where_the_bindings_tell(files, tmp_path):
    """openssl s_server with 2048-bit DH parameters and a DHE suite only."""
    cert = files.write("c.pem", pki.cert_pem(pki.certificate(pki.key("rsa"), "localhost")))
    key = files.write("k.pem", pki.key_pem(pki.key("rsa")))
    dh = files.write("dh.pem", _ffdhe2048())
    with OpenSSLServer("-cert", cert, "-key", key, "-dhparam", dh, "-no_tls1_3",
                       "-cipher", "DHE-RSA-AES128-GCM-SHA256") as server:
        result = fetch(server.port)
    assert result.protocol == "TLSv1.2"
    assert result.cipher == "DHE-RSA-AES128-GCM-SHA256"
    assert result.key_exchange == "DH"
    # cryptography 38's binding has SSL_get_server_tmp_key; later ones do not: unknown then
    assert result.dh_bits in (2048, None)
    from OpenSSL._util import lib

    if hasattr(lib, "SSL_get_server_tmp_key"):
        assert result.dh_bits == 2048


def _ffdhe2048():
    """RFC 7919's ffdhe2048 as DH parameters PEM: openssl's own, no slow generation."""
    done = subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt",
                           "group:ffdhe2048"], capture_output=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_tls13_named_groups(files):
    cert = files.write("c.pem", pki.cert_pem(pki.certificate(pki.key("ec"), "localhost")))
    key = files.write("k.pem", pki.key_pem(pki.key("ec")))
    with OpenSSLServer("-cert", cert, "-key", key, "-groups", "ffdhe3072") as server:
        result = fetch(server.port)
    assert (result.protocol, result.key_exchange, result.dh_bits) == ("TLSv1.3", "DH", 3072)
    with OpenSSLServer("-cert", cert, "-key", key, "-groups", "P-256") as server:
        result = fetch(server.port)
    assert (result.key_exchange, result.dh_bits) == ("ECDH", None)


def test_a_small_dh_group_fails_the_handshake_with_openssls_reason(files):
    cert = files.write("c.pem", pki.cert_pem(pki.certificate(pki.key("rsa"), "localhost")))
    key = files.write("k.pem", pki.key_pem(pki.key("rsa")))
    dh = files.write("dh.pem", subprocess.run(
        ["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", "dh_rfc5114:1"],
        capture_output=True, timeout=60, check=True).stdout)
    with OpenSSLServer("-cert", cert, "-key", key, "-dhparam", dh, "-no_tls1_3",
                       "-cipher", "DHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0") as server:
        with pytest.raises(ProbeFailed, match="^TLS handshake failed: .*dh key too small"):
            fetch(server.port)


def test_plain_text_on_a_tls_port():
    def banner(conn, server):
        conn.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] Courier-IMAP ready.\r\n")
        read_line(conn)

    with Scripted(banner) as server:
        with pytest.raises(ProbeFailed, match="^TLS handshake failed: .*(plain text|TLS on this port)"):
            fetch(server.port)


def test_a_silent_tls_port_times_out():
    with Scripted(lambda conn, server: server.stopping.wait(10)) as server:
        sock = connect("127.0.0.1", server.port, TIMEOUT)
        started = time.monotonic()
        try:
            with pytest.raises(ProbeFailed, match=r"^no TLS handshake within 0.4 s$"):
                served.handshake(sock, None, 0.4)
        finally:
            sock.close()
    assert time.monotonic() - started < 3


def test_a_reset_during_the_handshake():
    def reset(conn, server):
        conn.recv(5)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    with Scripted(reset) as server:
        with pytest.raises(ProbeFailed, match="^TLS handshake failed: "):
            fetch(server.port)


@pytest.mark.parametrize("name, patterns, covered", [
    ("mail.example.org", ["mail.example.org"], True),
    ("MAIL.Example.org", ["mail.example.org"], True),
    ("mail.example.org", ["*.example.org"], True),
    ("a.mail.example.org", ["*.example.org"], False),
    ("example.org", ["*.example.org"], False),
    ("example.org", ["*.org"], False),  # no wildcard over a whole registry
    ("mail.example.org", ["m*.example.org", "imap.example.org"], False),
    ("mail.example.org", [], False),
])
def test_name_covered(name, patterns, covered):
    assert served.name_covered(name, patterns) is covered


def test_dns_names_read_from_the_certificate():
    certificate = pki.certificate(pki.key("ec"), "a.example.test",
                                  dns_names=["a.example.test", "*.b.example.test"])
    assert served.dns_names(der(certificate)) == ["a.example.test", "*.b.example.test"]
