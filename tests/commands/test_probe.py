"""--probe as users run it: bin/mk*cert against servers the test starts on 127.0.0.1.

Servers are Python's ssl (with fake STARTTLS dialogues before it) and
``openssl s_server``; what they serve is the file they were given, and the
probe compares it with the PEM it expects.  Every edge case is one line, a
state and nothing on stderr.
"""

import datetime
import json
import os
import socket
import ssl

import pytest

import pki
from servers import OpenSSLServer, Scripted, read_line, serve_tls, tls_context

TIMEOUT = "3"


@pytest.fixture
def pems(layout):
    """Write PEMs into CERTSDIR; all of them are removed at the end."""
    written = []

    def write(name, *parts):
        path = layout.certsdir / name
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(b"".join(parts))
        written.append(path)
        return str(path)

    yield write
    for path in written:
        path.unlink()


def full_pem(ca, chain=True):
    return [pki.key_pem(ca.leaf_key), pki.cert_pem(ca.leaf)] + \
        ([pki.cert_pem(ca.intermediate)] if chain else [])


def server_for(pems, ca, name="srv", chain=True):
    """A TLS server context for the PKI's leaf (and chain)."""
    cert = pems(f"{name}.crt", pki.cert_pem(ca.leaf),
                *([pki.cert_pem(ca.intermediate)] if chain else []))
    key = pems(f"{name}.key", pki.key_pem(ca.leaf_key))
    return tls_context(cert, key)


def probe(layout, *args, program="mkimapdcert"):
    result = layout.command(program, "--probe", *args, "--timeout", TIMEOUT, timeout=60)
    assert result.stderr == ""
    assert "Traceback" not in result.stdout
    return result


def test_ok_when_the_server_sends_the_file(layout, pems):
    ca = pki.Pki(domain="mail.example.test")
    pems("imapd.pem", *full_pem(ca))
    with Scripted(serve_tls(server_for(pems, ca))) as server:
        result = probe(layout, f"127.0.0.1:{server.port}", "--servername", "mail.example.test")
    lines = result.stdout.splitlines()
    assert result.returncode == 0, result.stdout
    assert len(lines) == 2
    assert lines[0].startswith(f"TLS OK - 127.0.0.1:{server.port} no SNI: CN=mail.example.test "
                               f"expires ")
    assert lines[1].startswith(f"TLS OK - 127.0.0.1:{server.port} SNI mail.example.test: ")
    assert f"as in {layout.certsdir}/imapd.pem" in lines[1]
    assert "chain of 1 verifies" in lines[0]


def test_json_is_a_list_with_one_object_per_probe(layout, pems):
    ca = pki.Pki(domain="mail.example.test")
    pems("imapd.pem", *full_pem(ca))
    with Scripted(serve_tls(server_for(pems, ca))) as server:
        result = probe(layout, f":{server.port}", "--servername", "mail.example.test",
                       "--servername", "other.example.test", "--json")
    answers = json.loads(result.stdout)
    assert [a["servername"] for a in answers] == [None, "mail.example.test", "other.example.test"]
    assert [a["status"] for a in answers] == ["OK", "OK", "CRITICAL"]
    assert result.returncode == 2
    assert answers[2]["name_covered"] is False
    assert answers[2]["problems"] == ["does not cover other.example.test (subjectAltName DNS "
                                      "names: mail.example.test)"]
    first = answers[0]
    assert first["host"] == "localhost" and first["port"] == server.port
    assert first["address"] in ("127.0.0.1", "::1")
    assert first["same_as_file"] is True and first["chain_length"] == 2
    assert first["protocol"] == "TLSv1.3"
    not_after = ca.leaf.not_valid_after_utc if hasattr(ca.leaf, "not_valid_after_utc") \
        else ca.leaf.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    assert first["served"]["not_after"] == not_after.isoformat()


def test_another_certificate_than_the_file_is_critical(layout, pems):
    """A daemon that kept the old certificate, or a lookup that picks another file."""
    served, expected = pki.Pki(domain="mail.example.test"), pki.Pki(domain="mail.example.test",
                                                                     slot=1)
    pems("imapd.pem", *full_pem(expected))
    with Scripted(serve_tls(server_for(pems, served))) as server:
        result = probe(layout, f"127.0.0.1:{server.port}")
    assert result.returncode == 2
    assert result.stdout.startswith("TLS CRITICAL - ")
    assert f"not the certificate of {layout.certsdir}/imapd.pem (CN=mail.example.test " \
        f"expires" in result.stdout


def test_a_chain_other_than_the_files_is_critical(layout, pems):
    ca = pki.Pki(domain="mail.example.test")
    pems("imapd.pem", *full_pem(ca, chain=False))
    with Scripted(serve_tls(server_for(pems, ca))) as server:
        result = probe(layout, f"127.0.0.1:{server.port}")
    assert result.returncode == 2
    assert f"sends 1 chain certificates where {layout.certsdir}/imapd.pem holds 0" in result.stdout


def test_a_missing_intermediate_is_a_warning(layout, pems):
    ca = pki.Pki(domain="mail.example.test")
    pems("imapd.pem", *full_pem(ca, chain=False))
    with Scripted(serve_tls(server_for(pems, ca, chain=False))) as server:
        result = probe(layout, f"127.0.0.1:{server.port}")
    assert result.returncode == 1, result.stdout
    assert "no chain sent, and the issuer of the certificate is not among this system's " \
           "trusted CAs" in result.stdout


def test_expiry_uses_the_warn_days_of_check(layout, pems):
    soon = pki.NOW + datetime.timedelta(days=10, hours=1)
    ca = pki.Pki(domain="mail.example.test", not_after=soon)
    pems("imapd.pem", *full_pem(ca))
    with Scripted(serve_tls(server_for(pems, ca))) as server:
        warned = probe(layout, f"127.0.0.1:{server.port}")
        quiet = probe(layout, f"127.0.0.1:{server.port}", "--warn", "5")
    assert warned.returncode == 1 and "(10 days)" in warned.stdout
    assert quiet.returncode == 0, quiet.stdout


def test_an_expired_certificate_is_critical(layout, pems):
    ca = pki.Pki(domain="mail.example.test", not_before=pki.NOW - 30 * pki.DAY,
                 not_after=pki.NOW - 2 * pki.DAY)
    pems("imapd.pem", *full_pem(ca))
    with OpenSSLServer("-cert", pems("s.crt", pki.cert_pem(ca.leaf)),
                       "-cert_chain", pems("s.chain", pki.cert_pem(ca.intermediate)),
                       "-key", pems("s.key", pki.key_pem(ca.leaf_key))) as server:
        result = probe(layout, f"127.0.0.1:{server.port}")
    assert result.returncode == 2
    assert " expired " in result.stdout and "(2 days ago)" in result.stdout


def imap_starttls(context):
    """Courier-IMAP's side of STARTTLS, then TLS with ``context``."""
    def handler(conn, server):
        conn.sendall(b"* OK [CAPABILITY IMAP4rev1 STARTTLS] Courier-IMAP ready.\r\n")
        while True:
            line = read_line(conn)
            tag, _, command = line.partition(b" ")
            if command.upper() == b"CAPABILITY":
                conn.sendall(b"* CAPABILITY IMAP4rev1 STARTTLS\r\n" + tag + b" OK done\r\n")
            elif command.upper() == b"STARTTLS":
                conn.sendall(tag + b" OK Begin SSL/TLS negotiation now.\r\n")
                break
            else:
                return
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.recv(1)

    return handler


def test_starttls_on_a_default_port_and_an_explicit_one(layout, pems):
    ca = pki.Pki(domain="mail.example.test")
    pems("imapd.pem", *full_pem(ca))
    with Scripted(imap_starttls(server_for(pems, ca))) as server:
        result = probe(layout, f"127.0.0.1:{server.port}", "--starttls", "imap")
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(f"TLS OK - 127.0.0.1:{server.port} STARTTLS imap no SNI: ")


def test_the_service_default_ports_are_probed(layout, pems):
    """Without PORT: imapd's 993 and 143 (nothing listens there in a test: refused)."""
    result = layout.command("mkcouriercert", "pop3d", "--probe", "127.0.0.1", "--timeout", "1")
    lines = result.stdout.splitlines()
    if any("Connection refused" not in line for line in lines):
        pytest.skip("something listens on 995 or 110 here")
    assert [line.split(" no SNI")[0] for line in lines] == [
        "TLS CRITICAL - 127.0.0.1:995", "TLS CRITICAL - 127.0.0.1:110 STARTTLS pop3"]
    assert result.returncode == 2


@pytest.mark.parametrize("handler, words", [
    (lambda conn, server: conn.sendall(b"* OK [CAPABILITY IMAP4rev1] ready\r\n")
     or read_line(conn), "TLS handshake failed"),
    (lambda conn, server: server.stopping.wait(10), "no TLS handshake within 0.5 s"),
    (lambda conn, server: conn.sendall(b"x" * 100000) or server.stopping.wait(10),
     "TLS handshake failed"),
])
def test_edge_cases_are_one_line_and_a_state(layout, pems, handler, words):
    pems("imapd.pem", *full_pem(pki.Pki()))
    with Scripted(handler) as server:
        result = layout.command("mkimapdcert", "--probe", f"127.0.0.1:{server.port}",
                                "--timeout", "0.5", timeout=30)
    assert result.stderr == ""
    assert result.returncode == 2
    assert len(result.stdout.splitlines()) == 1
    assert result.stdout.startswith(f"TLS CRITICAL - 127.0.0.1:{server.port} no SNI: {words}")


@pytest.mark.parametrize("handler, words", [
    (lambda conn, server: conn.sendall(b"\x16\x03\x01garbage\r\n") or read_line(conn),
     "not an SMTP reply: '\\x16\\x03\\x01garbage'"),
    (lambda conn, server: conn.sendall(b"220 " + b"x" * 20000) or server.stopping.wait(10),
     "the SMTP server sent a line longer than 8192 bytes"),
    (lambda conn, server: conn.sendall(b"220-") or server.stopping.wait(10),
     "the SMTP server sent no complete line within 0.5 s (after '220-')"),
])
def test_starttls_edge_cases(layout, pems, handler, words):
    pems("esmtpd.pem", *full_pem(pki.Pki()))
    with Scripted(handler) as server:
        result = layout.command("mkesmtpdcert", "--probe", f"127.0.0.1:{server.port}",
                                "--starttls", "smtp", "--timeout", "0.5", timeout=30)
    assert result.stderr == ""
    assert (result.returncode, result.stdout.splitlines()) == (2, [
        f"TLS CRITICAL - 127.0.0.1:{server.port} STARTTLS smtp no SNI: {words}"])


def test_a_failed_handshake_names_what_is_wrong_in_the_file(layout, pems):
    """As Courier does with a key of another certificate: no TLS for that file."""
    ca, other = pki.Pki(), pki.Pki(slot=1)
    pems("imapd.pem", pki.key_pem(other.leaf_key), pki.cert_pem(ca.leaf))
    with Scripted(lambda conn, server: conn.close()) as server:
        result = probe(layout, f"127.0.0.1:{server.port}")
    assert result.returncode == 2
    assert result.stdout.rstrip().endswith(
        f"; {layout.certsdir}/imapd.pem: the private key does not match the certificate")


def test_an_unreadable_file_is_not_compared(layout, pems):
    ca = pki.Pki(domain="mail.example.test")
    with Scripted(serve_tls(server_for(pems, ca))) as server:
        result = probe(layout, f"127.0.0.1:{server.port}")
    assert result.returncode == 0, result.stdout
    assert result.stdout.rstrip().endswith(
        f"; not compared with {layout.certsdir}/imapd.pem: missing (no such file)")


def test_ipv6_literal(layout, pems):
    try:
        probe_socket = socket.socket(socket.AF_INET6)
        probe_socket.bind(("::1", 0))
        probe_socket.close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    ca = pki.Pki(domain="mail.example.test")
    pems("imapd.pem", *full_pem(ca))
    with Scripted(serve_tls(server_for(pems, ca)), family=socket.AF_INET6) as server:
        result = probe(layout, f"[::1]:{server.port}")
    assert result.returncode == 0, result.stdout
    assert result.stdout.startswith(f"TLS OK - [::1]:{server.port} no SNI: ")


@pytest.mark.parametrize("args, words", [
    (["--probe", "host:0"], "not a port number (1 to 65535): '0'"),
    (["--probe", "host:x"], "not a port number"),
    (["--probe", "[::1"], "not [IPv6]:PORT"),
    (["--probe", "[1.2.3.4]:1"], "not an IPv6 address"),
    (["--probe", "bad host"], "not a host name or address"),
    (["--probe", ":1", "--timeout", "0"], "not a number of seconds"),
    (["--probe", ":1", "--timeout", "nan"], "not a number of seconds"),
    (["--probe", ":1", "--servername", "1.2.3.4"], "an IP address is no server name"),
    (["--probe", ":1", "--servername", "a..b"], "not a DNS name"),
    (["--probe", "--check"], "not allowed with argument"),
    (["--probe", "--install", "--key", "k", "--cert", "c"], "not allowed with argument --probe"),
    (["--probe", "--san", "a.b"], "--san is for making a certificate, not with --probe"),
])
def test_bad_arguments_are_unknown(layout, args, words):
    result = layout.command("mkimapdcert", *args)
    assert result.returncode == 3
    assert words in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("args, words", [
    (["--starttls", "imap"], "--starttls only goes with --probe"),
    (["--servername", "a.b"], "--servername only goes with --probe"),
    (["--timeout", "3"], "--timeout only goes with --probe"),
])
def test_probe_options_alone_are_usage_errors(layout, args, words):
    """Not a plugin run (no --check, no --probe): argparse's usual status 2."""
    result = layout.command("mkimapdcert", *args)
    assert result.returncode == 2
    assert result.stderr.endswith(f"mkimapdcert: error: {words}\n")


def test_a_service_without_default_ports_needs_one(layout):
    result = layout.command("mkcouriercert", "testd", "--probe")
    assert (result.returncode, result.stdout) == (3, "")
    assert result.stderr == "mkcouriercert: --probe: no default ports for testd: give HOST:PORT\n"


def test_an_international_server_name_is_sent_as_its_a_label(layout, pems):
    ca = pki.Pki(domain="xn--bcher-kva.example.test")
    pems("imapd.pem", *full_pem(ca))
    context = server_for(pems, ca)
    seen = []
    context.sni_callback = lambda sock, name, ctx: seen.append(name)
    with Scripted(serve_tls(context)) as server:
        result = probe(layout, f"127.0.0.1:{server.port}", "--servername", "bücher.example.test")
    assert seen == [None, "xn--bcher-kva.example.test"]
    assert result.returncode == 0, result.stdout


def test_check_json_unchanged_by_probe_options(layout):
    """--json and --warn still need --check or --probe; the old words stay."""
    result = layout.command("mkimapdcert", "--json")
    assert result.returncode == 2
    assert "--json only goes with --check" in result.stderr


def test_ssl_module_is_the_server_here():
    """The test servers are Python's ssl: a TLS 1.3 capable build is needed."""
    assert ssl.HAS_TLSv1_3


@pytest.mark.parametrize("service, port, starttls, want", [
    ("imapd", None, None, [(993, None), (143, "imap")]),
    ("pop3d", None, None, [(995, None), (110, "pop3")]),
    ("esmtpd", None, None, [(25, "smtp"), (465, None)]),
    ("imapd", 143, None, [(143, "imap")]),          # a default port keeps its protocol
    ("imapd", 1143, None, [(1143, None)]),          # another is TLS from the first byte
    ("imapd", 993, "imap", [(993, "imap")]),        # unless --starttls says otherwise
    ("imapd", None, "imap", [(143, "imap")]),       # --starttls alone: the plain-text ports
    ("testd", None, None, None),
    ("testd", 4000, "smtp", [(4000, "smtp")]),
])
def test_default_targets(service, port, starttls, want):
    from mkcert.actions.probe import default_targets

    got = default_targets(service, port, starttls)
    assert (None if got is None else [(t.port, t.starttls) for t in got]) == want


@pytest.mark.parametrize("text, want", [
    ("", ("localhost", None)),
    (":143", ("localhost", 143)),
    ("mail.example.org", ("mail.example.org", None)),
    ("mail.example.org:465", ("mail.example.org", 465)),
    ("192.0.2.1:25", ("192.0.2.1", 25)),
    ("[::1]:993", ("::1", 993)),
    ("[2001:db8::1]", ("2001:db8::1", None)),
    ("::1", ("::1", None)),
])
def test_target_argument(text, want):
    from mkcert.cli.probe import target_argument

    assert target_argument(text) == want


def test_an_interrupted_run_is_unknown_and_stops(monkeypatch):
    from mkcert.actions import probe as probe_action

    calls = []

    def interrupted(plan, target, servername, now):
        calls.append(servername)
        raise KeyboardInterrupt

    monkeypatch.setattr(probe_action, "_probe", interrupted)
    plan = probe_action.Plan("localhost", (probe_action.Target(1), probe_action.Target(2)),
                             ("a.example.test",))
    results = probe_action.probe(plan)
    assert calls == [None]
    assert [(r.port, r.state, [p.text for p in r.problems]) for r in results] == [
        (1, "UNKNOWN", ["interrupted"])]
