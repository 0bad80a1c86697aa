r"""Plain lines, analysed without tree-sitter (loading it costs ~10 ms of a ~45 ms `guard -c`).
A plain line is words of `_PLAIN` characters separated by spaces and joined by `&&`, `||`,
`;` and `|` (with or without spaces: bash splits words at these). In it nothing expands (no
quote, `\`, `$`, backtick, glob, brace, `~`, `#`, redirection, group or newline), so each
word is its own text, and the only structure is simple commands in source order, each
reading the pipe when it follows `|`. The full path takes any other line, and one where a
reserved word or tree-sitter keyword appears, a command is empty, a command name has other
characters than `_PLAIN_NAME` or starts with `-`, or tree-sitter would group the operators
differently. tests/test_shell_fastpath.py checks that both paths give the same analysis.
"""

from __future__ import annotations

from .frame import Frame, Source
from .lexer import Word
from .model import Analysis
from .state import State
from .syntax import RESERVED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .session import Session

_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=,@%+-")
# Command names: tree-sitter misreads some with `@`, `%` or `+:` (`a@`, `x+:y`); `=` would
# make an assignment.
_PLAIN_NAME = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+-")
_PLAIN_OPS = frozenset(("&&", "||", ";", "|"))
# tests/test_shell_fastpath.py checks every sequence of up to 9 operators against tree-sitter.
PLAIN_MAX_OPS = 9
# Never in a plain line: `==` is a test operator to tree-sitter, the rest are keywords.
_PLAIN_STOP = RESERVED | {
    "==",
    "time",
    "coproc",
    "export",
    "declare",
    "typeset",
    "local",
    "readonly",
    "unset",
    "unsetenv",
}


def commands_of(line: str) -> list[tuple[list[tuple[int, int]], bool]] | None:
    """The commands of a plain line: (word spans, reads a pipe) each; None if not plain."""
    commands: list[tuple[list[tuple[int, int]], bool]] = []
    words: list[tuple[int, int]] = []
    piped = False
    # Per `;`-separated statement: tree-sitter groups `a | b | c && d` as `a | (b | c && d)`,
    # so a pipeline of three or more commands next to `&&` or `||` takes the full path.
    and_or = long_pipe = False
    pipes = 0
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == " ":
            i += 1
            continue
        j = i + 1
        if c in _PLAIN:
            while j < n and line[j] in _PLAIN:
                j += 1
            words.append((i, j))
        elif c in ";&|":
            while j < n and line[j] in ";&|":
                j += 1
            op = line[i:j]
            if op not in _PLAIN_OPS or not words or len(commands) >= PLAIN_MAX_OPS:
                return None
            commands.append((words, piped))
            words, piped = [], op == "|"
            pipes = pipes + 1 if piped else 0
            long_pipe = long_pipe or pipes >= 2
            and_or = and_or or op in ("&&", "||")
            if and_or and long_pipe:
                return None
            if op == ";":
                and_or = long_pipe = False
        else:
            return None
        i = j
    if not words:
        return None
    commands.append((words, piped))
    for spans, _ in commands:
        head = line[spans[0][0] : spans[0][1]]
        if head[0] == "-" or not _PLAIN_NAME.issuperset(head):
            return None
        if any(line[a:b] in _PLAIN_STOP for a, b in spans):
            return None
    return commands


def analyse_plain(line: str, spec: dict[str, Any], cwd: str | None) -> Analysis | None:
    """The analysis of a plain line, or None when the full path must make it (also on any
    error: the full path decides, and fails closed)."""
    from .session import Session

    found = commands_of(line)
    if found is None:
        return None
    analysis = Analysis()
    try:
        s = Session(spec, analysis, plain=True)
        # Leave every budget to the full path unless it surely holds there: tree-sitter nests
        # `a && b && c` one level per operator and makes a few nodes per word or operator.
        budget = s.budget
        if (
            len(line) > budget.max_bytes
            or len(found) + 8 > budget.max_nesting
            or 32 * (len(line) + 1) > budget.max_nodes
        ):
            return None
        budget.add_bytes(len(line))
        _run_all(s, line, found, State(cwd))
    except Exception:  # Fallback (a nested shell string), or anything else
        return None
    return analysis


def _run_all(
    s: Session, line: str, found: list[tuple[list[tuple[int, int]], bool]], state: State
) -> None:
    """Each command in order, with the line state as the full path keeps it (walk.and_or):
    a pipeline element changes only its own copy; a pipeline after `&&`/`||` may not run, so
    it runs on a branch (continued by `&&`) whose changes are merged as unknown."""
    from . import commands

    source = Source(line.encode("ascii"), 0)
    ops = [""] + [
        line[found[k][0][-1][1] : found[k + 1][0][0][0]].strip() for k in range(len(found) - 1)
    ]
    maybe: State | None = None  # the state of a pipeline that may not run
    for k, (spans, piped) in enumerate(found):
        if ops[k] != "|":  # a new pipeline
            if maybe is not None and ops[k] != "&&":
                state.merge(maybe)
                maybe = None
            if ops[k] in ("&&", "||") and maybe is None:
                maybe = state.copy()
        base = maybe if maybe is not None else state
        in_pipe = ops[k] == "|" or (k + 1 < len(found) and ops[k + 1] == "|")
        fr = Frame(source, [], "pipe" if piped else None, base.copy() if in_pipe else base)
        words = [Word(line[a:b], True, a, b) for a, b in spans]
        text = line[spans[0][0] : spans[-1][1]]
        commands.run(s, words, fr, assignments=[], env=[], concerns=[], text=text, top=True)
    if maybe is not None:
        state.merge(maybe)
