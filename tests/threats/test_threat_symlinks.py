"""Threat: symlinks planted where a run writes.

Whatever is planted at PEMFILE.pem, PEMFILE.rand, the temporary names
PEMFILE.pem.tmp.* / PEMFILE.rand.tmp.*, or TLS_DHPARAMS, the file it
points to is never written through and never changed, nothing appears at
a dangling link's target, and no half-written PEM is ever left.
(test_cli.py already covers a plain file, empty file, dangling link, link
to a file and a directory at PEMFILE.pem; this extends it.)
"""

import os
import subprocess
import sys
import textwrap

import pytest

from conftest import without_weak_choice_line

from test_threat_helpers import (assert_one_clean_line, assert_whole_or_nothing,
                                 install_imapd, wrapped)


class Victim:
    """A file someone would love us to overwrite; remembers all it was."""

    def __init__(self, path, data=b"root:x:0:0:victim\n", file_mode=0o644):
        self.path = path
        path.write_bytes(data)
        os.chmod(path, file_mode)
        self.before = self.snapshot()

    def snapshot(self):
        st = os.lstat(self.path)
        return (self.path.read_bytes(), st.st_mode, st.st_uid, st.st_gid,
                st.st_ino, st.st_mtime_ns, st.st_nlink)

    def assert_untouched(self):
        assert self.snapshot() == self.before


@pytest.fixture
def imapd(layout):
    install_imapd(layout)
    return layout


@pytest.fixture
def victim(tmp_path):
    return Victim(tmp_path / "victim")


# --- PEMFILE.pem ------------------------------------------------------------

@pytest.mark.parametrize("planted", ["symlink-to-file", "symlink-to-directory",
                                     "symlink-loop", "symlink-to-symlink",
                                     "hardlink-to-file", "symlink-to-dev-null"])
def test_pem_link_is_refused_and_its_target_untouched(imapd, tmp_path, victim, planted):
    pem = imapd.certsdir / "imapd.pem"
    directory = tmp_path / "dir"
    directory.mkdir()
    if planted == "symlink-to-file":
        pem.symlink_to(victim.path)
    elif planted == "symlink-to-directory":
        pem.symlink_to(directory)
    elif planted == "symlink-loop":
        pem.symlink_to(pem)
    elif planted == "symlink-to-symlink":
        (tmp_path / "hop").symlink_to(victim.path)
        pem.symlink_to(tmp_path / "hop")
    elif planted == "hardlink-to-file":
        os.link(victim.path, pem)
        victim.before = victim.snapshot()
    else:
        pem.symlink_to("/dev/null")
    before = imapd.listing()
    result = imapd.command("mkimapdcert")
    assert (result.returncode, result.stdout, result.stderr) == (
        1, f"{pem} already exists.\n", "")
    assert imapd.listing() == before
    victim.assert_untouched()
    assert os.listdir(directory) == []


def test_pemfile_argument_through_a_symlinked_pem_is_refused(imapd, tmp_path, victim):
    out = tmp_path / "out"
    out.mkdir()
    (out / "server.pem").symlink_to(victim.path)
    result = imapd.command("mkimapdcert", out / "server")
    assert result.returncode == 1
    assert result.stdout == f"{out}/server.pem already exists.\n"
    assert sorted(os.listdir(out)) == ["server.pem"]
    victim.assert_untouched()


# --- PEMFILE.rand -----------------------------------------------------------

@pytest.mark.parametrize("planted", ["symlink-to-file", "dangling", "symlink-to-directory",
                                     "symlink-to-dev-null"])
def test_rand_symlink_is_replaced_never_written_through(imapd, tmp_path, victim, planted):
    rand = imapd.certsdir / "imapd.rand"
    directory = tmp_path / "dir"
    directory.mkdir()
    target = {"symlink-to-file": victim.path, "dangling": tmp_path / "nowhere",
              "symlink-to-directory": directory, "symlink-to-dev-null": "/dev/null"}[planted]
    rand.symlink_to(target)
    result = imapd.command("mkimapdcert", "-q")
    assert result.returncode == 0, result.stderr
    victim.assert_untouched()
    assert not (tmp_path / "nowhere").exists()
    assert os.listdir(directory) == []
    assert assert_whole_or_nothing(imapd.certsdir)  # the link went with the run's seed


def test_rand_path_that_is_a_directory_fails_cleanly(imapd):
    rand = imapd.certsdir / "imapd.rand"
    rand.mkdir()
    (rand / "inside").write_bytes(b"keep")
    result = imapd.command("mkimapdcert")
    assert_one_clean_line(result, 1, contains=[f"imapd.rand in {imapd.certsdir}"])
    assert imapd.listing() == ["imapd.rand"]
    assert os.listdir(rand) == ["inside"]


# --- the temporary names ----------------------------------------------------

PLANTED_SUFFIX = ".tmp.0123456789abcdef"
# Plants a link at the very name the run will draw first for each base (the
# names are random, so a wrapper steers the draw), then runs the command.
PLANT_AT_THE_NAME_DRAWN = """
    import os
    from mkcert.system import publish as _publish
    _draw = _publish.temporary_name
    _planted = {}
    for base in os.environ["PLANT_BASES"].split(","):
        _planted[base] = base + "%s"
        os.symlink(os.environ["PLANT_TARGET"], _planted[base])
    def _temporary_name(path):
        return _planted.pop(path, None) or _draw(path)
    _publish.temporary_name = _temporary_name
""" % PLANTED_SUFFIX


@pytest.mark.parametrize("which", ["pem", "rand"])
@pytest.mark.parametrize("target", ["victim", "dangling"])
def test_symlink_at_this_runs_temporary_name_is_not_followed(imapd, tmp_path, victim,
                                                             which, target):
    """O_EXCL|O_NOFOLLOW refuses the taken name; the run draws another and succeeds."""
    base = imapd.certsdir / f"imapd.{which}"
    aim = victim.path if target == "victim" else tmp_path / "nowhere"
    env = dict(imapd.env, PLANT_BASES=str(base), PLANT_TARGET=str(aim))
    result = wrapped(imapd, PLANT_AT_THE_NAME_DRAWN, "-q", env=env)
    assert (result.returncode, result.stderr) == (0, "")
    victim.assert_untouched()
    assert not (tmp_path / "nowhere").exists()
    planted = f"imapd.{which}{PLANTED_SUFFIX}"
    assert os.readlink(imapd.certsdir / planted) == str(aim)  # untouched, not removed
    assert_whole_or_nothing(imapd.certsdir, allowed=[planted])


def _last_pid():
    try:
        with open("/proc/sys/kernel/ns_last_pid") as handle:
            return int(handle.read())
    except OSError:
        return None


def test_every_plausible_temporary_name_planted(imapd, tmp_path, victim):
    """Links at the names earlier versions drew (PEMFILE.*.tmp.PID) for the next
    few hundred PIDs: the names are random now, and the run never meets them."""
    last = _last_pid()
    if last is None:
        pytest.skip("/proc/sys/kernel/ns_last_pid is not readable")
    with open("/proc/sys/kernel/pid_max") as handle:
        pid_max = int(handle.read())
    pids = [(last + i) % pid_max for i in range(1, 400)]
    planted = {}
    for pid in pids:
        for which in ("pem", "rand"):
            name = f"imapd.{which}.tmp.{pid}"
            os.symlink(victim.path, imapd.certsdir / name)
            planted[name] = str(victim.path)
    process = imapd.popen("mkimapdcert")
    stdout, stderr = process.communicate(timeout=120)
    victim.assert_untouched()
    left = set(imapd.listing()) - set(planted)
    for name, aim in planted.items():
        assert os.readlink(imapd.certsdir / name) == aim  # not removed, not changed
    assert (process.returncode, without_weak_choice_line(stderr)) == (0, ""), stdout
    assert left == {"imapd.pem"}
    assert_whole_or_nothing(imapd.certsdir, allowed=planted)


@pytest.mark.skipif(os.geteuid() != 0, reason="planting another user's file needs root")
def test_stale_looking_files_of_others_are_not_removed(imapd, tmp_path):
    """remove_stale_temporaries deletes only unlocked regular files named as
    ours; whose they are does not matter (a dead run gave its file to the
    mail user), their shape and type do."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    given_away = imapd.certsdir / f"imapd.pem.tmp.{dead}"
    given_away.write_bytes(b"a dead run's key, given to the mail user")
    os.chown(given_away, 65534, 65534)
    fifo = imapd.certsdir / "imapd.rand.tmp.0123456789abcdef"
    os.mkfifo(fifo)
    notpid = imapd.certsdir / "imapd.pem.tmp.12x"
    notpid.write_bytes(b"not a pid")
    result = imapd.command("mkimapdcert", "-q")
    assert result.returncode == 0, result.stderr
    assert sorted(imapd.listing()) == sorted(["imapd.pem", fifo.name, notpid.name])
    assert notpid.read_bytes() == b"not a pid"


# --- TLS_DHPARAMS (mkdhparams) ----------------------------------------------

def _dh_env(layout, path, **extra):
    return dict(layout.env, TLS_DHPARAMS=str(path), COURIER_SSLLIB="openssl",
                DH_BITS="512", **extra)


def _assert_dh_file(path):
    import stat

    st = os.lstat(path)
    assert stat.S_ISREG(st.st_mode)
    data = open(path, "rb").read()
    assert data.startswith(b"-----BEGIN DH PARAMETERS-----\n")
    assert data.endswith(b"-----END DH PARAMETERS-----\n")


@pytest.mark.parametrize("planted", ["symlink-to-file", "dangling", "symlink-to-directory",
                                     "symlink-to-dev-null"])
@pytest.mark.parametrize("how", [["--force"], ["--force", "--named-group", "ffdhe2048"]])
def test_dhparams_symlink_is_replaced_never_written_through(layout, tmp_path, victim,
                                                           planted, how):
    out = layout.certsdir / "dhparams.pem"
    directory = tmp_path / "dir"
    directory.mkdir()
    target = {"symlink-to-file": victim.path, "dangling": tmp_path / "nowhere",
              "symlink-to-directory": directory, "symlink-to-dev-null": "/dev/null"}[planted]
    out.symlink_to(target)
    result = layout.command("mkdhparams", *how, env=_dh_env(layout, out))
    assert result.returncode == 0, result.stderr
    victim.assert_untouched()
    assert not (tmp_path / "nowhere").exists()
    assert os.listdir(directory) == []
    _assert_dh_file(out)
    assert layout.listing() == ["dhparams.pem"]


def test_dhparams_fresh_symlink_is_left_alone(layout, victim):
    out = layout.certsdir / "dhparams.pem"
    out.symlink_to(victim.path)
    result = layout.command("mkdhparams", env=_dh_env(layout, out))
    assert (result.returncode, result.stderr) == (0, "")
    assert os.readlink(out) == str(victim.path)
    victim.assert_untouched()


@pytest.mark.parametrize("which", ["seed", "temporary"])
def test_dhparams_symlinks_at_seed_and_temporary_names(layout, tmp_path, victim, which):
    out = layout.certsdir / "dhparams.pem"
    if which == "seed":
        (layout.certsdir / "dhparams.pem.rand.tmp").symlink_to(victim.path)
        result = layout.command("mkdhparams", "--force", env=_dh_env(layout, out))
        assert result.returncode == 0, result.stderr
        assert layout.listing() == ["dhparams.pem"]
        _assert_dh_file(out)
    else:
        env = _dh_env(layout, out, PLANT_BASES=str(out), PLANT_TARGET=str(victim.path))
        source = (textwrap.dedent(PLANT_AT_THE_NAME_DRAWN)
                  + "from mkcert.cli.dhparams import main\nraise SystemExit(main())\n")
        from conftest import ROOT
        env["PYTHONPATH"] = ROOT
        result = subprocess.run([sys.executable, "-c", source, "--force"],
                                env=env, capture_output=True, text=True, timeout=120)
        assert (result.returncode, result.stderr) == (0, "")
        assert layout.listing() == sorted(["dhparams.pem", "dhparams.pem" + PLANTED_SUFFIX])
        _assert_dh_file(out)
    victim.assert_untouched()


def test_dhparams_path_that_is_a_directory_fails_cleanly(layout):
    out = layout.certsdir / "dhparams.pem"
    out.mkdir()
    (out / "inside").write_bytes(b"keep")
    result = layout.command("mkdhparams", "--force", "--named-group", "ffdhe2048",
                            env=_dh_env(layout, out))
    assert_one_clean_line(result, 1, contains=[str(out)])
    assert layout.listing() == ["dhparams.pem"]
    assert os.listdir(out) == ["inside"]


# --- --renew ----------------------------------------------------------------

@pytest.mark.parametrize("planted", ["old-to-victim", "old-dangling", "pem-to-victim"])
def test_renew_never_writes_through_a_link(imapd, tmp_path, victim, planted):
    pem = imapd.certsdir / "imapd.pem"
    if planted == "pem-to-victim":
        pem.symlink_to(victim.path)
    else:
        assert imapd.command("mkimapdcert", "-q").returncode == 0
        aim = victim.path if planted == "old-to-victim" else tmp_path / "nowhere"
        (imapd.certsdir / "imapd.pem.old").symlink_to(aim)
    before = pem.read_bytes() if planted != "pem-to-victim" else None
    result = imapd.command("mkimapdcert", "-q", "--renew", "--force")
    victim.assert_untouched()
    assert not (tmp_path / "nowhere").exists()
    if planted == "pem-to-victim":
        assert_one_clean_line(result, 1, contains=["symbolic link"])
        assert os.readlink(pem) == str(victim.path)
        assert imapd.listing() == ["imapd.pem"]
    else:
        assert result.returncode == 0, result.stderr
        old = imapd.certsdir / "imapd.pem.old"
        assert not old.is_symlink() and old.read_bytes() == before
        assert sorted(imapd.listing()) == ["imapd.pem", "imapd.pem.old"]
        assert pem.read_bytes() != before
