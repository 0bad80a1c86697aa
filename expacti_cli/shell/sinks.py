"""Bash's own evaluation sinks: text bash runs as code although the line quotes it.

From the bash manual (Shell Arithmetic, Arrays, Bash Builtins, Controlling the Prompt) and
checked against bash itself (tests/test_shell_sinks.py runs every case):

- arithmetic evaluation expands and evaluates array subscripts again, and evaluates the
  value of a variable named in an expression as an expression: `x='a[$(cmd)]'; (( x ))`,
  `$(( x ))`, `[[ $x -eq 0 ]]` (the arithmetic test operators), `let`, `for (( ))`, an
  indexed array's subscript (`${a[$i]}`, `a[$i]=`), substring offsets (`${x:$o}`), values
  assigned to `declare -i` variables;
- builtins that take a variable name evaluate its subscript: `printf -v`, `read`, `mapfile`,
  `wait -p`, `getopts`, `unset`, `test -v`/`[[ -v ]]`, `declare`/`typeset`/`local`/`export`/
  `readonly`; a name reference (`declare -n r='a[$(cmd)]'`) does when it is used;
- callbacks: `mapfile -C`/`readarray -C`, `complete`/`compgen -C`/`-F` (judged by what they
  run, like `trap`); the word list of
  `compgen -W` is expanded (its substitutions run);
- prompt expansion runs command substitutions: `${x@P}`, and PS4 (with `set -x`), PS0-PS2;
- `BASH_CMDS[name]=path` is `hash -p`, `BASH_ALIASES[name]=text` is `alias` (state.py).

A sink is harmful only with code in it: a quoted `$(`, backtick or `${` in the text bash
evaluates, or a variable the line set to such text or to text known only at run time.
Plain uses (`a[1]=x`, `(( i+1 ))`, `printf -v out %s x`, `for i in 1 2; do (( t += i ))`)
stay allowed. A harmful one is the concern `eval-sink`, which no allow rule lifts.
"""

from __future__ import annotations

from .model import reason
from .state import hides_code

__all__ = ["hides_code"]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .frame import Frame
    from .lexer import Word
    from .model import Part
    from .session import Session

_QUOTED = frozenset({"string", "raw_string", "ansi_c_string", "translated_string"})
_NAMES = frozenset({"word", "variable_name"})
_VISIBLE = frozenset({"command_substitution", "process_substitution"})
# Operators of [[ ]] whose operands are arithmetic expressions.
ARITHMETIC_TESTS = frozenset({"-eq", "-ne", "-lt", "-le", "-gt", "-ge"})
# Variables bash expands as prompt strings (PS4 before each command traced with `set -x`).
PROMPTS = frozenset({"PS0", "PS1", "PS2", "PS3", "PS4"})


def _sink(s: Session, what: str, part: Part | None) -> None:
    s.concern("eval-sink", reason("eval-sink", what=what), part)


def _identifiers(text: str) -> list[str]:
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isalpha() or c == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] == "_"):
                j += 1
            out.append(text[i:j])
            i = j
        else:
            i += 1
    return out


def risky(fr: Frame, name: str) -> str | None:
    """Why the variable `name` may hold code (None: it does not, or the line did not set
    it — a value from the environment is the user's own)."""
    var = fr.state.vars.get(name)
    if var is None or var.safe:
        return None
    if var.value is None:
        return f"{name} holds text known only at run time"
    return f"{name} holds {var.value!r}"


def text(s: Session, value: str, fr: Frame, part: Part | None, where: str) -> None:
    """A static text bash evaluates as an arithmetic expression (or a subscript)."""
    if hides_code(value):
        _sink(s, f"{where} {value!r}", part)
        return
    for name in _identifiers(value):
        why = risky(fr, name)
        if why:
            _sink(s, f"{where} {value!r} ({why})", part)
            return


def node(s: Session, root: Any, fr: Frame, part: Part | None, where: str) -> None:
    """An arithmetic context in the tree: quoted code in it, or a variable it names that the
    line set to code (substitutions tree-sitter sees are analysed as commands anyway)."""
    stack = [root]
    while stack:
        cur = stack.pop()
        t = cur.type
        if t in _VISIBLE:
            continue
        if t in _QUOTED and hides_code(fr.text(cur)):
            _sink(s, f"{where} {fr.text(cur)!r}", part)
            return
        if t in _NAMES:
            for name in _identifiers(fr.text(cur)):
                why = risky(fr, name)
                if why:
                    _sink(s, f"{where} {fr.text(root)[:60]!r} ({why})", part)
                    return
        stack.extend(cur.children)


def expansion(s: Session, root: Any, fr: Frame) -> None:
    """`${...}` forms that evaluate: the value named by `${!x}` and `${x@P}`, a subscript
    (`${a[i]}`), substring offsets (`${x:o:n}`); not the value of a plain `${a[1]}`."""
    body = fr.text(root)
    if body.startswith("${!") or body.endswith("@P}"):
        node(s, root, fr, None, "the expansion")
        return
    offsets = False
    for child in root.children:
        if child.type == "subscript":
            index = child.child_by_field_name("index")
            if index is not None:
                node(s, index, fr, None, f"the subscript of {body[:60]!r}")
        elif not child.is_named:
            offsets = child.type == ":" or (offsets and child.type != "}")
        elif offsets:
            node(s, child, fr, None, f"the offset in {body[:60]!r}")


def name(s: Session, word: Word, fr: Frame, part: Part | None, how: str) -> None:
    """A variable-name operand of a builtin (`printf -v NAME`): its subscript is evaluated."""
    value = word.value
    if word.static:
        if "[" in value:
            text(s, value[value.index("[") :], fr, part, f"{how} the subscript of")
        return
    for ident in _identifiers(value):
        why = risky(fr, ident)
        if why:
            _sink(s, f"{how} the variable named by {value!r} ({why})", part)
            return


# Options of each name-taking builtin that take a value, and which value names a variable.
_BUILTINS: dict[str, tuple[str, str]] = {
    # prog: (options taking a value, option whose value is a variable name)
    "printf": ("v", "v"),
    "read": ("adinNptu", "a"),
    "mapfile": ("dnOsuCc", ""),
    "readarray": ("dnOsuCc", ""),
    "wait": ("p", "p"),
    "getopts": ("", ""),
    "unset": ("", ""),
    "test": ("", ""),
    "[": ("", ""),
    "let": ("", ""),
    "complete": ("oAGWFCXPSa", ""),
    "compgen": ("oAGWFCXPSa", ""),
}


def builtin(s: Session, prog: str, words: list[Word], fr: Frame, part: Part) -> None:
    """The sinks of one builtin run by the shell."""
    spec = _BUILTINS.get(prog)
    if spec is None:
        return
    takes, names_option = spec
    options, operands = _split(words, takes)
    for opt, value in options:
        if opt == names_option:
            name(s, value, fr, part, f"{prog} -{opt}")
        elif opt == "W" and prog in ("complete", "compgen") and hides_code(value.value):
            # the word list is expanded like a word: its substitutions run
            _sink(s, f"{prog} -W {value.value!r}", part)
        elif opt in "CF" and prog in ("mapfile", "readarray", "complete", "compgen"):
            callback(s, prog, opt, value, fr, part)
    if prog in ("read", "unset"):
        for w in operands:
            name(s, w, fr, part, prog)
    elif prog in ("mapfile", "readarray") and operands:
        name(s, operands[-1], fr, part, prog)
    elif prog == "getopts" and len(operands) >= 2:
        name(s, operands[1], fr, part, prog)
    elif prog in ("test", "["):
        for k, w in enumerate(words[1:-1], 1):
            if w.static and w.value == "-v":
                name(s, words[k + 1], fr, part, f"{prog} -v")
    elif prog == "let":
        for w in operands:
            if w.static:
                text(s, w.value, fr, part, "let evaluates")
            else:
                name(s, w, fr, part, "let evaluates")


def split(prog: str, words: list[Word]) -> tuple[list[tuple[str, Word]], list[Word]]:
    """A name-taking builtin's options with their values, and its operands (`_BUILTINS`)."""
    return _split(words, _BUILTINS[prog][0])


def _split(words: list[Word], takes: str) -> tuple[list[tuple[str, Word]], list[Word]]:
    """Options with values (getopt style: `-vNAME`, `-v NAME`) and operands."""
    from .lexer import Word as _Word

    options: list[tuple[str, Word]] = []
    i, n = 1, len(words)
    while i < n:
        w = words[i]
        a = w.value
        if not w.static or not a.startswith("-") or a == "-":
            break
        i += 1
        if a == "--":
            break
        for k in range(1, len(a)):
            if a[k] in takes:
                if k + 1 < len(a):
                    options.append((a[k], _Word(a[k + 1 :], True)))
                elif i < n:
                    options.append((a[k], words[i]))
                    i += 1
                break
    return options, words[i:]


def callback(s: Session, prog: str, opt: str, value: Word, fr: Frame, part: Part) -> None:
    """`mapfile -C CODE`, `complete -C CODE`, `-F FUNCTION`: code run by the builtin, judged
    by what it is: static code is analysed as the command line it is, a function defined in
    the line is analysed with it; anything else is code guard cannot see."""
    from . import walk

    if not value.static:
        s.concern("opaque-code", f"{prog} -{opt} runs a callback", part)
        s.concern("dynamic-command", f"{prog} -{opt} with a dynamic callback", part)
    elif opt == "C":
        inner = fr.but(via=[*fr.via, prog], stdin=None).isolated()
        walk.line(s, value.value, inner, fr.depth + 1, owner=part)
    elif value.value not in fr.source.functions:
        s.concern(
            "opaque-code", f"{prog} -F runs the function {value.value}, not in the line", part
        )


def assigned(s: Session, name_: str, value: str | None, fr: Frame) -> None:
    """A shell assignment: prompt strings, and values given to integer variables."""
    if name_ in PROMPTS and (value is None or hides_code(value)):
        shown = "text known only at run time" if value is None else repr(value)
        _sink(s, f"{name_} is a prompt string, set to {shown}", None)
    if name_ in fr.state.integers and value is not None:
        text(s, value, fr, None, f"the integer variable {name_} is assigned")
