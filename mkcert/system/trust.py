"""Whether anyone but root or the running user could change what a file holds.

A private key given to ``--install`` is served as ours, and
``mkcert-install.conf`` says where private keys are written: either is only
as trustworthy as the least trusted account that could rewrite the file, or
rename another file into its place through any directory above it.  The
callers say what they refuse and why; this module only finds the account.
"""

from __future__ import annotations

import os
import pwd
import stat

from mkcert.errors import MkcertError, describe

__all__ = ["replaceable_by_others", "why_replaceable"]


def why_replaceable(path: str, st: os.stat_result | None = None) -> str | None:
    """Why someone other than root or us could change what ``path`` holds; or None.

    The file itself (``st``: its stat, following links) and every directory
    above it, both along the path as written and along the one its links
    resolve to (certbot's ``live/`` names are links into ``archive/``).
    """
    try:
        reason = replaceable_by_others(st or os.stat(path))
        if reason:
            return reason
        for directory in sorted({os.path.dirname(os.path.abspath(path)),
                                 os.path.dirname(os.path.realpath(path))}):
            while True:
                reason = replaceable_by_others(os.stat(directory), directory=True)
                if reason:
                    return f"is in {directory}, which {reason}"
                parent = os.path.dirname(directory)
                if parent == directory:
                    break
                directory = parent
    except OSError as exc:
        raise MkcertError(f"cannot examine {path}: {describe(exc)}") from None
    return None


def replaceable_by_others(st: os.stat_result, directory: bool = False) -> str | None:
    """Why someone other than root or the running user could change this file; or None.

    In a sticky directory (``/tmp``) others may create files but not replace ours.
    """
    if st.st_uid not in (0, os.geteuid()):
        return f"belongs to {_user_name(st.st_uid)}"
    if directory and st.st_mode & stat.S_ISVTX:
        return None
    mode = stat.S_IMODE(st.st_mode)
    if mode & stat.S_IWOTH:
        return f"is writable by others (mode {mode:04o})"
    if mode & stat.S_IWGRP and st.st_gid not in (0, os.getegid()):
        return f"is writable by its group (mode {mode:04o})"
    return None


def _user_name(uid):
    try:
        return f"user {pwd.getpwuid(uid).pw_name}"
    except KeyError:
        return f"uid {uid}"
