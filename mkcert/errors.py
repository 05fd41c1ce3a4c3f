"""The errors a run can end with.

Every failure a user can cause is one of these: the command line turns it
into a single line on stderr and exit status 1.  Anything else is a bug.
"""


# How much of the input a message quotes: a line of a config may be a
# megabyte long, and a message is one line on a terminal.
QUOTE_LIMIT = 80
# The whole message, quotes and all; the middle goes if it is longer.
MESSAGE_LIMIT = 400


def shorten(text: object, limit: int = QUOTE_LIMIT) -> str:
    """Input as a message may quote it: on one line, cut to ``limit`` characters.

    Controls (a newline from an escape, a NUL) and undecodable bytes
    (surrogates) are escaped as Python writes them; a longer text keeps
    its start and ends in "...".
    """
    text = str(text)  # a message must never fail for want of a value
    cut = text if len(text) <= limit else text[:limit] + "..."
    if cut.isprintable():
        return cut
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)


def describe(exc: OSError) -> str:
    """The human part of an OSError: 'Permission denied', not '[Errno 13] ...'."""
    return exc.strerror or str(exc)


def _one_line(message: str) -> str:
    """The last guard of a message: one line, start and end kept, the middle cut."""
    if len(message) > MESSAGE_LIMIT:
        head = MESSAGE_LIMIT * 2 // 3
        message = message[:head] + " ... " + message[head - MESSAGE_LIMIT:]
    return shorten(message, len(message))


class MkcertError(Exception):
    """A failure to report in one line, without a traceback."""

    exit_status = 1

    def __init__(self, *args):
        # A message quotes what it was given (a path from the command line
        # may hold any character, U+0085 NEL included): it stays one line.
        if args and isinstance(args[0], str):
            args = (shorten(args[0], len(args[0])),) + args[1:]
        super().__init__(*args)


class ConfigError(MkcertError):
    """Bad input in a configuration file, located by file and line."""

    def __init__(self, message, path=None, line=None):
        message = _one_line(message)
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line

    def __str__(self):
        where = ""
        if self.path is not None:
            where = str(self.path) + (f":{self.line}" if self.line else "") + ": "
        return where + self.message


class AlreadyExists(MkcertError):
    """The output file is there already; upstream prints this on stdout."""

    def __init__(self, path):
        super().__init__(f"{path} already exists.")
        self.path = path


class Interrupted(MkcertError):
    """A signal (SIGINT, SIGTERM, SIGHUP) asked the run to stop."""

    def __init__(self, signum):
        import signal

        super().__init__(f"interrupted by {signal.Signals(signum).name}")
        self.signum = signum
