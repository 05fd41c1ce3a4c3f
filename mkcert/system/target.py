"""Where a run's result lands: a new file, or the one there replaced with a way back.

``--install`` and ``--renew`` both put a PEM where Courier reads it, and
either finds no file there (a new one is created: never over anything, as
:func:`mkcert.system.publish.publish_new` does) or one to replace.  A
replaced file leaves two things behind: its content, as ``PATH.old``
(0600), for a way back, and its owner, group and mode, which the new file
takes (Debian's postinst set them), except what would expose the new
private key (:data:`UNSAFE_MODE_BITS`).  :class:`Target` is that policy, in
one place; what may be replaced at all is
:func:`mkcert.system.publish.file_to_replace`.
"""

from __future__ import annotations

import os
import stat
import types

from mkcert.errors import MkcertError, describe
from mkcert.system.publish import (Owner, Run, publish_new, publish_replace,
                                   remove_stale_temporaries)

__all__ = ["UNSAFE_MODE_BITS", "Target", "ensure_unchanged", "kept_stat", "old_path",
           "replace_keeping_old"]

# Permission bits a replaced private key never keeps: group write, anything for others.
UNSAFE_MODE_BITS = stat.S_IWGRP | stat.S_IRWXO


class Target:
    """The file at ``path``: new, or replacing the one read there, kept as ``PATH.old``.

    ``old_data``/``old_stat``: what was read at ``path`` and its stat
    (after :func:`~mkcert.system.publish.file_to_replace` allowed it), or
    None when nothing is there and the file will be new.
    """

    def __init__(self, path: str, old_data: bytes | None = None,
                 old_stat: os.stat_result | None = None):
        if (old_data is None) != (old_stat is None):
            raise ValueError("a replaced file needs both what was read and its stat")
        self.path = path
        self.old_data, self.old_stat = old_data, old_stat
        self.keep = None if old_stat is None else kept_stat(old_stat)

    @property
    def is_new(self) -> bool:
        """True when no file is there: :meth:`publish` creates one."""
        return self.old_stat is None

    @property
    def old_path(self) -> str:
        """Where a replaced file's content is kept."""
        return old_path(self.path)

    @property
    def old_mode(self) -> int | None:
        """The permission bits of the file replaced; None for a new file."""
        return None if self.old_stat is None else stat.S_IMODE(self.old_stat.st_mode)

    @property
    def kept_mode(self) -> int | None:
        """The permission bits the replacement takes: the old ones, made safe."""
        return None if self.keep is None else stat.S_IMODE(self.keep.st_mode)

    @property
    def mode_changes(self) -> bool:
        """True when the replacement drops permission bits the old file had."""
        return self.old_mode != self.kept_mode

    def publish(self, data: bytes, run: Run, owner: Owner | None = None) -> None:
        """Make ``data`` the content of the file, as one step, in ``run``.

        A new file is created 0600 and given to ``owner``, and fails with
        :class:`~mkcert.errors.AlreadyExists` if a file appeared meanwhile;
        a replaced one keeps its owner, group and mode (``owner`` does not
        apply) and leaves its old content in :attr:`old_path`.
        """
        if self.is_new:
            publish_new(self.path, data, run, owner)
        else:
            replace_keeping_old(self.path, self.old_data, self.old_stat, data, self.keep, run)


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


def ensure_unchanged(path: str, before: os.stat_result | None) -> None:
    """Refuse (MkcertError) when ``path`` is no longer the file whose lstat was ``before``."""
    _ensure_unchanged(path, before)


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
