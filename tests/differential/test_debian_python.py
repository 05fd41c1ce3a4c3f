"""The same tests on Debian 12's own Python stack (cryptography 38, pyOpenSSL 23).

The Debian package runs on python3-cryptography and python3-openssl as
bookworm ships them, while the venv has the newest releases; the modules
whose behaviour depends on those libraries are tested under both.
"""

import os
import subprocess

import pytest

from conftest import ROOT

pytestmark = pytest.mark.debian

SYSTEM_PYTHON = "/usr/bin/python3"
# Test modules that exercise cryptography/pyOpenSSL APIs that changed
# between 38 and the newest releases.
MODULES = ["tests/unit/x509/test_cert.py", "tests/commands/test_cli.py", "tests/unit/system/test_publish.py",
           "tests/differential/test_openssl_differential.py", "tests/commands/test_check.py",
           "tests/commands/test_renew.py", "tests/unit/readers/test_san.py", "tests/differential/test_template_certtool.py",
           "tests/differential/test_openssl_corpus.py", "tests/unit/x509/test_dhparams.py", "tests/unit/x509/test_check_chain.py",
           "tests/commands/test_install.py", "tests/commands/test_arguments.py",
           "tests/commands/test_install_properties.py", "tests/commands/test_hook.py",
           "tests/commands/test_renew_certbot.py", "tests/threats/test_inspect_hostile.py",
           "tests/unit/x509/test_served.py", "tests/commands/test_probe.py",
           "tests/commands/test_ca.py",
           "tests/commands/test_deploy.py", "tests/commands/test_check_ca_file.py",
           "tests/unit/x509/test_privatekeys.py",
           "tests/unit/x509/test_key_types.py", "tests/differential/test_key_types_oracles.py",
           "tests/commands/test_key_continuity.py",
           "tests/unit/x509/test_loadable.py"]


def system_versions():
    probe = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import cryptography, OpenSSL, pytest;"
         "print(cryptography.__version__, OpenSSL.__version__)"],
        capture_output=True, text=True)
    return probe.stdout.split() if probe.returncode == 0 else None


def rerun_command(modules):
    """pytest on Debian's stack, to the end: one failure must not hide those after it."""
    return [SYSTEM_PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", *modules]


def test_rerun_reports_every_failure():
    command = rerun_command(MODULES)
    assert not {"-x", "--exitfirst"} & set(command)
    assert not [argument for argument in command if argument.startswith("--maxfail")]


def test_suite_passes_on_debian_python_stack():
    versions = system_versions() if os.path.exists(SYSTEM_PYTHON) else None
    if versions is None:
        if os.environ.get("CI"):
            pytest.fail("CI must provide python3-cryptography, python3-openssl and python3-pytest")
        pytest.skip("Debian's python3-cryptography/python3-openssl/python3-pytest not installed")
    missing = [m for m in MODULES if not os.path.exists(os.path.join(ROOT, m))]
    assert not missing, f"renamed or removed? {missing}"
    env = dict(os.environ, PYTHONPATH=ROOT)
    result = subprocess.run(
        rerun_command(MODULES), cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    print(f"Debian stack: cryptography {versions[0]}, pyOpenSSL {versions[1]}")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    summary = result.stdout.splitlines()[-1]
    assert " passed" in summary, summary
    # A test skipped on this stack would pass here unseen: none may be.
    assert "skipped" not in summary, result.stdout[-4000:]
