"""One simple command + its program's grammar + the line's state -> typed effects.

`resolve(part, ctx)` reads the words with `grammar.scan`, turns every role into what it does
(a path read or written, a command line run, data sent, a remote change) and classifies it with
`effects.paths`. `Line` carries what earlier commands of the same line did: files written or
fetched, and symbolic links made, so a write through a link made in the line is a write to its
target and a file written in the line and then run is code of unknown safety.
"""

from __future__ import annotations

import os

from ..wildcard import match as wildcard_match
from . import feed  # every command's line state goes through it (feed.carry)
from .model import Effect

# Loaded when a command needs them (DESIGN.md, Speed: `guard -- true` resolves no word): the
# grammar scanner, path resolution, and the modules of the roles (words, values, sql).

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from ..grammar.scan import Invocation, Word
    from .paths import PathClasses
    from .roles import Command


class Line:
    """What earlier commands of the line did to the file system."""

    __slots__ = (
        "feed",
        "fetched_pipe",
        "lines",
        "links",
        "made",
        "output",
        "piped",
        "printed",
        "reader",
        "remotes",
    )

    def __init__(self) -> None:
        # Words flowing between commands (effects.feed): what the last command printed, what a
        # filling wrapper hands to the command it runs, a download printed to the pipe.
        self.output: list[str] | None = None
        self.feed: list[str] | None = None
        self.lines: list[str] | None = None  # what `read` took from a pipe (a loop's names)
        self.printed: dict[str, list[str]] = {}  # `$(ls ~/.ssh)` -> the names it prints
        self.reader: Any = None  # the part reading this one's output through a pipe
        self.fetched_pipe: str | None = None
        # What the command feeding the current pipeline read: ("secret" | "data", what).
        self.piped: list[tuple[str, str]] = []
        self.made: dict[str, str] = {}  # absolute path -> "written" | "fetched"
        self.links: dict[str, str] = {}  # link path -> its target
        self.remotes: dict[str, str] = {}  # a remote's name given in the line -> its URL

    def aliases(self, path: str) -> list[str]:
        """`path` and what it really is through links made in the line."""
        out = [path]
        for link, target in self.links.items():
            if path == link or path.startswith(link + "/"):
                out.append(os.path.normpath(target + path[len(link) :]))
        return out

    def origin(self, path: str) -> str | None:
        """How `path` (or a directory above it) came to be in this line, if it did."""
        for alias in self.aliases(path):
            p = alias
            while p.strip("/"):  # "//" (kept by normpath) is its own dirname, like "/"
                how = self.made.get(p)
                if how:
                    return how
                p = os.path.dirname(p)
        return None


class Context:
    """What resolving needs besides the command: the grammars, path classes, line state.
    The path classes are made when a command first judges a path (`true`, `git status` judge
    none, and never unpack the catalogue's path lists)."""

    __slots__ = ("_classes", "_make_classes", "grammar", "home", "line")

    def __init__(self, grammar: Any, classes: Callable[[], PathClasses], line: Line) -> None:
        self.grammar = grammar  # name -> grammar view (policy.grammars)
        self._make_classes = classes
        self._classes: PathClasses | None = None
        self.line = line
        self.home = os.path.expanduser("~")

    @property
    def classes(self) -> PathClasses:
        if self._classes is None:
            self._classes = self._make_classes()
        return self._classes

    def new_command(self, path: str) -> bool:
        """A new program name right in a directory of programs on PATH (shell.paths)."""
        from ..shell.paths import new_command

        dirs = self.classes.shell.get("command_dirs", ())
        return new_command(path, dirs, self.home, lambda name: self.view(name) is not None)

    def view(self, name: str) -> dict[str, Any] | None:
        view: dict[str, Any] | None = self.grammar.get(name)
        if view is None:
            for pattern, entry in self.grammar.globs():
                if wildcard_match(pattern, name):
                    return self.grammar.get(entry)  # type: ignore[no-any-return]
        return view


class _Command:
    """Resolving one command: its words, working directory, and the effects found so far."""

    __slots__ = ("argv", "ctx", "cwd", "effects", "inv", "reads", "view", "writes")

    def __init__(self, argv: list[str], cwd: str | None, ctx: Context) -> None:
        self.argv = argv
        self.cwd = cwd
        self.ctx = ctx
        self.effects: list[Effect] = []
        self.writes: list[str] = []
        self.reads: list[tuple[str, str]] = []  # what this command reads: (kind, what)
        self.view: dict[str, Any] | None = None
        self.inv: Invocation | None = None

    def add(self, kind: str, what: str, protected: str | None, anchor: tuple[str, ...]) -> None:
        self.effects.append(Effect(kind, what, protected, anchor))

    def path(self, word: str) -> str | None:
        from ..shell.paths import resolve as resolve_path

        word, cwd = self.locate(word)
        return resolve_path(word, cwd, self.ctx.home)

    def locate(self, word: str) -> tuple[str, str | None]:
        """A word as a path, and the directory it is relative to. A word known only at run
        time keeps its source text (`"$HOME/.ssh/id_rsa"`): $HOME is this user's home, and a
        path under any other variable is relative to an unknown directory (it hits every
        pattern it could be the end of)."""
        if len(word) > 1 and word[0] == word[-1] and word[0] in "\"'":
            word = word[1:-1]
        if not word.startswith("$"):
            return word, self.cwd
        default = _default_word(word)
        if default is not None:  # `${K:-WORD}`: K unknown here, so the path WORD may be
            return self.locate(default)
        for var in ("${HOME}", "$HOME"):
            if word == var or word.startswith(var + "/"):
                return self.ctx.home + word[len(var) :], self.cwd
        head, _, rest = word.partition("/")
        return (rest or head), None

    def hit(self, cls: str, word: str) -> str | None:
        path, cwd = self.locate(word)
        return self.ctx.classes.hit(cls, path, cwd)

    def read(self, w: Word) -> None:
        from . import words
        from .values import remote_secret

        if feed.is_unseen(w.value):  # `xargs cat < LIST`: names the line does not show
            source = feed.unseen_source(w.value)
            self.add("read", f"reads the files named in {source}, unseen", "secret", ())
            return
        hit = self.hit("secret", w.value) or remote_secret(self, w.value)
        path = self.path(w.value)
        if not hit and path:  # through a link made earlier in the line
            for alias in self.ctx.line.aliases(path)[1:]:
                hit = self.ctx.classes.hit("secret", alias, None)
                if hit:
                    break
        if not hit and path and self.ctx.line.origin(path) == "secret":
            hit = "a secret moved or copied there earlier in the line"
        if not hit and path and words.has_glob(w.value):  # `cat ~/.ssh/*` reads what it matches
            hit = self.ctx.classes.glob_hits("secret", path)
        if not hit and self.recursive():
            where, cwd = self.locate(w.value)
            hit = self.ctx.classes.holds_secrets(where, cwd)
        if hit:
            self.add("read", f"reads {w.value} ({hit})", "secret", (w.value,))
        self.reads.append(("secret" if hit else "data", w.value))

    def recursive(self) -> bool:
        """Does this command read directories recursively (`grep -r`, `rg`, `tar`)?"""
        shell = self.ctx.classes.shell
        name = os.path.basename(self.argv[0]) if self.argv else ""
        if name in shell.get("recursive_readers", ()):
            return True
        if self.inv is not None and self.inv.spec and self.inv.spec.get("recursive"):
            return True  # `git grep`
        flags = set(shell.get("recursive_flags", ()))
        for word in self.argv[1:]:
            if word == "--":
                break
            if word in flags or (
                word[:1] == "-" and word[1:2] != "-" and any("-" + c in flags for c in word[1:])
            ):
                return True
        return False

    def wrote(self, word: str, how: str, anchor: tuple[str, ...]) -> None:
        path = self.path(word)
        for p in self.ctx.line.aliases(path) if path else [word]:
            hit = self.ctx.classes.written(p, self.cwd)
            if hit and not (hit[0] == "persistence" and self.ctx.new_command(p)):
                cls, pattern = hit
                self.add("write", f"writes {p} ({pattern})", cls, anchor)
                break
        if path:
            self.writes.append(path)
            self.ctx.line.made[path] = how

    def runs(self, w: Word) -> None:
        if w.value.lstrip("\"'").startswith("data:"):  # `node --import 'data:text/javascript,…'`
            self.add(
                "run", f"runs code written inline in a data: URL ({w.option})", "unknown-code", ()
            )
            return
        if w.role == "runs" and _remote_module(w.value):  # `deno run https://…`, `npm:pkg`
            what = f"runs {w.value}, fetched from the network"
            self.add("run", what, "network-code", (w.value,))
            return
        hit = self.hit("secret", w.value) if w.role in ("program-file", "runs") else None
        if hit:  # `bash ~/.ssh/id_rsa`, `awk -f KEY`: each line comes back in an error message
            self.add(
                "read", f"runs {w.value} as a program, printing its lines ({hit})", "secret", ()
            )
        path = self.path(w.value)
        how = self.ctx.line.origin(path) if path else None
        if how == "fetched":
            self.add("run", f"runs {w.value}, downloaded earlier in the line", "network-code", ())
        elif how:
            self.add("run", f"runs {w.value}, written earlier in the line", "unknown-code", ())
        elif w.option is not None or w.role == "config":  # not an interpreter's main script
            from . import loaded

            loaded.from_drop_zone(self, w, path)

    def key_role(self, option: str | None, key: str) -> str | None:
        """The role a `keyval` option's KEY gives its VALUE ([X.keys.OPTION])."""
        for glob, role in (self.view or {}).get("keys", {}).get(option or "operands", {}).items():
            if wildcard_match(glob, key.lower()):
                return str(role)
        return None


# Module specifiers a runtime fetches before it runs them (Deno "Modules": https:, npm:, jsr:).
_REMOTE_MODULE = ("http://", "https://", "npm:", "jsr:")


def _remote_module(value: str) -> bool:
    return value.strip("\"'").lower().startswith(_REMOTE_MODULE)


def _runs_string(view: dict[str, Any], argv: list[str]) -> bool:
    """Does this call run a command string of its own (`sh -c STRING`, `bash -lc STRING`)?"""
    options = view.get("options") or {}
    for a in argv[1:]:
        if a == "--" or a[:1] != "-":
            return False
        if options.get(a) == "script-flag" or (
            a[1:2] != "-" and any(options.get("-" + ch) == "script-flag" for ch in a[1:])
        ):
            return True
    return False


def _default_word(word: str) -> str | None:
    """WORD of a whole-word `${NAME:-WORD}`, `${NAME-WORD}`, `${NAME:=WORD}`, `${NAME=WORD}`."""
    if not word.startswith("${") or not word.endswith("}"):
        return None
    k = 2
    while k < len(word) and (word[k].isalnum() or word[k] == "_"):
        k += 1
    op = word[k : k + 2] if word[k : k + 1] == ":" else word[k : k + 1]
    if k == 2 or op not in (":-", "-", ":=", "="):
        return None
    inner = word[k + len(op) : -1]
    return inner if inner and "}" not in inner else None


def resolve(
    argv: list[str],
    ctx: Context,
    *,
    cwd: str | None,
    redirects: list[Any] = (),  # type: ignore[assignment]
    env: dict[str, str] | None = None,
    stdin: str | None = None,
    choices: dict[int, list[str]] | None = None,
) -> list[Effect]:
    """The effects of one simple command; records its writes in the line state. `choices`:
    the words a dynamic argv word stands for (a for loop's variable)."""
    name = os.path.basename(argv[0]) if argv else ""
    view = ctx.view(name) if name else None
    roles: Command | None = None  # the role handlers: only a program with a grammar needs them
    if view is not None or env:
        from .roles import Command

        roles = Command(argv, cwd, ctx)
    c = roles or _Command(argv, cwd, ctx)
    if choices:  # `P | while read f; do cat "$f"; done`: f is a name P printed
        choices = feed.read_lines(choices, ctx.line)
    if ctx.line.printed:  # `cat $(find ~/.ssh -type f)`: the names find prints
        choices = feed.substituted(argv, choices, ctx.line.printed)
    fed, ctx.line.feed = ctx.line.feed, None  # `{}` of a command xargs or find -exec runs
    if fed and view is not None and _runs_string(view, argv):
        ctx.line.feed = fed  # `sh -c 'cat "$1"' _ {}`: the string's commands get the words
    stdin_file: list[tuple[str, str]] = []  # `< FILE`: what the command reads on stdin
    for r in redirects:
        if r.path is None:
            if r.source is not None and r.op == "<":  # `< "$F"`, `< <(printf … KEY)`
                _dynamic_input(c, r.source, stdin_file)
            elif r.source is not None:  # `<<< "$TOKEN"`: what it gives is known at run time
                _given(c, r.source, stdin_file)
            continue
        if r.writes:
            c.wrote(r.path, "written", ())
        elif r.op == "<":
            hit = ctx.classes.hit("secret", r.path, cwd)
            if hit:
                c.add("read", f"reads {r.path} ({hit})", "secret", ())
            stdin_file.append(("secret" if hit else "data", r.path))
    if argv and "/" in argv[0]:
        from ..grammar.scan import Word

        c.runs(Word("runs", argv[0], 0, None))
    c.view = view
    if roles is not None and view is not None:
        from .roles import by_grammar

        if not by_grammar(roles, fed, choices, stdin, env):
            return c.effects  # a dry run or a check: what it reads is all it does
    else:
        _unknown(c, fed, choices)
    if roles is not None and env:
        from . import environ

        environ.judge(roles, env)
    if roles is not None and stdin_file and _sends_stdin(roles):
        saved, ctx.line.piped = ctx.line.piped, stdin_file
        roles.sends_stdin()
        ctx.line.piped = saved
    _kept_secret(c, redirects)
    _pipeline(c, roles, stdin)
    feed.carry(c, stdin, redirects)
    return c.effects


def _dynamic_input(c: _Command, source: str, stdin_file: list[tuple[str, str]]) -> None:
    """`< WORD` of a file known only at run time: the file it may be (`/proc/$PPID/environ`).
    `< <(LIST)` gives what LIST prints, judged where LIST runs (xargs takes it as names:
    feed.carry)."""
    hit = None if source.startswith("<(") else c.hit("secret", source)
    if hit:
        c.add("read", f"reads {source} ({hit})", "secret", ())
    stdin_file.append(("secret" if hit else "data", source))


def _given(c: _Command, source: str, stdin_file: list[tuple[str, str]]) -> None:
    """A here-string or heredoc that expands a credential variable (`cat <<< "$TOKEN"`)
    gives the command that secret on its stdin, as `< FILE` of a secret file would."""
    from . import words

    for name in words.printed_variables(source):
        if c.ctx.classes.secret_variable(name):
            c.add("read", f"is given ${name} on standard input", "secret", ())
            stdin_file.append(("secret", "$" + name))
            return


def _kept_secret(c: _Command, redirects: list[Any]) -> None:
    """Secrets read with standard output sent only into files that are secrets themselves
    (`cat a.key a.crt > a.pem`, `echo "K=$API_KEY" >> .env`) are shown to no one: the copy is
    as protected as what it was made from (a later read of it is a secret read)."""
    outs = [r.path for r in redirects if r.writes and r.fd == 1]
    if not outs or any(p is None or not c.ctx.classes.hit("secret", p, None) for p in outs):
        return
    c.effects = [e for e in c.effects if not (e.kind == "read" and e.protected == "secret")]


def _sends_stdin(c: _Command) -> bool:
    """Does what this command reads on stdin go to a host (its program's or its subcommand's
    `sends_stdin`: ssh, nc, `openssl s_client`)?"""
    spec = c.inv.spec if c.inv is not None else None
    return bool((spec and spec.get("sends_stdin")) or (c.view and c.view.get("sends_stdin")))


def _pipeline(c: _Command, roles: Command | None, stdin: str | None) -> None:
    """Carry what this command read to the next command of its pipeline."""
    if stdin == "pipe" and roles is not None and _sends_stdin(roles):
        roles.sends_stdin()
    if stdin == "pipe":
        c.ctx.line.piped = c.ctx.line.piped + c.reads  # a filter passes its input on
    else:
        c.ctx.line.piped = list(c.reads)


def no_effect(argv: list[str], ctx: Context) -> bool:
    """Does the grammar say this call changes and runs nothing (a dry run, a syntax check)?"""
    view = ctx.view(os.path.basename(argv[0])) if argv else None
    if view is None:
        return False
    from ..grammar.scan import scan

    return scan(argv, view).no_effect(view)


def _unknown(c: _Command, fed: list[str] | None, choices: dict[int, list[str]] | None) -> None:
    """A program without a grammar: its operands may be files it reads (`cat`, `less`); one
    that names a secret is taken for a secret read."""
    if len(c.argv) > 1:  # `true` has no word to read
        from ..grammar.scan import Word

    operands = []
    for i, arg in enumerate(c.argv[1:], 1):
        if arg.startswith("-") and "=" in arg:
            operands.append(Word("read", arg.split("=", 1)[1], i, None))
        elif not arg.startswith("-"):
            operands.append(Word("read", arg, i, None))
    operands = feed.fill(operands, fed) if fed else operands
    for w in feed.each(operands, choices) if choices else operands:
        c.read(w)
