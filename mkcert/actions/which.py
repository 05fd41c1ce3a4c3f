"""``--which``: the file Courier would serve to a client naming SERVERNAME.

The lookup rule of each build is :mod:`mkcert.readers.servername`; this
module adds what couriertls adds to it, the ``access(R_OK)`` test of each
candidate, and reports the file chosen, its key file, and every file that
was tried on the way.  ``--probe`` compares what a running server really
sends with :func:`served_file`.
"""

from __future__ import annotations

import os

from mkcert.errors import MkcertError
from mkcert.record import REQUIRED, Record

__all__ = ["Served", "served_file", "describe", "uncovered_name"]


class Served(Record):
    """What :func:`served_file` found.

    ``path``: the certificate file served (the base ``TLS_CERTFILE`` when
    nothing else is there, even if it is missing); ``keyfile``: the file
    the private key is read from when it is not ``path`` itself (None);
    ``tried``: every certificate file looked for, in order, up to and
    including ``path``; ``default``: True when only the base file (no
    per-name or per-address file) would be served.
    """

    FIELDS = (("path", REQUIRED), ("keyfile", None), ("tried", ()), ("default", REQUIRED))
    __slots__ = tuple(name for name, _ in FIELDS)


def _readable(path):
    return os.access(path, os.R_OK)


def served_file(certfile: str, servername: str | None, local_ip: str | None, ssllib: str,
                keyfile: str | None = None, idn_flavour: str | None = None) -> Served:
    """The file a Courier built with ``ssllib`` (``openssl``/``gnutls``) serves.

    ``certfile``: ``TLS_CERTFILE``; ``keyfile``: ``TLS_PRIVATE_KEYFILE``
    (None when unset); ``servername``: the name the client sends (None for
    no SNI; a U-label is sent as its A-label, as clients do);
    ``local_ip``: the server address the client reached (``TCPLOCALIP``);
    ``idn_flavour``: the IDN library of the GnuTLS build (:mod:`mkcert.system.idn`),
    by default the one the installed ``couriertls`` calls.
    """
    from mkcert import layout
    from mkcert.readers.servername import SSL_LIBRARIES, sibling_path, stages
    from mkcert.system import idn

    if ssllib not in SSL_LIBRARIES:
        raise MkcertError(f"COURIER_SSLLIB={ssllib}: not a TLS library Courier builds "
                          f"with (gnutls or openssl)")
    if servername and not servername.isascii():
        sent = idn.client_a_label(servername)
        if sent is None:
            raise MkcertError(f"{servername!r}: not a name IDNA can convert, so no client "
                              f"could send it")
        servername = sent
    if idn_flavour is None and ssllib == "gnutls":
        idn_flavour = idn.couriertls_flavour(layout.couriertls())
    to_ascii, to_unicode = idn.server_converters(idn_flavour or idn.IDN2)
    tried = []
    for stage in stages(ssllib, servername, local_ip, to_ascii, to_unicode):
        for suffix in stage.suffixes:
            path = sibling_path(certfile, suffix)
            tried.append(path)
            if suffix is None or _readable(path):
                key = _key_file(ssllib, keyfile, stage.suffixes, suffix)
                return Served(path, key, tuple(tried), suffix is None)
    raise AssertionError("every lookup ends with TLS_CERTFILE itself")


def _key_file(ssllib, keyfile, suffixes, chosen):
    """The key file paired with the certificate chosen under ``chosen``.

    The OpenSSL build takes ``TLS_PRIVATE_KEYFILE`` with the same suffix,
    when readable; the GnuTLS build looks the key up on its own along the
    stage's names, so it may find another name's key file.  None: the key
    is read from the certificate file.
    """
    from mkcert.readers.servername import sibling_path

    if not keyfile:
        return None
    if ssllib == "openssl":
        path = sibling_path(keyfile, chosen)
        return path if _readable(path) else None
    for suffix in suffixes:
        path = sibling_path(keyfile, suffix)
        if _readable(path):
            return path
    return None


def describe(served: Served, servername: str | None, local_ip: str | None) -> list[str]:
    """The lines ``--which`` prints: the file chosen, its key, then the files tried."""
    client = f"a client naming {servername}" if servername else "a client sending no name"
    if local_ip:
        client += f" at {local_ip}"
    what = "only the default" if served.default else "its own file"
    lines = [f"{served.path}: served to {client} ({what})"]
    if served.keyfile is not None:
        lines.append(f"  key from {served.keyfile}")
    for path in served.tried:
        if path == served.path:
            state = "served" if os.path.lexists(path) else "served, but missing: no TLS"
        else:
            state = "not readable" if os.path.lexists(path) else "not there"
        lines.append(f"  tried {path}: {state}")
    return lines


def uncovered_name(certificate: object, suffix: str) -> str | None:
    """Why the certificate of ``TLS_CERTFILE.<suffix>`` would not satisfy its clients; None if it would.

    A client naming ``suffix`` matches it against the subjectAltName DNS
    names (RFC 6125); the file of a parent domain, which the GnuTLS build
    serves to the names under it, may name them with a wildcard instead.
    Addresses are not judged here.
    """
    import ipaddress

    from mkcert.asn1 import der, general_names
    from mkcert.x509.inspect import subject_alt_names

    try:
        ipaddress.ip_address(suffix)
        return None
    except ValueError:
        pass
    try:
        names = subject_alt_names(certificate)
    except ValueError:
        return None  # --check has said so already
    dns = set()
    for name in names:
        if general_names.choice(name) == general_names.DNS_NAME:
            _, start, end = der.read_tlv(name)
            dns.add(name[start:end].decode("ascii", "replace").lower())
    if suffix.lower() in dns or f"*.{suffix.lower()}" in dns:
        return None
    return (f"its subjectAltName does not name {suffix}: a client naming {suffix} gets "
            f"this file and would refuse it")
