"""Safe publication of secret files: nothing half-written, nothing readable by others.

The shell originals create an empty PEM first and fill it later, follow a
symlink planted at its name, and leave the empty file behind when anything
fails.  Here every file is written under a temporary name in the target
directory (created 0600 with O_EXCL|O_NOFOLLOW, so no symlink is followed and
no other file is reused), synced, and only then published in one step:

* :func:`publish_new` hard-links it to the final name, which fails if that
  name exists in any form, so of two concurrent runs exactly one wins;
* :func:`publish_replace` renames it over the final name (mkdhparams,
  ``--renew``), so readers see the old file or the new one, never a mix.

A :class:`Run` removes every file the run created when it fails or is
interrupted.  A run killed with SIGKILL runs no code at all: its
temporaries are recognised by the next run by their names (random, see
:func:`temporary_name`) and by the lock every live run holds on its own
(:func:`remove_stale_temporaries`).  This module knows nothing about X.509:
it moves bytes.
"""

from __future__ import annotations

import errno
import fcntl
import os
import pwd
import signal
import stat
import types

from mkcert.system import process
from mkcert.system.signals import HANDLED_SIGNALS, blocked_signals
from mkcert.errors import Interrupted, MkcertError, describe

__all__ = ["RAND_BYTES", "Owner", "Run", "copy_ownership", "file_to_replace", "final_name",
           "publish_new", "publish_replace", "remove_stale_temporaries", "sync_directory",
           "temporary_name", "write_rand_file", "write_temporary"]

RAND_BYTES = 512  # one `dd` block, as upstream writes
MAX_UID = 2**32 - 1  # (uid_t)-1 is "no change" to chown(2)
TEMPORARY_MARK = ".tmp."
SUFFIX_BYTES = 8  # 16 hex digits: no run, live or dead, ever draws another's name
CREATE_ATTEMPTS = 16
PID_MAX_LIMIT = 1 << 22  # the kernel's largest PID (/proc/sys/kernel/pid_max)
MAIL_USER_HINT = "choose another with -u USER or COURIER_MAILUSER"


class Owner:
    """The mail user the files are given to (upstream's ``chown mailuser``).

    Only the user is changed, like ``chown courier`` and ``install -o courier``
    in the originals: the group stays the creator's, and Debian's postinst
    sets root:courier afterwards.
    """

    def __init__(self, name: str, uid: int, gid: int):
        self.name, self.uid, self.gid = name, uid, gid

    @classmethod
    def lookup(cls, name: str) -> Owner:
        """Resolve a user name (or numeric uid); fail before any file exists."""
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            # A bare uid, as chown accepts; (uid_t)-1 would mean "leave the
            # owner alone" to fchown, and larger values do not fit a uid_t.
            # Not readers.number.whole_number, the project's one parser of
            # whole numbers: system is below readers and may not import it.
            if name.isascii() and name.isdigit():
                # By length first: int() refuses thousands of digits (ValueError).
                if len(name.lstrip("0")) > len(str(MAX_UID)) or int(name) >= MAX_UID:
                    raise MkcertError(f"mail user {name!r} is not a valid user id "
                                      f"(at most {MAX_UID - 1}); {MAIL_USER_HINT}") from None
                return cls(name, int(name), -1)
            raise MkcertError(f"unknown mail user {name!r}: no such user in the passwd "
                              f"database; {MAIL_USER_HINT}") from None
        return cls(name, entry.pw_uid, entry.pw_gid)

    def apply(self, fd: int, path: str) -> None:
        """Give the open file ``fd`` (to be published as ``path``) to this user."""
        if os.fstat(fd).st_uid == self.uid:
            return
        try:
            os.fchown(fd, self.uid, -1)
        except OSError as exc:
            raise MkcertError(f"cannot give {path} to user {self.name}: {describe(exc)}") from None


class Run:
    """One run's files and signals: umask 077, cleanup on any failure.

    Inside ``with Run() as run:`` SIGINT, SIGTERM and SIGHUP raise
    :class:`~mkcert.errors.Interrupted`, so the ordinary unwinding removes the
    run's files.  Files registered with :meth:`created` are removed on failure
    (and temporary ones on success too) only if they are still the very file
    this run made (same device and inode), so nothing planted meanwhile at the
    same name is ever deleted.  The run keeps each of them open, and locked
    (see :func:`remove_stale_temporaries`), until it removes or publishes it.

    Once the run has published its result the exit status must say so: from
    then on the signals are ignored, inside the run and, in the command's
    own process (:mod:`mkcert.system.process`), until it exits.  Code calling in
    (the tests) gets its handlers back.
    """

    def __init__(self) -> None:
        self.published = False
        self._files = {}  # path -> (st_dev, st_ino, open descriptor)
        self._saved_handlers = {}
        self._saved_umask = None

    def __enter__(self) -> Run:
        self._saved_umask = os.umask(0o077)
        for signum in HANDLED_SIGNALS:
            if signal.getsignal(signum) == signal.SIG_IGN:
                # Ignored when we started (nohup, a background job of a
                # script): whoever started us asked for the run to go on.
                continue
            self._saved_handlers[signum] = signal.signal(signum, self._interrupt)
        return self

    def _interrupt(self, signum, frame):
        # Once the new file is published the run has done its work: exit
        # status 0 must mean "published", so what is left (removing the
        # seed, printing) finishes instead of turning success into failure.
        if not self.published:
            raise Interrupted(signum)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: object) -> bool:
        # No signal may cut the cleanup short.
        with blocked_signals():
            if exc_type is not None:
                self.remove_all()
            for path in list(self._files):
                self.forget(path)
            finished = self.published and exc_type is None and process.is_command()
            for signum, handler in self._saved_handlers.items():
                # The command only reports and exits now: a signal pending or
                # still to come must not make that exit 143 (or 1).
                signal.signal(signum, signal.SIG_IGN if finished else handler)
            os.umask(self._saved_umask)
        return False

    def created(self, path: str, fd: int) -> None:
        """Record ``path``, open as ``fd``, as this run's; the run closes ``fd``."""
        st = os.fstat(fd)
        self._files[path] = (st.st_dev, st.st_ino, fd)

    def renamed(self, old: str, new: str) -> None:
        """The run's file ``old`` is now called ``new`` (still open and locked)."""
        self._files[new] = self._files.pop(old)

    def forget(self, path: str) -> None:
        """Let ``path`` be (it has been published); close it."""
        entry = self._files.pop(path, None)
        if entry is not None:
            _close(entry[2])

    def remove(self, path: str) -> None:
        """Unlink ``path`` if it is still the file this run created."""
        entry = self._files.pop(path, None)
        if entry is None:
            return
        try:
            st = os.lstat(path)
            if (st.st_dev, st.st_ino) == entry[:2]:
                os.unlink(path)
        except OSError:
            pass
        finally:
            _close(entry[2])  # after the unlink: no clean-up ever sees it unlocked

    def remove_all(self) -> None:
        """Unlink every file this run made that is still there (a failed run)."""
        for path in list(self._files):
            self.remove(path)


def _close(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def temporary_name(path: str) -> str:
    """A fresh temporary name beside ``path``: ``PATH.tmp.`` and 16 random hex digits.

    Random, not the PID as before: in a PID namespace (every container) the
    command has the same PID in every run, so one killed run's file took
    the name of every later run for good.
    """
    return f"{path}{TEMPORARY_MARK}{os.urandom(SUFFIX_BYTES).hex()}"


def _cannot(action, path, exc):
    """``cannot create imapd.pem in /etc/courier: ...``: the user's names, never a temporary's."""
    directory, name = os.path.split(path)
    reason = {errno.ENOENT: "no such directory",
              errno.ENOTDIR: "not a directory"}.get(exc.errno) or describe(exc)
    return MkcertError(f"cannot {action} {name} in {directory or os.curdir}: {reason}")


def _create_temporary(path, run):
    """A new temporary file for ``path``, created, locked and recorded: (name, fd).

    A name that exists already (something planted, or an astronomically
    unlikely draw) is never touched: another name is drawn.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    for _ in range(CREATE_ATTEMPTS):
        temp = temporary_name(path)
        # The file and the run's record of it come into being together: a
        # signal between the two would leave a file that no cleanup knows about.
        with blocked_signals():
            try:
                fd = os.open(temp, flags, 0o600)
            except FileExistsError:
                continue
            except OSError as exc:
                raise _cannot("create", path, exc) from None
            if _lock_new_file(fd, temp):
                run.created(temp, fd)
                return temp, fd
            os.close(fd)
    raise MkcertError(f"cannot create {os.path.basename(path)} in "
                      f"{os.path.dirname(path) or os.curdir}: every temporary name drawn was taken")


def _lock_new_file(fd, temp):
    """Lock the file just created; False if a clean-up took it in that instant.

    Between the creation and the lock another run's
    :func:`remove_stale_temporaries` may find the file unlocked, lock it and
    remove it: then the name is gone, or the lock is theirs.
    """
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        pass  # a file system without locks: the run works, unprotected
    try:
        st, mine = os.lstat(temp), os.fstat(fd)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == (mine.st_dev, mine.st_ino)


def final_name(temp: str) -> str:
    """The name a temporary from :func:`temporary_name` is for (what errors name)."""
    return temp.rpartition(TEMPORARY_MARK)[0]


def _write_all(fd, data, temp, durable=True):
    view = memoryview(data)
    try:
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if durable:
            os.fsync(fd)
    except OSError as exc:
        raise _cannot("write", final_name(temp), exc) from None


def write_temporary(path: str, data: bytes, run: Run, owner: Owner | None = None,
                    mode: int = 0o600, durable: bool = True) -> str:
    """Write ``data`` to a fresh temporary file beside ``path``; return its name.

    The file is 0600 from its first instant (and given to ``owner`` before a
    byte is written), then set to ``mode`` once complete.  ``durable``: on
    disk (fsync) before it is published; only a file the run deletes again
    may skip that.  The run holds it open and locked until it is published
    or removed.
    """
    temp, fd = _create_temporary(path, run)
    if owner is not None:
        owner.apply(fd, path)
    _write_all(fd, data, temp, durable)
    if mode != 0o600:
        try:
            os.fchmod(fd, mode)
        except OSError as exc:
            raise MkcertError(f"cannot set the mode of {path}: {describe(exc)}") from None
    return temp


def publish_new(path: str, data: bytes, run: Run, owner: Owner | None = None,
                mode: int = 0o600) -> None:
    """Create ``path`` holding ``data``; fail with AlreadyExists-like error if it exists.

    ``mode``: the new file's, once complete (0600 until then; a CA
    certificate is 0644).  Returns normally only once ``path`` is complete
    and durable.
    """
    from mkcert.errors import AlreadyExists

    temp = write_temporary(path, data, run, owner, mode)
    with blocked_signals():
        try:
            os.link(temp, path)
            run.published = True
        except FileExistsError:
            raise AlreadyExists(path) from None
        except OSError as exc:
            raise _cannot("create", path, exc) from None
        finally:
            run.remove(temp)
    sync_directory(path)


def publish_replace(path: str, data: bytes, run: Run, owner: Owner | None = None,
                    mode: int = 0o600,
                    stat_from: os.stat_result | types.SimpleNamespace | None = None,
                    final: bool = True) -> None:
    """Atomically replace ``path`` (or create it) with ``data``.

    ``stat_from``: an ``os.stat_result`` whose mode, owner and group the new
    file takes (``--renew`` keeps what Debian's postinst set).  ``final``:
    this file is the run's result (not a side copy such as ``.old``), so
    the run counts as done once it is in place.
    """
    temp = write_temporary(path, data, run, owner, mode)
    if stat_from is not None:
        copy_ownership(temp, stat_from, path)
    with blocked_signals():
        try:
            os.rename(temp, path)
        except OSError as exc:
            raise MkcertError(f"cannot replace {path}: {describe(exc)}") from None
        run.forget(temp)
        run.published = run.published or final
    sync_directory(path)


_KINDS = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"),
          (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
          (stat.S_ISSOCK, "a socket"))


def file_to_replace(path: str, doing: str, advice: str = "", *,
                    links_replaced: bool = False) -> os.stat_result | None:
    """The ``lstat`` of the file at ``path`` about to be replaced; None if missing.

    Anything but a regular file is refused: a device, a FIFO or a directory
    at that name is not ours to turn into a file.  ``doing`` names the
    action ("renewing").  By default links are refused too, since replacing
    the name detaches it from what shares the file, and the other names
    keep the old content -- an expiring certificate -- without a word:

    * a symbolic link (writing through it is what the shell originals got
      wrong); ``advice`` says what to do instead;
    * a regular file with other hard links.  Those our own killed runs left
      (a temporary name still linked to the PEM they published) are removed
      first, as they are whenever a run finds them.

    ``links_replaced`` (mkdhparams, like upstream's ``mv -f``): the name is
    replaced whatever it is a link to, and the lstat of the link is returned.
    """
    st = _lstat_or_none(path)
    if st is None:
        return None
    if stat.S_ISLNK(st.st_mode):
        if links_replaced:
            return st
        raise MkcertError(f"{path} is a symbolic link (to {os.readlink(path)}); "
                          f"not {doing} through it: {advice}")
    if not stat.S_ISREG(st.st_mode):
        kind = next((name for test, name in _KINDS if test(st.st_mode)), "not a file")
        raise MkcertError(f"{path} is {kind}, not a regular file; not {doing} it")
    if st.st_nlink > 1 and not links_replaced:
        remove_stale_temporaries(path)
        st = _lstat_or_none(path)
        if st is not None and st.st_nlink > 1:
            others = st.st_nlink - 1
            raise MkcertError(
                f"{path} has {st.st_nlink} hard links; not {doing} it, since the other "
                f"{'name' if others == 1 else f'{others} names'} would keep the old file: "
                f"remove {'it' if others == 1 else 'them'} first (find / -xdev -samefile "
                f"{path} lists every name)")
    return st


def _lstat_or_none(path):
    try:
        return os.lstat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise MkcertError(f"cannot examine {path}: {describe(exc)}") from None


def copy_ownership(temp: str, st: os.stat_result | types.SimpleNamespace, path: str) -> None:
    """Give ``temp`` (the temporary for ``path``) the owner, group and mode in ``st``."""
    try:
        os.chown(temp, st.st_uid, st.st_gid, follow_symlinks=False)
        os.chmod(temp, stat.S_IMODE(st.st_mode))
    except OSError as exc:
        raise MkcertError(f"cannot set owner and mode of {path}: {describe(exc)}") from None


def sync_directory(path: str) -> None:
    """Make the new directory entry durable; best effort (not every fs allows it)."""
    try:
        fd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_rand_file(path: str, run: Run) -> None:
    """Upstream's ``dd if=/dev/urandom of=PEMFILE.rand count=1``, done safely.

    The seed is written under a temporary name and renamed into place, so a
    symlink or stale file at ``path`` is replaced, never written through.
    The run removes it again on every exit path, so it is not synced to
    disk: after a crash the next run replaces it in the same way.

    Only this file, which the run creates and removes, is ever written: a
    ``RANDFILE`` line of the config is not honoured.  OpenSSL rewrites that
    file at exit, but the key comes from the OS RNG, nothing needs the
    file, and it may be anything (another service's PEM, the config itself).
    """
    temp = write_temporary(path, os.urandom(RAND_BYTES), run, durable=False)
    with blocked_signals():  # renamed and recorded as one step (see _create_temporary)
        try:
            os.rename(temp, path)
        except OSError as exc:
            raise _cannot("create", path, exc) from None
        run.renamed(temp, path)


def remove_stale_temporaries(path: str) -> None:
    """Delete the temporaries of ``path`` that killed runs left behind, and nothing else.

    A temporary of ours has a name :func:`temporary_name` makes (or
    ``PATH.tmp.PID``, as versions before this one named them) and is a
    regular file.  Every live run holds an exclusive ``flock`` on each of
    its own temporaries from the instant it exists, and the kernel drops
    the lock however the run ends, so one that nobody holds belongs to a
    dead run -- whichever PID namespace (container sharing the directory)
    it ran in, and whoever owns it now (the mail user, to whom a run gives
    the PEM's temporary before writing the key).  The old PID names were
    never locked: they count as dead when no other process has that PID here.
    """
    directory, base = os.path.split(os.path.abspath(path))
    prefix = base + TEMPORARY_MARK
    try:
        names = os.listdir(directory)
    except OSError:
        return
    for name in names:
        if name.startswith(prefix) and _is_dead_runs_name(name[len(prefix):]):
            _remove_if_unlocked(os.path.join(directory, name))


def _is_dead_runs_name(suffix):
    if suffix.isascii() and suffix.isdigit():  # a PID, from a version before random names
        if len(suffix) > 7 or int(suffix) >= PID_MAX_LIMIT:
            return False
        # Our own PID is a dead run's: this run never makes such names, and
        # in a PID namespace a killed run had the very PID every later one gets.
        return int(suffix) == os.getpid() or not _process_exists(int(suffix))
    return len(suffix) == 2 * SUFFIX_BYTES and all(c in "0123456789abcdef" for c in suffix)


def _remove_if_unlocked(path):
    try:
        st = os.lstat(path)
    except OSError:
        return
    if not stat.S_ISREG(st.st_mode):  # never opened: a device's open may act
        return
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        opened = os.fstat(fd)
        if (opened.st_dev, opened.st_ino) != (st.st_dev, st.st_ino):
            return
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while a live run holds it
        now = os.lstat(path)
        if (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
            os.unlink(path)
    except OSError:
        pass
    finally:
        os.close(fd)


def _process_exists(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True
