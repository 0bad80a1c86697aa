"""Finding the real program and replacing guard with it."""

from __future__ import annotations

import os
import sys

from .errors import ProgramNotExecutable, ProgramNotFound


def guard_executables() -> list[str]:
    """Files that are guard itself: a PATH entry holding one of these is a shim directory."""
    own = [os.path.realpath(sys.argv[0])] if sys.argv and sys.argv[0] else []
    env = os.environ.get("GUARD_EXECUTABLE")
    if env:
        own.append(os.path.realpath(env))
    return own


SHIM_MARKER = ".guard-shims"


def is_shim_dir(directory: str) -> bool:
    """A directory guard filled with shims carries a marker file."""
    return os.path.exists(os.path.join(directory, SHIM_MARKER))


def which(program: str, *, skip_shims: bool = False) -> str:
    """The executable `program` resolves to, as execvp would find it. Raises ProgramNotFound.

    With `skip_shims`, PATH directories that hold guard's shims, and files that are guard
    itself, are passed over: a shim never finds itself (no loops).
    """
    if "/" in program:
        if not os.path.exists(program):
            raise ProgramNotFound(f"guard: {program}: no such file")
        if not os.access(program, os.X_OK) or os.path.isdir(program):
            raise ProgramNotExecutable(f"guard: {program}: not executable")
        return program
    own = guard_executables() if skip_shims else []
    for directory in os.environ.get("PATH", os.defpath).split(os.pathsep):
        directory = directory or "."
        candidate = os.path.join(directory, program)
        if not os.path.isfile(candidate) or not os.access(candidate, os.X_OK):
            continue
        if skip_shims:
            if is_shim_dir(directory):
                continue
            real = os.path.realpath(candidate)
            if any(real == o for o in own):
                continue
        return candidate
    raise ProgramNotFound(f"guard: {program}: command not found on PATH")


def exec_program(path: str, argv: list[str]) -> None:
    """Replace this process with the program: signals, stdio and exit status are its own."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(path, argv)
    except OSError as exc:
        raise ProgramNotExecutable(f"guard: {argv[0]}: cannot execute: {exc.strerror}") from exc
