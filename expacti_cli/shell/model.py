"""What the shell analysis returns: `Analysis` of `Part`s (simple commands) and `Concern`s.

Concern ids are data (`CONCERNS`): whether an allow rule naming the exact command may lift one,
and what it means. Hot-path records are slotted classes (no `dataclasses`: see ARCHITECTURE.md,
Speed).
"""

from __future__ import annotations

# id -> (overridable, meaning). `overridable`: an allow rule naming that exact command may lift
# the concern (opaque code a human already approved); otherwise it always goes to a human.
CONCERNS: dict[str, tuple[bool, str]] = {
    "opaque-code": (True, "runs code the line does not show"),
    "hidden-input": (True, "reads input the reviewer cannot see"),
    "wrapper-option": (True, "a wrapper option whose effect on the command is unknown"),
    # Not lifted by an exact allow rule: the rule names the command, not the variable set for it.
    "code-variable": (False, "a variable that holds or loads code"),
    "recursion": (False, "a function that calls itself"),
    "guard-variable": (False, "sets guard's own settings (GUARD_*) for the commands after it"),
    "substituted-code": (True, "shell code filled in from input at run time"),
    "eval-sink": (False, "a word bash evaluates as code although it is quoted"),
    "dynamic-command": (False, "a command known only at run time"),
    "dynamic-redirect": (False, "a write to a path known only at run time"),
    "sensitive-write": (False, "a write to a sensitive path"),
    "cannot-analyse": (False, "shell syntax guard does not analyse"),
    "parse-error": (False, "the line does not parse"),
    "too-deep": (False, "shell strings nested too deep"),
    "too-complex": (False, "the line exceeds an analysis budget"),
    "internal-error": (False, "the analysis failed"),
    "nul-byte": (False, "the line contains a NUL byte"),
}


# The reasons whose wording is the same wherever they arise: `reason(id, **fields)`.
TEMPLATES = {
    "sensitive-write": "writes to {path} (sensitive path {pattern})",
    "dynamic-redirect": "writes to a dynamic path {path}",
    "eval-sink": "{what}: bash evaluates it as code",
    "too-complex": "too complex to analyse: {why}",
}


def reason(id: str, **fields: str) -> str:
    return TEMPLATES[id].format(**fields)


def overridable(id: str) -> bool:
    known = CONCERNS.get(id)
    return known[0] if known is not None else False


class Concern:
    """Why a part (or the whole line) must not be auto-allowed."""

    __slots__ = ("id", "overridable", "reason")

    def __init__(self, id: str, reason: str, overridable: bool) -> None:
        self.id = id
        self.reason = reason
        self.overridable = overridable

    @classmethod
    def of(cls, id: str, reason: str) -> Concern:
        """A concern whose overridability comes from `CONCERNS`."""
        return cls(id, reason, overridable(id))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Concern) and (self.id, self.reason, self.overridable) == (
            other.id,
            other.reason,
            other.overridable,
        )

    def __hash__(self) -> int:
        return hash((self.id, self.reason, self.overridable))

    def __repr__(self) -> str:
        return f"Concern({self.id!r}, {self.reason!r}, overridable={self.overridable})"


class Redirect:
    """One redirection of a simple command: `op` as written (`>`, `>>`, `<`, `<<`, `<<<`,
    `&>`...), `fd` the descriptor it applies to (int), `path` the absolute target (resolved
    against the tracked working directory and `~`) or None when it is not a static path (a
    dynamic word, an unknown directory, a heredoc, a descriptor duplicate). `text`: what a
    here-string or heredoc gives, when the line shows it whole (None: known only at run time);
    `source`: its source text when it is known only at run time (`<<< "$TOKEN"`; the target of
    `<` that is not a static path: `< "$F"`, `< <(ls)`)."""

    __slots__ = ("fd", "op", "path", "source", "text")

    def __init__(
        self,
        op: str,
        fd: int,
        path: str | None,
        text: str | None = None,
        source: str | None = None,
    ) -> None:
        self.op = op
        self.fd = fd
        self.path = path
        self.text = text
        self.source = source

    @property
    def writes(self) -> bool:
        return ">" in self.op

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Redirect) and (self.op, self.fd, self.path) == (
            other.op,
            other.fd,
            other.path,
        )

    def __hash__(self) -> int:
        return hash((self.op, self.fd, self.path))

    def __repr__(self) -> str:
        return f"Redirect({self.op!r}, {self.fd}, {self.path!r})"


class Part:
    """One simple command.

    `dynamic` lists the indexes of argv words that are placeholders (source text of an
    expansion bash resolves only at run time); `optionlike` those of them that may start with
    `-` (options.may_be_option). Line state at the command (see state.py):
    `cwd` the absolute working directory or None when unknown; `redirects` its redirections;
    `env` the variables known there that the command's environment holds (exported ones and
    its own prefix assignments), by value; `runtime_env` its prefix assignments of values
    known only at run time, by source text (`MAKEFLAGS="$X"`); `order` its position among the
    parts in the order bash reaches them; `prints_for` the command substitution whose output
    this command prints.
    """

    __slots__ = (
        "argv",
        "assignments",
        "choices",
        "concerns",
        "cwd",
        "dynamic",
        "env",
        "optionlike",
        "order",
        "prints_for",
        "redirects",
        "runtime_env",
        "stdin",
        "text",
        "via",
    )

    def __init__(
        self,
        argv: list[str],
        text: str,
        assignments: list[str],
        via: list[str],
        dynamic: tuple[int, ...] = (),
    ) -> None:
        self.argv = argv
        self.text = text
        self.assignments = assignments
        self.concerns: list[Concern] = []
        self.via = via
        self.dynamic = dynamic
        self.optionlike = dynamic  # the dynamic words that may be options
        self.choices: dict[int, list[str]] = {}  # a loop variable's words, by argv index
        self.cwd: str | None = None
        self.redirects: list[Redirect] = []
        self.env: dict[str, str] = {}
        self.runtime_env: dict[str, str] = {}
        self.order = -1
        self.stdin: str | None = None  # "pipe": fed by the command before it in a pipeline
        # The last command of a command substitution: its source text (`$(ls ~/.ssh)`), which
        # the words holding it stand for what this command prints (effects.feed.substituted).
        self.prints_for: str | None = None

    def __repr__(self) -> str:
        return f"Part({self.argv!r}, via={self.via!r}, concerns={self.concerns!r})"


class Analysis:
    __slots__ = ("concerns", "parts")

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.concerns: list[Concern] = []

    def __repr__(self) -> str:
        return f"Analysis(parts={self.parts!r}, concerns={self.concerns!r})"


class TooComplex(Exception):
    """A budget ran out: the line is reported as too complex (never allowed)."""


class Unanalysable(Exception):
    """A word guard cannot read the way bash does."""


def describe(id: str) -> str:
    known = CONCERNS.get(id)
    return known[1] if known is not None else id


class Fallback(Exception):
    """A plain line needs what only the full path does (a nested shell string)."""
