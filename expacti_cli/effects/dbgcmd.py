"""Debugger commands given on the command line: gdb `-ex CMD` / `-iex CMD` (GDB manual 2.1.2)
and lldb `-o CMD` / `-O CMD` / `-k CMD` (lldb(1)).

Both debuggers run shell commands (`shell CMD`, `!CMD`, `pipe`, lldb `platform shell CMD`),
Python or Lua (`python`, `script`, `command script import`), files of commands (`source`),
and code inside the debugged process (`call`, `print FUNC()`, `expression`). Only commands
that inspect the program or run it as the line gave it are ordinary: a backtrace, a
breakpoint, `run`, `continue`, `info`, `quit`. `shell CMD` and `!CMD` are judged as the command
line they run; any other command is code of unknown safety.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..grammar.scan import Word
    from .roles import Command as _Command

# First words of commands that only inspect or drive the debugged program (gdb's `help all`
# and lldb's `help` name them; abbreviations as each debugger accepts them).
_ORDINARY = frozenset(
    (
        # gdb
        "bt",
        "backtrace",
        "where",
        "info",
        "i",
        "run",
        "r",
        "start",
        "starti",
        "continue",
        "c",
        "next",
        "n",
        "step",
        "s",
        "nexti",
        "ni",
        "stepi",
        "si",
        "finish",
        "fin",
        "until",
        "u",
        "advance",
        "break",
        "b",
        "tbreak",
        "rbreak",
        "watch",
        "rwatch",
        "awatch",
        "delete",
        "d",
        "disable",
        "enable",
        "condition",
        "ignore",
        "frame",
        "f",
        "up",
        "down",
        "list",
        "l",
        "disassemble",
        "x",
        "kill",
        "k",
        "quit",
        "q",
        "detach",
        "thread",
        "display",
        "undisplay",
        "ptype",
        "whatis",
        "show",
        "core-file",
        "file",
        "symbol-file",
        # lldb
        "breakpoint",
        "br",
        "process",
        "image",
        "target",
        "register",
        "memory",
        "me",
        "disassemble",
        "di",
        "settings",
        "version",
    )
)
# Words after a first word that make an ordinary command run code, or write or load a file.
_UNSAFE = frozenset(
    (
        "shell",
        "script",
        "python",
        "command",
        "apply",
        "launch",
        "plugin",
        "load",
        "save",
        "import",
        "exec",
        "logging",
        "call",
        "expression",
        "expr",
        "eval",
    )
)
# gdb runs the program's arguments through a shell (`run ARGS`, startup-with-shell).
_SHELL_SIGNS = ("<", ">", "|", ";", "&", "$", "`")
# gdb `set` / lldb `settings set` of display options only.
_SETTINGS = frozenset(
    (
        "pagination",
        "confirm",
        "print",
        "width",
        "height",
        "listsize",
        "style",
        "verbose",
        "disassembly-flavor",
        "auto-load",
        "target.x86-disassembly-flavor",
        "stop-disassembly-display",
    )
)


def judge(c: _Command, w: Word) -> None:
    """One command given with -ex/-iex (gdb) or -o/-O/-k (lldb)."""
    from .words import unquote

    text = unquote(w.value).strip()
    if text.startswith("!"):
        c.add("command", text[1:], None, ())
        return
    words = text.split()
    if not words:
        return
    first = words[0]
    if first == "shell" or (first == "platform" and words[1:2] == ["shell"]):
        skip = 2 if first == "platform" else 1
        rest = text.split(None, skip)
        c.add("command", rest[skip] if len(rest) > skip else "sh", None, ())
        return
    # `run > FILE`, `run $(CMD)`: gdb runs the program's arguments through a shell.
    if any(ch in text for ch in _SHELL_SIGNS) or not _ordinary(first, words):
        _unknown(c, w, text)


def _ordinary(first: str, words: list[str]) -> bool:
    if first in ("set", "settings"):  # gdb `set NAME`, lldb `settings set NAME`: display only
        name = words[1:2] if first == "set" else (words[2:3] if words[1:2] == ["set"] else [])
        return bool(name) and name[0] in _SETTINGS and not _unsafe(words)
    if first == "thread" and words[1:3] == ["apply", "all"]:
        return words[3:] in (["bt"], ["backtrace"])
    return first in _ORDINARY and not _unsafe(words)


def _unsafe(words: list[str]) -> bool:
    return any(x in _UNSAFE for x in words[1:])


def _unknown(c: _Command, w: Word, text: str) -> None:
    what = f"runs the debugger command {text!r} ({w.option})"
    c.add("run", what, "unknown-code", ())
