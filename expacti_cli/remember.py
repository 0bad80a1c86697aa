""" "Approve and remember": choosing the rule with the reviewer, then writing it.

Shared by the terminal prompt and the reviewer console. For each part under review the
reviewer sees the suggested pattern (`suggest.generalise`, the narrowest that generalises),
may type another, and sees which of this agent's past commands (from the audit log) the pattern
would also allow and which it would not. A typed pattern is refused when `suggest.
pattern_problem` says so (it must match the command; no shell, wrapper, interpreter running
anything, or wildcard over protected effects); one broader than the suggestion needs an explicit
`yes` (Enter never accepts it). The rule is scoped to the asking agent unless the reviewer
types `all`, may expire, and records who remembered it, when, and the command that taught it.
"""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .policy import Policy

PREVIEW_BYTES = 4 << 20  # how much of the audit log's end the preview reads
PREVIEW_ROWS = 5


class Choice:
    """The rule the reviewer chose."""

    __slots__ = ("agents", "argvs", "expires", "patterns")

    def __init__(
        self,
        patterns: list[str],
        argvs: list[list[str]],
        agents: list[str] | None,
        expires: str | None,
    ) -> None:
        self.patterns = patterns
        self.argvs = argvs
        self.agents = agents
        self.expires = expires


def escape_glob(text: str) -> str:
    """A literal name as a glob that matches only itself (agent scopes are globs)."""
    return "".join(f"[{c}]" if c in "*?[" else c for c in text)


def choose(
    console: Any,
    read_line: Callable[[], str],
    policy: Policy,
    agent: str,
    suggestions: list[tuple[list[str], str]],
    audit_path: str | None,
) -> Choice | None:
    """Ask for each part's pattern, then the scope and expiry. None: the reviewer gave up."""
    history = _history(audit_path, agent)
    patterns = []
    for argv, suggestion in suggestions:
        pattern = _pattern(console, read_line, policy, argv, suggestion, history)
        if pattern is None:
            return None
        patterns.append(pattern)
    agents, expires = _scope(console, read_line, agent)
    return Choice(patterns, [argv for argv, _ in suggestions], agents, expires)


def _pattern(
    console: Any,
    read_line: Callable[[], str],
    policy: Policy,
    argv: list[str],
    suggestion: str,
    history: list[list[str]],
) -> str | None:
    from rich.text import Text

    from .prompt import visible
    from .suggest import broader_than, pattern_problem

    while True:
        console.print(
            Text.assemble(
                "pattern to whitelist ",
                (visible(suggestion), "bold"),
                " (Enter keeps it, type another, or - to cancel): ",
            ),
            end="",
        )
        typed = read_line().strip()
        if typed == "-":
            return None
        pattern = typed or suggestion
        problem = pattern_problem(policy, pattern, argv, suggestion)
        if problem:
            console.print(Text(f"refused: {visible(pattern)}: {problem}", "red"))
            continue
        _preview(console, policy, pattern, argv, history)
        if typed and broader_than(policy, pattern, suggestion):
            console.print(
                Text.assemble(
                    (visible(pattern), "bold"),
                    " is broader than the suggestion; type yes to save it (Enter: no): ",
                ),
                end="",
            )
            if read_line().strip().lower() not in ("y", "yes"):
                continue
        return pattern


def _scope(console: Any, read_line: Callable[[], str], agent: str) -> tuple[list[str] | None, str]:
    """(agents, expires) from one line: Enter keeps this agent only and no expiry."""
    from rich.text import Text

    from .errors import PolicyError
    from .policy import parse_duration
    from .prompt import visible

    while True:
        console.print(
            Text.assemble(
                "for agent ",
                (visible(agent), "bold"),
                " only, never expiring: Enter; or type `all` (every agent) "
                "and/or a lifetime (8h, 7d): ",
            ),
            end="",
        )
        words = read_line().lower().split()
        every = "all" in words
        rest = [w for w in words if w != "all"]
        expires = ""
        if len(rest) > 1:
            console.print(Text("one lifetime at most", "red"))
            continue
        if rest:
            try:
                seconds = parse_duration(rest[0], "lifetime")
            except PolicyError as exc:
                console.print(Text(exc.message, "red"))
                continue
            stamp = time.gmtime(time.time() + seconds)
            expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", stamp)
        return (None if every else [escape_glob(agent)]), expires


def _history(audit_path: str | None, agent: str) -> list[list[str]]:
    """This agent's distinct past commands (argv of each simple command), newest first, from
    the end of the audit log. Best effort: an unreadable log gives no history."""
    from . import auditread, paths

    path = audit_path or paths.audit_log()
    try:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            f.seek(max(0, size - PREVIEW_BYTES))
            data = f.read()
    except OSError:
        return []
    if size > PREVIEW_BYTES:
        data = data[data.find(b"\n") + 1 :]
    seen: set[tuple[str, ...]] = set()
    found = []
    for line in reversed(data.splitlines()):
        entry = auditread.parse_line(line)
        if not entry or entry.get("agent") != agent:
            continue
        parts = entry.get("parts") or [entry]
        for part in parts:
            argv = part.get("argv") if isinstance(part, dict) else None
            if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv):
                key = tuple(argv)
                if key not in seen:
                    seen.add(key)
                    found.append(argv)
    return found


def _preview(
    console: Any, policy: Policy, pattern: str, argv: list[str], history: list[list[str]]
) -> None:
    """Which of this agent's past commands the pattern would also allow, and which not."""
    from rich.text import Text

    from .match import pattern_match
    from .policy import compile_pattern
    from .prompt import visible
    from .tokenize import Command, join

    tokens = compile_pattern(pattern)
    also: list[list[str]] = []
    others: list[list[str]] = []
    for past in history:
        if past == argv:
            continue
        (also if pattern_match(tokens, Command(past, policy.programs)) else others).append(past)
    console.print(
        Text(
            f"of this agent's {len(also) + len(others)} other past commands, {visible(pattern)}"
            " would also "
            f"allow {len(also)}:",
            "dim",
        )
    )
    for past in also[:PREVIEW_ROWS]:
        console.print(Text("  + " + visible(join(past)), "green"))
    if others:
        console.print(Text("and would not allow, for example:", "dim"))
        for past in others[:PREVIEW_ROWS]:
            console.print(Text("  - " + visible(join(past))))


def save(path: str, choice: Choice, reviewer: str, command: str) -> str:
    """Write the chosen rule; return what to tell the reviewer. Raises GuardError."""
    from .gate import _now_rfc3339
    from .policy_edit import add_allow_rule

    learned = {"by": reviewer, "at": _now_rfc3339(time.time()), "command": command[:2000]}
    done = add_allow_rule(
        path,
        None,
        choice.patterns,
        comment=f"remembered by {reviewer}",
        agents=choice.agents,
        learned=learned,
        expires=choice.expires or None,
        covers=choice.argvs,
    )
    if not done.added:
        return f"approved; already allowed by rule {done.rule_id}: nothing added"
    scope = f"agent {choice.agents[0]} only" if choice.agents else "every agent"
    until = f", until {choice.expires}" if choice.expires else ""
    return f"approved; rule {done.rule_id} added to {path} ({scope}{until})"
