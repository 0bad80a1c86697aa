"""Roles of values whose meaning is in their own text, each from its program's documentation:
a KEY VALUE operand pair (the key says what the value is), a git `REV:PATH`, a path on another
host or in a container (`host:REL`, `container:/ABS`), a sed script's file commands, variables
that hold a program's options, package sources that are no URL, and database files.

Each handler takes the command being resolved (`effects.roles.Command`) and the `Word`, and
hands the paths and command lines it finds back to the command's ordinary roles.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..grammar.scan import Word
    from .resolve import _Command as _Base
    from .roles import Command as _Command


def _as(role: str, value: str, like: Word) -> Word:
    from ..grammar.scan import Word

    return Word(role, value, like.index, like.option)


# -- KEY VALUE operands (git config KEY VALUE, tmux set-environment NAME VALUE) ---------------


def key(c: _Command, w: Word) -> None:
    """A KEY operand whose VALUE is the next operand: the subcommand's `keys` table (an
    option's KEY=VALUE table, or "environment") says what VALUE is."""
    inv = c.inv
    if inv is None:
        return
    if _a_value(inv.words, w):
        return  # `npm config set KEY VALUE ...`: this word is the previous KEY's VALUE
    later = [x for x in inv.words if x.option is None and x.index > w.index]
    if "=" in w.value.strip("=") and w.value[:1] != "-":
        # `npm config set KEY=VALUE` (npm-config(1)), `az config set K=V`: one word
        name, _, rest = w.value.partition("=")
        w, later = _as(w.role, name, w), [_as("value", rest, w)]
    table = (inv.spec or {}).get("keys") or "operands"
    if not later:  # `git config --get KEY`: a read; `npm config set KEY`: set all the same
        if table != "environment" and c.key_role(table, w.value) == "setting":
            c.role(_as("setting", "", w))
        return
    value = min(later, key=lambda x: x.index)
    if table == "environment":
        assignment(c, _as("assignment", f"{w.value}={value.value}", value))
        return
    role = c.key_role(table, w.value)
    if role:
        c.role(_as(role, value.value, value))


def _a_value(words: list[Word], w: Word) -> bool:
    """Among repeated `key` operands (KEY VALUE or KEY=VALUE, in order), is `w` a VALUE?"""
    keys = [x for x in words if x.role == w.role and x.option is None]
    i = 0
    while i < len(keys) and keys[i] is not w:
        i += 1 if "=" in keys[i].value.strip("=") else 2
    return i >= len(keys)


def assignment(c: _Command, w: Word) -> None:
    """NAME=VALUE set for the programs this one starts later (tmux set-environment, -e), judged
    with the shell's own tables: a variable that makes every program load code (LD_PRELOAD,
    BASH_ENV) as `export NAME=VALUE`; one naming a command a program runs when it needs one
    (EDITOR, PAGER) as a program named by a value (a program by name is what it is)."""
    from ..shell.lexer import quote

    name, eq, value = w.value.partition("=")
    if not eq or not name.isidentifier():
        return
    shell = c.ctx.classes.shell
    if name in shell.get("loader_variables", ()) or name.startswith("GUARD_"):
        c.add("command", f"export {name}={quote(value)}", None, ())
    elif name in shell.get("code_variables", ()):
        c.program(_as("program", value, w))


def command_argv(c: _Command, w: Word) -> None:
    """The operands from here are a command and its arguments that the program runs (git
    bisect run CMD ARGS...): judged once, as that command line."""
    from ..shell.lexer import quote

    inv = c.inv
    words = [x for x in (inv.words if inv else ()) if x.role == w.role and x.option is None]
    if words and words[0] is w:
        c.add("command", " ".join(quote(x.value) for x in words), None, ())


def command_words(c: _Command, w: Word) -> None:
    """The operands from here are joined with spaces into one shell command line, unquoted
    (npm-explore(1): "If a command is specified, then it is run in the subshell"; npm joins
    the words after `--`): `npm explore p -- echo 'a; rm -rf ~'` runs `rm -rf ~`."""
    inv = c.inv
    words = [x for x in (inv.words if inv else ()) if x.role == w.role and x.option is None]
    if words and words[0] is w:
        c.add("command", " ".join(x.value for x in words), None, ())


# tmux(1) KEY BINDINGS: keys named rather than typed; the ones that end a line submit it.
_ENTER = frozenset({"Enter", "C-m", "KPEnter", "C-j", "^M", "^J"})
_NAMED = frozenset(
    {
        *("Up", "Down", "Left", "Right", "BSpace", "BTab", "DC", "End", "Escape", "Home", "IC"),
        *("NPage", "PageDown", "PgDn", "PPage", "PageUp", "PgUp", "Tab"),
    }
)


def keys(c: _Command, w: Word) -> None:
    """tmux send-keys KEY...: each line typed into the pane (up to a key that ends it) is run
    by the shell there, judged as that command line. Copy-mode commands (-X) are no keys;
    hex keys (-H) are text nobody can read here."""
    inv = c.inv
    words = [x for x in (inv.words if inv else ()) if x.role == w.role and x.option is None]
    if not words or words[0] is not w or (inv is not None and inv.has("-X")):
        return
    if inv is not None and inv.has("-H"):
        c.add("run", "types keys given in hexadecimal into a shell", "unknown-code", ())
        return
    literal = inv is not None and inv.has("-l")
    line, lines = "", []
    for x in words:
        if not literal and x.value in _ENTER:
            lines.append(line)
            line = ""
        elif not literal and x.value == "Space":
            line += " "
        elif literal or not (x.value in _NAMED or x.value[:2] in ("C-", "M-", "S-")):
            line += x.value
    for text in [*lines, line]:
        if text.strip():
            c.add("command", text, None, ())


# -- options held in a variable (LESS, MAKEFLAGS, TAR_OPTIONS) -------------------------------


def options(c: _Command, w: Word) -> None:
    """A variable that holds the program's own options (less(1) LESS, make MAKEFLAGS, tar
    TAR_OPTIONS, zip ZIPOPT): it is judged as the program called with them."""
    import shlex

    from ..shell.lexer import quote

    try:
        words = shlex.split(w.value)
    except ValueError:
        words = w.value.split()
    if words:
        name = os.path.basename(c.argv[0])
        inv = c.inv  # a variable's words go after the subcommand (terraform(1): TF_CLI_ARGS
        # "inserted directly after the subcommand"): `terraform init -plugin-dir=DIR`
        variable = w.option is not None and not w.option.startswith("-")
        sub = [c.argv[i] for i in inv.command_at] if inv is not None and variable else []
        c.add("command", " ".join(quote(x) for x in (name, *sub, *words)), None, ())


# -- what a repository will send (git add, commit -m, tag -m; remote.pushDefault) -------------


def staged(c: _Command, w: Word) -> None:
    """What goes into the repository's next commit or tag: a secret path added (`git add -f
    .env`), or a secret variable expanded into a message or the author's name. The line state
    remembers it (the repository's `.git` holds a secret); a later push sends it."""
    from .words import variables

    secret = any(c.ctx.classes.secret_variable(n) for n in variables(w.value))
    if not secret and w.option is None:
        secret = bool(c.hit("secret", w.value))
    if secret and c.cwd:
        c.ctx.line.made[os.path.join(c.cwd, ".git")] = "secret"


def pushes_secret(c: _Command) -> bool:
    """Does the repository this command works in (or one above or below it) hold a secret
    staged earlier in the line?"""
    if c.cwd is None:
        return False
    here = c.cwd.rstrip("/") + "/"
    for path, how in c.ctx.line.made.items():
        if how == "secret" and path.endswith("/.git"):
            repo = path[:-4]
            if here.startswith(repo) or repo.startswith(here):
                return True
    return False


def default_remote(c: _Command, w: Word) -> None:
    """git-config(1) remote.pushDefault (branch.<name>.pushRemote, .remote): the remote a push
    that names none goes to, found later in the line (`git remote add NAME URL`)."""
    from .words import unquote

    c.ctx.line.remotes[" default"] = unquote(w.value).strip("'")


# -- where a connection really goes (curl --connect-to, --resolve) ---------------------------


def routed(w: Word) -> list[str]:
    """The hosts a route sends connections to: curl(1) `--connect-to HOST1:PORT1:HOST2:PORT2`
    ("requests to HOST1:PORT1 go to HOST2:PORT2 instead"; an empty HOST2 keeps the host) and
    `--resolve [+]HOST:PORT:ADDR[,ADDR]...` (a leading `-` removes an entry)."""
    from .words import unquote

    value = unquote(w.value).strip("'")
    fields, depth, field = [], 0, ""
    for ch in value:  # `[v6]` addresses hold colons
        depth += (ch == "[") - (ch == "]")
        if ch == ":" and depth == 0:
            fields.append(field)
            field = ""
        else:
            field += ch
    fields.append(field)
    if value.startswith("-") or len(fields) < 3:
        return []
    hosts = [fields[2]] if w.option == "--connect-to" else ":".join(fields[2:]).split(",")
    return [h.strip("[]") for h in hosts if h.strip("[]")]


def alias(c: _Command, w: Word) -> None:
    """git-config(1) alias.*: "If the alias expansion is prefixed with an exclamation point, it
    will be treated as a shell command"; otherwise it is the program's own arguments: judged as
    `git VALUE` (`alias.st status` is `git status`, `alias.up 'push --force'` a force push)."""
    from .words import unquote

    value = unquote(w.value).strip()
    if value.startswith("!"):
        c.add("command", value[1:], None, ())
    elif value:
        options(c, _as("options", value, w))


def saved_alias(c: _Command, w: Word) -> None:
    """An alias saved for later calls (gh-alias-set(1) `gh alias set NAME EXPANSION`): an
    expansion starting with `!` is a shell command every later `gh NAME` runs (persistence,
    and judged as that command); any other is gh's own arguments, judged as `gh EXPANSION`."""
    from .words import unquote

    if unquote(w.value).strip().startswith("!"):
        setting(c, w)
    alias(c, w)


# -- paths inside other values ----------------------------------------------------------------


def split_keyval(text: str) -> tuple[str, str] | None:
    """KEY=VALUE, or `Key Value` (ssh_config(5): "Key Value" or "Key=Value"), as (key, value)."""
    key, eq, value = text.partition("=")
    if " " in key.strip() or "\t" in key.strip() or (not eq and text.strip()):
        head = text.strip().split(None, 1)
        if len(head) != 2:
            return None
        return head[0], head[1].lstrip("= \t")
    return (key, value) if eq else None


def remote_path(value: str, home: str) -> str | None:
    """`[user@]host:PATH` (scp, rsync) or `container:PATH` (docker cp, kubectl cp) as the path
    it names over there: a relative PATH is below the remote user's home (taken as this
    user's, so home-relative classes apply), `~/` too. Not a URL, an option or a local path."""
    head, colon, path = value.partition(":")
    if not colon or not head or "/" in head or head.startswith("-") or path.startswith("//"):
        return None
    if path.startswith("/"):
        return path
    path = path.removeprefix("~/") if path != "~" else ""
    return os.path.join(home, path) if path else home


def remote_secret(c: _Base, value: str) -> str | None:
    """The secret pattern a `host:PATH` or `container:PATH` word names over there (a directory
    copied whole: one below it), or None."""
    from .words import unquote

    there = remote_path(unquote(value), c.ctx.home)
    if not there:
        return None
    hit = c.ctx.classes.hit("secret", there, None)
    if not hit and (c.recursive() or value.rstrip("'\"").endswith("/")):
        hit = c.ctx.classes.holds_secrets(there, None)
    return hit


def revpath(c: _Command, w: Word) -> None:
    """A git object name `REV:PATH` (`HEAD:.env`, `stash@{0}:x`, `:0:x`), or a pathspec: the
    command prints PATH's content, so PATH is read with the class of its name (under the
    subcommand's `prints_with` options only, when it has them: `git log -p -- .env`)."""
    inv = c.inv
    shows = (inv.spec or {}).get("prints_with") if inv else None
    if shows and inv is not None and not inv.has(*shows):
        return
    rev, colon, path = w.value.partition(":")
    if not colon:
        if not _history_secret(c, w):
            c.read(w)
        return
    if not rev and path[:1].isdigit() and path[1:2] == ":":
        path = path[2:]  # `:STAGE:PATH`, the index
    if path and not path.startswith("/"):
        c.read(_as("read", path, w))


def _history_secret(c: _Command, w: Word) -> bool:
    """A pathspec glob names files of the repository's history, not of the disk (gitglossary(7)
    pathspec: `*` matches across `/`, at any depth): `git log -p --all -- '*.pem'` prints every
    version of every file the glob names, so it is judged as a search below the working tree
    for the secrets it could name (`id_*`, `*.pem` for `**/*key*.pem`; not `*.py`)."""
    from .words import has_glob, unquote

    value = unquote(w.value).strip("'")
    if value.startswith(":("):  # magic (`:(glob)**/.env`) says only where matching starts
        value = value.split(")", 1)[-1]
    if not has_glob(value) or not c.cwd or value.startswith(("/", ":")):
        return False
    head, _, name = value.removeprefix("./").rpartition("/")
    where = os.path.join(c.cwd, head, "**", name) if head else os.path.join(c.cwd, "**", name)
    # git's `*` matches a leading dot too (no FNM_PERIOD): `*.env` names .env, `*rc` .bashrc
    base, name = os.path.split(where)
    empty = os.path.join(base, name[1:]) if name[:2] == "*." else where  # `*` as nothing
    dotted = (empty, os.path.join(base, "." + name)) if name[:1] == "*" else ()
    for glob in dict.fromkeys((where, *dotted)):
        hit = c.ctx.classes.glob_hits("secret", glob)
        if hit:
            c.add("read", f"prints the history of {w.value} ({hit})", "secret", (w.value,))
            return True
    return False


def sed_script(c: _Command, w: Word) -> None:
    """A sed script (GNU sed manual, 3.8 Commands): `r`/`R FILE` read FILE into the output,
    `w`/`W FILE` and the `w FILE` flag of `s` write it. An operand given when -e/-f name the
    script is a file the command reads."""
    inv = c.inv
    if w.option is None and inv is not None and inv.has("-e", "--expression", "-f", "--file"):
        edits = inv.has(*(c.view or {}).get("in_place", ()))
        c.role(_as("write" if edits else "read", w.value, w))  # `sed -i -e S FILE` edits FILE
        return
    from .words import unquote

    for role, path in sed_files(unquote(w.value)):
        c.role(_as(role, path, w))


def sed_files(script: str) -> list[tuple[str, str]]:
    """[(read|write, FILE)] of a sed script's file commands."""
    out: list[tuple[str, str]] = []
    for line in script.split("\n"):
        i = 0
        while i < len(line):
            i = _sed_address(line, i)
            if i >= len(line):
                break
            cmd = line[i]
            if cmd in "rRwW":
                name = line[i + 1 :].strip()
                if name:
                    out.append(("read" if cmd in "rR" else "write", name))
                break
            if cmd in "aic":
                break  # text to the end of the line
            if cmd in "sy" and i + 1 < len(line):
                i, flags_at = _sed_substitute(line, i + 1, 3 if cmd == "s" else 2)
                flags = line[flags_at:]
                k = flags.find("w")
                if cmd == "s" and k >= 0 and not flags[:k].strip("gpiImMe0123456789"):
                    if flags[k + 1 :].strip():
                        out.append(("write", flags[k + 1 :].strip()))
                    break
            if cmd in ":btT":
                i = _next(line, i)
                continue
            i += 1
    return out


def _sed_address(line: str, i: int) -> int:
    """Skip separators and an address (`1`, `$`, `/re/`, `\\cREc`, `a,b`, `a~b`, `!`)."""
    while i < len(line):
        ch = line[i]
        if ch in " \t;{}!,~+$" or ch.isdigit():
            i += 1
        elif ch == "/" or (ch == "\\" and i + 1 < len(line)):
            delim = line[i] if ch == "/" else line[i + 1]
            i = _delimited(line, i + (1 if ch == "/" else 2), delim)
            while i < len(line) and line[i] in "IM":
                i += 1
        else:
            return i
    return i


def _sed_substitute(line: str, i: int, parts: int) -> tuple[int, int]:
    """After `s`/`y`: skip its delimited parts; return (index after the flags, flags' start)."""
    delim = line[i]
    k = i + 1
    for _ in range(parts - 1):
        k = _delimited(line, k, delim)
    end = _next(line, k)
    return end, k


def _delimited(line: str, i: int, delim: str) -> int:
    """The index after the next unescaped `delim` from i."""
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        if line[i] == delim:
            return i + 1
        i += 1
    return i


def _next(line: str, i: int) -> int:
    k = line.find(";", i)
    return len(line) if k < 0 else k


# -- package sources that are no URL ---------------------------------------------------------


def repo_package(c: _Command, w: Word) -> None:
    """npm/yarn/pnpm/bun package specs (npm-install(1)): besides URLs and `github:`,
    `OWNER/REPO` (no `@scope`, not a path) is a GitHub repository: fetched code it builds."""
    spec = w.value
    shorthand = (
        "/" in spec
        and not spec.startswith(("@", ".", "/", "~", "$"))
        and ":" not in spec.split("/", 1)[0]
    )
    if shorthand:
        c.add("run", f"installs and runs code from GitHub {spec}", "network-code", (spec,))
    else:
        project(c, w)


def project(c: _Command, w: Word) -> None:
    """A package the program builds and installs (`pip install SPEC`, `npm link SPEC`): a URL
    or VCS form is code from the network; a local directory or archive in a drop zone is code
    of unknown safety (effects.loaded.local_project). Unlike `package` (`go run FILE`, `uv run
    SCRIPT`: an interpreter's main script), a local path here is a project whose build runs."""
    from .loaded import local_project

    c.package(w)
    local_project(c, w)


def module_dir(c: _Command, w: Word) -> None:
    """A local module directory the workspace's builds and tests will compile and run (`go
    work use DIR`, `go mod edit -replace M=DIR`): from a drop zone, code of unknown safety. A
    module path (`example.com/fork@v1`) is fetched later like any dependency."""
    from .loaded import local_project

    local_project(c, w)


def index(c: _Command, w: Word) -> None:
    """Where packages come from instead of the configured index (pip --find-links, -i): a URL
    is code from the network; a directory outside the workspace holds packages of unknown
    origin. uv's `--index NAME=URL` names the index first."""
    value = w.value
    head, eq, rest = value.partition("=")
    if eq and "/" not in head and ":" not in head:
        value = rest
        w = _as(w.role, value, w)
    if "://" in value and not value.lower().startswith("file://"):
        c.package(w)
        return
    path = c.path(value.removeprefix("file://"))
    cwd = c.cwd
    inside = path is not None and cwd is not None and (path + "/").startswith(cwd.rstrip("/") + "/")
    how = c.ctx.line.origin(path) if path else None
    if how == "fetched":
        c.add("run", f"installs packages from {value}, downloaded earlier", "network-code", ())
    elif not inside:
        c.add("run", f"installs packages from {value}, outside the workspace", "unknown-code", ())


def toolchain(c: _Command, w: Word) -> None:
    """GOTOOLCHAIN (go help toolchain): `local`, `auto`, `path` run what is installed; a named
    version that is not the local one is downloaded and run."""
    name = w.value.split("+", 1)[0]
    if name and name not in ("local", "auto", "path"):
        what = f"may download and run the toolchain {w.value} ({w.option})"
        c.add("run", what, "network-code", (w.value,))


_OFF = ("0", "false", "no", "off", "n", "f", "")


def _off(value: str) -> bool:
    """A boolean switch turned off, or a value only known when it runs (it may be)."""
    from .words import unquote

    text = unquote(value).strip().lower()
    return text in _OFF or "$" in text or "`" in text


def insecure(c: _Command, w: Word) -> None:
    """A setting that fetches code over connections nobody verifies (GOINSECURE,
    GIT_SSL_NO_VERIFY): what the command downloads and builds is code from the network."""
    if w.value.strip() and w.value.lower() not in ("0", "false", "no", "off"):
        _unverified(c, w)


def verify(c: _Command, w: Word) -> None:
    """A verification switch that is on unless turned off (NODE_TLS_REJECT_UNAUTHORIZED=0,
    npm's strict-ssl=false, git's http.sslVerify=false, GOSUMDB=off): off, the command fetches
    code over connections nobody verifies. Any other value is where the checks go (a URL)."""
    if _off(w.value):
        _unverified(c, w)
    elif "://" in w.value:
        c.contact(w)


def _unverified(c: _Command, w: Word) -> None:
    inv = c.inv
    effect = inv.spec.get("effect") if inv and inv.spec else None
    if (effect or (c.view or {}).get("effect")) in ("fetch", "runs-files", "network-code"):
        option = w.option or ""
        how = f"{option} … {w.value}" if option.startswith("-") else f"{option}={w.value}"
        c.add("run", f"fetches code without verifying its source ({how})", "network-code", ())


def redact(c: _Command, w: Word) -> None:
    """A switch that keeps credentials out of the program's traces (git(1) GIT_TRACE_REDACT:
    "Set this Boolean environment variable to false to prevent this redaction" of cookies,
    Authorization and Proxy-Authorization headers): off, a trace prints them."""
    if _off(w.value):
        what = f"{w.option}={w.value}: its traces print credentials (Authorization headers)"
        c.add("read", what, "secret", ())


# -- database files ---------------------------------------------------------------------------


def database(c: _Command, w: Word) -> None:
    """A database file the client opens to read and write: a secret store (a browser's cookie
    database) is read; a protected path is written."""
    if w.value in (":memory:", ""):
        return
    c.read(_as("read", w.value, w))
    c.write(_as("write", w.value, w))


def make_value(c: _Command, w: Word) -> None:
    """A make variable set on the command line (`make V=VALUE`): "the value is recursively
    expanded" wherever the makefile uses it (GNU make manual 6.2, 9.5 Overriding Variables),
    so a `$(shell CMD)` or `${shell CMD}` in it runs CMD (8.13 The shell Function)."""
    from .words import unquote

    text = unquote(w.value)
    for opener, closer in (("$(shell ", ")"), ("${shell ", "}")):
        start = text.find(opener)
        while start >= 0:
            depth, i = 1, start + len(opener)
            while i < len(text) and depth:
                depth += {opener[1]: 1, closer: -1}.get(text[i], 0)
                i += 1
            c.add("command", text[start + len(opener) : i - 1 if not depth else i], None, ())
            start = text.find(opener, i)


def write_out(c: _Command, w: Word) -> None:
    """curl(1) -w/--write-out FORMAT: `@FILE` reads the format from FILE; `%output{FILE}` and
    `%output{>>FILE}` (curl 8.3) switch the output to FILE, written (or appended to)."""
    from .words import unquote

    text = unquote(w.value)
    if text.startswith("@") and text[1:] not in ("", "-"):
        c.read(_as("read", text[1:], w))
        return
    start = text.find("%output{")
    while start >= 0:
        end = text.find("}", start)
        name = text[start + 8 : end if end >= 0 else len(text)].removeprefix(">>")
        if name:
            c.write(_as("write", name, w))
        start = text.find("%output{", start + 8)


# Linker flags that name a program the compiler or go's linker runs (cmd/link -extld, gcc/clang
# -fuse-ld=PATH, clang --ld-path, gcc -B PREFIX: where it finds ld/as) or a plugin it loads.
_LINKER_PROGRAMS = ("-extld", "-fuse-ld", "--ld-path", "-B")
_LINKER_PLUGINS = ("-plugin", "-fplugin", "-Wl,-plugin")


def linker_flags(c: _Command, w: Word) -> None:
    """go -ldflags, CGO_LDFLAGS and the like: flags for a linker, some naming programs it runs
    (`-extld=/tmp/x`, `-extldflags '-fuse-ld=/tmp/ld'`) or plugins it loads."""
    import shlex

    from .words import unquote

    try:
        words = shlex.split(unquote(w.value))
    except ValueError:
        words = unquote(w.value).split()
    for i, word in enumerate(words[:64]):
        name, eq, value = word.partition("=")
        if not eq and word.startswith("-B") and len(word) > 2:
            name, value = "-B", word[2:]
        elif not eq and i + 1 < len(words) and name in ("-extld", "-extldflags", "-B"):
            value = words[i + 1]
        if name == "-extldflags" and value:
            linker_flags(c, _as(w.role, value, w))
        elif name in _LINKER_PROGRAMS and "/" in value:
            c.program(_as("program", value, w))
        elif name in _LINKER_PLUGINS and value:
            c.runs(_as("runs", value.split(",")[-1], w))


def comma_argv(c: _Command, w: Word) -> None:
    """gcc(1) -wrapper PROG,ARG...: "Invoke all subcommands under a wrapper program. The name
    of the wrapper program and its parameters are passed as a comma separated list": judged as
    the command `PROG ARG...` (`-wrapper gdb,--args` debugs, `-wrapper sh,-c,CMD` runs CMD)."""
    from ..shell.lexer import quote
    from .words import unquote

    parts = [p for p in unquote(w.value).strip("'").split(",") if p]
    if parts:
        c.add("command", " ".join(quote(p) for p in parts), None, ())


def pager_options(c: _Command, w: Word) -> None:
    """Options a program hands to less, its pager (systemd(1) $SYSTEMD_LESS "Override the
    options passed to less"): judged as `less OPTIONS`, so `FRSXMK` is ordinary and a `+!CMD`
    start-up command runs CMD."""
    import shlex

    from ..shell.lexer import quote
    from .words import unquote

    text = unquote(w.value)
    try:
        words = shlex.split(text)
    except ValueError:
        words = text.split()
    if words:
        c.add("command", " ".join(quote(x) for x in ("less", *words)), None, ())


def shell_args(c: _Command, w: Word) -> None:
    """GNU make .SHELLFLAGS (manual 5.3.2 Choosing the Shell): each recipe line runs as
    `$(SHELL) $(.SHELLFLAGS) LINE`, so the value is judged as `sh VALUE true` (a recipe of its
    own after it): `-ec` is ordinary, `-c "curl … | sh;"` runs that."""
    from .words import unquote

    c.add("command", f"sh {unquote(w.value)} true", None, ())


def typed_output(c: _Command, w: Word) -> None:
    """TYPE:PATH (pytest-cov --cov-report=xml:FILE, html:DIR; coverage.py the same): the
    report is written to PATH (a directory of files for html and annotate)."""
    from .words import unquote

    kind, colon, path = unquote(w.value).partition(":")
    if colon and path:
        c.role(_as("into" if kind in ("html", "annotate") else "write", path, w))


def setting(c: _Command, w: Word) -> None:
    """The value of a configuration key no list calls harmless, kept for every later call of
    the program (`npm config set script-shell X`): persistence, as the subcommand was before
    its harmless keys (loglevel, region...) were listed."""
    inv = c.inv
    anchor = tuple(c.argv[i] for i in inv.command_at) if inv is not None else ()
    name = os.path.basename(c.argv[0])
    c.add("persist", " ".join((name, *anchor)), "persistence", anchor or (name,))


def node_options(c: _Command, w: Word) -> None:
    """npm-config(7) node-options: "Options to pass through to Node.js when running scripts"
    (like NODE_OPTIONS): judged as `node OPTIONS --version`, so `--max-old-space-size=4096` is
    ordinary and `--require /tmp/x.js` loads code from a drop zone."""
    from .words import unquote

    c.add("command", f"node {unquote(w.value)} --version", None, ())


def dpkg_options(c: _Command, w: Word) -> None:
    """apt.conf(5) DPkg::Options: options apt passes to every dpkg call, each entry one
    argument, judged as dpkg's own (`--force-confold` changes nothing here; `--pre-invoke=CMD`
    runs CMD as root)."""
    from .resolve import resolve
    from .words import unquote

    text = unquote(w.value).strip("'")
    if text:
        c.effects += resolve(["dpkg", text], c.ctx, cwd=c.cwd)


HANDLERS = {
    "dpkg-options": dpkg_options,
    "staged": staged,
    "default-remote": default_remote,
    "alias": alias,
    "saved-alias": saved_alias,
    "node-options": node_options,
    "setting": setting,
    "typed-output": typed_output,
    "shell-args": shell_args,
    "comma-argv": comma_argv,
    "pager-options": pager_options,
    "linker-flags": linker_flags,
    "write-out": write_out,
    "make-value": make_value,
    "key": key,
    "command-argv": command_argv,
    "command-words": command_words,
    "keys": keys,
    "assignment": assignment,
    "options": options,
    "revpath": revpath,
    "sed-script": sed_script,
    "repo-package": repo_package,
    "project": project,
    "module-dir": module_dir,
    "index": index,
    "toolchain": toolchain,
    "insecure": insecure,
    "verify": verify,
    "redact": redact,
    "database": database,
}
