"""``--probe``'s options and output: ``[HOST][:PORT]``, ``--timeout``, ``--servername``.

The arguments become a :class:`mkcert.actions.probe.Plan`; the results are
printed one line (or one JSON object of a list) per probed port and server
name, and the exit status is the worst state, as for ``--check``.
"""

from __future__ import annotations

import argparse
import re
import sys

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    import types
    from collections.abc import Callable

__all__ = ["DEFAULT_HOST", "MAX_TIMEOUT", "target_argument", "timeout_argument",
           "servername_argument", "probe"]

DEFAULT_HOST = "localhost"
MAX_TIMEOUT = 3600.0
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})"
                       r"(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$")
_TIMEOUT = re.compile(r"^[0-9]{1,5}(\.[0-9]{1,3})?$")


def target_argument(text: str) -> tuple[str, int | None]:
    """``[HOST][:PORT]`` -> (host, port or None): ``mail.example.org``, ``:143``,
    ``127.0.0.1:993``, ``[::1]:993``, ``::1`` (an IPv6 address needs brackets with a port)."""
    import ipaddress

    host, port = text, None
    if text.startswith("["):
        close = text.find("]")
        rest = text[close + 1:] if close > 0 else None
        if rest is None or not (rest == "" or rest.startswith(":")):
            raise argparse.ArgumentTypeError(f"not [IPv6]:PORT: {text!r}")
        host, port = text[1:close], rest[1:] if rest else None
        _address(host, text, version=6)
    elif text.count(":") == 1:
        host, port = text.split(":")
    elif text.count(":") > 1:
        _address(text, text, version=6)
    host = host or DEFAULT_HOST
    if not _HOSTNAME.match(host):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a host name or address: {host!r}") from None
    return host, _port(port, text)


def _address(host, text, version):
    import ipaddress

    try:
        if ipaddress.ip_address(host).version == version:
            return
    except ValueError:
        pass
    raise argparse.ArgumentTypeError(f"not an IPv6 address: {host!r} in {text!r}")


def _port(port, text):
    if port is None:
        return None
    if not port.isascii() or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"not a port number (1 to 65535): {port!r} in {text!r}")
    return int(port)


def timeout_argument(text: str) -> float:
    """--timeout: seconds, more than 0 and at most an hour (``0.5`` allowed)."""
    if not _TIMEOUT.match(text) or not 0 < float(text) <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"not a number of seconds from 0.001 to {MAX_TIMEOUT:g}: {text!r}")
    return float(text)


def servername_argument(text: str) -> str:
    """--servername: a DNS name as a client sends it in SNI (RFC 6066: no IP address);
    an international name in its A-label form."""
    import ipaddress

    name = text
    if not name.isascii():
        try:
            name = text.encode("idna").decode("ascii")
        except UnicodeError:
            raise argparse.ArgumentTypeError(f"not a DNS name: {text!r}") from None
    if not _HOSTNAME.match(name) or name.endswith("."):
        raise argparse.ArgumentTypeError(f"not a DNS name: {text!r}")
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return name
    raise argparse.ArgumentTypeError(f"an IP address is no server name (SNI): {text!r}")


def probe(program: str, service: str, pem: str,
          options: "argparse.Namespace | types.SimpleNamespace",
          expected: "Callable[[str | None, str | None], str] | None" = None) -> int:
    """Run --probe and print each result; the worst state is the exit status.

    ``expected``: which file the server should serve to a server name (and
    the address connected to); the base PEM when not given.
    """
    import json

    from mkcert.actions.check_result import UNKNOWN
    from mkcert.actions.defaults import CHECK_WARN_DAYS
    from mkcert.actions.probe import DEFAULT_TIMEOUT, Plan, default_targets
    from mkcert.actions.probe import probe as run_probe

    host, port = options.probe
    targets = default_targets(service, port, options.starttls)
    if targets is None:
        print(f"{program}: --probe: no default ports for {service}: give HOST:PORT",
              file=sys.stderr)
        return UNKNOWN
    plan = Plan(host, targets, tuple(options.servername or ()),
                expected or (lambda servername, address: pem),
                CHECK_WARN_DAYS if options.warn is None else options.warn,
                DEFAULT_TIMEOUT if options.timeout is None else options.timeout)
    results = run_probe(plan)
    if options.json:
        print(json.dumps([r.as_json() for r in results], sort_keys=True))
    else:
        for result in results:
            print(result.line())
    return max(result.status for result in results)
