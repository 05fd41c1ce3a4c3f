"""What PyPI would get: an sdist that is the whole project, a wheel that works alone.

The sdist is built from a copy of the checkout, and the wheel from the
unpacked sdist (so a file the sdist forgets breaks the wheel, as it would
for anyone building from PyPI).  Both are built without build isolation, by
setuptools' own PEP 517 hooks in this interpreter, so nothing is fetched.
The wheel is installed into a fresh virtualenv that sees only
cryptography and pyOpenSSL of this interpreter (a path line, which runs
none of the .pth files there, so an editable install of the checkout stays
invisible) and is run from an empty directory: what it imports comes from
the wheel or not at all.  openssl is the oracle for the certificate made.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

from conftest import ROOT, _cannot_run, current_user

BUILD_TIMEOUT = 300


def _repository_files():
    """What a clone holds: tracked files and new ones that are not ignored."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, timeout=60)
    if listed.returncode != 0 or not listed.stdout:
        _cannot_run(f"git cannot list the checkout: {listed.stderr.decode(errors='replace')}")
    names = [n.decode("utf-8", "surrogateescape") for n in listed.stdout.split(b"\0") if n]
    return sorted(n for n in names if os.path.lexists(os.path.join(ROOT, n)))


def _pep517(hook, source, outdir):
    """Run setuptools.build_meta's ``hook`` in ``source``; the name of what it built."""
    code = ("import sys; from setuptools import build_meta; "
            f"print(build_meta.{hook}(sys.argv[1]))")
    result = subprocess.run([sys.executable, "-c", code, str(outdir)], cwd=source,
                            capture_output=True, text=True, timeout=BUILD_TIMEOUT,
                            env=_clean_env())
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return os.path.join(outdir, result.stdout.strip().splitlines()[-1])


def _clean_env(**extra):
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("PYTHON", "COURIER_", "PIP_")) and name != "BITS"}
    env.update(extra)
    return env


def _can_build_wheels():
    """Whether this Python's setuptools has bdist_wheel (its own from 70.1 on)."""
    probe = subprocess.run(
        [sys.executable, "-c",
         "from setuptools.dist import Distribution; Distribution().get_command_class('bdist_wheel')"],
        capture_output=True, timeout=60, env=_clean_env())
    return probe.returncode == 0


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """(sdist, wheel): the sdist from a copy of the checkout, the wheel from the sdist."""
    if not _can_build_wheels():
        _cannot_run("this Python's setuptools cannot build wheels: it needs 70.1 or later "
                    "(pip install -e '.[test]' installs it)")
    work = tmp_path_factory.mktemp("packaging")
    source = work / "checkout"
    for relative in _repository_files():
        target = source / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(os.path.join(ROOT, relative), target, follow_symlinks=False)
    (work / "dist").mkdir()
    sdist = _pep517("build_sdist", source, work / "dist")
    with tarfile.open(sdist) as archive:
        archive.extractall(work / "unpacked", filter="data")
    [unpacked] = (work / "unpacked").iterdir()
    wheel = _pep517("build_wheel", unpacked, work / "dist")
    yield sdist, wheel
    shutil.rmtree(work)


@pytest.fixture(scope="module")
def venv(dist, tmp_path_factory):
    """A fresh virtualenv with the wheel installed (and nothing of the checkout)."""
    import cryptography
    import OpenSSL

    path = tmp_path_factory.mktemp("wheel-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=BUILD_TIMEOUT,
                   env=_clean_env())
    python = path / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                             capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    libraries = sorted({os.path.dirname(os.path.dirname(module.__file__))
                        for module in (cryptography, OpenSSL)})
    with open(os.path.join(purelib, "crypto-of-the-test-python.pth"), "w", encoding="utf-8") as f:
        f.write("".join(f"{directory}\n" for directory in libraries))
    result = subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                             "--disable-pip-version-check", dist[1]],
                            capture_output=True, text=True, timeout=BUILD_TIMEOUT, env=_clean_env())
    assert result.returncode == 0, result.stderr
    yield path
    shutil.rmtree(path)


def _sdist_members(sdist):
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    top = os.path.commonpath(names)
    return {os.path.relpath(name, top) for name in names}


def test_the_sdist_holds_every_file_of_the_checkout(dist):
    """Tests, man pages, examples, contrib hooks, Debian packaging: all of it."""
    members = _sdist_members(dist[0])
    files = [f for f in _repository_files() if f != ".gitignore"]
    for wanted in ("tests/", "docs/man/", "examples/", "contrib/", "bin/", "debian/"):
        assert any(f.startswith(wanted) for f in files), wanted
    assert [f for f in files if f not in members] == []
    assert not [m for m in members if "__pycache__" in m or m.endswith(".pyc")]


def _wheel_scripts(wheel):
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    return sorted(os.path.basename(n) for n in names if re.match(r"[^/]+\.data/scripts/", n))


def test_the_wheel_installs_every_command_of_bin(dist):
    assert _wheel_scripts(dist[1]) == sorted(os.listdir(os.path.join(ROOT, "bin")))


def _run(venv, tmp_path, command, *args, **env):
    """A command of the venv, from an empty directory, with no path into the checkout."""
    cwd = tmp_path / "cwd"
    cwd.mkdir(exist_ok=True)
    return subprocess.run([str(venv / "bin" / command), *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env=_clean_env(**env))


def test_the_installed_package_is_the_wheels_not_the_checkouts(venv, tmp_path):
    # cryptography comes from the test's own Python (a .pth above), which
    # under CI is the checkout's .venv: only the checkout itself must not
    # be on the path.
    result = _run(venv, tmp_path, "python", "-c",
                  "import json, sys, mkcert; print(mkcert.__file__); print(json.dumps(sys.path))")
    assert result.returncode == 0, result.stderr
    mkcert_file, path = result.stdout.splitlines()
    assert mkcert_file.startswith(str(venv) + os.sep), mkcert_file
    assert not mkcert_file.startswith(ROOT + os.sep)
    # ("" is the empty directory the command runs in.)
    assert [entry for entry in json.loads(path) if entry and os.path.realpath(entry) == ROOT] == []


def test_every_installed_command_answers_help_and_version(dist, venv, tmp_path):
    for command in _wheel_scripts(dist[1]):
        shown = _run(venv, tmp_path, command, "--help")
        assert shown.returncode == 0 and shown.stderr == "", (command, shown.stderr)
        assert shown.stdout.startswith("usage: "), (command, shown.stdout[:200])
        version = _run(venv, tmp_path, command, "--version")
        assert version.returncode == 0 and version.stdout.strip(), (command, version.stderr)


def test_the_installed_mkimapdcert_makes_a_certificate_openssl_reads(venv, tmp_path):
    etc = tmp_path / "etc"
    etc.mkdir()
    (etc / "imapd.cnf").write_text(
        "[ req ]\ndefault_bits = 2048\nencrypt_key = yes\ndistinguished_name = req_dn\n"
        "x509_extensions = cert_type\nprompt = no\n\n"
        "[ req_dn ]\nC=US\nO=Wheel Test\nCN=wheel.example.test\n\n"
        "[ cert_type ]\nnsCertType = server\n", encoding="utf-8")
    env = {"COURIER_SYSCONFDIR": str(etc), "COURIER_CERTSDIR": str(etc),
           "COURIER_MAILUSER": current_user()}
    made = _run(venv, tmp_path, "mkimapdcert", **env)
    pem = etc / "imapd.pem"
    try:
        assert made.returncode == 0, made.stderr
        assert oct(pem.stat().st_mode & 0o777) == "0o600"
        def openssl_subject(*nameopt):
            return subprocess.run(["openssl", "x509", "-in", str(pem), "-noout", "-subject",
                                   *nameopt], capture_output=True, text=True, timeout=60,
                                  check=True).stdout.strip()

        assert openssl_subject("-nameopt", "RFC2253") == "subject=CN=wheel.example.test,O=Wheel Test,C=US"
        assert made.stdout.splitlines()[0] == openssl_subject()
        from_key = subprocess.run(["openssl", "pkey", "-in", str(pem), "-pubout"],
                                  capture_output=True, timeout=60, check=True).stdout
        from_cert = subprocess.run(["openssl", "x509", "-in", str(pem), "-noout", "-pubkey"],
                                   capture_output=True, timeout=60, check=True).stdout
        assert from_key == from_cert
        again = _run(venv, tmp_path, "mkimapdcert", **env)
        assert (again.returncode, again.stdout) == (1, f"{pem} already exists.\n")
    finally:
        if pem.exists():
            pem.unlink()
    assert sorted(os.listdir(etc)) == ["imapd.cnf"]


def test_the_man_pages_are_installed_beside_the_commands(venv):
    installed = venv / "share" / "man" / "man8"
    pages = sorted(name for name in os.listdir(os.path.join(ROOT, "docs", "man")) if name.endswith(".8"))
    assert sorted(os.listdir(installed)) == pages
    for page in pages:
        with open(os.path.join(ROOT, "docs", "man", page), "rb") as handle:
            assert (installed / page).read_bytes() == handle.read(), page


@pytest.mark.skipif(shutil.which("man") is None, reason="man-db not installed")
def test_man_finds_the_pages_of_a_venv_on_path(venv, tmp_path):
    """As docs say: with the venv's bin/ on PATH, `man mkimapdcert` needs nothing else."""
    env = _clean_env(PATH=f"{venv / 'bin'}{os.pathsep}/usr/bin{os.pathsep}/bin")
    env.pop("MANPATH", None)
    found = subprocess.run(["man", "-w", "mkimapdcert"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=60)
    assert found.returncode == 0, found.stderr
    assert found.stdout.strip() == str(venv / "share" / "man" / "man8" / "mkimapdcert.8")
