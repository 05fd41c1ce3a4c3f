"""Asking DNS for a name's TLSA records, with dnspython, where it is installed.

dnspython is optional: only ``--check --tlsa-from-dns`` needs it, so it is
imported here, when asked, and its absence is a :class:`DnsUnavailable`
saying what to install.  The answer is handed on as zone-file text, the
one form :mod:`mkcert.readers.tlsa_records` reads, so records from a file
and from DNS are read by the same code.

The query goes to the system's resolvers (``/etc/resolv.conf``) unless a
server is named, as the tests do with a name server on the loopback.  No
DNSSEC validation happens here: this compares what is published with the
keys on disk; whether a client can trust it is the resolver's business.
"""

from __future__ import annotations

__all__ = ["DnsUnavailable", "DnsError", "parse_server", "tlsa_zone_text"]

DEFAULT_PORT = 53
TIMEOUT_SECONDS = 5.0


class DnsUnavailable(Exception):
    """dnspython is not installed; the message says so in one line."""


class DnsError(Exception):
    """The lookup failed (timeout, refused, no server): one line saying why."""


def parse_server(text: str) -> tuple[str, int]:
    """``127.0.0.1``, ``127.0.0.1:5353``, ``::1`` or ``[::1]:5353`` -> (address, port).

    ValueError for anything that is not an IP address and an optional port.
    """
    import ipaddress

    host, rest = text, None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"{text!r}: write [ADDRESS]:PORT")
        rest = rest[1:] or None
    elif text.count(":") == 1:  # IPv4:PORT (an IPv6 address holds two colons or more)
        host, _, rest = text.partition(":")
    port = DEFAULT_PORT if rest is None else _port(rest)
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"{text!r} is not an IP address (optionally with :PORT)") from None
    return host, port


def _port(text):
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ValueError(f"port {text!r} is not a number from 1 to 65535")
    return int(text)


def tlsa_zone_text(name: str, server: tuple[str, int] | None = None,
                   timeout: float = TIMEOUT_SECONDS) -> str:
    """The TLSA records at ``name`` as zone-file lines ("" when there are none).

    Raises :class:`DnsUnavailable` without dnspython, :class:`DnsError` when
    no answer comes (an empty answer or NXDOMAIN is no error: "").
    """
    try:
        import dns.exception
        import dns.resolver
    except ImportError:
        raise DnsUnavailable("--tlsa-from-dns needs dnspython, which is not installed "
                             "(Debian: apt install python3-dnspython)") from None
    resolver = dns.resolver.Resolver(configure=server is None)
    if server is not None:
        resolver.nameservers = [server[0]]
        resolver.port = server[1]
    resolver.lifetime = timeout
    try:
        answer = resolver.resolve(name, "TLSA", raise_on_no_answer=False)
    except dns.resolver.NXDOMAIN:
        return ""
    except dns.exception.DNSException as exc:
        reason = str(exc).replace("\n", " ") or type(exc).__name__
        raise DnsError(f"DNS lookup of {name} TLSA failed: {reason}") from None
    if answer.rrset is None:
        return ""
    return answer.rrset.to_text() + "\n"
