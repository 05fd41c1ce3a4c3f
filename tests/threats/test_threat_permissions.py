"""Threat: the private key readable by group or others, even for an instant.

Two independent witnesses watch every file a run makes in the directory:

* inotify (through ctypes): on each IN_CREATE / IN_MOVED_TO / IN_ATTRIB /
  IN_CLOSE_WRITE event the file is lstat'ed at once and its mode recorded;
* strace (when installed and allowed): every open/creat/link/rename/chmod/
  chown/umask call, checked for O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, a
  prior umask(077), no mode ever widened, and the owner set before the
  first byte.

Both run with the caller's umask at 000, the worst case.
"""

import ctypes
import ctypes.util
import os
import re
import select
import shutil
import stat
import struct
import subprocess
import sys
import threading

import pytest

from conftest import BIN
from test_threat_helpers import install_imapd, load_whole_pem

IN_ATTRIB = 0x00000004
IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_NONBLOCK = 0o4000
EVENT = struct.Struct("iIII")


class Inotify:
    """A minimal inotify watcher that lstat's each new or changed name at once."""

    def __init__(self, directory):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.fd = libc.inotify_init1(IN_NONBLOCK)
        if self.fd < 0:
            pytest.skip(f"inotify unavailable: {os.strerror(ctypes.get_errno())}")
        mask = IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_CLOSE_WRITE
        if libc.inotify_add_watch(self.fd, os.fsencode(directory), mask) < 0:
            pytest.skip(f"inotify_add_watch failed: {os.strerror(ctypes.get_errno())}")
        self.directory = directory
        self.seen = []  # (event mask, name, st_mode or None, st_uid)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while True:
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                if self.stop.is_set():
                    return
                continue
            try:
                buffer = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            offset = 0
            while offset < len(buffer):
                _, mask, _, length = EVENT.unpack_from(buffer, offset)
                raw = buffer[offset + EVENT.size:offset + EVENT.size + length]
                name = raw.rstrip(b"\0").decode()
                offset += EVENT.size + length
                try:
                    st = os.lstat(os.path.join(self.directory, name))
                    self.seen.append((mask, name, st.st_mode, st.st_uid))
                except FileNotFoundError:
                    self.seen.append((mask, name, None, None))

    def close(self):
        self.stop.set()
        self.thread.join()
        os.close(self.fd)


def _umask_000():
    os.umask(0)


def _assert_never_exposed(seen):
    assert seen, "inotify saw nothing"
    for mask, name, st_mode, _ in seen:
        if st_mode is None:
            continue  # gone before we looked: renamed or removed
        assert stat.S_ISREG(st_mode), (name, oct(st_mode))
        assert stat.S_IMODE(st_mode) & 0o077 == 0, f"{name} was {oct(st_mode)} (event {mask:#x})"


@pytest.mark.parametrize("program", ["mkimapdcert", "mkesmtpdcert"])
def test_inotify_sees_every_file_private_from_its_creation(layout, program):
    name = program[2:-4]
    install_imapd(layout, name=name)
    env = dict(layout.env, BITS="512")  # esmtpd: small DH parameters
    watcher = Inotify(str(layout.certsdir))
    try:
        process = subprocess.run([sys.executable, os.path.join(BIN, program), "-q"], env=env,
                                 capture_output=True, text=True, timeout=120,
                                 preexec_fn=_umask_000)
    finally:
        watcher.close()
    assert process.returncode == 0, process.stderr
    _assert_never_exposed(watcher.seen)
    created = {n for m, n, _, _ in watcher.seen if m & (IN_CREATE | IN_MOVED_TO)}
    assert f"{name}.pem" in created and f"{name}.rand" in created, created
    assert any(n.startswith(f"{name}.pem.tmp.") for n in created), created
    assert any(n.startswith(f"{name}.rand.tmp.") for n in created), created
    assert layout.listing() == [f"{name}.pem"]
    load_whole_pem(layout.certsdir / f"{name}.pem")


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_inotify_file_given_to_mail_user_stays_private(layout):
    install_imapd(layout)
    watcher = Inotify(str(layout.certsdir))
    try:
        result = layout.command("mkimapdcert", "-q", "-u", "daemon")
    finally:
        watcher.close()
    assert result.returncode == 0, result.stderr
    _assert_never_exposed(watcher.seen)
    import pwd
    daemon = pwd.getpwnam("daemon").pw_uid
    owners = {uid for _, n, _, uid in watcher.seen if n.startswith("imapd.pem") and uid is not None}
    assert daemon in owners
    assert os.stat(layout.certsdir / "imapd.pem").st_uid == daemon


def test_inotify_mkdhparams_files_private_from_creation(layout):
    env = dict(layout.env, COURIER_SSLLIB="openssl", DH_BITS="512",
               TLS_DHPARAMS=str(layout.certsdir / "dhparams.pem"))
    watcher = Inotify(str(layout.certsdir))
    try:
        result = subprocess.run([sys.executable, os.path.join(BIN, "mkdhparams")], env=env,
                                capture_output=True, text=True, timeout=120,
                                preexec_fn=_umask_000)
    finally:
        watcher.close()
    assert result.returncode == 0, result.stderr
    _assert_never_exposed(watcher.seen)
    assert layout.listing() == ["dhparams.pem"]


# --- strace -----------------------------------------------------------------

def _strace_or_skip():
    strace = shutil.which("strace")
    if strace is None:
        pytest.skip("strace is not installed (apt-get install strace)")
    probe = subprocess.run([strace, "-qq", "-o", "/dev/null", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"strace cannot trace here: {probe.stderr.decode().strip()}")
    return strace


SYSCALLS = ("open,openat,creat,link,linkat,rename,renameat,renameat2,chmod,fchmod,fchmodat,"
            "chown,fchown,fchownat,lchown,umask,write,close")
CALL = re.compile(r"^(?P<name>\w+)\((?P<args>.*)\)\s+=\s+(?P<ret>-?\d+|\?)")


def _trace(layout, strace, *args, program="mkimapdcert", env=None):
    """Run the command under strace; its calls as (tid, name, args, result), in order.

    One log per thread (``-ff``): with one shared log, a call made while
    another process runs (the seed file is written during the key search)
    is split into "unfinished" and "resumed" lines and would be missed.
    Each file is in time order; the threads' files are read one after the
    other, which keeps every order the test relies on (within one thread).
    """
    base = layout.certsdir.parent / "strace.log"
    command = [strace, "-ff", "-qq", "-s", "256", "-e", f"trace={SYSCALLS}", "-o", str(base),
               sys.executable, os.path.join(BIN, program), *args]
    result = subprocess.run(command, env=env or layout.env, capture_output=True, text=True,
                            timeout=180, preexec_fn=_umask_000)
    calls = []
    logs = sorted(base.parent.glob("strace.log.*"), key=lambda p: int(p.suffix[1:]))
    for log in logs:
        tid = int(log.suffix[1:])
        for line in log.read_text().splitlines():
            match = CALL.match(line)
            if match:
                calls.append((tid, match["name"], match["args"], match["ret"]))
    return result, calls


@pytest.mark.parametrize("user", ["self", "daemon"])
def test_strace_creation_flags_modes_and_owner_order(layout, user):
    strace = _strace_or_skip()
    if user == "daemon" and os.geteuid() != 0:
        pytest.skip("giving a file away needs root")
    install_imapd(layout)
    args = ["-q"] + (["-u", "daemon"] if user == "daemon" else [])
    result, calls = _trace(layout, strace, *args)
    assert result.returncode == 0, result.stderr
    certs = str(layout.certsdir)
    umask_seen = False
    created = {}  # (pid, fd) -> path
    owned = set()
    creations = 0
    for pid, name, args, ret in calls:
        if name == "umask":
            umask_seen = umask_seen or args.strip() == "077"
        elif name in ("open", "openat", "creat") and certs in args and ret != "?" and int(ret) >= 0:
            if "O_CREAT" in args or name == "creat":
                creations += 1
                assert umask_seen, f"file created before umask(077): {args}"
                for flag in ("O_EXCL", "O_NOFOLLOW", "O_CLOEXEC"):
                    assert flag in args, (flag, args)
                assert args.rstrip().endswith("0600"), args
                created[(pid, int(ret))] = args
        elif name in ("chmod", "fchmod", "fchmodat"):
            mode_text = args.rsplit(",", 1)[-1].strip()
            target = args if name != "fchmod" else created.get((pid, int(args.split(",")[0])), "")
            if certs in target:
                assert int(mode_text, 8) & 0o077 == 0, f"mode widened: {name}({args})"
        elif name == "fchown":
            owned.add((pid, int(args.split(",")[0])))
        elif name == "write":
            fd = int(args.split(",")[0])
            if (pid, fd) in created and user == "daemon" and ".pem.tmp." in created[(pid, fd)]:
                assert (pid, fd) in owned, "a byte of the key was written before the chown"
        elif name == "close" and args.strip().isdigit():
            key = (pid, int(args))
            created.pop(key, None)
            owned.discard(key)
    assert creations >= 2  # the seed and the PEM, at least
    # Nothing is created anywhere else (no stray temporary in TMPDIR or the
    # current directory); Python's own bytecode cache aside.
    elsewhere = [args for _, name, args, ret in calls
                 if name in ("open", "openat", "creat") and ("O_CREAT" in args or name == "creat")
                 and certs not in args and ".pyc" not in args and "/dev/" not in args]
    assert elsewhere == [], elsewhere
    links = [c for c in calls if c[1] in ("link", "linkat") and certs in c[2]]
    assert len(links) == 1 and links[0][3] == "0", links  # published by one link
    assert layout.listing() == ["imapd.pem"]


def test_strace_mkdhparams_creation_flags(layout):
    strace = _strace_or_skip()
    env = dict(layout.env, COURIER_SSLLIB="openssl", DH_BITS="512",
               TLS_DHPARAMS=str(layout.certsdir / "dhparams.pem"))
    result, calls = _trace(layout, strace, "--jobs", "1", program="mkdhparams", env=env)
    assert result.returncode == 0, result.stderr
    certs = str(layout.certsdir)
    opens = [c for c in calls if c[1] in ("open", "openat", "creat") and certs in c[2]
             and "O_CREAT" in c[2]]
    assert opens
    for _, _, args, _ in opens:
        assert "O_EXCL" in args and "O_NOFOLLOW" in args and args.rstrip().endswith("0600"), args


def test_inotify_renewal_never_widens_beyond_the_kept_mode(layout):
    """--renew keeps the PEM's mode (0640 after Debian's postinst), never more."""
    install_imapd(layout)
    pem = layout.certsdir / "imapd.pem"
    assert layout.command("mkimapdcert", "-q").returncode == 0
    os.chmod(pem, 0o644)  # an admin's mistake: renewal must not carry "others" over
    watcher = Inotify(str(layout.certsdir))
    try:
        result = subprocess.run([sys.executable, os.path.join(BIN, "mkimapdcert"), "-q",
                                 "--renew", "--force"], env=layout.env, capture_output=True,
                                text=True, timeout=120, preexec_fn=_umask_000)
    finally:
        watcher.close()
    assert result.returncode == 0, result.stderr
    assert watcher.seen
    for mask, name, st_mode, _ in watcher.seen:
        if st_mode is None:
            continue
        bits = stat.S_IMODE(st_mode)
        assert bits & 0o007 == 0, f"{name} was {oct(bits)} (event {mask:#x})"
        if not name.startswith("imapd.pem.tmp.") and name != "imapd.pem":
            assert bits & 0o077 == 0, f"{name} was {oct(bits)} (event {mask:#x})"
    assert stat.S_IMODE(os.stat(pem).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(f"{pem}.old").st_mode) == 0o600
