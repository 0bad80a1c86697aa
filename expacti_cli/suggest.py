"""The one place that turns a concrete command into a whitelist pattern.

Used by "approve and remember" at the prompt and by `guard audit suggest`, so both propose the
same rule for the same command. The pattern keeps the program and, for programs with
subcommands, the subcommand, and lets everything after it vary: `git log -n 5` -> `git log **`.
A human edits the proposal before it is written (prompt) or confirms it (suggest --apply).
"""

from __future__ import annotations

import os
import shlex

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

_GLOB_CHARS = "*?["


def _spec(program: str, programs: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not programs:
        return None
    spec = programs.get(program)
    if spec is not None:
        return dict(spec)
    for other in programs.values():  # raw (uncompiled) specs list their other names
        if isinstance(other, dict) and program in other.get("names", ()):
            return dict(other)
    return None


def _is_subcommand(word: str) -> bool:
    """A word that reads like a subcommand (`log`, `get`, `compose`), not a path or a value."""
    return (
        0 < len(word) <= 40
        and word[0].isascii()
        and word[0].isalpha()
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in word)
    )


def _skip_globals(args: list[str], spec: dict[str, Any]) -> list[str]:
    """Drop the options written before the subcommand (`-C DIR`, `--namespace=ns`, `-q`)."""
    takes_value = set(spec.get("global_options", ()))
    flags = set(spec.get("global_flags", ()))
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--" or not arg.startswith("-") or arg == "-":
            break
        name = arg.split("=", 1)[0]
        if arg in takes_value:
            i += 2
        elif name in takes_value or name in flags:
            i += 1  # --opt=value, or a flag
        elif not arg.startswith("--") and any(
            arg.startswith(opt) and len(opt) == 2 for opt in takes_value
        ):
            i += 1  # -Cvalue
        else:
            break  # an option guard knows nothing about: stop, generalise from here
    return args[i:]


def quote_token(token: str) -> str:
    """One literal token as a pattern word: glob characters escaped, then shell-quoted."""
    if any(c in token for c in _GLOB_CHARS):
        token = "".join(f"[{c}]" if c in _GLOB_CHARS else c for c in token)
    return shlex.quote(token)


def generalise(argv: list[str], programs: Mapping[str, Any] | None = None) -> str:
    """A whitelist pattern covering `argv` and its siblings.

    `["git", "log", "-n", "5"]` -> `git log **`; `["ls", "-la"]` -> `ls **`;
    `["kubectl", "-n", "prod", "get", "pods"]` -> `kubectl get **` when `programs` (the
    policy's `[programs.NAME]` specs) says `-n` is a global option taking a value.
    The program is its base name (`/usr/bin/git` -> `git`), as patterns match it.
    """
    if not argv:
        raise ValueError("cannot generalise an empty command")
    program = os.path.basename(argv[0].rstrip("/")) or argv[0]
    words = [quote_token(program)]
    args = list(argv[1:])
    spec = _spec(program, programs)
    if spec is not None and (spec.get("global_options") or spec.get("global_flags")):
        args = _skip_globals(args, spec)
    if args and _is_subcommand(args[0]):
        words.append(quote_token(args[0]))
    words.append("**")
    return " ".join(words)
