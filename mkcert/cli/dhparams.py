"""mkdhparams: refresh Courier's Diffie-Hellman parameters (TLS_DHPARAMS).

Upstream's script, run at package install and monthly from cron:
if the file is younger than ``find FILE -mtime +25`` allows, do nothing;
otherwise generate parameters into ``FILE.tmp`` and ``mv -f`` it over the
file -- ``openssl dhparam`` (openssl build, with a ``FILE.rand.tmp`` seed) or
``certtool --generate-dh-params`` (gnutls build).  This version keeps that
contract and adds what the script lacks: the temporary file (``FILE.tmp.``
and random hex digits, so no two runs ever share one) is exclusive, 0600
and owned by the mail user from its first byte, a signal or failure leaves
nothing behind (:class:`mkcert.system.publish.Run`), no process it started
outlives it, and a device or FIFO at ``FILE`` is refused, not replaced by a
regular file (``TLS_DHPARAMS=/dev/null`` would break the system).

Only argparse and the standard library are imported before the work starts:
``--help`` and the "file is fresh" path stay fast.
"""

import argparse
import os
import sys
import time

from mkcert import __version__, layout
from mkcert.system import process
from mkcert.x509.dhparams import NAMED_GROUPS  # no crypto import: dhparams loads libraries only when searching
from mkcert.errors import MkcertError

PROG = "mkdhparams"
MAX_AGE_DAYS = 25  # find FILE -mtime +25
SECONDS_PER_DAY = 86400
DEFAULT_OPENSSL_BITS = "2048"
DEFAULT_GNUTLS_LEVEL = "high"
# GnuTLS's sizes for its security levels (gnutls_sec_param_to_pk_bits for DH,
# as certtool 3.7 prints them: "Generating DH parameters (N bits)").
GNUTLS_LEVEL_BITS = {"low": 1024, "legacy": 1776, "medium": 2048, "high": 3072, "ultra": 8192}
FLAVOURS = ("openssl", "gnutls")
# More searches than CPUs only compete; the limit keeps a typo from forking thousands.
MAX_JOBS = 256


def build_parser():
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Make Diffie-Hellman parameters for the Courier mail server "
        "(TLS_DHPARAMS), unless the file is less than 25 days old.",
        epilog="Environment: TLS_DHPARAMS (output file, default CERTSDIR/dhparams.pem), "
        "DH_BITS (bits, or a GnuTLS level: low, legacy, medium, high, ultra), "
        "DH_GROUP (as --named-group), COURIER_CERTSDIR, COURIER_MAILUSER, "
        "COURIER_SSLLIB (openssl or gnutls).",
    )
    parser.add_argument("--force", action="store_true", help="make new parameters even if the file is recent")
    parser.add_argument("--named-group", metavar="GROUP", choices=NAMED_GROUPS, type=str.lower,
                        help="write the RFC 7919 group GROUP (%(choices)s) instead of generating parameters")
    parser.add_argument("--jobs", metavar="N", type=_positive_int,
                        help="search for a safe prime in N processes (default: the usable CPUs)")
    parser.add_argument("-u", "--user", metavar="USER", help="owner of the new file (default: $COURIER_MAILUSER or courier)")
    parser.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    parser.add_argument("--version", action="version", version=f"{PROG} (courier-mkcert) {__version__}")
    return parser


def _positive_int(text):
    from mkcert.cli.arguments import number_argument

    return number_argument(text, "--jobs", 1, MAX_JOBS, "(processes)")


class Plan:
    """Everything a run will do, decided from the options and the environment before any work."""

    def __init__(self, args, environ):
        self.path = output_path(environ)
        self.user = args.user or layout.mailuser(environ)
        self.jobs = args.jobs
        self.quiet = args.quiet
        self.group = args.named_group or _env_group(environ)
        self.flavour = layout.ssllib(environ).strip().lower()
        if self.flavour not in FLAVOURS:
            raise MkcertError(f"COURIER_SSLLIB={self.flavour!r} is neither openssl nor gnutls")
        self.size = environ.get("DH_BITS", "").strip()
        if self.group is None:
            self.size = self.size or (DEFAULT_GNUTLS_LEVEL if self.flavour == "gnutls" else DEFAULT_OPENSSL_BITS)
            self.bits = _size_bits(self.size)

    def describe(self):
        if self.group:
            return f"RFC 7919 group {self.group}"
        if self.flavour == "gnutls":
            return f"{self.bits}-bit parameters (certtool)"
        return f"{self.bits}-bit safe prime, generator 2"


def output_path(environ):
    """$TLS_DHPARAMS, or dhparams.pem in the certificates directory."""
    return environ.get("TLS_DHPARAMS") or os.path.join(layout.certsdir(environ), "dhparams.pem")


def _env_group(environ):
    name = environ.get("DH_GROUP", "").strip()
    if not name:
        return None
    if name.lower() not in NAMED_GROUPS:
        raise MkcertError(f"DH_GROUP={name!r} is not a known group ({', '.join(NAMED_GROUPS)})")
    return name.lower()


def _size_bits(size):
    """DH_BITS as a number of bits: a number, or a GnuTLS security level name."""
    if size.lower() in GNUTLS_LEVEL_BITS:
        return GNUTLS_LEVEL_BITS[size.lower()]
    from mkcert.x509.dhparams import MAX_BITS, MIN_BITS
    from mkcert.readers.number import whole_number

    return whole_number(size, "DH_BITS", MIN_BITS, MAX_BITS, unit="(bits)",
                        alternatives=f"one of {', '.join(GNUTLS_LEVEL_BITS)} or ")


def is_fresh(path, now=None):
    """True if upstream's test would leave the file alone.

    Upstream: ``test -f FILE`` and ``find FILE -mtime +25`` prints nothing.
    GNU find's ``-mtime +25`` means: the age in whole days, rounded down,
    is more than 25 -- so a file is stale from exactly 26 * 24 hours on, and
    a file dated in the future is fresh.  ``find`` (without -L) looks at a
    symlink itself, not its target, while ``test -f`` follows it; both are
    reproduced.
    """
    if not os.path.isfile(path):
        return False
    try:
        mtime = os.lstat(path).st_mtime
    except OSError:
        return False
    now = time.time() if now is None else now
    return (now - mtime) // SECONDS_PER_DAY <= MAX_AGE_DAYS


class Progress:
    """Elapsed time and a spinner on stderr while parameters are made; only on a terminal."""

    FRAMES = "|/-\\"

    def __init__(self, what, stream=None, enabled=True):
        self.stream = stream or sys.stderr
        self.enabled = enabled and _isatty(self.stream)
        self.what = what
        self.start = time.monotonic()
        self.frame = 0

    def __call__(self):
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        self.frame = (self.frame + 1) % len(self.FRAMES)
        self._write(f"\r{PROG}: generating {self.what} {elapsed:6.1f}s {self.FRAMES[self.frame]}")

    def done(self, message=None):
        if not self.enabled:
            return
        self._write("\r\033[K" + (f"{PROG}: {message}\n" if message else ""))

    def _write(self, text):
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False


def _isatty(stream):
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def make_params(plan, run, progress):
    """The new file's bytes, generated as the plan says (the slow part)."""
    from mkcert.x509 import dhparams

    if plan.group:
        return dhparams.named_group_pem(plan.group)
    if plan.flavour == "gnutls":
        return dhparams.certtool_dh_params(_certtool_size_args(plan.size), progress=progress)
    return _openssl_params(plan, run, progress)


def _certtool_size_args(size):
    if size.isdigit():
        return ["--bits", size]
    return ["--sec-param", size.lower()]


def _openssl_params(plan, run, progress):
    """Upstream's ``openssl dhparam -rand FILE.rand.tmp BITS`` step, seed file included.

    The seed (512 bytes of /dev/urandom, 0600) exists only while the prime
    is searched, as upstream's did; the search itself draws on the OS RNG.
    """
    from mkcert.x509 import dhparams
    from mkcert.system import publish

    seed = plan.path + ".rand.tmp"
    publish.remove_stale_temporaries(seed)
    publish.write_rand_file(seed, run)
    try:
        return dhparams.generate_dh_params_pem(plan.bits, jobs=plan.jobs, progress=progress)
    finally:
        run.remove(seed)


def execute(plan):
    """Make the parameters and publish them atomically; returns the exit status."""
    from mkcert.system import publish

    # Refused now, not after minutes of searching; a link is replaced, as mv -f does.
    publish.file_to_replace(plan.path, "replacing", links_replaced=True)
    owner = publish.Owner.lookup(plan.user)
    progress = Progress(plan.describe(), enabled=not plan.quiet)
    with publish.Run() as run:
        publish.remove_stale_temporaries(plan.path)
        try:
            data = make_params(plan, run, progress)
        finally:
            progress.done()
        publish.publish_replace(plan.path, data, run, owner)
    if not plan.quiet and _isatty(sys.stderr):
        print(f"{PROG}: wrote {plan.path} ({plan.describe()})", file=sys.stderr)
    return 0


def run():
    """The entry point of ``bin/mkdhparams``: :func:`main` as the command (see :mod:`mkcert.system.process`)."""
    process.run_command(PROG, main)


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        # Upstream's order: a fresh file ends the run before anything else is
        # looked at, so a stray variable cannot fail a package installation
        # that has nothing to do.
        if not args.force and is_fresh(output_path(os.environ)):
            return 0
        return execute(Plan(args, os.environ))
    except MkcertError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:  # a Ctrl-C outside the protected run
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 1
