"""Wrappers: programs that run another command (`sudo`, `env`, `xargs`, `timeout`, `sh -c`,
`ssh HOST CMD`, `find -exec`). Their catalogue entry says how the command is found in their
words; this module reads the words in four steps:

1. `scan`: the wrapper's own options and positionals, up to where its command starts;
2. one runner per `run` kind: `argv` (the rest is a command), `shell` (a script or `-c`
   string), `remote`/`joined` (the rest joined into one shell line), `embedded` (`find -exec`);
3. `shell_string`: a shell line given as a string, analysed recursively;
4. `no_command`: what the wrapper reads when no command is given (`sudo -s`, `bash`).
"""

from __future__ import annotations

from . import commands
from .envsplit import split as split_env_string
from .lexer import Word, is_assignment
from .options import options, subcommand
from .state import Var

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .frame import Frame
    from .model import Part
    from .session import Session


class Scan:
    """The wrapper's words read so far: where its command starts (`i`) and what its options
    said (run kind, shell strings, assignments, stdin/script flags, replace token)."""

    __slots__ = (
        "assigns",
        "ended",
        "env",
        "i",
        "positionals",
        "replace",
        "run",
        "script_flag",
        "stdin",
        "stdin_flag",
        "strings",
        "words",
    )

    def __init__(self, entry: dict[str, Any], words: list[Word], i: int, stdin: str | None) -> None:
        self.words = words
        self.stdin = stdin  # the wrapper's own
        self.i = i
        self.run: str = entry["run"]
        self.positionals: list[Word] = []
        self.strings: list[Word] = []
        self.assigns: list[str] = []
        self.env: list[tuple[str, str | None]] = []
        self.script_flag = False
        self.stdin_flag = False
        self.replace: str | None = None
        self.ended = False


def wrapper(
    s: Session,
    entry: dict[str, Any],
    words: list[Word],
    fr: Frame,
    *,
    part: Part,
    prog: str,
    subst: str | None,
) -> None:
    """Find and analyse the command a wrapper runs."""
    i = 1
    if entry["subcommands"]:
        i = subcommand(entry, words)
        if i < 0:
            return
    inner = fr.but(via=[*fr.via, prog], stdin=None if entry["consumes_stdin"] else fr.stdin)
    if entry["run"] == "embedded":
        embedded(s, entry, words, inner)
        return
    scan = Scan(entry, words, i, fr.stdin)
    if not _scan(s, entry, scan, part, prog):
        return
    rest = _rest(entry, scan)
    if scan.strings:
        for string in scan.strings:
            shell_string(s, string, inner, part=part, prog=prog, subst=subst or scan.replace)
        return
    runner = _RUNNERS[scan.run]
    if runner(s, entry, scan, rest, inner, part, prog, subst):
        return
    no_command(s, entry, scan, part, prog)


def _scan(s: Session, entry: dict[str, Any], scan: Scan, part: Part, prog: str) -> bool:
    """Read options, assignments and positionals up to the wrapper's command; False when
    nothing more is to be found (nothing runs, or a concern says why it cannot be)."""
    while scan.i < len(scan.words):
        w = scan.words[scan.i]
        if _option_allowed(entry, scan) and _looks_like_option(entry, w):
            if w.value == "--":
                scan.ended = True
                scan.i += 1
                continue
            if not _option(s, entry, scan, part, prog):
                return False
            continue
        if not w.static and w.split and len(scan.positionals) < entry["positionals"]:
            s.concern(
                "dynamic-command", f"{prog}: dynamic argument {w.value} may be several words", part
            )
            return False
        if _assignment(entry, scan, w):
            continue
        if len(scan.positionals) < entry["positionals"]:
            scan.positionals.append(w)
            scan.i += 1
            continue
        break
    return True


def _option_allowed(entry: dict[str, Any], scan: Scan) -> bool:
    return not scan.ended and (not scan.positionals or entry["options_after_positionals"])


def _looks_like_option(entry: dict[str, Any], w: Word) -> bool:
    a = w.value
    return w.static and (
        (a.startswith("-") and len(a) > 1)
        or (entry["plus_options"] and a.startswith("+") and len(a) > 1)
        or a in entry["options"]
    )


def _assignment(entry: dict[str, Any], scan: Scan, w: Word) -> bool:
    """`env NAME=value CMD`: take an assignment before the command."""
    a = w.value
    if not (entry["assignments"] and not scan.positionals and not scan.ended):
        return False
    if not w.static and w.split:
        return False  # `A=$X` unquoted: word splitting may make a command of it
    if not is_assignment(a):
        return False
    # A dynamic word that is one word (`HOME="$HOME"`) with a literal NAME= is an assignment
    # whatever its value (env(1): NAME=VALUE); the value is known only at run time.
    scan.assigns.append(a)
    var, _, var_value = a.partition("=")
    scan.env.append((var.removesuffix("+"), var_value if w.static else None))
    scan.i += 1
    return True


_UNSET = ("-u", "--unset")
_TAKES_VALUE = frozenset({"value", "split", "string", "code", "end", "replace"})


def _option(s: Session, entry: dict[str, Any], scan: Scan, part: Part, prog: str) -> bool:
    """Read the option word at scan.i and apply what its options mean; False to stop."""
    a = scan.words[scan.i].value
    parsed = options(entry, scan.words, scan.i)
    if parsed is None:
        s.concern(
            "wrapper-option",
            f"{prog}: option {a} is not in the catalogue, so where its command starts is unknown",
            part,
        )
        return False
    events, scan.i = parsed
    for opt, kind, value in events:
        if opt in _UNSET and value is not None and value.value.startswith("GUARD_"):
            # env(1) -u/--unset NAME: a nested guard (a shim) would run without that setting.
            s.concern("guard-variable", f"{prog} {opt} {value.value}: unsets guard's setting", part)
        if kind in _TAKES_VALUE:
            if value is None:
                return False  # missing argument: the wrapper fails, nothing runs
            if not value.static and value.split:
                s.concern(
                    "dynamic-command", f"{prog}: dynamic argument {value.value} of {opt}", part
                )
                return False
        if not _event(s, scan, opt, kind, value, part, prog):
            return False
    return True


def _event(
    s: Session, scan: Scan, opt: str, kind: str, value: Word | None, part: Part, prog: str
) -> bool:
    """Apply one option of kind `kind` (shellspec.OPTION_KEYS); False to stop."""
    if kind == "stop":
        return False
    if kind == "stdin":
        scan.stdin_flag = True
    elif kind == "script":
        scan.script_flag = True
    elif kind == "string" and value is not None:
        scan.strings.append(value)
    elif kind == "argv":
        scan.run = "argv"
    elif kind == "replace" and value is not None:
        scan.replace = value.value
    elif kind == "attached_replace":
        scan.replace = value.value if value is not None and value.value else "{}"
    elif kind == "split" and value is not None:
        return _split(s, scan, opt, value, part, prog)
    return True


def _split(s: Session, scan: Scan, opt: str, value: Word, part: Part, prog: str) -> bool:
    """`env -S STRING`: the string's words are inserted where the option stood."""
    if not value.static:
        s.concern("dynamic-command", f"{prog} {opt} of a dynamic string", part)
        return False
    split = split_env_string(value.value)
    if split is None:
        s.concern("cannot-analyse", f"{prog} {opt}: cannot split {value.value!r}")
        return False
    i = scan.i
    scan.words = [*scan.words[:i], *(Word(w, True) for w in split), *scan.words[i:]]
    return True


def _rest(entry: dict[str, Any], scan: Scan) -> list[Word]:
    """The words of the wrapper's command (up to a terminator for `joined` wrappers)."""
    rest = scan.words[scan.i :]
    if scan.run == "joined" and entry["terminators"]:
        for k, w in enumerate(rest):
            if w.static and w.value in entry["terminators"]:
                return rest[:k]
    return rest


# -- runners: True when the command was found and analysed -----------------------------------


def _run_argv(
    s: Session,
    entry: dict[str, Any],
    scan: Scan,
    rest: list[Word],
    inner: Frame,
    part: Part,
    prog: str,
    subst: str | None,
) -> bool:
    if not rest:
        return False
    rest = _as_script(entry, rest)
    text = commands.words_text(inner, rest)
    replace = scan.replace
    if entry["fills"]:
        rest, replace = fill(rest, replace)
    given = [] if _clears_env(entry, scan) else _given_env(part)
    commands.run(
        s,
        rest,
        inner,
        assignments=scan.assigns,
        env=[*given, *scan.env],
        concerns=[],
        text=text,
        subst=replace,
    )
    return True


def _given_env(part: Part) -> list[tuple[str, str | None]]:
    """The variables set for the wrapper (`RAILS_ENV=production timeout 600 rails …`): they
    are in its environment, which the command it starts inherits (None: known at run time)."""
    return [*part.env.items(), *((name, None) for name in getattr(part, "runtime_env", ()))]


def _clears_env(entry: dict[str, Any], scan: Scan) -> bool:
    """Does the wrapper start its command without the caller's variables (`env -i`, sudo's
    env_reset unless -E)? Judged by the options before the command (`--opt=value` too)."""
    given = {w.value.split("=", 1)[0] for w in scan.words[1 : scan.i]}
    clears = entry["clears_env"]
    if "always" not in clears and not given & set(clears):
        return False
    return not given & set(entry["keeps_env"])


def _run_shell(
    s: Session,
    entry: dict[str, Any],
    scan: Scan,
    rest: list[Word],
    inner: Frame,
    part: Part,
    prog: str,
    subst: str | None,
) -> bool:
    if scan.script_flag:
        if rest:
            replace = subst or scan.replace
            keyword = commands.binding().keyword_option(scan.words[1 : scan.i])
            shell_string(
                s,
                rest[0],
                inner,
                part=part,
                prog=prog,
                subst=replace,
                args=rest[1:],
                keyword=keyword,
            )
        else:
            s.concern(
                "opaque-code",
                f"{prog} -c without a command string: its code comes from arguments "
                "added at run time",
                part,
            )
        return True
    if scan.stdin_flag or not rest:
        return False
    stdin = scan.stdin
    if entry["positionals"]:
        s.concern("wrapper-option", f"{prog}: arguments passed on to a shell", part)
    elif not rest[0].static:
        s.concern("opaque-code", f"{prog} runs a script from {rest[0].value}", part)
    elif s.paths.is_stdin(rest[0].value):
        s.concern(
            "opaque-code",
            f"{prog} reads the commands it runs from {stdin or 'stdin'} ({rest[0].value})",
            part,
        )
    return True


def _run_joined(
    s: Session,
    entry: dict[str, Any],
    scan: Scan,
    rest: list[Word],
    inner: Frame,
    part: Part,
    prog: str,
    subst: str | None,
) -> bool:
    """`ssh HOST CMD ARGS`, `su -c`-like joins: the rest is one shell line."""
    if not rest:
        return False
    if any(not w.static for w in rest):
        s.concern("dynamic-command", f"{prog} runs a dynamic command line", part)
        return True
    joined = Word(" ".join(w.value for w in rest), True)
    shell_string(s, joined, inner, part=part, prog=prog, subst=subst or scan.replace)
    return True


def _as_script(entry: dict[str, Any], rest: list[Word]) -> list[Word]:
    """`uv run x.py ARGS`: a command word that is a script ([X.wrapper] scripts, GLOB=PROGRAM)
    runs as `PROGRAM x.py ARGS`."""
    specs = entry.get("scripts")
    if not specs or not rest[0].static:
        return rest
    from ..wildcard import match as wildcard_match

    head = rest[0]
    for spec in specs:
        glob, _, program = spec.partition("=")
        if wildcard_match(glob, head.value.rsplit("/", 1)[-1]):
            return [Word(program, True), *rest]
    return rest


_RUNNERS = {"argv": _run_argv, "shell": _run_shell, "remote": _run_joined, "joined": _run_joined}


def no_command(s: Session, entry: dict[str, Any], scan: Scan, part: Part, prog: str) -> None:
    """No command in the words: does the wrapper read one from its input?"""
    stdin = scan.stdin
    if scan.stdin_flag or entry["no_command"] == "reads-stdin":
        s.concern("opaque-code", f"{prog} reads the commands it runs from {stdin or 'stdin'}", part)
    elif entry["no_command"] == "reads-redirected-stdin" and stdin is not None:
        s.concern("opaque-code", f"{prog} reads the commands it runs from {stdin}", part)


def shell_string(
    s: Session,
    word: Word,
    fr: Frame,
    *,
    part: Part,
    prog: str,
    subst: str | None,
    args: list[Word] | None = None,
    keyword: bool = False,
) -> None:
    """A shell line a wrapper runs (`sh -c STRING`): analysed as a line of its own, in a new
    shell process: the environment the wrapper's command is given, and for `-c STRING ARGS`
    the positional parameters ARGS from $0 (bash(1) OPTIONS, -c); `keyword`: started with
    `-k` (set -k)."""
    if not word.static:
        s.concern("dynamic-command", f"{prog} runs a dynamic command line {word.value}", part)
        return
    if subst and subst in word.value:
        via = fr.via
        s.concern(
            "substituted-code",
            f"{prog} runs shell code that {via[-2] if len(via) > 1 else prog} fills in "
            f"from its input ({subst})",
            part,
        )
    from . import walk  # lazily: plain lines never walk a tree

    state = fr.state.child()
    for name, value in part.env.items():
        state.vars[name] = Var(value, True)
    for name in part.runtime_env:  # assigned a run-time value: unknown in the new shell
        state.vars[name] = Var(None, True)
    state.keyword = keyword
    if args is not None:  # `bash -c CODE` alone: $0 is the shell's name
        given = commands.binding().bind(args, Word(prog, True))
        state.positional = (given[1:] or given) if given else None
    walk.line(s, word.value, fr.but(state=state), fr.depth + 1, owner=part)


def embedded(s: Session, entry: dict[str, Any], words: list[Word], fr: Frame) -> None:
    """`find ... -exec CMD ARGS ;`: each embedded command, up to its terminator."""
    i, n = 1, len(words)
    while i < n:
        w = words[i]
        i += 1
        if not (w.static and w.value in entry["embedded_options"]):
            continue
        start = i
        while i < n and not _ends_embedded(entry, words, i, start):
            i += 1
        cmd = words[start:i]
        i += 1
        if cmd:
            text = commands.words_text(fr, cmd)
            commands.run(
                s, cmd, fr, assignments=[], env=[], concerns=[], text=text, subst=entry["replace"]
            )


def _ends_embedded(entry: dict[str, Any], words: list[Word], i: int, start: int) -> bool:
    t = words[i]
    return (
        t.static
        and t.value in entry["embedded_terminators"]
        and (t.value != "+" or (i > start and words[i - 1].value == entry["replace"]))
    )


def fill(words: list[Word], replace: str | None) -> tuple[list[Word], str | None]:
    """The command a wrapper completes with words from its input (xargs), as rules see it:
    each such word is `{}` (find's notation): the replace string normalised to it, or one
    dynamic `{}` word appended."""
    if replace is None:
        return [*words, Word("{}", False, split=True)], None
    if replace == "{}":
        return words, replace
    out = []
    for w in words:
        if w.static and replace in w.value:
            filled = Word(w.value.replace(replace, "{}"), True, w.start, w.end)
            filled.glob = w.glob
            out.append(filled)
        else:
            out.append(w)
    return out, "{}"
