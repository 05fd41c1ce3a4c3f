"""The plain-text part of ``--probe``: a TCP connection, and STARTTLS where the port needs it.

Courier's IMAP, POP3 and SMTP servers start in plain text on 143, 110 and
25 and switch to TLS when the client asks (IMAP ``STARTTLS``, POP3
``STLS``, SMTP ``EHLO`` then ``STARTTLS``).  This module speaks just enough
of each protocol to get there, and knows nothing of X.509: it hands back
the connected socket for :mod:`mkcert.x509.served` to do the handshake on.

A probe runs from a monitoring system, so nothing here may hang or grow
without bound: each step (the connection, every line the server sends)
has its own deadline, a line longer than :data:`MAX_LINE` or a reply of
more than :data:`MAX_REPLY_LINES` lines is refused, and every failure is a
:class:`ProbeFailed` with a one-line reason.
"""

from __future__ import annotations

import socket
import time

from mkcert.errors import MkcertError, shorten

__all__ = ["PROTOCOLS", "LOOPBACK", "MAX_LINE", "MAX_REPLY_LINES", "ProbeFailed", "connect", "starttls",
           "Lines"]

PROTOCOLS = ("imap", "pop3", "smtp")
# RFC 5321 allows 512 octets for an SMTP reply line; IMAP servers put their
# capabilities in one line, which stays well under this.
MAX_LINE = 8192
# More lines than any greeting, capability list or EHLO reply holds.
MAX_REPLY_LINES = 200
_TAG = b"mkcert"


class ProbeFailed(MkcertError):
    """The server could not be reached, or did not get as far as TLS; the reason in one line."""


# RFC 6761: "localhost" is the loopback, whatever /etc/hosts says or lacks
# (a minimal chroot or container has none); IPv6 first, as resolvers order it.
LOOPBACK = ("::1", "127.0.0.1")


def connect(host: str, port: int, timeout: float) -> socket.socket:
    """A TCP connection to ``host``:``port`` (a name, an IPv4 or IPv6 address), within
    ``timeout`` for each address tried."""
    addresses = LOOPBACK if host.lower().rstrip(".") == "localhost" else (host,)
    for address in addresses[:-1]:
        try:
            return _connect(address, port, timeout)
        except ProbeFailed:
            continue  # nothing on ::1: the next loopback address
    return _connect(addresses[-1], port, timeout)


def _connect(host, port, timeout):
    try:
        return socket.create_connection((host, port), timeout=timeout)
    except socket.timeout:
        raise ProbeFailed(f"no connection within {_seconds(timeout)}") from None
    except socket.gaierror as exc:
        raise ProbeFailed(f"cannot resolve {host}: {exc.strerror or exc}") from None
    except OSError as exc:
        raise ProbeFailed(f"cannot connect: {exc.strerror or exc}") from None


def _seconds(timeout):
    return f"{timeout:g} s"


class Lines:
    """The server's lines, read with a deadline per line and a bound on their length.

    Reads byte blocks as they come and keeps what follows a line for the
    next one; nothing may follow the last line before TLS starts (see
    :meth:`assert_drained`), or a server could inject plain text into the
    encrypted session (CVE-2011-0411 and its kin).
    """

    def __init__(self, sock: socket.socket, timeout: float, what: str) -> None:
        self.sock, self.timeout, self.what = sock, timeout, what
        self.buffer = b""

    def line(self) -> bytes:
        """The next line without its CR LF; ProbeFailed for a timeout, a close or a giant."""
        deadline = time.monotonic() + self.timeout
        while b"\n" not in self.buffer:
            if len(self.buffer) > MAX_LINE:
                raise ProbeFailed(f"{self.what} sent a line longer than {MAX_LINE} bytes")
            self.buffer += self._receive(deadline)
        line, _, self.buffer = self.buffer.partition(b"\n")
        if len(line) > MAX_LINE:
            raise ProbeFailed(f"{self.what} sent a line longer than {MAX_LINE} bytes")
        return line.rstrip(b"\r")

    def _receive(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise self._timed_out()
        self.sock.settimeout(remaining)
        try:
            block = self.sock.recv(4096)
        except socket.timeout:
            raise self._timed_out() from None
        except OSError as exc:
            raise ProbeFailed(f"{self.what}: {exc.strerror or exc}") from None
        if not block:
            raise ProbeFailed(f"{self.what} closed the connection"
                              + (f" after {_quote(self.buffer)}" if self.buffer else ""))
        return block

    def _timed_out(self):
        waiting = f" (after {_quote(self.buffer)})" if self.buffer else ""
        return ProbeFailed(f"{self.what} sent no complete line within "
                           f"{_seconds(self.timeout)}{waiting}")

    def send(self, text: bytes) -> None:
        self.sock.settimeout(self.timeout)
        try:
            self.sock.sendall(text + b"\r\n")
        except socket.timeout:
            raise ProbeFailed(f"{self.what} took no data within {_seconds(self.timeout)}") from None
        except OSError as exc:
            raise ProbeFailed(f"{self.what}: {exc.strerror or exc}") from None

    def assert_drained(self) -> None:
        if self.buffer:
            raise ProbeFailed(f"{self.what} sent more after its go-ahead for TLS: "
                              f"{_quote(self.buffer)}")


def _quote(data: bytes) -> str:
    """What the server said, as a message may quote it: one line, cut short."""
    return "'" + shorten(data.decode("latin-1"), 60) + "'"


def starttls(sock: socket.socket, protocol: str, timeout: float) -> str:
    """Ask the server on ``sock`` to start TLS with ``protocol``'s own command.

    Returns the server's go-ahead line; raises :class:`ProbeFailed` when the
    server is not speaking that protocol, does not offer TLS or refuses it.
    """
    lines = Lines(sock, timeout, _SPEAKERS[protocol])
    return {"imap": _imap, "pop3": _pop3, "smtp": _smtp}[protocol](lines)


_SPEAKERS = {"imap": "the IMAP server", "pop3": "the POP3 server", "smtp": "the SMTP server"}


def _imap(lines):
    greeting = lines.line()
    if not greeting.startswith((b"* OK", b"* PREAUTH")):
        raise ProbeFailed(f"not an IMAP greeting: {_quote(greeting)}")
    untagged, done = _imap_command(lines, b"CAPABILITY")
    capabilities = b" ".join(line[len(b"* CAPABILITY "):].upper() for line in untagged
                             if line.upper().startswith(b"* CAPABILITY "))
    if not done.upper().startswith(_TAG.upper() + b" OK"):
        raise ProbeFailed(f"the IMAP server refused CAPABILITY: {_quote(done)}")
    if b"STARTTLS" not in capabilities.split():
        raise ProbeFailed("the IMAP server does not offer STARTTLS")
    _, done = _imap_command(lines, b"STARTTLS")
    if not done.upper().startswith(_TAG.upper() + b" OK"):
        raise ProbeFailed(f"the IMAP server refused STARTTLS: {_quote(done)}")
    lines.assert_drained()
    return done.decode("latin-1")


def _imap_command(lines, command):
    """Send ``command``; its untagged lines and the tagged completion line."""
    lines.send(_TAG + b" " + command)
    untagged = []
    for _ in range(MAX_REPLY_LINES):
        line = lines.line()
        if line.startswith(_TAG + b" "):
            return untagged, line
        if line.upper().startswith(b"* BYE"):
            raise ProbeFailed(f"the IMAP server said goodbye: {_quote(line)}")
        untagged.append(line)
    raise ProbeFailed(f"the IMAP server sent more than {MAX_REPLY_LINES} lines to {command.decode()}")


def _pop3(lines):
    greeting = lines.line()
    if not greeting.startswith(b"+OK"):
        raise ProbeFailed(f"not a POP3 greeting: {_quote(greeting)}")
    lines.send(b"CAPA")
    answer = lines.line()
    if answer.startswith(b"+OK"):
        capabilities = _pop3_list(lines)
        if b"STLS" not in capabilities:
            raise ProbeFailed("the POP3 server does not offer STLS")
    # A server without CAPA (RFC 2449 is optional) may still know STLS: ask anyway.
    lines.send(b"STLS")
    answer = lines.line()
    if not answer.startswith(b"+OK"):
        raise ProbeFailed(f"the POP3 server refused STLS: {_quote(answer)}")
    lines.assert_drained()
    return answer.decode("latin-1")


def _pop3_list(lines):
    """The first words of a multi-line POP3 answer, up to its lone ".", upper-cased."""
    words = set()
    for _ in range(MAX_REPLY_LINES):
        line = lines.line()
        if line == b".":
            return words
        words.add(line.split(b" ", 1)[0].upper())
    raise ProbeFailed(f"the POP3 server sent more than {MAX_REPLY_LINES} lines to CAPA")


def _smtp(lines):
    code, greeting = _smtp_reply(lines)
    if code != b"220":
        raise ProbeFailed(f"not an SMTP greeting: {_quote(greeting[0])}")
    lines.send(b"EHLO " + _client_name(lines.sock))
    code, reply = _smtp_reply(lines)
    if code != b"250":
        raise ProbeFailed(f"the SMTP server refused EHLO: {_quote(reply[0])}")
    if not any(line[4:].split(b" ", 1)[0].upper() == b"STARTTLS" for line in reply):
        raise ProbeFailed("the SMTP server does not offer STARTTLS")
    lines.send(b"STARTTLS")
    code, reply = _smtp_reply(lines)
    if code != b"220":
        raise ProbeFailed(f"the SMTP server refused STARTTLS: {_quote(reply[0])}")
    lines.assert_drained()
    return reply[-1].decode("latin-1")


def _smtp_reply(lines):
    """One reply, perhaps of several lines (``250-...`` then ``250 ...``): its code and lines."""
    reply = []
    for _ in range(MAX_REPLY_LINES):
        line = lines.line()
        code = line[:3]
        if not (code.isdigit() and line[3:4] in (b"-", b" ", b"")):
            raise ProbeFailed(f"not an SMTP reply: {_quote(line)}")
        if reply and code != reply[0][:3]:
            raise ProbeFailed(f"the SMTP server changed its reply code within a reply: "
                              f"{_quote(line)}")
        reply.append(line)
        if line[3:4] != b"-":
            return code, reply
    raise ProbeFailed(f"the SMTP server sent a reply of more than {MAX_REPLY_LINES} lines")


def _client_name(sock):
    """The EHLO argument: this end's address literal (RFC 5321 4.1.3), which needs no DNS."""
    try:
        address = sock.getsockname()[0]
    except OSError:
        address = "127.0.0.1"
    if sock.family == socket.AF_INET6:
        if address.startswith("::ffff:") and "." in address:
            return f"[{address[7:]}]".encode()
        return f"[IPv6:{address.split('%')[0]}]".encode()
    return f"[{address}]".encode()
