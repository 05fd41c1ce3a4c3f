"""The certbot deploy hook's command: ``contrib/certbot-deploy-hook``.

certbot runs it once per renewed certificate, with ``RENEWED_LINEAGE`` and
``RENEWED_DOMAINS`` in the environment; :mod:`mkcert.actions.hook` installs
the lineage into every PEM that takes it.  A hook runs unattended and its
output lands in certbot's log, which few people read, so every result is one
line on standard output (a refusal on standard error) and the same line in
syslog (facility mail, ident ``courier-mkcert``); even a bug is one line.
"""

from __future__ import annotations

import os
import sys
import syslog
from collections.abc import Callable, Mapping

from mkcert.actions.hook import Plan, deploy
from mkcert.errors import MkcertError

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from typing import NoReturn

__all__ = ["IDENT", "ConsoleAndSyslog", "main", "renewed_lineage", "run"]

IDENT = "courier-mkcert"


class ConsoleAndSyslog:
    """``log(priority, line)``: the line to stdout (stderr for errors) and to syslog."""

    def __init__(self) -> None:
        syslog.openlog(IDENT, 0, syslog.LOG_MAIL)

    def __call__(self, priority: int, line: str) -> None:
        stream = sys.stderr if priority <= syslog.LOG_WARNING else sys.stdout
        try:
            print(line, file=stream, flush=True)
        except OSError:
            pass  # certbot went away or the pipe is closed: syslog still has the line
        syslog.syslog(priority, line)


def run() -> "NoReturn":
    """The entry point of ``contrib/certbot-deploy-hook``."""
    log = ConsoleAndSyslog()
    try:
        status = main(os.environ, log)
    except KeyboardInterrupt:
        log(syslog.LOG_ERR, "interrupted")
        status = 1
    except Exception as exc:  # noqa: BLE001 - a hook must say what broke in one line
        log(syslog.LOG_ERR, f"failed: {type(exc).__name__}: {exc} (this is a bug)")
        status = 1
    sys.exit(status)


def main(environ: Mapping[str, str], log: Callable[[int, str], None]) -> int:
    """Install the renewed lineage into each PEM the config gives it to; the exit status."""
    try:
        plan = Plan(renewed_lineage(environ), tuple(environ.get("RENEWED_DOMAINS", "").split()),
                    environ)
        outcome = deploy(plan, log)
    except MkcertError as exc:
        log(syslog.LOG_ERR, str(exc))
        return 1
    return 1 if outcome.failed else 0


def renewed_lineage(environ: Mapping[str, str]) -> str:
    """certbot's ``RENEWED_LINEAGE``, which must be an absolute path."""
    lineage = environ.get("RENEWED_LINEAGE", "")
    if not lineage:
        raise MkcertError("not run by certbot: RENEWED_LINEAGE is not set")
    if not os.path.isabs(lineage):
        raise MkcertError(f"RENEWED_LINEAGE={lineage} is not an absolute path (certbot "
                          f"sets it to the live directory, /etc/letsencrypt/live/NAME)")
    return lineage
