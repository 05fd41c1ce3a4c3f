"""From a ``.cnf`` path to a :class:`~mkcert.request.CertRequest`.

This is the only place that reads configuration files: the readers
(:mod:`mkcert.readers.openssl.syntax`, :mod:`mkcert.readers.openssl.req`, :mod:`mkcert.readers.certtool.template`)
get text and stay free of I/O, and ``.include`` goes through
:func:`read_include`.
"""

import os

from mkcert.errors import ConfigError, MkcertError, describe
from mkcert.system.files import FileTooLarge, read_regular_file


# Far beyond any real config; a bigger "config" is a mistake (or /dev/zero).
MAX_CONFIG_BYTES = 64 * 1024 * 1024


def read_config_text(path):
    """The file's text; bytes that are not UTF-8 survive as surrogates.

    OpenSSL reads bytes and only minds them where a value is used, so an odd
    byte in a comment must not be fatal here; the readers decide.
    """
    try:
        data = read_regular_file(path, MAX_CONFIG_BYTES)
    except FileTooLarge:
        raise MkcertError(f"cannot read config {path}: "
                          f"larger than {MAX_CONFIG_BYTES >> 20} MiB") from None
    except OSError as exc:  # a directory says "it is a directory"
        raise MkcertError(f"cannot read config {path}: {describe(exc)}") from None
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise ConfigError("binary data (a NUL byte) where a text config was expected",
                          path, line)
    return data.decode("utf-8", errors="surrogateescape")


def read_include(path):
    """Read an ``.include`` target as OpenSSL does.

    A directory yields its ``*.cnf`` and ``*.conf`` files (any case, not a
    bare ``.cnf``), in name order (OpenSSL takes readdir order, which no
    admin can rely on).  A path that cannot be read yields nothing: OpenSSL
    skips it without a word (the parser notes a warning).
    """
    try:
        if os.path.isdir(path):
            files = [os.path.join(path, name) for name in sorted(os.listdir(path))
                     if _included_from_directory(name)]
        else:
            files = [path]
    except OSError:
        return []
    result = []
    for file in files:
        try:
            data = read_regular_file(file, MAX_CONFIG_BYTES)
        except OSError:
            continue
        result.append((file, data.decode("utf-8", "surrogateescape")))
    return result


def _included_from_directory(name):
    lower = name.lower()
    return (len(name) > 5 and lower.endswith(".conf")) or (
        len(name) > 4 and lower.endswith(".cnf"))


def load_request(path, environ=None, key_type=None):
    """Read ``path`` in whichever format it is written and return the request.

    ``key_type``: a :class:`mkcert.readers.key_type.KeyType` (``--key-type``),
    or None for the RSA key the file describes.
    """
    try:
        return _load_request(path, environ, key_type)
    except MemoryError:
        # A config near the size limit where memory is limited (ulimit -v),
        # or an expansion that is large but within bounds: one line, too.
        raise MkcertError(f"{path}: not enough memory to read this config") from None


def _load_request(path, environ, key_type):
    from mkcert.readers.detect import detect_format

    text = read_config_text(path)
    if detect_format(text, path) == "gnutls":
        from mkcert.readers.certtool.template import read_template

        return read_template(text, path, require_subject=True, key_type=key_type)
    from mkcert.readers.openssl.syntax import parse
    from mkcert.readers.openssl.req import request_from_config

    config = parse(text, path, environ=os.environ if environ is None else environ,
                   read_include=read_include)
    return request_from_config(config, prompter=_TerminalPrompter(), key_type=key_type)


class _TerminalPrompter:
    """The prompter on standard input and error, made at the first question.

    Courier's configs say ``prompt = no``: those never load the prompt module.
    """

    def __init__(self):
        self._prompter = None

    def __call__(self, prompt):
        if self._prompter is None:
            from mkcert.readers.openssl.prompt import StdioPrompter

            self._prompter = StdioPrompter()
        return self._prompter(prompt)
