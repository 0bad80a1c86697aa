"""Values bound at run time by bash's own rules: positional parameters, arrays, the builtins
that assign (`printf -v`, `mapfile`/`readarray`), `set -k`.

A word that reaches a command through one of these bindings is what the binding gives it
(bash(1) PARAMETERS, Arrays, FUNCTIONS, SHELL BUILTIN COMMANDS):
- `$0`..`$9`, `${N}`, `"$@"`, `"$*"`, `$#` are the words `bash -c CODE ARG0 ARGS...` passes,
  or the arguments of a call of a function the line defined (`$0` stays the shell's);
- `"${a[N]}"`, `"${a[@]}"` are an array's elements (`a=(...)`, `declare -a`, `mapfile`);
- `printf -v NAME FORMAT ARGS` assigns the formatted text, `mapfile -t NAME <<< TEXT` its lines.

Fail closed: what cannot be worked out stays a run-time word (its source text), and lines a
builtin reads from input the line does not show are `UNSEEN` words: any file at all.
"""

from __future__ import annotations

from ..match import UNSEEN
from .lexer import Word, is_assignment

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .model import Part
    from .state import State, Var

_MAX_ELEMENTS = 64
_HOME_SPELLINGS = ("$HOME", "${HOME}", '"$HOME"', '"${HOME}"')


# -- positional parameters --------------------------------------------------------------------


# Ends positional parameters whose count is unknown: words a wrapper appends from its input
# (`xargs sh -c 'cat "$0"'`) are at least one, `{}` (the words it fills in), maybe more.
MORE = Word("", False)


def bind(args: list[Word], zero: Word) -> list[Word] | None:
    """The positional parameters $0, $1... given `zero` and the argument words; None when a
    run-time word may be several words (the numbering after it is unknown)."""
    out = [zero]
    for k, w in enumerate(args):
        if w.static or not w.split:
            out.append(w)
        elif w.value == "{}" and k == len(args) - 1:  # shell.wrappers.fill
            return [*out, Word("{}", True, w.start, w.end), MORE]
        else:
            return None
    return out


def known(state: State) -> dict[str, str]:
    """`$0`..`$9` and `$#` where the positional parameters are known (an unset one is empty)."""
    pos = state.positional
    if pos is None:
        return {}
    more = MORE in pos
    out = {str(k): (pos[k].value if k < len(pos) else "") for k in range(10)}
    for k in range(10):
        if (k < len(pos) and not pos[k].static) or (more and k >= pos.index(MORE)):
            del out[str(k)]  # a run-time word stays one
    if not more:
        out["#"] = str(len(pos) - 1)
    return out


def shift(state: State, words: list[Word]) -> None:
    """`shift [N]`: the parameters from N+1 are renumbered from 1."""
    pos = state.positional
    if pos is None:
        return
    if len(words) == 1:
        count = 1
    elif len(words) == 2 and words[1].static and words[1].value.isdigit():
        count = int(words[1].value)
    else:
        state.positional = None
        return
    if count < len(pos):  # bash(1): a count above $# changes nothing
        state.positional = [pos[0], *pos[1 + count :]]


def set_(state: State, words: list[Word]) -> None:
    """`set [-k|+k|-o keyword|+o keyword] [--] [ARGS]`: the keyword option, and the positional
    parameters when arguments follow the options (a run-time option word may be either)."""
    i, n = 1, len(words)
    ended = False
    while i < n:
        w = words[i]
        if not w.static:
            state.keyword = True
            state.positional = None
            return
        v = w.value
        if v in ("--", "-"):
            ended, i = v == "--", i + 1
            break
        if v[:1] not in "-+" or len(v) < 2:
            break
        if v in ("-o", "+o") and i + 1 < n:
            value = words[i + 1]
            if not value.static or value.value == "keyword":
                state.keyword = v == "-o" or not value.static
            i += 2
            continue
        if "k" in v[1:]:
            state.keyword = v[0] == "-"
        i += 1
    if i < n or ended:  # `set -- ARGS`, `set ARGS`; `set --` alone unsets them all
        zero = state.positional[0] if state.positional else Word("$0", False)
        state.positional = bind(words[i:], zero)


def expand(words: list[Word], state: State) -> list[Word]:
    """`"$@"`, `"$*"` of known positional parameters and `"${a[N]}"`, `"${a[@]}"` of arrays
    the line assigned, as the words bash makes of them."""
    out: list[Word] = []
    for w in words:
        if w.static:
            out.append(w)
            continue
        text = w.value
        quoted = len(text) > 1 and text[0] == text[-1] == '"'
        inner = text[1:-1] if quoted else text
        made = _parameters(inner, quoted, state) if state.positional else None
        if made is None and state.arrays and inner.startswith("${") and inner.endswith("]}"):
            made = _elements(inner, quoted, state)
        if made is None:
            out.append(w)
            continue
        for v in made:
            word = Word(v.value, v.static, w.start, w.end, v.split)
            word.glob = v.glob
            out.append(word)
    return out


def _parameters(inner: str, quoted: bool, state: State) -> list[Word] | None:
    pos = state.positional
    if pos is None or inner not in ("$@", "${@}", "$*", "${*}"):
        return None
    args = [w for w in pos[1:] if w is not MORE]  # `{}` stands for every word filled in
    if not quoted and not all(w.static and _inert(w.value) for w in args):
        return None
    if "*" in inner and quoted:
        if not all(w.static for w in args) or "IFS" in state.vars:
            return None
        return [Word(" ".join(w.value for w in args), True)]
    return args


def _elements(inner: str, quoted: bool, state: State) -> list[Word] | None:
    """Element N (or all) of an array: from the first element that stands for several words
    (a glob, lines read unseen) on, any index may be any of the elements after it."""
    name, _, index = inner[2:-2].partition("[")
    elements = state.arrays.get(name)
    if elements is None:
        return None
    if not quoted and any(not _inert(e) for e in elements):
        return None
    many = next((k for k, e in enumerate(elements) if is_many(e)), len(elements))
    if index in ("@", "*"):
        picked = elements
        if index == "*" and quoted:
            if many < len(elements) or "IFS" in state.vars:
                return None
            return [Word(" ".join(elements), True)]
    elif index.isdigit() and int(index) < many:
        picked = [elements[int(index)]]
    elif index.isdigit():
        picked = elements[many:]
    else:
        return None
    out = [Word(e, not e.startswith(UNSEEN)) for e in picked]
    for w in out:
        w.glob = w.static and is_many(w.value)  # `a=(*)`: the names it matches, not `*`
    return out


def is_many(element: str) -> bool:
    """Does an element stand for an unknown number of words?"""
    return element.startswith(UNSEEN) or any(c in element for c in "*?[")


def _inert(element: str) -> bool:
    """Is a word left whole by word splitting and pathname expansion?"""
    return bool(element) and not any(c in element for c in " \t\n*?[")


def renames(state: State, known: dict[str, str], text: str) -> dict[str, str]:
    """Expansions that stand for another variable: `$r` of a name reference to NAME, and
    `${!v}` (indirection, bash(1) Parameter Expansion) where v holds the name NAME."""
    out: dict[str, str] = {}
    for name in state.namerefs:
        target = state.referent(name)
        if target and target != name:
            out[name] = target
    for name, expansion in state.defaults.items():
        if name not in known:
            out[name] = expansion
    if "${!" in text:
        for name, value in known.items():
            if value.isidentifier() and name not in state.namerefs:
                out["!" + name] = value
    return out


def _default_form(text: str) -> tuple[str, str, str] | None:
    """(NAME, operator, WORD) of `${NAME:=WORD}` or `${NAME=WORD}`; None for anything else."""
    if not text.startswith("${") or not text.endswith("}"):
        return None
    body = text[2:-1]
    k = 0
    while k < len(body) and (body[k].isalnum() or body[k] == "_"):
        k += 1
    name, op = body[:k], ":=" if body[k : k + 2] == ":=" else body[k : k + 1]
    if not name.isidentifier() or op not in (":=", "="):
        return None
    return name, op, body[k + len(op) :]


def kept(state: State, text: str) -> Var | None:
    """Before `${NAME:=WORD}` / `${NAME=WORD}` runs: NAME's value when the line knows it is set
    (and for `:=` not null), which the expansion then leaves as it is."""
    form = _default_form(text)
    var = state.vars.get(form[0]) if form is not None else None
    if form is None or var is None or var.value is None or form[0] in state.namerefs:
        return None
    return var if var.value or form[1] == "=" else None


def default_assigned(state: State, text: str, before: Var | None) -> None:
    """`${NAME:=WORD}` / `${NAME=WORD}` assigns WORD when NAME is unset (or null): afterwards
    `$NAME` is what `${NAME:-WORD}` / `${NAME-WORD}` is (fail closed: WORD's source text)."""
    form = _default_form(text)
    if form is None or form[0] in state.namerefs:
        return
    name, op, word = form
    if before is not None:
        state.vars[name] = before  # already set: unchanged
    else:
        state.defaults[name] = f"{name}{op.replace('=', '-')}{word}"


# -- builtins that assign ---------------------------------------------------------------------


def plain_value(w: Word, state: State, home: str) -> str | None:
    """A word's value when it is static, or `$HOME` of a line that did not set HOME."""
    if w.static:
        return w.value
    if w.value in _HOME_SPELLINGS and "HOME" not in state.vars:
        return home
    return None


def printf_v(state: State, words: list[Word], home: str) -> None:
    """`printf -v NAME FORMAT [ARGS]`: NAME holds the formatted text, when the format is
    plain text and `%s` (reused while arguments remain, bash(1) printf)."""
    values = [w.value if w.static else None for w in words]
    if "-v" not in values:
        return
    k = values.index("-v")
    name = values[k + 1] if k + 1 < len(values) else ""
    if name is None:
        state.forget_vars()  # a run-time name: any variable may change
        return
    base = name.split("[", 1)[0]
    if not base.isidentifier():
        return
    fmt = values[k + 2] if k == 1 and k + 2 < len(values) else None
    args = [plain_value(w, state, home) for w in words[k + 3 :]]
    text = None if fmt is None or "\\" in fmt else _format(fmt, args)
    state.assign(base, text if base == name else None)  # `-v a[1]`: an element


def _format(fmt: str, args: list[str | None]) -> str | None:
    pieces = fmt.split("%%")
    if any("%" in p.replace("%s", "") for p in pieces):
        return None  # another conversion: not worked out here
    per_round = fmt.count("%s") - 2 * fmt.count("%%s")
    if per_round <= 0:
        return fmt.replace("%%", "%") if not args else None
    out: list[str] = []
    queue = list(args)
    while True:
        taken = queue[:per_round]
        queue = queue[per_round:]
        if any(a is None for a in taken):
            return None
        filled = [*taken, *[""] * (per_round - len(taken))]
        parts = [p.split("%s") for p in pieces]
        texts: list[str] = []
        k = 0
        for chunk in parts:
            row = [chunk[0]]
            for rest in chunk[1:]:
                row.append(str(filled[k]))
                row.append(rest)
                k += 1
            texts.append("".join(row))
        out.append("%".join(texts))
        if not queue:
            return "".join(out)


def mapfile(state: State, prog: str, words: list[Word], part: Part, stdin: str | None) -> None:
    """`mapfile [-t] [-d DELIM] [NAME]`: the array holds the lines of what it reads: a
    here-string or heredoc the line shows, else lines nobody sees (any file named there)."""
    opts: set[str] = set()
    delim = "\n"
    names: list[str] = []
    i = 1
    while i < len(words):
        w = words[i]
        if not w.static:
            return  # reads_into forgot every variable
        v = w.value
        if v.startswith("-") and len(v) > 1 and not names:
            opt = v[1]
            value = v[2:] or (words[i + 1].value if i + 1 < len(words) else "")
            if opt in "dnOsuCc" and not v[2:]:
                i += 1
            if opt == "d":
                delim = value or "\0"
            opts.add(opt)
        else:
            names.append(v)
        i += 1
    name = names[-1] if names else "MAPFILE"
    if not name.isidentifier() or name in state.namerefs:
        return
    given = [r for r in part.redirects if r.fd == 0 and r.op in ("<", "<<", "<<-", "<<<")]
    text = given[-1].text if given and given[-1].op != "<" else None
    if text is not None and not opts - {"t", "d"}:
        if given[-1].op == "<<<" or not text.endswith("\n"):
            text += "\n"  # a here-string ends with a newline
        lines = text.split(delim)[:-1] if text.endswith(delim) else text.split(delim)
        state.arrays[name] = lines[:_MAX_ELEMENTS]
        return
    where = given[-1].path if given and given[-1].op == "<" and given[-1].path else stdin
    state.arrays[name] = [f"{UNSEEN}the lines {prog} read from {where or 'stdin'}"]


# -- set -k -------------------------------------------------------------------------------------


def keyword_option(options: list[Word]) -> bool:
    """Do a shell's invocation options turn on `-k` (`bash -k -c`, `sh -kc`, `-o keyword`)?
    A run-time option word may."""
    for k, w in enumerate(options):
        v = w.value
        if not w.static:
            return True
        if v == "-o" and k + 1 < len(options):
            value = options[k + 1]
            if not value.static or value.value == "keyword":
                return True
        elif v[:1] == "-" and v[1:2] != "-" and "k" in v[1:]:
            return True
    return False


def keyword_env(words: list[Word]) -> tuple[list[tuple[str, str | None]], list[str]]:
    """Under `set -k`: the NAME=VALUE words after the command name, as (name, value) pairs
    (value None when known only at run time) and their texts."""
    env: list[tuple[str, str | None]] = []
    texts: list[str] = []
    for w in words[1:]:
        if is_assignment(w.value):
            name, _, value = w.value.partition("=")
            env.append((name.removesuffix("+"), value if w.static else None))
            texts.append(w.value)
    return env, texts


def runtime_env(env: list[tuple[str, str | None]], texts: list[str]) -> dict[str, str]:
    """The assignments of values known only at run time, as their source text
    (`MAKEFLAGS="$X"` -> `"$X"`), so the effect model can judge what such a value may be."""
    out: dict[str, str] = {}
    for name, value in env:
        if value is not None:
            continue
        for text in texts:
            spelled, eq, source = text.partition("=")
            if eq and spelled.removesuffix("+") == name:
                out[name] = source
    return out
