"""Target: a new file, or the one there replaced, its content kept as .old and its owner and mode kept.

--install and --renew publish through it; their own tests check the
messages, these the files.
"""

import os
import stat

import pytest

from mkcert.errors import AlreadyExists, MkcertError
from mkcert.system import publish
from mkcert.system.target import UNSAFE_MODE_BITS, Target, kept_stat
from test_threat_helpers import needs_root

NOBODY = 65534


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def existing(path, data, file_mode, uid=None, gid=None):
    """A file at ``path`` as --install and --renew find it: its bytes and its stat."""
    path.write_bytes(data)
    os.chmod(path, file_mode)
    if uid is not None:
        os.chown(path, uid, gid)
    return data, os.lstat(path)


def test_a_new_target_creates_a_private_file_of_the_owner(tmp_path):
    pem = tmp_path / "imapd.pem"
    target = Target(str(pem))
    assert target.is_new and target.old_mode is None and not target.mode_changes
    owner = publish.Owner("someone", os.geteuid(), -1)
    with publish.Run() as run:
        target.publish(b"new", run, owner)
        assert run.published
    assert pem.read_bytes() == b"new" and mode(pem) == 0o600
    assert sorted(os.listdir(tmp_path)) == ["imapd.pem"]  # no .old for a new file


@needs_root
def test_a_new_target_is_given_to_the_mail_user(tmp_path):
    pem = tmp_path / "imapd.pem"
    with publish.Run() as run:
        Target(str(pem)).publish(b"new", run, publish.Owner("nobody", NOBODY, NOBODY))
    assert os.lstat(pem).st_uid == NOBODY


def test_a_new_target_never_replaces_a_file_that_appeared_meanwhile(tmp_path):
    pem = tmp_path / "imapd.pem"
    target = Target(str(pem))
    pem.write_bytes(b"another run's")
    with pytest.raises(AlreadyExists):
        with publish.Run() as run:
            target.publish(b"new", run)
    assert pem.read_bytes() == b"another run's"
    assert sorted(os.listdir(tmp_path)) == ["imapd.pem"]


def test_a_replacement_keeps_the_old_content_as_old_0600(tmp_path):
    pem = tmp_path / "imapd.pem"
    target = Target(str(pem), *existing(pem, b"old", 0o640))
    assert not target.is_new and target.old_path == f"{pem}.old"
    assert (target.old_mode, target.kept_mode, target.mode_changes) == (0o640, 0o640, False)
    with publish.Run() as run:
        target.publish(b"new", run)
        assert run.published
    assert pem.read_bytes() == b"new" and mode(pem) == 0o640
    assert (tmp_path / "imapd.pem.old").read_bytes() == b"old"
    assert mode(tmp_path / "imapd.pem.old") == 0o600
    assert sorted(os.listdir(tmp_path)) == ["imapd.pem", "imapd.pem.old"]


@needs_root
def test_a_replacement_keeps_owner_and_group_and_ignores_the_new_owner(tmp_path):
    pem = tmp_path / "imapd.pem"
    target = Target(str(pem), *existing(pem, b"old", 0o640, uid=NOBODY, gid=NOBODY))
    with publish.Run() as run:
        target.publish(b"new", run, publish.Owner("root", 0, 0))
    st = os.lstat(pem)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (NOBODY, NOBODY, 0o640)


@pytest.mark.parametrize("old_mode, new_mode", [(0o664, 0o640), (0o606, 0o600), (0o777, 0o750)])
def test_a_replacement_drops_what_would_expose_the_new_key(tmp_path, old_mode, new_mode):
    pem = tmp_path / "imapd.pem"
    target = Target(str(pem), *existing(pem, b"old", old_mode))
    assert (target.old_mode, target.kept_mode, target.mode_changes) == (old_mode, new_mode, True)
    with publish.Run() as run:
        target.publish(b"new", run)
    assert mode(pem) == new_mode and not mode(pem) & UNSAFE_MODE_BITS


def test_a_file_changed_since_it_was_read_is_not_replaced(tmp_path):
    pem = tmp_path / "imapd.pem"
    target = Target(str(pem), *existing(pem, b"old", 0o640))
    os.unlink(pem)
    pem.write_bytes(b"an admin's")
    with pytest.raises(MkcertError) as caught:
        with publish.Run() as run:
            target.publish(b"new", run)
    assert str(caught.value) == f"{pem} changed while it was being replaced; nothing replaced"
    assert pem.read_bytes() == b"an admin's"
    assert sorted(os.listdir(tmp_path)) == ["imapd.pem"]


def test_a_link_planted_at_old_is_replaced_never_written_through(tmp_path):
    pem = tmp_path / "imapd.pem"
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    os.symlink(victim, tmp_path / "imapd.pem.old")
    target = Target(str(pem), *existing(pem, b"old", 0o640))
    with publish.Run() as run:
        target.publish(b"new", run)
    assert victim.read_bytes() == b"keep me"
    assert not os.path.islink(tmp_path / "imapd.pem.old")
    assert (tmp_path / "imapd.pem.old").read_bytes() == b"old"


def test_a_replacement_needs_what_was_read_and_its_stat(tmp_path):
    with pytest.raises(ValueError):
        Target(str(tmp_path / "imapd.pem"), b"old")


def test_kept_stat_is_the_old_owner_and_group_with_safe_mode(tmp_path):
    _, st = existing(tmp_path / "f", b"x", 0o2775)
    keep = kept_stat(st)
    assert (keep.st_uid, keep.st_gid) == (st.st_uid, st.st_gid)
    assert stat.S_IMODE(keep.st_mode) == 0o2750 and stat.S_ISREG(keep.st_mode)
