"""Read ``/etc/courier/mkcert-install.conf``: which Courier PEM takes which certbot lineage.

The certbot deploy hook (:mod:`mkcert.actions.hook`) is told only which lineage
certbot has just renewed; this file says where that key and chain go.  One
mapping per line, two fields separated by blanks::

    # PEM                      LINEAGE
    imapd                      mail.example.org
    pop3d                      mail.example.org
    /etc/courier/esmtpd.pem    /etc/letsencrypt/live/mail.example.org

* PEM: a Courier service name (``imapd`` means ``CERTSDIR/imapd.pem``, as
  ``mkimapdcert`` has it) or an absolute path ending in ``.pem``;
* LINEAGE: a certbot certificate name (the directory under ``live/``) or
  the absolute path of that ``live`` directory.

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
    """One mapping: ``pem`` (an absolute path) takes ``lineage`` (a name or an absolute path)."""

    def __init__(self, pem, lineage, line):
        self.pem, self.lineage, self.line = pem, lineage, line

    @property
    def lineage_is_path(self):
        return self.lineage.startswith("/")

    def __repr__(self):
        return f"Entry({self.pem!r}, {self.lineage!r}, line {self.line})"


def parse(text, path, certsdir):
    """The entries of the config ``text`` (read from ``path``), in file order.

    ``certsdir``: where a service name's PEM lives (``mkcert.layout.certsdir``).
    """
    entries, first_seen = [], {}
    for number, raw in enumerate(text.splitlines(), 1):
        fields = _fields(raw)
        if not fields:
            continue
        if len(fields) != 2:
            raise ConfigError(f"expected two fields, PEM and LINEAGE (as in "
                              f"'imapd mail.example.org'), found {len(fields)}", path, number)
        pem = _pem(fields[0], certsdir, path, number)
        lineage = _lineage(fields[1], path, number)
        if pem in first_seen:
            raise ConfigError(f"{pem} is listed twice (first at line {first_seen[pem]}); "
                              f"a PEM can hold only one certificate", path, number)
        first_seen[pem] = number
        entries.append(Entry(pem, lineage, number))
    return entries


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
        if not field.endswith(".pem") or field.endswith("/.pem"):
            raise ConfigError(f"{field}: a PEM path must end in NAME.pem (Courier's "
                              f"TLS_CERTFILE)", path, number)
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
