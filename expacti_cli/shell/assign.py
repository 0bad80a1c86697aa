"""Assignments and declarations: `NAME=value`, `export`/`declare`/`local`/`readonly`/
`typeset`/`unset`. Substitutions in values run; values the line sets are recorded in the
line state (state.py); variables that run or load code are commands.code_variable's; the
sinks among them (subscripts, `declare -i`/`-n`, prompt strings) are sinks.py's.
"""

from __future__ import annotations

from . import commands, sinks, walk
from .model import reason
from .state import hides_code
from .syntax import TOKENS, WORDS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .frame import Frame
    from .model import Part
    from .session import Session


# Options of declare/typeset/local that transform the value (integer, case) or make it an
# array or a name reference: the assigned text is not the value.
_TRANSFORMING = frozenset("ilunA")  # `-a`: the elements `a=(...)` assigns are the values


def declaration(s: Session, node: Any, fr: Frame) -> None:
    """export/declare/typeset/local/readonly NAME[=value]..., unset NAME..."""
    keyword = ""
    flags = ""
    names: list[str] = []
    for child in node.children:
        t = child.type
        if not child.is_named:
            if t not in TOKENS:
                walk.bad(s, child, fr)
            keyword = keyword or t
        elif t == "variable_assignment":
            name, value = assignment(s, child, fr, part=None, texts=None)
            names.append(name)
            _declared_value(s, flags, name, value, fr)
            written = child.child_by_field_name("value")
            if written is None or written.type != "array":  # (`x=(...)` is read already)
                _compound_text(s, keyword, flags, name, value, fr)
        elif t in WORDS:
            for w in walk.words(s, child, fr):
                if w.static and w.value[:1] in "-+":
                    flags += w.value[1:]
                    continue
                sinks.name(s, w, fr, None, keyword)
                if w.static:
                    names.append(w.value.split("=", 1)[0])
                    if "=" in w.value:
                        named, _, text = w.value.partition("=")
                        _compound_text(s, keyword, flags, named, text, fr)
                else:
                    fr.state.forget_vars()  # a dynamic name: any variable may change
        elif t == "variable_name":
            names.append(fr.text(child))
        elif t != "comment":
            walk.bad(s, child, fr)
    _declared(fr, keyword, flags, names)
    _printed_or_guard(s, node, fr, keyword, flags, names)


_PRINTING = ("export", "declare", "typeset", "local", "readonly")


def _printed_or_guard(
    s: Session, node: Any, fr: Frame, keyword: str, flags: str, names: list[str]
) -> None:
    """`export -p`, `declare -p NAME`, a bare `declare`: the builtin prints variables, so it is
    a command of its own (the effect model judges what it prints); unsetting or changing a
    GUARD_* variable changes what a guard started later in the line obeys."""
    from .model import Part

    for name in names:
        if name.split("[", 1)[0].startswith("GUARD_"):
            s.concern("guard-variable", f"{keyword} {name}: changes guard's settings for later")
    assigned = any(c.type == "variable_assignment" for c in node.children)
    if keyword in _PRINTING and not assigned and ("p" in flags or not names):
        argv = [keyword, *([f"-{flags}"] if flags else []), *names]
        s.add_part(Part(argv, fr.text(node), [], list(fr.via)), fr)


def _declared_value(s: Session, flags: str, name: str, value: str | None, fr: Frame) -> None:
    """`declare -i x=EXPR` evaluates EXPR; `declare -n r=NAME` makes r stand for NAME."""
    if "i" in flags and value is not None:
        sinks.text(s, value, fr, None, f"declare -i {name}=")
    if "n" in flags:
        if value is None or sinks.hides_code(value):
            shown = "a run-time value" if value is None else repr(value)
            what = f"the name reference {name} is {shown}"
            s.concern("eval-sink", reason("eval-sink", what=what))
        else:
            target = value.split("[", 1)[0]
            fr.state.namerefs.pop(name, None)
            fr.state.assign(name, None, safe=sinks.risky(fr, target) is None)
        # Assignments to `name` now set the variable it names (State.referent).
        ok = value is not None and value.isidentifier()
        fr.state.namerefs[name] = value if ok else ""


def _compound_text(
    s: Session, keyword: str, flags: str, name: str, value: str | None, fr: Frame
) -> None:
    """`declare -a x='($(cmd))'`: a declaration builtin assigning an array a value that is
    `(...)` after expansion parses it as a compound assignment and runs its substitutions
    (bash's declare re-reads the text; so do typeset, local and readonly). Guard analyses the
    text as `v=(...)` whatever the flags (the name may already be an array); a run-time value
    given to an array is an eval-sink."""
    if keyword not in ("declare", "typeset", "local", "readonly"):
        return
    if value is None:
        name = name.removesuffix("+")
        if "a" in flags or "A" in flags or name in fr.state.arrays:
            what = f"{keyword} -{flags} {name}= a run-time value (read as an array's code)"
            s.concern("eval-sink", reason("eval-sink", what=what))
        return
    if len(value) >= 2 and value[0] == "(" and value[-1] == ")":
        walk.line(s, "v=" + value, fr.isolated(), fr.depth + 1)


def _declared(fr: Frame, keyword: str, flags: str, names: list[str]) -> None:
    state = fr.state
    for spelled in names:
        name = spelled.split("[", 1)[0]
        if "i" in flags:
            state.integers.add(name)
            state.assign(name, None, safe=True)  # its value is a number
            continue
        if "n" in flags and name in state.namerefs:
            continue  # set by _declared_value
        if "n" in flags and keyword not in ("unset", "export", "readonly"):
            state.namerefs[name] = None  # `declare -n r`: its first assignment names the target
            continue
        if keyword in ("unset", "unsetenv") or _TRANSFORMING.intersection(flags):
            state.assign(name, None)
        elif keyword == "export" or "x" in flags:
            state.export(name)


def _search_path(s: Session, name: str, ws: list[Any], fr: Frame) -> str | None:
    """`PATH="$HOME/.local/bin:$PATH"`: a search path ([shell.loader_values] "@search-path")
    extended by directories of plain text, with its old value as an entry of its own, is
    judged entry by entry (the old value stays `$PATH`; `$PWD`, `$(pwd)` are the working
    directory when the line knows it); anything else is unknown (None)."""
    forms = s.spec["loader_values"].get(name)
    if not forms or forms[0] != "@search-path" or len(ws) != 1 or ws[0].static:
        return None
    text: str = ws[0].value
    if len(text) > 1 and text[0] == text[-1] == '"':
        text = text[1:-1]
    home = fr.state.vars.get("HOME")
    if home is None:  # the line did not set HOME: it is this user's
        text = text.replace("${HOME}", s.home).replace("$HOME", s.home)
    own = ("$" + name, "${" + name + "}")
    wd = "pwd" not in fr.source.functions  # `pwd() { …; }` makes $(pwd) anything
    dirs = [
        d if d in own or not wd else (fr.state.working_dir_text(d) or d) for d in text.split(":")
    ]
    if all(d in own or not any(c in d for c in "$`\\'\"*?[{~") for d in dirs):
        return ":".join(dirs)  # `$PWD/node_modules/.bin`: the workspace when the line knows it
    return None


def _working_dir(ws: list[Any], fr: Frame) -> str | None:
    """`P=$(pwd)/lib`: a value that names only the working directory is known where it is."""
    if len(ws) != 1 or "pwd" in fr.source.functions:
        return None
    return fr.state.working_dir_text(ws[0].value)


def assignment(
    s: Session, node: Any, fr: Frame, *, part: Part | None, texts: list[str] | None
) -> tuple[str, str | None]:
    """Analyse NAME=value: substitutions in the value run; returns (name, static value).
    `part` None: a shell assignment, checked here and recorded in the line state; otherwise
    the command's, checked by it."""
    name_node = node.child_by_field_name("name")
    name = fr.text(name_node) if name_node is not None else ""
    if name_node is not None and name_node.type == "subscript":
        sinks.node(s, name_node, fr, None, "the subscript")
        walk.expr(s, name_node, fr)
    value: str | None = ""
    last: list[Any] = []  # the words of the value
    elements: list[str] | None = None  # `a=(w1 w2)` of plain words
    for child in node.children:
        if child == name_node or not child.is_named:
            if child.type == "+=":
                value = None
            continue
        if child.type in WORDS:
            ws = last = walk.words(s, child, fr, braces_=False, home=True, tilde=True)
            static = value is not None and len(ws) == 1 and ws[0].static
            value = ws[0].value if static else _working_dir(ws, fr) if value is not None else None
        elif child.type == "array":
            _quoted_subscripts(s, fr.text(child), fr)
            elements = [] if value is not None and name_node is not None else None
            value = None
            for item in child.children:
                if item.type in WORDS:
                    # Each element is expanded as a word is ($HOME included; `~` is left to
                    # the readers of paths); a glob stands for the names it matches.
                    ws = walk.words(s, item, fr, home=True)
                    plain = all(w.static for w in ws) and not fr.text(item).startswith("[")
                    elements = (
                        [*elements, *(w.value for w in ws)]
                        if plain and elements is not None
                        else None
                    )
                elif item.is_named and item.type != "comment":
                    walk.bad(s, item, fr)
        elif child.type == "subscript":
            value = None
            walk.expr(s, child, fr)
        else:
            walk.bad(s, child, fr)
    if texts is not None:
        texts.append(fr.text(node))
    if part is None:
        base, bracket, key = name.partition("[")
        meant = fr.state.referent(base) if fr.state.namerefs else base
        if not meant:
            s.concern("code-variable", f"{base} is a name reference to a variable unknown here")
        judged = value if value is not None else _search_path(s, meant, last, fr)
        if elements is not None and meant == base and not bracket:
            # `PROMPT_COMMAND=('history -a')` (bash 5.1: each element is a command line run
            # in turn): each element is judged as the value it may be.
            for element in elements or [""]:
                commands.code_variable(s, meant, element, fr, part=None, prog="export")
        else:
            judged_name = meant + bracket + key if meant else name
            commands.code_variable(s, judged_name, judged, fr, part=None, prog="export")
        shell_assignment(s, name, value, fr)
        if elements is not None and not bracket and meant == base:
            fr.state.arrays[base] = elements
        substituted = _substitution_text(node, name_node, fr)
        if value is None and substituted and not bracket and meant == base:
            # `f=$(ls ~/.ssh/* | head -1); cat "$f"`: "$f" is judged as the substitution's
            # own text is where it is written (`cat "$(ls ~/.ssh/*)"`), as a loop's word.
            fr.state.loops[base] = [substituted]
    elif value is None and elements is None:
        # A command's own search path (`PATH=/usr/local/go/bin:$PATH go build`): judged entry
        # by entry as `export PATH=…` is, the old value standing for itself.
        value = _search_path(s, name, last, fr)
    return name, value


def _quoted_subscripts(s: Session, array: str, fr: Frame) -> None:
    """`a=( ['$(cmd)']=1 )`: bash reads an element's subscript to its `]` (blanks included) and
    evaluates it after its own expansion, in which quotes and backslashes do not stop a
    substitution (`[\\`cmd\\`]`, `[$'$(cmd)']` run it too); tree-sitter-bash reads quoted
    text or separate words."""
    at = array.find("[")
    while at >= 0:
        close = array.find("]", at)
        subscript = array[at + 1 : close if close >= 0 else len(array)]
        word_start = at == 0 or array[at - 1] in "( \t\n"
        if word_start and hides_code(subscript) and any(c in subscript for c in "'\\\""):
            what = f"the array subscript {subscript!r}"
            s.concern("eval-sink", reason("eval-sink", what=what))
            return
        at = array.find("[", at + 1)


def _substitution_text(node: Any, name_node: Any, fr: Frame) -> str | None:
    """The source text of a value that is one word holding a command substitution."""
    values = [c for c in node.children if c.is_named and c != name_node]
    if len(values) != 1 or values[0].type not in WORDS:
        return None
    text = fr.text(values[0])
    return text if "$(" in text or "`" in text else None


def shell_assignment(s: Session, name: str, value: str | None, fr: Frame) -> None:
    """NAME=value or NAME[key]=value set in the shell: the line state and its sinks."""
    base, bracket, key = name.partition("[")
    sinks.assigned(s, fr.state.referent(base) or base, value, fr)
    if base in fr.state.integers:
        fr.state.assign(base, None, safe=True)  # evaluated to a number
        return
    key = key.removesuffix("]").strip("'\"")
    if base in ("BASH_CMDS", "BASH_ALIASES"):
        table = fr.state.hashed if base == "BASH_CMDS" else fr.state.aliases
        static_key = bracket and key and "$" not in key and "`" not in key
        table[key if static_key else ""] = value
        what = "defines an alias" if base == "BASH_ALIASES" else "rebinds a command name"
        s.concern("opaque-code", f"{what} ({name}={value})")
    fr.state.assign(base, None if bracket else value)
