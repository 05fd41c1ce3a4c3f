"""``--check --tlsa-from-dns`` against a real name server: NSD on the loopback.

The test writes a zone holding TLSA records computed by openssl, starts
Debian's ``nsd`` on 127.0.0.1 at a free port (in the foreground, as the
running user, nothing outside a temporary directory), and points the
command at it with ``--dns-server``: no test touches the system's
resolvers or any network but the loopback.
"""

import os
import shutil
import socket
import subprocess
import time

import pytest

import dane_oracle
from conftest import _cannot_run, openssl
from mkcert import layout as courier_layout

MX = "mx.example.org"


def nsd_binary():
    for candidate in (shutil.which("nsd"), "/usr/sbin/nsd"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    _cannot_run("nsd is not installed (Debian: apt install nsd)")


def require_dnspython():
    """The command under test runs with this interpreter, so it needs dnspython here."""
    import importlib.util

    if importlib.util.find_spec("dns") is None:
        _cannot_run("dnspython is not installed (pip install '.[test]')")


def free_port():
    """A port free for both UDP and TCP on 127.0.0.1, for nsd to take at once."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind(("127.0.0.1", 0))
            port = tcp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind(("127.0.0.1", port))
                except OSError:
                    continue
        return port
    pytest.fail("no free port on 127.0.0.1")


def answers(port, name):
    import dns.resolver

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers, resolver.port, resolver.lifetime = ["127.0.0.1"], port, 1.0
    try:
        resolver.resolve(name, "SOA")
    except Exception:  # noqa: BLE001 - not up yet, whatever the reason
        return False
    return True


@pytest.fixture
def name_server(tmp_path):
    """Start nsd for example.org with the zone text given; yields ``start(zone_text) -> port``."""
    require_dnspython()
    binary = nsd_binary()
    directory = tmp_path / "nsd"
    directory.mkdir()
    started = []

    def start(zone_text):
        port = free_port()
        (directory / "example.org.zone").write_text(zone_text)
        config = directory / "nsd.conf"
        config.write_text(
            "server:\n"
            f"  ip-address: 127.0.0.1@{port}\n  port: {port}\n  do-ip6: no\n"
            '  username: ""\n  chroot: ""\n  database: ""\n  server-count: 1\n'
            f"  zonesdir: {directory}\n  zonelistfile: {directory}/zone.list\n"
            f"  xfrdfile: {directory}/xfrd.state\n  xfrdir: {directory}\n"
            f"  pidfile: {directory}/nsd.pid\n  logfile: {directory}/nsd.log\n"
            "remote-control:\n  control-enable: no\n"
            "zone:\n  name: example.org\n"
            f"  zonefile: {directory}/example.org.zone\n")
        process = subprocess.Popen([binary, "-d", "-c", str(config)], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        started.append(process)
        deadline = time.monotonic() + 30
        while not answers(port, "example.org."):
            if process.poll() is not None or time.monotonic() > deadline:
                log = directory / "nsd.log"
                said = process.communicate()[0] if process.poll() is not None else ""
                logged = log.read_text() if log.exists() else ""
                pytest.fail(f"nsd did not start: {said} {logged}")
            time.sleep(0.1)
        return port

    yield start
    for process in started:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
    shutil.rmtree(directory)


@pytest.fixture
def pem(layout):
    """esmtpd.pem for mx.example.org made by openssl, with a staged next key beside it."""
    key, cert = layout.certsdir / "k.tmp", layout.certsdir / "c.tmp"
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", cert, "-days", "90", "-subj", f"/CN={MX}",
            "-addext", f"subjectAltName=DNS:{MX}")
    path = layout.certsdir / "esmtpd.pem"
    path.write_bytes(key.read_bytes() + cert.read_bytes())
    path.chmod(0o600)
    key.unlink()
    cert.unlink()
    staged = courier_layout.staged_key_path(str(path))
    openssl("genpkey", "-algorithm", "ED25519", "-out", staged)
    yield path
    path.unlink()
    os.unlink(staged)


def zone(pem):
    served = dane_oracle.spki_sha256(pem)
    staged = dane_oracle.key_file_spki_sha256(courier_layout.staged_key_path(str(pem)))
    return ("$ORIGIN example.org.\n$TTL 300\n"
            "@ IN SOA ns1 hostmaster ( 1 7200 3600 1209600 300 )\n"
            "  IN NS ns1\nns1 IN A 127.0.0.1\n"
            f"_25._tcp.mx IN TLSA 3 1 1 {served}\n"
            f"            IN TLSA 3 1 1 {staged}\n"
            f"_25._tcp.mx2 IN TLSA 3 1 1 {served}\n"
            f"_25._tcp.mx3 IN TLSA 3 1 1 {'00' * 32}\n")


def check(layout, port, *args):
    result = layout.command("mkesmtpdcert", "--check", "--tlsa-from-dns", "--dns-server",
                            f"127.0.0.1:{port}", *args)
    assert "Traceback" not in result.stderr and result.stdout.count("\n") == 1, result
    return result


def test_records_in_dns_are_compared_with_both_keys(layout, pem, name_server):
    port = name_server(zone(pem))
    result = check(layout, port)
    assert result.returncode == 0, result.stdout
    assert f"; TLSA at _25._tcp.{MX}. matches the served and the staged key; " in result.stdout
    result = check(layout, port, "--host", "mx2.example.org")
    assert result.returncode == 1, result.stdout
    assert (f"; the staged next key {courier_layout.staged_key_path(str(pem))} has no TLSA "
            f"record at _25._tcp.mx2.example.org. yet: a rollover now would break DANE"
            in result.stdout)
    result = check(layout, port, "--host", "mx3.example.org")
    assert result.returncode == 2, result.stdout
    assert ("; none of the 1 TLSA records at _25._tcp.mx3.example.org. in DNS matches the "
            "served certificate; " in result.stdout)
    result = check(layout, port, "--host", "nowhere.example.org", "--port", "465")
    assert result.returncode == 2, result.stdout
    assert "; no TLSA record at _465._tcp.nowhere.example.org. in DNS; " in result.stdout


def test_no_answer_from_the_server_is_unknown(layout, pem):
    require_dnspython()
    result = check(layout, free_port())  # nothing listens there
    assert result.returncode == 3, result.stdout
    assert f"; TLSA: DNS lookup of _25._tcp.{MX}. TLSA failed: " in result.stdout
