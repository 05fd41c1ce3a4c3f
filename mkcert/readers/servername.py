"""Courier's rule for which file a client's name (SNI) gets: the names alone, no I/O.

Courier's TLS layer serves ``$TLS_CERTFILE.<name>`` to a client that names
``<name>``, and the rule differs between its two builds (courier-libs,
``tcpd/libcouriertls.c`` and ``tcpd/libcouriergnutls.c``):

OpenSSL build
  the name exactly as sent, with ``/`` turned into ``.``
  (``get_servername_concated_readable_file``); without such a file, the one
  loaded when the connection started: ``$TLS_CERTFILE.<local IP>`` (an
  ``::ffff:`` prefix of a mapped IPv4 address stripped), else
  ``$TLS_CERTFILE`` (``process_certfile``).  The key is
  ``$TLS_PRIVATE_KEYFILE.<same suffix>`` when readable, else the key in
  the certificate file itself.
GnuTLS build (Debian's)
  the name as sent is turned into UTF-8 (``idn2_to_unicode_8z8z``), ``/``
  into ``.``, then (``check_cert``) the IDNA A-label of that
  (``idn2_to_ascii_8z``, which also lowercases) is tried first and the
  name itself second, each followed by its parent domains
  (``imap.example.net``, ``example.net``, ``net``); without any such
  file, ``$TLS_CERTFILE.<local IP>`` and then ``$TLS_CERTFILE``.  The key
  is looked up on its own along the same names
  (``$TLS_PRIVATE_KEYFILE.<name>``, parents...), so a domain file can be
  paired with a parent's key file; none found means the key in the
  certificate file.

Both test readability (``access(R_OK)``) and both are case-sensitive: a
file named with capitals is never served to a client that sends the name
in lowercase, as clients do.

The IDNA conversions are the caller's (:mod:`mkcert.system.idn` calls
libidn2, as couriertls does); this module only arranges names, so the
rules can be tested name by name.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

from mkcert.errors import MkcertError
from mkcert.record import REQUIRED, Record

__all__ = ["SSL_LIBRARIES", "DomainError", "Stage", "normalise_domain", "local_address",
           "stages", "sibling_path", "never_picked", "is_leftover"]

SSL_LIBRARIES = ("gnutls", "openssl")
MAX_NAME = 253
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_MAPPED = "::ffff:"

Converter = Callable[[str], "str | None"]


class DomainError(MkcertError):
    """A ``--domain`` name that Courier's lookup could not use as it is."""


class Stage(Record):
    """One step of the lookup: ``kind`` (``servername``, ``local-ip``, ``default``)
    and the ``suffixes`` tried in it, in order (None: ``TLS_CERTFILE`` itself)."""

    FIELDS = (("kind", REQUIRED), ("suffixes", REQUIRED))
    __slots__ = tuple(name for name, _ in FIELDS)


def sibling_path(base: str, suffix: str | None) -> str:
    """``TLS_CERTFILE.<suffix>``, or ``TLS_CERTFILE`` itself for None."""
    return base if suffix is None else f"{base}.{suffix}"


def normalise_domain(text: str, to_ascii: Converter) -> str:
    """The suffix under which Courier looks for ``text``'s file: what ``--domain`` writes.

    Lowercase; an international name as its IDNA A-label (``to_ascii`` is
    libidn2's conversion, the one Courier's GnuTLS build makes; the U-label
    is accepted); an IP address in the form ``TCPLOCALIP`` has it.  Refused
    (:class:`DomainError`): a ``/``, an empty label, a wildcard, blanks and
    controls, a name longer than DNS allows.
    """
    if not text:
        raise DomainError("--domain: an empty name")
    shown = repr(text)
    if not text.isprintable() or any(c.isspace() for c in text):
        raise DomainError(f"--domain {shown}: blanks or control characters in a name")
    if "/" in text:
        raise DomainError(f"--domain {shown}: a name holds no '/' (Courier reads it as '.')")
    address = _ip_address(text)
    if address is not None:
        return address
    if "*" in text:
        raise DomainError(f"--domain {shown}: no wildcard file exists in Courier's lookup; "
                          f"the GnuTLS build serves TLS_CERTFILE.example.org to every name "
                          f"under example.org, so give the parent domain")
    if "" in text.split("."):
        raise DomainError(f"--domain {shown}: an empty label (a leading, trailing or "
                          f"doubled '.'); no client sends such a name")
    converted = to_ascii(text)
    if converted is None:
        raise DomainError(f"--domain {shown}: not a name IDNA can convert (libidn2 "
                          f"refuses it, or is not installed for an international name)")
    name = converted.lower()
    if len(name) > MAX_NAME or not all(_LABEL.match(label) for label in name.split(".")):
        raise DomainError(f"--domain {shown}: not a valid domain name (letters, digits and "
                          f"inner '-', labels of 1 to 63, at most {MAX_NAME} in all)")
    return name


def _ip_address(text):
    """An IP address in TCPLOCALIP's form, or None for anything else."""
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)  # Courier strips ::ffff: before it looks
    return address.compressed


def local_address(ip: str | None) -> str:
    """``TCPLOCALIP`` as both builds use it: ``::ffff:`` stripped from a mapped IPv4 address."""
    ip = ip or ""
    if ip.startswith(_MAPPED) and "." in ip:
        return ip[len(_MAPPED):]
    return ip


def _walk(name):
    """``a.b.c``, ``b.c``, ``c``: check_cert_unicode's walk up to the parent domains."""
    found = []
    while name:
        found.append(name)
        if "." not in name:
            break
        name = name.split(".", 1)[1]
    return found


def stages(ssllib: str, servername: str | None, local_ip: str | None,
           to_ascii: Converter, to_unicode: Converter) -> tuple[Stage, ...]:
    """The lookup of the build ``ssllib`` for a client sending ``servername``, in order.

    ``servername``: what the client sent (None or "" for no SNI);
    ``local_ip``: ``TCPLOCALIP``, the address the client connected to.
    The first readable file of the first stage that has one is served.
    """
    if ssllib not in SSL_LIBRARIES:
        raise ValueError(f"unknown TLS library {ssllib!r}")
    ip = local_address(local_ip)
    found = []
    if servername:
        if ssllib == "openssl":
            found.append(Stage("servername", (servername.replace("/", "."),)))
        else:
            unicode = to_unicode(servername)
            name = (servername if unicode is None else unicode).replace("/", ".")
            suffixes = []
            a_label = to_ascii(name)
            for candidate in (_walk(a_label) if a_label else []) + _walk(name):
                if candidate not in suffixes:
                    suffixes.append(candidate)
            found.append(Stage("servername", tuple(suffixes)))
    if ssllib == "openssl":
        if ip:
            found.append(Stage("local-ip", (ip,)))
        found.append(Stage("default", (None,)))
    else:
        found.append(Stage("local-ip", ((ip,) if ip else ()) + (None,)))
    return tuple(found)


def is_leftover(suffix: str) -> bool:
    """A sibling ``TLS_CERTFILE.<suffix>`` that our own runs make beside a PEM, not a domain's.

    ``.old`` (the file a replacement displaced), temporaries (``.tmp.``),
    seed files (``.rand``) and the staged next key (``next-key.pem``).
    """
    return (suffix == "old" or suffix.endswith(".old") or ".tmp." in suffix
            or suffix.startswith("tmp.") or suffix == "rand" or suffix.endswith(".rand")
            or suffix == "next-key.pem" or suffix.endswith(".next-key.pem"))


def never_picked(suffix: str, ssllib: str) -> str | None:
    """Why the build ``ssllib`` would never serve ``TLS_CERTFILE.<suffix>``; None if it may."""
    if suffix != suffix.lower():
        return (f"named with capitals: Courier's lookup is case-sensitive and clients send "
                f"names in lowercase, so it is never served (rename it to "
                f"TLS_CERTFILE.{suffix.lower()})")
    if suffix.startswith(_MAPPED) and "." in suffix:
        return (f"Courier strips {_MAPPED} from the local address before it looks, so it is "
                f"never served (rename it to TLS_CERTFILE.{suffix[len(_MAPPED):]})")
    if "" in suffix.split("."):
        return "an empty label (a leading, trailing or doubled '.'): no client sends that name"
    if ssllib == "openssl" and not suffix.isascii():
        return ("not ASCII: clients send the xn-- form and the OpenSSL build looks for the "
                "name exactly as sent, so it is never served")
    return None
