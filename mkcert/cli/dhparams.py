"""mkdhparams: refresh Courier's Diffie-Hellman parameters (TLS_DHPARAMS).

The command line of :mod:`mkcert.actions.dhparams`, which does the work:
the options, the spinner on a terminal while parameters are searched, the
last line and the exit status.

Only argparse and the standard library are imported before the work starts:
``--help`` and the "file is fresh" path stay fast.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence

from mkcert import __version__
from mkcert.actions.dhparams import NoProgress, execute, is_fresh, output_path, plan_for
from mkcert.system import process
from mkcert.x509.dhparams import NAMED_GROUPS  # no crypto import: dhparams loads libraries only when searching
from mkcert.errors import MkcertError

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from typing import TextIO

__all__ = ["PROG", "MAX_JOBS", "Progress", "build_parser", "main", "run"]

PROG = "mkdhparams"
# More searches than CPUs only compete; the limit keeps a typo from forking thousands.
MAX_JOBS = 256


def build_parser() -> argparse.ArgumentParser:
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


class Progress(NoProgress):
    """Elapsed time and a spinner on stderr while parameters are made; only on a terminal."""

    FRAMES = "|/-\\"

    def __init__(self, what: str, stream: "TextIO | None" = None, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled and _isatty(self.stream)
        self.what = what
        self.start = time.monotonic()
        self.frame = 0

    def __call__(self) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        self.frame = (self.frame + 1) % len(self.FRAMES)
        self._write(f"\r{PROG}: generating {self.what} {elapsed:6.1f}s {self.FRAMES[self.frame]}")

    def done(self, message: str | None = None) -> None:
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


def run() -> None:
    """The entry point of ``bin/mkdhparams``: :func:`main` as the command (see :mod:`mkcert.system.process`)."""
    process.run_command(PROG, main)


def main(argv: Sequence[str] | None = None) -> int:
    """Run mkdhparams with ``argv`` (default: the command line); return the exit status."""
    args = build_parser().parse_args(argv)
    try:
        # Upstream's order: a fresh file ends the run before anything else is
        # looked at, so a stray variable cannot fail a package installation
        # that has nothing to do.
        if not args.force and is_fresh(output_path(os.environ)):
            return 0
        plan = plan_for(os.environ, user=args.user, jobs=args.jobs, group=args.named_group)
        outcome = execute(plan, Progress(plan.describe(), enabled=not args.quiet))
        if not args.quiet and _isatty(sys.stderr):
            print(f"{PROG}: wrote {outcome.path} ({outcome.description})", file=sys.stderr)
        return 0
    except MkcertError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:  # a Ctrl-C outside the protected run
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 1
