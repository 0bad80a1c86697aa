"""The one error family of guard and the exit statuses it maps to.

Exit codes are plain ints on a class rather than an IntEnum: `enum` costs ~7 ms to import,
a third of the time budget of an allowed command (DESIGN.md, Speed).
"""


class ExitCode:
    OK = 0
    USAGE = 64  # EX_USAGE: bad command line
    DATAERR = 65  # EX_DATAERR: bad input data (unreadable or broken audit log)
    NOINPUT = 66  # EX_NOINPUT: a keyed audit log and no key to verify it with
    SOFTWARE = 70  # EX_SOFTWARE: internal error (the command did not run)
    CANTCREAT = 73  # EX_CANTCREAT: cannot write state (audit log, policy)
    IOERR = 74  # EX_IOERR: torn audit lines (interrupted writes; guard audit repair)
    NOPERM = 77  # EX_NOPERM: denied
    CONFIG = 78  # EX_CONFIG: invalid policy or configuration
    NOT_EXECUTABLE = 126
    NOT_FOUND = 127  # program not found on PATH


class GuardError(Exception):
    """An error with a message meant for the user; `exit_code` says how guard exits."""

    exit_code = ExitCode.SOFTWARE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(GuardError):
    exit_code = ExitCode.USAGE


class PolicyError(GuardError):
    """An invalid policy: the message names the file, line or rule id, and the problem."""

    exit_code = ExitCode.CONFIG


class AuditError(GuardError):
    """The audit log cannot be written (the command must not run) or read."""

    exit_code = ExitCode.CANTCREAT


class AuditDataError(GuardError):
    """The audit log is unreadable or broken (verify found a break)."""

    exit_code = ExitCode.DATAERR


class ProgramNotFound(GuardError):
    exit_code = ExitCode.NOT_FOUND


class ProgramNotExecutable(GuardError):
    exit_code = ExitCode.NOT_EXECUTABLE


class Denied(GuardError):
    """Raised only at the CLI boundary to turn a denial into exit 77."""

    exit_code = ExitCode.NOPERM
