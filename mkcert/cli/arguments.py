"""The command line of ``mk<NAME>cert``: argparse, loaded only when needed.

The plain invocations Courier's maintainer scripts use (``mkimapdcert``,
``mkimapdcert PEMFILE``, ``mkcouriercert imapd``) never come here: argparse
and what it imports cost about 7 ms of a run that should take no longer than
the shell script it replaces, so :func:`mkcert.cli.main.plain_options` answers
those, and a test proves both give the same options.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Sequence

from mkcert import __version__, layout
from mkcert.actions.defaults import CHECK_WARN_DAYS, RENEW_BEFORE_DAYS

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from typing import NoReturn

__all__ = ["Parser", "build_parser", "parse", "number_argument", "days_argument",
           "warn_argument", "before_argument", "san_argument", "key_type_argument",
           "days_to_the_year_9999", "probe_target_argument", "servername_argument",
           "timeout_argument"]


def days_argument(text: str) -> int:
    """--days: a whole number of days from 1 to what still ends by the year 9999."""
    return number_argument(text, "--days", 1, days_to_the_year_9999(),
                            "(days; more would end after the year 9999, X.509's last)")


def warn_argument(text: str) -> int:
    """--warn: a whole number of days, 0 or more, within X.509's dates."""
    return number_argument(text, "--warn", 0, days_to_the_year_9999(), "(days)")


def before_argument(text: str) -> int:
    """--before: a whole number of days, 0 or more, within X.509's dates."""
    return number_argument(text, "--before", 0, days_to_the_year_9999(), "(days)")


def days_to_the_year_9999() -> int:
    """The most days from now that still end within X.509's last year."""
    from mkcert.request import LATEST

    return (LATEST - datetime.datetime.now(datetime.timezone.utc)).days


def number_argument(text: str, option: str, minimum: int, maximum: int, unit: str) -> int:
    """An option's whole number (:func:`mkcert.readers.number.whole_number`), as argparse's ``type``."""
    from mkcert.readers.number import NumberError, whole_number

    try:
        return whole_number(text, option, minimum, maximum, unit=unit)
    except NumberError as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None


def key_type_argument(text: str) -> object:
    """--key-type: a :class:`mkcert.readers.key_type.KeyType`."""
    from mkcert.readers.key_type import KeyTypeError, parse_key_type

    try:
        return parse_key_type(text)
    except KeyTypeError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def san_argument(text: str) -> bytes:
    """--san: the GeneralName DER (mkcert.readers.san, and its ipaddress, only when used)."""
    from mkcert.readers.san import parse_argument

    return parse_argument(text)


class Parser(argparse.ArgumentParser):
    """argparse with a chosen usage-error status.

    A monitoring plugin that cannot even parse its arguments is UNKNOWN (3),
    not CRITICAL (argparse's 2), so --check runs use 3.
    """

    usage_status = 2

    def error(self, message: str) -> "NoReturn":
        self.print_usage(sys.stderr)
        self.exit(self.usage_status, f"{self.prog}: error: {message}\n")


def build_parser(program: str, multi_call: bool) -> Parser:
    parser = Parser(
        prog=program,
        description="Make a self-signed key and certificate for a Courier service, "
                    "as Courier's own mk*cert scripts do, from SYSCONFDIR/NAME.cnf "
                    "(an OpenSSL req config or a GnuTLS certtool template).",
        epilog="Environment: COURIER_SYSCONFDIR (default %s), COURIER_CERTSDIR "
               "(default %s), COURIER_MAILUSER (default %s), BITS (certtool "
               "security level or bits for templates; DH bits for an OpenSSL "
               "esmtpd.pem)." % (layout.SYSCONFDIR, layout.CERTSDIR, layout.MAILUSER))
    if multi_call:
        parser.add_argument("name", metavar="NAME",
                            help="service name: makes NAME.pem from NAME.cnf")
    parser.add_argument("pemfile", metavar="PEMFILE", nargs="?",
                        help="output path without .pem (default CERTSDIR/NAME)")
    parser.add_argument("-c", "--config", metavar="FILE",
                        help="the .cnf to read (default SYSCONFDIR/NAME.cnf)")
    parser.add_argument("-u", "--user", metavar="USER",
                        help="owner of the new PEM (default COURIER_MAILUSER or %s)"
                             % layout.MAILUSER)
    parser.add_argument("--days", type=days_argument, metavar="N",
                        help="validity in days (default 365, or the template's "
                             "expiration_days)")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print nothing on success")
    parser.add_argument("--san", action="append", type=san_argument, metavar="NAME",
                        help="add NAME to subjectAltName of a new certificate (repeatable): "
                             "a DNS name, an IPv4/IPv6 address or an e-mail address; "
                             "DNS:, IP:, email:, URI: prefixes choose the type")
    parser.add_argument("--ca", action="store_true",
                        help="issue the certificate from the local CA (mkcourierca) instead "
                             "of self-signing it; its names (--san) must be within the CA's")
    parser.add_argument("--key-type", type=key_type_argument, metavar="TYPE",
                        help="rsa[:BITS], ec[:P-256|P-384|P-521] or ed25519 for a new key "
                             "(default COURIER_KEY_TYPE, else the .cnf's RSA key; --renew "
                             "keeps an EC or Ed25519 key's type)")
    modes = parser.add_argument_group(
        "keeping the certificate valid",
        "--check examines the PEM like a monitoring plugin (exit 0 OK, 1 WARNING, "
        "2 CRITICAL, 3 UNKNOWN) and changes nothing; --renew replaces a "
        "self-signed PEM that is due, keeping the old one as PEMFILE.pem.old")
    exclusive = modes.add_mutually_exclusive_group()
    exclusive.add_argument("--check", action="store_true",
                           help="examine PEMFILE.pem and exit with its state")
    exclusive.add_argument("--renew", action="store_true",
                           help="renew PEMFILE.pem if it expires within --before days "
                                "(make it if missing)")
    modes.add_argument("--warn", type=warn_argument, metavar="DAYS",
                       help="with --check: WARNING within DAYS of expiry (default %d)"
                            % CHECK_WARN_DAYS)
    modes.add_argument("--json", action="store_true",
                       help="with --check: print one JSON object instead of the line")
    modes.add_argument("--ca-file", metavar="FILE",
                       help="with --check: CRITICAL unless the chain ends at (is issued "
                            "by) a certificate in FILE, a PEM bundle of trusted CAs")
    modes.add_argument("--before", type=before_argument, metavar="DAYS",
                       help="with --renew: renew within DAYS of expiry (default %d)"
                            % RENEW_BEFORE_DAYS)
    modes.add_argument("--force", action="store_true",
                       help="with --renew: renew even if not due or not self-signed")
    modes.add_argument("--upgrade", action="store_true",
                       help="with --renew: also replace a self-signed certificate that is "
                            "not due but weak (md5/sha1, RSA under 2048 bits, or no "
                            "subjectAltName for the stock CN=localhost)")
    modes.add_argument("--reuse-key", action="store_true",
                       help="with --renew: certify the current key again (DANE 3 1 1 "
                            "records stay valid)")
    modes.add_argument("--rollover", action="store_true",
                       help="with --renew: certify the staged next key "
                            "(PEMFILE.next-key.pem), then stage a fresh one")
    modes.add_argument("--stage-next-key", action="store_true",
                       help="write the next key to PEMFILE.next-key.pem (0600), for DANE "
                            "records published ahead of --renew --rollover")
    _add_install_options(parser)
    _add_probe_options(parser, exclusive)
    _add_dane_options(parser)
    _add_domain_options(parser)
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _add_install_options(parser):
    group = parser.add_argument_group(
        "installing a certificate from a CA",
        "--install checks that the key matches the certificate, that the certificates "
        "are valid now and each is issued by the next, then writes key, certificate "
        "and chain into PEMFILE.pem atomically (a new file 0600 and the mail user's; "
        "a replaced one keeps mode, owner and group, the previous one is kept as "
        "PEMFILE.pem.old); identical content changes nothing")
    # Not with --check or --renew either; argparse can show a mutually
    # exclusive group under one heading only, so _check_combinations says so.
    group.add_argument("--install", action="store_true",
                       help="put a CA-issued key and certificate chain into PEMFILE.pem "
                            "(with --key and --cert, or --from-certbot)")
    group.add_argument("--key", metavar="KEYFILE",
                       help="with --install: the private key (unencrypted PEM; default the "
                            "staged next key, PEMFILE.next-key.pem)")
    group.add_argument("--cert", metavar="CERTFILE",
                       help="with --install: the certificate, optionally followed by its "
                            "chain (certbot's fullchain.pem)")
    group.add_argument("--chain", action="append", metavar="CHAINFILE",
                       help="with --install: intermediate certificates, leaf's issuer "
                            "first (repeatable)")
    group.add_argument("--from-certbot", metavar="LIVEDIR",
                       help="with --install: LIVEDIR/privkey.pem and LIVEDIR/fullchain.pem "
                            "(e.g. /etc/letsencrypt/live/mail.example.org)")


def probe_target_argument(text: str) -> tuple[str, int | None]:
    """--probe's [HOST][:PORT] (:mod:`mkcert.cli.probe`, loaded only when used)."""
    from mkcert.cli.probe import target_argument

    return target_argument(text)


def servername_argument(text: str) -> str:
    from mkcert.cli.probe import servername_argument as parse_servername

    return parse_servername(text)


def timeout_argument(text: str) -> float:
    from mkcert.cli.probe import timeout_argument as parse_timeout

    return parse_timeout(text)


def _add_probe_options(parser, exclusive):
    group = parser.add_argument_group(
        "probing the running server",
        "--probe connects like a client (no SNI, then each --servername), takes the "
        "certificates the server sends and judges them like --check (--warn, --json), "
        "compared with PEMFILE.pem; ports: imapd 993 and 143 (STARTTLS), pop3d 995 and "
        "110 (STLS), esmtpd 25 (STARTTLS) and 465")
    exclusive.add_argument("--probe", nargs="?", const="", type=probe_target_argument,
                           metavar="[HOST][:PORT]",
                           help="probe HOST (default localhost) on PORT (default: the "
                                "service's ports) and exit with the worst state")
    group.add_argument("--starttls", choices=("imap", "pop3", "smtp"),
                       help="with --probe: plain text first, then this protocol's STARTTLS "
                            "(default: implicit TLS, or the protocol of a default port)")
    group.add_argument("--servername", action="append", type=servername_argument,
                       metavar="NAME",
                       help="with --probe: also probe with NAME as SNI (repeatable)")
    group.add_argument("--timeout", type=timeout_argument, metavar="SECONDS",
                       help="with --probe: for each network step: connection, each line, "
                            "the handshake (default 10)")


def port_argument(text: str) -> int:
    """--port: a TCP port, 1 to 65535."""
    return number_argument(text, "--port", 1, 65535, "(a TCP port)")


def host_argument(text: str) -> str:
    """--host: a DNS name (no wildcard), lower case, without a final dot."""
    from mkcert.readers.san import SanError, dns_name

    name = text[:-1] if text.endswith(".") else text
    try:
        dns_name(name)
    except SanError as exc:
        raise argparse.ArgumentTypeError(f"{text!r}: {exc}") from None
    if name.startswith("*"):
        raise argparse.ArgumentTypeError(f"{text!r}: a TLSA record is for one host, "
                                         f"not a wildcard")
    return name.lower()


def dns_server_argument(text: str) -> tuple[str, int]:
    """--dns-server: ADDRESS or ADDRESS:PORT ([IPv6]:PORT)."""
    from mkcert.system.dns_lookup import parse_server

    try:
        return parse_server(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _add_dane_options(parser):
    group = parser.add_argument_group(
        "DANE TLSA records",
        "--tlsa prints the TLSA records of the key in PEMFILE.pem and of the staged next "
        "key, in zone-file form, named _PORT._tcp.HOST.; --check compares published "
        "records with them when given --tlsa-records or --tlsa-from-dns")
    group.add_argument("--tlsa", action="store_true",
                       help="print the TLSA records (3 1 1) for the current and the staged "
                            "next key")
    group.add_argument("--port", type=port_argument, metavar="N",
                       help="the service's port in the record's name (default: esmtpd 25, "
                            "imapd 993, pop3d 995; other services need it)")
    group.add_argument("--host", type=host_argument, metavar="NAME",
                       help="the host in the record's name (default: the certificate's "
                            "first DNS subjectAltName)")
    group.add_argument("--tlsa-usage", type=int, choices=(2, 3), metavar="{2,3}",
                       help="with --tlsa: 3 (default) for the server's key, 2 for the "
                            "issuing CA of a CA-issued chain")
    group.add_argument("--tlsa-records", metavar="FILE",
                       help="with --check: compare the keys with the TLSA records in FILE "
                            "(zone-file lines)")
    group.add_argument("--tlsa-from-dns", action="store_true",
                       help="with --check: compare the keys with the TLSA records in DNS "
                            "(needs dnspython)")
    group.add_argument("--dns-server", type=dns_server_argument, metavar="ADDRESS[:PORT]",
                       help="with --tlsa-from-dns: ask this name server, not the system's")


def _add_domain_options(parser):
    group = parser.add_argument_group(
        "several domains (SNI)",
        "Courier serves TLS_CERTFILE.NAME to a client naming NAME (the GnuTLS build "
        "also to the names under NAME); TLS_CERTFILE and TLS_PRIVATE_KEYFILE come from "
        "SYSCONFDIR/imapd-ssl, pop3d-ssl or esmtpd when present")
    group.add_argument("--domain", action="append", metavar="NAME",
                       help="work on TLS_CERTFILE.NAME instead of TLS_CERTFILE, for a first "
                            "run, --renew, --install and --check (repeatable); NAME in "
                            "lowercase, an international name as its xn-- form")
    group.add_argument("--which", metavar="SERVERNAME",
                       help="print the file Courier would serve to a client naming "
                            "SERVERNAME ('' for none) under COURIER_SSLLIB's rule, and the "
                            "files tried; exit 1 when only the default would be served")
    group.add_argument("--local-ip", metavar="ADDR",
                       help="with --which: the server address the client reached "
                            "(TCPLOCALIP)")


def parse(program: str, multi_call: bool, arguments: Sequence[str]) -> argparse.Namespace:
    """The options of a command line that :func:`mkcert.cli.main.plain_options` did not answer."""
    parser = build_parser(program, multi_call)
    if "--check" in arguments or "--probe" in arguments:
        parser.usage_status = 3  # mkcert.actions.check.UNKNOWN
    options = parser.parse_args(arguments)
    _check_combinations(parser, options)
    return options


def _check_combinations(parser, options):
    """Options that only mean something with --check or --renew say so."""
    probing = options.probe is not None
    for option, mode in (("warn", "check"), ("json", "check"), ("ca_file", "check"),
                         ("before", "renew"), ("force", "renew"), ("upgrade", "renew"),
                         ("reuse_key", "renew"), ("rollover", "renew")):
        if getattr(options, option) not in (None, False) and not getattr(options, mode) \
                and not (mode == "check" and probing and option != "ca_file"):
            parser.error(f"--{option.replace('_', '-')} only goes with --{mode}")
    _check_probe_combinations(parser, options)
    if options.reuse_key and options.rollover:
        parser.error("--reuse-key keeps the current key, --rollover takes the staged one: "
                     "not both")
    if options.key_type is not None and (options.reuse_key or options.rollover):
        parser.error("--key-type is for a new key, not with --reuse-key or --rollover")
    if options.stage_next_key:
        for mode in ("check", "renew", "install"):
            if getattr(options, mode):
                parser.error(f"argument --stage-next-key: not allowed with argument --{mode}")
        for name in ("san", "days", "config"):
            if getattr(options, name) is not None:
                parser.error(f"--{name} is for making a certificate, not with "
                             f"--stage-next-key")
    if options.key_type is not None and (options.check or options.install):
        parser.error("--key-type is for making a key, not with --check or --install")
    if options.san and options.check:
        parser.error("--san is for making a certificate, not with --check")
    if options.ca and (options.check or options.install):
        parser.error("--ca is for making a certificate, not with --"
                     + ("check" if options.check else "install"))
    _check_install_combinations(parser, options)
    _check_dane_combinations(parser, options)
    _check_domain_combinations(parser, options)


def _check_probe_combinations(parser, options):
    if options.probe is None:
        for name in ("starttls", "servername", "timeout"):
            if getattr(options, name) is not None:
                parser.error(f"--{name} only goes with --probe")
        return
    if options.install:
        parser.error("argument --install: not allowed with argument --probe")
    for name in ("san", "days", "config"):
        if getattr(options, name) is not None:
            parser.error(f"--{name} is for making a certificate, not with --probe")


def _check_domain_combinations(parser, options):
    if options.local_ip is not None and options.which is None:
        parser.error("--local-ip only goes with --which")
    if options.which is None:
        return
    for name in ("check", "renew", "install", "domain", "san", "days", "config"):
        if getattr(options, name) not in (None, False):
            parser.error(f"--which only looks up a file; not with --{name}")


def _check_install_combinations(parser, options):
    for mode in ("check", "renew"):
        if options.install and getattr(options, mode):
            parser.error(f"argument --install: not allowed with argument --{mode}")
    given = [name for name in ("key", "cert", "chain", "from_certbot")
             if getattr(options, name) is not None]
    if not options.install:
        if given:
            parser.error(f"--{given[0].replace('_', '-')} only goes with --install")
        return
    for name in ("san", "days", "config"):
        if getattr(options, name) is not None:
            parser.error(f"--{name} is for making a certificate, not with --install")
    if options.from_certbot is not None:
        if options.key or options.cert or options.chain:
            parser.error("--from-certbot reads privkey.pem and fullchain.pem itself; "
                         "not with --key, --cert or --chain")
    elif options.cert is None:
        parser.error("--install needs --key and --cert, or --from-certbot")


def _check_dane_combinations(parser, options):
    for mode in ("check", "renew", "install"):
        if options.tlsa and getattr(options, mode):
            parser.error(f"argument --tlsa: not allowed with argument --{mode}")
    if options.tlsa and options.probe is not None:
        parser.error("argument --tlsa: not allowed with argument --probe")
    if options.tlsa:
        for name in ("san", "days"):
            if getattr(options, name) is not None:
                parser.error(f"--{name} is for making a certificate, not with --tlsa")
    compares = options.tlsa_records is not None or options.tlsa_from_dns
    for name, allowed, needs in (
            ("tlsa_usage", options.tlsa, "--tlsa"),
            ("tlsa_records", options.check, "--check"),
            ("tlsa_from_dns", options.check, "--check"),
            ("port", options.tlsa or compares, "--tlsa, or --check with TLSA records"),
            ("host", options.tlsa or compares, "--tlsa, or --check with TLSA records"),
            ("dns_server", options.tlsa_from_dns, "--tlsa-from-dns")):
        if getattr(options, name) not in (None, False) and not allowed:
            parser.error(f"--{name.replace('_', '-')} only goes with {needs}")
    if options.tlsa_records is not None and options.tlsa_from_dns:
        parser.error("--tlsa-records and --tlsa-from-dns: give one source of records")
