"""OpenSSL configuration files (config(5)), read exactly as OpenSSL 3.0 reads them.

Courier's ``.cnf`` files are fed to ``openssl req``; admins have edited them
for twenty years, so anything OpenSSL accepts must mean the same thing here,
and anything it rejects must be rejected, with the file and line named.
The rules below were checked one by one against the ``openssl`` binary:

* keys before the first ``[ section ]`` live in the section ``default``,
  which is also where every lookup falls back to;
* ``#`` starts a comment anywhere outside quotes; ``"``, ``'`` and
  ````` quote; a backslash escapes (``\\n``, ``\\r``, ``\\t``, ``\\b``) and,
  last on a line, joins the next line;
* ``$name``, ``${name}``, ``$(name)``, ``$section::name`` expand when the
  line is read (later definitions do not change earlier values), and
  ``ENV::NAME`` comes from the environment; an undefined one is an error;
* a repeated key replaces the earlier one and moves to the end of its
  section (which matters for the order of distinguished-name fields);
* ``.include`` and ``.pragma`` lines.

Parsing is pure: included files are read through the ``read_include``
callback, so tests and callers decide what the file system is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from mkcert.errors import ConfigError, MkcertError, shorten

__all__ = ["parse", "Config", "Entry", "no_includes", "logical_lines", "strip_comment",
           "DEFAULT_SECTION", "MAX_VALUE_LENGTH", "MAX_EXPANDED_BYTES", "MAX_INCLUDE_DEPTH"]

DEFAULT_SECTION = "default"

# OpenSSL refuses to grow a value beyond this while expanding variables;
# it is what stops "a = $a$a" doubling forever.
MAX_VALUE_LENGTH = 65536

# What all expansions of a file (and its includes) may add up to.  OpenSSL
# has no such limit, so a 100 KB config of "b1 = $a-" lines, each under the
# per-value limit, costs it (and would cost us) gigabytes; no real config
# comes near.
MAX_EXPANDED_BYTES = 8 * 1024 * 1024

# Included files nested deeper than this are refused; OpenSSL itself only
# stops when it runs out of file descriptors.
MAX_INCLUDE_DEPTH = 32

_WHITESPACE = " \t\r\n"
_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
_PUNCTUATION = frozenset("!.%&*+,/;?@^~|-")
_QUOTES = "\"'`"
_ESCAPED = {"r": "\r", "n": "\n", "b": "\b", "t": "\t"}


class Entry(tuple):
    """One ``name = value`` of a section: unpacks as (name, value, line).

    ``path`` says which file the line is in, since it may be an included one.
    """

    def __new__(cls, name: str, value: str, line: int, path: str) -> Entry:
        entry = super().__new__(cls, (name, value, line))
        entry.path = path
        return entry

    name = property(lambda self: self[0])
    value = property(lambda self: self[1])
    line = property(lambda self: self[2])


class Config:
    """A parsed configuration: sections of entries, looked up as OpenSSL does."""

    def __init__(self, path: str, environ: dict[str, str]):
        self.path = path
        self.environ = environ
        self.warnings = []  # "file:line: text" for things OpenSSL passes over silently
        self._sections = {DEFAULT_SECTION: {}}

    # Lookup ---------------------------------------------------------------

    def get(self, section: str | None, name: str, default: str | None = None) -> str | None:
        """The value as NCONF_get_string finds it: the section, then ENV, then default.

        ``section`` None looks in the default section only.
        """
        entry = self._lookup(section, name) if section is not None else None
        if entry is not None:
            return entry[1]
        if section == "ENV" and name in self.environ:
            return self.environ[name]
        entry = self._lookup(DEFAULT_SECTION, name)
        return default if entry is None else entry[1]

    def section(self, name: str) -> list[Entry] | None:
        """The section's entries in file order, or None if there is no such section."""
        entries = self._sections.get(name)
        return None if entries is None else list(entries.values())

    def has_section(self, name: str) -> bool:
        return name in self._sections

    def sections(self) -> list[str]:
        return list(self._sections)

    def entry(self, section: str, name: str) -> Entry | None:
        """The Entry ``get`` would use (None for environment values or no value)."""
        return self._lookup(section, name) or self._lookup(DEFAULT_SECTION, name)

    def line_of(self, section: str, name: str) -> int | None:
        entry = self.entry(section, name)
        return None if entry is None else entry[2]

    def where(self, section: str, name: str) -> tuple[str, int | None]:
        """(path, line) of the entry behind ``get(section, name)``, for error messages."""
        entry = self.entry(section, name)
        return (self.path, None) if entry is None else (entry.path, entry[2])

    def error(self, message: str, section: str | None = None, name: str | None = None,
              entry: Entry | None = None) -> ConfigError:
        """A ConfigError located at an entry (or at the file when there is none)."""
        if entry is None and section is not None:
            entry = self.entry(section, name) if name is not None else None
        if entry is None:
            return ConfigError(message, self.path)
        return ConfigError(message, entry.path, entry[2])

    def _lookup(self, section, name):
        entries = self._sections.get(section)
        return None if entries is None else entries.get(name)

    # Building (used by the parser) -----------------------------------------

    def _add_section(self, name):
        self._sections.setdefault(name, {})

    def _set(self, section, entry):
        entries = self._sections.setdefault(section, {})
        # A repeated name replaces the old value and takes the new position.
        entries.pop(entry[0], None)
        entries[entry[0]] = entry

    def _expand_lookup(self, section, name):
        return self.get(section, name)


def parse(text: str, path: str, environ: dict[str, str] | None = None,
          read_include: Callable[[str], list[tuple[str, str]]] | None = None) -> Config:
    """Parse config text (a str, decoded with errors='surrogateescape').

    ``environ`` maps names for ``$ENV::NAME`` and OPENSSL_CONF_INCLUDE (None:
    an empty environment, so parsing stays pure).  ``read_include(path)``
    returns [(path, text), ...] for a file or, for a directory, its
    ``*.cnf``/``*.conf`` files (:func:`mkcert.readers.load.read_include`); without
    it an ``.include`` reads nothing.
    """
    config = Config(path, dict(environ or {}))
    parser = _Parser(config, read_include or no_includes)
    parser.parse_file(text, path, depth=0)
    return config


def no_includes(path: str) -> list[tuple[str, str]]:
    """The default include reader: a pure parse sees no other file."""
    return []


def logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Yield (first line number, logical line) as OpenSSL's line reader forms them.

    Trailing CR/LF go; a final unescaped backslash joins the next line; a NUL
    ends what OpenSSL sees of a physical line and, like a line without its
    newline, runs it into the next one.  A NUL at the very start of a line
    ends the file for OpenSSL, and so it does here.
    """
    physical = text.split("\n")
    # split() leaves a last piece after the final newline; OpenSSL's reader
    # then sees end of file (an empty read).
    pieces = [piece + "\n" for piece in physical[:-1]]
    if physical[-1]:
        pieces.append(physical[-1])
    pieces.append("")  # end of file
    buffer, again, number, start = "", False, 0, None
    for piece in pieces:
        if "\0" in piece:
            piece = piece[:piece.index("\0")]
        if not piece and not again:
            break
        again = False
        if start is None:
            start = number + 1
        stripped = piece.rstrip("\r\n")
        if piece and stripped == piece:
            again = True  # no line end seen: the line goes on
        else:
            number += 1
        buffer += stripped
        if not again and buffer and buffer[-1] == "\\" and (
                len(buffer) <= 1 or buffer[-2] != "\\"):
            buffer = buffer[:-1]
            again = True
        if again:
            continue
        yield start, buffer
        buffer, start = "", None


def _utf8_length(text):
    """Bytes of ``text`` in UTF-8, without making a copy where it is ASCII."""
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogateescape"))


def _eat_ws(text, pos):
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _trim_ws(text):
    end = len(text)
    while end > 0 and text[end - 1] in _WHITESPACE:
        end -= 1
    return text[:end]


def _skip_quoted(text, pos):
    """Past a quoted run starting at ``pos`` (backslash escapes the quote)."""
    quote = text[pos]
    pos += 1
    while pos < len(text) and text[pos] != quote:
        if text[pos] == "\\":
            pos += 1
            if pos >= len(text):
                return pos
        pos += 1
    return pos + 1 if pos < len(text) else pos


def strip_comment(line: str) -> str:
    """The line without its ``#`` comment; quotes and escapes protect a ``#``."""
    pos = 0
    while pos < len(line):
        char = line[pos]
        if char == "#":
            return line[:pos]
        if char in _QUOTES:
            pos = _skip_quoted(line, pos)
        elif char == "\\":
            pos += 1 if pos + 1 >= len(line) else 2
        else:
            pos += 1
    return line


class _Parser:
    """The state OpenSSL keeps while reading a file and everything it includes."""

    def __init__(self, config, read_include):
        self.config = config
        self.read_include = read_include
        self.section = DEFAULT_SECTION
        self.dollarid = False
        self.abspath = False
        self.includedir = None
        self.including = []
        self.expanded_bytes = 0  # everything variables have added so far

    def parse_file(self, text, path, depth):
        if text.startswith("\ufeff"):
            text = text[1:]  # a UTF-8 byte order mark, decoded
        elif text.startswith("\udcef\udcbb\udcbf"):
            text = text[3:]
        self.including.append(path)
        try:
            for number, line in logical_lines(text):
                self.parse_line(strip_comment(line), path, number, depth)
        finally:
            self.including.pop()

    def fail(self, message, path, number):
        raise ConfigError(message, path, number)

    def eat_name(self, text, pos):
        """Past a name: letters, digits, ``_``, punctuation and escaped characters."""
        while pos < len(text):
            char = text[pos]
            if char == "\\":
                pos += 1 if pos + 1 >= len(text) else 2
            elif char in _ALNUM or char in _PUNCTUATION or (self.dollarid and char == "$"):
                pos += 1
            else:
                break
        return pos

    def parse_line(self, line, path, number, depth):
        pos = _eat_ws(line, 0)
        if pos >= len(line):
            return
        if line[pos] == "[":
            self.parse_section_header(line, pos + 1, path, number)
            return
        name_start = pos
        end = self.eat_name(line, pos)
        target_section = self.section
        if line.startswith("::", end):
            target_section = line[name_start:end]
            name_start = end + 2
            end = self.eat_name(line, name_start)
        after = _eat_ws(line, end)
        if self.is_directive(line, name_start, after, ".pragma"):
            self.parse_pragma(self.directive_argument(line, after), path, number)
            return
        if self.is_directive(line, name_start, after, ".include"):
            argument = self.directive_argument(line, after)
            self.include(self.expand(argument, target_section, path, number),
                         path, number, depth)
            return
        if after >= len(line) or line[after] != "=":
            self.fail(f"expected 'name = value' but found '{shorten(line.strip())}'"
                      " (no '=' after the name)", path, number)
        name = line[name_start:end]
        value = self.expand(_trim_ws(line[_eat_ws(line, after + 1):]),
                            target_section, path, number)
        self.config._set(target_section, Entry(name, value, number, path))

    @staticmethod
    def is_directive(line, name_start, after, word):
        # OpenSSL's test: the word, then whitespace or '=' (or more name).
        return line.startswith(word, name_start) and (
            after != name_start + len(word) or line[after:after + 1] == "=")

    @staticmethod
    def directive_argument(line, after):
        if line[after:after + 1] == "=":
            after = _eat_ws(line, after + 1)
        return _trim_ws(line[after:])

    def parse_section_header(self, line, pos, path, number):
        start = _eat_ws(line, pos)
        scan = start
        while True:
            end = self.eat_name(line, scan)
            after = _eat_ws(line, end)
            if after < len(line) and line[after] == "]":
                break
            if after < len(line) and after != scan:
                scan = after  # OpenSSL lets a section name contain spaces
                continue
            self.fail(f"section header '{shorten(line.strip())}' has no closing ']'"
                      " (or has a character not allowed in a section name)",
                      path, number)
        self.section = self.expand(line[start:end], None, path, number)
        self.config._add_section(self.section)

    def parse_pragma(self, argument, path, number):
        keyword, colon, value = argument.partition(":")
        if not colon or not keyword or not value:
            self.fail(f"'.pragma {shorten(argument)}' is not of the form 'keyword:value'",
                      path, number)
        keyword = _trim_ws(keyword)
        value = value[_eat_ws(value, 0):]
        if keyword == "dollarid":
            self.dollarid = self.pragma_bool(keyword, value, path, number)
        elif keyword == "abspath":
            self.abspath = self.pragma_bool(keyword, value, path, number)
        elif keyword == "includedir":
            self.includedir = value
        # OpenSSL ignores pragmas it does not know, and so do we.

    def pragma_bool(self, keyword, value, path, number):
        if value.lower() in ("on", "true"):
            return True
        if value.lower() in ("off", "false"):
            return False
        self.fail(f"'.pragma {shorten(keyword)}' takes on/true or off/false,"
                  f" not '{shorten(value)}'", path, number)

    def include(self, target, path, number, depth):
        directory = self.config.environ.get("OPENSSL_CONF_INCLUDE", self.includedir)
        if directory is not None and not target.startswith("/"):
            target = directory + ("" if directory.endswith("/") else "/") + target
        shown = shorten(target)
        if self.abspath and not target.startswith("/"):
            self.fail(f"'.include {shown}': the path must be absolute"
                      " ('.pragma abspath' is on)", path, number)
        if target in self.including or depth >= MAX_INCLUDE_DEPTH:
            self.fail(f"'.include {shown}' includes itself (an include loop)"
                      if target in self.including else
                      f"'.include {shown}': includes nested too deeply", path, number)
        try:
            files = self.read_include(target)
        except ConfigError:
            raise
        except (MkcertError, OSError) as problem:
            # The reader knows the file; we know the line that asked for it.
            self.fail(f"'.include {shown}': {problem}", path, number)
        if not files:
            self.config.warnings.append(
                f"{path}:{number}: '.include {shown}' found nothing to read"
                " (OpenSSL skips it too)")
        for included_path, text in files:
            if included_path in self.including:
                self.fail(f"'.include {shown}' includes {shorten(included_path)} again"
                          " (an include loop)", path, number)
            self.parse_file(text, included_path, depth + 1)

    def expand(self, raw, section, path, number):
        """The value of ``raw``: quotes and escapes resolved, variables expanded."""
        out = []
        # OpenSSL's size bookkeeping, kept exactly so runaway expansion
        # fails at the same point.
        budget = _utf8_length(raw) + 1
        pos = 0
        while pos < len(raw):
            char = raw[pos]
            if char in _QUOTES:
                pos = self.copy_quoted(raw, pos, out)
            elif char == "\\":
                if pos + 1 >= len(raw):
                    break
                out.append(_ESCAPED.get(raw[pos + 1], raw[pos + 1]))
                pos += 2
            elif char == "$" and (not self.dollarid or raw[pos + 1:pos + 2] in ("{", "(")):
                pos, value = self.variable(raw, pos, section, path, number)
                size = _utf8_length(value)
                budget = size + budget - (pos - self.reference_start)
                if budget > MAX_VALUE_LENGTH:
                    self.fail("variable expansion makes the value longer than "
                              f"{MAX_VALUE_LENGTH} bytes (a runaway expansion?)",
                              path, number)
                self.expanded_bytes += size
                if self.expanded_bytes > MAX_EXPANDED_BYTES:
                    self.fail("variable expansions add up to more than "
                              f"{MAX_EXPANDED_BYTES >> 20} MiB in this config"
                              " (a runaway expansion?)", path, number)
                out.append(value)
            else:
                out.append(char)
                pos += 1
        return "".join(out)

    @staticmethod
    def copy_quoted(raw, pos, out):
        quote = raw[pos]
        pos += 1
        while pos < len(raw) and raw[pos] != quote:
            if raw[pos] == "\\":
                pos += 1
                if pos >= len(raw):
                    break
            out.append(raw[pos])
            pos += 1
        return pos + 1 if pos < len(raw) else pos

    def eat_variable_name(self, raw, pos):
        while pos < len(raw) and (raw[pos] in _ALNUM or (self.dollarid and raw[pos] == "$")):
            pos += 1
        return pos

    def variable(self, raw, pos, section, path, number):
        """Resolve the reference at ``raw[pos] == '$'``: (position after it, value)."""
        self.reference_start = pos
        scan = pos + 1
        close = {"{": "}", "(": ")"}.get(raw[scan:scan + 1])
        if close:
            scan += 1
        name_start = scan
        scan = self.eat_variable_name(raw, scan)
        if raw.startswith("::", scan):
            section = raw[name_start:scan]
            name_start = scan + 2
            scan = self.eat_variable_name(raw, name_start)
        name = raw[name_start:scan]
        if close:
            if raw[scan:scan + 1] != close:
                self.fail(f"variable reference '{shorten(raw[pos:scan + 1])}' has no closing"
                          f" {close!r}", path, number)
            scan += 1
        value = self.config._expand_lookup(section, name)
        if value is None:
            where = f"{section}::{name}" if section not in (None, self.section) else name
            hint = (" (nothing follows the '$'; write \\$ for a dollar sign)" if not name
                    else " (a variable must be set on a line above the one using it)")
            self.fail(f"variable ${shorten(where)} is not defined" + hint, path, number)
        return scan, value
