"""Shared fixtures: run the real commands against a private Courier layout."""

import os
import pwd
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
