"""The ``mk<NAME>cert`` commands: one code path for every service name.

As with Debian's multi-call ``mkcouriercert``, the service NAME comes from
the program name, so ``mkimapdcert`` makes ``imapd.pem`` from ``imapd.cnf``
and a symlink ``mktestdcert -> mkcouriercert`` makes ``testd.pem`` from
``testd.cnf``.  Run under its own name, ``mkcouriercert`` takes NAME as its
first argument: ``mkcouriercert imapd [PEMFILE]``.

This module parses, gives each action of :mod:`mkcert.actions` (make,
renew, check, install) its plan, and prints the outcome it returns, with
the exit status; the warnings an action tells as it goes are printed at
once, since a key may take minutes after them.  It imports no crypto
library until a certificate is really to be made or read, so ``--help`` and
the "already exists" answer stay fast, and argparse
(:mod:`mkcert.cli.arguments`) only when the command line is more than the
plain one package scripts use.
"""

from __future__ import annotations

import os
import re
import sys
import types
from collections.abc import Callable, Mapping, Sequence

from mkcert import layout
from mkcert.system import process
from mkcert.errors import AlreadyExists, Interrupted, MkcertError
from mkcert.record import REQUIRED, Record

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    import argparse

    from mkcert.actions.make import Outcome

__all__ = ["MULTI_CALL_NAME", "DEFAULT_OPTIONS", "DIVERTED_SUFFIX", "Paths", "main", "run",
           "run_mode", "plain_options", "service_from_program", "service_paths"]

MULTI_CALL_NAME = "courier"  # mkcouriercert itself
# Every option and its value when not given; mkcert.cli.arguments' parser
# answers the same (tests/commands/test_cli.py compares them).
DEFAULT_OPTIONS = {
    "pemfile": None, "config": None, "user": None, "days": None, "quiet": False,
    "san": None, "check": False, "renew": False, "install": False, "warn": None,
    "json": False, "before": None, "force": False, "key": None, "cert": None,
    "chain": None, "from_certbot": None, "ca": False,
    "probe": None, "starttls": None, "servername": None, "timeout": None,
    "tlsa": False, "port": None, "host": None, "tlsa_usage": None, "tlsa_records": None,
    "tlsa_from_dns": False, "dns_server": None,
    "ca_file": None,
    "key_type": None, "upgrade": False, "reuse_key": False, "rollover": False,
    "stage_next_key": False,
    "domain": None, "which": None, "local_ip": None,
}
_PROGRAM = re.compile(r"^mk(?P<name>[A-Za-z0-9_.-]+)cert$")
_SERVICE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


# Debian's package diverts Courier's scripts to PATH.courier
# (debian/courier-mkcert.preinst); Courier's mkimapdcert.courier is a
# symlink to mkcouriercert, which is now ours, and still means imapd.
DIVERTED_SUFFIX = ".courier"


def service_from_program(program: str) -> str | None:
    """``mkimapdcert`` (or ``mkimapdcert.courier``) -> ``imapd``; None for another shape."""
    match = _PROGRAM.match(os.path.basename(program).removesuffix(DIVERTED_SUFFIX))
    return match.group("name") if match else None


class Paths(Record):
    """Where this run reads and writes: the PEM, its seed file and the .cnf, and
    the owner of a new PEM (see :func:`service_paths`); ``key``: Courier's
    ``TLS_PRIVATE_KEYFILE`` for this PEM, when the service config sets one."""

    FIELDS = (("pem", REQUIRED), ("rand", REQUIRED), ("config", REQUIRED), ("user", REQUIRED),
              ("key", None))
    __slots__ = tuple(name for name, _ in FIELDS)


def service_paths(name: str, options: "argparse.Namespace | types.SimpleNamespace",
                  environ: Mapping[str, str]) -> Paths:
    """The :class:`Paths` of service ``name``, from options, environment and defaults.

    Without PEMFILE, the service's own config (``imapd-ssl``, ``pop3d-ssl``,
    ``esmtpd``; :mod:`mkcert.readers.serviceconf`) decides when it sets
    ``TLS_CERTFILE``, as it decides what Courier serves.
    """
    config = options.config or os.path.join(layout.sysconfdir(environ), name + ".cnf")
    user = options.user or layout.mailuser(environ)
    from mkcert.readers.serviceconf import read_tls_files

    tls = read_tls_files(layout.sysconfdir(environ), name)
    base = options.pemfile
    if not base:
        if tls is not None and tls.certfile:
            # Courier's own name for it, whatever it ends in.
            certfile, keyfile = tls.certfile, tls.keyfile
            base = certfile[:-len(".pem")] if certfile.endswith(".pem") else certfile
            return Paths(certfile, base + ".rand", config, user, keyfile)
        base = os.path.join(layout.certsdir(environ), name)
    if base.endswith(".pem"):
        base = base[:-len(".pem")]
    keyfile = None
    if tls is not None and tls.certfile and tls.keyfile and (
            os.path.abspath(base + ".pem") == os.path.abspath(tls.certfile)):
        keyfile = tls.keyfile  # TLS_CERTFILE named as PEMFILE: its key is still apart
    return Paths(base + ".pem", base + ".rand", config, user, keyfile)


def main(argv: Sequence[str] | None = None, program: str | None = None,
         environ: Mapping[str, str] | None = None) -> int:
    """Run the command; return the exit status."""
    program = os.path.basename(program or sys.argv[0])
    environ = os.environ if environ is None else environ
    name = service_from_program(program)
    multi_call = name in (None, MULTI_CALL_NAME)
    arguments = sys.argv[1:] if argv is None else list(argv)
    options = plain_options(arguments, multi_call)
    if options is None:
        from mkcert.cli.arguments import parse

        options = parse(program, multi_call, arguments)
    if multi_call:
        name = options.name
        if not _SERVICE.match(name):
            print(f"{program}: not a service name: {name!r}", file=sys.stderr)
            return 2
    try:
        paths = service_paths(name, options, environ)
    except MkcertError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return 3 if options.check else exc.exit_status  # a plugin that cannot look is UNKNOWN
    if options.which is not None:
        from mkcert.cli.domains import which

        return which(program, paths, options, environ)
    if options.domain:
        from mkcert.cli.domains import each_domain

        return each_domain(program, name, paths, options, environ, run_mode)
    if options.check:
        return check(paths, options, environ, name)
    if options.probe is not None:
        from mkcert.cli.probe import probe

        return probe(program, name, paths.pem, options,
                     expected=_served_by_courier(paths, environ))
    return run_mode(program, name, paths, options, environ)


def _served_by_courier(paths: Paths, environ: Mapping[str, str]):
    """What --probe compares with: the file Courier's lookup picks for each name and address."""
    def expected(servername, address):
        from mkcert.actions.which import served_file

        return served_file(paths.pem, servername, address, layout.ssllib(environ),
                           paths.key).path

    return expected


def run_mode(program: str, name: str, paths: Paths,
             options: "argparse.Namespace | types.SimpleNamespace",
             environ: Mapping[str, str], domain: str | None = None) -> int:
    """A first run, ``--renew``, ``--install``, ``--tlsa`` or ``--stage-next-key`` of one
    PEM; the exit status."""
    try:
        if options.tlsa:
            return tlsa(paths, name, options)
        if options.install:
            return install(program, paths, options, domain)
        if options.stage_next_key:
            return stage_next_key(program, paths, options, environ)
        return make(program, name, paths, options, environ, domain)
    except AlreadyExists as exc:
        # Upstream says this on stdout, and package scripts may grep for it.
        print(exc)
        return 1
    except Interrupted as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        process.end(1)
    except MkcertError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"{program}: interrupted", file=sys.stderr)
        return 1


def plain_options(arguments: Sequence[str], multi_call: bool) -> types.SimpleNamespace | None:
    """The options of ``mkNAMEcert [PEMFILE]`` / ``mkcouriercert NAME [PEMFILE]``, or None.

    None for anything else (an option, ``--``, an empty argument): argparse
    decides those.  A SimpleNamespace, like argparse's Namespace, rather
    than a Record: both answers are the same kind of object, read the same
    way and compared with ``vars()``, and options stay in the command line
    (the actions get plans).
    """
    positional = ["name", "pemfile"] if multi_call else ["pemfile"]
    if len(arguments) > len(positional) or (multi_call and not arguments):
        return None
    if any(not argument or argument.startswith("-") for argument in arguments):
        return None
    options = types.SimpleNamespace(**DEFAULT_OPTIONS)
    for field, argument in zip(positional, arguments):
        setattr(options, field, argument)
    return options


def run() -> None:
    """The entry point of ``bin/mk*cert``: :func:`main` as the command, then a fast exit.

    See :mod:`mkcert.system.process`: a closed or full standard stream never
    changes the exit status, and the exit skips the interpreter's teardown.
    """
    process.run_command(os.path.basename(sys.argv[0]), main)


def make(program: str, name: str, paths: Paths,
         options: "argparse.Namespace | types.SimpleNamespace", environ: Mapping[str, str],
         domain: str | None = None) -> int:
    """A first run, or ``--renew``: make the certificate and print what upstream prints.

    ``domain``: a per-domain file's name, which goes into subjectAltName first.
    """
    from mkcert.actions.make import Plan, make as make_pem

    # COURIER_KEY_TYPE stays text until the request is read: "already
    # exists" must not load the parser (and mkcert.request with it).
    san = tuple(options.san or ())
    if domain is not None:
        from mkcert.readers.san import general_name

        san = (general_name(domain),) + san
    plan = Plan(name, paths.pem, paths.rand, paths.config, paths.user, environ,
                options.days, san,
                options.key_type if options.key_type is not None else layout.key_type(environ),
                options.ca, domain, paths.key)
    warn = _warner(program, options.quiet)
    if options.renew:
        from mkcert.actions.renew import Plan as RenewPlan, renew

        outcome = renew(RenewPlan(plan, options.before, options.force, options.upgrade,
                                  options.reuse_key, options.rollover), warn)
    else:
        outcome = make_pem(plan, warn)
    if not options.quiet:
        report(outcome)
    for warning in outcome.warnings:  # about what was made, now that it is there
        warn(warning)
    return 0


def key_type(options: "argparse.Namespace | types.SimpleNamespace",
             environ: Mapping[str, str]) -> object:
    """--key-type, else ``COURIER_KEY_TYPE`` (a KeyType), else None: the .cnf's key."""
    if getattr(options, "key_type", None) is not None:
        return options.key_type
    text = layout.key_type(environ)
    if text is None:
        return None
    from mkcert.readers.key_type import KeyTypeError, parse_key_type

    try:
        return parse_key_type(text)
    except KeyTypeError as exc:
        raise MkcertError(f"COURIER_KEY_TYPE: {exc}") from None


def stage_next_key(program: str, paths: Paths,
                   options: "argparse.Namespace | types.SimpleNamespace",
                   environ: Mapping[str, str]) -> int:
    """--stage-next-key: write the PEM's next key beside it, and say where."""
    from mkcert.actions.stage import Plan, stage

    outcome = stage(Plan(paths.pem, key_type(options, environ), paths.key),
                    _warner(program, options.quiet))
    if not options.quiet:
        report(outcome)
    return 0


def _warner(program: str, quiet: bool) -> Callable[[str], None]:
    """What the actions call with a warning: it goes to stderr at once, unless quiet."""
    def warn(text: str) -> None:
        if not quiet:
            print(f"{program}: warning: {text}", file=sys.stderr)

    return warn


def report(outcome: "Outcome") -> None:
    """The outcome's line, then what upstream prints on success: ``openssl x509
    -subject -dates -fingerprint`` of the certificate made."""
    if outcome.message is not None:
        print(outcome.message)
    if outcome.certificate is not None:
        from mkcert.x509.inspect import summary_lines

        for line in summary_lines(outcome.certificate):
            print(line)


def check(paths: Paths, options: "argparse.Namespace | types.SimpleNamespace",
          environ: Mapping[str, str] | None = None, service: str | None = None) -> int:
    """--check: print the state of the PEM and of its per-domain siblings; exit with
    the plugin status.

    Whatever happens, the answer is one line per file (or JSON) and a
    status, never a traceback: a monitoring system shows the first line,
    so with siblings the worst comes first (:mod:`mkcert.cli.domains`).
    """
    import json

    from mkcert.actions.check import Plan, check as check_pem
    from mkcert.actions.defaults import CHECK_WARN_DAYS

    warn_days = CHECK_WARN_DAYS if options.warn is None else options.warn
    ca_certificate = None if environ is None else layout.ca_certificate(environ)
    result = check_pem(Plan(paths.pem, warn_days, _dane_check(service, options), ca_certificate,
                            options.ca_file, paths.key))
    from mkcert.cli.domains import check_siblings

    siblings = check_siblings(paths, warn_days, os.environ if environ is None else environ)
    if siblings:
        from mkcert.cli.domains import print_results

        return print_results([result, *siblings], options.json)
    print(json.dumps(result.as_json(), sort_keys=True) if options.json else result.line())
    return result.status


def _dane_check(service, options):
    """What --check compares with TLSA records, or None when it is not asked to."""
    records, from_dns = options.tlsa_records, options.tlsa_from_dns
    if records is None and not from_dns:
        return None
    from mkcert.actions.dane import DaneCheck

    return DaneCheck(service, options.port, options.host, records, from_dns,
                     options.dns_server)


def tlsa(paths: Paths, service: str,
         options: "argparse.Namespace | types.SimpleNamespace") -> int:
    """--tlsa: the records to publish, one zone-file line each."""
    from mkcert.actions.dane import TlsaPlan, tlsa_records

    usage = 3 if options.tlsa_usage is None else options.tlsa_usage
    for entry in tlsa_records(TlsaPlan(paths.pem, service, options.port, options.host, usage)):
        print(f"{entry.name} IN TLSA {entry.usage} {entry.selector} {entry.matching} "
              f"{entry.data.hex()} ; {entry.about}")
    return 0


def install(program: str, paths: Paths,
            options: "argparse.Namespace | types.SimpleNamespace",
            domain: str | None = None) -> int:
    """--install: a CA's key and chain into the PEM, or exit 1 with the reason.

    A per-domain file (``domain``) must first prove that a TLS server loads it.
    """
    from mkcert.actions.install import Plan, install as install_pem

    outcome = install_pem(Plan(paths.pem, paths.user, options.key, options.cert,
                               tuple(options.chain or ()), options.from_certbot,
                               domain is not None, paths.key))
    if not options.quiet:
        for warning in outcome.warnings:
            print(f"{program}: warning: {warning}", file=sys.stderr)
        print(outcome.line)
    return 0
