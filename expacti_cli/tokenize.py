"""Words of patterns and commands: splitting patterns, normalising an invocation's argv.

A `Command` is what rules see: the program's base name and normalised path, its arguments with
the program's global options removed (`git -C /r push -f` -> `push -f`), and the set of options
present, normalised as the catalogue declares (`-rf` -> `-r`, `-f`; `--recursive` -> `-r`;
`--force=yes` -> `--force`). Knowledge about programs comes from `[programs.*]` (data).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any

    Spec = dict[str, Any]

_EMPTY: frozenset[str] = frozenset()


def split_words(line: str) -> list[str]:
    """Split a pattern or example like a shell splits words (quotes, backslashes)."""
    import shlex

    return shlex.split(line, comments=False, posix=True)


def program_path(program: str) -> str:
    """`/usr/bin/../bin/rm` -> `/usr/bin/rm`; a bare name stays as it is."""
    if "/" not in program:
        return program
    return os.path.normpath(program)


class Command:
    """One invocation as the matcher sees it."""

    __slots__ = (
        "args",
        "argv",
        "flags",
        "global_flags",
        "globals",
        "name",
        "path",
        "spec",
        "values",
    )

    def __init__(self, argv: list[str], programs: Mapping[str, Spec] | None = None) -> None:
        self.argv = argv
        self.path = program_path(argv[0]) if argv else ""
        self.name = os.path.basename(self.path)
        self.spec: Spec | None = programs.get(self.name) if programs else None
        self.flags: set[str] = set()
        self.values: dict[str, list[str]] = {}
        self.globals: list[str] = []  # the global options' words, as given
        self.global_flags: set[str] = set()  # the options seen before the subcommand
        spec = self.spec
        rest = argv[1:]
        if spec is not None and (spec.get("global_options") or spec.get("global_flags")):
            rest = self._strip_globals(rest, spec)
        self.args = rest
        self._collect_flags(rest, spec)

    def _strip_globals(self, rest: list[str], spec: Spec) -> list[str]:
        before = set(self.flags)
        rest = self._strip(rest, spec)
        self.global_flags = self.flags - before
        return rest

    def _strip(self, rest: list[str], spec: Spec) -> list[str]:
        value_opts = spec.get("global_options") or _EMPTY
        i = 0
        while i < len(rest):
            tok = rest[i]
            if tok in {"--", "-"} or not tok.startswith("-"):
                break
            opt, eq, value = tok.partition("=")
            if tok in value_opts:
                value = rest[i + 1] if i + 1 < len(rest) else ""
                self._add(tok, value, spec)
                self.globals.extend(rest[i : i + 2])
                i += 2
            elif eq and (opt in value_opts or tok.startswith("--")):  # --git-dir=x, -chdir=x
                self._add(opt, value, spec)
                self.globals.append(tok)
                i += 1
            elif len(tok) > 2 and tok[1] != "-" and tok[:2] in value_opts:  # -C/repo, -ck=v
                self._add(tok[:2], tok[2:], spec)
                self.globals.append(tok)
                i += 1
            else:  # a global flag, or an unknown option the program will reject anyway
                self._add(tok, None, spec)
                self.globals.append(tok)
                i += 1
        return rest[i:]

    def _add(self, flag: str, value: str | None, spec: Spec | None) -> None:
        if spec is not None:
            flag = spec.get("aliases", {}).get(flag, flag)
        self.flags.add(flag)
        if value is not None:
            self.values.setdefault(flag, []).append(value)

    def _collect_flags(self, rest: list[str], spec: Spec | None) -> None:
        value_opts = (spec.get("value_options") if spec else None) or _EMPTY
        clusters = spec.get("clusters", True) if spec else True
        i = 0
        n = len(rest)
        while i < n:
            tok = rest[i]
            i += 1
            if tok == "--":
                break
            if len(tok) < 2 or tok[0] != "-":
                continue
            if tok.startswith("--"):
                opt, eq, value = tok.partition("=")
                if eq:
                    self._add(opt, value, spec)
                elif tok in value_opts and i < n:
                    self._add(tok, rest[i], spec)
                    i += 1
                else:
                    self._add(tok, None, spec)
                continue
            opt, eq, value = tok.partition("=")
            if eq and (opt in value_opts or len(opt) == 2 or not clusters):  # -chdir=x, -o=x
                self._add(opt, value, spec)
                continue
            if len(tok) == 2:
                if tok in value_opts and i < n:
                    self._add(tok, rest[i], spec)
                    i += 1
                else:
                    self._add(tok, None, spec)
                continue
            # `-abc`: the token itself (find's `-delete`), and as a cluster `-a -b -c`.
            self._add(tok, None, spec)
            if tok in value_opts:
                if i < n:
                    self.values.setdefault(tok, []).append(rest[i])
                    i += 1
                continue
            if not clusters:
                continue
            for k in range(1, len(tok)):
                short = "-" + tok[k]
                if short in value_opts:
                    attached = tok[k + 1 :]
                    if attached:
                        self._add(short, attached, spec)
                    elif i < n:
                        self._add(short, rest[i], spec)
                        i += 1
                    else:
                        self._add(short, None, spec)
                    break
                self._add(short, None, spec)

    def targets(self) -> list[str]:
        """Values that name what the command acts on (for never-seen-target anomalies)."""
        spec = self.spec
        if not spec:
            return []
        found = []
        for opt in spec.get("targets") or ():
            for value in self.values.get(spec.get("aliases", {}).get(opt, opt), ()):
                found.append(f"{opt}={value}")
        position = spec.get("target_positional")
        if position:
            value_opts = spec.get("value_options") or _EMPTY
            positionals = []
            skip = False
            for tok in self.args:
                if skip:
                    skip = False
                elif tok.startswith("-") and len(tok) > 1:
                    skip = tok in value_opts
                else:
                    positionals.append(tok)
            if len(positionals) >= position:
                found.append(positionals[position - 1])
        return sorted(set(found))


def quote(word: str) -> str:
    """Shell-quote one word (as shlex.quote, which would import `re`)."""
    if word and all(c.isascii() and (c.isalnum() or c in "@%+=:,./-_") for c in word):
        return word
    return "'" + word.replace("'", "'\"'\"'") + "'"


def join(argv: list[str]) -> str:
    return " ".join(quote(a) for a in argv)
