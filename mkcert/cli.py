"""The ``mk<NAME>cert`` commands: one code path for every service name.

As with Debian's multi-call ``mkcouriercert``, the service NAME comes from
the program name, so ``mkimapdcert`` makes ``imapd.pem`` from ``imapd.cnf``
and a symlink ``mktestdcert -> mkcouriercert`` makes ``testd.pem`` from
``testd.cnf``.  Run under its own name, ``mkcouriercert`` takes NAME as its
first argument: ``mkcouriercert imapd [PEMFILE]``.

This module dispatches and reports; it imports no crypto library until a
certificate is really to be made or read, so ``--help`` and the "already
exists" answer stay fast, and argparse (:mod:`mkcert.arguments`) only
when the command line is more than the plain one package scripts use.
"""

import os
import re
import sys
import types

from . import layout, process
from .errors import AlreadyExists, Interrupted, MkcertError

MULTI_CALL_NAME = "courier"  # mkcouriercert itself
# Every option and its value when not given; mkcert.arguments' parser
# answers the same (tests/test_cli.py compares them).
DEFAULT_OPTIONS = {
    "pemfile": None, "config": None, "user": None, "days": None, "quiet": False,
    "san": None, "check": False, "renew": False, "install": False, "warn": None,
    "json": False, "before": None, "force": False, "key": None, "cert": None,
    "chain": None, "from_certbot": None,
}
_PROGRAM = re.compile(r"^mk(?P<name>[A-Za-z0-9_.-]+)cert$")
_SERVICE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")


# Debian's package diverts Courier's scripts to PATH.courier
# (debian/courier-mkcert.preinst); Courier's mkimapdcert.courier is a
# symlink to mkcouriercert, which is now ours, and still means imapd.
DIVERTED_SUFFIX = ".courier"


def service_from_program(program):
    """``mkimapdcert`` (or ``mkimapdcert.courier``) -> ``imapd``; None for another shape."""
    match = _PROGRAM.match(os.path.basename(program).removesuffix(DIVERTED_SUFFIX))
    return match.group("name") if match else None


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
    arguments = sys.argv[1:] if argv is None else list(argv)
    options = plain_options(arguments, multi_call)
    if options is None:
        from .arguments import parse

        options = parse(program, multi_call, arguments)
    if multi_call:
        name = options.name
        if not _SERVICE.match(name):
            print(f"{program}: not a service name: {name!r}", file=sys.stderr)
            return 2
    if options.check:
        return check(Paths(name, options, environ), options)
    try:
        if options.install:
            return install(program, Paths(name, options, environ), options)
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
        process.end(1)
    except MkcertError as exc:
        print(f"{program}: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        print(f"{program}: interrupted", file=sys.stderr)
        return 1


def plain_options(arguments, multi_call):
    """The options of ``mkNAMEcert [PEMFILE]`` / ``mkcouriercert NAME [PEMFILE]``, or None.

    None for anything else (an option, ``--``, an empty argument): argparse
    decides those.
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


def run():
    """The entry point of ``bin/mk*cert``: :func:`main` as the command, then a fast exit.

    See :mod:`mkcert.process`: a closed or full standard stream never
    changes the exit status, and the exit skips the interpreter's teardown.
    """
    process.run_command(os.path.basename(sys.argv[0]), main)


def check(paths, options):
    """--check: print the state of the PEM; exit with the plugin status.

    Whatever happens, the answer is one line (or one JSON object) and a
    status, never a traceback: a monitoring system shows the first line.
    """
    import json

    from .arguments import CHECK_WARN_DAYS
    from .check import UNKNOWN, CheckResult, check_pem

    warn = CHECK_WARN_DAYS if options.warn is None else options.warn
    try:
        result = check_pem(paths.pem, warn)
    except BaseException as exc:  # noqa: B036 - a plugin answers UNKNOWN, even to ^C
        result = CheckResult(path=paths.pem)
        result.add(UNKNOWN, f"check failed: {type(exc).__name__}: {exc}")
    print(json.dumps(result.as_json(), sort_keys=True) if options.json else result.line())
    return result.status


def install(program, paths, options):
    """--install: a CA's key and chain into the PEM, or exit 1 with the reason."""
    from .install import install as install_material
    from .install import material_from_certbot, read_material

    if options.from_certbot is not None:
        material = material_from_certbot(options.from_certbot)
    else:
        material = read_material(options.key, options.cert, options.chain or ())
    outcome = install_material(paths.pem, material, paths.user)
    if not options.quiet:
        for warning in outcome.warnings:
            print(f"{program}: warning: {warning}", file=sys.stderr)
        print(outcome.line)
    return 0


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
        from . import san

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
    from .dhparams import DEFAULT_BITS, MAX_BITS, MIN_BITS, generate_dh_params_pem
    from .number import whole_number

    bits = whole_number(environ.get("BITS") or str(DEFAULT_BITS), "BITS", MIN_BITS, MAX_BITS,
                        unit="(bits of the DH parameters)")
    return lambda: generate_dh_params_pem(bits)


def produce(paths, request, extra, publish_pem):
    """Make a key and certificate and hand the PEM bytes to ``publish_pem(data, run)``.

    The one pipeline behind a first run and ``--renew``: umask 077, the
    ``NAME.rand`` seed while the key and certificate are made, every file
    removed again if anything fails or a signal arrives.  The file a
    config's ``RANDFILE`` names is never written (see
    :func:`mkcert.publish.write_rand_file`).  Only how the PEM lands differs (a
    new file, or an atomic replacement), so the caller says that.
    Returns the certificate's DER.
    """
    from . import publish
    from .keys import private_key_pem, start_key

    request.validity()  # a bad validity is an error before any file exists
    with publish.Run() as run:
        publish.remove_stale_temporaries(paths.pem)
        publish.remove_stale_temporaries(paths.rand)
        with start_key(request.key) as search:
            # Upstream's seed file, and the certificate code, while the
            # primes are searched: neither has to wait for the other.
            publish.write_rand_file(paths.rand, run)
            from .cert import build_certificate_der, certificate_pem

            key = search.result()
        certificate = build_certificate_der(request, key)
        data = private_key_pem(key, request.key) + certificate_pem(certificate)
        if extra is not None:
            data += extra()
        # Upstream removes the seed once `openssl req` is done.  Before the
        # PEM is published rather than after: a run killed in between would
        # leave it to every later run, which answers "already exists".
        run.remove(paths.rand)
        publish_pem(data, run)
    return certificate
