"""Real ACME clients against a real ACME server, each wired to courier-mkcert by its own hook.

Debian's ``pebble`` (Let's Encrypt's test server) runs on loopback ports
chosen here, with a TLS certificate for its ACME endpoint made here and a
test CA of its own (a new root every start, fetched from its management
port's ``/roots/0``).  ``PEBBLE_VA_ALWAYS_VALID=1`` makes every challenge
pass, so no client needs a web server.  Then Debian's certbot, dehydrated,
lego and uacme each obtain a certificate and renew it (forced), calling
courier-mkcert through their own mechanism: certbot's ``--deploy-hook``,
dehydrated's ``HOOK``'s ``deploy_cert``, lego's ``--run-hook`` and
``--renew-hook``, a step after ``uacme issue``; acme.sh (not packaged in
Debian 12) through its deploy-hook convention, called by a driver as acme.sh
calls it.  After each step the ``openssl`` binary judges Courier's PEM: the
client's key, the client's chain in order, a chain that verifies up to
pebble's root, and ``mkimapdcert --check --ca-file`` with that root says OK;
after the renewal the previous PEM is ``imapd.pem.old``.

Every process is started and stopped here; every file lives in a temporary
directory removed at the end (the clients' keys included).
"""

import os
import pathlib
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.request

import pytest

from conftest import ROOT, Layout, _cannot_run, openssl

pytestmark = pytest.mark.acme

CONTRIB = os.path.join(ROOT, "contrib")
DRIVER = os.path.join(ROOT, "tests", "acme", "acmesh-driver.sh")
DOMAIN = "mail.example.test"
DOMAINS = (DOMAIN, "imap.example.test")
CLIENT_TIMEOUT = 60


def _need(*programs):
    missing = [p for p in programs if shutil.which(p) is None]
    if missing:
        _cannot_run(f"{', '.join(missing)} not installed (apt-get install pebble certbot "
                    f"dehydrated lego uacme)")


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def run(command, env, cwd=None, timeout=CLIENT_TIMEOUT):
    """Run a client in a process group of its own; on a timeout the whole group is killed."""
    process = subprocess.Popen([str(part) for part in command], env=env, cwd=cwd,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        pytest.fail(f"{command[0]} did not finish within {timeout} s")
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def _tls_certificate(directory):
    """A CA and pebble's certificate for 127.0.0.1 from it, written with openssl; the CA's path."""
    def run_openssl(*args):
        openssl(*args, cwd=directory)

    run_openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "tls-ca.key", "-out", "tls-ca.pem", "-subj", "/CN=pebble TLS test CA",
                "-days", "2")
    run_openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=localhost")
    with open(os.path.join(directory, "tls.ext"), "w", encoding="ascii") as handle:
        handle.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run_openssl("x509", "-req", "-in", "tls.csr", "-CA", "tls-ca.pem", "-CAkey", "tls-ca.key",
                "-CAcreateserial", "-out", "tls.pem", "-days", "2", "-extfile", "tls.ext")
    return os.path.join(directory, "tls-ca.pem")


class Pebble:
    """A running pebble: ``directory`` (its ACME directory URL), ``tls_ca``, ``root`` (a file)."""

    def __init__(self, work):
        self.work = work
        self.tls_ca = _tls_certificate(work)
        port, management = _free_port(), _free_port()
        config = os.path.join(work, "pebble.json")
        with open(config, "w", encoding="ascii") as handle:
            handle.write('{"pebble": {"listenAddress": "127.0.0.1:%d", '
                         '"managementListenAddress": "127.0.0.1:%d", '
                         '"certificate": "tls.pem", "privateKey": "tls.key", '
                         '"httpPort": %d, "tlsPort": %d, "ocspResponderURL": "", '
                         '"externalAccountBindingRequired": false}}'
                         % (port, management, _free_port(), _free_port()))
        env = dict(os.environ, PEBBLE_VA_ALWAYS_VALID="1", PEBBLE_VA_NOSLEEP="1",
                   PEBBLE_WFE_NONCEREJECT="0")
        self.log = open(os.path.join(work, "pebble.log"), "w+", encoding="utf-8")
        self.process = subprocess.Popen(["pebble", "-config", config], cwd=work, env=env,
                                        stdout=self.log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        self.directory = f"https://127.0.0.1:{port}/dir"
        self.context = ssl.create_default_context(cafile=self.tls_ca)
        self._wait_until_listening()
        self.root = os.path.join(work, "pebble-root.pem")
        with open(self.root, "wb") as handle:
            handle.write(self.get(f"https://127.0.0.1:{management}/roots/0"))

    def get(self, url):
        with urllib.request.urlopen(url, context=self.context, timeout=10) as response:
            return response.read()

    def _wait_until_listening(self):
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                self.log.seek(0)
                pytest.fail(f"pebble exited with {self.process.returncode}: {self.log.read()}")
            try:
                self.get(self.directory)
                return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    pytest.fail("pebble did not answer within 20 s")
                time.sleep(0.1)

    def stop(self):
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


@pytest.fixture(scope="module")
def pebble():
    _need("pebble", "certbot", "dehydrated", "lego", "uacme")
    work = tempfile.mkdtemp(prefix="mkcert-pebble-")
    server = None
    try:
        server = Pebble(work)
        yield server
    finally:
        if server is not None:
            server.stop()
            assert server.process.poll() is not None
        shutil.rmtree(work)


class Courier:
    """A Courier layout whose imapd.pem takes the certificate DOMAIN, and a client's home."""

    def __init__(self, pebble, work):
        self.pebble, self.work = pebble, work
        self.layout = Layout(pathlib.Path(work))
        self.pem = os.path.join(self.layout.certsdir, "imapd.pem")
        self.home = os.path.join(work, "home")
        os.mkdir(self.home, 0o700)
        self.env = dict(self.layout.env, HOME=self.home)
        self.configure(f"imapd {DOMAIN}\n")

    def configure(self, text):
        path = os.path.join(self.layout.sysconfdir, "mkcert-install.conf")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(path, 0o644)

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def read(self, path=None):
        with open(path or self.pem, "rb") as handle:
            return handle.read()

    def assert_holds(self, key, fullchain, pem=None):
        """openssl agrees: the client's key, then its chain in order, verifying to pebble's root;
        and --check with that root as trust anchor says OK."""
        pem = pem or self.pem
        assert self.read(pem).startswith(b"-----BEGIN ") and b"PRIVATE KEY-----" in \
            self.read(pem).split(b"\n", 1)[0]
        assert public_key(pem) == public_key(key)
        assert printed_certificates(pem) == printed_certificates(fullchain)
        assert len(printed_certificates(pem).split(b"-----BEGIN CERTIFICATE-----")) == 3
        verified = openssl("verify", "-CAfile", self.pebble.root, "-untrusted", pem, pem,
                           check=False)
        assert verified.returncode == 0 and verified.stdout.strip().endswith(": OK"), verified
        check = self.layout.command("mkimapdcert", "--check", "--ca-file", self.pebble.root, pem)
        assert check.returncode == 0, check.stdout + check.stderr
        assert check.stdout.startswith(f"CERT OK - {pem}: CN={DOMAIN} expires ")
        assert "(chain of 1 verifies" in check.stdout
        assert "trusted: ends at CN=Pebble Root CA " in check.stdout

    def assert_renewed(self, before, key, fullchain, pem=None):
        """The PEM follows the renewal; the one before is PEM.old, and nothing else is left."""
        pem = pem or self.pem
        assert self.read(pem) != before
        assert serial(pem) != serial_of_bytes(before)
        assert self.read(pem + ".old") == before
        name = os.path.basename(pem)
        assert sorted(n for n in os.listdir(os.path.dirname(pem))
                      if n.startswith(name)) == [name, name + ".old"]
        self.assert_holds(key, fullchain, pem)


@pytest.fixture
def courier(pebble):
    work = tempfile.mkdtemp(prefix="mkcert-acme-")
    try:
        yield Courier(pebble, work)
    finally:
        shutil.rmtree(work)


def public_key(path):
    return openssl("pkey", "-in", path, "-pubout").stdout


def printed_certificates(path):
    """Every certificate in the file, in order, as openssl prints them again."""
    pkcs7 = openssl("crl2pkcs7", "-nocrl", "-certfile", path, text=False).stdout
    return subprocess.run(["openssl", "pkcs7", "-print_certs"], input=pkcs7,
                          capture_output=True, check=True).stdout


def serial(path):
    return openssl("x509", "-in", path, "-noout", "-serial").stdout


def serial_of_bytes(data):
    return subprocess.run(["openssl", "x509", "-noout", "-serial"], input=data,
                          capture_output=True, check=True).stdout.decode()


def installed_line(result, pem, client):
    """The hook said what it installed, and for which client."""
    assert f"{pem}: installed CN = {DOMAIN} (issued by CN = Pebble Intermediate CA " in \
        result.stdout, result.stdout + result.stderr
    assert f"{client} renewed {DOMAIN}" in result.stdout


def test_certbot_deploy_hook(courier):
    config = courier.path("letsencrypt")
    common = ["--config-dir", config, "--work-dir", courier.path("certbot-work"),
              "--logs-dir", courier.path("certbot-logs"), "--server", courier.pebble.directory,
              "-n"]
    env = dict(courier.env, REQUESTS_CA_BUNDLE=courier.pebble.tls_ca)
    os.mkdir(courier.path("webroot"))
    hook = os.path.join(CONTRIB, "certbot-deploy-hook")
    issued = run(["certbot", "certonly", *common, "--agree-tos",
                  "--register-unsafely-without-email", "--webroot",
                  "-w", courier.path("webroot"), "-d", ",".join(DOMAINS),
                  "--deploy-hook", hook], env)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    live = os.path.join(config, "live", DOMAIN)
    key, fullchain = os.path.join(live, "privkey.pem"), os.path.join(live, "fullchain.pem")
    # certbot passes on what the hook prints.
    assert f"{courier.pem}: installed CN = {DOMAIN}" in issued.stdout, issued.stdout
    courier.assert_holds(key, fullchain)
    assert os.stat(courier.pem).st_mode & 0o777 == 0o600

    before = courier.read()
    # Without a terminal certbot renew first sleeps for up to 8 minutes.
    renewed = run(["certbot", "renew", *common, "--force-renewal",
                   "--no-random-sleep-on-renew"], env)
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    assert f"certbot renewed {' '.join(DOMAINS)}" in renewed.stdout, renewed.stdout
    courier.assert_renewed(before, key, fullchain)


def test_dehydrated_hook(courier):
    base = courier.path("dehydrated")
    os.makedirs(os.path.join(base, "wellknown"))
    certdir = os.path.join(base, "certs", DOMAIN)
    courier.configure(f"imapd {DOMAIN}\n{courier.layout.certsdir}/pop3d.pem {certdir}\n")
    config = os.path.join(base, "config")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write(f"CA={courier.pebble.directory}\nBASEDIR={base}\n"
                     f"WELLKNOWN={base}/wellknown\nHOOK={CONTRIB}/dehydrated-hook\n"
                     f"KEY_ALGO=prime256v1\n")
    with open(os.path.join(base, "domains.txt"), "w", encoding="utf-8") as handle:
        handle.write(" ".join(DOMAINS) + "\n")
    env = dict(courier.env, CURL_CA_BUNDLE=courier.pebble.tls_ca)
    registered = run(["dehydrated", "-f", config, "--register", "--accept-terms"], env)
    assert registered.returncode == 0, registered.stdout + registered.stderr
    issued = run(["dehydrated", "-f", config, "--cron"], env)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    installed_line(issued, courier.pem, "dehydrated")
    key, fullchain = os.path.join(certdir, "privkey.pem"), os.path.join(certdir, "fullchain.pem")
    pop3d = os.path.join(courier.layout.certsdir, "pop3d.pem")
    courier.assert_holds(key, fullchain)
    courier.assert_holds(key, fullchain, pop3d)

    before, pop3d_before = courier.read(), courier.read(pop3d)
    renewed = run(["dehydrated", "-f", config, "--cron", "--force"], env)
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    installed_line(renewed, courier.pem, "dehydrated")
    courier.assert_renewed(before, key, fullchain)
    courier.assert_renewed(pop3d_before, key, fullchain, pop3d)


def test_lego_run_and_renew_hooks(courier):
    path = courier.path("lego")
    os.mkdir(courier.path("webroot"))
    common = ["--accept-tos", "--email", "postmaster@example.test",
              "--server", courier.pebble.directory, "--path", path, "--key-type", "ec256",
              "--http", "--http.webroot", courier.path("webroot")]
    common += [f"--domains={domain}" for domain in DOMAINS]
    env = dict(courier.env, LEGO_CA_CERTIFICATES=courier.pebble.tls_ca)
    hook = os.path.join(CONTRIB, "lego-hook")
    issued = run(["lego", *common, "run", "--run-hook", hook], env, cwd=courier.work)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    installed_line(issued, courier.pem, "lego")
    key = os.path.join(path, "certificates", f"{DOMAIN}.key")
    fullchain = os.path.join(path, "certificates", f"{DOMAIN}.crt")
    courier.assert_holds(key, fullchain)

    before = courier.read()
    # pebble's certificates last five years: renewing within 3000 days forces it.
    # Without --no-random-sleep lego renew first sleeps for up to 8 minutes.
    renewed = run(["lego", *common, "renew", "--days", "3000", "--no-random-sleep",
                   "--renew-hook", hook], env, cwd=courier.work)
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    installed_line(renewed, courier.pem, "lego")
    courier.assert_renewed(before, key, fullchain)


def _uacme(courier, trust, *arguments):
    """uacme, trusting pebble's TLS CA: uacme has no option for that and its libcurl reads
    /etc/ssl/certs only, so that directory is replaced for this one process (a mount namespace)."""
    script = ('mount --bind "$1" /etc/ssl/certs && shift && exec uacme "$@"')
    return run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "uacme",
                trust, "-c", courier.path("uacme"), "-a", courier.pebble.directory, "-t", "EC",
                *arguments], courier.env)


def test_uacme_then_deploy(courier):
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        _cannot_run("uacme trusts only /etc/ssl/certs; replacing it for the test needs "
                    "root and unshare(1) for a mount namespace")
    trust = courier.path("trust")
    os.mkdir(trust)
    shutil.copy(courier.pebble.tls_ca, trust)
    challenge = courier.path("challenge-hook")
    with open(challenge, "w", encoding="ascii") as handle:
        handle.write("#!/bin/sh\n# pebble validates everything: nothing to publish\nexit 0\n")
    os.chmod(challenge, 0o755)
    registered = _uacme(courier, trust, "-y", "new")
    assert registered.returncode == 0, registered.stdout + registered.stderr
    deploy = [os.path.join(CONTRIB, "uacme-deploy"), "-c", courier.path("uacme"), DOMAIN]

    issued = _uacme(courier, trust, "-h", challenge, "issue", *DOMAINS)
    assert issued.returncode == 0, issued.stdout + issued.stderr
    installed = run(deploy, courier.env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    installed_line(installed, courier.pem, "uacme")
    key = courier.path("uacme", "private", DOMAIN, "key.pem")
    fullchain = courier.path("uacme", DOMAIN, "cert.pem")
    courier.assert_holds(key, fullchain)

    # Not due: uacme says so with exit status 1, and the && after it installs nothing.
    not_due = _uacme(courier, trust, "-h", challenge, "issue", *DOMAINS)
    assert not_due.returncode == 1, not_due.stdout + not_due.stderr

    before = courier.read()
    renewed = _uacme(courier, trust, "-h", challenge, "--force", "issue", *DOMAINS)
    assert renewed.returncode == 0, renewed.stdout + renewed.stderr
    installed = run(deploy, courier.env)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    installed_line(installed, courier.pem, "uacme")
    courier.assert_renewed(before, key, fullchain)


def test_acme_sh_deploy_hook_called_as_acme_sh_does(courier):
    """The certificates come from pebble through lego; acme.sh's files are laid out from them."""
    path = courier.path("lego")
    os.mkdir(courier.path("webroot"))
    common = ["--accept-tos", "--email", "postmaster@example.test",
              "--server", courier.pebble.directory, "--path", path, "--key-type", "ec256",
              "--http", "--http.webroot", courier.path("webroot"), f"--domains={DOMAIN}"]
    env = dict(courier.env, LEGO_CA_CERTIFICATES=courier.pebble.tls_ca)
    # acme.sh's deploy directory holds the hook; COURIER_MKCERT_DEPLOY is where
    # the deploy command is outside Debian's package.
    deploy_dir = courier.path("acme.sh", "deploy")
    os.makedirs(deploy_dir)
    hook = shutil.copy(os.path.join(CONTRIB, "acme.sh", "courier.sh"), deploy_dir)
    hook_env = dict(courier.env,
                    COURIER_MKCERT_DEPLOY=os.path.join(CONTRIB, "courier-mkcert-deploy"))
    acme_dir = courier.path("acme.sh", f"{DOMAIN}_ecc")
    os.makedirs(acme_dir, mode=0o700)
    files = [os.path.join(acme_dir, name) for name in
             (f"{DOMAIN}.key", f"{DOMAIN}.cer", "ca.cer", "fullchain.cer")]

    def obtain_and_deploy(*lego_command):
        got = run(["lego", *common, *lego_command], env, cwd=courier.work)
        assert got.returncode == 0, got.stdout + got.stderr
        lego_files = os.path.join(path, "certificates", DOMAIN)
        shutil.copy(lego_files + ".key", files[0])
        with open(files[1], "wb") as handle:
            handle.write(openssl("x509", "-in", lego_files + ".crt", text=False).stdout)
        shutil.copy(lego_files + ".issuer.crt", files[2])
        shutil.copy(lego_files + ".crt", files[3])
        deployed = run(["sh", DRIVER, hook, DOMAIN, *files], hook_env)
        assert deployed.returncode == 0, deployed.stdout + deployed.stderr
        installed_line(deployed, courier.pem, "acme.sh")
        return deployed

    obtain_and_deploy("run")
    courier.assert_holds(files[0], files[3])
    before = courier.read()
    obtain_and_deploy("renew", "--days", "3000", "--no-random-sleep")
    courier.assert_renewed(before, files[0], files[3])
