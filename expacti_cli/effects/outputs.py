"""Local data a command writes to its standard output, for the next command of its pipeline.

A command that reads files records them (`tar c .` reads `.`), and a pipe carries what it read
to an upload (`tar c . | curl -T - URL` sends the workspace). Some subcommands print the data
they hold without naming a file: `git archive HEAD` writes the repository's files to stdout,
`git bundle create - --all` its history, `git format-patch --stdout` its commits. The grammar
says so with the subcommand keys `outputs` (what stdout carries) and `outputs_with` (options,
or the operand `-`, without which it writes elsewhere).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .roles import Command as _Command


def stdout(c: _Command) -> None:
    """Record the data a subcommand's `outputs` says it prints as read by this command."""
    inv = c.inv
    spec = inv.spec if inv is not None and inv.spec else (c.view or {})
    what = spec.get("outputs")
    if inv is None or not what:
        return
    needs = spec.get("outputs_with") or ()
    if needs and not (inv.has(*needs) or ("-" in needs and any(v == "-" for v, _ in inv.operands))):
        return
    c.reads.append(("data", what))


def in_place(inv: Any, names: list[str] | tuple[str, ...]) -> bool:
    """Is the call an in-place edit (grammar `in_place`)? An entry is an option (`sed -i`) or
    OPTION=VALUE, an option with that value (`gawk -i inplace`, the inplace extension: the
    files it reads are rewritten with what the program prints)."""
    return any(o in names or f"{o}={v}" in names for o, v, _ in inv.options)
