#!/usr/bin/env python3
"""Coverage-guided fuzzing of the mk*cert command line, with atheris.

Each input is an argument list: the bytes split at NUL, the first piece
choosing the program name.  mkcert.cli.main.main runs in this process inside a
private layout (1024-bit keys, BITS=512 for esmtpd's DH parameters) with
the current directory inside it; afterwards every file must be one of the
configs or a whole PEM, with no temporary or seed file left, and stderr
must hold no traceback.  A violation raises AssertionError, which atheris
reports as a crash with the input.

    mkdir -p /tmp/cli-corpus
    .venv/bin/python fuzz/fuzz_cli.py /tmp/cli-corpus fuzz/corpus/cli -max_total_time=600

Without atheris (or with --replay) the corpus files are run once each.
"""

import contextlib
import io
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

try:
    import atheris
except ImportError:
    atheris = None

if atheris is not None and "--replay" not in sys.argv:
    with atheris.instrument_imports(include=["mkcert"]):
        from mkcert.cli import main as cli
else:
    from mkcert.cli import main as cli

# A `prompt = yes` config asks on stderr and reads stdin: make that end of
# input at once, never a wait on a pipe that stays open.
_null = os.open(os.devnull, os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)

PROGRAMS = ["mkimapdcert", "mkpop3dcert", "mkesmtpdcert", "mkcouriercert", "mktestdcert"]
OPENSSL_IMAPD = os.path.join(ROOT, "tests", "data", "openssl", "imapd.cnf")


def _layout():
    base = tempfile.mkdtemp(prefix="mkcert-fuzz-cli-")
    etc, certs = os.path.join(base, "etc"), os.path.join(base, "certs")
    os.mkdir(etc)
    os.mkdir(certs)
    with open(OPENSSL_IMAPD, encoding="utf-8") as handle:
        text = handle.read()
    for name in ("imapd", "esmtpd"):
        with open(os.path.join(etc, f"{name}.cnf"), "w") as handle:
            handle.write(text.replace("4096", "1024"))
    with open(os.path.join(etc, "pop3d.cnf"), "w") as handle:
        handle.write("cn = localhost\nexpiration_days = 30\n")
    import pwd
    env = {"COURIER_SYSCONFDIR": etc, "COURIER_CERTSDIR": certs, "BITS": "512",
           "COURIER_MAILUSER": pwd.getpwuid(os.geteuid()).pw_name}
    return base, env


def _check(base, status, stderr):
    assert isinstance(status, int) and 0 <= status <= 3, status
    assert "Traceback" not in stderr, stderr
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    for directory, _, names in os.walk(base):
        for name in names:
            path = os.path.join(directory, name)
            if os.path.relpath(path, base).startswith("etc" + os.sep):
                continue
            assert ".tmp." not in name and not name.endswith(".rand"), path
            assert name.endswith(".pem"), path
            data = open(path, "rb").read()
            key = serialization.load_pem_private_key(data, None)
            certificate = x509.load_pem_x509_certificate(data)
            assert key.public_key().public_numbers() == certificate.public_key().public_numbers()


def TestOneInput(data):
    pieces = data.decode("utf-8", "surrogateescape").split("\0")
    program = PROGRAMS[len(pieces[0]) % len(PROGRAMS)]
    argv = [p for p in pieces[1:8] if not p.startswith("/")]  # stay inside the layout
    base, env = _layout()
    cwd = os.getcwd()
    os.chdir(base)
    out, err = io.StringIO(), io.StringIO()
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = cli.main(argv, program=program, environ=env)
            except SystemExit as exc:
                status = exc.code if isinstance(exc.code, int) else 1
        _check(base, status, err.getvalue())
    finally:
        os.chdir(cwd)
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    from harness import main

    main(TestOneInput, "cli", atheris)
