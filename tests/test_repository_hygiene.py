"""The tests clean up after themselves.

The helpers that write outside pytest's tmp_path must leave nothing there.
"""

import os
import subprocess
import sys

import pytest

from conftest import ROOT


# --- temporary files --------------------------------------------------------

def run_with_own_tmpdir(tmp_path, code_or_argv):
    """Run Python with TMPDIR an empty directory; return what is left in it."""
    tmpdir = tmp_path / "tmpdir"
    tmpdir.mkdir()
    argv = code_or_argv if isinstance(code_or_argv, list) else ["-c", code_or_argv]
    result = subprocess.run([sys.executable, *argv], cwd=ROOT, capture_output=True, text=True,
                            timeout=300, env=dict(os.environ, TMPDIR=str(tmpdir), PYTHONPATH=ROOT))
    assert result.returncode == 0, result.stderr[-3000:]
    return sorted(os.listdir(tmpdir))


def test_openssl_oracle_leaves_no_file_and_no_key(tmp_path):
    code = ("import sys; sys.path.insert(0, 'tests/openssl_corpus'); import oracle; "
            "case = oracle.Case('[req]\\nprompt=no\\ndistinguished_name=dn\\n[dn]\\nCN=x\\n'); "
            "assert oracle.compare(case) == [], oracle.compare(case)")
    assert run_with_own_tmpdir(tmp_path, code) == []


@pytest.mark.parametrize("harness", ["fuzz_config", "fuzz_cli"])
def test_fuzz_harness_replay_leaves_no_file(tmp_path, harness):
    corpus = os.path.join(ROOT, "fuzz", "corpus", harness[len("fuzz_"):])
    argv = [os.path.join(ROOT, "fuzz", f"{harness}.py"), "--replay", corpus]
    assert run_with_own_tmpdir(tmp_path, argv) == []
