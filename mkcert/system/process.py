"""The command's own process: standard streams that cannot fail it, and its end.

Only the entry points (:func:`mkcert.cli.main.run`, :func:`mkcert.cli.dhparams.run`) call
:func:`start_command`.  In such a process a :class:`mkcert.system.publish.Run`
that has published its result leaves SIGINT, SIGTERM and SIGHUP ignored
until the exit (:func:`is_command`), so exit status 0 stays the answer
while the command reports.  The same code called in-process (by the
tests) keeps the interpreter's streams and gets its handlers back.

The exit status says what happened to the files, never what happened to
the messages: package scripts run the commands under ``set -e``, sometimes
with a stream closed (``>&-``) or on a full disk.  So:

* a standard descriptor that is closed at start gets /dev/null, so that no
  file the run opens can become descriptor 1 or 2 and take its output;
* output that cannot be written (a full disk, a reader that went away) is
  dropped, and the first such failure on standard output is said once on
  standard error, if that can take it.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable

__all__ = ["end", "is_command", "run_command", "start_command"]

_state = {"program": None}


def run_command(program: str, main: Callable[[], int]) -> None:
    """Run ``main`` as the command ``program`` and exit with its status; never returns."""
    start_command(program)
    try:
        status = main()
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        status = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    end(status)


def start_command(program: str) -> None:
    """Make this process the command ``program``; before anything is printed."""
    _state["program"] = program
    _usable_descriptor(0, sys.__stdin__)  # only so that no file of ours becomes descriptor 0
    encoding = _encoding()
    sys.stdout = _Unfailing(_usable_descriptor(1, sys.__stdout__), encoding, "standard output")
    sys.stderr = _Unfailing(_usable_descriptor(2, sys.__stderr__), encoding, None)


def is_command() -> bool:
    """True once :func:`start_command` ran: the process ends when its run does."""
    return _state["program"] is not None


def end(status: int) -> None:
    """Leave at once, without interpreter and OpenSSL teardown; never returns.

    By now every file is complete and synced (or removed after a failure).
    Skipping the teardown saves about 15 ms with cryptography loaded, and
    after a signal it is a matter of safety: a key search may still run
    inside OpenSSL in a worker thread, and tearing down libcrypto under it
    crashes the process (SIGSEGV, seen with Debian's shared libcrypto).
    """
    for stream in (sys.stdout, sys.stderr):  # buffered only when not the command
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):
            pass
    os._exit(status)


def _usable_descriptor(fd, stream):
    """``fd`` if it is the stream the interpreter found at start; None to write nowhere.

    A descriptor closed at start is put on /dev/null; if that fails, or
    if something else holds the number by now, output meant for it is
    dropped rather than written into whatever file has that number.
    """
    if stream is not None:
        return fd
    try:
        os.fstat(fd)
        return None
    except OSError:
        pass
    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return None
    if null != fd:
        os.dup2(null, fd)
        os.close(null)
    else:
        os.set_inheritable(fd, True)
    return fd


def _encoding():
    for stream in (sys.__stdout__, sys.__stderr__):
        if stream is not None and stream.encoding:
            return stream.encoding
    return "utf-8"


class _Unfailing(io.TextIOBase):
    """A standard stream whose writes go straight to the descriptor and never raise.

    Unbuffered, so nothing is left to flush (and fail) at exit, and the
    order of stdout and stderr lines is the order they were printed in.
    """

    def __init__(self, fd, encoding, name):
        super().__init__()
        self._fd = fd
        self._encoding = encoding
        self._name = name  # said in the warning when writing fails; None: say nothing

    def write(self, text):
        if self._fd is not None and text:
            try:
                _write_all(self._fd, text.encode(self._encoding, "backslashreplace"))
            except OSError as exc:
                self._fd = None  # the rest would fail the same way
                self._lost(exc)
        return len(text)

    def _lost(self, exc):
        if self._name is not None and sys.stderr is not self:
            print(f"{_state['program']}: warning: cannot write to {self._name}: "
                  f"{exc.strerror or exc}", file=sys.stderr)

    def writable(self):
        return True

    def isatty(self):
        return self._fd is not None and os.isatty(self._fd)

    def fileno(self):
        if self._fd is None:
            raise io.UnsupportedOperation("this stream writes nowhere")
        return self._fd

    @property
    def encoding(self):
        return self._encoding


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]
