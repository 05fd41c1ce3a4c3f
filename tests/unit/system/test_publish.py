"""The file-safety primitives, in isolation from X.509."""

import os
import signal
import stat
import subprocess
import sys

import pytest

from mkcert.system import publish
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


def test_taken_temporary_name_is_never_followed_or_touched(tmp_path, monkeypatch):
    """A link planted at the very name drawn: another name is drawn, the link stays."""
    target = tmp_path / "x.pem"
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    planted = str(target) + ".tmp.0123456789abcdef"
    os.symlink(victim, planted)
    draws = [planted]
    real = publish.temporary_name
    monkeypatch.setattr(publish, "temporary_name", lambda path: draws.pop() if draws else real(path))
    with publish.Run() as run:
        publish.publish_new(str(target), b"new", run)
    assert target.read_bytes() == b"new"
    assert victim.read_bytes() == b"keep me"
    assert os.readlink(planted) == str(victim)
    assert sorted(os.listdir(tmp_path)) == sorted(["x.pem", "victim", os.path.basename(planted)])


def test_temporary_names_are_random_not_the_pid(tmp_path):
    names = {publish.temporary_name(str(tmp_path / "x.pem")) for _ in range(8)}
    assert len(names) == 8
    assert not any(name.endswith(f".tmp.{os.getpid()}") for name in names)
    assert {publish.final_name(name) for name in names} == {str(tmp_path / "x.pem")}


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


def test_stale_temporaries_are_the_unlocked_ones_of_our_shape(tmp_path):
    """A live run holds a lock on each of its temporaries; a dead run's are free."""
    import fcntl

    target = str(tmp_path / "x.pem")
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    stale = tmp_path / "x.pem.tmp.00112233445566aa"
    stale.write_bytes(b"killed run's key")
    stale_old_style = tmp_path / f"x.pem.tmp.{dead}"  # named by its PID, before random names
    stale_old_style.write_bytes(b"half")
    live = tmp_path / "x.pem.tmp.ffeeddccbbaa9988"
    live.write_bytes(b"in use")
    alive_old_style = tmp_path / f"x.pem.tmp.{os.getppid()}"
    alive_old_style.write_bytes(b"in use")
    link = tmp_path / "x.pem.tmp.0000000000000000"
    link.symlink_to(tmp_path / "victim")
    fifo = tmp_path / "x.pem.tmp.1111111111111111"
    os.mkfifo(fifo)
    other = tmp_path / "y.pem.tmp.2222222222222222"
    other.write_bytes(b"not ours")
    shapeless = tmp_path / "x.pem.tmp.keep"
    shapeless.write_bytes(b"not a name of ours")
    with open(live, "rb") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        publish.remove_stale_temporaries(target)
    assert sorted(os.listdir(tmp_path)) == sorted(
        [live.name, alive_old_style.name, link.name, fifo.name, other.name, shapeless.name])


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_stale_temporary_given_to_the_mail_user_is_removed(tmp_path):
    stale = tmp_path / "x.pem.tmp.00112233445566aa"
    stale.write_bytes(b"killed run's key")
    os.chown(stale, 65534, 65534)
    publish.remove_stale_temporaries(str(tmp_path / "x.pem"))
    assert os.listdir(tmp_path) == []


def test_run_holds_a_lock_on_its_temporary_until_it_is_published(tmp_path):
    target = str(tmp_path / "x.pem")
    with publish.Run() as run:
        temp = publish.write_temporary(target, b"x", run)
        publish.remove_stale_temporaries(target)  # as a concurrent run would
        assert os.path.exists(temp)
        run.remove(temp)
    assert os.listdir(tmp_path) == []


def test_hard_linked_file_is_refused_but_our_own_leftover_link_is_not(tmp_path):
    target = tmp_path / "x.pem"
    target.write_bytes(b"pem")
    os.link(target, tmp_path / "x.pem.tmp.00112233445566aa")  # a killed run's second name
    assert publish.file_to_replace(str(target), "renewing").st_nlink == 1
    os.link(target, tmp_path / "shared.pem")
    with pytest.raises(MkcertError, match=r"x.pem has 2 hard links; not renewing it"):
        publish.file_to_replace(str(target), "renewing")
    assert publish.file_to_replace(str(target), "replacing", links_replaced=True).st_nlink == 2


def test_unknown_owner_is_an_error():
    with pytest.raises(MkcertError, match="unknown mail user"):
        publish.Owner.lookup("no-such-user-mkcert")


@pytest.mark.parametrize("digits", ["4294967295", "99999999999", "9" * 5000])
def test_a_uid_too_large_for_uid_t_is_an_error_however_long(digits):
    """(uid_t)-1 and beyond; thousands of digits too, which int() alone refuses with a ValueError."""
    with pytest.raises(MkcertError) as caught:
        publish.Owner.lookup(digits)
    assert str(caught.value) == (f"mail user {digits!r} is not a valid user id (at most "
                                 f"4294967294); choose another with -u USER or COURIER_MAILUSER")


def test_a_bare_uid_with_leading_zeros_is_that_uid():
    owner = publish.Owner.lookup("0" * 20 + "4294967294")
    assert (owner.uid, owner.gid) == (4294967294, -1)
