"""The examples in README.md and docs/*.md that are marked as real runs, run again.

A ```console block right after a line ``<!-- example -->`` is a real run:
each line starting with ``# `` is a command, the lines up to the next
command are what it printed (stdout and stderr, in order).  Every block
runs alone, as root, in a fresh sandbox that stands in for the machine the
docs show:

* ``/etc/courier`` (COURIER_SYSCONFDIR and COURIER_CERTSDIR) holds
  ``imapd.cnf``, ``pop3d.cnf`` and ``esmtpd.cnf``: certtool templates in
  the shape of Debian's (tests/data/gnutls);
* ``/etc/letsencrypt/live/mail.example.org`` is a certbot lineage issued
  by the tests' throw-away CA (tests/support/pki.py);
* ``/etc/ssl/private`` is an empty directory, mode 0700;
* ``/usr/share/courier-mkcert/`` holds the hooks of contrib/;
* the commands of bin/ come first in PATH, run by this Python from the
  checkout; the mail user is the one running the tests.

Paths under ``/etc/`` and ``/usr/share/courier-mkcert/`` in a command are
moved into the sandbox, and moved back in what the command prints.
Output is compared after :func:`normalise`, which blots out what differs
from run to run: dates, fingerprints and other long hex strings, and the
link count, owner, group, size and time in ``ls -l`` lines (and its total).

``python tests/support/doc_examples.py FILE.md`` prints what the marked
blocks of FILE.md print now, in the docs' own form; with ``--write`` first
it puts that output into FILE.md's blocks (review the diff: dates and
fingerprints change on every run).
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

MARK = "<!-- example -->"
PROMPT = "# "
_BLOCK = re.compile(r"^" + re.escape(MARK) + r"[ \t]*\n```console\n(.*?)^```[ \t]*$", re.M | re.S)
_SEPARATOR = "@@courier-mkcert-doc-example@@"

# What differs from one run to the next, in the order applied.
_VOLATILE = [
    # ls -l: keep the mode and the name, drop links, owner, group, size, time
    (re.compile(r"^([-dlcbps][-rwxsStT]{9}[.+@]?) +\d+ +\S+ +\S+ +\d+ +"
                r"[A-Z][a-z]{2} +\d+ +(?:\d\d:\d\d|\d{4}) ", re.M), r"\1 <ls> "),
    (re.compile(r"^total \d+$", re.M), "total <n>"),
    (re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?: UTC|\+00:00|Z)?"), "<date>"),
    (re.compile(r"[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4} GMT"), "<date>"),
    (re.compile(r"\b(?:[0-9A-Fa-f]{2}:){7,}[0-9A-Fa-f]{2}\b"), "<fingerprint>"),
    (re.compile(r"\b[0-9A-Fa-f]{16,}\b"), "<hex>"),
]


def normalise(text):
    """``text`` without what no two runs share (see _VOLATILE)."""
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


class Step:
    """One command of a block and what the docs say it prints."""

    def __init__(self, command, output):
        self.command = command
        self.output = output

    def __repr__(self):
        return f"Step({self.command!r})"


def blocks(markdown):
    """The marked blocks of ``markdown``: (line number, [Step, ...]) each."""
    found = []
    for match in _BLOCK.finditer(markdown):
        line = markdown.count("\n", 0, match.start(1)) + 1
        steps = []
        for text in match.group(1).splitlines():
            if text.startswith(PROMPT):
                steps.append(Step(text[len(PROMPT):], []))
            elif not steps:
                raise ValueError(f"line {line}: a marked example starts with output, not '# '")
            else:
                steps[-1].output.append(text)
        found.append((line, steps))
    return found


def marked_files():
    """README.md and docs/*.md, relative to the checkout."""
    names = ["README.md"] + sorted(
        os.path.join("docs", n) for n in os.listdir(os.path.join(ROOT, "docs")) if n.endswith(".md"))
    return names


class Sandbox:
    """A throw-away root for one block; see the module's docstring."""

    def __init__(self):
        self.root = tempfile.mkdtemp(prefix="mkcert-doc-example-")
        self.courier = os.path.join(self.root, "etc", "courier")
        os.makedirs(self.courier)
        for name in ("imapd", "pop3d", "esmtpd"):
            shutil.copy(os.path.join(ROOT, "tests", "data", "gnutls", f"{name}.cnf"), self.courier)
        os.makedirs(os.path.join(self.root, "etc", "ssl", "private"), mode=0o700)
        self._certbot_lineage()
        self.bin = os.path.join(self.root, "bin")
        os.makedirs(self.bin)
        for name in os.listdir(os.path.join(ROOT, "bin")):
            self._wrapper(os.path.join(self.bin, name), os.path.join(ROOT, "bin", name))
        hooks = os.path.join(self.root, "usr", "share", "courier-mkcert")
        os.makedirs(hooks)
        for name in os.listdir(os.path.join(ROOT, "contrib")):
            source = os.path.join(ROOT, "contrib", name)
            if os.access(source, os.X_OK):
                self._wrapper(os.path.join(hooks, name), source)

    def _certbot_lineage(self):
        sys.path.insert(0, HERE)
        try:
            import pki
        finally:
            sys.path.remove(HERE)
        pki.Pki("mail.example.org", leaf_kind="ec").write_certbot_lineage(
            os.path.join(self.root, "etc", "letsencrypt"))

    @staticmethod
    def _wrapper(path, script):
        """A command that runs ``script`` from the checkout, as it is named in the docs."""
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(f"#!/bin/sh\nexec {sys.executable} {script} \"$@\"\n"
                         if _is_python(script) else f"#!/bin/sh\nexec {script} \"$@\"\n")
        os.chmod(path, 0o755)

    def inside(self, text):
        """A command's paths, moved into the sandbox."""
        text = re.sub(r"(?<![\w./-])/etc/", self.root + "/etc/", text)
        return re.sub(r"(?<![\w./-])/usr/share/courier-mkcert/",
                      self.root + "/usr/share/courier-mkcert/", text)

    def outside(self, text):
        """What a command printed, with the sandbox's paths as the docs show them."""
        return text.replace(self.root + "/", "/")

    def env(self):
        env = {name: value for name, value in os.environ.items()
               if not name.startswith(("COURIER_", "PYTHON", "RENEWED_", "DH_", "TLS_"))
               and name != "BITS"}
        env.update(PATH=f"{self.bin}:/usr/sbin:/usr/bin:/sbin:/bin", PYTHONPATH=ROOT,
                   PYTHONUNBUFFERED="1", LC_ALL="C.UTF-8", TZ="UTC",
                   COURIER_SYSCONFDIR=self.courier, COURIER_CERTSDIR=self.courier,
                   COURIER_MAILUSER=_current_user())
        return env

    def run(self, steps, timeout=600):
        """What each step prints, in the sandbox, one shell for the block (so ``$?`` works)."""
        script = ["exec 2>&1"]
        for index, step in enumerate(steps):
            script.append(f"__status=$?; echo '{_SEPARATOR}{index}'; (exit $__status)")
            script.append(self.inside(step.command))
        result = subprocess.run(["bash", "-c", "\n".join(script) + "\n"], cwd=self.root,
                                env=self.env(), stdout=subprocess.PIPE, timeout=timeout,
                                stdin=subprocess.DEVNULL)
        printed = result.stdout.decode("utf-8", "replace")
        parts = re.split(r"^" + re.escape(_SEPARATOR) + r"\d+\n", printed, flags=re.M)
        if parts[0] != "" or len(parts) != len(steps) + 1:
            raise AssertionError(f"the block's shell did not run every command:\n{printed}")
        return [self.outside(part).splitlines() for part in parts[1:]]

    def remove(self):
        shutil.rmtree(self.root)


def _is_python(script):
    if not os.path.isfile(script):  # contrib/acme.sh/ holds acme.sh's own hook
        return False
    with open(script, "rb") as handle:
        first = handle.readline()
    return first.startswith(b"#!") and b"python" in first


def _current_user():
    import pwd

    return pwd.getpwuid(os.geteuid()).pw_name


def run_block(steps):
    """[(step, printed lines)] for a block, each block in a sandbox of its own."""
    sandbox = Sandbox()
    try:
        return list(zip(steps, sandbox.run(steps)))
    finally:
        sandbox.remove()


def rendered(steps):
    """A block's body as it prints now: each command, then its output."""
    lines = []
    for step, printed in run_block(steps):
        lines.append(PROMPT + step.command)
        lines.extend(printed)
    return "".join(f"{line}\n" for line in lines)


def main(argv):
    write = argv[:1] == ["--write"]
    for name in argv[1:] if write else argv:
        with open(name, encoding="utf-8") as handle:
            text = handle.read()
        if write:
            text = _BLOCK.sub(lambda m: m.group(0).replace(
                m.group(1), rendered(blocks(m.group(0))[0][1]), 1), text)
            with open(name, "w", encoding="utf-8") as handle:
                handle.write(text)
            continue
        for line, steps in blocks(text):
            print(f"{name}:{line}:\n{MARK}\n```console\n{rendered(steps)}```\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
