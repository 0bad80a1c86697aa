"""Finding the real program and replacing guard with it.

In shim mode guard runs under a program's name (`rm`, `git`) from a shim directory placed first
on PATH, and must find the real program further down PATH without ever finding itself again:
a loop would re-run guard forever. A candidate is passed over (`which(skip_shims=True)`) when

- its directory holds the shim marker `.guard-shims` (seen through a symlinked directory too,
  so the same shim directory twice on PATH or under another name is skipped every time),
- it resolves (symlinks followed) to a file inside a shim directory (a stray `git` link
  pointing at another shim directory's `git`),
- it resolves to one of guard's own executables (the running launcher, `GUARD_EXECUTABLE`), or
- it is a guard launcher by content (any installation's `bin/guard`, `expacti_cli/__main__.py`,
  or a script shim): two guard installations shimming each other cannot ping-pong either.
"""

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .errors import GuardError

SHIM_MARKER = ".guard-shims"
# Every guard launcher (bin/guard, __main__.py, script shims) imports this module by name.
LAUNCHER_SIGNATURE = b"expacti_cli.entry"
_SNIFF_BYTES = 4096


def guard_executables() -> frozenset[tuple[int, int]]:
    """guard's own executables, as (device, inode): a PATH candidate that is one is a shim.

    Compared by identity, not by path: one `stat` each instead of resolving every link on the
    way, and a hard link to the launcher is recognised as well as a symbolic one."""
    own = []
    if sys.argv and sys.argv[0] and sys.argv[0] != "-c":
        # Under a shim, argv[0] is the shim's path; it resolves to the launcher.
        own.append(sys.argv[0])
    env = os.environ.get("GUARD_EXECUTABLE")
    if env:
        own.append(env)
    own.append(os.path.join(os.path.dirname(__file__), "__main__.py"))
    ids = set()
    for path in own:
        try:
            st = os.stat(path)
        except OSError:
            continue
        ids.add((st.st_dev, st.st_ino))
    return frozenset(ids)


def is_shim_dir(directory: str) -> bool:
    """A directory guard filled with shims carries a marker file (visible through symlinks)."""
    return os.path.lexists(os.path.join(directory, SHIM_MARKER))


def is_guard_launcher(path: str) -> bool:
    """Whether the file at `path` is a guard launcher (a small script importing guard's entry).

    Only the first few KiB are read: a launcher names the entry module near its top, and a
    large binary that happens to contain the bytes further in is not a launcher.
    """
    try:  # O_NONBLOCK: a FIFO in the program's place is no launcher, and must not block
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        head = os.read(fd, _SNIFF_BYTES)
    except OSError:
        return False
    finally:
        os.close(fd)
    is_script = head.startswith(b"#!") or path.endswith(".py")
    return is_script and LAUNCHER_SIGNATURE in head


def is_shim(candidate: str, own: frozenset[tuple[int, int]] | None = None) -> bool:
    """Whether running `candidate` would run guard again (see the module docstring)."""
    if is_shim_dir(os.path.dirname(candidate) or "."):
        return True
    try:
        st = os.stat(candidate)
    except OSError:
        return False  # nothing there to run
    if (st.st_dev, st.st_ino) in (guard_executables() if own is None else own):
        return True
    real = os.path.realpath(candidate)
    if is_shim_dir(os.path.dirname(real)):
        return True
    return is_guard_launcher(real)


def _error(executable: bool, message: str) -> "GuardError":
    """ProgramNotExecutable or ProgramNotFound. `errors` is imported here, when one is
    raised: client mode finds and runs its program without it (~0.1 ms)."""
    from .errors import ProgramNotExecutable, ProgramNotFound

    return (ProgramNotExecutable if executable else ProgramNotFound)(message)


def which(program: str, *, skip_shims: bool = False) -> str:
    """The executable `program` resolves to, as execvp would find it. Raises ProgramNotFound.

    With `skip_shims`, candidates that would run guard again (see `is_shim`) are passed over:
    a shim never finds itself or another shim, whatever the PATH (no loops).
    """
    if "/" in program:
        if not os.path.exists(program):
            raise _error(False, f"guard: {program}: no such file")
        if not os.access(program, os.X_OK) or os.path.isdir(program):
            raise _error(True, f"guard: {program}: not executable")
        if skip_shims and is_shim(program):
            raise _error(
                False,
                f"guard: {program}: is guard itself or one of its shims, not a program to run",
            )
        return program
    own = guard_executables() if skip_shims else frozenset()
    skipped = 0
    for entry in os.environ.get("PATH", os.defpath).split(os.pathsep):
        candidate = os.path.join(entry or ".", program)
        if not os.path.isfile(candidate) or not os.access(candidate, os.X_OK):
            continue
        if skip_shims and is_shim(candidate, own):
            skipped += 1
            continue
        return candidate
    if skipped:
        raise _error(
            False,
            f"guard: {program}: command not found on PATH (only guard's own shims are "
            "named so; the real program is not installed or not on PATH after the shims)",
        )
    raise _error(False, f"guard: {program}: command not found on PATH")


def exec_program(path: str, argv: list[str]) -> None:
    """Replace this process with the program: signals, stdio and exit status are its own."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(path, argv)
    except OSError as exc:
        raise _error(True, f"guard: {argv[0]}: cannot execute: {exc.strerror}") from exc
