"""Shared helpers of the tests/threats/test_threat_*.py modules; no tests here.

The threat tests run the real commands (``bin/mk*``) or, where a run must be
steered to a precise point, ``mkcert.cli.main.main`` inside a small wrapper
process (:func:`wrapped`) whose prelude plants files or sends signals from
inside the run.
"""

import contextlib
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from conftest import ROOT, data_path

UPSTREAM_IMAPD = ("openssl", "imapd.cnf")
DEBIAN_IMAPD = ("gnutls", "imapd.cnf")

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (mount, chown, setpriv)")


def install_imapd(layout, bits=1024, name="imapd"):
    return layout.install_config(name, data_path(*UPSTREAM_IMAPD), bits=bits)


def mode(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def load_whole_pem(path):
    """The PEM's key and certificate, asserting they belong together."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    data = open(path, "rb").read()
    assert data, f"{path} is empty"
    key = serialization.load_pem_private_key(data, None)
    certificate = x509.load_pem_x509_certificate(data)
    assert key.public_key().public_numbers() == certificate.public_key().public_numbers(), \
        f"{path}: key and certificate do not match"
    assert data.rstrip().endswith(b"-----END CERTIFICATE-----") or b"DH PARAMETERS" in data
    return data, key, certificate


def assert_whole_or_nothing(directory, pem_name="imapd.pem", allowed=()):
    """After any run: either nothing (but ``allowed``) or exactly one whole, private PEM."""
    names = sorted(set(os.listdir(directory)) - set(allowed))
    if not names:
        return False
    assert names == [pem_name], f"left behind in {directory}: {names}"
    path = os.path.join(directory, pem_name)
    assert stat.S_ISREG(os.lstat(path).st_mode)
    assert mode(path) == 0o600, oct(mode(path))
    load_whole_pem(path)
    return True


def assert_one_clean_line(result, status=1, contains=()):
    """Exit ``status``, one line on stderr, no traceback; returns that line."""
    assert result.returncode == status, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for text in contains:
        assert text in lines[0], (text, lines[0])
    return lines[0]


def wrapper_source(prelude, program):
    return textwrap.dedent(prelude) + textwrap.dedent(f"""
        import sys as _sys
        from mkcert.cli.main import main as _main
        _sys.exit(_main(_sys.argv[1:], program={program!r}))
        """)


def wrapped(layout, prelude, *args, program="mkimapdcert", env=None, popen=False, timeout=120):
    """Run ``mkcert.cli.main.main`` after ``prelude`` in a fresh process, with the layout."""
    command = [sys.executable, "-c", wrapper_source(prelude, program), *map(str, args)]
    env = dict(env or layout.env)
    env["PYTHONPATH"] = ROOT
    if popen:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout)


@contextlib.contextmanager
def tmpfs(path, options="size=64k"):
    """A private tmpfs at ``path``; skips the test if mounting is not allowed."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    os.makedirs(path, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "mkcert-test", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
