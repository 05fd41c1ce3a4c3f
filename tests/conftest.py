"""Shared fixtures: run the real commands against a private Courier layout."""

import os
import pwd
import re
import signal
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "bin")
DATA = os.path.join(ROOT, "tests", "data")


def _children_start_with_default_signals():
    """Let the commands under test start with SIGINT, SIGTERM and SIGHUP at their defaults.

    Under nohup, or as a background job of a script, pytest starts with
    some of them ignored, and an ignored signal stays ignored in every
    child, which the commands rightly respect; the signal tests need the
    usual start.  A handler, unlike SIG_IGN, is reset to the default by
    exec, so a do-nothing handler here leaves pytest itself as deaf to them
    as it was, while its children start as from a terminal.
    """
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) == signal.SIG_IGN:
            signal.signal(signum, lambda *args: None)


_children_start_with_default_signals()


def data_path(*parts: str) -> str:
    """A config under tests/data/ (see its README.md), which must exist."""
    path = os.path.join(DATA, *parts)
    if not os.path.exists(path):
        pytest.fail(f"test data missing: {path}")
    return path


def data_files(directory: str) -> list:
    """Every .cnf in tests/data/DIRECTORY: an empty list would test nothing."""
    import glob

    paths = sorted(glob.glob(os.path.join(DATA, directory, "*.cnf")))
    if not paths:
        pytest.fail(f"no test data in {os.path.join(DATA, directory)}")
    return paths


def current_user():
    return pwd.getpwuid(os.geteuid()).pw_name


class Layout:
    """A throw-away SYSCONFDIR/CERTSDIR pair and the environment pointing at it."""

    def __init__(self, tmp_path):
        self.sysconfdir = tmp_path / "etc"
        self.certsdir = tmp_path / "certs"
        self.sysconfdir.mkdir()
        self.certsdir.mkdir()
        self.env = dict(os.environ,
                        COURIER_SYSCONFDIR=str(self.sysconfdir),
                        COURIER_CERTSDIR=str(self.certsdir),
                        COURIER_MAILUSER=current_user(),
                        PYTHONPATH=ROOT)
        self.env.pop("BITS", None)

    def install_config(self, name, source, bits=None, text=None):
        """Copy a .cnf into SYSCONFDIR, optionally with a smaller key size."""
        if text is None:
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
        if bits is not None:
            import re
            text = re.sub(r"(?m)^(\s*default_bits\s*=\s*)\d+", rf"\g<1>{bits}", text)
        path = self.sysconfdir / f"{name}.cnf"
        path.write_text(text, encoding="utf-8")
        return path

    def command(self, program, *args, env=None, **kwargs):
        """Run bin/<program> (or a path to a symlink) with this layout."""
        script = program if os.sep in str(program) else os.path.join(BIN, program)
        return subprocess.run([sys.executable, str(script), *map(str, args)],
                              env=env or self.env, capture_output=True, text=True,
                              timeout=kwargs.pop("timeout", 120), **kwargs)

    def popen(self, program, *args, env=None, **kwargs):
        script = program if os.sep in str(program) else os.path.join(BIN, program)
        return subprocess.Popen([sys.executable, str(script), *map(str, args)],
                                env=env or self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, **kwargs)

    def listing(self):
        return sorted(os.listdir(self.certsdir))


@pytest.fixture
def layout(tmp_path):
    return Layout(tmp_path)


@pytest.fixture(scope="session")
def certtool_key(tmp_path_factory):
    """A 1024-bit RSA key file (PKCS#8 PEM) to hand certtool, made once."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    path = tmp_path_factory.mktemp("key") / "key.pem"
    key = rsa.generate_private_key(65537, 1024)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    return path


DEBIAN_COURIER_PACKAGES = ("courier-imap", "courier-pop", "courier-mta")
DEBIAN_TEMPLATES = ("imapd", "pop3d", "esmtpd")


def _cannot_run(reason: str) -> None:
    """Skip here; fail under CI, which must run every test."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run this test, but {reason}")
    pytest.skip(reason)


def _debian_cache_root() -> str:
    """The chroot test's cache (tests/integration/debian.sh) if set, else .cache/ here.

    Either way the files outlive the run on purpose: the next run needs no
    network.  .gitignore keeps .cache/ out of commits.
    """
    return os.environ.get("COURIER_MKCERT_DEBIAN_CACHE") or os.path.join(ROOT, ".cache")


def _candidate_versions(packages) -> dict:
    """{package: version} apt would fetch, from the local package lists (no network)."""
    try:
        shown = subprocess.run(["apt-cache", "show", "--no-all-versions", *packages],
                               capture_output=True, text=True, timeout=60)
    except OSError as error:
        _cannot_run(f"apt-cache cannot run: {error}")
    versions, package = {}, None
    for line in shown.stdout.splitlines():
        if line.startswith("Package: "):
            package = line.split(None, 1)[1]
        elif line.startswith("Version: ") and package in packages:
            versions[package] = line.split(None, 1)[1]
    missing = [p for p in packages if p not in versions]
    if missing:
        last = (shown.stderr.strip().splitlines() or ["no message"])[-1]
        _cannot_run(f"apt knows no {', '.join(missing)} (apt-get update?): {last}")
    return versions


def debian_package_files(packages) -> str:
    """A directory holding the files of Debian's packages, as dpkg would install them.

    Downloaded and unpacked once per package version, into a cache.
    """
    versions = _candidate_versions(packages)
    specs = [f"{p}={versions[p]}" for p in packages]
    name = ",".join(f"{p}_{versions[p]}".replace(":", "%3a") for p in packages)
    parent = os.path.join(_debian_cache_root(), "debian-packages")
    unpacked = os.path.join(parent, name)
    if not os.path.isdir(unpacked):
        os.makedirs(parent, exist_ok=True)
        _download_and_unpack(specs, unpacked)
    return unpacked


def _download_and_unpack(specs, destination: str) -> None:
    """`apt-get download` (checked against the signed archive), then `dpkg-deb -x`.

    The work happens beside the destination and is renamed into place, so
    an interrupted run leaves no half-unpacked cache; the .debs go with it.
    """
    import shutil
    import tempfile

    work = tempfile.mkdtemp(prefix=".download-", dir=os.path.dirname(destination))
    try:
        try:
            download = subprocess.run(["apt-get", "download", *specs], cwd=work,
                                      capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as error:
            _cannot_run(f"apt-get download failed: {error}")
        if download.returncode != 0:
            last = (download.stderr.strip().splitlines() or ["no message"])[-1]
            _cannot_run(f"apt-get download {' '.join(specs)} failed: {last}")
        root = os.path.join(work, "root")
        for deb in sorted(n for n in os.listdir(work) if n.endswith(".deb")):
            subprocess.run(["dpkg-deb", "-x", os.path.join(work, deb), root],
                           check=True, capture_output=True, timeout=120)
        try:
            os.rename(root, destination)
        except OSError:  # a concurrent run got there first
            if not os.path.isdir(destination):
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.fixture(scope="session")
def debian_templates() -> dict:
    """{name: path} of /etc/courier/NAME.cnf as Debian's Courier packages ship them.

    Skipped when apt cannot get the packages (no network, not Debian);
    under CI that is a failure instead.
    """
    root = debian_package_files(DEBIAN_COURIER_PACKAGES)
    paths = {name: os.path.join(root, "etc", "courier", f"{name}.cnf")
             for name in DEBIAN_TEMPLATES}
    missing = [path for path in paths.values() if not os.path.isfile(path)]
    assert not missing, f"Debian's packages no longer ship {missing}"
    return paths


def openssl(*args, **kwargs):
    return subprocess.run(["openssl", *map(str, args)], capture_output=True,
                          text=kwargs.pop("text", True), check=kwargs.pop("check", True),
                          **kwargs)


def pytest_report_header(config):
    lines = []
    for command in (["openssl", "version"], ["certtool", "--version"]):
        try:
            out = subprocess.run(command, capture_output=True, text=True).stdout
            lines.append(out.splitlines()[0] if out else f"{command[0]}: no output")
        except OSError:
            lines.append(f"{command[0]}: not installed")
    import cryptography
    import OpenSSL
    lines.append(f"cryptography {cryptography.__version__}, pyOpenSSL {OpenSSL.__version__}")
    return lines


# The one line a first run adds once its PEM is in place when the .cnf asks
# for what --check calls weak (upstream's sha1, or the tests' quick 1024
# bits), and the one a renewal adds for raising those choices.
_WEAK_CHOICE_LINE = re.compile(
    r"(?m)^mk\w+cert: warning: .*(?:: --check calls (?:this|these) weak; made as the \.cnf "
    r"says, as Courier's script would .*| \(--renew never makes what --check calls weak\))\n")


def without_weak_choice_line(stderr: str) -> str:
    """``stderr`` without that line (tests about other things that use such a .cnf)."""
    return _WEAK_CHOICE_LINE.sub("", stderr, count=1)
