"""mkcert.system.starttls: the plain-text dialogues before TLS, against fake servers here.

Each server is a thread on 127.0.0.1 speaking a scripted dialogue; every
failure must be a ProbeFailed with one line, within the timeout.
"""

import socket
import time

import pytest

from mkcert.system import starttls
from mkcert.system.starttls import ProbeFailed
from servers import Scripted, read_line

TIMEOUT = 2.0


def dialogue(*steps):
    """A handler: bytes are sent, None reads one client line (kept in server.heard)."""
    def handler(conn, server):
        server.heard = getattr(server, "heard", [])
        for step in steps:
            if step is None:
                server.heard.append(read_line(conn))
            else:
                conn.sendall(step)
        read_line(conn)  # hold the line until the client goes (TLS would start here)

    return handler


def run(handler, protocol, timeout=TIMEOUT):
    with Scripted(handler) as server:
        sock = starttls.connect("127.0.0.1", server.port, timeout)
        try:
            answer = starttls.starttls(sock, protocol, timeout)
        finally:
            sock.close()
    assert not server.errors
    return answer, server


IMAP_OK = dialogue(b"* OK [CAPABILITY IMAP4rev1] Courier-IMAP ready.\r\n", None,
                   b"* CAPABILITY IMAP4rev1 UIDPLUS STARTTLS\r\n", b"mkcert OK done\r\n",
                   None, b"mkcert OK Begin SSL/TLS negotiation now.\r\n")


def test_imap_asks_capability_then_starttls():
    answer, server = run(IMAP_OK, "imap")
    assert answer == "mkcert OK Begin SSL/TLS negotiation now."
    assert server.heard == [b"mkcert CAPABILITY", b"mkcert STARTTLS"]


@pytest.mark.parametrize("handler, words", [
    (dialogue(b"* OK ready\r\n", None, b"* CAPABILITY IMAP4rev1\r\n", b"mkcert OK done\r\n"),
     "the IMAP server does not offer STARTTLS"),
    (dialogue(b"* OK ready\r\n", None, b"* CAPABILITY IMAP4rev1 STARTTLS\r\n",
              b"mkcert OK done\r\n", None, b"mkcert NO not now\r\n"),
     "the IMAP server refused STARTTLS: 'mkcert NO not now'"),
    (dialogue(b"SSH-2.0-OpenSSH_9.2\r\n"), "not an IMAP greeting: 'SSH-2.0-OpenSSH_9.2'"),
    (dialogue(b"* OK ready\r\n", None, b"* BYE too many\r\n"),
     "the IMAP server said goodbye: '* BYE too many'"),
])
def test_imap_failures_say_why(handler, words):
    with pytest.raises(ProbeFailed) as caught:
        run(handler, "imap")
    assert str(caught.value) == words


def test_pop3_with_capa():
    answer, server = run(dialogue(b"+OK Hello there.\r\n", None, b"+OK\r\nTOP\r\nSTLS\r\n.\r\n",
                                  None, b"+OK Begin SSL/TLS negotiation now.\r\n"), "pop3")
    assert answer == "+OK Begin SSL/TLS negotiation now."
    assert server.heard == [b"CAPA", b"STLS"]


def test_pop3_without_capa_still_asks_stls():
    answer, server = run(dialogue(b"+OK Hello there.\r\n", None, b"-ERR what?\r\n",
                                  None, b"+OK go\r\n"), "pop3")
    assert answer == "+OK go"


def test_pop3_refusal_and_absence():
    with pytest.raises(ProbeFailed, match="^the POP3 server does not offer STLS$"):
        run(dialogue(b"+OK hi\r\n", None, b"+OK\r\nTOP\r\n.\r\n"), "pop3")
    with pytest.raises(ProbeFailed, match="^the POP3 server refused STLS: '-ERR no'$"):
        run(dialogue(b"+OK hi\r\n", None, b"-ERR\r\n", None, b"-ERR no\r\n"), "pop3")


SMTP_EHLO = b"250-mail.example.test Ok.\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 SIZE\r\n"


def test_smtp_reads_the_multi_line_ehlo_reply():
    answer, server = run(dialogue(b"220-mail.example.test ESMTP\r\n220 welcome\r\n", None,
                                  SMTP_EHLO, None, b"220 Ok\r\n"), "smtp")
    assert answer == "220 Ok"
    assert server.heard == [b"EHLO [127.0.0.1]", b"STARTTLS"]


@pytest.mark.parametrize("steps, words", [
    ((b"220 hi\r\n", None, b"250-x\r\n250 SIZE\r\n"), "the SMTP server does not offer STARTTLS"),
    ((b"220 hi\r\n", None, SMTP_EHLO, None, b"454 TLS not available\r\n"),
     "the SMTP server refused STARTTLS: '454 TLS not available'"),
    ((b"554 go away\r\n",), "not an SMTP greeting: '554 go away'"),
    ((b"hello\r\n",), "not an SMTP reply: 'hello'"),
    ((b"220 hi\r\n", None, b"250-x\r\n251 y\r\n"),
     "the SMTP server changed its reply code within a reply: '251 y'"),
])
def test_smtp_failures_say_why(steps, words):
    with pytest.raises(ProbeFailed) as caught:
        run(dialogue(*steps), "smtp")
    assert str(caught.value) == words


def test_anything_after_the_go_ahead_is_refused():
    """Plain text sent before the TLS handshake would be taken as inside it (CVE-2011-0411)."""
    with pytest.raises(ProbeFailed, match="sent more after its go-ahead"):
        run(dialogue(b"220 hi\r\n", None, SMTP_EHLO, None, b"220 Ok\r\n250 injected\r\n"),
            "smtp")


def test_a_silent_server_times_out_in_time():
    started = time.monotonic()
    with pytest.raises(ProbeFailed, match=r"^the IMAP server sent no complete line within 0.3 s$"):
        run(dialogue(), "imap", timeout=0.3)
    assert time.monotonic() - started < 3


def test_a_trickling_server_times_out_per_line():
    """One byte at a time, never a whole line: the deadline is per line, not per byte."""
    def trickle(conn, server):
        for _ in range(40):
            if server.stopping.is_set():
                return
            conn.sendall(b"*")
            time.sleep(0.05)

    started = time.monotonic()
    with pytest.raises(ProbeFailed, match=r"sent no complete line within 0.5 s \(after '\*+'\)"):
        run(trickle, "imap", timeout=0.5)
    assert time.monotonic() - started < 1.8


def test_a_huge_line_is_refused():
    def huge(conn, server):
        conn.sendall(b"* OK " + b"x" * (starttls.MAX_LINE * 4))
        read_line(conn)

    with pytest.raises(ProbeFailed, match=f"sent a line longer than {starttls.MAX_LINE} bytes"):
        run(huge, "imap")


def test_endless_lines_are_refused():
    def endless(conn, server):
        conn.sendall(b"* OK hi\r\n")
        read_line(conn)
        conn.sendall(b"* FLAGS ()\r\n" * (starttls.MAX_REPLY_LINES + 1))
        read_line(conn)

    with pytest.raises(ProbeFailed, match="more than 200 lines to CAPABILITY"):
        run(endless, "imap")


def test_a_closed_connection_says_so():
    with pytest.raises(ProbeFailed, match="^the POP3 server closed the connection after '.OK'$"):
        run(lambda conn, server: conn.sendall(b"+OK"), "pop3")


def test_refused_connection():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens there now
    with pytest.raises(ProbeFailed, match="^cannot connect: Connection refused$"):
        starttls.connect("127.0.0.1", port, TIMEOUT)


def test_ipv6_loopback():
    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    try:
        server = Scripted(IMAP_OK, family=socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with server:
        sock = starttls.connect("::1", server.port, TIMEOUT)
        try:
            starttls.starttls(sock, "imap", TIMEOUT)
        finally:
            sock.close()


def test_ehlo_names_this_end_as_an_address_literal():
    def ehlo(conn, server):
        conn.sendall(b"220 hi\r\n")
        server.heard = [read_line(conn)]
        conn.sendall(b"250 only\r\n")
        read_line(conn)

    if not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    try:
        server = Scripted(ehlo, family=socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with server:
        sock = starttls.connect("::1", server.port, TIMEOUT)
        try:
            with pytest.raises(ProbeFailed):
                starttls.starttls(sock, "smtp", TIMEOUT)
        finally:
            sock.close()
    assert server.heard == [b"EHLO [IPv6:::1]"]
