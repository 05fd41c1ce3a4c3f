"""Read ``/etc/courier/mkcert-install.conf``: which Courier PEM takes which certbot lineage.

The certbot deploy hook (:mod:`mkcert.actions.hook`) is told only which lineage
certbot has just renewed; this file says where that key and chain go.  One
mapping per line, two fields separated by blanks::

    # PEM                      LINEAGE
    imapd                      mail.example.org
    pop3d                      mail.example.org
    /etc/courier/esmtpd.pem    /etc/letsencrypt/live/mail.example.org

* PEM: a Courier service name (``imapd`` means ``CERTSDIR/imapd.pem``, as
  ``mkimapdcert`` has it, or the service config's ``TLS_CERTFILE``), an
  absolute path ending in ``.pem``, a service's per-domain file
  (``imapd@mail.example.org``: ``TLS_CERTFILE.mail.example.org``) or the
  absolute path of one (``/etc/courier/imapd.pem.mail.example.org``);
* LINEAGE: a certbot certificate name (the directory under ``live/``) or
  the absolute path of that ``live`` directory.  A per-domain PEM may
  leave it out: it then takes whichever lineage certbot renews for that
  name (``RENEWED_DOMAINS``, a wildcard covering it included).

Blank lines are skipped and a field starting with ``#`` begins a comment.
Several PEMs may take one lineage; one PEM may take only one lineage, so a
PEM listed twice (under either spelling) is an error rather than a race
between two renewals.  Paths with blanks in them cannot be written.

Every mistake is a :class:`~mkcert.errors.ConfigError` with file and line,
raised before the hook installs anything: a half-applied config would leave
some services on the old certificate without anyone noticing.

Pure: text in, entries out.  Reading the file and comparing paths on disk
belong to :mod:`mkcert.actions.hook`.
"""

import os
import re

from mkcert.errors import ConfigError

# What mkcert.cli.main accepts as a service name (mk<NAME>cert).
_SERVICE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# certbot's --cert-name is free text in principle; what matters here is
# that it is one directory name, so no "/" and nothing that starts a path.
_LINEAGE_NAME = re.compile(r"^[A-Za-z0-9_][^/\s]*$")


class Entry:
    """One mapping: ``pem`` (an absolute path) takes ``lineage`` (a name or an absolute path).

    ``domain``: the name of a per-domain target (``imapd@NAME``), whose
    ``lineage`` may be None (any lineage certbot renews for ``domain``);
    ``keyfile``: the service's ``TLS_PRIVATE_KEYFILE`` for it, if any.
    """

    def __init__(self, pem, lineage, line, domain=None, keyfile=None):
        self.pem, self.lineage, self.line = pem, lineage, line
        self.domain, self.keyfile = domain, keyfile

    @property
    def lineage_is_path(self):
        return self.lineage is not None and self.lineage.startswith("/")

    @property
    def per_domain(self):
        """A per-domain file (``TLS_CERTFILE.NAME``): it must prove it loads before it is served."""
        return self.domain is not None or not self.pem.endswith(".pem")

    def __repr__(self):
        return f"Entry({self.pem!r}, {self.lineage!r}, line {self.line})"


def _default_service_files(certsdir):
    def service_files(name):
        return os.path.join(certsdir, name + ".pem"), None

    return service_files


def parse(text, path, certsdir, service_files=None):
    """The entries of the config ``text`` (read from ``path``), in file order.

    ``certsdir``: where a service name's PEM lives (``mkcert.layout.certsdir``);
    ``service_files(name)``: (TLS_CERTFILE, TLS_PRIVATE_KEYFILE or None)
    of a service, when its config says (``CERTSDIR/NAME.pem`` otherwise).
    """
    service_files = service_files or _default_service_files(certsdir)
    entries, first_seen = [], {}
    for number, raw in enumerate(text.splitlines(), 1):
        fields = _fields(raw)
        if not fields:
            continue
        per_domain = "@" in fields[0] or (fields[0].startswith("/")
                                          and not fields[0].endswith(".pem"))
        if len(fields) != 2 and not (per_domain and len(fields) == 1):
            raise ConfigError(f"expected two fields, PEM and LINEAGE (as in "
                              f"'imapd mail.example.org'), found {len(fields)}", path, number)
        if "@" in fields[0]:
            entry = _domain_entry(fields[0], service_files, path, number)
        else:
            entry = Entry(_pem(fields[0], certsdir, path, number), None, number)
            if not fields[0].startswith("/"):
                entry.pem, entry.keyfile = _service(fields[0], service_files)
        entry.lineage = _lineage(fields[1], path, number) if len(fields) == 2 else None
        if entry.pem in first_seen:
            raise ConfigError(f"{entry.pem} is listed twice (first at line "
                              f"{first_seen[entry.pem]}); a PEM can hold only one certificate",
                              path, number)
        first_seen[entry.pem] = number
        entries.append(entry)
    return entries


def _service(name, service_files):
    pem, keyfile = service_files(name)
    return os.path.normpath(pem), keyfile


def _domain_entry(field, service_files, path, number):
    """``imapd@mail.example.org``: the service's ``TLS_CERTFILE.mail.example.org``."""
    from mkcert.readers.servername import DomainError, normalise_domain
    from mkcert.system.idn import client_a_label

    service, _, name = field.partition("@")
    if not _SERVICE.match(service):
        raise ConfigError(f"{service!r} is not a service name (like imapd, pop3d, esmtpd)",
                          path, number)
    try:
        domain = normalise_domain(name, client_a_label)
    except DomainError as exc:
        raise ConfigError(str(exc).replace("--domain ", "", 1), path, number) from None
    pem, keyfile = _service(service, service_files)
    return Entry(f"{pem}.{domain}", None, number, domain,
                 None if keyfile is None else f"{keyfile}.{domain}")


def _fields(line):
    """The blank-separated fields of ``line`` before any field that starts with ``#``."""
    fields = []
    for field in line.split():
        if field.startswith("#"):
            break
        fields.append(field)
    return fields


def _pem(field, certsdir, path, number):
    """A service name or an absolute ``.pem`` path, as a normalised absolute path."""
    if field.startswith("/"):
        base = field[:field.rindex(".pem.") + 4] if ".pem." in field else field
        if not base.endswith(".pem") or base.endswith("/.pem") or field.endswith("."):
            raise ConfigError(f"{field}: a PEM path must end in NAME.pem (Courier's "
                              f"TLS_CERTFILE) or be a per-domain NAME.pem.DOMAIN", path, number)
        return os.path.normpath(field)
    if "/" in field or field.endswith(".pem"):
        raise ConfigError(f"{field}: a relative path; give a service name (imapd) or an "
                          f"absolute path (/etc/courier/imapd.pem)", path, number)
    if not _SERVICE.match(field):
        raise ConfigError(f"{field!r} is not a service name (like imapd, pop3d, esmtpd)",
                          path, number)
    return os.path.normpath(os.path.join(certsdir, field + ".pem"))


def _lineage(field, path, number):
    """A certbot certificate name, or the absolute path of its live directory."""
    if field.startswith("/"):
        normal = os.path.normpath(field)
        if normal == "/":
            raise ConfigError("/ is not a certbot live directory", path, number)
        return normal
    if "/" in field:
        raise ConfigError(f"{field}: a relative path; give the certificate name "
                          f"(mail.example.org) or the absolute path of its live directory "
                          f"(/etc/letsencrypt/live/mail.example.org)", path, number)
    if not _LINEAGE_NAME.match(field):
        raise ConfigError(f"{field!r} is not a certbot certificate name (the directory "
                          f"name under /etc/letsencrypt/live)", path, number)
    return field
