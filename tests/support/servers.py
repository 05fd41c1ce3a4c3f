"""Servers on 127.0.0.1 for the --probe tests, each closed with all its sockets and threads.

- :class:`Scripted`: a TCP server that runs a function on each connection
  (a fake IMAP/POP3/SMTP dialogue, a garbage banner, silence, a huge line);
- :func:`tls_context`: Python's ``ssl`` server side for a PEM chain and key;
  a scripted handler can wrap its socket with it after its STARTTLS go-ahead;
- :class:`OpenSSLServer`: ``openssl s_server``, the real thing, on a port
  it picks itself.
"""

import os
import re
import socket
import ssl
import subprocess
import threading


class Scripted:
    """Accept connections on 127.0.0.1 (or ::1) and run ``handler(conn)`` on each, in a thread.

    Used as a context manager: on exit the listener and every connection
    are closed and every thread joined, so a test leaves nothing running.
    """

    def __init__(self, handler, family=socket.AF_INET):
        self.handler = handler
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.bind(("::1" if family == socket.AF_INET6 else "127.0.0.1", 0))
        self.listener.listen(8)
        self.port = self.listener.getsockname()[1]
        self.connections, self.threads, self.errors = [], [], []
        self.stopping = threading.Event()
        self.acceptor = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self):
        self.acceptor.start()
        return self

    def _accept(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            self.connections.append(conn)
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(thread)
            thread.start()

    def _serve(self, conn):
        try:
            self.handler(conn, self)
        except (OSError, ssl.SSLError, ValueError):
            pass  # the client went away, as probes that give up do
        except Exception as exc:  # noqa: BLE001 - reported by the test through .errors
            self.errors.append(exc)
        finally:
            conn.close()

    def __exit__(self, *exc_info):
        self.stopping.set()
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept(); close() alone does not
        except OSError:
            pass
        self.listener.close()
        for conn in list(self.connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            conn.close()
        self.acceptor.join(5)
        for thread in self.threads:
            thread.join(5)
        assert not self.acceptor.is_alive()
        assert not [t for t in self.threads if t.is_alive()]


def read_line(conn, limit=4096):
    """One line from the client (without CR LF), or b"" at its end."""
    data = b""
    while not data.endswith(b"\n") and len(data) < limit:
        block = conn.recv(1)
        if not block:
            break
        data += block
    return data.rstrip(b"\r\n")


def tls_context(certfile, keyfile=None, names=None):
    """A server context for the chain in ``certfile``; ``names``: {SNI: (certfile, keyfile)}
    served instead for those names, as Courier serves its per-domain files."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certfile, keyfile)
    if names:
        others = {}
        for name, (other_cert, other_key) in names.items():
            other = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            other.load_cert_chain(other_cert, other_key)
            others[name] = other

        def choose(sock, servername, _):
            if servername in others:
                sock.context = others[servername]

        context.sni_callback = choose
    return context


def serve_tls(context, seen=None):
    """A handler: TLS from the first byte; records the client's SNI in ``seen``."""
    def handler(conn, server):
        if seen is not None:
            def note(sock, servername, _):
                seen.append(servername)
            context.sni_callback = context.sni_callback or note
        with context.wrap_socket(conn, server_side=True) as tls:
            tls.settimeout(5)
            try:
                tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    return handler


class OpenSSLServer:
    """``openssl s_server`` on 127.0.0.1 with ``arguments``; ``port`` once it listens.

    Not ``-quiet``: that hides the ``ACCEPT`` line with the port; stdin stays
    open, since s_server ends a session at its end of file.
    """

    def __init__(self, *arguments):
        self.process = subprocess.Popen(
            ["openssl", "s_server", "-accept", "127.0.0.1:0", *arguments],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, env=dict(os.environ, LC_ALL="C"))
        self.port = None

    def __enter__(self):
        for _ in range(20):
            line = self.process.stdout.readline()
            match = re.match(r"^ACCEPT .*:(\d+)$", line.strip())
            if match:
                self.port = int(match.group(1))
                # It reports every session on stdout: keep the pipe from filling.
                self.drain = threading.Thread(target=self.process.stdout.read, daemon=True)
                self.drain.start()
                return self
            if not line:
                break
        self.process.kill()
        error = self.process.stderr.read()
        self.__exit__()
        raise RuntimeError(f"openssl s_server did not start: {error}")

    def __exit__(self, *exc_info):
        self.process.kill()
        self.process.wait(10)
        if getattr(self, "drain", None) is not None:
            self.drain.join(10)
        self.process.stdin.close()
        self.process.stdout.close()
        self.process.stderr.close()
