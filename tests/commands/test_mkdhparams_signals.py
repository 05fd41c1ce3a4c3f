"""mkdhparams under signals: nothing left behind, no process outlives it; progress only on a terminal."""

import os
import pty
import signal
import stat
import subprocess
import sys
import time

import pytest

from conftest import BIN
from test_mkdhparams import DAY, age_file, environment, leftovers, mkdhparams, one_error_line, start

LONG_BITS = "4096"  # a 4096-bit safe prime takes minutes: the run is surely still searching


def children(pid):
    """Live (non-zombie) processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry))
    return found


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_for(condition, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def running_search(tmp_path, jobs=2):
    """Start a long openssl-flavour run over an old file; wait until its workers search."""
    old = tmp_path / "dhparams.pem"
    old.write_bytes(b"old parameters")
    age_file(old, 40 * DAY)
    proc = start(tmp_path, "--jobs", str(jobs), DH_BITS=LONG_BITS)
    seed = tmp_path / "dhparams.pem.rand.tmp"
    assert wait_for(lambda: seed.exists() and len(children(proc.pid)) == jobs), proc
    return proc, children(proc.pid)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_signal_stops_everything_and_leaves_nothing(tmp_path, signum):
    proc, workers = running_search(tmp_path)
    seed = tmp_path / "dhparams.pem.rand.tmp"
    st = seed.lstat()  # upstream's seed: 512 random bytes, 0600, during the search only
    assert st.st_size == 512 and stat.S_IMODE(st.st_mode) == 0o600
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=20)
    result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    assert signal.Signals(signum).name in one_error_line(result)
    assert not any(alive(pid) for pid in workers)
    assert (tmp_path / "dhparams.pem").read_bytes() == b"old parameters"
    assert leftovers(tmp_path) == []


def test_sigkill_of_the_parent_kills_the_workers(tmp_path):
    proc, workers = running_search(tmp_path)
    proc.kill()
    proc.wait()
    assert wait_for(lambda: not any(alive(pid) for pid in workers), timeout=10)
    # A SIGKILL cannot be cleaned up after; the next run does it.
    assert (tmp_path / "dhparams.pem").read_bytes() == b"old parameters"
    result = mkdhparams(tmp_path, "--force")
    assert result.returncode == 0, result.stderr
    assert leftovers(tmp_path) == []


def test_workers_are_reaped_after_success(tmp_path):
    proc = start(tmp_path, "--jobs", "2", DH_BITS="1024")
    seen = set()
    while proc.poll() is None:
        seen.update(children(proc.pid))
        time.sleep(0.01)
    assert proc.returncode == 0
    assert not any(alive(pid) for pid in seen)


def certtool_children(pid):
    names = []
    for child in children(pid):
        try:
            with open(f"/proc/{child}/comm") as f:
                names.append((child, f.read().strip()))
        except OSError:
            pass
    return [child for child, name in names if name == "certtool"]


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL"])
def test_certtool_dies_with_us(tmp_path, how):
    proc = start(tmp_path, COURIER_SSLLIB="gnutls", DH_BITS="ultra")  # 8192 bits: seconds to minutes
    assert wait_for(lambda: certtool_children(proc.pid)), proc
    (certtool,) = certtool_children(proc.pid)
    if how == "SIGTERM":
        proc.terminate()
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 1 and b"SIGTERM" in err
    else:
        proc.kill()
        proc.wait()
    assert wait_for(lambda: not alive(certtool), timeout=10)
    assert leftovers(tmp_path, keep=()) == []  # certtool's output is only ever held in memory


# --- progress on a terminal ------------------------------------------------------

def run_on_terminal(tmp_path, *args, **extra):
    """Run with stderr on a pseudo-terminal; return what appeared there."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, os.path.join(BIN, "mkdhparams"), *args],
                            env=environment(tmp_path, **extra), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the other end is closed
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    proc.wait(timeout=60)
    return proc.returncode, proc.stdout.read(), b"".join(chunks)


@pytest.fixture
def slow_certtool(tmp_path):
    """A certtool that takes a second and prints real certtool output."""
    real = subprocess.run(["certtool", "--generate-dh-params", "--sec-param", "low"],
                          capture_output=True, check=True).stdout
    fixture = tmp_path / "certtool-output"
    fixture.write_bytes(real)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "certtool").write_text(f"#!/bin/sh\nsleep 1\ncat '{fixture}'\n")
    os.chmod(fake / "certtool", 0o755)
    return {"PATH": f"{fake}:/usr/bin:/bin", "COURIER_SSLLIB": "gnutls"}, real


def test_progress_on_a_terminal(tmp_path, slow_certtool):
    extra, real = slow_certtool
    status, out, err = run_on_terminal(tmp_path, **extra)
    assert status == 0 and out == b""
    assert b"generating" in err
    assert any(f"s {frame}".encode() in err for frame in "|/-\\")  # elapsed seconds and a spinner
    assert b"wrote " + str(tmp_path / "dhparams.pem").encode() in err
    assert (tmp_path / "dhparams.pem").read_bytes() == real  # certtool's bytes, unchanged


def test_quiet_on_a_terminal(tmp_path, slow_certtool):
    extra, real = slow_certtool
    status, out, err = run_on_terminal(tmp_path, "-q", **extra)
    assert status == 0 and out == b"" and err == b""


def test_openssl_flavour_on_a_terminal(tmp_path):
    status, out, err = run_on_terminal(tmp_path, DH_BITS="512")
    assert status == 0 and b"wrote" in err and b"safe prime" in err
