"""The options of a certtool template: scanned, looked up and read as certtool does.

GnuTLS's cfg parser turns the template's text into ``name = value`` pairs
(:func:`scan`); certtool then looks each name up exactly, takes the first
of a repeated single-valued option and all of a multi-valued one
(:class:`Template`), and reads numbers, OIDs, strings and names in its
own way (the value readers at the end).  Every other module of the reader
builds on these, and names the file and line of an option it refuses
through :meth:`Template.fail`.
"""

from __future__ import annotations

import re

from mkcert.asn1 import der, general_names as gn
from mkcert.errors import ConfigError, shorten
from mkcert.request import REQUIRED, Record

__all__ = ["Option", "Template", "scan", "numeric_option", "object_identifier", "oid_and_value",
           "require_utf8", "ia5_name", "ip_name"]


class Option(Record):
    """One ``name = value`` of the template, with the line it starts on."""

    FIELDS = (("name", REQUIRED), ("value", REQUIRED), ("line", REQUIRED))
    __slots__ = tuple(name for name, _ in FIELDS)


_NAME_FIRST = frozenset("_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_NAME_REST = _NAME_FIRST | frozenset("0123456789:^-")
_BLANK = frozenset(" \t\n\v\f\r\b")
# Where a value's plain run of characters ends.
_UNQUOTED_SPECIAL = re.compile(r"[\\\n]")
_QUOTED_SPECIAL = {quote: re.compile(f"[\\\\{quote}]") for quote in "'\""}


class _Scanner:
    """certtool's template syntax, one character at a time.

    ``name [=|:] value``, where the value runs to the end of the line, or is
    quoted with " or ' (and then may span lines).  ``#`` starts a comment
    only where a name could start: after an unquoted value it is part of the
    value.  Backslashes: ``\\`` + newline continues a line, ``\\`` + the
    quote character is that character, and ``\\`` + anything else vanishes
    with that character (certtool's reading; we keep it, odd as it is).
    """

    def __init__(self, text, path):
        self.text = text
        self.path = path
        self.pos = 0
        self.warnings = []
        self._counted_to, self._line = 0, 1

    def line_at(self, pos: int) -> int:
        """The line of ``pos``, counted on from the last answer.

        Positions asked about mostly grow, so a template of many lines costs
        linear time, not a count from the start for every option.
        """
        if pos < self._counted_to:
            self._counted_to, self._line = 0, 1
        self._line += self.text.count("\n", self._counted_to, pos)
        self._counted_to = pos
        return self._line

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def options(self) -> list[Option]:
        found = []
        while True:
            self._skip_blanks_and_comments()
            if self.pos >= len(self.text):
                return found
            if self.peek() not in _NAME_FIRST:
                self.warnings.append(
                    f"{self.path}:{self.line_at(self.pos)}: certtool stops reading the "
                    f"template at {self.peek()!r}; the rest of the file is ignored")
                return found
            start = self.pos
            name = self._name()
            option = Option(name, self._value(), self.line_at(start))
            if option.value.endswith("\r"):
                self.warnings.append(
                    f"{self.path}:{option.line}: the value of '{shorten(name)}' ends with a "
                    "carriage return (DOS line ending), which certtool keeps")
            found.append(option)

    def _skip_blanks_and_comments(self):
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end + 1
            elif c in _BLANK:
                self.pos += 1
            else:
                return

    def _name(self):
        start = self.pos
        self.pos += 1
        while self.peek() and self.peek() in _NAME_REST:
            self.pos += 1
        if self.text[self.pos - 1] == ":" and self.pos - 1 > start:
            self.pos -= 1  # "cn: value" - the colon is the delimiter
        return self.text[start:self.pos]

    def _skip_horizontal(self):
        while self.peek() in (" ", "\t") and self.peek():
            self.pos += 1

    def _value(self):
        self._skip_horizontal()
        if self.peek() in (":", "=") and self.peek():
            self.pos += 1
            self._skip_horizontal()
        c = self.peek()
        if c == "":
            return ""
        if c == "\n":
            self.pos += 1
            return ""
        if c in ("'", '"'):
            return self._quoted(c)
        return self._unquoted()

    def _plain_run(self, special):
        """The text up to the next character ``special`` matches, in one step.

        A value may be megabytes long; one character at a time, it took seconds.
        """
        match = special.search(self.text, self.pos)
        end = len(self.text) if match is None else match.start()
        run, self.pos = self.text[self.pos:end], end
        return run

    def _unquoted(self):
        # The first character is taken as it is, even a backslash.
        out = [self.text[self.pos]]
        self.pos += 1
        while self.pos < len(self.text):
            out.append(self._plain_run(_UNQUOTED_SPECIAL))
            if self.pos >= len(self.text):
                break
            c = self.text[self.pos]
            self.pos += 1
            if c == "\\":
                if self.pos >= len(self.text):
                    break
                following = self.text[self.pos]
                self.pos += 1
                if following == "\n":
                    out.append("\n")
                else:
                    out.append(_rest_of_character(following))
            else:  # the newline that ends the value
                break
        return "".join(out)

    def _quoted(self, quote):
        opened_at = self.pos
        self.pos += 1
        out = []
        special = _QUOTED_SPECIAL[quote]
        while self.pos < len(self.text):
            out.append(self._plain_run(special))
            if self.pos >= len(self.text):
                break
            c = self.text[self.pos]
            self.pos += 1
            if c == "\\":
                if self.pos >= len(self.text):
                    raise ConfigError("a backslash ends the file inside a quoted value "
                                      "(certtool cannot load this template)",
                                      self.path, self.line_at(opened_at))
                following = self.text[self.pos]
                self.pos += 1
                if following == "\n":
                    out.append(" ")
                elif following == quote:
                    out.append(quote)
                else:
                    out.append(_rest_of_character(following))
            else:  # the closing quote
                return "".join(out)
        self.warnings.append(f"{self.path}:{self.line_at(opened_at)}: the quote opened "
                             "here is never closed; certtool reads to the end of the file")
        return "".join(out)


def _rest_of_character(character):
    """What is left of ``character`` after certtool drops one byte of it.

    certtool reads bytes: a backslash swallows the byte after it, which for
    a non-ASCII character is only its first UTF-8 byte.  The rest stays in
    the value as undecodable bytes (surrogates), which the reader refuses
    as not UTF-8, rather than writing certtool's invalid string.
    """
    return character.encode("utf-8", "surrogateescape")[1:].decode("utf-8", "surrogateescape")


def scan(text: str, path: str | None = None) -> tuple[list[Option], list[str]]:
    """The options of a template, in file order, and the scanner's warnings."""
    scanner = _Scanner(text, path)
    return scanner.options(), scanner.warnings


class Template:
    """The options of one template, looked up the way certtool looks them up."""

    def __init__(self, options: list[Option], path: str | None, warnings: list[str]):
        self.options = options
        self.path = path
        self.warnings = warnings

    def where(self, option: Option) -> str:
        return f"{self.path}:{option.line}"

    def warn(self, option: Option, text: str) -> None:
        self.warnings.append(f"{self.where(option)}: {text}")

    def fail(self, option: Option, text: str) -> None:
        """Raise the :class:`ConfigError` that names the option's file and line."""
        raise ConfigError(text, self.path, option.line)

    def first(self, name: str) -> Option | None:
        for option in self.options:
            if option.name == name:
                return option
        return None

    def all(self, name: str) -> list[Option]:
        return [option for option in self.options if option.name == name]

    def has(self, name: str) -> bool:
        return self.first(name) is not None


# --- Values, as certtool reads them ---------------------------------------

def numeric_option(template: Template, name: str) -> tuple[int | None, Option | None]:
    """(value, option) of a numeric option as certtool reads it (a leading decimal
    number), or (None, None) without one."""
    option = template.first(name)
    if option is None:
        return None, None
    match = re.match(r"[ \t\n\v\f\r]*([+-]?[0-9]+)", option.value)
    if not match:
        template.fail(option, f"'{name}' needs a number, not '{shorten(option.value)}'")
    if match.end() != len(option.value):
        template.warn(option, f"certtool reads only the number at the start of "
                              f"'{name} = {shorten(option.value)}'")
    value = int(match.group(1))
    if not -2**31 <= value < 2**31:
        template.fail(option, f"'{name}' is out of range: {value}")
    return value, option


def object_identifier(template: Template, option: Option) -> bytes:
    """The option's dotted OID, DER-encoded."""
    text = option.value
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)+", text):
        template.fail(option, f"'{shorten(text)}' is not an object identifier "
                              "(like 1.3.6.1.5.5.7.3.1)")
    try:
        return der.oid(text)
    except ValueError:
        template.fail(option, f"'{shorten(text)}' is not a valid object identifier")


def oid_and_value(template: Template, option: Option) -> tuple[str, str]:
    """``OID value``: split at the first space (a tab only if there is no space).

    certtool splits exactly so: "2.5.4.3\t x" has a space, so its OID is
    "2.5.4.3\t", which GnuTLS does not know.
    """
    text = option.value
    cut = text.find(" ") if " " in text else text.find("\t")
    if cut < 0 or not text[cut + 1:].lstrip(" \t"):
        template.fail(option, f"'{option.name}' needs an OID and a value")
    return text[:cut], text[cut + 1:].lstrip(" \t")


def require_utf8(template: Template, option: Option) -> None:
    """Refuse a value with bytes that are not UTF-8 (the scanner keeps them as surrogates)."""
    try:
        option.value.encode("utf-8")
    except UnicodeEncodeError:
        template.fail(option, f"'{option.name}' is not valid UTF-8")


def ia5_name(template: Template, option: Option, choice: int, empty_ok: bool = False) -> bytes:
    """A DNS name, URI or e-mail address (``choice``): ASCII, as certtool writes it."""
    value = option.value
    if value == "" and not empty_ok:
        template.fail(option, f"'{option.name}' is empty")
    if not value.isascii():
        # GnuTLS converts international names (IDNA, RFC 8398 mailboxes);
        # we do not, so refuse rather than write something different.
        template.fail(option, f"'{option.name}' must be ASCII: '{shorten(value)}'")
    return gn.general_name(choice, value.encode("ascii"))


def ip_name(template: Template, option: Option) -> bytes:
    """An IPv4 or IPv6 address in the text form inet_pton reads."""
    import ipaddress  # only templates with ip_address pay for it

    try:
        if "%" in option.value:  # a scope: Python reads it, inet_pton does not
            raise ValueError(option.value)
        address = ipaddress.ip_address(option.value)
    except ValueError:
        template.fail(option, f"'{shorten(option.value)}' is not an IPv4 or IPv6 address")
    return gn.ip_address(address.packed)
