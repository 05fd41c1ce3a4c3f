"""The errors a run can end with.

Every failure a user can cause is one of these: the command line turns it
into a single line on stderr and exit status 1.  Anything else is a bug.
"""


class MkcertError(Exception):
    """A failure to report in one line, without a traceback."""

    exit_status = 1


class ConfigError(MkcertError):
    """Bad input in a configuration file, located by file and line."""

    def __init__(self, message, path=None, line=None):
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
