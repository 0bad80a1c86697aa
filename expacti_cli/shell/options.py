"""Getopt-style reading of a command's words against a catalogue entry's option kinds.

An entry (wrapper, interpreter, writer) maps each option to a kind (shellspec.OPTION_KEYS):
a flag, an option taking a value, a shell string, inline code, a replace token... These
helpers say which options a word holds, with their values, the way getopt would.
"""

from __future__ import annotations

from .lexer import Word

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_TAKES_VALUE = frozenset({"value", "split", "string", "code", "end", "replace"})
_ATTACHED = frozenset({"attached", "attached_replace"})


def options(
    entry: dict[str, Any], words: list[Word], i: int, lenient: bool = False
) -> tuple[list[tuple[str, str, Word | None]], int] | None:
    """Parse the option word words[i] (getopt style) against the entry's option kinds.

    Returns ([(option, kind, value word or None)], index after) or None for an unknown option;
    `lenient` takes unknown letters of a cluster for flags (interpreters have many).
    """
    w = words[i]
    a = w.value
    opts = entry["options"]

    def attached(text: str) -> Word:
        return Word(text, w.static)

    def following() -> tuple[Word | None, int]:
        return (words[i + 1], i + 2) if i + 1 < len(words) else (None, i + 1)

    kind = opts.get(a)
    if kind is not None:
        if kind in _TAKES_VALUE:
            value, nxt = following()
            return [(a, kind, value)], nxt
        return [(a, kind, None)], i + 1
    if a.startswith("--"):
        name, eq, val = a.partition("=")
        kind = opts.get(name)
        if eq and kind is not None and (kind in _TAKES_VALUE or kind in _ATTACHED):
            return [(name, kind, attached(val))], i + 1
        return None
    if entry.get("numeric_flags") and a[1:].isdigit():
        return [(a, "flag", None)], i + 1
    if not entry["clusters"]:
        kind = opts.get(a[:2])
        if kind is not None and (kind in _TAKES_VALUE or kind in _ATTACHED):
            return [(a[:2], kind, attached(a[2:]))], i + 1
        return None
    out: list[tuple[str, str, Word | None]] = []
    prefix = a[0]
    for k in range(1, len(a)):
        opt = prefix + a[k]
        kind = opts.get(opt)
        if kind is None:
            if lenient:
                continue
            return None
        rest = a[k + 1 :]
        if kind in _TAKES_VALUE:
            if rest:
                out.append((opt, kind, attached(rest)))
                return out, i + 1
            value, nxt = following()
            out.append((opt, kind, value))
            return out, nxt
        if kind in _ATTACHED:
            out.append((opt, kind, attached(rest)))
            return out, i + 1
        out.append((opt, kind, None))
    return out, i + 1


def skip_globals(entry: dict[str, Any], words: list[Word], i: int) -> int:
    """Index of the first word at or after i that is not a global option (or its value)."""
    values = entry["global_options"]
    n = len(words)
    while i < n:
        w = words[i]
        a = w.value
        if not w.static or not a.startswith("-") or a in ("-", "--"):
            break
        if a in values:
            i += 2
        else:  # --opt=value, -Hvalue, or a flag
            i += 1
    return i


def subcommand(entry: dict[str, Any], words: list[Word]) -> int:
    """Index after the entry's subcommand (`docker exec`, `docker compose -f x run`), global
    options allowed before each of its words; -1 when the command is not that subcommand."""
    for sub in entry["subcommands"]:
        i = 1
        for part in sub:
            i = skip_globals(entry, words, i)
            if i >= len(words) or not words[i].static or words[i].value != part:
                break
            i += 1
        else:
            return i
    return -1


class _Written:
    """What a writer's words name: files written, positional operands, options present."""

    __slots__ = ("files", "positionals", "present")

    def __init__(self) -> None:
        self.files: list[Word] = []
        self.positionals: list[Word] = []
        self.present: set[str] = set()


def written_files(entry: dict[str, Any], words: list[Word]) -> list[Word]:
    """The files a writer entry (tee, sed -i, curl -o, wget -O) writes, per its options."""
    seen = _Written()
    i, n = 1, len(words)
    ended = False
    while i < n:
        w = words[i]
        a = w.value
        i += 1
        if w.static and not ended and a == "--":
            ended = True
        elif w.static and not ended and a.startswith("-") and len(a) > 1:
            i = _writer_option(entry, words, i, seen)
        elif w.static and (prefix := _file_prefix(entry, a)) is not None:
            seen.files.append(Word(a[len(prefix) :], True))
        else:
            seen.positionals.append(w)
    if entry["only_with"] and not _holds_any(entry["only_with"], seen.present):
        return []
    positionals = seen.positionals
    if entry["script_options"] and not seen.present.intersection(entry["script_options"]):
        positionals = positionals[1:]  # the first operand is the script (sed 's/a/b/' f)
    files = seen.files
    if entry["files"] == "positional":
        files += positionals
    elif entry["files"] == "last" and len(positionals) >= 2:
        files.append(positionals[-1])
    return files


def _file_prefix(entry: dict[str, Any], a: str) -> str | None:
    return next((p for p in entry["file_prefixes"] if a.startswith(p)), None)


def _holds_any(wanted: list[str], present: set[str]) -> bool:
    """Is one of `wanted` present? GNU getopt_long takes any unambiguous prefix: `--in-pl`
    is --in-place."""
    return any(
        opt in present
        or any(p.startswith("--") and len(p) > 2 and opt.startswith(p) for p in present)
        for opt in wanted
    )


def _writer_option(entry: dict[str, Any], words: list[Word], i: int, seen: _Written) -> int:
    """Read the option word words[i - 1]; return the index after it (and its value)."""
    a = words[i - 1].value
    n = len(words)
    name, eq, value = a.partition("=")
    if name in entry["file_options"]:
        if eq:
            seen.files.append(Word(value, True))
        elif i < n:
            seen.files.append(words[i])
            i += 1
        seen.present.add(name)
    elif a in entry["value_options"]:
        seen.present.add(a)
        i += 1
    elif entry["clusters"] and not a.startswith("--"):
        i = _writer_cluster(entry, words, i, seen)
    else:
        seen.present.add(name)
    return i


def _writer_cluster(entry: dict[str, Any], words: list[Word], i: int, seen: _Written) -> int:
    """-qO FILE, -oFILE, -ni: short options in one word, getopt style."""
    a = words[i - 1].value
    for k in range(1, len(a)):
        opt = "-" + a[k]
        seen.present.add(opt)
        if opt in entry["file_options"] or opt in entry["value_options"]:
            attached = a[k + 1 :]
            if attached:
                value_word = Word(attached, True)
            elif i < len(words):
                value_word = words[i]
                i += 1
            else:
                break
            if opt in entry["file_options"]:
                seen.files.append(value_word)
            break
    return i


# -- run-time words that can be options ----------------------------------------------------


def may_be_option(
    word: Word, plain_variables: Any, plain_producers: Any, state: Any, functions: Any
) -> bool:
    """Could a run-time word be read as an option? A word bash splits may become several,
    any of them `-R`. One that is not split cannot when it starts with a literal other than
    `-` (`"build/$x"`, `"$HOME"/x`, `~`), with a variable the environment holds a plain value
    in (`"$USER"`: [shell] plain_variables, not set in the line: `assigned`), or with a
    substitution whose command prints no leading `-` (`"$(id -u)"`: plain_producers, not a
    function of the line), or with a variable the line gave such values (`for d in src/*`)."""
    from ..wildcard import match

    if word.split:
        return True
    t = word.value.lstrip('"')
    if t.startswith("'") and len(t) > 1:
        return t[1] == "-"
    if t[:1] and t[0] not in "$`\\-*?[{":
        return False  # a literal first character: `~` expands to a path
    if t.startswith("\\") and len(t) > 1:
        return t[1] == "-"
    name = _leading_variable(t)
    if name is not None:
        if name in state.operands:
            return False
        return name not in plain_variables or name in state.vars
    command = _leading_substitution(t)
    if command is None or not command or any(c in command for c in "$`'\"\\;&|<>(){}*?["):
        return True
    words = command.split()
    if words[0] in functions:
        return True
    return not any(_same_words(match, p.split(), words) for p in plain_producers)


def _leading_variable(t: str) -> str | None:
    """NAME of a word that starts with exactly `$NAME` or `${NAME}` (no operator)."""
    if t.startswith("${"):
        end = t.find("}")
        name = t[2:end] if end > 2 else ""
    elif t.startswith("$"):
        k = 1
        while k < len(t) and (t[k].isalnum() or t[k] == "_"):
            k += 1
        name = t[1:k]
    else:
        return None
    ok = name and not name[0].isdigit() and all(c.isalnum() or c == "_" for c in name)
    return name if ok else None


def _leading_substitution(t: str) -> str | None:
    """The command of a word that starts with `$(…)` or `` `…` `` (first closing only)."""
    if t.startswith("$(") and not t.startswith("$(("):
        end = t.find(")")
        return t[2:end].strip() if end > 0 else None
    if t.startswith("`"):
        end = t.find("`", 1)
        return t[1:end].strip() if end > 0 else None
    return None


def _same_words(match: Any, pattern: list[str], words: list[str]) -> bool:
    return len(pattern) == len(words) and all(
        match(p, w) for p, w in zip(pattern, words, strict=True)
    )
