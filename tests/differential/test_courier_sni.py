"""Debian's own couriertls serves what ``--which`` predicts, name by name.

Debian's courier-base (couriertcpd, couriertls) and the libidn it links
are fetched with ``apt-get download`` and run from where they unpack, on
loopback, with ``TLS_CERTFILE`` set as Debian's imapd-ssl sets it.  For
each name ``openssl s_client -servername NAME`` says which certificate
came back; ``mkimapdcert --which NAME --local-ip 127.0.0.1`` must name the
file holding it.  The files are made by ``--domain``; a broken domain file
must take only its own name off TLS.
"""

import os
import socket
import subprocess
import time

import pytest

from conftest import data_path, debian_package_files, openssl

pytestmark = pytest.mark.debian

PACKAGES = ("courier-base", "libidn12")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def courier():
    root = debian_package_files(PACKAGES)
    tools = {name: os.path.join(root, path) for name, path in (
        ("couriertcpd", "usr/sbin/couriertcpd"), ("couriertls", "usr/bin/couriertls"))}
    assert all(os.path.exists(path) for path in tools.values())
    tools["libraries"] = os.path.join(root, "usr", "lib", "x86_64-linux-gnu")
    return tools


def served_fingerprint(port, servername):
    args = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}"]
    if servername:
        args += ["-servername", servername]
    out = subprocess.run(args, input="", capture_output=True, text=True, timeout=20).stdout
    if "-----BEGIN CERTIFICATE-----" not in out:
        return None
    return openssl("x509", "-noout", "-fingerprint", "-sha256", input=out).stdout


def file_fingerprint(path):
    return openssl("x509", "-noout", "-fingerprint", "-sha256", "-in", path).stdout


def test_couriertls_serves_what_which_predicts(layout, courier, tmp_path):
    layout.install_config("imapd", data_path("gnutls", "imapd.cnf"))
    certfile = layout.certsdir / "imapd.pem"
    (layout.sysconfdir / "imapd-ssl").write_text(f"TLS_CERTFILE={certfile}\n")
    env = dict(layout.env, BITS="1024", COURIER_COURIERTLS=courier["couriertls"],
               COURIER_SSLLIB="gnutls")
    for args in ([], ["--domain", "mail.example.org"], ["--domain", "example.net"],
                 ["--domain", "127.0.0.1"], ["--domain", "cap.example.org"]):
        result = layout.command("mkimapdcert", "-q", *args, env=env)
        assert result.returncode == 0, result.stderr
    # A file named with capitals, and a broken one.
    os.rename(f"{certfile}.cap.example.org", f"{certfile}.Cap.example.org")
    broken = f"{certfile}.broken.example.org"
    with open(broken, "w") as handle:
        handle.write("-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n")
    os.chmod(broken, 0o600)

    port = free_port()
    pid_file = tmp_path / "couriertcpd.pid"
    server_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                  "LD_LIBRARY_PATH": courier["libraries"], "TLS_CERTFILE": str(certfile)}
    server = subprocess.Popen(
        [courier["couriertcpd"], f"-pid={pid_file}", "-nodnslookup", "-noidentlookup",
         "-maxprocs=4", f"-stderr={tmp_path / 'couriertcpd.log'}", "-address=127.0.0.1",
         str(port), courier["couriertls"], "-server", "-tcpd", "/bin/cat"],
        env=server_env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        names = ["mail.example.org", "imap.example.net", "example.net", "cap.example.org",
                 "Cap.example.org", "other.example", None]
        for name in names:
            which = layout.command("mkimapdcert", "--which", name or "", "--local-ip",
                                   "127.0.0.1", env=env)
            predicted = which.stdout.split(":", 1)[0]
            assert os.path.exists(predicted), which.stdout + which.stderr
            assert served_fingerprint(port, name) == file_fingerprint(predicted), (
                name, which.stdout)
        # The capitalised file reaches only a client sending capitals (Debian's libidn
        # keeps an ASCII name as sent); a lowercase client gets the address's file.
        assert "Cap.example.org: served" in layout.command(
            "mkimapdcert", "--which", "Cap.example.org", env=env).stdout.replace(
            f"{certfile}.", "")
        # One broken file takes its own name off TLS, and nothing else.
        assert served_fingerprint(port, "broken.example.org") is None
        assert served_fingerprint(port, "mail.example.org") == file_fingerprint(
            f"{certfile}.mail.example.org")
        check = layout.command("mkimapdcert", "--check", env=env)
        assert check.returncode == 2
        assert check.stdout.splitlines()[0].startswith(f"CERT CRITICAL - {broken}:")
        assert "capitals" in check.stdout
    finally:
        subprocess.run([courier["couriertcpd"], f"-pid={pid_file}", "-stop"],
                       env=server_env, capture_output=True, timeout=30)
        server.wait(timeout=30)
