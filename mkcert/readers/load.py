"""From a ``.cnf`` path to a :class:`~mkcert.request.CertRequest`.

This is the only place that reads configuration files: the readers
(:mod:`mkcert.readers.openssl.syntax`, :mod:`mkcert.readers.openssl.req`, :mod:`mkcert.readers.certtool.template`)
get text and stay free of I/O, and ``.include`` goes through
:func:`read_include`.
"""

import errno
import os
import stat

from mkcert.errors import ConfigError, MkcertError, describe


# Far beyond any real config; a bigger "config" is a mistake (or /dev/zero).
MAX_CONFIG_BYTES = 64 * 1024 * 1024


def read_config_text(path):
    """The file's text; bytes that are not UTF-8 survive as surrogates.

    OpenSSL reads bytes and only minds them where a value is used, so an odd
    byte in a comment must not be fatal here; the readers decide.
    """
    try:
        data = _read_regular_file(path)
    except IsADirectoryError:
        raise MkcertError(f"cannot read config {path}: it is a directory") from None
    except OSError as exc:
        raise MkcertError(f"cannot read config {path}: {describe(exc)}") from None
    if b"\0" in data:
        line = data.count(b"\n", 0, data.index(b"\0")) + 1
        raise ConfigError("binary data (a NUL byte) where a text config was expected",
                          path, line)
    return data.decode("utf-8", errors="surrogateescape")


def _read_regular_file(path):
    """The bytes of a regular file of sane size; never blocks on a FIFO or device."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb", buffering=0) as handle:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "it is a directory")
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        data = _read_up_to(handle, MAX_CONFIG_BYTES + 1, st.st_size)
        if len(data) > MAX_CONFIG_BYTES:
            raise OSError(errno.EFBIG, f"larger than {MAX_CONFIG_BYTES >> 20} MiB")
        return data


def _read_up_to(handle, limit, expected):
    """At most ``limit`` bytes, in reads the size of what is there.

    ``read(limit)`` would allocate the whole limit first: 64 MiB for a
    500-byte config, which fails where address space is limited (``ulimit
    -v``).  The file's size comes first (plus one byte to see its end);
    more only if it grew, or is one of those files whose size says 0.
    """
    chunks, total = [], 0
    size = min(expected, limit - 1) + 1
    while total < limit:
        chunk = handle.read(min(size, limit - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        size = 1 << 16
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


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
            data = _read_regular_file(file)
        except OSError:
            continue
        result.append((file, data.decode("utf-8", "surrogateescape")))
    return result


def _included_from_directory(name):
    lower = name.lower()
    return (len(name) > 5 and lower.endswith(".conf")) or (
        len(name) > 4 and lower.endswith(".cnf"))


def load_request(path, environ=None):
    """Read ``path`` in whichever format it is written and return the request."""
    try:
        return _load_request(path, environ)
    except MemoryError:
        # A config near the size limit where memory is limited (ulimit -v),
        # or an expansion that is large but within bounds: one line, too.
        raise MkcertError(f"{path}: not enough memory to read this config") from None


def _load_request(path, environ):
    from mkcert.readers.detect import detect_format

    text = read_config_text(path)
    if detect_format(text, path) == "gnutls":
        from mkcert.readers.certtool.template import read_template

        return read_template(text, path, require_subject=True)
    from mkcert.readers.openssl.syntax import parse
    from mkcert.readers.openssl.req import request_from_config

    config = parse(text, path, environ=os.environ if environ is None else environ,
                   read_include=read_include)
    return request_from_config(config, prompter=_TerminalPrompter())


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
