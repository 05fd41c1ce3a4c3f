"""Where a run's result lands: a new file, or the one there replaced with a way back.

``--install`` and ``--renew`` both put a PEM where Courier reads it, and
either finds no file there (a new one is created: never over anything, as
:func:`mkcert.system.publish.publish_new` does) or one to replace.  A
replaced file leaves two things behind: its content, as ``PATH.old``
(0600), for a way back, and its owner, group and mode, which the new file
takes (Debian's postinst set them), except what would expose the new
private key (:data:`UNSAFE_MODE_BITS`).  What may be replaced at all is
:func:`mkcert.system.publish.file_to_replace`.
"""

from __future__ import annotations

import os
import stat
import types

from mkcert.errors import MkcertError, describe
from mkcert.system.publish import Run, publish_replace, remove_stale_temporaries

__all__ = ["UNSAFE_MODE_BITS", "kept_stat", "old_path", "replace_keeping_old"]

# Permission bits a replaced private key never keeps: group write, anything for others.
UNSAFE_MODE_BITS = stat.S_IWGRP | stat.S_IRWXO


def old_path(path: str) -> str:
    """Where the file a replacement displaced is kept: ``PATH.old``."""
    return path + ".old"


def kept_stat(st: os.stat_result) -> types.SimpleNamespace:
    """The owner, group and mode a replacement takes: the old file's, made safe.

    A new private key must not be exposed because the old one was, so the
    bits in :data:`UNSAFE_MODE_BITS` are dropped.
    """
    return types.SimpleNamespace(st_uid=st.st_uid, st_gid=st.st_gid,
                                 st_mode=st.st_mode & ~UNSAFE_MODE_BITS)


def replace_keeping_old(path: str, old_data: bytes, old_stat: os.stat_result, data: bytes,
                        keep: types.SimpleNamespace, run: Run) -> None:
    """Save the current file as ``.old`` (0600), then swap the new one in atomically.

    ``old_data``/``old_stat``: what was read at ``path`` and its stat;
    ``keep``: the owner, group and mode for the new file (:func:`kept_stat`).
    Both writes go through :func:`~mkcert.system.publish.publish_replace`: a
    fresh 0600 temporary (O_EXCL|O_NOFOLLOW) renamed over the name, so a
    symlink planted at ``.old`` is replaced, never written through.  If
    ``path`` changed since it was read (another run, an admin), nothing is
    replaced.
    """
    remove_stale_temporaries(old_path(path))
    _ensure_unchanged(path, old_stat)
    publish_replace(old_path(path), old_data, run, mode=0o600, final=False)
    _ensure_unchanged(path, old_stat)
    publish_replace(path, data, run, stat_from=keep)


def _ensure_unchanged(path, before):
    try:
        after = os.lstat(path)
    except FileNotFoundError:
        after = None
    except OSError as exc:
        raise MkcertError(f"cannot examine {path}: {describe(exc)}") from None
    identity = (lambda st: None if st is None else
                (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_mode))
    if identity(after) != identity(before):
        raise MkcertError(f"{path} changed while it was being replaced; nothing replaced")
