"""Reading a whole file within a bound: the one way mkcert reads what it is given.

A config, a PEM to check, renew or replace, the key and certificates given
to ``--install``: at any of those names the admin, or someone else, may
have put what is not a file to read whole, such as a FIFO that nobody
writes (reading it would hang), a device (``/dev/zero`` never ends), a
directory, or a file larger than any real one.  So a file is opened without
blocking (``O_NONBLOCK``), judged on the open descriptor (what is judged is
what is read, whatever is renamed meanwhile), refused unless it is a regular
file, and read up to a limit.

Each caller words its own messages.  The refusals here are OSErrors whose
text reads well after "cannot read PATH: ", and they carry what a caller
needs to say more.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable

__all__ = ["FileTooLarge", "NotRegularFile", "read_regular_file",
           "read_regular_file_with_stat"]

_NEXT_CHUNK = 1 << 16


class NotRegularFile(OSError):
    """Not a regular file at the name, so not read; ``errno`` is EISDIR for a directory."""


class FileTooLarge(OSError):
    """The file holds more than ``limit`` bytes; ``stat`` is the file's ``fstat``."""

    def __init__(self, limit: int, st: os.stat_result):
        super().__init__(errno.EFBIG, f"larger than {limit} bytes")
        self.limit, self.stat = limit, st


def read_regular_file(path: str, limit: int, *, follow_symlinks: bool = True,
                      vet: Callable[[os.stat_result], None] | None = None) -> bytes:
    """The bytes of the regular file at ``path``, at most ``limit`` of them.

    See :func:`read_regular_file_with_stat`, which also returns the file's stat.
    """
    return read_regular_file_with_stat(path, limit, follow_symlinks=follow_symlinks,
                                       vet=vet)[0]


def read_regular_file_with_stat(
        path: str, limit: int, *, follow_symlinks: bool = True,
        vet: Callable[[os.stat_result], None] | None = None,
) -> tuple[bytes, os.stat_result]:
    """The bytes of the regular file at ``path`` and its ``fstat``; never blocks.

    Raises OSError: whatever ``open`` or ``read`` raise (FileNotFoundError,
    and ELOOP for a symbolic link when ``follow_symlinks`` is false),
    :class:`NotRegularFile` for anything else than a regular file, and
    :class:`FileTooLarge` for more than ``limit`` bytes.  ``vet`` is called
    with the stat of the open file before a byte is read, and may raise to
    refuse it (``--install`` refuses a key that others could replace).
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise NotRegularFile(errno.EISDIR, "it is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(errno.EINVAL, "not a regular file")
        if vet is not None:
            vet(st)
        data = _read_up_to(fd, limit + 1, st.st_size)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise FileTooLarge(limit, st)
    return data, st


def _read_up_to(fd, limit, expected):
    """At most ``limit`` bytes, in reads the size of what is there.

    One read of ``limit`` bytes would allocate the whole limit first: 64 MiB
    for a 500-byte config, which fails where address space is limited
    (``ulimit -v``).  The file's size comes first (plus one byte to see its
    end); more only if it grew, or is one of those files whose size says 0.
    """
    chunks, total = [], 0
    size = min(expected, limit - 1) + 1
    while total < limit:
        chunk = os.read(fd, min(size, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        size = _NEXT_CHUNK
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
