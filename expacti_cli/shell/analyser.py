"""`analyse(line, spec)`: every simple command `bash -c LINE` would run, with concerns.

Plain lines take the tree-sitter-free path (plain.py); any other line is parsed and walked
(walk.py). `analyse` never raises for bad input: budget overruns, recursion and unexpected
exceptions come back as line-level concerns (`too-complex`, `internal-error`), so the caller
fails closed.
"""

from __future__ import annotations

import os

from .model import Analysis, Concern, TooComplex, reason

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:
        return None


def analyse(
    line: str, spec: dict[str, Any], *, fast: bool = True, cwd: str | None = None
) -> Analysis:
    """The analysis of `line` as run from `cwd` (default: this process's working directory).
    `fast=False` (tests only) analyses plain lines with tree-sitter too."""
    start = cwd if cwd is not None else _cwd()
    if fast:
        from .plain import analyse_plain

        plain = analyse_plain(line, spec, start)
        if plain is not None:
            return plain
    analysis = Analysis()
    try:
        _analyse_full(line, spec, start, analysis)
    except TooComplex as e:
        analysis.concerns.append(Concern.of("too-complex", reason("too-complex", why=str(e))))
    except RecursionError:
        analysis.concerns.append(Concern.of("too-complex", reason("too-complex", why="recursion")))
    except Exception as e:
        analysis.concerns.append(
            Concern("internal-error", f"shell analysis failed: {type(e).__name__}: {e}", False)
        )
    return analysis


def _analyse_full(line: str, spec: dict[str, Any], cwd: str | None, analysis: Analysis) -> None:
    from . import walk
    from .frame import Frame, Source
    from .session import Session
    from .state import State

    s = Session(spec, analysis)
    if "\0" in line:
        s.concern("nul-byte", "the line contains a NUL byte")
        line = line.replace("\0", " ")
    if len(line) > s.budget.max_bytes:
        raise TooComplex(f"line longer than {s.budget.max_bytes} bytes")
    top = Frame(Source(b"", 0), [], None, State(cwd))
    walk.line(s, line, top, 0)
