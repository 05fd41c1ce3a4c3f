"""The certbot deploy hook: put a renewed certificate into every Courier PEM that takes it.

certbot runs each deploy hook once per renewed certificate, with
``RENEWED_LINEAGE`` (the ``live`` directory, ``/etc/letsencrypt/live/NAME``)
and ``RENEWED_DOMAINS`` (its names, blank separated) in the environment.
The PEMs that take that lineage are listed in ``SYSCONFDIR/mkcert-install.conf``
(:mod:`mkcert.readers.installconf`); each gets the lineage's key and full chain
through :func:`mkcert.actions.install.install_material`, which checks that they belong
together and replaces the file atomically, keeping its mode, owner and group.
Courier's ``couriertls`` reads the PEM for every connection, so nothing has
to be restarted afterwards.

Every result is one line with its syslog priority, handed to ``log`` as
soon as it is known; the command (:mod:`mkcert.cli.hook`) writes it to the
console and to syslog.  One PEM that cannot be installed does not keep the
others on the old certificate; the exit status is 1 if any failed.  A bad
config installs nothing at all.
"""

import os
import syslog

from mkcert import layout
from mkcert.errors import Interrupted, MkcertError

EXAMPLE = "/usr/share/doc/courier-mkcert/examples/mkcert-install.conf"


def renewed_lineage(environ):
    """certbot's ``RENEWED_LINEAGE``, which must be an absolute path."""
    lineage = environ.get("RENEWED_LINEAGE", "")
    if not lineage:
        raise MkcertError("not run by certbot: RENEWED_LINEAGE is not set")
    if not os.path.isabs(lineage):
        raise MkcertError(f"RENEWED_LINEAGE={lineage} is not an absolute path (certbot "
                          f"sets it to the live directory, /etc/letsencrypt/live/NAME)")
    return lineage


def read_entries(path, environ):
    """The config's entries; a missing, untrusted or bad config is a MkcertError."""
    from mkcert.readers.load import read_config_text
    from mkcert.readers.installconf import parse

    if not os.path.lexists(path):
        raise MkcertError(f"{path} does not exist: write one line per Courier PEM with "
                          f"the certbot certificate it takes, such as "
                          f"'imapd mail.example.org' (example: {EXAMPLE})")
    _refuse_untrusted(path)
    return parse(read_config_text(path), path, layout.certsdir(environ))


def _refuse_untrusted(path):
    """The config decides where private keys are written: only root (or we) may change it."""
    from mkcert.actions.install import why_replaceable

    reason = why_replaceable(path)
    if reason:
        raise MkcertError(f"{path} {reason}; not following it, since it says where "
                          f"private keys are written")


def lineage_taking(pem, environ):
    """The lineage the config gives ``pem``; None without a config or an entry.

    For ``--renew``: a PEM that certbot renews through this hook is not due
    for a self-signed replacement.
    """
    path = layout.install_config(environ)
    if not os.path.lexists(path):
        return None
    wanted = os.path.realpath(pem)
    for entry in read_entries(path, environ):
        if os.path.realpath(entry.pem) == wanted:
            return entry.lineage
    return None


def lineage_name(lineage):
    """``/etc/letsencrypt/live/NAME/`` -> ``NAME``."""
    return os.path.basename(os.path.normpath(lineage))


def takes(entry, lineage):
    """Whether ``entry`` names the directory certbot renewed: by name, or by path."""
    if entry.lineage_is_path:
        return os.path.realpath(entry.lineage) == os.path.realpath(lineage)
    return entry.lineage == lineage_name(lineage)


def install_each(entries, lineage, environ, log):
    """Install the lineage into each entry's PEM, one line each; 1 if any was refused."""
    from mkcert.actions.install import install_material, material_from_certbot

    domains = environ.get("RENEWED_DOMAINS", "").split()
    try:
        material, problem = material_from_certbot(lineage), None
    except MkcertError as exc:
        material, problem = None, exc
    user = layout.mailuser(environ)
    failed = False
    for entry in entries:
        if problem is not None:
            failed = True
            log(syslog.LOG_ERR, with_domains(f"{entry.pem}: not installed: {problem}", domains))
            continue
        try:
            outcome = install_material(entry.pem, material, user)
        except Interrupted as exc:
            log(syslog.LOG_ERR, with_domains(f"{entry.pem}: not installed: {exc}", domains))
            return 1
        except MkcertError as exc:
            failed = True
            log(syslog.LOG_ERR, with_domains(f"{entry.pem}: not installed: {exc}", domains))
        else:
            for warning in outcome.warnings:
                log(syslog.LOG_WARNING, with_domains(f"{entry.pem}: warning: {warning}",
                                                     domains))
            log(syslog.LOG_INFO, with_domains(outcome.line, domains))
    return 1 if failed else 0


def with_domains(line, domains):
    """The line, followed by the names certbot renewed (when it said)."""
    return f"{line}; certbot renewed {' '.join(domains)}" if domains else line
