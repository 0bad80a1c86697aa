"""What one simple command does, as far as the shell analysis goes: make its `Part`, then look
into the code it runs (eval, trap, coproc, functions, interpreters, wrappers), the input it
reads unseen (clients) and the files it writes (writers). Knowledge about programs is the
catalogue's (spec.py); this module only applies it.
"""

from __future__ import annotations

from . import sinks
from . import state as state_
from .lexer import Word, quote
from .model import Part, reason
from .options import options, written_files
from .syntax import RESERVED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .frame import Frame
    from .model import Redirect
    from .session import Session

# POSIX special builtins: in POSIX mode an assignment before one stays set afterwards.
SPECIAL_BUILTINS = frozenset(
    {":", ".", "break", "continue", "eval", "exec", "exit", "export", "readonly", "return"}
    | {"set", "shift", "times", "trap", "unset", "source"}
)
NO_PART = Part([], "", [], [])  # marks "a part will be made": assignment() defers checks


def _loads_code(
    forms: dict[str, list[str]],
    name: str,
    value: str | None,
    cwd: str | None = None,
    home: str | None = None,
) -> bool:
    """Does this loader variable's value load code? Unknown at run time, or a variable whose
    harmless values the catalogue does not describe ([shell.loader_values]): yes. A search
    path may hold its old value, the trusted directories (`~/` ones below the user's home),
    and the working directory or one below it (the workspace, as a relative directory is)."""
    import os.path

    from ..wildcard import match

    globs = forms.get(name)
    if value is None:
        return True
    search = globs is not None and globs[:1] == ["@search-path"]
    if value == "/dev/null" or (value == "" and not search):
        return False  # `BASH_ENV=`, `GIT_CONFIG_GLOBAL=/dev/null`: nothing to load (an empty
        # search path is the working directory: bash(1) PATH)
    if globs is None:
        return True
    if globs[:1] == ["@list"]:  # GOPROXY=https://proxy.golang.org,direct: only the defaults
        parts = value.replace("|", ",").split(",")
        return not all(p.strip().rstrip("/").lower() in globs[1:] for p in parts)
    if search:  # a search path: only trusted directories
        trusted = [
            (home.rstrip("/") + t[1:]) if home and t.startswith("~/") else t
            for t in globs[1:]
            if home or not t.startswith("~/")
        ]
        return not all(
            d in ("$" + name, "${" + name + "}")
            or any(match(t, os.path.normpath(d)) for t in trusted if d.startswith("/"))
            or any(match(t, d) for t in trusted if not d.startswith("/"))
            or _in_workspace(d, cwd)
            for d in value.split(":")
        )
    return any(match(g, value) for g in globs)


def _in_workspace(directory: str, cwd: str | None) -> bool:
    """Is an absolute directory the working directory or below it?"""
    import os.path

    if cwd is None or not directory.startswith("/"):
        return False
    d = os.path.normpath(directory)
    return d == cwd or d.startswith(cwd.rstrip("/") + "/")


def code_variable(
    s: Session, name: str, value: str | None, fr: Frame, *, part: Part | None, prog: str
) -> None:
    """A variable set for `prog` (part) or in the shell (part None) that runs or loads code."""
    from . import walk  # lazily: plain lines never walk a tree

    if name.startswith("GUARD_"):  # self-tamper: a nested guard (a shim) would obey it
        s.concern("guard-variable", f"sets {name} for the commands after it", part)
    if name in s.spec["code_variables"]:
        # Judged by value (issue 8): a static value is analysed as the command line it is, so
        # `GIT_PAGER=less` is `less` and `GIT_PAGER='sh -c …'` is whatever that runs.
        if value is None:
            s.concern("code-variable", f"{name} holds a command line run by {prog}", part)
            s.concern("dynamic-command", f"{name} is set to a dynamic command line", part)
        elif value:
            inner = fr.but(via=[*fr.via, "$" + name], stdin=None, state=fr.state.child())
            walk.line(s, value, inner, fr.depth + 1, owner=part)
    elif name in s.spec["loader_variables"]:
        if not _loads_code(s.spec["loader_values"], name, value, fr.state.cwd, s.home):
            return  # judged by value: `NODE_OPTIONS=--max-old-space-size=4096` loads nothing
        s.concern("code-variable", f"{name} makes {prog} load code from elsewhere", part)
    elif name in s.spec["shell_variables"] and part is None:
        # Set for one command only, these change nothing the line shows (the command's
        # words are expanded before the assignment); set in the shell, every later
        # expansion splits or resolves differently.
        s.concern("code-variable", f"{name} changes how the shell expands later words")


def run(
    s: Session,
    words: list[Word],
    fr: Frame,
    *,
    assignments: list[str],
    env: list[tuple[str, str | None]],
    concerns: list[tuple[str, str]],
    text: str,
    top: bool = False,
    subst: str | None = None,
    redirects: list[Redirect] | None = None,
) -> None:
    """One simple command: make its part, then look into what it runs. `top`: the command
    as written in the line (so a function, alias or hashed path of that name may be what it
    calls, and a builtin changes this shell's state); `subst`: the replace string its words
    are filled in with by a wrapper (`xargs -I R`)."""
    s.budget.tick()
    state = fr.state
    if (state.arrays or state.positional) and any(not w.static for w in words):
        words = binding().expand(words, state) or [Word('""', False)]
    if top and state.keyword and len(words) > 1:
        env_words, env_texts = binding().keyword_env(words)
        env, assignments = [*env, *env_words], [*assignments, *env_texts]
    head = words[0]
    if top and head.static and "/" not in head.value:
        words = _hashed(s, words, fr, concerns)
        head = words[0]
    argv = [w.value for w in words]
    dynamic = tuple(k for k, w in enumerate(words) if not w.static)
    part = Part(argv, text, assignments, list(fr.via), dynamic)
    if dynamic:
        part.optionlike = _optionlike(s, words, dynamic, fr)
        part.choices = _choices(words, dynamic, fr)
    part.redirects = [*fr.redirects, *(redirects or ())]
    part.env = {**state.exported(), **{n: v for n, v in env if v is not None}}
    if any(v is None for _, v in env):
        part.runtime_env = binding().runtime_env(env, assignments)
    for c in concerns:
        s.concern(c[0], c[1], part)
    if not head.static or head.glob:
        s.concern("dynamic-command", f"dynamic command name {head.value}", part)
        s.add_part(part, fr)
        return
    if top and "/" not in argv[0] and argv[0] in fr.state.aliases:
        expand_alias(s, words, fr, part)
    if top and (argv[0] in SPECIAL_BUILTINS or argv[0] in fr.source.functions):
        for name, _ in env:  # POSIX mode (`sh -c`) keeps these assignments in the shell
            fr.state.assign(name, None)
    if top and "/" not in argv[0] and argv[0] in fr.source.functions:
        call_function(s, words, part, fr)
        return
    s.add_part(part, fr)
    prog = argv[0].rsplit("/", 1)[-1] if "/" in argv[0].rstrip("/") else argv[0]
    if argv[0] in RESERVED:
        s.concern(
            "cannot-analyse",
            f"the shell keyword {argv[0]!r} where a command name should be: parsers disagree",
            part,
        )
    for name, value in env:
        code_variable(s, name, value, fr, part=part, prog=prog)
    builtin(s, prog, words, fr, part)
    sinks.builtin(s, prog, words, fr, part)
    catalogued(s, prog, words, fr, part, subst)
    if top or (fr.via and fr.via[-1] in ("command", "builtin")):
        changes(s, prog, words, fr, part)


def _optionlike(
    s: Session, words: list[Word], dynamic: tuple[int, ...], fr: Frame
) -> tuple[int, ...]:
    from .options import may_be_option

    plain, producers = s.spec["plain_variables"], s.spec["plain_producers"]
    functions = fr.source.functions
    return tuple(
        k for k in dynamic if may_be_option(words[k], plain, producers, fr.state, functions)
    )


def _choices(words: list[Word], dynamic: tuple[int, ...], fr: Frame) -> dict[int, list[str]]:
    """The words a dynamic `$NAME` stands for when NAME is a for loop's variable over plain
    words (each round takes one)."""
    out: dict[int, list[str]] = {}
    loops = fr.state.loops
    for k in dynamic:
        name = words[k].value.strip('"').removeprefix("$").removeprefix("{").removesuffix("}")
        if name in loops and words[k].value.strip('"') in ("$" + name, "${" + name + "}"):
            out[k] = loops[name]
    return out


def _hashed(
    s: Session, words: list[Word], fr: Frame, concerns: list[tuple[str, str]]
) -> list[Word]:
    """`hash -p PATH NAME` (or BASH_CMDS[NAME]=PATH) earlier in the line: NAME runs PATH."""
    hashed = fr.state.hashed
    name = words[0].value
    if name in hashed:
        path = hashed[name]
        if path is None:
            concerns.append(("dynamic-command", f"{name} runs a path the line hashed at run time"))
            return words
        return [Word(path, True, words[0].start, words[0].end), *words[1:]]
    if "" in hashed:
        concerns.append(("dynamic-command", f"{name} may run a path the line hashed at run time"))
    return words


def expand_alias(s: Session, words: list[Word], fr: Frame, part: Part) -> None:
    """A name the line defined as an alias: analyse the command the alias makes (bash
    expands aliases only with `shopt -s expand_aliases`, and only on later lines; guard
    assumes it may)."""
    from . import walk  # lazily: plain lines never walk a tree

    value = fr.state.aliases[words[0].value]
    if value is None:
        s.concern("dynamic-command", f"{words[0].value} may be an alias of unknown text", part)
        return
    rest = " ".join(w.value if not w.static else quote(w.value) for w in words[1:])
    inner = fr.but(via=[*fr.via, "alias"])
    walk.line(s, f"{value} {rest}", inner, fr.depth + 1, owner=part, share=True)


def changes(s: Session, prog: str, words: list[Word], fr: Frame, part: Part) -> None:
    """What a builtin run by this shell changes in the line state (state.py)."""
    state = fr.state
    if prog == "cd":
        state_.cd(state, words, s.home)
    elif prog == "pushd":
        state_.pushd(state, words, s.home)
    elif prog == "popd":
        state_.popd(state, words)
    elif prog == "hash":
        if any(w.value == "-p" for w in words):
            s.concern("opaque-code", "hash -p makes a command name run another program", part)
        state_.hash_(state, words)
    elif prog == "alias":
        state_.alias(state, words)
    elif prog == "unalias":
        state_.unalias(state, words)
    elif prog in s.spec["source"] or (prog in s.spec["eval"] and any(not w.static for w in words)):
        state.forget()
    elif prog == "let" and any(c in w.value for w in words[1:] for c in "=+-"):
        state.forget_vars()
    elif prog == "enable":
        enable(s, words, part)
    elif prog == "set":
        binding().set_(state, words)
    elif prog == "shift":
        binding().shift(state, words)
    elif prog == "printf":
        binding().printf_v(state, words, s.home)
    else:
        state_.reads_into(state, prog, words)
        if prog == "read":
            _read_given(state, words, part, fr.stdin)
        elif prog in ("mapfile", "readarray"):
            binding().mapfile(state, prog, words, part, fr.stdin)


def _read_given(state: Any, words: list[Word], part: Part, stdin: str | None) -> None:
    """`read [-r] NAME... <<< WORDS` (or a heredoc) the line shows: bash(1) read splits the
    first line into fields, the last NAME taking the rest; the names hold those words. From a
    pipe, a loop's words `"$NAME"` stand for what the command before it printed
    (effects.feed.LINES); from a file, for names the line does not show: any file."""
    given = [r for r in part.redirects if r.op in ("<<<", "<<", "<<-", "<") and r.fd == 0]
    args = [w.value if w.static else "" for w in words[1:]]
    raw = "-r" in args
    names = [a for a in args if a != "-r"]
    if (given and given[-1].op == "<") or (not given and stdin == "pipe"):
        from ..match import LINES, UNSEEN

        where = (given[-1].path or "a file") if given else "a pipe"
        unseen = f"{UNSEEN}the lines read from {where}"
        options, operands = sinks.split("read", words)
        for w in operands:
            if w.static and w.value.isidentifier():
                state.loops[w.value] = [unseen] if given else [LINES]
        for opt, value in options:  # -a NAME: indexed elements, not a loop's words: any file
            if opt == "a" and value.static and value.value.isidentifier():
                state.arrays[value.value] = [unseen]
        return
    text = given[-1].text if given else None
    if text is None or not names or not all(n.isidentifier() for n in names) or "IFS" in state.vars:
        return
    if "\\" in text and not raw:
        return
    fields = text.split("\n", 1)[0].split(None, len(names) - 1)
    for k, name in enumerate(names):
        state.assign(name, fields[k] if k < len(fields) else "")


def enable(s: Session, words: list[Word], part: Part) -> None:
    """`enable -f FILE NAME` loads a builtin from a shared object: code guard cannot see."""
    values = [w.value for w in words[1:]]
    if any(not w.static for w in words[1:]) or any(v.startswith("-") and "f" in v for v in values):
        s.concern("opaque-code", "enable loads a builtin from a shared object", part)


def call_function(s: Session, words: list[Word], part: Part, fr: Frame) -> None:
    """A call of a function defined in the line: analyse its body (once per call chain) with
    the call's arguments as its positional parameters ($0 stays the shell's) and the
    redirections of its definition (bash(1) FUNCTIONS)."""
    from . import control, redirects  # lazily: plain lines never walk a tree

    name = words[0].value
    body, unconditional, redirections = fr.source.functions[name]
    if not unconditional:
        s.add_part(part, fr)  # the call may reach a program of that name instead
    else:
        for moved in part.concerns:  # no part for the call: keep them for the line
            s.concern(moved.id, moved.reason)
    source = fr.source
    if name in source.calling:  # a function that calls itself: `:(){ :|:& };:` forks forever
        s.concern("recursion", f"function {name} calls itself (it may run without end)")
    if name not in source.calling:
        source.calling.add(name)
        source.called.add(name)
        state = fr.state
        outer = state.positional
        zero = outer[0] if outer else Word("$0", False)
        state.positional = binding().bind(words[1:], zero)

        def run_body(s: Session, body: Any, inner: Frame) -> None:
            redirects.apply(s, body, redirections, inner)

        try:
            if unconditional:
                run_body(s, body, fr)
            else:
                control.branch(s, body, fr, run_body)
        finally:
            source.calling.discard(name)
            state.positional = outer
        control.forget_locals(body, fr)


def builtin(s: Session, prog: str, words: list[Word], fr: Frame, part: Part) -> None:
    """Shell builtins that run code: coproc, eval, source, trap, alias."""
    spec = s.spec
    if prog in spec["coproc"]:
        coproc(s, words, fr, part=part, prog=prog)
    if prog in spec["eval"]:
        eval_(s, words, fr, part=part, prog=prog)
    elif prog in spec["source"]:
        if len(words) > 1:
            s.concern("opaque-code", f"{prog} runs the file {words[1].value} in the shell", part)
    elif prog in spec["trap"]:
        trap(s, words, fr, part, prog)
    elif prog in spec["alias"] and any("=" in w.value for w in words[1:]):
        s.concern("opaque-code", "defines an alias", part)


def catalogued(
    s: Session, prog: str, words: list[Word], fr: Frame, part: Part, subst: str | None
) -> None:
    """What the catalogue says of `prog` as an interpreter, client, writer and wrapper."""
    spec = s.spec
    entry = spec.entry("interpreter", prog)
    if entry is not None:
        interpreter(s, entry, words, part, fr.stdin, prog)
    entry = spec.entry("client", prog)
    if entry is not None and fr.stdin is not None:
        client(s, entry, [w.value for w in words], part, fr.stdin, prog)
    entry = spec.entry("writer", prog)
    if entry is not None:
        writer(s, entry, words, part, fr)
    entry = spec.entry("wrapper", prog)
    if entry is not None:
        from . import wrappers  # lazily: most lines run no wrapper

        wrappers.wrapper(s, entry, words, fr, part=part, prog=prog, subst=subst)


def eval_(s: Session, words: list[Word], fr: Frame, *, part: Part, prog: str) -> None:
    from . import walk  # lazily: plain lines never walk a tree

    args = words[1:]
    if not args:
        return
    s.concern("opaque-code", f"{prog} runs its arguments as shell code", part)
    if any(not w.static for w in args):
        s.concern("dynamic-command", f"{prog} of dynamic text", part)
        return
    text = " ".join(w.value for w in args)
    walk.line(s, text, fr.but(via=[*fr.via, prog]), fr.depth + 1, owner=part)


def coproc(s: Session, words: list[Word], fr: Frame, *, part: Part, prog: str) -> None:
    """`coproc CMD ARGS` runs CMD in the background; `coproc [NAME] { ...; }` runs a
    compound command, which tree-sitter reads as words: analyse what follows the keyword
    as a command and send the line to review."""
    rest = words[1:]
    for k in (0, 1):
        if len(rest) > k and rest[k].static and rest[k].value in RESERVED:
            s.concern("cannot-analyse", f"{prog} with a compound command: parsers disagree", part)
            rest = rest[k + 1 :]
            break
    if rest:
        text = words_text(fr, rest)
        inner = fr.but(via=[*fr.via, prog])
        run(s, rest, inner, assignments=[], env=[], concerns=[], text=text)


def trap(s: Session, words: list[Word], fr: Frame, part: Part, prog: str) -> None:
    """`trap CODE SIGNAL...`: CODE runs later, judged by what it is (a static string is
    analysed as the command line it is); afterwards nothing the line state knew holds."""
    from . import walk  # lazily: plain lines never walk a tree

    args = words[1:]
    if args and args[0].static and args[0].value == "--":
        args = args[1:]
    if not args or (args[0].static and args[0].value in ("-", "", "-p", "-l", "-P")):
        return
    if len(args) == 1 and args[0].static and args[0].value.isdigit():
        return  # `trap 2` resets signal 2
    if not args[0].static:
        s.concern("opaque-code", f"{prog} sets a command to run later", part)
        s.concern("dynamic-command", f"{prog} with a dynamic command", part)
        return
    inner = fr.but(via=[*fr.via, prog], stdin=None).isolated()
    walk.line(s, args[0].value, inner, fr.depth + 1, owner=part)
    fr.state.forget()  # the trap may run before any later command


def words_text(fr: Frame, words: list[Word]) -> str:
    """The source text of some words of a command (their values when not from the source)."""
    if words and all(w.start >= 0 for w in words):
        return fr.source.span(words[0].start, words[-1].end)
    return " ".join(w.value if not w.static else quote(w.value) for w in words)


# -- catalogue: interpreters, clients, writers ------------------------------------------------


class _Interpreter:
    """One interpreter command read against its catalogue entry: does it run inline code,
    or read its program from stdin? `step` reads one word and says how to go on."""

    __slots__ = ("entry", "has_program", "part", "prog", "s", "stdin")

    def __init__(
        self, s: Session, entry: dict[str, Any], part: Part, stdin: str | None, prog: str
    ) -> None:
        self.s, self.entry, self.part, self.stdin, self.prog = s, entry, part, stdin, prog
        self.has_program = False

    def concern(self, reason: str) -> None:
        self.s.concern("opaque-code", reason, self.part)

    def code(self, text: str, how: str, static: bool = True) -> None:
        if self.entry.get("code_language") == "python":
            from ..effects.pyprog import why_not

            if static and why_not(text) is None:
                return  # it computes and prints: no code guard cannot read
            self.concern(f"{self.prog} runs inline code ({how})")
            return
        unsafe = self.entry["unsafe_code"]
        quotes = self.entry.get("string_quotes")
        if quotes:
            text = without_strings(text, quotes)
        if not unsafe or any(u in text for u in unsafe):
            self.concern(f"{self.prog} runs inline code ({how})")

    def program(self, text: str, dynamic: bool = False) -> None:
        """The first operand: the program text (`awk PROG`) or the script file."""
        first = not self.has_program
        self.has_program = True
        if first and self.entry["program_positional"]:
            self.code(text, "dynamic program" if dynamic else "program text", not dynamic)
            if dynamic:
                self.concern(f"{self.prog} runs a dynamic program")
        elif first and dynamic and text.startswith("<("):
            # the script is whatever the substitution prints: `python3 <(curl URL)`
            self.concern(f"{self.prog} runs the output of {text}")

    def step(self, words: list[Word], i: int) -> int:
        """Read words[i]; the index to go on from, or _DONE / _STOP (no final check)."""
        w = words[i]
        a = w.value
        entry = self.entry
        if not w.static:
            self.program(a, dynamic=True)
            return _DONE
        if a == "--":
            if i + 1 < len(words):
                self.program(words[i + 1].value)
            return _DONE
        if a == entry["stdin_script"] or (not a.startswith("-") and self.s.paths.is_stdin(a)):
            self.concern(f"{self.prog} reads its program from {self.stdin or 'stdin'}")
            return _STOP
        if a.startswith("-") and len(a) > 1:
            return self.option(words, i)
        if entry["code_subcommands"] and not self.has_program:
            if a in entry["code_subcommands"]:
                self.concern(f"{self.prog} {a} runs inline code")
            return _STOP
        self.program(a)
        return _DONE

    def option(self, words: list[Word], i: int) -> int:
        parsed = options(self.entry, words, i, lenient=True)
        if parsed is None:
            return i + 1  # unknown options of interpreters are taken as flags
        events, i = parsed
        for opt, kind, value in events:
            if kind == "code":
                self.has_program = True
                if value is None:
                    self.code("", opt, static=False)
                else:
                    self.code(value.value, opt, value.static)
            elif kind in ("end", "info"):
                return _STOP
            elif opt in self.entry["program_file_options"]:
                self.has_program = True
        return i


_DONE, _STOP = -1, -2


def without_strings(text: str, quotes: list[str]) -> str:
    """Program text with the contents of its string literals (quoted by one of `quotes`,
    backslash escapes, on one line) left out: a word inside a string is data, not code.
    Text with a `/` is kept whole: a regex literal (`/"/`) and a division read alike without
    a full parser, and misreading one would let a quote inside it hide real code."""
    if "/" in text:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        j = i + 1
        if ch in quotes:
            while j < n and text[j] not in (ch, "\n"):
                j += 2 if text[j] == "\\" else 1
        if ch not in quotes or j >= n or text[j] != ch:
            out.append(ch)  # not a string, or one that never ends on its line
            i += 1
            continue
        out.append(ch + ch)
        i = j + 1
    return "".join(out)


def interpreter(
    s: Session,
    entry: dict[str, Any],
    words: list[Word],
    part: Part,
    stdin: str | None,
    prog: str,
) -> None:
    """Does this interpreter run inline code, or read its program from stdin?"""
    reader = _Interpreter(s, entry, part, stdin, prog)
    i = 1
    while 0 < i < len(words):
        i = reader.step(words, i)
    if i != _STOP and not reader.has_program and entry["stdin_without_script"]:
        reader.concern(f"{prog} without a script reads its program from {stdin or 'stdin'}")


def client(
    s: Session, entry: dict[str, Any], argv: list[str], part: Part, stdin: str, prog: str
) -> None:
    """A client (psql, redis-cli) reading commands from a pipe or file the reviewer can't see."""
    if entry["stdin_args"]:
        hit = False
        for seq in entry["stdin_args"]:
            k = len(seq)
            if any(tuple(argv[j : j + k]) == tuple(seq) for j in range(1, len(argv) - k + 1)):
                hit = True
                break
        if not hit:
            return
    s.concern("hidden-input", f"{prog} reads input from {stdin} the reviewer cannot see", part)


def writer(s: Session, entry: dict[str, Any], words: list[Word], part: Part, fr: Frame) -> None:
    """The files a writer (tee, sed -i, curl -o) writes: sensitive or dynamic ones are
    concerns."""
    for f in written_files(entry, words):
        if not f.static:
            s.concern("dynamic-redirect", reason("dynamic-redirect", path=f.value), part)
            continue
        matched = s.paths.hit(f.value, fr.state.cwd)
        if matched:
            why = reason("sensitive-write", path=f.value, pattern=matched)
            s.concern("sensitive-write", why, part)


def binding() -> Any:
    """shell/binding.py, loaded on first use: most lines bind nothing at run time, and a plain
    line's analysis does without it (wrappers.py calls it too)."""
    from . import binding as module

    return module
