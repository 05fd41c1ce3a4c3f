"""``mkcourierca``: the command line of the local mail CA (:mod:`mkcert.actions.authority`).

Only argparse and the standard library are loaded before the work starts:
``--help``, ``--version`` and "already exists" load no crypto library.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from mkcert import __version__, layout
from mkcert.errors import AlreadyExists, Interrupted, MkcertError
from mkcert.system import process

__all__ = ["PROG", "build_parser", "main", "run"]

PROG = "mkcourierca"


def _domain(text: str) -> str:
    from mkcert.readers.san import SanError, dns_name

    if text.startswith("*.") or text.startswith("."):
        raise argparse.ArgumentTypeError(f"{text!r}: give the domain itself; its subdomains "
                                         f"are always included")
    try:
        dns_name(text)
    except SanError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None
    return text.lower().rstrip(".")


def _network(text: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.ip_network(text, strict=True))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: not an IP address or network "
                                         f"({exc})") from None


def _key_type(text: str):
    from mkcert.readers.key_type import KeyTypeError, parse_key_type

    try:
        return parse_key_type(text)
    except KeyTypeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _days(text: str) -> int:
    from mkcert.cli.arguments import days_argument

    return days_argument(text)


def _before(text: str) -> int:
    from mkcert.cli.arguments import before_argument

    return before_argument(text)


def _warn(text: str) -> int:
    from mkcert.cli.arguments import warn_argument

    return warn_argument(text)


def _san(text: str) -> bytes:
    from mkcert.cli.arguments import san_argument

    return san_argument(text)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Make a private CA for the Courier mail server (once), whose certificate "
                    "mail users import, and which issues the services' certificates "
                    "(mk<NAME>cert --ca): CERTSDIR/courier-ca.pem (0644) and "
                    "CERTSDIR/courier-ca.key (0600, root's).",
        epilog="Environment: COURIER_CERTSDIR (default %s), COURIER_SYSCONFDIR, "
               "COURIER_MAILUSER." % layout.CERTSDIR)
    parser.add_argument("--domain", action="append", type=_domain, metavar="NAME",
                        help="a domain the CA may issue for, with its subdomains (repeatable; "
                             "required to make the CA)")
    parser.add_argument("--ip", action="append", type=_network, metavar="ADDRESS[/PREFIX]",
                        help="an IP address or network the CA may issue for (repeatable; "
                             "without any, no IP address)")
    parser.add_argument("--key-type", type=_key_type, metavar="TYPE",
                        help="rsa[:BITS], ec[:P-256|P-384|P-521] or ed25519 (default rsa:3072)")
    parser.add_argument("--days", type=_days, metavar="N",
                        help="validity of the CA certificate (default 3650); with "
                             "--destroy-key, of the services' certificates")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--export", action="store_true",
                       help="print the CA certificate (PEM; --der -o FILE writes DER)")
    modes.add_argument("--renew", action="store_true",
                       help="renew the CA certificate with the same key if it expires "
                            "within --before days (default 365)")
    modes.add_argument("--check", action="store_true",
                       help="examine the CA like a monitoring plugin (0 OK, 1 WARNING, "
                            "2 CRITICAL, 3 UNKNOWN)")
    modes.add_argument("--destroy-key", action="store_true",
                       help="issue the certificates of imapd, pop3d and esmtpd (those whose "
                            "PEM exists) from the CA now, then remove the CA key")
    parser.add_argument("--fingerprint", action="store_true",
                        help="print the SHA-256 fingerprint of the CA certificate (alone, "
                             "or after --export's PEM)")
    parser.add_argument("--der", action="store_true", help="with --export: DER, to -o FILE")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="with --export: write to FILE (a new file, 0644)")
    parser.add_argument("--before", type=_before, metavar="DAYS",
                        help="with --renew: renew within DAYS of expiry (default 365)")
    parser.add_argument("--force", action="store_true",
                        help="with --renew: renew even if not due")
    parser.add_argument("--warn", type=_warn, metavar="DAYS",
                        help="with --check: WARNING within DAYS of expiry (default 365)")
    parser.add_argument("--san", action="append", type=_san, metavar="NAME",
                        help="with --destroy-key: add NAME to each service certificate")
    parser.add_argument("--version", action="version", version=f"{PROG} (courier-mkcert) "
                                                               f"{__version__}")
    return parser


_ONLY_WITH = (("der", "export"), ("output", "export"), ("before", "renew"), ("force", "renew"),
              ("warn", "check"), ("san", "destroy_key"))
_ONLY_TO_MAKE = ("domain", "ip", "key_type")


def parse(arguments: Sequence[str]) -> argparse.Namespace:
    parser = build_parser()
    options = parser.parse_args(arguments)
    for option, mode in _ONLY_WITH:
        if getattr(options, option) not in (None, False) and not getattr(options, mode):
            parser.error(f"--{option} only goes with --{mode.replace('_', '-')}")
    making = not (options.export or options.renew or options.check or options.destroy_key
                  or options.fingerprint)
    for option in _ONLY_TO_MAKE:
        if getattr(options, option) is not None and not making:
            parser.error(f"--{option.replace('_', '-')} is for making the CA")
    if making and not options.domain:
        parser.error("making the CA needs at least one --domain")
    if options.der and not options.output:
        parser.error("--der writes binary: give the file with -o FILE")
    if options.days is not None and not (making or options.renew or options.destroy_key):
        parser.error("--days goes with making the CA, --renew or --destroy-key")
    if options.fingerprint and not (making or options.export) and (options.renew or options.check
                                                                   or options.destroy_key):
        parser.error("--fingerprint goes alone or with --export")
    return options


def run() -> None:
    """The entry point of ``bin/mkcourierca`` (see :mod:`mkcert.system.process`)."""
    process.run_command(PROG, main)


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    arguments = sys.argv[1:] if argv is None else list(argv)
    if "--check" in arguments:
        try:
            options = parse(arguments)
        except SystemExit as exc:
            return 3 if exc.code else 0  # a plugin that cannot parse is UNKNOWN
    else:
        options = parse(arguments)
    certificate, key = layout.ca_certificate(environ), layout.ca_key(environ)
    try:
        if options.check:
            return _check(options, certificate, key, environ)
        if options.export or options.fingerprint:
            return _export(options, certificate)
        return _change(options, certificate, key, environ)
    except AlreadyExists as exc:
        print(exc)  # upstream's convention: stdout, exit 1
        return 1
    except Interrupted as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        process.end(1)
    except MkcertError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 1


def _check(options, certificate, key, environ):
    from mkcert.actions.authority import CheckPlan, check

    try:
        status, line = check(CheckPlan(certificate, key, options.warn, layout.mailuser(environ)))
    except Exception as exc:  # noqa: BLE001 - a plugin answers UNKNOWN, not a traceback
        status, line = 3, f"CA UNKNOWN - check failed: {type(exc).__name__}: {exc}"
    print(line)
    return status


def _export(options, certificate):
    from mkcert.actions.authority import exported

    pem, der, fingerprint = exported(certificate)
    if options.export and options.output:
        from mkcert.system import publish

        with publish.Run() as run:
            publish.publish_new(options.output, der if options.der else pem, run, mode=0o644)
        if not options.quiet:
            print(f"{options.output}: the CA certificate {certificate}"
                  f"{' (DER)' if options.der else ''}")
    elif options.export:
        sys.stdout.write(pem.decode("ascii"))
    if options.fingerprint:
        print(f"sha256 Fingerprint={fingerprint}")
    return 0


def _change(options, certificate, key, environ):
    from mkcert.actions import authority

    warn = (lambda text: None) if options.quiet else (
        lambda text: print(f"{PROG}: warning: {text}", file=sys.stderr))
    if options.renew:
        outcome = authority.renew(authority.RenewPlan(certificate, key, options.before,
                                                      options.force, options.days))
    elif options.destroy_key:
        outcome = authority.destroy_key(authority.DestroyPlan(
            certificate, key, environ, tuple(options.san or ()), options.days), warn)
    else:
        from mkcert.readers.key_type import KeyType

        key_type = options.key_type or KeyType("rsa", bits=3072)
        outcome = authority.create(authority.CreatePlan(
            certificate, key, tuple(options.domain), tuple(options.ip or ()), key_type,
            options.days or authority.CA_DAYS))
    if not options.quiet:
        for line in outcome.lines:
            print(line)
        if outcome.certificate is not None:
            from mkcert.x509.authority import sha256_fingerprint
            from mkcert.x509.inspect import summary_lines

            for line in summary_lines(outcome.certificate)[:3]:
                print(line)
            print(f"sha256 Fingerprint={sha256_fingerprint(outcome.certificate)}")
    return 0
