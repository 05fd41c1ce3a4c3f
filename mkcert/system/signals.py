"""The signals that stop a run, and holding them off while a step must finish.

SIGINT, SIGTERM and SIGHUP (a terminal closed, an admin's kill, a package
script stopped) end a run; SIGKILL ends it without a word and is no one's to
handle.  Some steps must never be cut in two by them: creating a file and
recording it for clean-up, publishing it, forking a worker that must start
with the signals it will handle.  :class:`blocked_signals` holds the signals
for such a step, and they are delivered as soon as it ends.
"""

from __future__ import annotations

import signal

__all__ = ["HANDLED_SIGNALS", "blocked_signals"]

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class blocked_signals:
    """Hold SIGINT, SIGTERM and SIGHUP until the block ends (then they fire)."""

    def __enter__(self) -> set[signal.Signals]:
        """Returns the mask from before the block (a forked child restores it)."""
        self._old = signal.pthread_sigmask(signal.SIG_BLOCK, HANDLED_SIGNALS)
        return self._old

    def __exit__(self, *exc: object) -> bool:
        signal.pthread_sigmask(signal.SIG_SETMASK, self._old)
        return False
