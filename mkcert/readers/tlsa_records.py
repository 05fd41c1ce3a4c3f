"""DANE TLSA records in zone-file form (RFC 6698, 2.2; RFC 1035, 5.1) -> :class:`TlsaRecord`.

``--check --tlsa-records FILE`` compares what a zone publishes with the
keys on disk.  FILE may be the admin's whole zone file, a few lines pasted
from ``dig``, or what ``--tlsa`` printed, so the reader takes the zone-file
syntax as a name server does: an owner name at the start of a line (a line
that starts with a blank keeps the previous owner), an optional TTL and
class in either order, the type, then the data, which parentheses may
spread over several lines; ``;`` starts a comment outside a quoted string.
Records of other types are skipped, so a whole zone reads as well as one
line.  ``$ORIGIN`` makes relative owner names absolute; ``$TTL`` and
``$GENERATE`` change nothing here; ``$INCLUDE`` is refused, since it is
not followed and a record in the other file would silently go unseen.

A TLSA record that is not well formed is an error naming FILE:line: a
record the admin meant to publish and got wrong is what DANE breaks on.
The text is read through the bounded reader and scanned line by line with
regular expressions that cannot backtrack, so a hostile file costs time in
proportion to its size.
"""

from __future__ import annotations

import re

from mkcert.errors import ConfigError, MkcertError, describe
from mkcert.record import REQUIRED, Record
from mkcert.system.files import FileTooLarge, read_regular_file

__all__ = ["MAX_RECORDS_BYTES", "TlsaRecord", "parse_records", "read_records", "owner_matches"]

# Far more than the zone of any mail domain; a bigger file is a mistake.
MAX_RECORDS_BYTES = 8 << 20
# The hash lengths of the matching types RFC 6698 defines (0: the data itself).
DIGEST_LENGTHS = {1: 32, 2: 64}
_CLASSES = frozenset({"IN", "CH", "CS", "HS", "NONE", "ANY"})
# One token: a quoted string (its end optional: the rest of the line), a
# parenthesis, a comment (to the end of the line) or a run of other characters.
_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"?|[()]|;.*|[^\s"();]+', re.DOTALL)
_TTL = re.compile(r"^(?:\d+|(?:\d+[smhdwSMHDW])+)$")
_GENERIC_CLASS = re.compile(r"^CLASS\d+$", re.IGNORECASE)
_BYTE = re.compile(r"^\d{1,3}$")
_HEX = re.compile(r"^[0-9A-Fa-f]*$")


class TlsaRecord(Record):
    """One TLSA record: where it was written, its owner name and its four fields.

    ``owner`` as written (``@`` and relative names made absolute with the
    ``$ORIGIN`` in force, when there is one); ``data``: the certificate
    association data as bytes; ``line``: the line where the record starts.
    """

    FIELDS = (("owner", REQUIRED), ("usage", REQUIRED), ("selector", REQUIRED),
              ("matching", REQUIRED), ("data", REQUIRED), ("source", REQUIRED),
              ("line", REQUIRED))
    __slots__ = tuple(name for name, _ in FIELDS)

    def fields_text(self) -> str:
        """``3 1 1 ab12...``: the record's data as a zone file writes it."""
        return f"{self.usage} {self.selector} {self.matching} {self.data.hex()}"

    def where(self) -> str:
        return f"{self.source}:{self.line}"


def read_records(path: str) -> list[TlsaRecord]:
    """The TLSA records of the zone-file text at ``path`` (MkcertError if unreadable)."""
    try:
        data = read_regular_file(path, MAX_RECORDS_BYTES)
    except FileTooLarge:
        raise MkcertError(f"cannot read TLSA records {path}: larger than "
                          f"{MAX_RECORDS_BYTES >> 20} MiB") from None
    except OSError as exc:
        raise MkcertError(f"cannot read TLSA records {path}: {describe(exc)}") from None
    return parse_records(data, path)


def parse_records(data: bytes | str, source: str) -> list[TlsaRecord]:
    """The TLSA records of zone-file text; ConfigError (``source:line: ...``) for a bad one."""
    if isinstance(data, bytes):
        if b"\0" in data:
            line = data.count(b"\n", 0, data.index(b"\0")) + 1
            raise ConfigError("binary data (a NUL byte) where zone-file text was expected",
                              source, line)
        # Latin-1 maps every byte to a character: a TXT record's UTF-8 or
        # stray bytes elsewhere never stop the reading; TLSA fields are ASCII.
        data = data.decode("latin-1")
    reader = _Reader(source)
    for number, line in enumerate(data.split("\n"), 1):
        reader.feed(line.removesuffix("\r"), number)
    reader.finish()
    return reader.records


class _Reader:
    """Zone-file entries, one logical line at a time (parentheses join physical lines)."""

    def __init__(self, source):
        self.source = source
        self.records = []
        self.origin = None
        self.owner = None
        self.tokens = []
        self.start = 0  # the line the entry in progress started on
        self.inherits_owner = False
        self.open_parenthesis = None  # the line of an unclosed "(", if any

    def feed(self, line, number):
        if self.open_parenthesis is None:
            self.tokens, self.start = [], number
            self.inherits_owner = line[:1] in (" ", "\t")
        for token in _TOKEN.findall(line):
            if token[0] == ";":
                break
            if token == "(":
                if self.open_parenthesis is not None:
                    raise self._error("a parenthesis inside parentheses", number)
                self.open_parenthesis = number
            elif token == ")":
                if self.open_parenthesis is None:
                    raise self._error("a closing parenthesis without an opening one", number)
                self.open_parenthesis = None
            else:
                self.tokens.append(token)
        if self.open_parenthesis is None and self.tokens:
            self._entry(self.tokens, self.start)

    def finish(self):
        if self.open_parenthesis is not None:
            raise self._error("this parenthesis is never closed", self.open_parenthesis)

    def _error(self, message, line):
        return ConfigError(message, self.source, line)

    def _entry(self, tokens, line):
        if tokens[0].startswith("$") and not self.inherits_owner:
            self._directive(tokens, line)
            return
        if not self.inherits_owner:
            self.owner, tokens = self._absolute(tokens[0]), tokens[1:]
        kind, rdata = _type_and_data(tokens)
        if kind is None or self.owner is None:
            return  # not a record of a type we know to skip or read: nothing for TLSA
        if kind in ("TLSA", "TYPE52"):
            self.records.append(self._tlsa(rdata, line))

    def _directive(self, tokens, line):
        name = tokens[0].upper()
        if name == "$ORIGIN":
            if len(tokens) < 2 or not tokens[1].endswith("."):
                raise self._error("$ORIGIN needs an absolute name (ending in a dot)", line)
            self.origin = tokens[1]
        elif name == "$INCLUDE":
            raise self._error("$INCLUDE is not followed; give the file that holds the "
                              "TLSA records itself", line)

    def _absolute(self, name):
        """An owner name, made absolute where the ``$ORIGIN`` in force allows."""
        if name == "@":
            return self.origin
        if name.endswith(".") or self.origin is None:
            return name
        return f"{name}.{self.origin}"

    def _tlsa(self, rdata, line):
        if rdata[:1] == ["\\#"]:
            rdata = _from_generic(rdata, self._error, line)
        if len(rdata) < 4:
            raise self._error("a TLSA record needs usage, selector, matching type and data "
                              f"(found {len(rdata)} fields)", line)
        names = ("usage", "selector", "matching type")
        numbers = [_byte(text, name, self._error, line) for text, name in zip(rdata, names)]
        data = "".join(rdata[3:])
        if not _HEX.match(data) or len(data) % 2:
            raise self._error(f"TLSA data {data!r} is not hexadecimal bytes", line)
        association = bytes.fromhex(data)
        wanted = DIGEST_LENGTHS.get(numbers[2])
        if wanted is not None and len(association) != wanted:
            raise self._error(f"TLSA matching type {numbers[2]} holds {wanted} bytes, "
                              f"this record {len(association)}", line)
        if not association:
            raise self._error("TLSA record without data", line)
        return TlsaRecord(self.owner, *numbers, association, self.source, line)


def _type_and_data(tokens):
    """(TYPE in capitals, data tokens) after the optional TTL and class; (None, []) if none."""
    for position, token in enumerate(tokens[:3]):
        if _TTL.match(token) or token.upper() in _CLASSES or _GENERIC_CLASS.match(token):
            continue
        return token.upper(), tokens[position + 1:]
    return None, []


def _byte(text, name, error, line):
    if not _BYTE.match(text) or int(text) > 255:
        raise error(f"TLSA {name} {text!r} is not a number from 0 to 255", line)
    return int(text)


def _from_generic(rdata, error, line):
    """RFC 3597's ``\\# LENGTH HEX`` as the four fields of a TLSA record."""
    if len(rdata) < 2 or not rdata[1].isdigit():
        raise error("generic record data needs \\# LENGTH HEX", line)
    data = "".join(rdata[2:])
    if not _HEX.match(data) or len(data) % 2 or len(data) // 2 != int(rdata[1]):
        raise error(f"generic record data is not {rdata[1]} hexadecimal bytes", line)
    octets = bytes.fromhex(data)
    if len(octets) < 4:
        raise error("generic TLSA data shorter than its three fields and data", line)
    return [str(octets[0]), str(octets[1]), str(octets[2]), octets[3:].hex()]


def owner_matches(owner: str | None, name: str) -> bool:
    """Is the record's owner the absolute ``name`` (``_25._tcp.mx.example.org.``)?

    Case does not matter in DNS names.  A relative owner read without any
    ``$ORIGIN`` (a zone file's origin usually comes from the name server's
    configuration) matches the names it is the start of: ``_25._tcp.mx``
    in the zone of example.org is ``_25._tcp.mx.example.org.``.
    """
    if owner is None:
        return False
    owner, name = owner.lower(), name.lower()
    if owner.endswith("."):
        return owner == name
    return name.startswith(owner + ".")
