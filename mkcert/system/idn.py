"""International domain names, converted by the library Courier itself uses: libidn2.

Courier's GnuTLS build (Debian's ``couriertls``) turns the name a client
sends into UTF-8 with ``idn2_to_unicode_8z8z`` and back into an A-label with
``idn2_to_ascii_8z`` (flags 0) before it looks for ``TLS_CERTFILE.<name>``.
libidn2's default (UTS #46 non-transitional mapping) lowercases and maps
more than Python's own ``idna`` codec (IDNA 2003) does: ``faß.de`` is
``xn--fa-hia.de`` to libidn2 and ``fass.de`` to Python.  So the names are
converted by the very same library, through ctypes, and never guessed.

Without libidn2 (not a Debian system) a name that is plain ASCII with no
``xn--`` label is still converted exactly (lowercased towards ASCII,
unchanged towards Unicode, as libidn2 does); anything else is None, and
the caller says that it needs the library.  Loaded only for ``--domain``
and ``--which``: nothing else pays for ctypes.
"""

from __future__ import annotations

__all__ = ["LIBRARY", "available", "to_ascii", "to_unicode"]

LIBRARY = "libidn2.so.0"
MAX_LABEL = 63  # libidn2 refuses a longer label (IDN2_TOO_BIG_LABEL)

_library = None
_loaded = False


def _load():
    global _library, _loaded
    if not _loaded:
        _loaded = True
        try:
            import ctypes

            library = ctypes.CDLL(LIBRARY)
            for function in (library.idn2_to_ascii_8z, library.idn2_to_unicode_8z8z):
                function.argtypes = (ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p),
                                     ctypes.c_int)
                function.restype = ctypes.c_int
            library.idn2_free.argtypes = (ctypes.c_void_p,)
            library.idn2_free.restype = None
            _library = library
        except (OSError, AttributeError):
            _library = None
    return _library


def available() -> bool:
    """True when libidn2 can be used (every name then converts as Courier converts it)."""
    return _load() is not None


def _plain_ascii(name):
    return name.isascii() and not any(label.lower().startswith("xn--")
                                      for label in name.split("."))


def _convert(function_name, name):
    import ctypes

    library = _load()
    result = ctypes.c_void_p()
    try:
        encoded = name.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return None
    if b"\0" in encoded:
        return None
    status = getattr(library, function_name)(encoded, ctypes.byref(result), 0)
    if status != 0 or not result.value:
        return None
    try:
        return ctypes.string_at(result.value).decode("utf-8", "surrogateescape")
    finally:
        library.idn2_free(result)


def to_ascii(name: str) -> str | None:
    """``idn2_to_ascii_8z(name, &out, 0)``: the A-label form, or None where libidn2 fails."""
    if _load() is None:
        if not _plain_ascii(name):
            return None
        if any(len(label) > MAX_LABEL for label in name.split(".")):
            return None
        return name.lower()
    return _convert("idn2_to_ascii_8z", name)


def to_unicode(name: str) -> str | None:
    """``idn2_to_unicode_8z8z(name, &out, 0)``: the U-label form, or None where libidn2 fails."""
    if _load() is None:
        if not _plain_ascii(name):
            return None
        if any(len(label) > MAX_LABEL for label in name.split(".")):
            return None
        return name
    return _convert("idn2_to_unicode_8z8z", name)
