"""Start-up and key generation stay fast, checked by structure, never by time.

Install scripts call the commands when the PEM already exists, and admins
type --help; neither needs cryptography or pyOpenSSL, whose import costs
more than the rest of the run.  Checked with -X importtime.

The racing key generation of mkcert.x509.keys (two searches, first key wins) must
give a proper key, leave no process behind (so nothing can delay the exit)
and stay interruptible.  Timings live in bench/ and docs/BENCHMARKS.md.
"""

import re
import subprocess
import sys

import pytest

from conftest import BIN, ROOT, data_path

HEAVY = ("cryptography", "OpenSSL", "_cffi_backend")


def imported_modules(args, env, cwd=None):
    result = subprocess.run([sys.executable, "-X", "importtime", *args],
                            env=env, capture_output=True, text=True, cwd=cwd)
    modules = []
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            modules.append(line.rsplit("|", 1)[1].strip())
    return result, modules


@pytest.mark.parametrize("program", ["mkimapdcert", "mkcouriercert"])
def test_help_imports_no_crypto(layout, program):
    result, modules = imported_modules([f"{BIN}/{program}", "--help"], layout.env)
    assert result.returncode == 0
    assert "mkcert.cli.main" in modules
    assert "mkcert.actions.make" not in modules  # the pipeline is for making, not for --help
    assert not [m for m in modules if m.split(".")[0] in HEAVY]


@pytest.mark.parametrize("key_type", [None, "ec"])
def test_already_exists_imports_no_crypto(layout, key_type):
    """Package scripts may set COURIER_KEY_TYPE: its parser waits for the .cnf too."""
    layout.install_config("imapd", data_path("openssl", "imapd.cnf"))
    (layout.certsdir / "imapd.pem").write_text("x")
    env = dict(layout.env) if key_type is None else dict(layout.env, COURIER_KEY_TYPE=key_type)
    result, modules = imported_modules([f"{BIN}/mkimapdcert"], env)
    assert result.returncode == 1
    assert "already exists" in result.stdout
    assert not [m for m in modules if m.split(".")[0] in HEAVY]
    # nor datetime (2 ms): the plan of a run is a Record, not yet a request
    assert "datetime" not in modules and "mkcert.request" not in modules


@pytest.mark.parametrize("args", [["--version"], ["--help"]])
def test_other_cheap_options_import_no_crypto(layout, args):
    result, modules = imported_modules([f"{BIN}/mkpop3dcert", *args], layout.env)
    assert result.returncode == 0
    assert not [m for m in modules if m.split(".")[0] in HEAVY]


def test_already_exists_with_pemfile_imports_no_crypto(layout, tmp_path):
    layout.install_config("esmtpd", data_path("openssl", "esmtpd.cnf"))
    (tmp_path / "mine.pem").write_text("x")
    result, modules = imported_modules(
        [f"{BIN}/mkcouriercert", "esmtpd", str(tmp_path / "mine")], layout.env)
    assert result.returncode == 1
    assert "already exists" in result.stdout
    assert not [m for m in modules if m.split(".")[0] in HEAVY]


def test_cli_module_imports_no_crypto(layout):
    """Importing the command's module alone pulls in no crypto library."""
    result, modules = imported_modules(["-c", "import mkcert.cli.main"], layout.env)
    assert result.returncode == 0, result.stderr
    assert "mkcert.cli.main" in modules
    assert not [m for m in modules if m.split(".")[0] in HEAVY]


def test_actions_and_commands_import_no_dataclasses_typing_or_inspect(layout):
    """Their plans, outcomes and results are request.Records, not dataclasses.

    (Reading a private key, --check and --install load cryptography's
    serialization module, which imports dataclasses itself.)
    """
    import pathlib

    package = pathlib.Path(ROOT) / "mkcert"
    names = sorted(f"mkcert.{path.parent.name}.{path.stem}"
                   for layer in ("actions", "cli") for path in (package / layer).glob("*.py")
                   if path.stem != "__init__")
    assert "mkcert.actions.check" in names and "mkcert.cli.hook" in names
    result, modules = imported_modules(["-c", "import " + ", ".join(names)], layout.env)
    assert result.returncode == 0, result.stderr
    assert set(names) <= set(modules)
    assert not {"dataclasses", "typing", "inspect"} & set(modules)
    assert not [m for m in modules if m.split(".")[0] in HEAVY]


def test_config_reader_imports_no_file_writer(layout):
    """Reading a config (as the certbot hook does) loads neither the writer nor crypto."""
    result, modules = imported_modules(["-c", "import mkcert.readers.load"], layout.env)
    assert result.returncode == 0, result.stderr
    assert "mkcert.readers.load" in modules
    assert "mkcert.system.publish" not in modules
    assert not [m for m in modules if m.split(".")[0] in HEAVY]


# What the certificate path must not load (the command's own
# overhead under 60 ms).  Each was measured on that path with -X importtime
# (docs/BENCHMARKS.md) and replaced by something already loaded.  The
# output of -X importtime includes the key searches' imports too: they are
# forked children writing to the same standard error.
NOT_ON_CERTIFICATE_PATH = {
    # the serialization package loads SSH, PKCS#12 and cipher code (10 ms):
    # mkcert.x509.keys lays out the key and public key DER itself
    "cryptography.hazmat.primitives.serialization",
    "cryptography.hazmat.primitives.serialization.ssh",
    "cryptography.hazmat.primitives.ciphers",
    # the X.509 layer (45 ms): mkcert.x509.certificate writes the DER itself
    "cryptography.x509",
    # hashlib loads the system's libcrypto besides cryptography's (3 ms)
    "hashlib", "_hashlib",
    # strptime's module (1.5 ms): report.py reads the time digits itself
    "_strptime",
    # ctypes in each key search (prctl): a workers.Lifeline pipe instead
    "ctypes",
    # base64 imports struct; binascii alone does the PEM
    "base64",
    # dataclasses imports inspect, ast and dis (about 10 ms with making the
    # classes): mkcert.request.Record instead
    "dataclasses", "inspect",
}


# What cryptography itself loads to make and use a key: on cryptography
# 37-39 that is its whole OpenSSL backend (X.509, serialization, hashlib and
# more), beyond our control; from 40 on, none of the above.
KEY_GENERATION = """
import sys
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
rsa.generate_private_key(65537, 1024).sign(b"x", padding.PKCS1v15(), hashes.SHA256())
print("\\n".join(sys.modules))
"""


def _loaded_by_cryptography_itself():
    result = subprocess.run([sys.executable, "-c", KEY_GENERATION],
                            capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def _avoidable(modules):
    """Those of ``modules`` the certificate path must not load."""
    return sorted((NOT_ON_CERTIFICATE_PATH - _loaded_by_cryptography_itself()) & set(modules))


# The package's own modules each certificate path may load: the budget in
# modules.  Code moved out of a module on the path brings its new module
# here (mkcert.actions.make from the command line, dn_strings from the req
# reader, digests from the certificate builder, mkcert.system.files from
# the config reader, mkcert.system.signals from publish, the certtool
# reader's options, subject, serial_and_validity and extensions from its
# template module); nothing else joins.  The
# layer packages themselves (mkcert.x509, ...) hold a docstring and no code:
# test_layer_packages_hold_no_code keeps them so.  The extension language
# became a package of one module per concept: Courier's nsCertType loads
# its section reader and the value syntax every handler imports (one module
# more than the single module before: the syntax cannot share the section
# reader's module, which imports the handlers, without an import cycle);
# the other concepts load when a section uses them.
LAYER_PACKAGES = {"mkcert.asn1", "mkcert.system", "mkcert.readers", "mkcert.x509",
                  "mkcert.actions", "mkcert.cli"}
_COMMON_PATH = LAYER_PACKAGES | {
    "mkcert", "mkcert.errors", "mkcert.layout", "mkcert.record", "mkcert.request",
    "mkcert.asn1.der", "mkcert.asn1.names", "mkcert.asn1.general_names", "mkcert.asn1.oids",
    "mkcert.system.files", "mkcert.system.process", "mkcert.system.publish",
    "mkcert.system.signals", "mkcert.system.workers",
    "mkcert.readers.load", "mkcert.readers.detect",
    # Courier's TLS_CERTFILE, read from the service config (imapd-ssl ...)
    "mkcert.readers.serviceconf",
    "mkcert.x509.certificate", "mkcert.x509.chain", "mkcert.x509.digests", "mkcert.x509.keys",
    "mkcert.x509.key_types", "mkcert.x509.inspect",
    "mkcert.actions.make", "mkcert.actions.weak",
    "mkcert.cli.main",
}
OPENSSL_PATH_MODULES = _COMMON_PATH | {
    "mkcert.readers.openssl", "mkcert.readers.openssl.syntax", "mkcert.readers.openssl.req",
    "mkcert.readers.openssl.dn_strings", "mkcert.readers.openssl.extensions",
    "mkcert.readers.openssl.extensions.section", "mkcert.readers.openssl.extensions.values"}
# The certtool reader's parts that every template needs; its policies, name
# constraints, otherNames and raw extensions load only for templates naming them.
CERTTOOL_PATH_MODULES = _COMMON_PATH | {
    "mkcert.readers.certtool", "mkcert.readers.certtool.seclevel",
    "mkcert.readers.certtool.template", "mkcert.readers.certtool.options",
    "mkcert.readers.certtool.subject", "mkcert.readers.certtool.serial_and_validity",
    "mkcert.readers.certtool.extensions"}
# BITS as a number of bits needs the number parser; a level name (Debian's
# default, high) does not.
NUMERIC_BITS_MODULES = {"mkcert.readers.number"}


def test_layer_packages_hold_no_code():
    """A layer's ``__init__`` is a docstring: importing a layer costs nothing."""
    import ast
    import importlib.util

    for package in LAYER_PACKAGES | {"mkcert.readers.openssl", "mkcert.readers.certtool",
                                     "mkcert.readers.openssl.extensions"}:
        path = importlib.util.find_spec(package).origin
        with open(path, encoding="utf-8") as handle:
            body = ast.parse(handle.read()).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr), package


def _own_modules(modules):
    return {m for m in modules if m.split(".")[0] == "mkcert"}


def _make_certificate(layout, config_text, program="mkimapdcert"):
    layout.install_config(program[2:-4], None, text=config_text)
    result, modules = imported_modules([f"{BIN}/{program}"], layout.env)
    assert result.returncode == 0, result.stderr
    assert (layout.certsdir / f"{program[2:-4]}.pem").exists()
    return modules


def test_openssl_certificate_path_imports_only_what_it_needs(layout):
    with open(data_path("openssl", "imapd.cnf"), encoding="utf-8") as handle:
        text = handle.read()
    text = re.sub(r"(?m)^(\s*default_bits\s*=\s*)\d+", r"\g<1>1024", text)
    modules = _make_certificate(layout, text)
    assert "mkcert.actions.make" in modules
    assert "mkcert.x509.certificate" in modules and "mkcert.x509.inspect" in modules
    assert "cryptography.hazmat.primitives.asymmetric.rsa" in modules
    assert _avoidable(modules) == []
    assert sorted(_own_modules(modules) - OPENSSL_PATH_MODULES) == []


@pytest.mark.parametrize("bits", ["low", "1024"])  # both 1024 bits: a quick key
def test_certtool_certificate_path_imports_only_what_it_needs(layout, bits):
    with open(data_path("gnutls", "imapd.cnf"), encoding="utf-8") as handle:
        text = handle.read()
    layout.env["BITS"] = bits
    modules = _make_certificate(layout, text)
    assert "mkcert.readers.certtool.template" in modules and "mkcert.x509.certificate" in modules
    assert _avoidable(modules) == []
    allowed = CERTTOOL_PATH_MODULES | (NUMERIC_BITS_MODULES if bits.isdigit() else set())
    assert sorted(_own_modules(modules) - allowed) == []


def test_the_avoidable_modules_are_not_all_loaded_by_cryptography():
    """On the venv's cryptography (>= 40) the list above is checked in full."""
    import cryptography

    if int(cryptography.__version__.split(".")[0]) >= 40:
        assert not NOT_ON_CERTIFICATE_PATH & _loaded_by_cryptography_itself()


def test_no_pkg_resources_or_metadata_lookup(layout):
    """The console scripts are plain scripts: no entry-point machinery at start-up."""
    result, modules = imported_modules([f"{BIN}/mkimapdcert", "--help"], layout.env)
    assert result.returncode == 0
    assert not [m for m in modules
                if m.split(".")[0] in ("pkg_resources", "importlib_metadata")
                or m.startswith("importlib.metadata")]


# Racing key generation (mkcert.x509.keys): structure, not speed.  The time a key
# takes is random; what is checked here is that racing gives a proper key,
# leaves no process behind (so nothing can delay the exit) and stays
# interruptible.

def _no_children_left():
    import os

    try:
        os.waitpid(-1, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


def test_default_racers_is_at_most_two_and_at_most_the_usable_cpus():
    import cryptography

    from mkcert.x509 import keys
    from mkcert.system import workers

    racers = keys.default_racers()
    assert 1 <= racers <= min(2, workers.usable_cpus())
    major = int(cryptography.__version__.split(".")[0])
    if major >= 40 or 37 <= major < 40:  # the racer's key loads back unchecked
        assert racers == min(2, workers.usable_cpus())
    else:
        assert racers == 1


def test_the_racers_key_is_loaded_without_rechecking_its_primes(monkeypatch):
    """Racing only pays if the hand-over skips OpenSSL's slow RSA key check."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from mkcert.x509 import keys

    key = rsa.generate_private_key(65537, 1024)
    loaded = keys._load(keys._encode(key.private_numbers()))
    assert loaded.private_numbers() == key.private_numbers()
    backend = keys._legacy_backend()
    if backend is not None:  # cryptography 37-39: the switch is restored
        assert backend._rsa_skip_check_key is False


@pytest.mark.parametrize("racers", [1, 2, 3])
def test_racing_gives_a_complete_key_and_leaves_no_process(racers):
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives import hashes

    from mkcert.x509.keys import generate_key
    from mkcert.request import KeySpec

    key = generate_key(KeySpec(bits=1024), racers=racers)
    assert key.key_size == 1024
    numbers = key.private_numbers()
    assert numbers.p * numbers.q == numbers.public_numbers.n
    signature = key.sign(b"x", padding.PKCS1v15(), hashes.SHA256())
    key.public_key().verify(signature, b"x", padding.PKCS1v15(), hashes.SHA256())
    assert _no_children_left()


def test_racers_make_different_keys():
    from mkcert.x509.keys import generate_key
    from mkcert.request import KeySpec

    moduli = {generate_key(KeySpec(bits=1024), racers=2).public_key().public_numbers().n
              for _ in range(5)}
    assert len(moduli) == 5


def test_a_failing_racer_is_outrun_by_the_other(tmp_path, monkeypatch):
    import os

    from mkcert.x509 import keys
    from mkcert.request import KeySpec

    real = keys._generate
    flag = str(tmp_path / "first")

    def first_one_fails(spec):
        try:
            os.close(os.open(flag, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            return real(spec)
        raise RuntimeError("this racer fails")

    monkeypatch.setattr(keys, "_generate", first_one_fails)
    assert keys.generate_key(KeySpec(bits=1024), racers=2).key_size == 1024
    assert _no_children_left()


def test_all_racers_failing_is_an_error(monkeypatch):
    from mkcert.x509 import keys
    from mkcert.errors import MkcertError
    from mkcert.request import KeySpec

    def fails(spec):
        raise RuntimeError("no")

    monkeypatch.setattr(keys, "_generate", fails)
    with pytest.raises(MkcertError):
        keys.generate_key(KeySpec(bits=1024), racers=2)
    assert _no_children_left()


def test_without_fork_one_search_runs_in_a_thread(monkeypatch):
    import os

    from mkcert.x509 import keys
    from mkcert.request import KeySpec

    def no_fork():
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    assert keys.generate_key(KeySpec(bits=1024), racers=2).key_size == 1024


RACE_UNDER_SIGTERM = r"""
import os, sys
from mkcert.errors import Interrupted
from mkcert.x509.keys import generate_key
from mkcert.system.publish import Run
from mkcert.request import KeySpec
try:
    with Run():
        print("racing", flush=True)
        generate_key(KeySpec(bits=16384), racers=2)
except Interrupted as exc:
    try:
        os.waitpid(-1, os.WNOHANG)
        print("children left")
    except ChildProcessError:
        print("no children")
    print(exc)
"""


def test_a_signal_stops_the_race_and_its_racers(layout):
    import os
    import signal

    process = subprocess.Popen([sys.executable, "-c", RACE_UNDER_SIGTERM], env=layout.env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout.readline() == "racing\n"
        # Wait until both racers run (a 16384-bit key takes minutes).
        children = []
        for _ in range(200):
            children = _children_of(process.pid)
            if len(children) == 2:
                break
            import time
            time.sleep(0.05)
        assert len(children) == 2
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert out.splitlines() == ["no children", "interrupted by SIGTERM"], err
    for pid in children:
        assert not os.path.exists(f"/proc/{pid}")


def _children_of(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            return [int(p) for p in handle.read().split()]
    except OSError:
        return []


def test_a_racer_failure_is_reported_like_the_threads(monkeypatch):
    from mkcert.x509 import keys
    from mkcert.errors import MkcertError
    from mkcert.request import KeySpec

    def fails(spec):
        raise ValueError("no primes today")

    monkeypatch.setattr(keys, "_generate", fails)
    for racers in (1, 2):
        with pytest.raises(MkcertError, match="key generation failed: no primes today"):
            keys.generate_key(KeySpec(bits=1024), racers=racers)


def test_start_key_overlaps_other_work_and_closing_stops_the_search():
    from mkcert.x509.keys import start_key
    from mkcert.request import KeySpec

    with start_key(KeySpec(bits=1024), racers=2) as pending:
        key = pending.result()
    assert key.key_size == 1024
    assert _no_children_left()

    with start_key(KeySpec(bits=16384), racers=2):
        pass  # left before the key is ready: the racers are killed and reaped
    assert _no_children_left()


def test_a_fresh_key_is_not_rechecked_on_cryptography_37_to_39(monkeypatch):
    """cryptography 37-39 re-check every generated key (0.25 s at 4096 bits
    with OpenSSL 3.0); a key straight from OpenSSL's generator is not."""
    from mkcert.x509 import keys
    from mkcert.request import KeySpec

    backend = keys._legacy_backend()
    seen = []
    real = keys.rsa.generate_private_key

    def generate(exponent, bits):
        seen.append(None if backend is None else backend._rsa_skip_check_key)
        return real(exponent, bits)

    monkeypatch.setattr(keys.rsa, "generate_private_key", generate)
    assert keys._generate(KeySpec(bits=1024)).key_size == 1024
    assert seen == [None if backend is None else True]
    if backend is not None:
        assert backend._rsa_skip_check_key is False


def test_an_ec_key_loads_no_rsa_code(layout):
    """An EC key is made at once: the RSA racing (mkcert.x509.keys) is not even loaded."""
    import os

    layout.install_config("imapd", data_path("openssl", "imapd.cnf"))
    env = dict(layout.env, COURIER_KEY_TYPE="ec")
    result, modules = imported_modules([f"{BIN}/mkimapdcert", "-q"], env)
    assert result.returncode == 0, result.stderr
    assert "mkcert.x509.key_types" in modules
    assert "mkcert.x509.keys" not in modules and "mkcert.system.workers" not in modules
    os.remove(layout.certsdir / "imapd.pem")
