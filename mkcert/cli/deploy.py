"""The deploy command of the ACME clients other than certbot: ``contrib/courier-mkcert-deploy``.

dehydrated, lego, uacme and acme.sh each tell their hooks about a new
certificate in their own way (arguments, environment variables, a function
call); the small hooks in ``contrib/`` turn that into one command line::

    courier-mkcert-deploy --client lego --name mail.example.org \\
        --key KEYFILE --fullchain FULLCHAINFILE [DOMAIN ...]

and this module installs the key and full chain into every PEM that
``SYSCONFDIR/mkcert-install.conf`` gives the certificate ``--name`` (or the
directory holding ``KEYFILE``), exactly as the certbot deploy hook
(:mod:`mkcert.cli.hook`) does for certbot's lineages: the same config, the
same checks and atomic replacement, the same one line per PEM on the
console and in syslog.  Exit status: 0 every PEM holds the certificate (or
none takes it), 1 one was refused or the config is wrong, 2 a usage error.
"""

from __future__ import annotations

import argparse
import os
import sys
import syslog
from collections.abc import Callable, Mapping, Sequence

from mkcert.actions.hook import Plan, deploy
from mkcert.cli.hook import ConsoleAndSyslog
from mkcert.errors import MkcertError

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from typing import NoReturn

__all__ = ["PROGRAM", "build_parser", "main", "run"]

PROGRAM = "courier-mkcert-deploy"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROGRAM,
        description="Install a certificate an ACME client has just issued into every "
                    "Courier PEM that SYSCONFDIR/mkcert-install.conf gives it to (as "
                    "mk<NAME>cert --install does: checked first, replaced atomically, "
                    "the previous one kept as PEM.old). Run by courier-mkcert's hooks "
                    "for dehydrated, lego, uacme and acme.sh.")
    parser.add_argument("--client", required=True, metavar="CLIENT",
                        help="the ACME client, for the log lines (dehydrated, lego, ...)")
    parser.add_argument("--name", required=True, metavar="NAME",
                        help="the certificate's name, as the config's second field gives it "
                             "(the client's name for it, usually its first domain)")
    parser.add_argument("--key", required=True, metavar="KEYFILE",
                        help="the private key (unencrypted PEM)")
    parser.add_argument("--fullchain", required=True, metavar="FULLCHAINFILE",
                        help="the certificate followed by its chain")
    parser.add_argument("domains", nargs="*", metavar="DOMAIN",
                        help="the names the client renewed, for the log lines")
    return parser


def run() -> "NoReturn":
    """The entry point of ``contrib/courier-mkcert-deploy``."""
    options = build_parser().parse_args()
    log = ConsoleAndSyslog()
    try:
        status = main(options, os.environ, log)
    except KeyboardInterrupt:
        log(syslog.LOG_ERR, "interrupted")
        status = 1
    except Exception as exc:  # noqa: BLE001 - a hook must say what broke in one line
        log(syslog.LOG_ERR, f"failed: {type(exc).__name__}: {exc} (this is a bug)")
        status = 1
    sys.exit(status)


def main(options: argparse.Namespace, environ: Mapping[str, str],
         log: Callable[[int, str], None]) -> int:
    """Install the files the options name into each PEM that takes them; the exit status."""
    # lego names its files relative to its working directory: the log lines
    # and the config's path entries need them whole.
    key, fullchain = os.path.abspath(options.key), os.path.abspath(options.fullchain)
    plan = Plan(os.path.dirname(key), tuple(_words(options.domains)), environ,
                key=key, fullchain=fullchain, name=options.name, client=options.client)
    try:
        outcome = deploy(plan, log)
    except MkcertError as exc:
        log(syslog.LOG_ERR, str(exc))
        return 1
    return 1 if outcome.failed else 0


def _words(domains: Sequence[str]) -> list[str]:
    """The domains, whether given one per argument or blank-separated in one (lego's style)."""
    return [word for domain in domains for word in domain.split()]
