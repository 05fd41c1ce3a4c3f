"""Who but root or the running user could change a file: the file, and every directory above.

The commands' own refusals (``--install``'s key, the hook's config) are in
test_install.py and test_hook.py; these are the answers they are built on.
"""

import os
import stat

import pytest

from mkcert.errors import MkcertError
from mkcert.system.trust import replaceable_by_others, why_replaceable
from test_threat_helpers import needs_root

NOBODY = 65534


def safe_tree(tmp_path):
    """A directory of ours, 0755, holding a file of ours, 0600: nothing to say about either."""
    directory = tmp_path / "safe"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    path = directory / "privkey.pem"
    path.write_bytes(b"key")
    os.chmod(path, 0o600)
    return directory, path


def test_a_file_of_ours_in_directories_of_ours_is_trusted(tmp_path):
    _, path = safe_tree(tmp_path)
    assert why_replaceable(str(path)) is None


@pytest.mark.parametrize("mode, reason", [
    (0o602, "is writable by others (mode 0602)"),
    (0o622, "is writable by others (mode 0622)"),
])
def test_a_file_others_may_write(tmp_path, mode, reason):
    _, path = safe_tree(tmp_path)
    os.chmod(path, mode)
    assert why_replaceable(str(path)) == reason


@needs_root
def test_group_write_counts_only_for_a_group_not_ours(tmp_path):
    _, path = safe_tree(tmp_path)
    os.chmod(path, 0o620)
    assert why_replaceable(str(path)) is None  # our own group
    os.chown(path, -1, NOBODY)
    assert why_replaceable(str(path)) == "is writable by its group (mode 0620)"


@needs_root
def test_a_file_of_another_user(tmp_path):
    _, path = safe_tree(tmp_path)
    os.chown(path, NOBODY, -1)
    assert why_replaceable(str(path)) == "belongs to user nobody"
    os.chown(path, 4000000, -1)  # no passwd entry
    assert why_replaceable(str(path)) == "belongs to uid 4000000"


def test_a_directory_above_that_others_may_write(tmp_path):
    directory, path = safe_tree(tmp_path)
    os.chmod(directory, 0o777)
    assert why_replaceable(str(path)) == (
        f"is in {directory}, which is writable by others (mode 0777)")
    os.chmod(directory, 0o1777)  # sticky, like /tmp: others cannot replace our file
    assert why_replaceable(str(path)) is None


def test_the_directories_a_link_resolves_to_count_too(tmp_path):
    """certbot's live/NAME/privkey.pem is a link into archive/NAME/."""
    archive, path = safe_tree(tmp_path)
    live = tmp_path / "live"
    live.mkdir(mode=0o755)
    os.chmod(live, 0o755)
    os.symlink(path, live / "privkey.pem")
    assert why_replaceable(str(live / "privkey.pem")) is None
    os.chmod(archive, 0o757)
    assert why_replaceable(str(live / "privkey.pem")) == (
        f"is in {archive}, which is writable by others (mode 0757)")


def test_the_stat_given_is_the_one_judged(tmp_path):
    """--install judges the file it opened, whatever the name points to by then."""
    _, path = safe_tree(tmp_path)
    opened = os.stat(path)
    os.chmod(path, 0o666)
    assert why_replaceable(str(path), opened) is None
    assert replaceable_by_others(os.stat(path)) == "is writable by others (mode 0666)"


def test_a_sticky_bit_spares_only_directories(tmp_path):
    _, path = safe_tree(tmp_path)
    st = os.stat(path)
    sticky_file = os.stat_result((st.st_mode | stat.S_ISVTX | 0o002,) + tuple(st)[1:])
    assert replaceable_by_others(sticky_file) == "is writable by others (mode 1602)"
    assert replaceable_by_others(sticky_file, directory=True) is None


def test_what_cannot_be_examined_is_an_error(tmp_path):
    with pytest.raises(MkcertError) as caught:
        why_replaceable(str(tmp_path / "none"))
    assert str(caught.value) == (f"cannot examine {tmp_path / 'none'}: "
                                 f"No such file or directory")
