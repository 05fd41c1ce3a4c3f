"""From a ``.cnf`` path to a :class:`~mkcert.request.CertRequest`.

This is the only place that reads configuration files: the readers
(:mod:`mkcert.opensslconf`, :mod:`mkcert.reqconf`, :mod:`mkcert.template`)
get text and stay free of I/O, and ``.include`` goes through
:func:`read_include`.
"""

import os

from .errors import ConfigError, MkcertError
from .publish import describe


def read_config_text(path):
    """The file's text; bytes that are not UTF-8 survive as surrogates.

    OpenSSL reads bytes and only minds them where a value is used, so an odd
    byte in a comment must not be fatal here; the readers decide.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except IsADirectoryError:
        raise MkcertError(f"cannot read config {path}: it is a directory") from None
    except OSError as exc:
        raise MkcertError(f"cannot read config {path}: {describe(exc)}") from None
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise ConfigError("binary data (a NUL byte) where a text config was expected",
                          path, line)
    return data.decode("utf-8", errors="surrogateescape")


def read_include(path):
    """``.include`` target: a file, or a directory's ``*.cnf``/``*.conf`` files in order."""
    if os.path.isdir(path):
        try:
            names = sorted(os.listdir(path))
        except OSError as exc:
            raise MkcertError(f"cannot read {path}: {describe(exc)}") from None
        files = [os.path.join(path, n) for n in names
                 if n.endswith((".cnf", ".conf"))
                 and os.path.isfile(os.path.join(path, n))]
        return [(f, read_config_text(f)) for f in files]
    return [(path, read_config_text(path))]


def load_request(path, environ=None):
    """Read ``path`` in whichever format it is written and return the request."""
    from .detect import detect_format

    text = read_config_text(path)
    if detect_format(text, path) == "gnutls":
        from .template import read_template

        return read_template(text, path)
    from .opensslconf import parse
    from .reqconf import request_from_config

    config = parse(text, path, environ=os.environ if environ is None else environ,
                   read_include=read_include)
    return request_from_config(config)
