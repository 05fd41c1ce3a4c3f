"""The one bounded file reader, and each caller's use of it, with its own words.

Callers: the config reader (symlinks followed, 64 MiB, text kept as
surrogates), ``--check`` (a PEM; its mode is judged even when it is too
large), ``--install``'s inputs (symlinks followed; the key vetted before a
byte is read) and the PEM ``--install`` replaces (a symlink refused).
"""

import errno
import os
import stat

import pytest

from mkcert.actions import check, install
from mkcert.errors import MkcertError
from mkcert.readers import load
from mkcert.system import files

LIMIT = 16


def write(path, data, mode=0o600):
    path.write_bytes(data)
    os.chmod(path, mode)
    return str(path)


def open_descriptors():
    return sorted(os.listdir("/proc/self/fd"))


# --- the reader itself --------------------------------------------------------------

def test_a_regular_file_is_read_whole_with_its_stat(tmp_path):
    path = write(tmp_path / "f", b"x" * LIMIT, 0o640)
    data, st = files.read_regular_file_with_stat(path, LIMIT)
    assert data == b"x" * LIMIT
    assert stat.S_IMODE(st.st_mode) == 0o640 and st.st_ino == os.stat(path).st_ino
    assert files.read_regular_file(path, LIMIT) == b"x" * LIMIT


def test_one_byte_over_the_limit_is_too_large_and_carries_the_stat(tmp_path):
    path = write(tmp_path / "f", b"x" * (LIMIT + 1), 0o644)
    with pytest.raises(files.FileTooLarge) as caught:
        files.read_regular_file(path, LIMIT)
    assert caught.value.errno == errno.EFBIG and caught.value.limit == LIMIT
    assert stat.S_IMODE(caught.value.stat.st_mode) == 0o644


@pytest.mark.parametrize("kind", ["directory", "fifo", "device"])
def test_what_is_not_a_regular_file_is_refused_without_blocking(tmp_path, kind):
    if kind == "directory":
        path = tmp_path / "d"
        path.mkdir()
    elif kind == "fifo":
        path = tmp_path / "fifo"
        os.mkfifo(path)  # nobody writes: a read would block forever
    else:
        path = "/dev/zero"  # a read would never end
    with pytest.raises(files.NotRegularFile) as caught:
        files.read_regular_file(str(path), LIMIT)
    expected = ((errno.EISDIR, "it is a directory") if kind == "directory" else
                (errno.EINVAL, "not a regular file"))
    assert (caught.value.errno, caught.value.strerror) == expected


def test_a_symbolic_link_is_followed_unless_refused(tmp_path):
    target = write(tmp_path / "target", b"content")
    os.symlink(target, tmp_path / "link")
    link = str(tmp_path / "link")
    assert files.read_regular_file(link, LIMIT) == b"content"
    with pytest.raises(OSError) as caught:
        files.read_regular_file(link, LIMIT, follow_symlinks=False)
    assert caught.value.errno == errno.ELOOP


def test_vet_sees_the_open_file_before_a_byte_is_read_and_may_refuse(tmp_path, monkeypatch):
    path = write(tmp_path / "f", b"secret", 0o640)
    reads = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or real_read(fd, n))

    def refuse(st):
        assert stat.S_IMODE(st.st_mode) == 0o640 and reads == []
        raise MkcertError("refused")

    before = open_descriptors()
    with pytest.raises(MkcertError, match="refused"):
        files.read_regular_file(path, LIMIT, vet=refuse)
    assert reads == []
    assert open_descriptors() == before  # the file is closed on the way out


def test_vet_is_not_asked_about_what_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    seen = []
    with pytest.raises(files.NotRegularFile):
        files.read_regular_file(str(tmp_path / "fifo"), LIMIT, vet=seen.append)
    assert seen == []


def test_a_small_file_costs_no_buffer_the_size_of_the_limit(tmp_path, monkeypatch):
    """A 500-byte config must not allocate 64 MiB (``ulimit -v``): reads follow the size."""
    path = write(tmp_path / "f", b"x" * 500)
    asked = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: asked.append(n) or real_read(fd, n))
    assert files.read_regular_file(path, 64 << 20) == b"x" * 500
    assert asked[0] == 501 and max(asked) <= 1 << 16  # the size and a byte, then a chunk


def test_a_file_whose_size_says_zero_is_read_all_the_same():
    """Files in /proc have st_size 0 and content."""
    data = files.read_regular_file("/proc/self/status", 1 << 20)
    assert data.startswith(b"Name:")


# --- the config reader --------------------------------------------------------------

def test_config_through_a_symbolic_link_is_read_and_bytes_survive(tmp_path):
    target = write(tmp_path / "real.cnf", b"# caf\xe9\nCN = x\n")
    os.symlink(target, tmp_path / "imapd.cnf")
    text = load.read_config_text(str(tmp_path / "imapd.cnf"))
    assert text == "# caf\udce9\nCN = x\n"  # not UTF-8: kept, not refused


def test_config_that_is_a_directory_says_so(tmp_path):
    with pytest.raises(MkcertError) as caught:
        load.read_config_text(str(tmp_path))
    assert str(caught.value) == f"cannot read config {tmp_path}: it is a directory"


def test_config_that_is_a_fifo_is_not_a_regular_file(tmp_path):
    os.mkfifo(tmp_path / "imapd.cnf")
    with pytest.raises(MkcertError) as caught:
        load.read_config_text(str(tmp_path / "imapd.cnf"))
    assert str(caught.value) == f"cannot read config {tmp_path / 'imapd.cnf'}: not a regular file"


def test_config_over_the_limit_says_it_in_mebibytes(tmp_path, monkeypatch):
    monkeypatch.setattr(load, "MAX_CONFIG_BYTES", 1 << 20)
    path = write(tmp_path / "imapd.cnf", b"#" * ((1 << 20) + 1))
    with pytest.raises(MkcertError) as caught:
        load.read_config_text(path)
    assert str(caught.value) == f"cannot read config {path}: larger than 1 MiB"


def test_missing_config_says_why(tmp_path):
    with pytest.raises(MkcertError) as caught:
        load.read_config_text(str(tmp_path / "none.cnf"))
    assert str(caught.value) == (f"cannot read config {tmp_path / 'none.cnf'}: "
                                 f"No such file or directory")


def test_an_include_too_large_or_not_a_file_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(load, "MAX_CONFIG_BYTES", LIMIT)
    write(tmp_path / "a.cnf", b"x = 1\n")
    write(tmp_path / "b.cnf", b"#" * (LIMIT + 1))
    os.mkfifo(tmp_path / "c.cnf")
    assert load.read_include(str(tmp_path)) == [(str(tmp_path / "a.cnf"), "x = 1\n")]


# --- --check --------------------------------------------------------------------------

def test_check_of_a_directory_is_not_a_regular_file(tmp_path):
    result = check.check_pem(str(tmp_path))
    assert [p.text for p in result.problems] == ["not a regular file"]
    assert result.data is None


def test_check_of_a_large_file_judges_its_mode_first(tmp_path, monkeypatch):
    monkeypatch.setattr(check, "MAX_PEM_BYTES", LIMIT)
    path = write(tmp_path / "imapd.pem", b"x" * (LIMIT + 1), 0o644)
    result = check.check_pem(path)
    assert [p.text for p in result.problems] == [
        "mode 0644: others may read or write the private key",
        f"larger than {LIMIT} bytes, more than any PEM holds; not read"]
    assert result.mode == 0o644 and result.data is None


def test_check_of_a_missing_file(tmp_path):
    result = check.check_pem(str(tmp_path / "imapd.pem"))
    assert [p.text for p in result.problems] == ["missing (no such file)"]


def test_check_reads_through_a_symbolic_link(tmp_path):
    target = write(tmp_path / "real.pem", b"not a PEM\n", 0o640)
    os.symlink(target, tmp_path / "imapd.pem")
    result = check.check_pem(str(tmp_path / "imapd.pem"))
    assert result.data == b"not a PEM\n" and result.mode == 0o640


# --- --install's inputs and the PEM it replaces --------------------------------------

def test_install_input_follows_links_and_refuses_what_is_no_file(tmp_path):
    target = write(tmp_path / "real.pem", b"certificate")
    os.symlink(target, tmp_path / "fullchain.pem")
    assert install._read_input(str(tmp_path / "fullchain.pem"), "certificate") == b"certificate"
    with pytest.raises(MkcertError) as caught:
        install._read_input(str(tmp_path), "certificate")
    assert str(caught.value) == f"{tmp_path}: not a regular file"
    with pytest.raises(MkcertError) as caught:
        install._read_input(str(tmp_path / "none.pem"), "certificate")
    assert str(caught.value) == (f"cannot read certificate {tmp_path / 'none.pem'}: "
                                 f"No such file or directory")


def test_install_input_over_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(install.chain, "MAX_PEM_BYTES", LIMIT)
    path = write(tmp_path / "big.pem", b"x" * (LIMIT + 1))
    with pytest.raises(MkcertError) as caught:
        install._read_input(path, "certificate")
    assert str(caught.value) == (f"{path}: larger than {LIMIT} bytes, more than any PEM "
                                 f"holds; not read")


def test_install_key_that_others_may_replace_is_refused_before_reading(tmp_path):
    path = write(tmp_path / "privkey.pem", b"key", 0o666)
    assert install._read_input(path, "certificate") == b"key"  # a certificate: no vetting
    with pytest.raises(MkcertError) as caught:
        install._read_input(path, "private key", trusted=True)
    assert str(caught.value) == (f"{path} is writable by others (mode 0666); not reading a "
                                 f"private key from it")


def test_the_pem_install_replaces_is_read_but_never_through_a_link(tmp_path, monkeypatch):
    pem = write(tmp_path / "imapd.pem", b"old", 0o640)
    data, st = install._current(pem)
    assert data == b"old" and st.st_ino == os.lstat(pem).st_ino
    monkeypatch.setattr(install.chain, "MAX_PEM_BYTES", 2)
    with pytest.raises(MkcertError) as caught:
        install._current(pem)
    assert str(caught.value) == (f"{pem}: larger than 2 bytes, more than any PEM holds; "
                                 f"not replacing it")


def test_the_pem_install_replaces_is_opened_without_following_a_link(tmp_path, monkeypatch):
    """Between the look and the open a link may replace the PEM: the open refuses it."""
    pem = write(tmp_path / "imapd.pem", b"old")
    victim = write(tmp_path / "victim", b"someone else's")
    real_open = os.open

    def swap_then_open(path, flags, *args):
        if path == pem and not os.path.islink(pem):
            os.unlink(pem)
            os.symlink(victim, pem)
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", swap_then_open)
    with pytest.raises(MkcertError) as caught:
        install._current(pem)
    assert str(caught.value) == f"cannot read {pem}: Too many levels of symbolic links"
