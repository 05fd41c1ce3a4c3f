"""Where Courier keeps its files, and who owns them.

The defaults are the Debian 12 layout, the one our first user (Debian's
maintainer scripts) has.  Other layouts (upstream's /usr/lib/courier, Gentoo)
are reached through the ``COURIER_*`` environment variables, which the
command-line options override in turn.
"""

import os

SYSCONFDIR = "/etc/courier"
CERTSDIR = "/etc/courier"
MAILUSER = "courier"
# Which TLS library Courier was built with; Debian and Ubuntu use GnuTLS.
SSLLIB = "gnutls"
COURIERTLS = "/usr/bin/couriertls"


def _env(name, default, environ):
    value = (environ if environ is not None else os.environ).get(name, "")
    return value or default


def sysconfdir(environ=None):
    """Directory holding the ``NAME.cnf`` files."""
    return _env("COURIER_SYSCONFDIR", SYSCONFDIR, environ)


def certsdir(environ=None):
    """Directory where the PEM files are written."""
    return _env("COURIER_CERTSDIR", CERTSDIR, environ)


def mailuser(environ=None):
    """The user that owns the PEM files (Courier's daemons run as this user)."""
    return _env("COURIER_MAILUSER", MAILUSER, environ)


def ssllib(environ=None):
    """``openssl`` or ``gnutls``: decides the flavour of mkdhparams."""
    return _env("COURIER_SSLLIB", SSLLIB, environ)


def key_type(environ=None):
    """``COURIER_KEY_TYPE`` (e.g. ``ec``) for package scripts, or None: ``--key-type`` wins."""
    return _env("COURIER_KEY_TYPE", None, environ)


def couriertls(environ=None):
    """Courier's TLS helper, whose IDN library decides how the GnuTLS build converts names."""
    return _env("COURIER_COURIERTLS", COURIERTLS, environ)


def install_config(environ=None):
    """The certbot deploy hook's map of PEMs to lineages: ``SYSCONFDIR/mkcert-install.conf``."""
    return os.path.join(sysconfdir(environ), "mkcert-install.conf")


def staged_key_path(pem):
    """Where the next key of ``pem`` waits for its rollover: ``BASE.next-key.pem``.

    Courier serves ``$TLS_CERTFILE.<name>`` to a client naming ``<name>``
    (SNI), so nothing beside a PEM may be called ``PEM.something``: the
    staged key drops the PEM's ``.pem`` and takes its own suffix instead.
    """
    base = pem[:-len(".pem")] if pem.endswith(".pem") else pem
    return base + ".next-key.pem"


def ca_certificate(environ=None):
    """The private mail CA's certificate (mkcourierca): ``CERTSDIR/courier-ca.pem``."""
    return os.path.join(certsdir(environ), "courier-ca.pem")


def ca_key(environ=None):
    """The private mail CA's key, root's alone: ``CERTSDIR/courier-ca.key``.

    Not ``courier-ca.pem.key``: nothing beside a PEM may be called
    ``PEM.something`` (see :func:`staged_key_path`).
    """
    return os.path.join(certsdir(environ), "courier-ca.key")
