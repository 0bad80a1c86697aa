"""Read one command's words with its program's grammar: subcommand, options, operands, roles.

`scan(argv, view)` walks the words once the way getopt_long and the common CLI frameworks
do: `--opt=value`, `--opt value`, `-o value`, `-ovalue`, clusters `-abc` (when the program
allows them), `--` ending the options. Options before the subcommand are looked up in the
grammar's `global` table first. The subcommand is the longest `[X.commands]` path that the
leading operands spell. Every value that has a role comes back as a `Word`.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_NO_VALUE = frozenset({"flag", "stop", "script-flag", "stdin", "argv", "info", "stdin-names"})
# After one of these the remaining words are the arguments of what it names (`python -m MOD
# ARGS`, `python -c CODE ARGS`): no more options or operands of the program itself.
_ENDS = frozenset({"end", "code"})
# The longest subcommand path a grammar may list (`az servicebus namespace authorization-rule
# keys list` has six words).
_DEPTH = 6


class Word:
    """A value with a role: `index` is its word in argv, `option` the option that gave it."""

    __slots__ = ("index", "option", "role", "value")

    def __init__(self, role: str, value: str, index: int, option: str | None) -> None:
        self.role = role
        self.value = value
        self.index = index
        self.option = option

    def __repr__(self) -> str:
        return f"Word({self.role!r}, {self.value!r}, @{self.index}, {self.option!r})"


class Invocation:
    """What `scan` read: the subcommand path (and where its words are), options seen, roles."""

    __slots__ = ("command", "command_at", "operands", "options", "rest", "spec", "words")

    def __init__(self) -> None:
        self.command: str = ""  # "rollout undo"
        self.command_at: list[int] = []  # argv indexes of the subcommand words
        self.options: list[tuple[str, str | None, int]] = []  # (option, value, index)
        self.operands: list[tuple[str, int]] = []  # after the subcommand
        self.words: list[Word] = []
        self.spec: dict[str, Any] = {}  # the [X.commands] entry, if any
        self.rest: list[str] = []  # arguments after an `end`/`code` option (python -m M ...)

    def has(self, *names: str) -> bool:
        return any(o in names for o, _, _ in self.options)

    def no_effect(self, view: dict[str, Any]) -> bool:
        """Is this a dry run or a check only (`--dry-run`, `bash -n`)? `--dry-run=none` is not."""
        names = set(view.get("no_effect_with", ()))
        if self.spec:
            names.update(self.spec.get("no_effect_with", ()))
        return any(
            o in names and (v is None or v.lower() not in ("none", "false", "0", "no"))
            for o, v, _ in self.options
        )


def _lookup(opt: str, tables: list[dict[str, str]]) -> str | None:
    for table in tables:
        role = table.get(opt)
        if role is not None:
            return role
    return None


def _read_options(
    argv: list[str],
    tables: list[dict[str, str]],
    clusters: bool,
    ends: frozenset[str] = _ENDS,
    before: tuple[int, list[dict[str, str]]] | None = None,
) -> tuple[list[tuple[str, str | None, int, str | None]], list[tuple[str, int]], int]:
    """[(option, value, index, role)], [(operand, index)] over argv[1:], and where the words
    that belong to something else start (len(argv) when nothing ends the options). `before`
    (index, tables): the words before that index (the subcommand) are read with those tables."""
    options: list[tuple[str, str | None, int, str | None]] = []
    operands: list[tuple[str, int]] = []
    i, n = 1, len(argv)
    after = tables
    while i < n:
        tables = before[1] if before and i < before[0] else after
        if options and options[-1][3] in ends:
            return options, operands, i
        tok = argv[i]
        if tok == "--":
            operands.extend((argv[k], k) for k in range(i + 1, n))
            break
        if len(tok) < 2 or tok[0] != "-":
            operands.append((tok, i))
            i += 1
            continue
        i = _one_option(argv, i, tables, clusters, options)
    return options, operands, n


def _unabbreviated(tok: str, tables: list[dict[str, str]]) -> str:
    """A long option spelled as an unambiguous prefix of one the grammar lists, spelled out:
    getopt_long(3), argp, git's parse-options and Python's argparse/optparse all take one
    (`tar --to-comm=sh`, `git branch -d --forc`); a program that takes none fails on it. Only
    where that changes no word's place: with its value attached, or for an option that takes
    none. A separate word after it stays an operand, as for any option the grammar does not
    list (`npm --global` is no `--globalconfig FILE`: the grammar need not list every option)."""
    if not tok.startswith("--") or len(tok) < 4:
        return tok
    name, eq, value = tok.partition("=")
    if any(name in table for table in tables):
        return tok
    found = {k for table in tables for k in table if k.startswith(name)}
    if len(found) != 1:
        return tok
    full = found.pop()
    role = _lookup(full, tables) or ""
    if eq or role in _NO_VALUE or "attached" in role:
        return full + eq + value
    return tok


def _one_option(
    argv: list[str],
    i: int,
    tables: list[dict[str, str]],
    clusters: bool,
    out: list[tuple[str, str | None, int, str | None]],
) -> int:
    """Read the option word argv[i] (and its value); return the index after it."""
    tok = _unabbreviated(argv[i], tables)
    nxt = argv[i + 1] if i + 1 < len(argv) else None
    opt, eq, attached = tok.partition("=")
    role = _lookup(tok, tables)
    if role is None and eq:
        role = _lookup(opt, tables)
        if role is not None and "+" in role:  # `--opt=A B`
            return _pair(argv, opt, (attached, i), role, out)
        if role is not None or tok.startswith("--"):
            out.append((opt, attached, i, role))
            return i + 1
    elif role is not None or tok.startswith("--") or not clusters or len(tok) == 2:
        if role is not None and "+" in role:
            return _pair(argv, tok, (nxt, i + 1), role, out)
        if role is not None and role not in _NO_VALUE and "attached" not in role:
            out.append((tok, nxt, i + 1, role))
            return i + 2
        out.append((tok, None, i, role))
        return i + 1
    # A cluster: -abc, or -ovalue when -o takes a value.
    for k in range(1, len(tok)):
        short = "-" + tok[k]
        r = _lookup(short, tables)
        if r is not None and r not in _NO_VALUE and "attached" not in r:
            rest = tok[k + 1 :]
            if rest:
                out.append((short, rest, i, r))
                return i + 1
            out.append((short, nxt, i + 1, r))
            return i + 2
        out.append((short, None, i, r))
    return i + 1


def _pair(
    argv: list[str],
    opt: str,
    first: tuple[str | None, int],
    role: str,
    out: list[tuple[str, str | None, int, str | None]],
) -> int:
    """An option that takes two words (`jq --rawfile NAME FILE`, role "A+B"): `first` is the
    first word and its index; the second follows it. Return the index after them."""
    one, two = role.split("+", 1)
    value, at = first
    out.append((opt, value, at, one))
    second = argv[at + 1] if at + 1 < len(argv) else None
    out.append((opt, second, at + 1, two))
    return at + 2


def _command(operands: list[tuple[str, int]], commands: dict[str, Any]) -> tuple[str, list[int]]:
    """The longest subcommand path the leading operands spell; a path written with globs
    (`"* create"`, a verb family) counts when no path spelled out matches."""
    best, at = "", []
    words: list[str] = []
    globbed = [k for k in commands if "*" in k or "?" in k]
    for word, _index in operands[:_DEPTH]:
        words.append(word)
        path = " ".join(words)
        key = path if path in commands else _glob_key(globbed, words)
        if key:
            best, at = key, [idx for _, idx in operands[: len(words)]]
    return best, at


def _glob_key(keys: list[str], words: list[str]) -> str:
    from ..wildcard import match

    for key in keys:
        parts = key.split()
        if len(parts) == len(words) and all(match(p, w) for p, w in zip(parts, words, strict=True)):
            return key
    return ""


def _unlisted(inv: Invocation, operands: list[tuple[str, int]], view: dict[str, Any]) -> None:
    """A subcommand path the grammar does not list: `unlisted`, or a read by its verb."""
    from ..wildcard import match

    depth = view.get("command_depth") or 0
    words = operands[:depth]
    if len(words) < depth or not all(_word_like(w) for w, _ in words):
        return
    verb = words[-1][0]
    read = any(match(g, verb) for g in view.get("read_verbs", ()))
    inv.command = " ".join(w for w, _ in words)
    inv.command_at = [i for _, i in words]
    inv.spec = {
        "effect": "read" if read else view["unlisted"],
        "operands": None,
        "runs": [],
        "options": {},
        "no_effect_with": [],
    }


def _word_like(word: str) -> bool:
    """Does an operand read like a subcommand name (`ec2`, `terminate-instances`)?"""
    return bool(word) and word[0].isalpha() and all(c.isalnum() or c in "-_." for c in word)


def assign(roles: list[str], values: list[tuple[str, int]]) -> list[tuple[str, str, int]]:
    """Operand roles in order; one role ending in "..." takes what the others leave."""
    if not roles:
        return []
    star = next((k for k, r in enumerate(roles) if r.endswith("...")), None)
    if star is None:
        return [(r, v, i) for r, (v, i) in zip(roles, values, strict=False)]
    before, after = roles[:star], roles[star + 1 :]
    out = [(r, v, i) for r, (v, i) in zip(before, values, strict=False)]
    middle_end = max(len(before), len(values) - len(after))
    repeat = roles[star][:-3]
    out += [(repeat, v, i) for v, i in values[len(before) : middle_end]]
    out += [(r, v, i) for r, (v, i) in zip(after, values[middle_end:], strict=False)]
    return out


def scan(argv: list[str], view: dict[str, Any]) -> Invocation:
    """Read argv (argv[0] is the program) with its grammar view (grammar.schema._check)."""
    inv = Invocation()
    tables = [view["global"], view["options"]]
    ends = _ENDS - {"code"} if view.get("code_continues") else _ENDS
    options, operands, end = _read_options(argv, tables, view["clusters"], ends)
    commands = view["commands"]
    if commands:
        inv.command, inv.command_at = _command(operands, commands)
        if not inv.command and view.get("unlisted"):
            _unlisted(inv, operands, view)
        if inv.command:
            inv.spec = commands.get(inv.command) or inv.spec
            if inv.spec["options"]:
                # Before the subcommand an option is the program's own (`tmux -f CONF new`:
                # the config file, not new-session's -f flags); after it, the subcommand's.
                first = (inv.command_at[0], [*tables, inv.spec["options"]])
                options, operands, end = _read_options(
                    argv, [inv.spec["options"], *tables], view["clusters"], ends, first
                )
            operands = [(w, i) for w, i in operands if i not in inv.command_at]
    roles = inv.spec.get("operands") if inv.spec else None
    roles = roles if roles is not None else view["operands"]
    switched = view.get("operands_with")
    if switched:  # `tree --fromfile FILE...`, `jq --args FILTER WORD...`
        roles = next((switched[o[0]] for o in options if o[0] in switched), roles)
    given = (inv.spec.get("pattern_options") if inv.spec else None) or view.get("pattern_options")
    if given and roles and roles[0] == "value" and any(o[0] in given for o in options):
        roles = roles[1:]  # `grep -e PATTERN FILE...`: every operand is a FILE
    options, operands = _command_words(argv, roles, options, operands)
    inv.operands = operands
    inv.rest = argv[end:]
    for opt, value, index, role in options:
        inv.options.append((opt, value, index))
        if role is not None and value is not None and role not in _NO_VALUE:
            inv.words.append(Word(role, value, index, opt))
    for role, value, index in assign(roles, operands):
        inv.words.append(Word(role, value, index, None))
    return inv


_COMMAND_FROM_HERE = ("command-argv...", "command-words...")


def _command_words(
    argv: list[str],
    roles: list[str],
    options: list[tuple[str, str | None, int, str | None]],
    operands: list[tuple[str, int]],
) -> tuple[list[tuple[str, str | None, int, str | None]], list[tuple[str, int]]]:
    """From a `command-argv...` or `command-words...` operand on, every word is the command's
    (`git bisect run pytest -x`: `-x` is pytest's option, not git's)."""
    at = next((k for k, r in enumerate(roles) if r in _COMMAND_FROM_HERE), None)
    if at is None or at >= len(operands):
        return options, operands
    start = operands[at][1]
    kept = [o for o in options if o[2] < start]
    return kept, [*operands[:at], *((argv[k], k) for k in range(start, len(argv)))]
