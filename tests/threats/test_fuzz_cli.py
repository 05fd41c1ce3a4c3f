"""Property tests: the command lines never crash, hang or leave a file behind.

``mkcert.cli.main.main`` and ``mkcert.cli.dhparams.main`` run in this process on random
and grammar-shaped argument lists, in a private layout with the current
directory inside it.  Allowed outcomes: a status (0 to 3), or argparse's
SystemExit; a failure says one line on stderr and never shows a
traceback; afterwards every file is a config we wrote or a whole PEM, and
no temporary or seed file is left.
"""

import contextlib
import io
import os
import shutil
import signal
import tempfile
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import current_user, data_path
from test_threat_helpers import UPSTREAM_IMAPD, load_whole_pem

SCALE = int(os.environ.get("MKCERT_FUZZ_SCALE", "1"))
SETTINGS = dict(deadline=None, suppress_health_check=list(HealthCheck))
SECONDS = 30


class Hang(Exception):
    pass


@contextlib.contextmanager
def sandbox():
    """A layout, its environment, and the current directory inside it."""
    # Read before the directory exists: a failure here leaves nothing behind.
    openssl = open(data_path(*UPSTREAM_IMAPD)).read().replace("4096", "1024")
    base = tempfile.mkdtemp(prefix="mkcert-fuzz-")
    etc, certs = os.path.join(base, "etc"), os.path.join(base, "certs")
    os.mkdir(etc)
    os.mkdir(certs)
    for name in ("imapd", "esmtpd"):
        with open(os.path.join(etc, f"{name}.cnf"), "w") as handle:
            handle.write(openssl)
    with open(os.path.join(etc, "pop3d.cnf"), "w") as handle:
        handle.write("cn = localhost\nexpiration_days = 30\n")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "COURIER_SYSCONFDIR": etc,
           "COURIER_CERTSDIR": certs, "COURIER_MAILUSER": current_user(), "BITS": "512",
           "TLS_DHPARAMS": os.path.join(certs, "dhparams.pem"), "DH_BITS": "512",
           "COURIER_SSLLIB": "openssl"}
    cwd = os.getcwd()
    os.chdir(base)
    try:
        yield base, env
    finally:
        os.chdir(cwd)
        shutil.rmtree(base, ignore_errors=True)


def run_main(function, *args, **kwargs):
    """Call a main; return (status, stdout, stderr) and enforce the time limit."""
    out, err = io.StringIO(), io.StringIO()

    def expire(signum, frame):
        raise Hang(f"no answer within {SECONDS} s")

    old = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, SECONDS)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = function(*args, **kwargs)
            except SystemExit as exc:  # argparse: --help, --version, usage errors
                status = exc.code if isinstance(exc.code, int) else 1
                assert status in (0, 2, 3), (status, err.getvalue())
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)
    return status, out.getvalue(), err.getvalue()


def assert_clean(base, status, stdout, stderr):
    assert isinstance(status, int) and 0 <= status <= 3, status
    assert "Traceback" not in stderr, stderr
    if status == 1 and stderr:
        assert len(stderr.strip().splitlines()) == 1, stderr
    for directory, _, names in os.walk(base):
        for name in names:
            path = os.path.join(directory, name)
            relative = os.path.relpath(path, base)
            if relative.startswith("etc" + os.sep):
                continue
            assert ".tmp." not in name and not name.endswith(".rand"), relative
            if name == "dhparams.pem":
                data = open(path, "rb").read()
                assert data.startswith(b"-----BEGIN DH PARAMETERS-----"), relative
                continue
            assert name.endswith(".pem"), f"unexpected file {relative}"
            load_whole_pem(path)


OPTIONS = ["-q", "--quiet", "-c", "--config", "-u", "--user", "--days", "--version", "--help",
           "--check", "--json", "--warn", "--renew", "--before", "--force", "--san", "--", "-",
           "-x", "--nosuch", "--days=", "--user=", "-qq", "-cu",
           # DANE (not --tlsa-from-dns: it would ask the system's resolvers)
           "--tlsa", "--port", "--host", "--tlsa-usage", "--tlsa-records"]
VALUES = ["0", "1", "30", "-1", "99999999", "abc", "", ".", "etc/imapd.cnf", "etc/pop3d.cnf",
          "etc", "/nonexistent/x", "out", "certs/other", "root", "nobody", "4294967295",
          "nosuchuser", "DNS:x.example", "IP:127.0.0.1", "email:a@b", "bad", "imapd", "pop3d",
          "../x", "x.pem", "1e3", "\udcff", "é"]
TOKENS = st.one_of(st.sampled_from(OPTIONS), st.sampled_from(VALUES),
                   st.text(alphabet=st.characters(blacklist_characters="\0/",
                                                  blacklist_categories=("Cs",)), max_size=12))
PROGRAMS = st.sampled_from(["mkimapdcert", "mkpop3dcert", "mkesmtpdcert", "mkcouriercert",
                            "mktestdcert", "mkcert", "python3"])


@settings(max_examples=120 * SCALE, **SETTINGS)
@given(PROGRAMS, st.lists(TOKENS, max_size=6), st.sampled_from(["512", "low", "1024", "x"]))
def test_mkcert_command_lines(program, argv, bits):
    from mkcert.cli.main import main

    with sandbox() as (base, env):
        env["BITS"] = bits  # RSA bits or level for a template, DH bits for esmtpd
        status, stdout, stderr = run_main(main, argv, program=program, environ=env)
        assert_clean(base, status, stdout, stderr)


DH_OPTIONS = ["--force", "--named-group", "ffdhe2048", "FFDHE3072", "ffdhe1", "--jobs", "1",
              "2", "0", "-u", "root", "nosuchuser", "-q", "--version", "--help", "--bogus", "x",
              "--named-group=ffdhe2048", "--jobs=-1", ""]


@settings(max_examples=60 * SCALE, **SETTINGS)
@given(st.lists(st.one_of(st.sampled_from(DH_OPTIONS),
                          st.text(alphabet=st.characters(blacklist_characters="\0",
                                                         blacklist_categories=("Cs",)),
                                  max_size=8)), max_size=5),
       st.dictionaries(st.sampled_from(["DH_BITS", "DH_GROUP", "COURIER_SSLLIB"]),
                       st.sampled_from(["512", "", "abc", "ffdhe2048", "openssl", "low", "0",
                                        "99999", "x"]), max_size=2))
def test_mkdhparams_command_lines(argv, extra):
    from mkcert.cli.dhparams import main

    with sandbox() as (base, env):
        env.update(extra)
        if env.get("COURIER_SSLLIB") != "openssl" or env.get("DH_BITS") == "low":
            env["DH_GROUP"] = "ffdhe2048"  # never run certtool or a long search here
        if env.get("DH_BITS") == "99999":
            env["DH_BITS"] = "20000"  # refused at once, never searched
        with mock.patch.dict(os.environ, env, clear=True):
            status, stdout, stderr = run_main(main, argv)
        assert_clean(base, status, stdout, stderr)
