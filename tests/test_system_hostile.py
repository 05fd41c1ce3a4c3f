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

from conftest import BIN, ROOT, Layout, openssl
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
        assert result.stderr.endswith(
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
        from mkcert import report
        _summary = report.summary_lines
        def _patched(*args, **kwargs):
            hit()
            return _summary(*args, **kwargs)
        report.summary_lines = _patched
    elif POINT == "run-ended":
        from mkcert import publish
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
    assert (result.returncode, result.stderr) == (0, ""), result
    if program == "mkdhparams":
        assert imapd.listing() == ["dhparams.pem"]
    else:
        load_whole_pem(pem)
        assert "SHA1 Fingerprint=" in result.stdout
