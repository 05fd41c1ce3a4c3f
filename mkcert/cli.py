"""The ``mk<NAME>cert`` commands: one code path for every service name.

As with Debian's multi-call ``mkcouriercert``, the service NAME comes from
the program name, so ``mkimapdcert`` makes ``imapd.pem`` from ``imapd.cnf``
and a symlink ``mktestdcert -> mkcouriercert`` makes ``testd.pem`` from
``testd.cnf``.  Run under its own name, ``mkcouriercert`` takes NAME as its
first argument: ``mkcouriercert imapd [PEMFILE]``.

This module parses arguments and reports; it imports no crypto library
until a certificate is really to be made, so ``--help`` and the
"already exists" answer stay fast.
"""

import argparse
import datetime
import io
import os
import re
import sys

from . import __version__, layout, san
from .errors import AlreadyExists, Interrupted, MkcertError

MULTI_CALL_NAME = "courier"  # mkcouriercert itself
CHECK_WARN_DAYS = 30  # mkcert.check.DEFAULT_WARN_DAYS, without importing it for --help
RENEW_BEFORE_DAYS = 30
_PROGRAM = re.compile(r"^mk(?P<name>[A-Za-z0-9_.-]+)cert$")
_SERVICE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


def service_from_program(program):
    """``mkimapdcert`` -> ``imapd``; None for a program name of another shape."""
    match = _PROGRAM.match(os.path.basename(program))
    return match.group("name") if match else None


def _whole_days(text, minimum):
    try:
        days = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number of days: {text!r}") from None
    if days < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {days}")
    return days


def days_argument(text):
    """--days: a whole number of days from 1 to what still ends by the year 9999."""
    from .request import LATEST

    days = _whole_days(text, 1)
    if days > (LATEST - datetime.datetime.now(datetime.timezone.utc)).days:
        raise argparse.ArgumentTypeError(
            f"{days} days from now ends after the year 9999 (X.509's last date)")
    return days


def whole_days_argument(text):
    """--warn, --before: a whole number of days, 0 or more."""
    return _whole_days(text, 0)


class Parser(argparse.ArgumentParser):
    """argparse with a chosen usage-error status.

    A monitoring plugin that cannot even parse its arguments is UNKNOWN (3),
    not CRITICAL (argparse's 2), so --check runs use 3.
    """

    usage_status = 2

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(self.usage_status, f"{self.prog}: error: {message}\n")


def build_parser(program, multi_call):
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
    parser.add_argument("--san", action="append", type=san.parse_argument, metavar="NAME",
                        help="add NAME to subjectAltName of a new certificate (repeatable): "
                             "a DNS name, an IPv4/IPv6 address or an e-mail address; "
                             "DNS:, IP:, email:, URI: prefixes choose the type")
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
    modes.add_argument("--warn", type=whole_days_argument, metavar="DAYS",
                       help="with --check: WARNING within DAYS of expiry (default %d)"
                            % CHECK_WARN_DAYS)
    modes.add_argument("--json", action="store_true",
                       help="with --check: print one JSON object instead of the line")
    modes.add_argument("--before", type=whole_days_argument, metavar="DAYS",
                       help="with --renew: renew within DAYS of expiry (default %d)"
                            % RENEW_BEFORE_DAYS)
    modes.add_argument("--force", action="store_true",
                       help="with --renew: renew even if not due or not self-signed")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


class Paths:
    """Where this run reads and writes, from options, environment and defaults."""

    def __init__(self, name, options, environ):
        base = options.pemfile or os.path.join(layout.certsdir(environ), name)
        if base.endswith(".pem"):
            base = base[:-len(".pem")]
        self.base = base
        self.pem = base + ".pem"
        self.rand = base + ".rand"
        self.config = options.config or os.path.join(layout.sysconfdir(environ),
                                                     name + ".cnf")
        self.user = options.user or layout.mailuser(environ)


def main(argv=None, program=None, environ=None):
    """Run the command; return the exit status."""
    program = os.path.basename(program or sys.argv[0])
    environ = os.environ if environ is None else environ
    name = service_from_program(program)
    multi_call = name in (None, MULTI_CALL_NAME)
    parser = build_parser(program, multi_call)
    arguments = sys.argv[1:] if argv is None else list(argv)
    if "--check" in arguments:
        parser.usage_status = 3  # mkcert.check.UNKNOWN
    options = parser.parse_args(arguments)
    _check_combinations(parser, options)
    if multi_call:
        name = options.name
        if not _SERVICE.match(name):
            print(f"{program}: not a service name: {name!r}", file=sys.stderr)
            return 2
    if options.check:
        return check(Paths(name, options, environ), options)
    try:
        if options.renew:
            from .renew import renew

            return renew(program, name, Paths(name, options, environ), options, environ)
        return make(program, name, Paths(name, options, environ), options, environ)
    except AlreadyExists as exc:
        # Upstream says this on stdout, and package scripts may grep for it.
        print(exc)
        return 1
    except Interrupted as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        _exit_at_once(1)
    except MkcertError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"{program}: interrupted", file=sys.stderr)
        return 1


def run():
    """The entry point of ``bin/mk*cert``: :func:`main`, then a fast exit.

    Standard output is collected and written once, at the end, so that a
    full disk or a closed pipe there is one failure in one place (an error
    line and a non-zero status), whichever path printed.  By the time
    ``main`` returns every file is complete and synced, and the
    interpreter's teardown with cryptography loaded costs about 15 ms that
    an install script would wait for: the exit skips it.
    """
    sys.stdout = _DeferredOutput(sys.stdout)
    try:
        status = main()
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    _exit_at_once(status)


class _DeferredOutput(io.StringIO):
    """Standard output held in memory until :func:`_exit_at_once` writes it."""

    def __init__(self, real):
        super().__init__()
        self.real = real


def _exit_at_once(status):
    """Write what was held back, then exit without interpreter and OpenSSL teardown.

    Used when the run is over (its files published, or removed after a
    signal).  After a signal it is also a matter of safety: a key search
    may still run inside OpenSSL in a worker thread, which cannot be
    stopped, and tearing down libcrypto under it crashes the process
    (SIGSEGV after our message, seen with Debian's shared libcrypto).
    """
    try:
        if isinstance(sys.stdout, _DeferredOutput):
            sys.stdout.real.write(sys.stdout.getvalue())
            sys.stdout = sys.stdout.real
        sys.stdout.flush()
    except OSError as exc:
        # A full disk or a closed pipe: say so in one line, and fail.
        try:
            print(f"{os.path.basename(sys.argv[0])}: cannot write to standard output: "
                  f"{exc.strerror or exc}", file=sys.stderr)
        except OSError:
            pass
        status = status or 1
    try:
        sys.stderr.flush()
    except OSError:
        pass
    os._exit(status)


def _check_combinations(parser, options):
    """Options that only mean something with --check or --renew say so."""
    for option, mode in (("warn", "check"), ("json", "check"),
                         ("before", "renew"), ("force", "renew")):
        if getattr(options, option) not in (None, False) and not getattr(options, mode):
            parser.error(f"--{option} only goes with --{mode}")
    if options.san and options.check:
        parser.error("--san is for making a certificate, not with --check")


def check(paths, options):
    """--check: print the state of the PEM; exit with the plugin status.

    Whatever happens, the answer is one line (or one JSON object) and a
    status, never a traceback: a monitoring system shows the first line.
    """
    import json

    from .check import UNKNOWN, CheckResult, check_pem

    warn = CHECK_WARN_DAYS if options.warn is None else options.warn
    try:
        result = check_pem(paths.pem, warn)
    except BaseException as exc:  # noqa: B036 - a plugin answers UNKNOWN, even to ^C
        result = CheckResult(path=paths.pem)
        result.add(UNKNOWN, f"check failed: {type(exc).__name__}: {exc}")
    print(json.dumps(result.as_json(), sort_keys=True) if options.json else result.line())
    return result.status


def make(program, name, paths, options, environ):
    """The upstream run, in order, with every failure cleaned up."""
    if os.path.lexists(paths.pem):  # a dangling symlink counts too
        raise AlreadyExists(paths.pem)

    from . import publish

    owner = publish.Owner.lookup(paths.user)
    request, extra = prepare(program, name, paths, options, environ)

    def publish_pem(data, run):
        publish.publish_new(paths.pem, data, run, owner)

    certificate = produce(paths, request, extra, publish_pem)
    report(certificate, options)
    return 0


def prepare(program, name, paths, options, environ, kept_names=()):
    """Read the .cnf and fold in the options: all decided before any file exists.

    ``kept_names``: subjectAltName entries (DER) of a certificate being
    renewed, added before any ``--san``.  Returns the request and the maker
    of what follows the certificate (see :func:`_extra_pem_maker`); shared
    by a first run and ``--renew``.
    """
    from .config import load_request

    request = load_request(paths.config, environ)
    request = _apply_options(request, options, environ, kept_names)
    if not options.quiet:
        for warning in request.warnings:
            print(f"{program}: warning: {warning}", file=sys.stderr)
    return request, _extra_pem_maker(name, request, environ)


def report(certificate, options):
    """What upstream prints on success: ``openssl x509 -subject -dates -fingerprint``."""
    if options.quiet:
        return
    from .report import summary_lines

    for line in summary_lines(certificate):
        print(line)


def _apply_options(request, options, environ, kept_names=()):
    """Fold the command line and environment into the request."""
    changes = {}
    if options.days is not None:
        changes.update(days=options.days, not_after=None)
    names = list(kept_names) + list(options.san or ())
    if names:
        changes["extensions"] = san.add_to_request(request, names).extensions
    if changes:
        request = request.replace(**changes)
    if request.flavour == "gnutls":
        # certtool's key size comes from BITS, and its digest from the size.
        from .template import bits_for_security_level, with_key_bits

        request = with_key_bits(request, bits_for_security_level(environ.get("BITS") or "high"))
    return request


def _extra_pem_maker(name, request, environ):
    """What follows key and certificate in the PEM, as a deferred maker.

    An OpenSSL-built mkesmtpdcert appends fresh DH parameters (generator 2,
    ``BITS`` default 2048); validated now, before any file exists.
    """
    if name != "esmtpd" or request.flavour != "openssl":
        return None
    from .dhparams import DEFAULT_BITS, check_bits, generate_dh_params_pem

    text = environ.get("BITS") or str(DEFAULT_BITS)
    try:
        bits = check_bits(text)
    except MkcertError as exc:
        raise MkcertError(f"BITS={text}: {exc}") from None
    return lambda: generate_dh_params_pem(bits)


def produce(paths, request, extra, publish_pem):
    """Make a key and certificate and hand the PEM bytes to ``publish_pem(data, run)``.

    The one pipeline behind a first run and ``--renew``: umask 077, the
    ``NAME.rand`` seed for the run's lifetime, every file removed again if
    anything fails or a signal arrives.  Only how the PEM lands differs (a
    new file, or an atomic replacement), so the caller says that.
    Returns the certificate's DER.
    """
    from . import publish
    from .keys import private_key_pem, start_key

    request.validity()  # a bad validity is an error before any file exists
    with publish.Run() as run:
        publish.remove_stale_temporaries(paths.pem)
        publish.remove_stale_temporaries(paths.rand)
        publish.write_rand_file(paths.rand, run)
        with start_key(request.key) as search:
            # The certificate code loads while the primes are searched.
            from .cert import build_certificate_der, certificate_pem

            key = search.result()
        certificate = build_certificate_der(request, key)
        data = private_key_pem(key, request.key) + certificate_pem(certificate)
        if extra is not None:
            data += extra()
        publish_pem(data, run)
        if request.rand_file and os.path.abspath(request.rand_file) != os.path.abspath(paths.rand):
            publish.refresh_rand_file(request.rand_file)
        run.remove(paths.rand)
    return certificate
