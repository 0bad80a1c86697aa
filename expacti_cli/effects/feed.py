"""What flows between the commands of a line besides files: printed words and downloads.

A command's output is known when its words say it: `echo`/`printf` print their operands, `find`
prints the paths below its starting points that its `-name` tests admit (as path globs,
`~/.ssh/**/id_*`), and a filter fed by a pipe passes on (part of) what it was given. A wrapper
that fills in words (`xargs` from its input, `find -exec … {}` with each path found) hands them
to the command it runs, whose `{}` words then stand for them: `echo ~/.ssh/id_rsa | xargs cat`
reads the key. A listing command prints the names below its operands (grammar `lists`: `ls`,
`grep -l`, `git ls-files`). Words read from a file the line does not show (`xargs cat < list`,
`xargs -a list`), or printed by a command whose output guard does not know, are unseen: any
path at all. A download printed to a pipe (`curl URL | tar x`) is
fetched data: what an unpacking command makes of it is code from the network if it runs later.
"""

from __future__ import annotations

import os

from ..match import LINES, UNSEEN  # a pipe's line for `read`; a word the line does not show

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..grammar.scan import Word

FILL = "{}"  # how a filled word reads in a command a wrapper runs (shell.wrappers.fill)
_MAX_WORDS = 32
# find(1) options before the starting points, and those of them that take a value.
_FIND_LEADING = ("-H", "-L", "-P", "-D", "-O")
_FIND_NAME_TESTS = ("-name", "-iname")


def found(argv: list[str]) -> list[str]:
    """The paths find finds, as globs: each starting point (when a name test could admit it)
    and START/**/NAME for each `-name` / `-iname` not negated (`*` when there is none).
    Starting points read from a file (`-files0-from FILE`) are unseen."""
    if "-files0-from" in argv[1:-1]:
        return unseen(argv[argv.index("-files0-from", 1) + 1])
    i = 1
    while i < len(argv) and argv[i].startswith(_FIND_LEADING):
        i += 2 if argv[i] == "-D" else 1
    starts: list[str] = []
    while i < len(argv) and argv[i][:1] not in ("-", "(", "!", ")", ","):
        starts.append(argv[i].replace('"', "") if argv[i][:1] == '"' else argv[i])
        i += 1
    names = [
        argv[k + 1]
        for k in range(i, len(argv) - 1)
        if argv[k] in _FIND_NAME_TESTS and argv[k - 1] not in ("!", "-not")
    ]
    names = names or ["*"]
    out: list[str] = []
    for start in starts or ["."]:
        out.append(start)
        out.extend(f"{start.rstrip('/') or '/'}/**/{name}" for name in names)
    return out[:_MAX_WORDS]


def names(c: Any) -> list[str] | None:
    """The paths a listing command prints (grammar `lists`), as globs: each operand of the
    listed role and everything below it (`ls ~/.ssh` -> ~/.ssh, ~/.ssh/**; `grep -rl K src`
    -> src, src/**), the working directory when it names none; None if it lists nothing."""
    inv = c.inv
    spec = inv.spec if inv is not None and inv.spec else (c.view or {})
    role = spec.get("lists")
    if inv is None or not role:
        return None
    needs = spec.get("lists_with") or ()
    if needs and not inv.has(*needs):
        return None
    roots = [w.value for w in inv.words if w.role == role and w.option is None]
    out: list[str] = []
    for root in roots or ["."]:
        out += [root, f"{root.rstrip('/') or '/'}/**"]
    return out[:_MAX_WORDS]


def printed(words: list[Word]) -> list[str]:
    """The words an `echo`/`printf` prints, split where xargs splits them."""
    out: list[str] = []
    for w in words:
        if w.role == "printed":
            out.extend(w.value.split())
    return out[:_MAX_WORDS]


def fill(words: list[Word], feed: list[str]) -> list[Word]:
    """The command's words with each `{}` standing for the words fed to it (same role)."""
    from ..grammar.scan import Word

    out: list[Word] = []
    for w in words:
        if FILL not in w.value:
            out.append(w)
            continue
        for value in feed:
            filled = value if value.startswith(UNSEEN) else w.value.replace(FILL, value)
            out.append(Word(w.role, filled, w.index, w.option))
    return out


def each(words: list[Word], choices: dict[int, list[str]]) -> list[Word]:
    """The words with each one a loop variable stands for in its place (same role)."""
    from ..grammar.scan import Word

    out: list[Word] = []
    for w in words:
        values = choices.get(w.index) if w.option is None else None
        if values is None or w.index == 0:
            out.append(w)
        else:
            out.extend(Word(w.role, v, w.index, w.option) for v in values)
    return out


def read_lines(choices: dict[int, list[str]], line: Any) -> dict[int, list[str]]:
    """A loop's words (`choices`) with each variable `read` took from a pipe standing for the
    names the command before it printed (`find ~/.ssh | while read f`: ~/.ssh/**), or any
    file when that command's output is not known."""
    if not any(LINES in values for values in choices.values()):
        return choices
    given = line.lines if line.lines is not None else unseen("the lines read from a pipe")
    return {
        k: [x for v in values for x in (given if v == LINES else [v])]
        for k, values in choices.items()
    }


def substituted(
    argv: list[str], choices: dict[int, list[str]] | None, printed: dict[str, list[str]]
) -> dict[int, list[str]] | None:
    """The words (or a loop's words) holding a command substitution, each standing for the
    names it prints: `cat "$(find ~/.ssh -type f)"` reads ~/.ssh/**. A substitution whose
    output is not known may print any name (`$(echo … | tr …)`), unless a name follows it."""
    out = dict(choices or {})
    for i, arg in enumerate(argv[1:], 1):
        values = out.get(i, [arg])
        new: list[str] = []
        for value in values:
            # `$(…)` and `…` become words; a `<(…)` operand is a file holding the output
            key = next((k for k in printed if k in value and k[0] != "<"), None)
            if key is None:
                new.append(value)
                continue
            bare = value[1:-1] if len(value) > 1 and value[0] == value[-1] == '"' else value
            names = printed[key]
            if names and is_unseen(names[0]):
                # As written too: what the text shows still counts (`npm install "$(curl
                # URL)"`); `$(…)/README.md` is a name known, in a directory unknown.
                new += [value, *names] if bare.endswith(key) else [value]
                continue
            new.extend(bare.replace(key, name) for name in names)
        if new != values:
            out[i] = new[:_MAX_WORDS]
    return out or None


def _filters(c: Any) -> bool:
    """Does this command print only whole lines of its input (grammar `filters`)? Any other
    (`sed`, `tr`, `rev`, an interpreter) may print names its input does not hold."""
    view, inv = c.view, c.inv
    if view is None or not view.get("filters"):
        return False
    unless = view.get("filters_unless") or ()
    return not (unless and inv is not None and inv.has(*unless))


def unseen(source: str) -> list[str]:
    return [UNSEEN + source]


def is_unseen(value: str) -> bool:
    return value.startswith(UNSEEN)


def unseen_source(value: str) -> str:
    return value[len(UNSEEN) :]


def unpacks(view: dict[str, Any], argv: list[str], options: list[tuple[Any, ...]]) -> bool:
    """Does this call unpack an archive into files ([X] unpacks: options, or globs of a first
    word that is not an option, tar's traditional `xzf`)?"""
    from ..wildcard import match

    spec = view.get("unpacks") or ()
    if "*" in spec:
        return True  # every call that does anything unpacks (unzip, patch)
    names = {o for o, _, _ in options}
    if any(u in names for u in spec if u.startswith("-")):
        return True
    first = argv[1] if len(argv) > 1 else ""
    return (
        bool(first)
        and not first.startswith("-")
        and any(match(u, first) for u in spec if not u.startswith("-"))
    )


def extraction_dir(cwd: str | None, into: list[str], home: str) -> str | None:
    """Where an unpacking command writes: its `into` directory, else the working directory."""
    from ..shell.paths import resolve

    if into:
        return resolve(into[-1], cwd, home)
    return cwd


def below(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def split_dir(path: str) -> tuple[str, str]:
    return os.path.dirname(path), os.path.basename(path)


# -- the line state between commands (called by resolve) -----------------------------------


def unpacked(c: Any, stdin: str | None) -> None:
    """An archive unpacked from a download (`curl URL | tar x`, `tar xf` of a file fetched
    earlier in the line): every file it writes below its directory is fetched code. From any
    other archive or patch, the files it writes there have names the line does not show: what
    runs from there later in the line is code of unknown safety (`unzip -o x.zip && make`)."""
    view, inv, line = c.view, c.inv, c.ctx.line
    if view is None or inv is None or not unpacks(view, c.argv, inv.options):
        return
    fetched = stdin == "pipe" and line.fetched_pipe is not None
    for w in inv.words:
        if fetched:
            break
        if w.role in ("read", "write") and w.option in (None, "-f", "--file"):
            path = c.path(w.value)
            fetched = bool(path) and line.origin(path) == "fetched"
    into = [w.value for w in inv.words if w.role == "into"]
    directory = extraction_dir(c.cwd, into, c.ctx.home)
    if directory and fetched:
        line.made[directory] = "fetched"
    elif directory and not line.origin(directory):
        line.made[directory] = "unpacked"


def carry(c: Any, stdin: str | None, redirects: Any) -> None:
    """What the next command sees of this one: the words a filling wrapper hands to the
    command it runs (`feed`), what this one prints (`output`), a download it prints."""
    view, inv, line = c.view, c.inv, c.ctx.line
    fills = view.get("fills") if view else None
    prior = line.output if stdin == "pipe" else None
    if fills == "found":
        line.feed = found(c.argv)
    elif fills == "input":
        files = [w.value for w in inv.words if w.role == "read"] if inv else []
        files += [r.path for r in redirects if r.op == "<" and r.path]
        given = [r for r in redirects if r.op in ("<<", "<<-", "<<<")]
        made = [r.source for r in redirects if r.op == "<" and r.path is None and r.source]
        if made:  # `xargs cat < <(printf … ~/.ssh/id_rsa)`: the names it prints, else any
            printed_names = line.printed.get(made[-1])
            line.feed = printed_names if printed_names is not None else unseen(made[-1])
        elif files:
            line.feed = unseen(files[-1])
        elif given:  # `xargs cat <<< FILE`: the words the line shows, or any
            text = given[-1].text
            line.feed = text.split()[:_MAX_WORDS] if text is not None else unseen("a here-document")
        elif stdin == "pipe" and prior is None:  # `ls ~/.ssh/* | xargs cat`: names the
            line.feed = unseen("the output of the command before it")  # line does not show
        else:
            line.feed = prior
    if stdin == "pipe" and view is not None and view.get("stdin_lines"):
        line.lines = prior if prior is not None else unseen("the lines read from a pipe")
    if fills == "found":
        line.output = line.feed
    elif (listed := names(c)) is not None:
        line.output = listed
    elif inv is not None and any(w.role == "printed" for w in inv.words):
        line.output = printed(inv.words)
    elif stdin == "pipe" and not c.reads and not fills and _filters(c):
        line.output = prior  # a filter passes on part of what it was given
    else:
        line.output = None
    spec = inv.spec if inv is not None and inv.spec else {}
    downloads = view is not None and "fetch" in (spec.get("effect"), view["effect"])
    if downloads and not c.writes:
        line.fetched_pipe = " ".join(c.argv[:3])
    elif stdin != "pipe":
        line.fetched_pipe = None


def carried(c: Any) -> None:
    """`mv SRC... DEST` (or a copy) of a secret: what is at DEST is that secret, so reading
    it later in the line is a secret read however it is named (`mv ~/.netrc n.txt`)."""
    inv, line = c.inv, c.ctx.line
    ops = [w for w in inv.words if w.option is None and w.role in ("read", "write")] if inv else []
    if len(ops) < 2 or ops[-1].role != "write":
        return
    secrets = [w.value for w in ops[:-1] if c.hit("secret", w.value)]
    dest = c.path(ops[-1].value) if secrets else None
    if not dest:
        return
    if os.path.isdir(dest) or ops[-1].value.endswith("/"):
        for src in secrets:
            line.made[os.path.join(dest, os.path.basename(src.rstrip("/")))] = "secret"
    else:
        line.made[dest] = "secret"
