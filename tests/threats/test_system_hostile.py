"""Hostile surroundings: killed runs, PID namespaces, closed streams, links, odd RANDFILEs.

Every test runs the real commands (``bin/mk*``), some behind a prelude that
steers the run to a precise point (kill it there, pause it there, signal
it there) before ``bin/`` takes over as usual.  The promises checked:

* a run killed with SIGKILL never blocks a later run, in a PID namespace
  (a container, where the command has the same PID every time) too, and its
  files are removed by the next run whoever owns them (the mail user);
* two runs sharing a directory from different PID namespaces never remove
  each other's live files;
* no error message names a temporary file; an unknown mail user says how
  to choose another;
* a ``RANDFILE`` line never changes the file it names;
* mkdhparams refuses to turn a device or a FIFO into a regular file;
* ``--renew`` and ``--install`` refuse a hard-linked PEM;
* closed or full standard streams, and signals once the result is
  published, never change the exit status.
"""

import os
import pwd
import shutil
import signal
import stat
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import BIN, ROOT, Layout, openssl, without_weak_choice_line
from test_threat_helpers import (assert_one_clean_line, assert_whole_or_nothing, load_whole_pem,
                                 tmpfs)

EXAMPLE = os.path.join(ROOT, "examples", "openssl", "imapd.cnf")
MAIL_USER = "nobody"  # a mail user that is not the running user
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
IN_PID_NAMESPACE = ["unshare", "--pid", "--fork", "--mount-proc"]
# In a fresh PID namespace the first process is its init, which the kernel
# shields from its own SIGKILL: a shell runs first (as init), so the
# command gets PID 2 every time, as in a container's entry point.
UNDER_A_SHELL = ["sh", "-c", '"$@"; exit $?', "sh"]

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (chown, mknod, unshare)")


@pytest.fixture
def imapd(layout):
    layout.install_config("imapd", EXAMPLE, bits=1024)
    return layout


def _dh_env(layout, **extra):
    return dict(layout.env, TLS_DHPARAMS=str(layout.certsdir / "dhparams.pem"),
                COURIER_SSLLIB="openssl", DH_BITS="512", **extra)


def steered(prelude, program, *args, prefix=()):
    """The command line running bin/``program`` after ``prelude``, in one process."""
    script = os.path.join(BIN, program)
    source = textwrap.dedent(prelude) + textwrap.dedent(f"""
        import runpy as _runpy, sys as _sys
        _sys.argv = [{script!r}] + _sys.argv[1:]
        _runpy.run_path({script!r}, run_name="__main__")
        """)
    return [*prefix, sys.executable, "-c", source, *map(str, args)]


def run(command, env, timeout=120):
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


def temporaries(layout):
    return [name for name in layout.listing() if ".tmp." in name]


# Dies by SIGKILL the moment a complete temporary whose name holds KILL_AT is on disk.
KILL_AFTER_FSYNC = """
    import os, signal
    _fsync = os.fsync
    def _fsync_then_die(fd):
        _fsync(fd)
        if os.environ["KILL_AT"] in os.readlink(f"/proc/self/fd/{fd}"):
            os.kill(os.getpid(), signal.SIGKILL)
    os.fsync = _fsync_then_die
"""

# Dies by SIGKILL the moment the PEM is published (linked), before anything after.
KILL_AFTER_LINK = """
    import os, signal
    _link = os.link
    def _link_then_die(*args, **kwargs):
        _link(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    os.link = _link_then_die
"""


# --- error messages -----------------------------------------------------------

def test_missing_directory_is_named_as_the_user_gave_it(imapd, tmp_path):
    where = tmp_path / "nonexistent" / "dir"
    result = imapd.command("mkimapdcert", where / "out4")
    line = assert_one_clean_line(result, 1)
    assert line == f"mkimapdcert: cannot create out4.rand in {where}: no such directory"
    assert not (tmp_path / "nonexistent").exists()


def test_mkdhparams_missing_directory_is_named_as_the_user_gave_it(layout, tmp_path):
    out = tmp_path / "nonexistent" / "dh.pem"
    env = dict(_dh_env(layout), TLS_DHPARAMS=str(out))
    for how in (["--named-group", "ffdhe2048"], []):  # the file itself; the search's seed first
        line = assert_one_clean_line(layout.command("mkdhparams", "--force", *how, env=env), 1)
        name = "dh.pem" if how else "dh.pem.rand.tmp"
        assert line == f"mkdhparams: cannot create {name} in {out.parent}: no such directory"
    assert not (tmp_path / "nonexistent").exists()


@needs_root
def test_disk_full_names_the_file_not_its_temporary(imapd, tmp_path):
    with tmpfs(tmp_path / "full", "size=16k") as mount:
        (mount / "filler").write_bytes(b"x" * 16384)
        env = dict(imapd.env, COURIER_CERTSDIR=str(mount))
        line = assert_one_clean_line(imapd.command("mkimapdcert", "-q", env=env), 1)
        assert line == f"mkimapdcert: cannot write imapd.rand in {mount}: No space left on device"
        assert os.listdir(mount) == ["filler"]


@pytest.mark.parametrize("program", ["mkimapdcert", "mkdhparams"])
def test_unknown_mail_user_says_how_to_choose_another(layout, program):
    layout.install_config("imapd", EXAMPLE, bits=1024)
    env = dict(_dh_env(layout), COURIER_MAILUSER="no-such-user-mkcert")
    args = ["--force", "--named-group", "ffdhe2048"] if program == "mkdhparams" else []
    line = assert_one_clean_line(layout.command(program, *args, env=env), 1)
    for text in ("unknown mail user 'no-such-user-mkcert'", "-u USER", "COURIER_MAILUSER"):
        assert text in line, line
    assert layout.listing() == []


# --- RANDFILE -------------------------------------------------------------------

def _identity(path):
    st = os.lstat(path)
    return path.read_bytes(), stat.S_IMODE(st.st_mode), st.st_ino, st.st_mtime_ns, st.st_nlink


@pytest.mark.parametrize("named", ["other-pem", "own-pem", "config"])
def test_randfile_line_never_changes_the_file_it_names(layout, named):
    """The key comes from the OS RNG: nothing needs the file, so it is never written."""
    other = layout.certsdir / "pop3d.pem"
    other.write_bytes(b"-----BEGIN PRIVATE KEY-----\npop3d's own\n")
    os.chmod(other, 0o600)
    config = layout.sysconfdir / "imapd.cnf"
    pem = layout.certsdir / "imapd.pem"
    randfile = {"other-pem": other, "own-pem": pem, "config": config}[named]
    text = open(EXAMPLE, encoding="utf-8").read().replace("default_bits = 2048", "default_bits = 1024")
    layout.install_config("imapd", None, text=f"RANDFILE = {randfile}\n" + text)
    before = {path: _identity(path) for path in (other, config)}
    result = layout.command("mkimapdcert", "-q")
    assert result.returncode == 0, result.stderr
    assert {path: _identity(path) for path in (other, config)} == before
    load_whole_pem(pem)
    assert layout.listing() == ["imapd.pem", "pop3d.pem"]
    again = layout.command("mkimapdcert")
    assert (again.returncode, again.stdout) == (1, f"{pem} already exists.\n")
    load_whole_pem(pem)


# --- PID namespaces and killed runs ----------------------------------------------

def _pid_namespaces_work():
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    return subprocess.run([*IN_PID_NAMESPACE, "true"], capture_output=True).returncode == 0


needs_pid_namespaces = pytest.mark.skipif(not _pid_namespaces_work(),
                                          reason="needs root and unshare --pid")


@needs_pid_namespaces
@pytest.mark.parametrize("start", ["as-init", "under-a-shell"])
def test_pid_named_leftovers_do_not_block_a_run_in_a_pid_namespace(imapd, start):
    """``touch imapd.pem.tmp.2; unshare --pid --fork --mount-proc sh -c mkimapdcert``."""
    for pid in range(1, 6):
        for which in ("pem", "rand"):
            (imapd.certsdir / f"imapd.{which}.tmp.{pid}").touch()
    prefix = IN_PID_NAMESPACE + (UNDER_A_SHELL if start == "under-a-shell" else [])
    result = run([*prefix, sys.executable, os.path.join(BIN, "mkimapdcert"), "-q"], imapd.env)
    assert (result.returncode, result.stderr) == (0, "")
    load_whole_pem(imapd.certsdir / "imapd.pem")
    # The one of the command's own PID is a dead run's (it never names a file
    # so); the others' PIDs are running processes here (init, the shell), or not.
    own = 2 if start == "under-a-shell" else 1
    assert not [n for n in imapd.listing() if n.endswith(f".tmp.{own}")], imapd.listing()


@needs_pid_namespaces
def test_a_run_killed_in_a_pid_namespace_does_not_block_the_next(imapd):
    prefix = IN_PID_NAMESPACE + UNDER_A_SHELL
    env = dict(imapd.env, KILL_AT="imapd.pem.tmp.")
    killed = run(steered(KILL_AFTER_FSYNC, "mkimapdcert", "-q", prefix=prefix), env)
    assert killed.returncode == 128 + signal.SIGKILL, killed.stderr
    assert len(temporaries(imapd)) == 1, imapd.listing()  # the dead run's copy of the key
    for attempt in range(2):
        again = run([*prefix, sys.executable, os.path.join(BIN, "mkimapdcert"), "-q"], imapd.env)
        if attempt == 0:
            assert (again.returncode, again.stderr) == (0, "")
            assert imapd.listing() == ["imapd.pem"]
        else:
            assert again.returncode == 1 and "already exists" in again.stdout
    load_whole_pem(imapd.certsdir / "imapd.pem")


PAUSE_AFTER_FSYNC = """
    import os, time
    _fsync = os.fsync
    def _fsync_then_wait(fd):
        _fsync(fd)
        if "imapd.pem.tmp." in os.readlink(f"/proc/self/fd/{fd}"):
            open(os.environ["PAUSED"], "w").close()
            deadline = time.monotonic() + 60
            while not os.path.exists(os.environ["RESUME"]) and time.monotonic() < deadline:
                time.sleep(0.01)
    os.fsync = _fsync_then_wait
"""


@needs_pid_namespaces
def test_runs_in_two_pid_namespaces_never_remove_each_others_files(imapd, tmp_path):
    """Two containers sharing a volume: both commands have PID 2; while one
    has its temporary (the key) on disk, the other runs in full."""
    prefix = IN_PID_NAMESPACE + UNDER_A_SHELL
    paused, resume = tmp_path / "paused", tmp_path / "resume"
    env = dict(imapd.env, PAUSED=str(paused), RESUME=str(resume))
    first = subprocess.Popen(steered(PAUSE_AFTER_FSYNC, "mkimapdcert", "-q", prefix=prefix),
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not paused.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert paused.exists(), first.communicate()
        [held] = temporaries(imapd)
        inode = os.lstat(imapd.certsdir / held).st_ino
        second = run([*prefix, sys.executable, os.path.join(BIN, "mkimapdcert"), "-q"], imapd.env)
        assert (second.returncode, second.stderr) == (0, "")
        assert os.lstat(imapd.certsdir / held).st_ino == inode  # still there, still the first run's
    finally:
        resume.touch()
        stdout, stderr = first.communicate(timeout=60)
    pem = imapd.certsdir / "imapd.pem"
    assert (first.returncode, stdout, stderr) == (1, f"{pem} already exists.\n", "")
    assert imapd.listing() == ["imapd.pem"]
    load_whole_pem(pem)


@needs_root
@pytest.mark.parametrize("program", ["mkimapdcert", "mkdhparams"])
def test_killed_run_of_a_non_root_mail_user_is_cleaned_up_by_the_next(layout, program):
    """The temporary belongs to the mail user from its first byte; the next run removes it."""
    layout.install_config("imapd", EXAMPLE, bits=1024)
    env = dict(_dh_env(layout), COURIER_MAILUSER=MAIL_USER)
    args = ["--force"] if program == "mkdhparams" else ["-q"]
    result = run(steered(KILL_AFTER_FSYNC, program, *args), dict(env, KILL_AT=".pem.tmp."))
    assert result.returncode == -signal.SIGKILL, result.stderr
    [left] = temporaries(layout)
    st = os.lstat(layout.certsdir / left)
    assert (st.st_uid, st.st_size > 0) == (pwd.getpwnam(MAIL_USER).pw_uid, True)
    again = layout.command(program, *args, env=env)
    assert again.returncode == 0, again.stderr
    final = "dhparams.pem" if program == "mkdhparams" else "imapd.pem"
    assert layout.listing() == [final]
    assert os.lstat(layout.certsdir / final).st_uid == pwd.getpwnam(MAIL_USER).pw_uid


@needs_root
def test_killed_once_published_leaves_no_seed_and_renewal_still_works(imapd):
    env = dict(imapd.env, COURIER_MAILUSER=MAIL_USER)
    result = run(steered(KILL_AFTER_LINK, "mkimapdcert", "-q"), env)
    assert result.returncode == -signal.SIGKILL, result.stderr
    names = imapd.listing()
    # The published PEM, and at most its temporary name (a second link to it):
    # no seed file that every later "already exists" would keep.
    assert "imapd.pem" in names and "imapd.rand" not in names, names
    assert all(name.startswith("imapd.pem.tmp.") for name in names if name != "imapd.pem")
    load_whole_pem(imapd.certsdir / "imapd.pem")
    renewed = imapd.command("mkimapdcert", "-q", "--renew", "--force", env=env)
    assert renewed.returncode == 0, renewed.stderr
    assert imapd.listing() == ["imapd.pem", "imapd.pem.old"]


# --- what is at TLS_DHPARAMS or the PEM -------------------------------------------

@needs_root
@pytest.mark.parametrize("node", ["fifo", "character-device"])
@pytest.mark.parametrize("how", [["--force", "--named-group", "ffdhe2048"], ["--force"], []],
                         ids=["named-group", "search", "not-forced"])
def test_mkdhparams_never_turns_a_node_into_a_file(layout, node, how):
    out = layout.certsdir / "dhparams.pem"
    if node == "fifo":
        os.mkfifo(out)
    else:
        os.mknod(out, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # what /dev/null is
    before = os.lstat(out)
    result = layout.command("mkdhparams", *how, env=_dh_env(layout), timeout=60)
    assert_one_clean_line(result, 1, contains=[str(out), "not a regular file"])
    after = os.lstat(out)
    assert (after.st_ino, after.st_mode, after.st_rdev) == (before.st_ino, before.st_mode,
                                                           before.st_rdev)
    assert layout.listing() == ["dhparams.pem"]


def test_mkdhparams_replaces_a_hard_linked_name_as_mv_does(layout, tmp_path):
    """Upstream's ``mv -f``: the name gets the new file, the other name keeps
    the old parameters (still valid: DH parameters do not expire)."""
    out = layout.certsdir / "dhparams.pem"
    env = _dh_env(layout)
    assert layout.command("mkdhparams", "--named-group", "ffdhe2048", env=env).returncode == 0
    other = tmp_path / "shared-dhparams.pem"
    os.link(out, other)
    old = other.read_bytes()
    result = layout.command("mkdhparams", "--force", "--named-group", "ffdhe3072", env=env)
    assert result.returncode == 0, result.stderr
    assert other.read_bytes() == old and out.read_bytes() != old
    assert os.lstat(out).st_nlink == 1


def _install_material(directory):
    directory.mkdir(mode=0o700)
    key, cert = directory / "key.pem", directory / "cert.pem"
    openssl("req", "-x509", "-newkey", "rsa:1024", "-nodes", "-keyout", key, "-out", cert,
            "-subj", "/CN=mail.example.com", "-days", "30")
    os.chmod(key, 0o600)
    return ["--install", "--key", key, "--cert", cert]


@pytest.mark.parametrize("action", ["renew", "install"])
def test_hard_linked_pem_is_refused(imapd, tmp_path, action):
    """Replacing one name would leave the other with the expiring certificate."""
    assert imapd.command("mkimapdcert", "-q").returncode == 0
    pem = imapd.certsdir / "imapd.pem"
    other = tmp_path / "pop3d-shares-it.pem"
    os.link(pem, other)
    before = _identity(pem)
    args = (["--renew", "--force"] if action == "renew"
            else _install_material(tmp_path / "material"))
    result = imapd.command("mkimapdcert", "-q", *args)
    assert_one_clean_line(result, 1, contains=[str(pem), "2 hard links"])
    assert _identity(pem) == before and os.path.samefile(pem, other)
    assert imapd.listing() == ["imapd.pem"]


# --- standard streams -------------------------------------------------------------

REDIRECTIONS = {"stdout-closed": ">&-", "stderr-closed": "2>&-", "both-closed": ">&- 2>&-",
                "stdout-full": ">/dev/full", "stderr-full": "2>/dev/full"}
# What each command says by its exit status (README: 0 made or fine, 1 exists
# or failed, 2 usage), whatever became of its output.
STREAM_CASES = {
    "make": ("mkimapdcert", [], None, 0),
    "already-exists": ("mkimapdcert", [], "pem", 1),
    "check": ("mkimapdcert", ["--check"], "pem", 0),
    "renew-not-due": ("mkimapdcert", ["--renew"], "pem", 0),
    "version": ("mkimapdcert", ["--version"], None, 0),
    "help": ("mkcouriercert", ["--help"], None, 0),
    "usage-error": ("mkimapdcert", ["--days", "soon"], None, 2),
    "config-error": ("mkimapdcert", ["--config", "missing.cnf"], None, 1),
    "dh-make": ("mkdhparams", ["--force", "--named-group", "ffdhe2048"], None, 0),
    "dh-fresh": ("mkdhparams", [], "dh", 0),
    "dh-version": ("mkdhparams", ["--version"], None, 0),
    "dh-usage-error": ("mkdhparams", ["--jobs", "0"], None, 2),
    "dh-error": ("mkdhparams", ["--force"], "bad-group", 1),
}


@pytest.fixture(scope="module")
def made_pem(tmp_path_factory):
    layout = Layout(tmp_path_factory.mktemp("made"))
    layout.install_config("imapd", EXAMPLE)  # 2048 bits: --check says OK (status 0)
    assert layout.command("mkimapdcert", "-q").returncode == 0
    return (layout.certsdir / "imapd.pem").read_bytes()


@pytest.mark.parametrize("streams", sorted(REDIRECTIONS))
@pytest.mark.parametrize("case", sorted(STREAM_CASES))
def test_closed_or_full_streams_never_change_the_exit_status(imapd, made_pem, case, streams):
    program, args, prepared, status = STREAM_CASES[case]
    env = _dh_env(imapd)
    if prepared == "pem":
        (imapd.certsdir / "imapd.pem").write_bytes(made_pem)
        os.chmod(imapd.certsdir / "imapd.pem", 0o600)
    elif prepared == "dh":
        assert imapd.command("mkdhparams", "--named-group", "ffdhe2048", env=env).returncode == 0
    elif prepared == "bad-group":
        env["DH_GROUP"] = "ffdhe1"
    before = imapd.listing()
    command = ["sh", "-c", f'exec "$@" {REDIRECTIONS[streams]}', "sh",
               sys.executable, os.path.join(BIN, program), *args]
    result = subprocess.run(command, env=env, cwd=imapd.sysconfdir, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and "Exception ignored" not in result.stderr
    if case == "make":
        assert assert_whole_or_nothing(imapd.certsdir)
    elif case == "dh-make":
        assert imapd.listing() == ["dhparams.pem"]
    else:
        assert imapd.listing() == before
    if streams == "stdout-full" and status == 0 and case not in ("dh-make", "dh-fresh"):
        # What could not be printed is said once, on stderr.
        assert without_weak_choice_line(result.stderr).endswith(
            f"{program}: warning: cannot write to standard output: No space left on device\n")


# --- signals once the work is published -----------------------------------------

SIGNAL_AFTER_PUBLICATION = """
    import os, signal
    SIG, POINT = int(os.environ["TRIAL_SIGNAL"]), os.environ["TRIAL_POINT"]
    MAIN = os.getpid()
    def hit():
        if os.getpid() == MAIN:  # not in a key search's child process
            os.kill(MAIN, SIG)
    if POINT == "report":
        from mkcert.x509 import inspect as report
        _summary = report.summary_lines
        def _patched(*args, **kwargs):
            hit()
            return _summary(*args, **kwargs)
        report.summary_lines = _patched
    elif POINT == "run-ended":
        from mkcert.system import publish
        _exit = publish.Run.__exit__
        def _patched(self, *exc):
            result = _exit(self, *exc)
            hit()
            return result
        publish.Run.__exit__ = _patched
    elif POINT == "process-exit":
        _os_exit = os._exit
        def _patched(status):
            hit()
            _os_exit(status)
        os._exit = _patched
"""


@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
@pytest.mark.parametrize("program, args, point", [
    ("mkimapdcert", [], "report"),
    ("mkimapdcert", [], "run-ended"),
    ("mkimapdcert", [], "process-exit"),
    ("mkimapdcert", ["--renew", "--force"], "report"),
    ("mkdhparams", ["--force", "--named-group", "ffdhe2048"], "run-ended"),
], ids=["make-report", "make-run-ended", "make-process-exit", "renew-report", "dh-run-ended"])
def test_signal_after_publication_keeps_exit_zero(imapd, made_pem, program, args, point, signum):
    pem = imapd.certsdir / "imapd.pem"
    if "--renew" in args:
        pem.write_bytes(made_pem)
        os.chmod(pem, 0o600)
    env = dict(_dh_env(imapd), TRIAL_SIGNAL=str(int(signum)), TRIAL_POINT=point)
    result = run(steered(SIGNAL_AFTER_PUBLICATION, program, *args), env)
    # (the quick 1024-bit key is weak, which a first run says once it is made)
    assert (result.returncode, without_weak_choice_line(result.stderr)) == (0, ""), result
    if program == "mkdhparams":
        assert imapd.listing() == ["dhparams.pem"]
    else:
        load_whole_pem(pem)
        assert "SHA1 Fingerprint=" in result.stdout
