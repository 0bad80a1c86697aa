"""Line state: what earlier commands of a line change for later ones, evaluated in order.

Tracked: the working directory (`cd`, `pushd`, `popd`), variables with static values (and
whether they are exported), aliases, and the command hash (`hash -p PATH NAME`). What is not
known is never guessed: a `cd` to a dynamic place makes the directory unknown (None), a
variable set on one path only, or by a builtin that reads input (`read`, `printf -v`...),
becomes unknown, and unknown variables stay run-time placeholders in words.

The walker (walk.py) decides which code shares a state: a subshell, a pipeline element, a
command substitution and a background job get a `copy()` that is thrown away; a conditional
branch or a loop body gets a `copy()` merged back with `merge()`, which forgets whatever the
branch may have changed; a nested `bash -c` string gets a `child()` (a new process: exported
variables and the directory only).

These are bash's own semantics (the builtins are part of bash, not programs), so they are
code here rather than catalogue data.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .lexer import Word

# Builtins that set the variables named by their operands or option values (bash manual,
# "Bash Builtin Commands"): what they assign is input, not text of the line.
_READS_INTO = frozenset({"read", "mapfile", "readarray", "getopts", "select", "wait"})
# Builtins that may change the working directory, or anything at all.
MAY_CHANGE_ANYTHING = frozenset(
    {"cd", "pushd", "popd", "source", ".", "eval", "trap", "builtin", "command", "enable"}
)
# Every builtin that changes what this module tracks, or may (a loop that runs one forgets
# everything: see walk.forget_changes).
CHANGES_STATE = frozenset(
    {
        *_READS_INTO,
        "cd",
        "pushd",
        "popd",
        "source",
        ".",
        "eval",
        "trap",
        "printf",
        "let",
        "unset",
        "declare",
        "typeset",
        "local",
        "export",
        "readonly",
        "hash",
        "alias",
        "unalias",
        "enable",
        "builtin",
        "command",
        "shopt",
        "set",
    }
)


class Var:
    """A variable set in the line: its value, or None when it is not statically known.
    `safe`: an unknown value that certainly holds no code bash could evaluate (a number from
    arithmetic, one of a for loop's static words, the environment's own); see sinks.py."""

    __slots__ = ("exported", "safe", "value")

    def __init__(self, value: str | None, exported: bool, safe: bool = False) -> None:
        self.value = value
        self.exported = exported
        self.safe = safe or (value is not None and not hides_code(value))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Var) and (self.value, self.exported, self.safe) == (
            other.value,
            other.exported,
            other.safe,
        )

    def __hash__(self) -> int:
        return hash((self.value, self.exported, self.safe))


def hides_code(text: str) -> bool:
    """Could bash run a command while evaluating `text` as an arithmetic expression, a
    subscript or a prompt string?"""
    return "$(" in text or "`" in text or "${" in text


class State:
    """The shell state a command sees."""

    __slots__ = (
        "aliases",
        "arrays",
        "cwd",
        "defaults",
        "dirs",
        "hashed",
        "integers",
        "keyword",
        "loops",
        "namerefs",
        "oldpwd",
        "operands",
        "positional",
        "vars",
    )

    def __init__(self, cwd: str | None) -> None:
        self.cwd = cwd
        self.oldpwd: str | None = None
        self.dirs: list[str | None] = []  # the pushd stack, top first (without cwd)
        self.vars: dict[str, Var] = {}
        self.aliases: dict[str, str | None] = {}
        self.hashed: dict[str, str | None] = {}
        self.integers: set[str] = set()  # declare -i: assignments are arithmetic
        # Variables of unknown value that cannot start with `-` (a for loop over words that
        # each start with a literal other than `-`): never an option (options.may_be_option).
        self.operands: set[str] = set()
        # A for loop's variable over plain words: the words it takes, one per round.
        self.loops: dict[str, list[str]] = {}
        # An array assigned plain words (`a=(ls -la)`): its elements, in order.
        self.arrays: dict[str, list[str]] = {}
        # Name references (`declare -n r=a`): r -> a; None before r is given a name (its first
        # assignment gives it one), "" when the name is not known here (any variable).
        self.namerefs: dict[str, str | None] = {}
        # The positional parameters $0, $1...: the words `bash -c CODE ARG0 ARGS` or a call of
        # a function the line defined gives them; None when not known here (the line's own).
        self.positional: list[Word] | None = None
        # `set -k` may be on (bash(1) The Set Builtin): every NAME=VALUE word of a command is
        # then an assignment in its environment, not only those before the command name.
        self.keyword = False
        # `${K:=WORD}` assigned K (bash(1) Parameter Expansion) when K was unset or null: until
        # K changes, `$K` reads `${K:-WORD}` (its source text, for a value known at run time).
        self.defaults: dict[str, str] = {}

    def copy(self) -> State:
        new = State(self.cwd)
        new.oldpwd = self.oldpwd
        new.dirs = list(self.dirs)
        new.vars = dict(self.vars)
        new.aliases = dict(self.aliases)
        new.hashed = dict(self.hashed)
        new.integers = set(self.integers)
        new.operands = set(self.operands)
        new.loops = dict(self.loops)
        new.arrays = dict(self.arrays)
        new.namerefs = dict(self.namerefs)
        new.positional = self.positional
        new.keyword = self.keyword
        new.defaults = dict(self.defaults)
        return new

    def child(self) -> State:
        """The state of a new shell process started here: directory and exported variables."""
        new = State(self.cwd)
        new.vars = {k: v for k, v in self.vars.items() if v.exported}
        new.operands = {n for n in self.operands if n in new.vars}
        return new

    def merge(self, branch: State) -> None:
        """After code that may or may not have run (`branch` is the state had it run): keep
        what both agree on, forget the rest."""
        if branch.cwd != self.cwd:
            self.cwd = None
        if branch.oldpwd != self.oldpwd:
            self.oldpwd = None
        if branch.dirs != self.dirs:
            self.dirs = [None] * max(len(self.dirs), len(branch.dirs))
        for name in set(self.vars) | set(branch.vars):
            mine, theirs = self.vars.get(name), branch.vars.get(name)
            if mine != theirs:
                exported = bool((mine and mine.exported) or (theirs and theirs.exported))
                safe = (mine is None or mine.safe) and (theirs is None or theirs.safe)
                self.vars[name] = Var(None, exported, safe)
        self.integers |= branch.integers
        if branch.positional is not self.positional:
            self.positional = None
        self.keyword = self.keyword or branch.keyword  # may be on: taken as on
        self.defaults = {k: v for k, v in self.defaults.items() if branch.defaults.get(k) == v}
        self.operands &= branch.operands
        self.loops = {k: v for k, v in self.loops.items() if branch.loops.get(k) == v}
        self.arrays = {k: v for k, v in self.arrays.items() if branch.arrays.get(k) == v}
        for name in set(self.namerefs) | set(branch.namerefs):
            if self.namerefs.get(name, "") != branch.namerefs.get(name, ""):
                self.namerefs[name] = ""  # a reference in one branch only: to anything
        # A maybe-alias or maybe-hashed name is taken as one (its text unknown if it differs).
        for table, theirs_table in ((self.aliases, branch.aliases), (self.hashed, branch.hashed)):
            for name, value in theirs_table.items():
                table[name] = value if table.get(name, value) == value else None

    def forget(self) -> None:
        """After code guard cannot see ran in this shell (`source FILE`, a trap): nothing
        set before is known any more."""
        self.cwd = self.oldpwd = None
        self.dirs = [None] * len(self.dirs)
        self.positional = None
        self.keyword = True  # the code may have run `set -k`
        self.forget_vars()

    def forget_vars(self) -> None:
        self.vars = {k: Var(None, v.exported) for k, v in self.vars.items()}
        self.operands = set()
        self.loops = {}
        self.arrays = {}
        self.defaults = {}
        self.vars["HOME"] = Var(None, bool(self.vars.get("HOME") and self.vars["HOME"].exported))

    # -- variables ------------------------------------------------------------------------

    def known(self) -> dict[str, str]:
        """Variables whose value is statically known here."""
        return {k: v.value for k, v in self.vars.items() if v.value is not None}

    def referent(self, name: str) -> str:
        """The variable an assignment to `name` sets, through name references (bash(1)
        PARAMETERS, `declare -n`); "" when that is not known here."""
        for _ in range(8):
            if name not in self.namerefs:
                return name
            target = self.namerefs[name]
            if target is None:
                return name  # no name yet: this assignment gives it one
            if not target:
                return ""
            name = target
        return ""

    def assign(
        self, name: str, value: str | None, export: bool = False, safe: bool = False
    ) -> None:
        if name in self.namerefs:
            target = self.referent(name)
            if self.namerefs[name] is None:  # `declare -n r; r=a`: r now stands for a
                self.namerefs[name] = value if value and value.isidentifier() else ""
                return
            if not target:  # through a reference to a variable not known here: any
                self.forget_vars()
                return
            name = target
        old = self.vars.get(name)
        self.vars[name] = Var(value, export or (old is not None and old.exported), safe)
        self.operands.discard(name)
        self.loops.pop(name, None)
        self.arrays.pop(name, None)
        self.defaults.pop(name, None)

    def export(self, name: str) -> None:
        old = self.vars.get(name)
        self.vars[name] = Var(None, True, True) if old is None else Var(old.value, True, old.safe)

    def exported(self) -> dict[str, str]:
        """Exported variables whose value is known: what a command's environment holds."""
        return {k: v.value for k, v in self.vars.items() if v.exported and v.value is not None}

    # -- working directory -----------------------------------------------------------------

    def resolve_dir(self, target: str | None, home: str | None) -> str | None:
        """Where `cd TARGET` goes from here (None: unknown)."""
        if target is None:
            return None
        if target == "~" or target.startswith("~/"):
            if home is None:
                return None
            target = home + target[1:]
        elif target.startswith("~"):
            expanded = os.path.expanduser(target)
            if expanded == target:
                return None
            target = expanded
        if os.path.isabs(target):
            return os.path.normpath(target)
        cdpath = self.vars.get("CDPATH")
        searched = os.environ.get("CDPATH") if cdpath is None else cdpath.value
        relative = target.split("/", 1)[0] in (".", "..")
        if (searched or cdpath is not None) and not relative:
            return None  # CDPATH may send it elsewhere
        if self.cwd is None:
            return None
        return os.path.normpath(os.path.join(self.cwd, target))

    def working_dir_text(self, text: str) -> str | None:
        """The value of a word that names only the working directory (`$(pwd)`, `` `pwd` ``,
        `$PWD`), with plain text around it (`$(pwd)/lib`); None when it holds anything else or
        the directory is unknown here."""
        pwd = self.vars.get("PWD")
        if self.cwd is None or (pwd is not None and pwd.value != self.cwd):
            return None
        if "pwd" in self.aliases or "pwd" in self.hashed:
            return None
        out = text
        for spelling in ("$(pwd)", "`pwd`", "${PWD}", "$PWD"):
            k = out.find(spelling)
            while k >= 0:
                after = out[k + len(spelling) : k + len(spelling) + 1]
                if spelling == "$PWD" and (after.isalnum() or after == "_"):
                    return None  # another variable ($PWDX)
                out = out[:k] + self.cwd + out[k + len(spelling) :]
                k = out.find(spelling, k + len(self.cwd))
        out = out.replace('"', "")
        if out == text or any(c in out for c in "$`'\\*?[~{"):
            return None
        return out

    def chdir(self, new: str | None) -> None:
        self.oldpwd = self.cwd
        self.cwd = new
        self.assign("OLDPWD", self.oldpwd)
        self.assign("PWD", new)


# -- builtins that change the state ---------------------------------------------------------


def _operands(words: list[Word], value_options: str = "") -> list[Word] | None:
    """The operands after a builtin's options (`-L`, `-P`, `-e`, `-@`); None when an option
    word is dynamic. Options in `value_options` take the next word."""
    out: list[Word] = []
    i, n = 1, len(words)
    while i < n:
        w = words[i]
        if not w.static:
            return None if not out and w.value.startswith("-") else [*out, *words[i:]]
        if w.value == "--":
            return [*out, *words[i + 1 :]]
        if w.value.startswith("-") and len(w.value) > 1 and not out:
            if w.value[-1] in value_options:
                i += 1
            i += 1
            continue
        return [*out, *words[i:]]
    return out


def _home(state: State, home: str) -> str | None:
    """What `cd` and `~` mean by home: $HOME, as the line may have set it."""
    var = state.vars.get("HOME")
    return home if var is None else var.value


def _no_chdir(words: list[Word]) -> bool:
    """`pushd -n`/`popd -n` change only the stack, never the directory."""
    return any(w.static and w.value.startswith("-") and "n" in w.value for w in words[1:])


def cd(state: State, words: list[Word], home: str) -> None:
    args = _operands(words)
    if args is None or len(args) > 1:
        state.chdir(None)
        return
    if not args:
        state.chdir(_home(state, home))
        return
    target = args[0]
    if not target.static:
        state.chdir(None)
    elif target.value == "-":
        oldpwd = state.vars.get("OLDPWD")  # bash goes to $OLDPWD
        state.chdir(state.oldpwd if oldpwd is None else oldpwd.value)
    else:
        state.chdir(state.resolve_dir(target.value, _home(state, home)))


def pushd(state: State, words: list[Word], home: str) -> None:
    args = _operands(words)
    if _no_chdir(words):
        state.dirs = [None] * (len(state.dirs) + 1)
    elif args is None or len(args) > 1:
        state.chdir(None)
    elif not args:
        if state.dirs:  # swap the top two
            top = state.dirs[0]
            state.dirs[0] = state.cwd
            state.chdir(top)
    elif not args[0].static or args[0].value[:1] in "+-":
        state.dirs = [None] * (len(state.dirs) + 1)
        state.chdir(None)
    else:
        state.dirs.insert(0, state.cwd)
        state.chdir(state.resolve_dir(args[0].value, _home(state, home)))


def popd(state: State, words: list[Word]) -> None:
    args = _operands(words)
    if _no_chdir(words):
        state.dirs = [None] * max(len(state.dirs) - 1, 0)
    elif args is None or args:
        state.dirs = [None] * max(len(state.dirs) - 1, 0)
        state.chdir(None)
    elif state.dirs:
        state.chdir(state.dirs.pop(0))


def hash_(state: State, words: list[Word]) -> None:
    """`hash -p PATH NAME`: later `NAME` runs PATH. `hash -r`/`-d` forget entries."""
    values = [w.value if w.static else None for w in words[1:]]
    if "-r" in values:
        state.hashed.clear()  # forget every remembered location
    if "-p" not in values:
        return
    k = values.index("-p")
    path = values[k + 1] if k + 1 < len(values) else None
    names = values[k + 2 :]
    for name in names:
        if name is not None:
            state.hashed[name] = path
    if any(name is None for name in names):
        state.hashed[""] = None  # some name now runs some path


def alias(state: State, words: list[Word]) -> None:
    for w in words[1:]:
        if not w.static:
            state.aliases[""] = None  # some alias with unknown text
            continue
        name, eq, value = w.value.partition("=")
        if eq:
            state.aliases[name] = value


def unalias(state: State, words: list[Word]) -> None:
    for w in words[1:]:
        if w.static and w.value == "-a":
            state.aliases.clear()
        elif w.static:
            state.aliases.pop(w.value, None)


def reads_into(state: State, prog: str, words: list[Word]) -> None:
    """Builtins that assign input to variables: every name they may set becomes unknown."""
    if prog == "unset":
        for w in words[1:]:
            if w.static and not w.value.startswith("-"):
                state.assign(w.value.split("[", 1)[0], None)
        return
    if prog in _READS_INTO:  # `printf -v`: binding.printf_v
        for w in words[1:]:
            if not w.static:
                state.forget_vars()
                return
            name = w.value.split("[", 1)[0]
            if name.isidentifier():
                state.assign(name, None)
        if prog in ("mapfile", "readarray"):
            state.assign("MAPFILE", None)
        if prog == "read":
            state.assign("REPLY", None)
