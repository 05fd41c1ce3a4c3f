"""International domain names, converted by the library Courier itself uses.

Courier's GnuTLS build turns the name a client sends into UTF-8
(``..._to_unicode_8z8z``) and back into an A-label (``..._to_ascii_8z``,
flags 0) before it looks for ``TLS_CERTFILE.<name>``, and which library
does it depends on Courier's version:

* libidn (IDNA 2003, ``idna_*``, ``libidn.so.12``) up to courier-libs of
  2022, so in Debian 12's ``couriertls`` (courier 1.0.16): an ASCII name
  passes unchanged, capitals and all (RFC 3490 applies nameprep only to a
  label with non-ASCII characters);
* libidn2 (``idn2_*``, ``libidn2.so.0``) since: UTS #46 mapping, which
  lowercases ``MAIL.Example.org`` to ``mail.example.org`` first.

So :func:`server_converters` uses the very library the installed
``couriertls`` calls, found by the function names in the binary
(:func:`couriertls_flavour`), through ctypes, and never guesses.  What a
client sends for a U-label is IDNA 2008's A-label (libidn2's
``idn2_to_ascii_8z``): :func:`client_a_label`.

Without the library, names that are plain ASCII without an ``xn--``
label still convert exactly (they are the whole of what the rules need
to know about them); anything else converts to None and the caller says
so.  Loaded only for ``--domain`` and ``--which``.
"""

from __future__ import annotations

__all__ = ["IDN2", "IDNA", "client_a_label", "couriertls_flavour", "server_converters"]

IDN2, IDNA = "idn2", "idna"
_LIBRARIES = {IDN2: ("libidn2.so.0", "idn2_to_ascii_8z", "idn2_to_unicode_8z8z", "idn2_free"),
              IDNA: ("libidn.so.12", "idna_to_ascii_8z", "idna_to_unicode_8z8z", "idn_free")}
MAX_LABEL = 63  # both refuse a longer label
MAX_BINARY = 16 << 20

_loaded = {}


def _library(flavour):
    if flavour not in _loaded:
        _loaded[flavour] = None
        try:
            import ctypes

            soname, to_ascii, to_unicode, free = _LIBRARIES[flavour]
            library = ctypes.CDLL(soname)
            for function in (getattr(library, to_ascii), getattr(library, to_unicode)):
                function.argtypes = (ctypes.c_char_p, ctypes.POINTER(ctypes.c_void_p),
                                     ctypes.c_int)
                function.restype = ctypes.c_int
            getattr(library, free).argtypes = (ctypes.c_void_p,)
            getattr(library, free).restype = None
            _loaded[flavour] = library
        except (OSError, AttributeError):
            pass
    return _loaded[flavour]


def _plain_ascii(name):
    return name.isascii() and not any(label.lower().startswith("xn--")
                                      for label in name.split("."))


def _fallback(name, lower):
    """The conversion of a plain ASCII name, as both libraries make it; else None."""
    if not _plain_ascii(name) or any(len(label) > MAX_LABEL for label in name.split(".")):
        return None
    return name.lower() if lower else name


def _convert(flavour, which, name):
    import ctypes

    library = _library(flavour)
    soname, to_ascii, to_unicode, free = _LIBRARIES[flavour]
    encoded = name.encode("utf-8", "surrogateescape")
    if b"\0" in encoded:
        return None
    result = ctypes.c_void_p()
    function = getattr(library, to_ascii if which == "ascii" else to_unicode)
    if function(encoded, ctypes.byref(result), 0) != 0 or not result.value:
        return None
    try:
        return ctypes.string_at(result.value).decode("utf-8", "surrogateescape")
    finally:
        getattr(library, free)(result)


def _converter(flavour, which):
    lower = flavour == IDN2 and which == "ascii"

    def convert(name: str) -> str | None:
        if _library(flavour) is None:
            return _fallback(name, lower)
        return _convert(flavour, which, name)

    return convert


def server_converters(flavour: str):
    """(to_ascii, to_unicode) as the couriertls of ``flavour`` (:data:`IDN2`, :data:`IDNA`) calls them."""
    return _converter(flavour, "ascii"), _converter(flavour, "unicode")


def client_a_label(name: str) -> str | None:
    """What a client sends for ``name``: its IDNA 2008 A-label, lowercase; None if none."""
    return _converter(IDN2, "ascii")(name)


def couriertls_flavour(path: str) -> str:
    """Which IDN library the ``couriertls`` at ``path`` calls: :data:`IDNA` or :data:`IDN2`.

    Read from the function names the binary imports; a binary that cannot
    be read, or names neither, is taken to be today's Courier (libidn2).
    """
    from mkcert.system.files import read_regular_file

    try:
        data = read_regular_file(path, MAX_BINARY)
    except OSError:
        return IDN2
    if b"idna_to_ascii_8z" in data and b"idn2_to_ascii_8z" not in data:
        return IDNA
    return IDN2
