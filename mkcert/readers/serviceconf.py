"""``TLS_CERTFILE`` and ``TLS_PRIVATE_KEYFILE`` from Courier's own service configs.

Courier's daemons are started by shell scripts that source
``SYSCONFDIR/imapd-ssl``, ``pop3d-ssl``, ``esmtpd`` ... (``NAME=value``
lines) and hand the variables to ``couriertls``; the certificate Courier
serves is whatever ``TLS_CERTFILE`` says there, not necessarily
``CERTSDIR/NAME.pem``.  When the service's file is present its values
become every mode's default PEM (and key file); without it nothing changes.

Which file belongs to which service name (the ``NAME`` of
``mk<NAME>cert``):

* ``imapd``: ``imapd-ssl``, where Debian and upstream put the TLS settings
  (imapd-ssl for port 993, imapd sources it for STARTTLS on 143);
* ``pop3d``: ``pop3d-ssl``, likewise;
* ``esmtpd``: ``esmtpd``, the STARTTLS server on port 25 that every
  installation runs.  ``esmtpd-ssl`` (SMTPS, port 465) sources ``esmtpd``
  first and may set a ``TLS_CERTFILE`` of its own; that one serves port 465
  only, and is given as PEMFILE to work on it.

Only the last plain assignment of each of the two names counts, as for
the shell.  A value the shell would expand (``$``, a backquote) or that is
not an absolute path cannot be followed and is an error with file and line,
never a guess: the answer decides where a private key is written.  Other
lines (comments, other variables, shell code) are skipped.
"""

from __future__ import annotations

import os
import re

from mkcert.errors import ConfigError, MkcertError, describe
from mkcert.record import REQUIRED, Record

__all__ = ["SERVICE_FILES", "MAX_BYTES", "TlsFiles", "parse", "read_tls_files"]

SERVICE_FILES = {"imapd": "imapd-ssl", "pop3d": "pop3d-ssl", "esmtpd": "esmtpd"}
NAMES = ("TLS_CERTFILE", "TLS_PRIVATE_KEYFILE")
# Debian's are about 10 KiB; anything near this is not a service config.
MAX_BYTES = 1 << 20
MAX_PATH = 4095  # PATH_MAX less its NUL
_ASSIGNMENT = re.compile(r"^\s*(?:export\s+)?(TLS_CERTFILE|TLS_PRIVATE_KEYFILE)=(.*)$")


class TlsFiles(Record):
    """``certfile`` and ``keyfile`` (None when unset or empty) read from ``source``."""

    FIELDS = (("certfile", None), ("keyfile", None), ("source", REQUIRED))
    __slots__ = tuple(name for name, _ in FIELDS)


def parse(text: str, path: str) -> TlsFiles:
    """The two values in ``text`` (the file at ``path``); ConfigError for one we cannot follow."""
    values = {}
    for number, line in enumerate(text.splitlines(), 1):
        match = _ASSIGNMENT.match(line)
        if match:
            values[match.group(1)] = _value(match.group(1), match.group(2), path, number)
    return TlsFiles(values.get("TLS_CERTFILE") or None,
                    values.get("TLS_PRIVATE_KEYFILE") or None, path)


def _value(name, raw, path, number):
    """One shell word: unquoted, "double-quoted" or 'single-quoted', then blanks or a comment."""
    if raw.startswith('"'):
        end = raw.find('"', 1)
        value, rest = (raw[1:end], raw[end + 1:]) if end > 0 else (None, "")
        expands = value is not None and any(c in value for c in '$`\\')
    elif raw.startswith("'"):
        end = raw.find("'", 1)
        value, rest = (raw[1:end], raw[end + 1:]) if end > 0 else (None, "")
        expands = False
    else:
        value, rest = re.match(r"(\S*)(.*)", raw).groups()
        expands = any(c in value for c in "$`\\\"';&|<>(){}")
    if value is None:
        raise ConfigError(f"{name}: an unterminated quote", path, number)
    if expands:
        raise ConfigError(f"{name}={value[:80]}: a value the shell would expand; give the "
                          f"path itself", path, number)
    rest = rest.strip()
    if rest and not rest.startswith("#"):
        raise ConfigError(f"{name}: more than one word ({rest[:40]!r} follows the value)",
                          path, number)
    if value and (not value.startswith("/") or len(value) > MAX_PATH
                  or not value.isprintable()):
        raise ConfigError(f"{name}={value[:80]!r}: not an absolute path", path, number)
    return value


def read_tls_files(sysconfdir: str, service: str) -> TlsFiles | None:
    """The service's ``TLS_CERTFILE``/``TLS_PRIVATE_KEYFILE``; None without its config file.

    A config that is there but cannot be read is an error: running on
    with CERTSDIR/NAME.pem could work on another file than Courier serves.
    """
    from mkcert.system.files import FileTooLarge, read_regular_file

    name = SERVICE_FILES.get(service)
    if name is None:
        return None
    path = os.path.join(sysconfdir, name)
    if not os.path.lexists(path):
        return None
    try:
        data = read_regular_file(path, MAX_BYTES)
    except FileTooLarge:
        raise MkcertError(f"cannot read {path}: larger than {MAX_BYTES >> 20} MiB, not a "
                          f"Courier service config") from None
    except OSError as exc:
        raise MkcertError(f"cannot read {path} (for TLS_CERTFILE): {describe(exc)}") from None
    if b"\0" in data:
        raise ConfigError("binary data (a NUL byte) in a service config", path)
    return parse(data.decode("utf-8", "surrogateescape"), path)
