"""The deploy hooks: put a renewed certificate into every Courier PEM that takes it.

certbot runs each deploy hook once per renewed certificate, with
``RENEWED_LINEAGE`` (the ``live`` directory, ``/etc/letsencrypt/live/NAME``)
and ``RENEWED_DOMAINS`` (its names, blank separated) in the environment.
The PEMs that take that lineage are listed in ``SYSCONFDIR/mkcert-install.conf``
(:mod:`mkcert.readers.installconf`); each gets the lineage's key and full chain
through :func:`mkcert.actions.install.install_material`, which checks that they belong
together and replaces the file atomically, keeping its mode, owner and group.
Courier's ``couriertls`` reads the PEM for every connection, so nothing has
to be restarted afterwards.

The other ACME clients (dehydrated, lego, uacme, acme.sh) hand over a key
file and a full-chain file and name the certificate by its domain; their
hooks (``contrib/``, through :mod:`mkcert.cli.deploy`) give the plan those
two files, the name and the client, and the same entries of the same config
decide where they go.  A config entry names a certificate by that name, or
by the absolute path of the directory that holds its key file (certbot's
``live/NAME``, which holds ``privkey.pem``).

Every result is one line with its syslog priority, handed to ``log`` as
soon as it is known; the command (:mod:`mkcert.cli.hook`) writes it to the
console and to syslog.  One PEM that cannot be installed does not keep the
others on the old certificate; the :class:`Outcome` names those that failed
(the command exits 1 then).  A bad config installs nothing at all.
"""

from __future__ import annotations

import os
import syslog
from collections.abc import Callable, Mapping, Sequence

from mkcert import layout
from mkcert.errors import Interrupted, MkcertError
from mkcert.request import REQUIRED, Record

TYPE_CHECKING = False  # typing's flag, without importing typing
if TYPE_CHECKING:  # names for the annotations only, never imported at run time
    from mkcert.readers.installconf import Entry

__all__ = ["covers", "EXAMPLE", "Plan", "Outcome", "deploy", "read_entries", "lineage_taking",
           "lineage_name", "takes"]

EXAMPLE = "/usr/share/doc/courier-mkcert/examples/mkcert-install.conf"


class Plan(Record):
    """One renewal to deploy, as certbot (or another ACME client) tells it.

    ``lineage``: the live directory certbot renewed (an absolute path), or
    for another client the directory holding the key file;
    ``domains``: the names it renewed, for the log lines; ``environ``: where
    the config and the PEMs are, and who owns a new PEM.  Another client
    gives ``key`` and ``fullchain`` (the files to install), ``name`` (the
    certificate's name, which config entries match) and ``client`` (its
    name, for the log lines); certbot's are read from the lineage.
    """

    FIELDS = (("lineage", REQUIRED), ("domains", ()), ("environ", REQUIRED),
              ("key", None), ("fullchain", None), ("name", None), ("client", "certbot"))
    __slots__ = tuple(name for name, _ in FIELDS)


class Outcome(Record):
    """The PEMs that hold the lineage now (changed or not), and those left as they were."""

    FIELDS = (("installed", ()), ("failed", ()))
    __slots__ = tuple(name for name, _ in FIELDS)


def deploy(plan: Plan, log: Callable[[int, str], None]) -> Outcome:
    """Install the renewed lineage into each PEM the config gives it to.

    ``log(priority, line)`` gets each result as soon as it is known, with
    its syslog priority.  A config that cannot be followed is a MkcertError,
    before anything is installed.
    """
    config = layout.install_config(plan.environ)
    entries = read_entries(config, plan.environ)
    name = plan.name or lineage_name(plan.lineage)
    matching = [entry for entry in entries if takes(entry, plan.lineage, name, plan.domains)]
    if not matching:
        log(syslog.LOG_INFO, f"no PEM in {config} takes the certificate "
                             f"{name} ({plan.lineage}); nothing to install")
        return Outcome()
    return install_each(matching, plan, log)


def read_entries(path: str, environ: Mapping[str, str]) -> list["Entry"]:
    """The config's entries; a missing, untrusted or bad config is a MkcertError."""
    from mkcert.readers.load import read_config_text
    from mkcert.readers.installconf import parse

    if not os.path.lexists(path):
        raise MkcertError(f"{path} does not exist: write one line per Courier PEM with "
                          f"the certbot certificate it takes, such as "
                          f"'imapd mail.example.org' (example: {EXAMPLE})")
    _refuse_untrusted(path)
    return parse(read_config_text(path), path, layout.certsdir(environ),
                 _service_files(environ))


def _service_files(environ):
    """A service's (TLS_CERTFILE, TLS_PRIVATE_KEYFILE) from its config, as the commands read them."""

    from mkcert.readers.serviceconf import read_tls_files

    def service_files(name):
        tls = read_tls_files(layout.sysconfdir(environ), name)
        if tls is not None and tls.certfile:
            return tls.certfile, tls.keyfile
        return os.path.join(layout.certsdir(environ), name + ".pem"), None

    return service_files


def _refuse_untrusted(path):
    """The config decides where private keys are written: only root (or we) may change it."""
    from mkcert.system.trust import why_replaceable

    reason = why_replaceable(path)
    if reason:
        raise MkcertError(f"{path} {reason}; not following it, since it says where "
                          f"private keys are written")


def lineage_taking(pem: str, environ: Mapping[str, str]) -> str | None:
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
            return entry.lineage or f"of {entry.domain}"
    return None


def lineage_name(lineage: str) -> str:
    """``/etc/letsencrypt/live/NAME/`` -> ``NAME``."""
    return os.path.basename(os.path.normpath(lineage))


def takes(entry: "Entry", lineage: str, name: str | None = None,
          domains: Sequence[str] = ()) -> bool:
    """Whether ``entry`` names the certificate renewed: by ``name`` (default: the
    lineage's), or by the path of ``lineage``.

    A per-domain entry without a lineage takes any certificate whose
    ``domains`` (certbot's ``RENEWED_DOMAINS``) cover its name: the name
    itself, or a wildcard one label above it.
    """
    if entry.lineage is None:
        return covers(domains, entry.domain)
    if entry.lineage_is_path:
        return os.path.realpath(entry.lineage) == os.path.realpath(lineage)
    return entry.lineage == (name or lineage_name(lineage))


def covers(domains: Sequence[str], name: str | None) -> bool:
    """``name`` is among certbot's ``domains``, or under one of its ``*.`` wildcards."""
    if name is None:
        return False
    parent = name.split(".", 1)[1] if "." in name else None
    for domain in domains:
        domain = domain.lower().rstrip(".")
        if domain == name or (parent is not None and domain == f"*.{parent}"):
            return True
    return False


def install_each(entries: Sequence["Entry"], plan: Plan,
                 log: Callable[[int, str], None]) -> Outcome:
    """Install the lineage into each entry's PEM, one line each, and say which were refused."""
    from mkcert.actions.install import install_material, material_from_certbot, read_material

    def said(line):
        return with_domains(line, plan.domains, plan.client)

    try:
        if plan.key is not None:
            material, problem = read_material(plan.key, plan.fullchain), None
        else:
            material, problem = material_from_certbot(plan.lineage), None
    except MkcertError as exc:
        material, problem = None, exc
    user = layout.mailuser(plan.environ)
    installed, failed = [], []
    for entry in entries:
        if problem is not None:
            failed.append(entry.pem)
            log(syslog.LOG_ERR, said(f"{entry.pem}: not installed: {problem}"))
            continue
        try:
            outcome = install_material(entry.pem, material, user, prove=entry.per_domain,
                                       keyfile=entry.keyfile)
        except Interrupted as exc:
            log(syslog.LOG_ERR, said(f"{entry.pem}: not installed: {exc}"))
            return Outcome(tuple(installed), tuple(failed + [entry.pem]))
        except MkcertError as exc:
            failed.append(entry.pem)
            log(syslog.LOG_ERR, said(f"{entry.pem}: not installed: {exc}"))
        else:
            installed.append(entry.pem)
            for warning in outcome.warnings:
                log(syslog.LOG_WARNING, said(f"{entry.pem}: warning: {warning}"))
            log(syslog.LOG_INFO, said(outcome.line))
    return Outcome(tuple(installed), tuple(failed))


def with_domains(line: str, domains: Sequence[str], client: str = "certbot") -> str:
    """The line, followed by the names the client renewed (when it said)."""
    return f"{line}; {client} renewed {' '.join(domains)}" if domains else line
