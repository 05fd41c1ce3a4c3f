"""Threat: the private CA's key exposed, even for an instant; signals and
concurrent runs of mkcourierca and mk<NAME>cert --ca.

The CA key may sign a certificate for any name within its constraints, so
it is never readable by group or others and never the mail user's (whose
daemons read the service PEMs): inotify, as in test_threat_permissions.py,
lstat's every file of the directory the instant it appears or changes.
"""

import os
import pwd
import signal
import subprocess
import sys
import time

import pytest

from conftest import BIN, ROOT, data_path
from test_threat_permissions import Inotify, _umask_000

SERVER = "mail.example.org"


def _run(layout, program, *args, env=None):
    return subprocess.run([sys.executable, os.path.join(BIN, program), *args],
                          env=env or layout.env, capture_output=True, text=True, timeout=300,
                          preexec_fn=_umask_000)


def _key_matches_certificate(layout):
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(
        (layout.certsdir / "courier-ca.key").read_bytes(), None)
    certificate = x509.load_pem_x509_certificate(
        (layout.certsdir / "courier-ca.pem").read_bytes())
    public = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    return key.public_key().public_bytes(der, public) == \
        certificate.public_key().public_bytes(der, public)


@pytest.mark.skipif(os.geteuid() != 0, reason="a mail user other than the caller needs root")
@pytest.mark.parametrize("key_type", ["rsa:2048", "ec"])
def test_inotify_sees_the_ca_key_private_and_never_the_mail_users(layout, key_type):
    env = dict(layout.env, COURIER_MAILUSER="daemon")
    mail_uid = pwd.getpwnam("daemon").pw_uid
    watcher = Inotify(str(layout.certsdir))
    try:
        result = _run(layout, "mkcourierca", "-q", "--domain", "example.org", "--key-type",
                      key_type, env=env)
        layout.install_config("imapd", data_path("openssl", "imapd.cnf"), bits=1024)
        # (This branch's certificate builder signs with RSA only: an EC CA
        # issues once EC signing is there.)
        issuing = key_type.startswith("rsa")
        issued = _run(layout, "mkimapdcert", "-q", "--ca", "--san", SERVER, env=env) if issuing \
            else subprocess.CompletedProcess([], 0, "", "")
        renewed = _run(layout, "mkcourierca", "-q", "--renew", "--force", env=env)
    finally:
        watcher.close()
    assert result.returncode == 0, result.stderr
    assert (issued.returncode, renewed.returncode) == (0, 0), issued.stderr + renewed.stderr
    keys = [(mask, name, mode, uid) for mask, name, mode, uid in watcher.seen
            if name.startswith("courier-ca.key")]
    assert any(name.startswith("courier-ca.key.tmp.") for _, name, _, _ in keys), keys
    for mask, name, mode, uid in keys:
        if mode is None:
            continue
        assert mode & 0o077 == 0, f"{name} was {oct(mode)} (event {mask:#x})"
        assert uid == os.geteuid() != mail_uid, f"{name} belonged to uid {uid}"
    for mask, name, mode, _ in watcher.seen:
        if mode is not None and name.startswith("imapd.pem"):
            assert mode & 0o077 == 0, f"{name} was {oct(mode)} (event {mask:#x})"
    assert os.stat(layout.certsdir / "courier-ca.pem").st_mode & 0o777 == 0o644
    assert sorted(layout.listing()) == ["courier-ca.key", "courier-ca.pem", "courier-ca.pem.old"
                                        ] + (["imapd.pem"] if issuing else [])


def _children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_while_the_ca_key_is_made_leaves_nothing(layout, signum):
    process = subprocess.Popen([sys.executable, os.path.join(BIN, "mkcourierca"), "--domain",
                                "example.org", "--key-type", "rsa:16384"], env=layout.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(400):  # until the key searches run: minutes of work ahead
            if _children_of(process.pid):
                break
            time.sleep(0.025)
        assert _children_of(process.pid)
        children = _children_of(process.pid)
        process.send_signal(signum)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1, (out, err)
    assert err == f"mkcourierca: interrupted by {signal.Signals(signum).name}\n"
    assert layout.listing() == []
    for pid in children:
        assert not os.path.exists(f"/proc/{pid}")


SIGNAL_AFTER_KEY = r"""
import os, signal, sys
from mkcert.system import publish
_real = publish.publish_new
def publish_new(path, *args, **kwargs):
    _real(path, *args, **kwargs)
    if path.endswith(".key"):
        os.kill(os.getpid(), signal.SIGTERM)
publish.publish_new = publish_new
from mkcert.cli.authority import main
sys.exit(main(sys.argv[1:]))
"""


def test_a_signal_once_the_key_is_published_lets_the_run_finish_whole(layout):
    """From the key's link on the run's result exists: it completes, exit 0."""
    result = subprocess.run([sys.executable, "-c", SIGNAL_AFTER_KEY, "-q", "--domain",
                             "example.org", "--key-type", "ec"],
                            env=dict(layout.env, PYTHONPATH=ROOT), capture_output=True,
                            text=True, timeout=60)
    assert (result.returncode, result.stderr) == (0, ""), result
    assert layout.listing() == ["courier-ca.key", "courier-ca.pem"]
    assert _key_matches_certificate(layout)


def test_concurrent_runs_make_exactly_one_ca(layout):
    runs = [layout.popen("mkcourierca", "--domain", "example.org", "--key-type", "ec")
            for _ in range(8)]
    results = [(run.wait(timeout=120), run.stdout.read(), run.stderr.read()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    winners = [r for r in results if r[0] == 0]
    assert len(winners) == 1, results
    for status, out, err in results:
        if status != 0:
            assert status == 1 and out.endswith(" already exists.\n") and err == "", (out, err)
    assert layout.listing() == ["courier-ca.key", "courier-ca.pem"]
    assert _key_matches_certificate(layout)


def test_concurrent_issuing_runs_publish_one_whole_pem(layout):
    layout.install_config("imapd", data_path("openssl", "imapd.cnf"), bits=1024)
    assert layout.command("mkcourierca", "--domain", "example.org", "--key-type",
                          "rsa:2048").returncode == 0
    runs = [layout.popen("mkimapdcert", "-q", "--ca", "--san", SERVER) for _ in range(4)]
    results = [(run.wait(timeout=120), run.stdout.read(), run.stderr.read()) for run in runs]
    for run in runs:
        run.stdout.close()
        run.stderr.close()
    assert sorted(status for status, _, _ in results) == [0, 1, 1, 1], results
    assert layout.listing() == ["courier-ca.key", "courier-ca.pem", "imapd.pem"]
    verified = subprocess.run(["openssl", "verify", "-CAfile", layout.certsdir / "courier-ca.pem",
                               layout.certsdir / "imapd.pem"], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_signal_while_an_issued_key_is_made_leaves_the_ca_alone(layout):
    layout.install_config("imapd", data_path("openssl", "imapd.cnf"), bits=16384)
    assert layout.command("mkcourierca", "-q", "--domain", "example.org", "--key-type",
                          "rsa:2048").returncode == 0
    before = {name: (layout.certsdir / name).read_bytes() for name in layout.listing()}
    process = layout.popen("mkimapdcert", "--ca", "--san", SERVER)
    try:
        for _ in range(400):
            if _children_of(process.pid):
                break
            time.sleep(0.025)
        assert _children_of(process.pid)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (process.returncode, err) == (1, "mkimapdcert: interrupted by SIGTERM\n"), out
    assert {name: (layout.certsdir / name).read_bytes() for name in layout.listing()} == before
