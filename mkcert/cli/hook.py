"""The certbot deploy hook's command: ``contrib/certbot-deploy-hook``.

certbot runs it once per renewed certificate, with ``RENEWED_LINEAGE`` and
``RENEWED_DOMAINS`` in the environment; :mod:`mkcert.actions.hook` installs
the lineage into every PEM that takes it.  A hook runs unattended and its
output lands in certbot's log, which few people read, so every result is one
line on standard output (a refusal on standard error) and the same line in
syslog (facility mail, ident ``courier-mkcert``); even a bug is one line.
"""

import os
import sys
import syslog

from mkcert import layout
from mkcert.actions.hook import (install_each, lineage_name, read_entries, renewed_lineage,
                                 takes)
from mkcert.errors import MkcertError

IDENT = "courier-mkcert"


class ConsoleAndSyslog:
    """``log(priority, line)``: the line to stdout (stderr for errors) and to syslog."""

    def __init__(self):
        syslog.openlog(IDENT, 0, syslog.LOG_MAIL)

    def __call__(self, priority, line):
        stream = sys.stderr if priority <= syslog.LOG_WARNING else sys.stdout
        try:
            print(line, file=stream, flush=True)
        except OSError:
            pass  # certbot went away or the pipe is closed: syslog still has the line
        syslog.syslog(priority, line)


def run():
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


def main(environ, log):
    """Install the renewed lineage into each PEM the config gives it to; the exit status."""
    try:
        lineage = renewed_lineage(environ)
        config = layout.install_config(environ)
        entries = read_entries(config, environ)
    except MkcertError as exc:
        log(syslog.LOG_ERR, str(exc))
        return 1
    matching = [entry for entry in entries if takes(entry, lineage)]
    if not matching:
        log(syslog.LOG_INFO, f"no PEM in {config} takes the certificate "
                             f"{lineage_name(lineage)} ({lineage}); nothing to install")
        return 0
    return install_each(matching, lineage, environ, log)
