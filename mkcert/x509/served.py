"""What a TLS server hands a client: the handshake of ``--probe`` and what it brings back.

pyOpenSSL rather than Python's ``ssl``: only it gives the whole chain the
server sent (``ssl`` gives the leaf, or a chain it verified itself), in
the order sent, without judging it; judging is
:mod:`mkcert.actions.probe`'s business.  The handshake runs on a socket
:mod:`mkcert.system.starttls` has connected (and taken through STARTTLS),
within the same per-step timeout, and ends in a :class:`ServedChain` or a
:class:`~mkcert.system.starttls.ProbeFailed` saying why in one line: a
server that speaks plain text on a TLS port, resets or stays silent is a
state for the monitor, never a traceback or a hang.

The server's ephemeral key (the DH group of a DHE suite) is read where the
bindings allow: ``Connection.get_group_name`` (pyOpenSSL 24 and later) for
a named group, ``SSL_get_server_tmp_key`` of cryptography's OpenSSL
binding (cryptography 38, Debian 12's) for its type and size; when neither
tells, the size stays None ("unknown").
"""

from __future__ import annotations

import re
import select
import socket
import time

from mkcert.record import REQUIRED, Record
from mkcert.system.starttls import ProbeFailed

__all__ = ["ServedChain", "handshake", "FFDHE_BITS", "dns_names", "name_covered"]

# RFC 7919's named groups: the size is in the name.
FFDHE_BITS = {"ffdhe2048": 2048, "ffdhe3072": 3072, "ffdhe4096": 4096, "ffdhe6144": 6144,
              "ffdhe8192": 8192}
# OpenSSL's NIDs for the key types SSL_get_server_tmp_key may return.
_NID_DH, _NID_DHX = 28, 920
_BOUNDED_TIMEOUT = 3600.0


class ServedChain(Record):
    """One handshake's findings.

    ``certificates``: the DER of each certificate in the order the server
    sent them (the leaf first); ``protocol`` (``TLSv1.3``) and ``cipher``
    as OpenSSL names them; ``key_exchange``: "DH", "ECDH" or None when
    unknown; ``dh_bits``: the DH group's size when DH was used and it could
    be read; ``verify_errors``: (depth, OpenSSL's verify error text) for each
    complaint of a verification against the system's trusted CAs (no name
    check; an empty tuple when the chain verifies).
    """

    FIELDS = (("certificates", REQUIRED), ("protocol", None), ("cipher", None),
              ("group", None), ("key_exchange", None), ("dh_bits", None),
              ("verify_errors", ()))
    __slots__ = tuple(name for name, _ in FIELDS)


def handshake(sock: socket.socket, servername: str | None, timeout: float) -> ServedChain:
    """A TLS client handshake on ``sock`` (sending ``servername`` as SNI when given).

    The socket is left open (the caller closes it); the TLS session is shut
    down politely, without waiting for the server's answer.
    """
    from OpenSSL import SSL

    errors = []
    context = _client_context(errors)
    connection = SSL.Connection(context, sock)
    if servername is not None:
        connection.set_tlsext_host_name(servername.encode("ascii"))
    connection.set_connect_state()
    _within(timeout, connection.do_handshake, sock)
    served = _findings(connection, errors)
    try:
        sock.setblocking(False)
        connection.shutdown()
    except (SSL.Error, OSError):
        pass  # the findings are in; a server that drops the line at once is fine
    return served


def _client_context(errors):
    """A client context that accepts any chain and notes what verification thinks of it."""
    from OpenSSL import SSL

    context = SSL.Context(SSL.TLS_CLIENT_METHOD)
    try:
        context.set_default_verify_paths()
    except SSL.Error:
        pass  # no system CAs: every chain gets "unable to get local issuer", which is true

    def note(connection, certificate, error_number, depth, ok):
        if not ok:
            errors.append((depth, error_number))
        return True  # look at any chain: the probe judges, not the handshake

    context.set_verify(SSL.VERIFY_PEER, note)
    return context


def _within(timeout, step, sock):
    """Run the non-blocking pyOpenSSL ``step`` to its end, waiting for the socket
    at most ``timeout`` seconds in all."""
    from OpenSSL import SSL

    deadline = time.monotonic() + min(timeout, _BOUNDED_TIMEOUT)
    sock.setblocking(False)
    while True:
        try:
            return step()
        except SSL.WantReadError:
            _wait(sock, deadline, timeout, for_writing=False)
        except SSL.WantWriteError:
            _wait(sock, deadline, timeout, for_writing=True)
        except SSL.ZeroReturnError:
            raise ProbeFailed("the server closed TLS during the handshake") from None
        except SSL.SysCallError as exc:
            raise ProbeFailed(f"TLS handshake failed: {_syscall_reason(exc)}") from None
        except SSL.Error as exc:
            raise ProbeFailed(f"TLS handshake failed: {_ssl_reason(exc)}") from None


def _wait(sock, deadline, timeout, for_writing):
    remaining = deadline - time.monotonic()
    if remaining > 0:
        watched = ([], [sock], []) if for_writing else ([sock], [], [])
        try:
            ready = select.select(*watched, remaining)
        except (OSError, ValueError) as exc:
            raise ProbeFailed(f"TLS handshake failed: {exc}") from None
        if ready[0] or ready[1]:
            return
    raise ProbeFailed(f"no TLS handshake within {timeout:g} s")


def _syscall_reason(exc):
    code, text = (exc.args + (None, None))[:2]
    if code == -1:
        return "the server closed the connection (is it TLS on this port?)"
    return text or str(code)


def _ssl_reason(exc):
    """OpenSSL's reasons, without its library and function names, one line."""
    reasons = []
    for entry in (exc.args[0] if exc.args and isinstance(exc.args[0], list) else []):
        reason = entry[-1] if isinstance(entry, tuple) and entry else entry
        if reason and reason not in reasons:
            reasons.append(str(reason))
    text = "; ".join(reasons) or str(exc) or type(exc).__name__
    if "wrong version number" in text or "packet length too long" in text:
        text += " (the server does not speak TLS on this port: plain text?)"
    return text


def _findings(connection, errors):
    from OpenSSL import crypto

    chain = connection.get_peer_cert_chain() or []
    certificates = tuple(crypto.dump_certificate(crypto.FILETYPE_ASN1, c) for c in chain)
    if not certificates:
        raise ProbeFailed("the server sent no certificate")
    protocol = connection.get_protocol_version_name()
    cipher = connection.get_cipher_name()
    group = _group_name(connection)
    key_exchange, dh_bits = _key_exchange(connection, protocol, cipher, group)
    verify_errors = tuple((depth, _verify_text(number)) for depth, number in errors)
    return ServedChain(certificates, protocol=protocol, cipher=cipher, group=group,
                       key_exchange=key_exchange, dh_bits=dh_bits, verify_errors=verify_errors)


def _group_name(connection):
    """The named group of the key exchange (pyOpenSSL 24 and later), lower case; or None."""
    try:
        name = connection.get_group_name()
    except Exception:  # not there (pyOpenSSL 23) or not known for this session
        return None
    if isinstance(name, bytes):
        name = name.decode("ascii", "replace")
    return name.lower() if name else None


def _key_exchange(connection, protocol, cipher, group):
    """("DH" or "ECDH" or None, the DH size in bits or None)."""
    if group in FFDHE_BITS:
        return "DH", FFDHE_BITS[group]
    key_type, bits = _server_temp_key(connection)
    if key_type in (_NID_DH, _NID_DHX):
        return "DH", bits
    if key_type is not None:
        return "ECDH", None
    if group is not None:
        return "ECDH", None  # a named group that is not FFDHE is an elliptic curve
    if protocol != "TLSv1.3" and cipher and re.match(r"^(EDH|DHE)-", cipher):
        return "DH", None  # classic DHE, size not readable with these bindings
    return None, None


def _server_temp_key(connection):
    """(OpenSSL's key type NID, bits) of the server's ephemeral key, or (None, None).

    ``SSL_get_server_tmp_key`` is in cryptography 38's binding and gone
    from later ones; reading it is an extra, never a reason to fail.
    """
    try:
        from OpenSSL._util import ffi, lib

        get = lib.SSL_get_server_tmp_key
        ssl = connection._ssl
    except (ImportError, AttributeError):
        return None, None
    key = ffi.new("EVP_PKEY **")
    try:
        if not get(ssl, key) or key[0] == ffi.NULL:
            return None, None
        try:
            return lib.EVP_PKEY_id(key[0]), lib.EVP_PKEY_bits(key[0])
        finally:
            lib.EVP_PKEY_free(key[0])
    except Exception:
        return None, None


def _verify_text(number):
    """OpenSSL's text for a verify error number (X509_verify_cert_error_string)."""
    try:
        from OpenSSL._util import ffi, lib

        return ffi.string(lib.X509_verify_cert_error_string(number)).decode("ascii", "replace")
    except Exception:
        return f"verify error {number}"


def dns_names(certificate_der: bytes) -> list[str]:
    """The DNS names of a certificate's subjectAltName, as written (ValueError if unreadable)."""
    from mkcert.asn1 import der, general_names
    from mkcert.x509.inspect import subject_alt_names

    return [der.content(name).decode("ascii", "replace")
            for name in subject_alt_names(certificate_der)
            if general_names.choice(name) == general_names.DNS_NAME]


def name_covered(name: str, patterns: list[str]) -> bool:
    """Does one of the subjectAltName DNS ``patterns`` cover ``name`` (RFC 6125 6.4)?

    Case-insensitive; a wildcard only as the whole leftmost label, standing
    for exactly one label, as clients match it.
    """
    wanted = name.lower().rstrip(".").split(".")
    for pattern in patterns:
        labels = pattern.lower().rstrip(".").split(".")
        if len(labels) != len(wanted):
            continue
        if labels == wanted or (labels[0] == "*" and len(labels) > 2
                                and labels[1:] == wanted[1:]):
            return True
    return False
