"""The checkout stands alone, and the tests clean up after themselves.

A fresh clone must run its tests with nothing beside it: no file may name a
path that exists only on the machine it was written on, and no test,
benchmark or fuzzing harness may reach outside the checkout for data.  The
helpers that write outside pytest's tmp_path must leave nothing there.
"""

import os
import re
import subprocess
import sys

import pytest

from conftest import ROOT

# This file names the patterns it looks for.
SELF = os.path.relpath(os.path.abspath(__file__), ROOT)

# Absolute paths into a developer's own space: this project's work area and
# home directories (Linux, root, macOS, Windows).  /tmp, /etc, /usr, /srv
# and the like are left alone: they mean the same on every machine.
MACHINE_PATH = re.compile(
    rb"(?<![\w.~/:$-])(?:/work/|/root/|/home/[^/\s]+/|/Users/[^/\s]+/|[A-Za-z]:\\+Users\\+)"
    rb"[^\s'\"`)\]>,;]*")

# Each exception names the file, the exact path, and why it may stay.
ALLOWED_MACHINE_PATHS = {}

# Code that runs for the tests, benchmarks and fuzzing may not reach for
# data beside the checkout (a shared/reference folder, the checkout's parent).
OUTSIDE_DATA = re.compile(rb"\.\./shared|shared/reference|[\"']shared[\"']|dirname\(ROOT\)")
CODE_DIRECTORIES = ("tests", "bench", "fuzz")

# What a walk skips when there is no git to ask: what .gitignore ignores.
NOT_SOURCE = {".git", ".venv", ".cache", ".pytest_cache", ".hypothesis", "__pycache__",
              "build", ".pybuild"}


def repository_files():
    """Relative paths of the files a clone holds (tracked, or new and not ignored)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT, capture_output=True, timeout=60)
    except OSError:
        listed = None
    if listed is not None and listed.returncode == 0 and listed.stdout:
        names = [n.decode("utf-8", "surrogateescape") for n in listed.stdout.split(b"\0") if n]
        return sorted(n for n in names if os.path.lexists(os.path.join(ROOT, n)))
    return sorted(_walk())


def _walk():
    for directory, subdirectories, names in os.walk(ROOT):
        subdirectories[:] = [d for d in subdirectories
                             if d not in NOT_SOURCE and not d.endswith(".egg-info")]
        for name in names:
            yield os.path.relpath(os.path.join(directory, name), ROOT)


def content(relative):
    """The bytes a file holds; for a symbolic link, where it points."""
    path = os.path.join(ROOT, relative)
    if os.path.islink(path):
        return os.fsencode(os.readlink(path))
    with open(path, "rb") as handle:
        return handle.read()


def test_the_file_list_is_the_checkout():
    files = repository_files()
    assert "README.md" in files and SELF in files
    assert not [f for f in files if f.split(os.sep)[0] in NOT_SOURCE]


def test_no_file_names_a_path_of_a_development_machine():
    found, allowed_seen = [], set()
    for relative in repository_files():
        if relative == SELF:
            continue
        data = content(relative)
        for match in MACHINE_PATH.finditer(data):
            path = match.group().decode("utf-8", "replace")
            if (relative, path) in ALLOWED_MACHINE_PATHS:
                allowed_seen.add((relative, path))
                continue
            line = data.count(b"\n", 0, match.start()) + 1
            found.append(f"{relative}:{line}: {path}")
    assert not found, "\n".join(found)
    # An exception no longer needed must go too.
    assert allowed_seen == set(ALLOWED_MACHINE_PATHS)


def test_no_code_reaches_outside_the_checkout_for_data():
    found = []
    for relative in repository_files():
        if relative == SELF or relative.split(os.sep)[0] not in CODE_DIRECTORIES:
            continue
        data = content(relative)
        for match in OUTSIDE_DATA.finditer(data):
            line = data.count(b"\n", 0, match.start()) + 1
            found.append(f"{relative}:{line}: {match.group().decode('utf-8', 'replace')}")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("text, expected", [
    (b"python /work/venv/bin/x", [b"/work/venv/bin/x"]),
    (b"cd /home/alice/src && make", [b"/home/alice/src"]),
    (b"`/root/.ssh/id`", [b"/root/.ssh/id"]),
    (b'"/Users/bob/code/x.py"', [b"/Users/bob/code/x.py"]),
    (b"C:\\Users\\carol\\x", [b"C:\\Users\\carol\\x"]),
    (b"'C:\\\\Users\\\\carol'", [b"C:\\\\Users\\\\carol"]),
    (b"/etc/courier/imapd.cnf /tmp/x /usr/lib/courier /srv/courier/share", []),
    (b"https://example.org/home/page/ ~/work/x $HOME/work/x a/root/b", []),
])
def test_machine_path_pattern(text, expected):
    assert [m.group() for m in MACHINE_PATH.finditer(text)] == expected


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


def _shell_blocks(markdown):
    return re.findall(r"```sh\n(.*?)```", markdown, re.S)


def test_ci_runs_the_readme_commands_word_for_word():
    """A newcomer who follows "Run the tests" does what CI does, no more, no less."""
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        readme_lines = {line for block in _shell_blocks(handle.read())
                        for line in block.splitlines()}
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as handle:
        commands = [line for line in handle.read().splitlines()
                    if line.startswith(("apt-get ", "python3 "))]
    assert len(commands) == 2, commands
    install, suite = commands
    # Only where apt's output goes may differ.
    assert install.split(" >", 1)[0] in readme_lines
    assert suite in readme_lines
