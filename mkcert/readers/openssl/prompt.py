"""``prompt = yes``: ask for the distinguished name as ``openssl req`` does.

Without ``prompt = no`` a req config is a questionnaire: in the
distinguished-name section ``countryName = Country Name (2 letter code)``
is the question, ``countryName_default`` the answer an empty line takes,
``countryName_min``/``_max`` bound the answer's length in bytes and
``countryName_value`` answers without asking.  A ``.`` leaves the field out,
as does an empty answer without a default.  Fields OpenSSL does not know are
skipped silently (unlike with ``prompt = no``, where they are errors).

The reader asks through a *prompter*: a callable that shows a prompt and
returns the line typed (with its newline), or None at end of input.  Tests
pass a list of answers; the command line passes :class:`StdioPrompter`.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable

from mkcert.asn1 import oids as objects
from mkcert.readers.openssl.dn_strings import (add_attribute, checked_attribute, field_type,
                                               leading_number)
from mkcert.errors import shorten
from mkcert.readers.openssl.syntax import Config, Entry
from mkcert.request import Attribute

__all__ = ["MAX_ANSWER", "StdioPrompter", "answers_prompter", "subject_from_answers"]

# `req` reads answers with fgets into 1024 bytes, and builds the names of the
# _default/_value/_min/_max keys in 100 bytes.
MAX_ANSWER = 1023
MAX_KEY_NAME = 100

INTRODUCTION = (
    "Please enter the distinguished name (DN) for the certificate.\n"
    "Press Enter to take the default shown in brackets, or enter '.'\n"
    "to leave a field out.\n"
    "-----\n")


class StdioPrompter:
    """Prompts on stderr, reads answers from stdin (terminal or not), like `req`.

    A closed or exhausted stdin is end of input, which fails the run.  When
    stdin is not a terminal, an answer that does not come within
    ``wait_seconds`` also counts as end of input: OpenSSL would wait forever
    on, say, a package manager's pipe, and an install script must not hang.
    """

    def __init__(self, stdin: io.TextIOBase | None = None, stderr: io.TextIOBase | None = None,
                 wait_seconds: float = 30.0):
        self.stdin = stdin if stdin is not None else sys.stdin
        self.stderr = stderr if stderr is not None else sys.stderr
        self.wait_seconds = wait_seconds
        self.introduced = False
        self.pending = b""  # read from a pipe but not yet answered

    def __call__(self, prompt: str) -> str | None:
        if not self.introduced:
            self.introduced = True
            prompt = INTRODUCTION + prompt
        self.stderr.write(prompt)
        self.stderr.flush()
        if self.stdin is None or self.stdin.closed:
            return None
        line = self.read_line()
        if isinstance(line, bytes):
            line = line.decode("utf-8", "surrogateescape")
        return line or None

    def read_line(self) -> bytes | str | None:
        """One line as `req` reads it with fgets: at most MAX_ANSWER bytes.

        An endless input without newlines (``< /dev/zero``) thus gives a
        piece that the answer checks refuse, not a line that never ends.
        """
        descriptor = self._descriptor()
        if descriptor is None or os.isatty(descriptor):
            stream = getattr(self.stdin, "buffer", self.stdin)
            return stream.readline(MAX_ANSWER)
        return self._read_line_waiting(descriptor)

    def _descriptor(self):
        try:
            return self.stdin.fileno()
        except (AttributeError, OSError, ValueError):
            return None

    def _read_line_waiting(self, descriptor):
        """A line from a pipe or file, giving up after ``wait_seconds`` of silence."""
        import select

        while b"\n" not in self.pending and len(self.pending) < MAX_ANSWER:
            ready, _, _ = select.select([descriptor], [], [], self.wait_seconds)
            if not ready:
                return None
            chunk = os.read(descriptor, 4096)
            if not chunk:
                line, self.pending = self.pending, b""
                return line
            self.pending += chunk
        end = self.pending.find(b"\n", 0, MAX_ANSWER)
        cut = MAX_ANSWER if end < 0 else end + 1
        line, self.pending = self.pending[:cut], self.pending[cut:]
        return line


def answers_prompter(answers: list[str]) -> Callable[[str], str | None]:
    """A prompter that replies with ``answers`` in turn (then end of input)."""
    queue = list(answers)
    asked = []

    def prompter(prompt):
        asked.append(prompt)
        return queue.pop(0) if queue else None

    prompter.asked = asked
    return prompter


def subject_from_answers(config: Config, section_name: str | None, entries: list[Entry],
                         mask: int, prompter: Callable[[str], str | None] | None,
                         defined: dict[str, str], settings_section: str
                         ) -> tuple[tuple[Attribute, ...], ...]:
    """The subject RDNs from the admin's answers to the questions of ``entries``.

    ``config`` holds the questions' section ``section_name`` (with its
    ``_default``/``_value``/``_min``/``_max`` keys) and locates the errors;
    ``mask`` is the string_mask the answers are typed under; ``prompter``
    asks (None: there is no one to answer); ``defined`` maps the object
    names the config defined to their OIDs; ``settings_section`` is the
    section (req's) whose distinguished_name and prompt settings an error
    about the questionnaire as a whole names.
    """
    if section_name is None:
        raise config.error("prompt is not 'no', but there is no distinguished-name"
                           " section with questions (set distinguished_name)",
                           settings_section, "distinguished_name")
    fields = _fields_to_ask(entries, defined)
    if not fields:
        # The section is there, so "set distinguished_name" would mislead.
        raise config.error(f"prompt is not 'no', but [ {shorten(section_name)} ], the"
                           " distinguished_name section, has no field OpenSSL knows to"
                           " ask for", settings_section, "distinguished_name")
    if prompter is None:
        raise config.error("this config asks for the distinguished name (prompt is"
                           " not 'no'), but there is no one to answer: set"
                           " 'prompt = no' and give the values", settings_section, "prompt")
    rdns = []
    for entry, oid, joins_previous in fields:
        name = entry[0]
        if len(name) + len("_default") + 1 > MAX_KEY_NAME:
            raise config.error(f"the field name '{shorten(name)}' is too long", entry=entry)
        answer = _ask(config, section_name, entry, prompter)
        if answer is None:
            continue
        add_attribute(rdns, checked_attribute(config, entry, oid, answer, mask), joins_previous)
    return tuple(tuple(rdn) for rdn in rdns)


def _fields_to_ask(entries, defined):
    """(entry, OID, joins the previous RDN) for each field `req` asks about.

    The ``_min``/``_max``/``_default``/``_value`` keys go with a field, and
    `req` skips fields it does not know when prompting.
    """
    fields = []
    for entry in entries:
        if entry[0].endswith(("_min", "_max", "_default", "_value")):
            continue
        type_name, joins_previous = field_type(entry[0])
        oid = defined.get(type_name) or _known_oid(type_name, defined)
        if oid is not None:
            fields.append((entry, oid, joins_previous))
    return fields


def _known_oid(name, defined):
    """OBJ_txt2nid: a name or numeric OID that OpenSSL's object table has.

    ``defined`` holds the objects the config itself created.
    """
    oid = objects.resolve(name)
    if oid is None or (objects.short_name(oid) is None and oid not in defined.values()):
        return None
    return oid


def _number_or_unset(text):
    if text is None:
        return -1
    number = leading_number(text)
    return -1 if number is None else number


def _ask(config, section_name, entry, prompter):
    """One field's answer, None to leave it out; follows `req`'s rules for input."""
    name, question, _ = entry
    default = config.get(section_name, name + "_default") or ""
    preset = config.get(section_name, name + "_value")
    minimum = _number_or_unset(config.get(section_name, name + "_min"))
    maximum = _number_or_unset(config.get(section_name, name + "_max"))
    notice = ""
    while True:
        prompt = f"{notice}{question} [{default}]:"
        if preset is not None:
            line = preset + "\n"
            if len(line) > MAX_ANSWER:
                raise config.error(f"{name}_value is too long", entry=entry)
        else:
            line = prompter(prompt)
            if line is None:
                raise config.error(f"no answer for {name!r}: the input ended (the config"
                                   " asks questions because prompt is not 'no')",
                                   entry=entry)
            line = line[:MAX_ANSWER]
        if "\0" in line:
            # `req` fails too: its answer ends at the NUL, before the newline.
            raise config.error(f"the answer for '{shorten(name)}' contains a NUL byte"
                               " (is standard input binary data, such as /dev/zero?)",
                               entry=entry)
        if not line:
            raise config.error(f"the answer for {name!r} is empty", entry=entry)
        if line[0] == "\n":
            if not default:
                return None
            line = default + "\n"
        elif line == ".\n":
            return None
        if not line.endswith("\n"):
            raise config.error(f"the answer for {name!r} has no end of line"
                               " (or is longer than 1022 characters)", entry=entry)
        answer = line[:-1]
        size = len(answer.encode("utf-8", "surrogateescape"))
        problem = None
        if minimum > 0 and size < minimum:
            problem = f"String too short, must be at least {minimum} bytes long\n"
        elif maximum >= 0 and size > maximum:
            problem = f"String too long, must be at most {maximum} bytes long\n"
        if problem is None:
            return answer
        if preset is not None:
            raise config.error(f"{name}_value: {problem.strip()}", entry=entry)
        notice = problem
