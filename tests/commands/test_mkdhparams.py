"""The mkdhparams command, run as a subprocess against a temporary TLS_DHPARAMS."""

import os
import pwd
import stat
import subprocess
import sys
import time

import pytest

from mkcert.actions import dhparams as dhaction
from mkcert.cli import dhparams as dhcli
from mkcert.x509 import dhparams

from conftest import ROOT as REPO  # noqa: E402
SCRIPT = os.path.join(REPO, "bin", "mkdhparams")
DAY = 86400
ME = pwd.getpwuid(os.geteuid()).pw_name


def environment(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURIER_", "DH_", "TLS_"))}
    env.update(
        PYTHONPATH=REPO,
        COURIER_CERTSDIR=str(tmp_path),
        COURIER_MAILUSER=ME,
        COURIER_SSLLIB="openssl",
        DH_BITS="512",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def mkdhparams(tmp_path, *args, timeout=60, **extra):
    return subprocess.run([sys.executable, SCRIPT, *args], env=environment(tmp_path, **extra),
                          capture_output=True, timeout=timeout, stdin=subprocess.DEVNULL)


def start(tmp_path, *args, **extra):
    return subprocess.Popen([sys.executable, SCRIPT, *args], env=environment(tmp_path, **extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)


def check_dh(path):
    result = subprocess.run(["openssl", "dhparam", "-check", "-noout", "-in", str(path)], capture_output=True)
    assert result.returncode == 0, result.stderr
    return result


def one_error_line(result, status=1):
    assert result.returncode == status, result
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("mkdhparams: ")
    assert "Traceback" not in result.stderr.decode()
    return lines[0]


def leftovers(tmp_path, keep=("dhparams.pem",)):
    return sorted(name for name in os.listdir(tmp_path) if name not in keep)


# --- the basic contract ------------------------------------------------------

def test_creates_file_default_path_mode_owner(tmp_path):
    result = mkdhparams(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == b"" and result.stderr == b""  # not a terminal: silent
    path = tmp_path / "dhparams.pem"
    st = path.lstat()
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == os.geteuid()
    check_dh(path)
    assert leftovers(tmp_path) == []


def test_tls_dhparams_names_the_file(tmp_path):
    target = tmp_path / "sub" / "dh.pem"
    target.parent.mkdir()
    result = mkdhparams(tmp_path, TLS_DHPARAMS=target)
    assert result.returncode == 0, result.stderr
    check_dh(target)
    assert not (tmp_path / "dhparams.pem").exists()


def test_dh_bits_sets_the_size(tmp_path):
    assert mkdhparams(tmp_path, DH_BITS=1024).returncode == 0
    pem = (tmp_path / "dhparams.pem").read_bytes()
    assert b"DH Parameters: (1024 bit)" in subprocess.run(
        ["openssl", "pkeyparam", "-text", "-noout"], input=pem, capture_output=True, check=True).stdout


def test_jobs_option(tmp_path):
    assert mkdhparams(tmp_path, "--jobs", "1").returncode == 0
    check_dh(tmp_path / "dhparams.pem")


@pytest.mark.parametrize("args", [["--jobs", "0"], ["--jobs", "x"], ["--named-group", "ffdhe1024"], ["--bogus"], ["extra"]])
def test_usage_errors_exit_2(tmp_path, args):
    result = mkdhparams(tmp_path, *args)
    assert result.returncode == 2
    assert b"usage:" in result.stderr and b"Traceback" not in result.stderr
    assert leftovers(tmp_path, keep=()) == []


def test_help_and_version_do_not_import_crypto():
    code = ("import sys\nfrom mkcert.cli.dhparams import main\n"
            "for argv in (['--help'], ['--version']):\n"
            "    try: main(argv)\n"
            "    except SystemExit: pass\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('cryptography', 'OpenSSL', 'ctypes', 'multiprocessing')]\n"
            "print('IMPORTED', bad, file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, env=dict(os.environ, PYTHONPATH=REPO))
    assert b"IMPORTED []" in result.stderr
    assert b"--named-group" in result.stdout and b"courier-mkcert" in result.stdout


# --- freshness: GNU find's -mtime +25 ------------------------------------------

AGES = [0, DAY, 25 * DAY, 26 * DAY - 60, 26 * DAY + 60, 27 * DAY, 400 * DAY, -DAY]


def upstream_would_skip(path):
    """Upstream's test, run by the shell and GNU find themselves."""
    script = 'test -f "$1" && test -z "$(find "$1" -mtime +25)"'
    return subprocess.run(["sh", "-c", script, "sh", str(path)]).returncode == 0


@pytest.mark.parametrize("age", AGES)
def test_is_fresh_agrees_with_find(tmp_path, age):
    path = tmp_path / "dh.pem"
    path.write_bytes(b"x")
    when = time.time() - age
    os.utime(path, (when, when))
    assert dhaction.is_fresh(str(path)) == upstream_would_skip(path)
    assert dhaction.is_fresh(str(path)) == (age < 26 * DAY)


def test_is_fresh_symlinks_like_find_and_test(tmp_path):
    target = tmp_path / "target"
    target.write_bytes(b"x")
    link = tmp_path / "link"
    link.symlink_to(target)
    old = time.time() - 40 * DAY
    # old link, fresh target: find looks at the link itself -> stale
    os.utime(link, (old, old), follow_symlinks=False)
    assert dhaction.is_fresh(str(link)) is upstream_would_skip(link) is False
    # fresh link, old target: fresh
    os.utime(link, None, follow_symlinks=False)
    os.utime(target, (old, old))
    assert dhaction.is_fresh(str(link)) is upstream_would_skip(link) is True
    # dangling link: test -f fails -> stale
    target.unlink()
    assert dhaction.is_fresh(str(link)) is upstream_would_skip(link) is False
    assert dhaction.is_fresh(str(tmp_path / "missing")) is False
    assert dhaction.is_fresh(str(tmp_path)) is False  # a directory


def age_file(path, age):
    when = time.time() - age
    os.utime(path, (when, when))


def test_fresh_file_is_left_alone(tmp_path):
    path = tmp_path / "dhparams.pem"
    path.write_bytes(b"old contents")
    os.chmod(path, 0o644)
    age_file(path, 26 * DAY - 120)
    before = path.lstat()
    # Like upstream, a fresh file ends the run before anything else is looked at.
    for extra in ({}, {"DH_BITS": "nonsense"}, {"COURIER_MAILUSER": "no-such-user-xyz"}, {"DH_GROUP": "ffdhe2048"}):
        result = mkdhparams(tmp_path, **extra)
        assert result.returncode == 0 and result.stdout == b"" and result.stderr == b"", extra
    after = path.lstat()
    assert path.read_bytes() == b"old contents"
    assert (after.st_ino, after.st_mtime, after.st_mode) == (before.st_ino, before.st_mtime, before.st_mode)
    assert leftovers(tmp_path) == []


def test_stale_file_is_replaced_atomically(tmp_path):
    path = tmp_path / "dhparams.pem"
    path.write_bytes(b"old contents")
    os.chmod(path, 0o644)
    age_file(path, 26 * DAY + 120)
    before = path.lstat()
    result = mkdhparams(tmp_path)
    assert result.returncode == 0, result.stderr
    after = path.lstat()
    assert after.st_ino != before.st_ino  # a new file renamed over, not rewritten in place
    assert stat.S_IMODE(after.st_mode) == 0o600
    check_dh(path)
    assert leftovers(tmp_path) == []


def test_force_regenerates_a_fresh_file(tmp_path):
    assert mkdhparams(tmp_path).returncode == 0
    first = (tmp_path / "dhparams.pem").read_bytes()
    assert mkdhparams(tmp_path).returncode == 0
    assert (tmp_path / "dhparams.pem").read_bytes() == first
    assert mkdhparams(tmp_path, "--force").returncode == 0
    assert (tmp_path / "dhparams.pem").read_bytes() != first


def test_symlink_at_the_path_is_replaced_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    link = tmp_path / "dhparams.pem"
    link.symlink_to(victim)
    old = time.time() - 40 * DAY
    os.utime(link, (old, old), follow_symlinks=False)
    assert mkdhparams(tmp_path).returncode == 0
    assert victim.read_bytes() == b"precious"
    assert not link.is_symlink()
    check_dh(link)


# --- named groups --------------------------------------------------------------

@pytest.mark.parametrize("name", ["ffdhe2048", "ffdhe3072"])
def test_named_group_option(tmp_path, name):
    result = mkdhparams(tmp_path, "--named-group", name)
    assert result.returncode == 0, result.stderr
    expected = subprocess.run(["openssl", "genpkey", "-genparam", "-algorithm", "DH", "-pkeyopt", f"group:{name}"],
                              capture_output=True, check=True).stdout
    assert (tmp_path / "dhparams.pem").read_bytes() == expected
    assert leftovers(tmp_path) == []  # no seed file for a named group


@pytest.mark.parametrize("flavour", ["gnutls", "openssl"])
def test_dh_group_environment(tmp_path, flavour):
    result = mkdhparams(tmp_path, DH_GROUP="ffdhe4096", COURIER_SSLLIB=flavour)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "dhparams.pem").read_bytes() == dhparams.named_group_pem("ffdhe4096")


def test_option_overrides_dh_group(tmp_path):
    assert mkdhparams(tmp_path, "--named-group", "ffdhe2048", DH_GROUP="ffdhe8192").returncode == 0
    assert (tmp_path / "dhparams.pem").read_bytes() == dhparams.named_group_pem("ffdhe2048")


def test_unknown_dh_group_creates_nothing(tmp_path):
    line = one_error_line(mkdhparams(tmp_path, DH_GROUP="ffdhe1234"))
    assert "ffdhe1234" in line
    assert leftovers(tmp_path, keep=()) == []


# --- errors leave nothing behind ------------------------------------------------

@pytest.mark.parametrize("extra, needle", [
    ({"COURIER_MAILUSER": "no-such-user-xyz"}, "no-such-user-xyz"),
    ({"DH_BITS": "256"}, "DH_BITS"),
    ({"DH_BITS": "many"}, "DH_BITS"),
    ({"COURIER_SSLLIB": "nss"}, "COURIER_SSLLIB"),
])
def test_bad_input_is_one_line_and_creates_nothing(tmp_path, extra, needle):
    line = one_error_line(mkdhparams(tmp_path, **extra))
    assert needle in line
    assert leftovers(tmp_path, keep=()) == []


def test_missing_directory(tmp_path):
    line = one_error_line(mkdhparams(tmp_path, TLS_DHPARAMS=tmp_path / "nodir" / "dh.pem"))
    assert "nodir" in line
    assert leftovers(tmp_path, keep=()) == []


def test_unwritable_directory_keeps_old_file(tmp_path):
    path = tmp_path / "dhparams.pem"
    path.write_bytes(b"old")
    age_file(path, 40 * DAY)
    # Root writes through mode bits, not through the immutable attribute.
    lock, unlock = ((["chattr", "+i", str(tmp_path)], ["chattr", "-i", str(tmp_path)])
                    if os.geteuid() == 0 else (None, None))
    if lock:
        subprocess.run(lock, check=True, capture_output=True)
    else:
        os.chmod(tmp_path, 0o555)
    try:
        one_error_line(mkdhparams(tmp_path))
    finally:
        if unlock:
            subprocess.run(unlock, check=True, capture_output=True)
        else:
            os.chmod(tmp_path, 0o755)
    assert path.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_user_option_overrides_mailuser(tmp_path):
    result = mkdhparams(tmp_path, "-u", "no-such-user-xyz")
    assert "no-such-user-xyz" in one_error_line(result)
    assert mkdhparams(tmp_path, "--user", ME, COURIER_MAILUSER="no-such-user-xyz").returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file away needs root")
def test_file_is_given_to_the_mail_user(tmp_path):
    nobody = pwd.getpwnam("nobody")
    result = mkdhparams(tmp_path, COURIER_MAILUSER="nobody")
    assert result.returncode == 0, result.stderr
    st = (tmp_path / "dhparams.pem").lstat()
    assert st.st_uid == nobody.pw_uid
    assert st.st_gid == os.getegid()  # only the user changes, like `chown courier`
    assert stat.S_IMODE(st.st_mode) == 0o600


def test_stale_temporaries_of_killed_runs_are_removed(tmp_path):
    dead = int(open("/proc/sys/kernel/pid_max").read()) + 1  # no process can have this pid
    stale = [tmp_path / f"dhparams.pem.tmp.{dead}", tmp_path / f"dhparams.pem.rand.tmp.tmp.{dead}"]
    for path in stale:
        path.write_bytes(b"junk")
    live = tmp_path / f"dhparams.pem.tmp.{os.getpid()}"  # a running process's file stays
    live.write_bytes(b"busy")
    (tmp_path / "dhparams.pem.rand.tmp").write_bytes(b"seed left by a SIGKILLed run")
    assert mkdhparams(tmp_path).returncode == 0
    assert leftovers(tmp_path) == [live.name]


# --- the gnutls flavour: certtool's own output ----------------------------------

def certtool_info(path):
    return subprocess.run(["certtool", "--dh-info", "--infile", str(path)], capture_output=True, check=True).stdout


@pytest.mark.parametrize("size, bits", [("low", 1024), ("1024", 1024)])
def test_gnutls_flavour_writes_what_certtool_writes(tmp_path, size, bits):
    result = mkdhparams(tmp_path, COURIER_SSLLIB="gnutls", DH_BITS=size)
    assert result.returncode == 0, result.stderr
    data = (tmp_path / "dhparams.pem").read_bytes()
    # certtool's layout: a text dump, then the PEM (GnuTLS's reader skips the text)
    head, pem = data.split(b"-----BEGIN DH PARAMETERS-----")
    assert head.startswith(b"\nRecommended key length: ") and b"\ngenerator:\n\t" in head and b"\nprime:\n\t" in head
    pem = b"-----BEGIN DH PARAMETERS-----" + pem
    assert stat.S_IMODE((tmp_path / "dhparams.pem").lstat().st_mode) == 0o600
    p, g, q_bits = [int(line.rsplit(":", 1)[1], 16) for line in subprocess.run(
        ["openssl", "asn1parse"], input=pem, capture_output=True, check=True).stdout.decode().splitlines()
        if "INTEGER" in line]
    assert p.bit_length() == bits and q_bits == 160 and g != 2  # DSA-style, not a safe prime
    assert f"Recommended key length: {q_bits} bits".encode() in head
    assert b"prime:" in certtool_info(tmp_path / "dhparams.pem")
    assert leftovers(tmp_path) == []  # no seed file in the gnutls flavour


def test_gnutls_flavour_without_certtool(tmp_path):
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    line = one_error_line(mkdhparams(tmp_path, COURIER_SSLLIB="gnutls", PATH=str(empty)))
    assert "certtool" in line
    assert leftovers(tmp_path, keep=("empty-bin",)) == []


def test_gnutls_flavour_certtool_failure(tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "certtool").write_text("#!/bin/sh\necho 'noise' >&2\necho 'certtool: it broke' >&2\nexit 3\n")
    os.chmod(fake / "certtool", 0o755)
    line = one_error_line(mkdhparams(tmp_path, COURIER_SSLLIB="gnutls", PATH=f"{fake}:/usr/bin:/bin"))
    assert "it broke" in line
    assert leftovers(tmp_path, keep=("bin",)) == []


# --- how the environment is read -------------------------------------------------

def plan(*argv, **environ):
    args = dhcli.build_parser().parse_args(list(argv))
    return dhaction.plan_for(environ, user=args.user, jobs=args.jobs, group=args.named_group)


def test_plan_defaults_follow_the_flavour():
    openssl_plan = plan(COURIER_SSLLIB="openssl")
    assert (openssl_plan.bits, openssl_plan.group) == (2048, None)
    gnutls_plan = plan()  # the default flavour is Debian's: gnutls
    assert (gnutls_plan.flavour, gnutls_plan.size, gnutls_plan.bits) == ("gnutls", "high", 3072)
    assert dhaction._certtool_size_args(gnutls_plan.size) == ["--sec-param", "high"]
    assert dhaction._certtool_size_args("1024") == ["--bits", "1024"]
    assert plan(COURIER_SSLLIB="gnutls", DH_BITS="Medium").bits == 2048
    assert plan(COURIER_SSLLIB="openssl", DH_BITS="legacy").bits == 1776
    assert plan(TLS_DHPARAMS="/x/y.pem").path == "/x/y.pem"
    assert plan(COURIER_CERTSDIR="/c").path == "/c/dhparams.pem"
    assert plan().path == "/etc/courier/dhparams.pem"
    assert plan().user == "courier" and plan("-u", "mail", COURIER_MAILUSER="daemon").user == "mail"
    assert plan("--named-group", "FFDHE3072").group == "ffdhe3072"
    assert plan(DH_GROUP="ffdhe6144").group == "ffdhe6144"


def test_concurrent_runs_both_succeed(tmp_path):
    procs = [start(tmp_path, "--force") for _ in range(3)]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    check_dh(tmp_path / "dhparams.pem")
    assert leftovers(tmp_path) == []
