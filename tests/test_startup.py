"""The cheap paths stay cheap: no crypto library is imported for them (issue 9).

Install scripts call the commands when the PEM already exists, and admins
type --help; neither needs cryptography or pyOpenSSL, whose import costs
more than the rest of the run.  Checked structurally, with -X importtime.
"""

import subprocess
import sys

import pytest

from conftest import BIN, reference

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
    assert "mkcert.cli" in modules
    assert not [m for m in modules if m.split(".")[0] in HEAVY]


def test_already_exists_imports_no_crypto(layout):
    layout.install_config("imapd", reference("courier-upstream", "imapd.cnf"))
    (layout.certsdir / "imapd.pem").write_text("x")
    result, modules = imported_modules([f"{BIN}/mkimapdcert"], layout.env)
    assert result.returncode == 1
    assert "already exists" in result.stdout
    assert not [m for m in modules if m.split(".")[0] in HEAVY]
