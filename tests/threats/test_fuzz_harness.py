"""The atheris harnesses under fuzz/ stay runnable.

Their seed corpora replay without atheris; where atheris is installed,
fuzz_config.py also fuzzes for a few hundred runs (a smoke test: the long
runs are by hand, see fuzz/README.md).
"""

import importlib.util
import os
import subprocess
import sys

import pytest

from conftest import ROOT

FUZZ = os.path.join(ROOT, "fuzz")


@pytest.mark.parametrize("harness", ["fuzz_config", "fuzz_cli"])
def test_seed_corpus_replays_cleanly(harness):
    corpus = os.path.join(FUZZ, "corpus", harness[len("fuzz_"):])
    assert len(os.listdir(corpus)) >= 5
    result = subprocess.run([sys.executable, os.path.join(FUZZ, f"{harness}.py"), "--replay",
                             corpus], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"replayed {len(os.listdir(corpus))} inputs")


def test_atheris_smoke_run(tmp_path):
    if importlib.util.find_spec("atheris") is None:
        if os.environ.get("CI"):
            pytest.fail("CI installs atheris with the test extra: it must be importable")
        pytest.skip("atheris is not installed (pip install atheris; see fuzz/README.md)")
    scratch = tmp_path / "corpus"
    scratch.mkdir()
    result = subprocess.run(
        [sys.executable, os.path.join(FUZZ, "fuzz_config.py"), str(scratch),
         os.path.join(FUZZ, "corpus", "config"), "-atheris_runs=400", "-seed=7"],
        capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Done" in result.stderr
