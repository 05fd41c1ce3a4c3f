#!/usr/bin/env python3
"""Coverage-guided fuzzing of the config readers, with atheris.

Each input is one config file's bytes.  It goes through every reader
(detect_format, read_template, opensslconf.parse + reqconf.request_from_config)
and, through a real file, config.load_request.  A reader may return a request
or raise mkcert.errors.MkcertError; anything else is a crash that atheris
reports with the input that caused it.

    mkdir -p /tmp/config-corpus  # atheris adds what it finds to the first directory
    .venv/bin/python fuzz/fuzz_config.py /tmp/config-corpus fuzz/corpus/config -max_total_time=600

Without atheris (or with --replay) the corpus files are run once each, which
is what tests/threats/test_fuzz_harness.py does in CI.
"""

import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

try:
    import atheris
except ImportError:  # replay mode only
    atheris = None


def _imports():
    global MkcertError, detect_format, read_template, parse, request_from_config, load_request
    from mkcert.readers.load import load_request
    from mkcert.readers.detect import detect_format
    from mkcert.errors import MkcertError
    from mkcert.readers.openssl.syntax import parse
    from mkcert.readers.openssl.req import request_from_config
    from mkcert.readers.certtool.template import read_template


if atheris is not None and "--replay" not in sys.argv:
    with atheris.instrument_imports(include=["mkcert"]):
        _imports()
else:
    _imports()

# A `prompt = yes` config asks on stderr and reads stdin: make that end of
# input at once, never a wait on a pipe that stays open.
_null = os.open(os.devnull, os.O_RDONLY)
os.dup2(_null, 0)
os.close(_null)


def _include(path):
    # Never the real file system: a fuzzed .include names some other input.
    if os.path.basename(path) == "self.cnf":
        return [(path, _current[0])]
    raise MkcertError(f"cannot read config {path}: No such file or directory")


_current = [""]


def _attempt(function, *args, **kwargs):
    try:
        return function(*args, **kwargs)
    except MkcertError:
        return None


def TestOneInput(data):
    text = data.replace(b"\0", b"").decode("utf-8", "surrogateescape")
    _current[0] = text
    _attempt(detect_format, text, "fuzz.cnf")
    _attempt(read_template, text, "fuzz.cnf")
    config = _attempt(parse, text, "fuzz.cnf", environ={"HOME": "/root"}, read_include=_include)
    if config is not None:
        _attempt(request_from_config, config)
    _load_through_a_file(data)


def _load_through_a_file(data):
    """config.load_request on the input as a real file, in a directory of its own.

    The directory goes with the input, not with the process: a crash ends
    the fuzzing at once, and replays import this module from tests.
    """
    directory = tempfile.mkdtemp(prefix="mkcert-fuzz-config-")
    try:
        path = os.path.join(directory, "fuzz.cnf")
        with open(path, "wb") as handle:
            handle.write(data)
        _attempt(load_request, path, {})
    finally:
        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    from harness import main

    main(TestOneInput, "config", atheris)
