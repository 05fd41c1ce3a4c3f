"""Child processes that never outlive the run.

Key searches (:mod:`mkcert.x509.keys`) and safe-prime searches
(:mod:`mkcert.x509.dhparams`) run in child processes.  Ordinary exits and the
signals a run handles stop them explicitly; a parent killed with SIGKILL
runs no code at all, so each child must notice by itself:

* :class:`Lifeline` (key searches): a pipe whose write end only the parent
  holds.  The kernel closes it when the parent dies, however it dies, and a
  thread in each child that waits on the read end then ends the child.  It
  costs a pipe and a thread (well under a millisecond), where the
  alternative below costs each child an import of ctypes (3-5 ms of CPU,
  taken from the parent on a two-core machine that races two searches).
* :func:`die_with_parent` (safe-prime workers, and programs started with
  exec, where no thread of ours survives): the kernel's ``PR_SET_PDEATHSIG``.
"""

from __future__ import annotations

import _thread
import os
import signal

__all__ = ["Lifeline", "die_with_parent", "usable_cpus"]

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def usable_cpus() -> int:
    """CPUs this process may run on: its affinity mask, not the machine's total.

    A container or ``taskset`` limits the mask; workers beyond it only share
    the same cores and slow each other down.
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


class Lifeline:
    """One pipe shared by the children a parent forks; they end when it dies.

    Make it in the parent before forking; each child calls
    :meth:`hold_in_child` at once, and the parent :meth:`close` when its
    children are stopped.  Both ends are close-on-exec (``os.pipe``), so a
    program the parent executes meanwhile does not keep the children alive.
    """

    def __init__(self) -> None:
        self._reader, self._writer = os.pipe()

    def hold_in_child(self) -> None:
        """In a freshly forked child: exit at once when the parent is gone.

        The child drops its copy of the write end; from then on the read end
        reaches end of file exactly when the parent's copy is closed, by the
        parent's :meth:`close` or by the kernel as the parent dies (even
        before this call: a pipe with no writer left reads as end of file).
        A thread waits for that; the search itself runs in OpenSSL without
        the interpreter lock, so the thread runs at once.
        """
        os.close(self._writer)
        _thread.start_new_thread(_exit_at_end_of_file, (self._reader,))

    def close(self) -> None:
        """In the parent: let the children go (they exit if still running)."""
        for fd in (self._reader, self._writer):
            try:
                os.close(fd)
            except OSError:
                pass
        self._reader = self._writer = -1


def _exit_at_end_of_file(fd):
    try:
        while os.read(fd, 1):
            pass  # nobody writes; a byte would be a stray, not a death
    except OSError:
        pass
    os._exit(1)


def die_with_parent(parent_pid: int) -> None:
    """In a child: be SIGKILLed by the kernel when the parent dies, even by SIGKILL."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)
