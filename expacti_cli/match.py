"""Does a compiled rule match a command?

A compiled pattern is a tuple of tokens: ("L", text) literal, ("G", glob) wildcard, ("S",) for
`**` (zero or more arguments). The first token is the program: matched against the base name,
or the normalised path when the pattern token holds a `/`.
"""

from __future__ import annotations

from . import wildcard

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .tokenize import Command

    Token = tuple[str, ...]


# Stands for an argument known only at run time (`$x`, `$(cmd)`): it may be any word, any flag.
# argv can never hold a NUL byte, so no real argument is mistaken for it.
DYNAMIC = "\0dynamic\0"
# Stands for a run-time argument that cannot be an option (`"$(id -u)"`, `build/$x`): any
# word, no flag.
OPERAND = "\0operand\0"
# The prefix of a word read from input the line does not show (`mapfile F < <(ls ~/.ssh)`,
# `xargs cat < LIST`): it may name any file at all (effects.feed). Defined here, beside the
# other run-time placeholders, because every decision loads this module and not the shell's.
UNSEEN = "\0unseen\0"
# A loop's word that stands for a line `read` took from a pipe (`P | while read f; do cat "$f"`):
# the names P printed, when guard knows them (effects.feed.read_lines), else any file.
LINES = "\0lines\0"


# The character class that opens a shape learned for a name in the working tree (suggest.py:
# not a glob, option, absolute, home or dot path). A glob token holding it stands for one plain
# name the reviewer saw, so it never matches a word with a glob character (guard matches words
# as written: `src/*` may be every file) or a `:`, a `..` component (`a/../../x` climbs out),
# or a word known only at run time (its placeholder, `"$F"`, or DYNAMIC). A token holding
# TEXT_CLASS is learned free text (an option's value with spaces, `--comment 'fixed in 2.1'`):
# any text but an expansion (`"$GITHUB_TOKEN"` is not the text approved). A backtick is text
# to it: a command substitution's command is decided as a part of its own.
SHAPE_CLASS = "[!*?[./~-]"
TEXT_CLASS = "[!$-]"
_RUNTIME = frozenset("$\0")
# Not in a plain name: glob characters, a backtick, and `:`, which scp, rsync, docker cp and
# git push refspecs (`a:main`) read as another place.
_NOT_NAME = frozenset("*?[:`")


def _shape_holds(glob: str, word: str) -> bool:
    if not _RUNTIME.isdisjoint(word):
        return False
    if SHAPE_CLASS in glob and (not _NOT_NAME.isdisjoint(word) or ".." in word.split("/")):
        return False
    return wildcard.match(glob, word)


def _token(tok: Token, word: str) -> bool:
    if tok[0] == "G" and (SHAPE_CLASS in tok[1] or TEXT_CLASS in tok[1]):
        return _shape_holds(tok[1], word)
    if word in (DYNAMIC, OPERAND):
        return True
    if tok[0] == "L":
        return tok[1] == word
    return wildcard.match(tok[1], word)


def _program(tok: Token, cmd: Command) -> bool:
    subject = cmd.path if "/" in tok[1] else cmd.name
    return _token(tok, subject)


def args_match(tokens: list[Token] | tuple[Token, ...], args: list[str]) -> bool:
    """Match argument tokens (with `**`) against args: dynamic programming, O(len*len)."""
    if tokens and tokens[0][0] == "L":  # most patterns: a literal word first, one compare
        first = tokens[0][1]
        if not args or (args[0] != first and args[0] not in (DYNAMIC, OPERAND)):
            return False
    n = len(args)
    # reach[j]: the tokens so far can consume exactly args[:j]
    reach = [False] * (n + 1)
    reach[0] = True
    for tok in tokens:
        if tok[0] == "S":
            for j in range(1, n + 1):
                reach[j] = reach[j] or reach[j - 1]
            continue
        nxt = [False] * (n + 1)
        for j in range(n):
            if reach[j] and _token(tok, args[j]):
                nxt[j + 1] = True
        reach = nxt
        if not any(reach):
            return False
    return reach[n]


def head_may_match(head: Token, name: str) -> bool:
    """Could a pattern whose program token is `head` match a command called `name`? False
    only where `pattern_match` would refuse every such command (a program token matched
    against a path is kept: the path is not known from the name)."""
    if "/" in head[1] or name == DYNAMIC:
        return True
    if head[0] == "L":
        return head[1] == name
    return _token(head, name)


def narrowed(rule: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The rule with only the patterns that could match a program called `name` (the same
    rule when all could; None when none can): `shell-basics` names dozens of programs, and a
    line's `cat` need not try `true **`, `false **`, ... first."""
    keep = [i for i, p in enumerate(rule["patterns"]) if head_may_match(p[0], name)]
    if len(keep) == len(rule["patterns"]):
        return rule
    if not keep:
        return None
    out = dict(rule)
    for key in ("patterns", "match", "exact"):
        out[key] = [rule[key][i] for i in keep]
    return out


def pattern_match(pattern: list[Token], cmd: Command) -> bool:
    """Does the pattern match the command's arguments, with its global options set aside
    (`git -C /r push` is `git push`), or, for a pattern without wildcards, exactly as written
    (`uv --version`: a rule that spells a leading option the grammar knows as global)?"""
    if not cmd.argv:
        return False
    head = pattern[0]
    if head[0] == "L":  # most rules name their program: compared here, no glob, no calls
        subject = cmd.path if "/" in head[1] else cmd.name
        if head[1] != subject and subject != DYNAMIC:
            return False
    elif not _program(head, cmd):
        return False
    if args_match(pattern[1:], cmd.args):
        return True
    # Only a pattern without wildcards is read as written: `** stop **` must not find a word
    # that is a global option's value (`systemctl -p stop list-units`).
    if not cmd.globals:
        return False
    exact = all(tok[0] == "L" for tok in pattern[1:])
    return exact and args_match(pattern[1:], cmd.argv[1:])


def _flags_hold(
    entries: list[tuple[str, str | None]], present: set[str], cmd: Command, dynamic: bool
) -> bool:
    if dynamic:
        return True  # a run-time value could be any of these options
    for flag, glob in entries:
        if flag in present:
            if glob is None:
                return True
            for value in cmd.values.get(flag, ()):
                if wildcard.match(glob, value.lower()):
                    return True
    return False


_REGEXES: dict[str, Any] = {}


def contains_regex(expr: str, *, remember: bool = True) -> Any:
    """A `contains` expression compiled by RE2 (linear time: no catastrophic backtracking on
    agent-controlled text), case-insensitive. Raises ValueError naming RE2's complaint.

    `remember=False` (policy compile, which only validates) keeps no reference to `expr`: a
    reference held here would change how marshal writes the compiled policy (its refcount),
    and a rebuilt cache would no longer be byte-identical."""
    rx = _REGEXES.get(expr) if remember else None
    if rx is None:
        import re2  # type: ignore[import-untyped]  # only rules with `contains` pay for it

        options = re2.Options()
        options.case_sensitive = False
        options.log_errors = False  # RE2 would print its own line on stderr
        try:
            rx = re2.compile(expr, options)
        except re2.error as exc:
            detail = exc.args[0] if exc.args else exc
            if isinstance(detail, bytes):
                detail = detail.decode("utf-8", "replace")
            raise ValueError(f"RE2 cannot compile it: {detail}") from None
        if remember:
            _REGEXES[expr] = rx
    return rx


def _search(rx: Any, arg: str) -> bool:
    try:
        return rx.search(arg) is not None
    except UnicodeEncodeError:  # an argument with undecodable bytes (surrogate escapes)
        return (
            rx.search(arg.encode("utf-8", "surrogateescape").decode("utf-8", "replace")) is not None
        )


def _contains_holds(rule: dict[str, Any], cmd: Command) -> bool:
    if DYNAMIC in cmd.argv or OPERAND in cmd.argv:
        return True
    for expr in rule["contains"]:
        rx = contains_regex(expr)
        if any(_search(rx, arg) for arg in cmd.argv[1:]):
            return True
    return False


def matched_pattern(rule: dict[str, Any], cmd: Command, *, exact_only: bool = False) -> str | None:
    """The source text of the rule's first pattern that matches, if the whole rule holds.

    `exact_only` considers only patterns without wildcards (they name one exact command).
    """
    for pattern, source, exact in zip(rule["patterns"], rule["match"], rule["exact"], strict=True):
        if (exact or not exact_only) and pattern_match(pattern, cmd):
            text = source
            break
    else:
        return None
    if rule["flags"] and not _flags_hold(rule["flags"], cmd.flags, cmd, DYNAMIC in cmd.argv):
        return None
    # A run-time word can be a global option only where global options stand.
    dynamic_global = DYNAMIC in cmd.globals or (bool(cmd.args) and cmd.args[0] == DYNAMIC)
    if rule["global_flags"] and not _flags_hold(
        rule["global_flags"], cmd.global_flags, cmd, dynamic_global
    ):
        return None
    if rule["contains"] and not _contains_holds(rule, cmd):
        return None
    return str(text)


def agent_applies(rule: dict[str, Any], agent: str) -> bool:
    expires = rule.get("expires")
    if expires:
        import time  # built in: costs nothing

        if time.time() >= expires:
            return False  # an expired rule (a remembered one, say) no longer applies
    agents = rule["agents"]
    return not agents or any(wildcard.match(a, agent) for a in agents)
