"""The file-safety primitives, in isolation from X.509."""

import os
import signal
import stat
import subprocess
import sys

import pytest

from mkcert import publish
from mkcert.errors import AlreadyExists, Interrupted, MkcertError


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_publish_new_creates_whole_private_file(tmp_path):
    target = tmp_path / "x.pem"
    with publish.Run() as run:
        publish.publish_new(str(target), b"secret", run)
    assert target.read_bytes() == b"secret"
    assert mode(target) == 0o600
    assert os.listdir(tmp_path) == ["x.pem"]


@pytest.mark.parametrize("planted", ["file", "dangling", "symlink-to-file", "directory"])
def test_publish_new_never_replaces_or_follows(tmp_path, planted):
    target = tmp_path / "x.pem"
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    if planted == "file":
        target.write_bytes(b"old")
    elif planted == "dangling":
        target.symlink_to(tmp_path / "nowhere")
    elif planted == "symlink-to-file":
        target.symlink_to(victim)
    else:
        target.mkdir()
    before = sorted(os.listdir(tmp_path))
    with pytest.raises((AlreadyExists, MkcertError)):
        with publish.Run() as run:
            publish.publish_new(str(target), b"new", run)
    assert victim.read_bytes() == b"keep me"
    assert not (tmp_path / "nowhere").exists()
    assert sorted(os.listdir(tmp_path)) == before


def test_temporary_name_symlink_is_not_followed(tmp_path):
    target = tmp_path / "x.pem"
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    os.symlink(victim, publish.temporary_name(str(target)))
    with pytest.raises(MkcertError, match="cannot create"):
        with publish.Run() as run:
            publish.publish_new(str(target), b"new", run)
    assert victim.read_bytes() == b"keep me"
    assert not target.exists()
    assert os.path.islink(publish.temporary_name(str(target)))


def test_publish_replace_is_atomic_and_keeps_requested_mode(tmp_path):
    target = tmp_path / "dh.pem"
    target.write_bytes(b"old")
    with publish.Run() as run:
        publish.publish_replace(str(target), b"new", run, mode=0o644)
    assert target.read_bytes() == b"new"
    assert mode(target) == 0o644
    assert os.listdir(tmp_path) == ["dh.pem"]


def test_publish_replace_copies_mode_and_owner_from_stat(tmp_path):
    target = tmp_path / "imapd.pem"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    old = os.stat(target)
    with publish.Run() as run:
        publish.publish_replace(str(target), b"new", run, stat_from=old)
    st = os.stat(target)
    assert (st.st_uid, st.st_gid, mode(target)) == (old.st_uid, old.st_gid, 0o640)


def test_run_removes_its_files_on_failure_only_if_unchanged(tmp_path):
    keep = tmp_path / "replaced"
    with pytest.raises(RuntimeError):
        with publish.Run() as run:
            publish.write_temporary(str(tmp_path / "a"), b"x", run)
            temp = publish.write_temporary(str(keep), b"x", run)
            # Someone replaces our file meanwhile: it is no longer ours to delete.
            open(temp + ".new", "wb").close()
            os.rename(temp + ".new", temp)
            raise RuntimeError("boom")
    assert os.listdir(tmp_path) == [os.path.basename(temp)]


def test_run_restores_umask_and_handlers(tmp_path):
    old_umask = os.umask(0o022)
    try:
        before = signal.getsignal(signal.SIGTERM)
        with publish.Run():
            assert signal.getsignal(signal.SIGTERM) is not before
            assert os.umask(0o077) == 0o077
        assert signal.getsignal(signal.SIGTERM) is before
        assert os.umask(0o022) == 0o022
    finally:
        os.umask(old_umask)


def test_signal_inside_run_raises_interrupted_and_cleans(tmp_path):
    with pytest.raises(Interrupted):
        with publish.Run() as run:
            publish.write_temporary(str(tmp_path / "x.pem"), b"x", run)
            os.kill(os.getpid(), signal.SIGHUP)
            signal.sigtimedwait([], 0)  # give the handler a bytecode boundary
    assert os.listdir(tmp_path) == []


def test_rand_file_replaces_planted_symlink_without_writing_through(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    rand = tmp_path / "x.rand"
    rand.symlink_to(victim)
    with publish.Run() as run:
        publish.write_rand_file(str(rand), run)
        assert not rand.is_symlink()
        assert rand.stat().st_size == publish.RAND_BYTES
        assert mode(rand) == 0o600
        run.remove(str(rand))
    assert victim.read_bytes() == b"keep me"
    assert sorted(os.listdir(tmp_path)) == ["victim"]


def test_stale_temporaries_of_dead_processes_are_removed(tmp_path):
    target = str(tmp_path / "x.pem")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / f"x.pem.tmp.{dead}"
    stale.write_bytes(b"half")
    alive = tmp_path / f"x.pem.tmp.{os.getppid()}"
    alive.write_bytes(b"in use")
    link = tmp_path / "x.pem.tmp.999999999"
    link.symlink_to(tmp_path / "victim")
    other = tmp_path / "y.pem.tmp.999999998"
    other.write_bytes(b"not ours")
    publish.remove_stale_temporaries(target)
    assert sorted(os.listdir(tmp_path)) == sorted(
        [alive.name, link.name, other.name])


def test_unknown_owner_is_an_error():
    with pytest.raises(MkcertError, match="unknown mail user"):
        publish.Owner.lookup("no-such-user-mkcert")
