"""Threat: the machine says no -- disk full, read-only, missing, forbidden.

Each failure must be exit 1 with one line on stderr naming the file and the
reason, no traceback, and nothing of the run's left behind (an existing
TLS_DHPARAMS stays whole).  Also the mail user: unknown, a bare uid with no
passwd entry, and values that are no uid at all.
"""

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile

import pytest

from conftest import BIN, ROOT, current_user, data_path, without_weak_choice_line
from test_threat_helpers import (UPSTREAM_IMAPD, assert_one_clean_line, assert_whole_or_nothing,
                                 install_imapd, load_whole_pem, needs_root, tmpfs)

PAGE = 4096


@pytest.fixture
def imapd(layout):
    install_imapd(layout)
    return layout


def _in_mount(layout, mount):
    return dict(layout.env, COURIER_CERTSDIR=str(mount))


# --- disk full ----------------------------------------------------------------

@needs_root
@pytest.mark.parametrize("free_pages", [0, 1, 2, 3])
@pytest.mark.parametrize("program", ["mkimapdcert", "mkesmtpdcert"])
def test_disk_full_fails_cleanly_or_makes_a_whole_pem(layout, tmp_path, free_pages, program):
    name = program[2:-4]
    install_imapd(layout, name=name)
    with tmpfs(tmp_path / "full", "size=16k") as mount:
        filler = mount / "filler"
        filler.write_bytes(b"x" * (4 * PAGE - free_pages * PAGE))
        env = dict(_in_mount(layout, mount), BITS="512")
        result = layout.command(program, "-q", env=env)
        if result.returncode == 0:
            assert assert_whole_or_nothing(mount, f"{name}.pem", allowed=["filler"])
        else:
            line = assert_one_clean_line(result, 1, contains=["No space left on device"])
            assert str(mount) in line
            assert os.listdir(mount) == ["filler"]
        assert filler.stat().st_size == 4 * PAGE - free_pages * PAGE


@needs_root
@pytest.mark.parametrize("inodes", [1, 2, 3, 4])
def test_out_of_inodes_fails_cleanly(layout, tmp_path, inodes):
    install_imapd(layout)
    # The root directory takes one inode; `inodes - 1` names are left.
    with tmpfs(tmp_path / "inodes", f"size=1m,nr_inodes={inodes}") as mount:
        result = layout.command("mkimapdcert", "-q", env=_in_mount(layout, mount))
        if result.returncode == 0:
            assert assert_whole_or_nothing(mount)
        else:
            assert_one_clean_line(result, 1, contains=["No space left on device"])
            assert os.listdir(mount) == []


@needs_root
def test_disk_full_keeps_the_old_dhparams_whole(layout, tmp_path):
    with tmpfs(tmp_path / "dh", "size=8k") as mount:
        out = mount / "dhparams.pem"
        env = dict(layout.env, TLS_DHPARAMS=str(out), COURIER_SSLLIB="openssl", DH_BITS="512")
        assert layout.command("mkdhparams", "--named-group", "ffdhe2048", env=env).returncode == 0
        old = out.read_bytes()
        (mount / "filler").write_bytes(b"x" * PAGE)  # the last free page
        result = layout.command("mkdhparams", "--force", "--named-group", "ffdhe4096", env=env)
        assert_one_clean_line(result, 1, contains=["No space left on device"])
        assert out.read_bytes() == old
        assert sorted(os.listdir(mount)) == ["dhparams.pem", "filler"]


# --- read-only --------------------------------------------------------------

@needs_root
def test_read_only_directory_fails_cleanly(layout, tmp_path):
    install_imapd(layout)
    with tmpfs(tmp_path / "ro", "size=64k") as mount:
        (mount / "dhparams.pem").write_bytes(b"-----BEGIN DH PARAMETERS-----\nold\n")
        remount = subprocess.run(["mount", "-o", "remount,ro", str(mount)], capture_output=True)
        if remount.returncode != 0:
            pytest.skip(f"cannot remount read-only: {remount.stderr.decode().strip()}")
        result = layout.command("mkimapdcert", env=_in_mount(layout, mount))
        assert_one_clean_line(result, 1, contains=["Read-only file system", str(mount)])
        env = dict(layout.env, TLS_DHPARAMS=str(mount / "dhparams.pem"),
                   COURIER_SSLLIB="openssl", DH_BITS="512")
        result = layout.command("mkdhparams", "--force", "--named-group", "ffdhe2048", env=env)
        assert_one_clean_line(result, 1, contains=["Read-only file system"])
        assert os.listdir(mount) == ["dhparams.pem"]
        assert (mount / "dhparams.pem").read_bytes() == b"-----BEGIN DH PARAMETERS-----\nold\n"


@needs_root
def test_immutable_directory_fails_cleanly(imapd):
    done = subprocess.run(["chattr", "+i", str(imapd.certsdir)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"chattr +i is not supported here: {done.stderr.strip()}")
    try:
        result = imapd.command("mkimapdcert")
        assert_one_clean_line(result, 1, contains=["Operation not permitted"])
    finally:
        subprocess.run(["chattr", "-i", str(imapd.certsdir)], check=True)
    assert imapd.listing() == []


# --- missing ----------------------------------------------------------------

@pytest.mark.parametrize("how", ["certsdir", "pemfile", "dhparams"])
def test_missing_directory_fails_cleanly_and_is_not_created(imapd, tmp_path, how):
    missing = tmp_path / "no" / "such"
    if how == "certsdir":
        result = imapd.command("mkimapdcert", env=dict(imapd.env, COURIER_CERTSDIR=str(missing)))
    elif how == "pemfile":
        result = imapd.command("mkimapdcert", missing / "server")
    else:
        env = dict(imapd.env, TLS_DHPARAMS=str(missing / "dh.pem"), COURIER_SSLLIB="openssl")
        result = imapd.command("mkdhparams", "--named-group", "ffdhe2048", env=env)
    assert_one_clean_line(result, 1, contains=["no such directory", str(missing)])
    assert not (tmp_path / "no").exists()
    assert imapd.listing() == []


# --- permission denied --------------------------------------------------------

def _python_for_nobody():
    """A Python that user nobody can run with mkcert and cryptography, or None."""
    for python in (sys.executable, "/usr/bin/python3"):
        probe = subprocess.run(
            ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", python, "-c",
             "import cryptography, mkcert.cli.main"],
            env=dict(os.environ, PYTHONPATH=ROOT), capture_output=True, cwd="/")
        if probe.returncode == 0:
            return python
    return None


@pytest.fixture
def world(tmp_path):
    """A layout under a directory that user nobody can traverse."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run as nobody")
    python = _python_for_nobody()
    if python is None:
        pytest.skip(f"no Python with cryptography that user nobody can run on {ROOT}")
    # Read before the directory exists: a failure here leaves nothing behind.
    text = open(data_path(*UPSTREAM_IMAPD)).read().replace("4096", "1024")
    base = tempfile.mkdtemp(prefix="mkcert-world-")
    os.chmod(base, 0o755)
    etc, certs = os.path.join(base, "etc"), os.path.join(base, "certs")
    os.mkdir(etc, 0o755)
    os.mkdir(certs, 0o755)
    with open(os.path.join(etc, "imapd.cnf"), "w") as handle:
        handle.write(text)
    os.chmod(os.path.join(etc, "imapd.cnf"), 0o644)

    def run(*args, user="nobody"):
        env = dict(os.environ, PYTHONPATH=ROOT, COURIER_SYSCONFDIR=etc, COURIER_CERTSDIR=certs,
                   COURIER_MAILUSER=user)
        command = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                   python, os.path.join(BIN, "mkimapdcert"), *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120,
                              cwd="/")

    yield run, etc, certs
    shutil.rmtree(base)


def test_unwritable_directory_is_permission_denied(world):
    run, _, certs = world
    result = run()
    assert_one_clean_line(result, 1, contains=["Permission denied", certs])
    assert os.listdir(certs) == []


def test_unreadable_config_is_permission_denied(world):
    run, etc, certs = world
    os.chown(certs, 65534, 65534)
    os.chmod(os.path.join(etc, "imapd.cnf"), 0o600)
    result = run()
    assert_one_clean_line(result, 1, contains=["cannot read config", "Permission denied"])
    assert os.listdir(certs) == []


def test_giving_the_pem_away_without_privilege_fails_cleanly(world):
    run, _, certs = world
    os.chown(certs, 65534, 65534)
    result = run(user="daemon")
    assert_one_clean_line(result, 1, contains=["cannot give", "daemon", "Operation not permitted"])
    assert os.listdir(certs) == []
    ok = run("-q")  # as itself it works, and the PEM is its own, 0600
    assert ok.returncode == 0, ok.stderr
    assert assert_whole_or_nothing(certs)
    assert os.stat(os.path.join(certs, "imapd.pem")).st_uid == 65534


# --- the mail user ----------------------------------------------------------

def _free_uid():
    uid = 54321
    while True:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            return uid
        uid += 1


@needs_root
def test_bare_uid_without_passwd_entry_is_used_as_chown_would(imapd):
    """Like ``chown 54321 FILE``: a numeric user needs no passwd entry; group unchanged."""
    uid = _free_uid()
    result = imapd.command("mkimapdcert", "-q", env=dict(imapd.env, COURIER_MAILUSER=str(uid)))
    assert result.returncode == 0, result.stderr
    st = os.stat(imapd.certsdir / "imapd.pem")
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (uid, os.getegid(), 0o600)


@pytest.mark.parametrize("user", ["4294967295", "99999999999", "9" * 5000, "-1", "\u00b2",
                                  "no such user", "root:root", "x" * 300])
def test_impossible_mail_user_fails_before_any_file(imapd, user):
    result = imapd.command("mkimapdcert", "-u", user)
    assert_one_clean_line(result, 1, contains=["mail user"])
    assert imapd.listing() == []


def test_mail_user_name_that_is_numeric_prefers_the_passwd_entry(imapd):
    """``-u 0`` is root by number; a passwd name always wins over a number."""
    result = imapd.command("mkimapdcert", "-q", "-u", str(os.geteuid()))
    assert result.returncode == 0, result.stderr
    assert os.stat(imapd.certsdir / "imapd.pem").st_uid == os.geteuid()
    assert current_user()


# --- stdout that cannot be written --------------------------------------------

@pytest.mark.parametrize("stdout", ["dev-full", "closed-pipe"])
@pytest.mark.parametrize("buffered", [True, False])
def test_unwritable_stdout_after_success_is_one_line(imapd, stdout, buffered):
    """The summary cannot be printed (a full disk, a reader that went away):
    the PEM stays whole, the status still says it was made (0), and the lost
    output is one warning line, not a traceback."""
    env = dict(imapd.env)
    env.pop("PYTHONUNBUFFERED", None)
    if not buffered:
        env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, os.path.join(BIN, "mkimapdcert")]
    if stdout == "dev-full":
        with open("/dev/full", "w") as full:
            result = subprocess.run(command, env=env, stdout=full, stderr=subprocess.PIPE,
                                    text=True, timeout=120)
        status, stderr = result.returncode, result.stderr
    else:
        reader, writer = os.pipe()
        os.close(reader)  # nobody will ever read the summary
        process = subprocess.Popen(command, env=env, stdout=writer, stderr=subprocess.PIPE,
                                   text=True)
        os.close(writer)
        stderr = process.communicate(timeout=120)[1]
        status = process.returncode
    assert "Traceback" not in stderr and "Exception ignored" not in stderr, stderr
    assert status == 0, (status, stderr)
    stderr = without_weak_choice_line(stderr)  # the config's quick 1024 bits are weak
    assert len(stderr.splitlines()) == 1, stderr
    assert stderr.startswith("mkimapdcert: warning: cannot write to standard output: "), stderr
    assert assert_whole_or_nothing(imapd.certsdir)


@needs_root
@pytest.mark.parametrize("free_pages", [0, 1, 2, 3])
def test_disk_full_during_renewal_keeps_the_live_pem(layout, tmp_path, free_pages):
    install_imapd(layout)
    with tmpfs(tmp_path / "renew", "size=32k") as mount:
        env = _in_mount(layout, mount)
        assert layout.command("mkimapdcert", "-q", env=env).returncode == 0
        pem = mount / "imapd.pem"
        os.chmod(pem, 0o640)
        old = pem.read_bytes()
        used = sum(-(-os.path.getsize(mount / n) // PAGE) for n in os.listdir(mount))
        (mount / "filler").write_bytes(b"x" * ((8 - used - free_pages) * PAGE))
        result = layout.command("mkimapdcert", "-q", "--renew", "--force", env=env)
        names = sorted(os.listdir(mount))
        if result.returncode == 0:
            assert names == ["filler", "imapd.pem", "imapd.pem.old"]
            assert (mount / "imapd.pem.old").read_bytes() == old
        else:
            assert_one_clean_line(result, 1, contains=["No space left on device"])
            assert pem.read_bytes() == old  # the live PEM is never touched
            assert set(names) <= {"filler", "imapd.pem", "imapd.pem.old"}, names
        load_whole_pem(pem)
        assert stat.S_IMODE(os.stat(pem).st_mode) == 0o640
        print(f"free pages {free_pages}: status {result.returncode}, {names}")
