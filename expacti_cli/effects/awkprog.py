"""The files an awk program names in its I/O redirections (gawk manual, 5.6 Redirecting Output
of print and printf; 4.10 Explicit Input with getline).

`print > FILE` and `print >> FILE` (and printf) write FILE; `getline < FILE` (`getline VAR <
FILE`) reads it. Only inside a print or printf statement, outside parentheses, is `>` a
redirection: `$3 > 10` and `print (a > b)` compare. A target that is one string literal names
the file, judged by its path's class; any other target is an expression, which may name any
file. `| "cmd"` and `"cmd" | getline` run commands: the shell analysis already judges them as
code (the interpreter's `unsafe_code`).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..grammar.scan import Word
    from .roles import Command as _Command

_IDENT = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_REGEX_AFTER = frozenset("(,{;~!&|=<>?:+-*%^\n")  # a `/` after these starts a regex literal
_END = frozenset(";}\n")


def program(c: _Command, w: Word) -> None:
    """An awk program (the first operand): its redirections are reads and writes. An operand
    given when -e/-f name the program is an input file (rewritten under `-i inplace`)."""
    from ..grammar.scan import Word
    from . import outputs

    inv = c.inv
    if w.option is None and inv is not None and inv.has("-e", "--source", "-f", "--file"):
        edits = outputs.in_place(inv, (c.view or {}).get("in_place", ()))
        c.role(Word("write" if edits else "read", w.value, w.index, w.option))
        return
    judge(c, w)


def code(c: _Command, w: Word) -> None:
    """Program text given with an option (`awk -e TEXT`): judged the same way, for a program
    whose grammar reads its first operand as an awk program."""
    if "awk-program" in (c.view or {}).get("operands", ()):
        judge(c, w)


def judge(c: _Command, w: Word) -> None:
    """The reads and writes of the awk program text `w`."""
    from ..grammar.scan import Word
    from .words import unquote

    for role, path in redirections(unquote(w.value)):
        if path is None:
            what = f"{role}s a file named by an expression in its awk program"
            cls = "secret" if role == "read" else "persistence"
            c.add(role, what, cls, ())
        elif role == "read":
            c.read(Word("read", path, w.index, w.option))
        else:
            c.wrote(path, "written", (w.value,))


def redirections(text: str) -> list[tuple[str, str | None]]:
    """[(read|write, FILE or None for an expression)] of an awk program's redirections."""
    out: list[tuple[str, str | None]] = []
    tokens = _tokens(text)
    statement = ""  # "print" while inside a print/printf statement
    depth = 0
    for i, (kind, value) in enumerate(tokens):
        if kind == "word" and value in ("print", "printf"):
            statement, depth = "print", 0
        elif kind == "op" and value in "([":
            depth += 1
        elif kind == "op" and value in ")]":
            depth = max(depth - 1, 0)
        elif kind == "op" and value in _END:
            statement = ""
        elif kind == "op" and value in (">", ">>") and statement and depth == 0:
            out.append(("write", _target(tokens, i + 1)))
            statement = ""
        elif kind == "op" and value == "<" and _after_getline(tokens, i):
            out.append(("read", _target(tokens, i + 1)))
    return out


def _after_getline(tokens: list[tuple[str, str]], i: int) -> bool:
    """Is the `<` at i getline's input redirection (`getline < F`, `getline line < F`)?"""
    before = [v for _, v in tokens[max(i - 3, 0) : i]]
    return "getline" in before and (before[-1] == "getline" or before[-2:-1] == ["getline"])


def _target(tokens: list[tuple[str, str]], i: int) -> str | None:
    """The file a redirection names: one string literal ending the statement, else None."""
    if i < len(tokens) and tokens[i][0] == "str":
        rest = tokens[i + 1 : i + 2]
        if not rest or (rest[0][0] == "op" and rest[0][1] in _END | {")"}):
            return tokens[i][1]
    return None


def _tokens(text: str) -> list[tuple[str, str]]:
    """awk program text as (str|regex|word|op, value): strings unescaped, comments dropped."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in " \t\r" or (ch == "\\" and text[i + 1 : i + 2] == "\n"):
            i += 2 if ch == "\\" else 1
        elif ch == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif ch == '"' or (ch == "/" and (not out or out[-1][1][-1:] in _REGEX_AFTER)):
            j, chars = i + 1, []
            while j < n and text[j] != ch and text[j] != "\n":
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                    chars.append({"n": "\n", "t": "\t"}.get(text[j], text[j]))
                else:
                    chars.append(text[j])
                j += 1
            out.append(("str" if ch == '"' else "regex", "".join(chars)))
            i = j + 1
        elif ch in _IDENT or ch == "$":
            j = i + 1
            while j < n and text[j] in _IDENT:
                j += 1
            out.append(("word", text[i:j]))
            i = j
        else:
            two = text[i : i + 2]
            op = two if two in (">>", ">=", "<=", "==", "!=", "&&", "||", "++", "--") else ch
            out.append(("op", op))
            i += len(op)
    return out
