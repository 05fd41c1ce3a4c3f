"""Publishing a certificate file and its separate key file (``TLS_PRIVATE_KEYFILE``).

With ``TLS_PRIVATE_KEYFILE`` set, couriertls reads the certificate chain
from ``TLS_CERTFILE`` and the key from the key file, anew for every
connection, and always in that order: the certificate file first, then the
key file (``set_cert`` of the GnuTLS build reads the one after the other;
the OpenSSL build calls ``SSL_CTX_use_certificate_chain_file`` and then
``SSL_CTX_use_PrivateKey_file``).  Two files cannot be replaced in one
step, so no order of two renames is safe for every reader:

* both files new: the key goes first.  Courier looks a per-domain
  certificate up by its name and only then its key, so until the
  certificate exists nobody reads the new key: this order is fully safe;
* replacing: the certificate goes first, then the key.  A reader gets a
  mismatched pair only if both of its reads fall between the two renames,
  or its two reads span both renames.  Renaming the key first would add
  every reader whose two reads straddle either rename; so this is the
  least bad order.  Everything (the ``.old`` copies, both temporaries,
  fsynced, owner and mode) is done before the first rename, so the two
  renames follow each other at once and the window is microseconds.

This module moves bytes, as :mod:`mkcert.system.publish` does, and keeps
:class:`mkcert.system.target.Target`'s policy (a replaced file keeps mode,
owner and group, made safe, and its old content as ``.old``).
"""

from __future__ import annotations

import os

from mkcert.errors import AlreadyExists, MkcertError, describe
from mkcert.system.publish import (Owner, Run, copy_ownership, publish_replace,
                                   remove_stale_temporaries, sync_directory, write_temporary)
from mkcert.system.signals import blocked_signals
from mkcert.system.target import Target, ensure_unchanged, old_path

__all__ = ["publish_pair", "order"]


def order(certificate: Target, key: Target) -> tuple[str, str]:
    """Which file goes first: ``("key", "certificate")`` for a new certificate, else the reverse."""
    return ("key", "certificate") if certificate.is_new else ("certificate", "key")


def publish_pair(certificate: Target, certificate_data: bytes, key: Target, key_data: bytes,
                 run: Run, owner: Owner | None = None) -> None:
    """Make ``certificate_data`` and ``key_data`` the contents of the two targets.

    A new file is created 0600 and given to ``owner`` (and fails with
    :class:`AlreadyExists` if one appeared meanwhile); a replaced one keeps
    its owner, group and (safe) mode and leaves ``.old`` behind.  The
    order is :func:`order`'s.
    """
    targets = {"certificate": (certificate, certificate_data), "key": (key, key_data)}
    for target, _ in targets.values():
        if not target.is_new:
            remove_stale_temporaries(old_path(target.path))
            _ensure_unchanged(target)
            publish_replace(old_path(target.path), target.old_data, run, mode=0o600,
                            final=False)
    temporaries = {}
    for name, (target, data) in targets.items():
        remove_stale_temporaries(target.path)
        temp = write_temporary(target.path, data, run, owner if target.is_new else None)
        if not target.is_new:
            copy_ownership(temp, target.keep, target.path)
        temporaries[name] = temp
    with blocked_signals():
        for name in order(certificate, key):
            target, _ = targets[name]
            _put(target, temporaries[name], run)
        run.published = True
    for target, _ in targets.values():
        sync_directory(target.path)


def _put(target, temp, run):
    if target.is_new:
        try:
            os.link(temp, target.path)
        except FileExistsError:
            raise AlreadyExists(target.path) from None
        except OSError as exc:
            raise MkcertError(f"cannot create {target.path}: {describe(exc)}") from None
        finally:
            run.remove(temp)
        return
    _ensure_unchanged(target)
    try:
        os.rename(temp, target.path)
    except OSError as exc:
        raise MkcertError(f"cannot replace {target.path}: {describe(exc)}") from None
    run.forget(temp)


def _ensure_unchanged(target):
    ensure_unchanged(target.path, target.old_stat)
