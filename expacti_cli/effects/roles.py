"""The roles of a program's words, for a program guard has a grammar for: what each does (a
path written, a command line run, SQL run; what it sends and whom it contacts is `sends.Sends`,
which `Command` inherits), and what the grammar says of the whole call (its effect tag, the
files a runner runs, a download's files, links made).

`resolve.resolve` makes a `Command` from here only for a program with a grammar (or with
assignments before it); a program without one (`true`, a project's own tool) is resolved by the
smaller `resolve._Command` and never loads this module (DESIGN.md, Speed).
"""

from __future__ import annotations

import os

from ..grammar.scan import scan
from ..shell.paths import resolve as resolve_path
from ..wildcard import match as wildcard_match
from . import feed, loaded, outputs
from .model import LOOPBACK, TAG_CLASS
from .resolve import Context, resolve
from .sends import Sends, _is_remote

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..grammar.scan import Invocation, Word


class Command(Sends):
    """A command whose words have roles (its program's grammar): one handler per role."""

    __slots__ = ()

    def printed(self, w: Word) -> None:
        """A word a command prints: a secret variable expanded into it is exposed (what a
        command substitution in it prints is judged as the command it is)."""
        from . import words

        for name in words.printed_variables(w.value):
            if self.ctx.classes.secret_variable(name) and not self._logs_in_with(name):
                self.add("read", f"prints ${name}", "secret", (w.value,))
                return

    def _logs_in_with(self, name: str) -> bool:
        """Does the command reading this one's output log in to the service that issued the
        credential `name` with it (grammar `login_stdin`; [shell] secret_services)?
        `echo "$GITHUB_TOKEN" | gh auth login --with-token`."""
        reader = self.ctx.line.reader
        argv: list[str] = list(getattr(reader, "argv", None) or ())
        view = self.ctx.view(os.path.basename(argv[0])) if argv else None
        if view is None or reader.dynamic:  # a word known only at run time may be the host
            return False
        inv = scan(argv, view)
        spec = inv.spec or view
        given = spec.get("login_stdin") or ()
        operands = {w.value for w in inv.words if w.option is None}
        if not (inv.has(*given) or ("-" in given and "-" in operands)):
            return False
        hosts = [w.value for w in inv.words if w.role == "host"] or spec.get("service") or []
        return self.ctx.classes.secret_service(name, hosts)

    def mode(self, w: Word) -> None:
        """chmod MODE FILES: world-writable system files or sockets change who may do what."""
        if "/" in w.value or w.value.startswith(("~", ".")):
            self.changed(w, ("self-tamper",))  # `chmod -x FILE`: the mode was read as an option
            return
        from . import modes

        if modes.sets_id(w.value):
            self.add("mode", f"sets the setuid/setgid bit ({w.value})", "privilege", ())
            return
        modes.exposed(self, w)
        if not modes.world_writable(w.value):
            return
        inv = self.inv
        for other in inv.words if inv else ():
            if other.role not in ("write", "meta", "made-dir"):
                continue
            path = self.path(other.value)
            for p in self.ctx.line.aliases(path) if path else [other.value]:
                if self.ctx.classes.world_writable_target(p, self.cwd):
                    self.add("mode", f"makes {p} writable by everyone", "privilege", ())
                    return

    def write(self, w: Word, how: str = "written") -> None:
        if self._remote_archive(w):
            self.remote_word(w)
            return
        if w.option is not None:
            w = _dest_of(w)  # `--output type=tar,dest=out.tar`
        path = self.path(w.value)
        if path and self._leaves(w):
            self._tree_leaves(w, path)
            self.wrote(w.value, how, (w.value,))
            return
        # coreutils cp/mv/install/ln -t, --target-directory=DIRECTORY: every operand is a source.
        target = w.option in ("-t", "--target-directory")
        is_dir = path and (target or os.path.isdir(path) or w.value.endswith("/"))
        replaced = not is_dir or (not target and bool(path) and self._replaces(str(path)))
        if replaced:
            is_dir = False
        if is_dir and (w.option is None or target) and self.inv is not None:
            # `cp SRC... DIR`: what is written is DIR/basename(SRC) for each source.
            sources = [
                x.value
                for x in self.inv.words
                if x.role in ("read", "upload", "write") and x is not w and x.option is None
            ]
            dest = w.value
            if len(dest) > 1 and dest[0] == dest[-1] and dest[0] in "\"'":
                dest = dest[1:-1]  # `--target-directory="$HOME/.ssh"`: joined unquoted
            contents = (self.view or {}).get("dir_contents") or "/."
            for src in sources:
                if src.rstrip("'\"").endswith(contents):
                    # `cp -a dotfiles/. ~/`, `rsync -a host:dotfiles/ ~/` (rsync(1): a trailing
                    # slash copies the directory's contents): files of unseen names land in DIR.
                    self.into(_word("into", w.value, w))
                    continue
                self.wrote(os.path.join(dest, os.path.basename(src.rstrip("/"))), how, (w.value,))
            if sources:
                return
        if path and replaced:
            self._tree_leaves(w, path)  # a file or link put where a directory was (or may be)
        self.wrote(w.value, how, (w.value,))

    def _replaces(self, path: str) -> bool:
        """DEST is the name itself, not a directory to write into: the grammar's
        `replaces_with` (coreutils -T, --no-target-directory), or `replaces_link_with` when
        DEST is a link (ln -n: `ln -sfn /tmp/evil ~/.config` where ~/.config is a link)."""
        inv, view = self.inv, self.view or {}
        if inv is None:
            return False
        if inv.has(*view.get("replaces_with", ())):
            return True
        return inv.has(*view.get("replaces_link_with", ())) and os.path.islink(path)

    def name_filter(self, w: Word) -> None:
        """`grep -r --include=GLOB`, `rg -g GLOB`: of a recursive search, the files below each
        directory searched (the working directory when none is named) whose names match GLOB
        are read: `--include='.env*'` reads every .env file (a leading `!` excludes)."""
        from .words import unquote

        glob = unquote(w.value)
        if not glob or glob.startswith("!") or not self.recursive() or self.inv is None:
            return
        dirs = [x.value for x in self.inv.words if x.role == "read" and x.option is None]
        for top in [unquote(d) for d in dirs] or ["."]:
            where = os.path.join(top, "**", glob) if "/" not in glob else os.path.join(top, glob)
            self.read(_word("read", where, w))

    def _leaves(self, w: Word) -> bool:
        """Is `w` a path that leaves its place with everything below it: an operand of a
        program whose operands are all written (`rm FILE...` removes them, `mv SOURCE... DEST`
        and `mv -t DIR SOURCE...` move them), other than the destination? (`touch DIR` only
        changes a time: judged the same, as nobody touches a home's ~/.config.)"""
        operands = (self.view or {}).get("operands") or ()
        if w.option is not None or not operands or operands[0] != "write..." or self.inv is None:
            return False
        if self.inv.has("-t", "--target-directory") or len(operands) == 1:
            return True
        last = [x for x in self.inv.words if x.option is None and x.role == "write"][-1:]
        return not last or last[0] is not w

    def _tree_leaves(self, w: Word, path: str) -> None:
        """A directory moved, removed or replaced takes what is below it: `mv ~/.config x`
        moves guard's own policy and every autostart entry, `mv ~/.local y` its audit log,
        `mv -T /tmp/evil ~/.config` puts another tree there."""
        for cls in ("self-tamper", "persistence", "privilege", "secret"):
            hit = self.ctx.classes.below(cls, path)
            if hit:
                what = f"moves, removes or replaces {path} and {hit} below it"
                self.add("write", what, cls, (w.value,))
                return

    def sync_dest(self, w: Word) -> None:
        """A sync's destination: a remote one receives the data, a local one is written."""
        if w.option is None and not self.ctx.line.remotes.get(w.value) and not _is_remote(w.value):
            self.write(w)
            self.contact(w)
        else:
            self.remote_word(w)

    def _remote_archive(self, w: Word) -> bool:
        """GNU tar manual 6.1: "If the archive file name includes a colon (':'), then it is
        assumed to be a file on another machine" (reached through rsh/ssh), unless
        --force-local; cpio -F/-O/-I the same."""
        if w.option not in _REMOTE_ARCHIVE or not _is_remote(w.value) or self.inv is None:
            return False
        tar = os.path.basename(self.argv[0]) in ("tar", "gtar", "cpio")
        return tar and not self.inv.has("--force-local")

    def into(self, w: Word) -> None:
        """Files of names the line does not show are written below DIR (`unzip -d DIR`,
        `tar -x -C DIR`): every protected path below DIR may be among them. A docker
        `type=local,dest=DIR` output names DIR with `dest=`."""
        w = _dest_of(w)
        path = self.path(w.value)
        if not path:
            return
        if self.inv is not None and self.inv.has("-c", "--create", "-t", "--list", "--diff"):
            self.cwd = path  # creating or listing an archive: DIR is where names are read
            return
        for cls in ("self-tamper", "privilege", "persistence"):
            hit = self.ctx.classes.hit(cls, path, None) or self.ctx.classes.below(cls, path)
            if hit:
                self.add("write", f"writes files below {path} ({hit})", cls, (w.value,))
                return

    def meta(self, w: Word) -> None:
        """A mode, owner or time change: only guard's own files are protected from it (a
        world-writable or setuid mode is judged by `mode`)."""
        self.changed(w, ("self-tamper",))

    def owner(self, w: Word) -> None:
        """An owner change: of guard's files it is tamper, of privileged files privilege, of
        a secret to another account exposure (modes.given_away)."""
        from .modes import given_away

        self.changed(w, ("self-tamper", "privilege"))
        given_away(self, w)

    def changed(self, w: Word, classes: tuple[str, ...]) -> None:
        path = self.path(w.value)
        for p in self.ctx.line.aliases(path) if path else [w.value]:
            for cls in classes:
                hit = self.ctx.classes.hit(cls, p, self.cwd)
                if hit:
                    self.add("meta", f"changes {p} ({hit})", cls, (w.value,))
                    return

    def module(self, w: Word) -> bool:
        """A module imported by name that the line wrote (`echo … > m.py && python3 -m m`,
        `pytest -p plugin`): code of unknown safety."""
        if self.cwd is None:
            return False
        base = os.path.join(self.cwd, *w.value.split("."))
        for candidate in (base + ".py", os.path.join(base, "__init__.py"), base):
            how = self.ctx.line.origin(candidate)
            if how:
                cls = "network-code" if how == "fetched" else "unknown-code"
                self.add("run", f"imports module {w.value}, {how} earlier in the line", cls, ())
                return True
        return False

    def program_file(self, w: Word) -> None:
        """A file of program text: given by an option (`awk -f`), judged like any runs word;
        a module runner's operand (`python3 -m pdb FILE`, `-m doctest FILE`, `-m pickle FILE`)
        too, where an interpreter's own main script is not (effects/loaded.py): the runner is
        not what a whitelisted interpreter is for, and a file below a drop zone is nobody's."""
        self.runs(w)
        path = self.path(w.value)
        if w.option is None and not (path and self.ctx.line.origin(path)):
            loaded.from_drop_zone(self, w, path)

    def names_from(self, w: Word) -> None:
        """A file listing the names of files it reads (`tar -T LIST`): the list is read; the
        files `-` names (standard input) are read by `_names_on_stdin` when the line shows them,
        data of unseen names otherwise (`git ls-files | tar -cf - -T - | ssh h`)."""
        self.read(w)

    def command(self, w: Word) -> None:
        # `!CMD` is how git aliases (and some other tools) spell "run this through the shell";
        # analysing CMD is never less strict than analysing `!CMD`.
        self.add("command", w.value[1:] if w.value.startswith("!") else w.value, None, ())

    def program(self, w: Word) -> None:
        """A program named by a value: installed programs by name are what they are; one named
        by a path outside the system's directories is a file of unknown safety; a value with
        arguments is a command line."""
        from .paths import hidden_program

        value = w.value.strip()
        if " " in value or "\t" in value:
            self.command(w)
        elif hidden_program([value]):
            how = self.ctx.line.origin(self.path(value) or value)
            cls = "network-code" if how == "fetched" else "unknown-code"
            self.add("run", f"runs {value}, named in {w.option or 'a value'}", cls, ())

    def dest(self, w: Word) -> None:
        """A copy's destination: a remote one (s3://bucket, host:path) is a change there."""
        if not _is_remote(w.value):
            self.write(w)
        elif not self.loopback_only():
            name = os.path.basename(self.argv[0])
            inv = self.inv
            anchor = tuple(self.argv[i] for i in inv.command_at) if inv else ()
            self.add("change", f"copies to {w.value}", "production", anchor or (name,))

    def context(self, w: Word) -> None:
        """A build context (docker build PATH): its files are sent to the daemon; a daemon on
        another host (docker -H/--host, DOCKER_HOST tcp:// or ssh://) receives the workspace."""
        remote = [h for h in self.hosts() if h and not h.lower().startswith(LOOPBACK)]
        if remote and w.value != "-" and not _is_remote(w.value):
            self.pending_upload(w.value)

    def keyval(self, w: Word) -> None:
        from .values import split_keyval

        pair = split_keyval(w.value)
        key, value = pair or ("", "")
        if key[-1:].isspace():  # `name = value` (wgetrc(5) commands, `wget -e`)
            key, value = key.strip(), value.strip()
        role = self.key_role(w.option, key) if pair else None
        if not pair and "/" in w.value:  # `cargo --config PATH`, `-backend-config=PATH`: a file
            role, value = "config", w.value
        if role == "assignment" and "." in key:  # `env.NAME=VALUE`: NAME is set to VALUE
            value = f"{key.rsplit('.', 1)[1]}={words_unquote(value)}"
        if role:
            self.role(_word(role, value, w))

    def sql(self, w: Word) -> None:
        from . import words
        from .sql import changes, files, irreversible, secrets

        for role, path in files(words.unquote(w.value)):  # `.output F`, `VACUUM INTO 'F'`
            self.role(_word(role, path, w))

        for why in changes(w.value)[:1]:
            cls = "irreversible" if irreversible(why) else "production"
            self.add("change", f"SQL {why}", cls, (w.value,))  # a rule naming the SQL lifts it
        for why in secrets(w.value):
            self.add("read", f"SQL {why}", "secret", ())

    def package(self, w: Word) -> None:
        if _fetched_package(w.value) and not self.ctx.classes.default_registry(w.value):
            self.add("run", f"installs and runs code from {w.value}", "network-code", (w.value,))

    def varname(self, w: Word) -> None:
        """Names of variables whose values are printed or sent. ssh_config(5) SendEnv takes
        several, and "may contain wildcard characters": one that begins with a wildcard (`*`)
        could name any variable, secrets included."""
        for name in w.value.strip("\"'").split():
            if (
                self.ctx.classes.secret_variable(name)
                or name[:1] in ("*", "?", "[")
                or self._names_a_known_secret(name)
            ):
                self.add("read", f"prints ${name}", "secret", (w.value,))
                return

    def _names_a_known_secret(self, glob: str) -> bool:
        """`AWS_*`, `GITHUB_T?KEN`: a glob that matches a credential variable tools read (the
        ones [shell] secret_services names, and the cloud SDKs' own)."""
        if not any(ch in glob for ch in "*?["):
            return False
        known = [e.split()[0] for e in self.ctx.classes.shell.get("secret_services", ())]
        return any(wildcard_match(glob.upper(), n) for n in (*known, *_SDK_SECRETS))

    def role(self, w: Word) -> None:
        if w.role in ("attached-into", "attached-write"):  # `--one-top-level=DIR`
            w = _word(w.role[9:], w.value, w)
        handler = _ROLES.get(w.role) or _more_roles(w.role).get(w.role)
        if feed.is_unseen(w.value) and w.role != "read":
            return  # words read from a file the line does not show: judged as reads only
        if handler is not None:
            handler(self, w)


def by_grammar(
    c: Command,
    fed: list[str] | None,
    choices: dict[int, list[str]] | None,
    stdin: str | None,
    env: dict[str, str] | None,
) -> bool:
    """Resolve the words of `c` by its grammar (`c.view`); False for a dry run or a check
    (what it reads is all it does)."""
    assert c.view is not None
    ctx = c.ctx
    c.inv = scan(c.argv, c.view)
    if c.inv.no_effect(c.view):
        _global_options(c)
        return False
    if fed:
        c.inv.words = feed.fill(c.inv.words, fed)
    if choices:
        c.inv.words = feed.each(c.inv.words, choices)
    feed.unpacked(c, stdin)
    for w in c.inv.words:
        if w.role == "dir":
            c.cwd = resolve_path(w.value, c.cwd, ctx.home)
    if outputs.in_place(c.inv, c.view.get("in_place", ())):
        _edit_in_place(c.inv)
    named = _env_hosts(c, env)
    for w in c.inv.words:
        if w not in named:  # judged with the environment (effects.environ)
            c.role(w)
    _searched_here(c)
    _names_on_stdin(c, stdin)
    _default_remote(c)
    if c.view is not None and "upload" in c.view["options"].values():
        from . import servers  # only programs that serve a directory (http.server, php -S)

        servers.served(c)
    _module(c, ctx, env)
    _tags(c, env)
    outputs.stdout(c)
    loaded.plugin(c)
    _runs_files(c)
    if "fetch" in (c.inv.spec.get("effect") if c.inv.spec else None, c.view["effect"]):
        _fetched(c)
    _links(c)
    feed.carried(c)
    return True


_NETWORK_PACKAGE = ("git+", "github:", "gitlab:", "bitbucket:", "gist:", "git@")


def _env_hosts(c: Command, env: dict[str, str] | None) -> list[Word]:
    """The hosts the command's environment names (curl(1) ENVIRONMENT: `HTTPS_PROXY`,
    `ALL_PROXY`; a registry or server variable): put first among its words, so what it sends
    is judged with every host that receives it (`HTTPS_PROXY=http://x.example curl -H
    "Authorization: Bearer $TOKEN" URL`: the proxy is a recipient, as with `-x`)."""
    if not env or c.inv is None or c.view is None:
        return []
    from ..grammar.scan import Word
    from .environ import _role

    named = []
    for name, value in env.items():
        role = _role(c.view["env"], name)
        if role in ("url", "host") and value:
            named.append(Word(role, value, 0, name))
    c.inv.words[:0] = named
    return named


def _global_options(c: Command) -> None:
    """A dry run or a help request still starts the program with the options given before its
    subcommand: `git -c web.browser=CMD log --help` runs CMD (git-help(1)), `git -c
    core.sshCommand=CMD push --dry-run` connects with CMD, `kubectl --kubeconfig F apply
    --dry-run=server` loads F."""
    inv = c.inv
    if inv is None or not inv.command_at:
        return
    for w in inv.words:
        if w.option is not None and w.index < inv.command_at[0]:
            c.role(w)


def _searched_here(c: Command) -> None:
    """A recursive search that names no path searches the working directory (grep(1): "if no
    FILE is given, recursive searches examine the working directory"; rg, git grep)."""
    inv = c.inv
    if inv is None or any(w.role == "read" and w.option is None for w in inv.words):
        return
    searches = (inv.spec or {}).get("pattern_options") or (c.view or {}).get("pattern_options")
    if searches and c.recursive():
        from ..grammar.scan import Word

        c.read(Word("read", ".", 0, None))


def _names_on_stdin(c: Command, stdin: str | None) -> None:
    """`find ~/.ssh -type f | zip -@ k.zip`, `… | tar -czf k.tgz -T -`: a program told to take
    the names of files it reads from standard input (a stdin-names flag, or `-` as a names-from
    file) reads what the pipeline's previous command printed."""
    inv, view = c.inv, c.view
    names = c.ctx.line.output if stdin == "pipe" else None
    if not names or inv is None or view is None:
        return
    flag = any(view["options"].get(o) == "stdin-names" for o, _, _ in inv.options)
    if flag or any(w.role == "names-from" and w.value == "-" for w in inv.words):
        from ..grammar.scan import Word

        for name in names:
            c.read(Word("read", name, 0, "-@"))
        c.reads.sort(key=lambda r: r[0] != "secret")  # what it passes on is first a secret


def _default_remote(c: Command) -> None:
    """A call that may name a remote but names none goes to a configured one (git-push(1):
    "branch.*.remote configuration for the current branch is consulted ... If the
    configuration is missing, it defaults to origin"): origin set in the line (`git remote
    set-url origin URL`) is where it goes."""
    inv, remotes = c.inv, c.ctx.line.remotes
    if inv is None or not inv.spec or "remote" not in (inv.spec.get("operands") or ()):
        return
    if inv.spec.get("effect") not in ("fetch", "read"):
        from .values import pushes_secret

        if pushes_secret(c):  # `git add -f .env && git commit -m x && git push`
            c.add(
                "send", "pushes a secret committed earlier in the line", "secret-exfiltration", ()
            )
    name = remotes.get(" default", "origin")  # remote.pushDefault set in the line
    url = remotes.get(name)
    if not url or any(w.role == "remote" for w in inv.words):
        return
    if not c.loopback_only():
        c.add("send", f"sends data to {url} ({name}, where it goes by default)", "exfiltration", ())


# Credential variables of the cloud SDKs and CLIs (AWS CLI, Azure identity, Google auth, Vault).
_SDK_SECRETS = (
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AZURE_CLIENT_SECRET",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "VAULT_TOKEN",
    "DATABASE_URL",
)


def _fetched_package(spec: str) -> bool:
    """Is a package spec fetched from somewhere the line chooses (a URL, a VCS, a module path
    at a version: `go run example.com/tool@latest`) rather than installed by name?"""
    if "://" in spec or spec.startswith(_NETWORK_PACKAGE):
        return True
    if spec.endswith((".tgz", ".whl", ".tar.gz", ".zip")) and "/" in spec:
        return True
    path, at, _version = spec.partition("@")
    head = path.split("/", 1)[0]
    return bool(at) and "/" in path and "." in head  # a Go-style module path pinned to a version


_REMOTE_ARCHIVE = ("-f", "--file", "-F", "-O", "-I")


def _dest_of(w: Word) -> Word:
    """The path of a `key=value,…` destination (docker-buildx-build(1) --output
    "type=local,dest=path"), or the word itself."""
    from . import words

    value = words.unquote(w.value)
    if "=" not in value.split("/", 1)[0]:
        return w
    pairs = dict(p.partition("=")[::2] for p in value.split(","))
    dest = pairs.get("dest") or pairs.get("destination")
    return _word(w.role, dest, w) if dest else w


def words_unquote(value: str) -> str:
    from .words import unquote

    return unquote(value)


def _word(role: str, value: str, like: Word) -> Word:
    from ..grammar.scan import Word

    return Word(role, value, like.index, like.option)


_ROLES: dict[str, Any] = {
    "read": Command.read,
    "name-filter": Command.name_filter,
    "write": Command.write,
    "runs": Command.runs,
    "program-file": Command.program_file,
    "config": Command.runs,
    "command": Command.command,
    "keyval": Command.keyval,
    "host": Command.contact,
    "names-from": Command.names_from,
    "route": Command.route,
    "url": Command.contact,
    "remote": Command.remote_word,
    "sync-dest": Command.sync_dest,
    "upload": Command.upload,
    "secret": Command.credential,
    "data": Command.data,
    "sql": Command.sql,
    "package": Command.package,
    "varname": Command.varname,
    "mode": Command.mode,
    "program": Command.program,
    "printed": Command.printed,
    "module": Command.module,
    "remote-name": Command.remote_name,
    "into": Command.into,
    "dest": Command.dest,
    "database-url": Command.database_url,
    "context": Command.context,
    "meta": Command.meta,
    "owner": Command.owner,
}


_TRANSFER_ROLES = frozenset(
    (
        "backup-repo",
        "socat-address",
        "request-item",
        "forward",
        "ftp-commands",
        "transfer-path",
        "listen-address",
    )
)


def _more_roles(role: str) -> dict[str, Any]:
    """The roles handled by effects.values (and effects.loaded), merged into _ROLES with the
    first word that needs a handler not found there; effects.transfers' (transfer clients'
    own words) with the first word of one of its roles."""
    if role in _TRANSFER_ROLES and role not in _ROLES:
        from .transfers import HANDLERS as TRANSFERS

        _ROLES.update(TRANSFERS)
    if "key" not in _ROLES:
        from .awkprog import program
        from .loaded import credentials_to
        from .values import HANDLERS

        _ROLES.update(HANDLERS)
        _ROLES["credentials-to"] = credentials_to
        _ROLES["awk-program"] = program
        _ROLES["ex-commands"] = _ex_commands
        _ROLES["debugger-commands"] = _debugger_commands
        _ROLES["code"] = _inline_code
    return _ROLES


def _ex_commands(c: Command, w: Word) -> None:
    from .excmd import judge

    judge(c, w)


def _debugger_commands(c: Command, w: Word) -> None:
    from .dbgcmd import judge

    judge(c, w)


def _inline_code(c: Command, w: Word) -> None:
    """Program text given with an option (`awk -e`, `python3 -c`): each language's reader
    (each reads only its own language's programs)."""
    from . import awkprog, pyprog

    awkprog.code(c, w)
    pyprog.code(c, w)


def _tags(c: Command, env: dict[str, str] | None = None) -> None:
    """The effect the grammar declares for this subcommand or program."""
    view, inv = c.view, c.inv
    if view is None or inv is None:
        return
    # A subcommand's own effect speaks for it (`pass ls` reads even if `pass NAME` shows a
    # secret); the program's effect for a call without a known subcommand. `bare` is the
    # program alone (`vercel` deploys; `vercel env list` reads).
    own = inv.spec.get("effect") if inv.spec else None
    tags = [own] if own else [view["effect"]]
    if not inv.command and not inv.operands and view["bare"] and _bare_call(inv, view):
        tags.append(view["bare"])  # `vercel --prod` is `vercel` with options: it deploys
    anchor = tuple(c.argv[i] for i in inv.command_at)
    name = os.path.basename(c.argv[0])
    op = " ".join((name, *anchor))
    # Code from the network (`npx prisma`, `pipx run black`): the packages it fetches name the
    # operation with the subcommand, so an allow rule lifts it only by spelling each of them
    # (never `pipx run **`).
    packages = tuple(w.value for w in inv.words if w.role == "package")
    if _tag_with(c, view, anchor, op, env):
        return
    for tag in tags:
        cls = TAG_CLASS.get(tag or "")
        if cls:
            named = anchor + packages if cls == "network-code" else anchor
            # No subcommand names it (`vercel --prod`, `cap production deploy`): only an allow
            # rule spelling the whole command lifts it (an empty anchor), not one naming more
            # words than the program has (the program's name was the anchor: nothing lifted it).
            c.add(tag or "", op, cls, named)
            return


def _tag_with(
    c: Command, view: dict[str, Any], anchor: tuple[str, ...], op: str, env: dict[str, str] | None
) -> bool:
    """An option under which the call has an effect of its own (grammar `effect_with`: `gpg
    -d` prints the plain text, `pulumi stack output --show-secrets` the secret outputs); an
    option or variable with a value of that glob (`dbt run --target prod`, `RAILS_ENV=production
    rails db:migrate`)."""
    inv = c.inv
    assert inv is not None
    tables = ((inv.spec or {}).get("effect_with"), view.get("effect_with"))
    if not any(tables):
        return False
    given = {o for o, _v, _i in inv.options}
    for table in tables:
        for opt, tag in (table or {}).items():
            if opt in given or ("=" in opt and _valued(inv, opt, env)):
                cls = TAG_CLASS.get(tag)
                if cls:
                    c.add(tag, f"{op} {opt}", cls, (*anchor, opt.partition("=")[0]))
                # An ordinary effect replaces the declared one (`supabase db push --local`
                # pushes to the local stack, not the linked project).
                return True
    return False


def _valued(inv: Invocation, key: str, env: dict[str, str] | None) -> bool:
    """`--target=prod*`: the option given with a value of that glob (case-insensitive);
    `RAILS_ENV=prod*`: the variable so set for the command or as a NAME=VALUE operand."""
    name, _, glob = key.partition("=")
    if name.startswith("-"):
        values = [v for o, v, _i in inv.options if o == name and v is not None]
    else:
        values = [v for k, _, v in (w.partition("=") for w, _i in inv.operands) if k == name]
        if env and name in env:
            values.append(env[name])
    return any(wildcard_match(glob, v.lower()) for v in values)


def _bare_call(inv: Invocation, view: dict[str, Any]) -> bool:
    """Is a call without subcommand or operands the program's bare call? Options the grammar
    lists modify it (`vercel --prod --yes` deploys); one that prints help or a version (roles
    `stop`, `info`), or one the grammar does not know (`declare -f` prints functions, not
    variables), may make it another call."""
    roles = [view["global"].get(o) or view["options"].get(o) for o, _v, _i in inv.options]
    return all(r is not None and r not in ("stop", "info") for r in roles)


def _runs_files(c: Command) -> None:
    """A build or test runner after a file it runs was written earlier in the line."""
    view, inv = c.view, c.inv
    if view is None or inv is None:
        return
    globs = (inv.spec.get("runs") if inv.spec else None) or view["runs"]
    if not globs or c.cwd is None:
        return
    how = c.ctx.line.origin(c.cwd)
    if how == "fetched":
        c.add("run", f"builds or tests {c.cwd}, downloaded earlier in the line", "network-code", ())
        return
    if how == "unpacked":
        what = f"builds or tests {c.cwd}, where an earlier command wrote files of unseen names"
        c.add("run", what, "unknown-code", ())
        return
    from .loaded import runner_dir

    runner_dir(c)
    # A build or test runner's recipes and scripts call the project's shell scripts (a
    # Makefile recipe, a package.json script `sh scripts/build.sh`): one written in the line runs.
    effect = (inv.spec.get("effect") if inv.spec else None) or view["effect"]
    scripts = _SCRIPTS if effect == "runs-files" else ()
    for path, how in c.ctx.line.made.items():
        below = path.startswith(c.cwd.rstrip("/") + "/")
        if below and how == "unpacked":  # `unzip x.zip -d tests/data && pytest`
            what = f"builds or tests {c.cwd}, where an earlier command wrote files below {path}"
            c.add("run", what, "unknown-code", ())
            return
        if below and any(wildcard_match(g, os.path.basename(path)) for g in (*globs, *scripts)):
            cls = "network-code" if how == "fetched" else "unknown-code"
            c.add("run", f"runs {path}, {how} earlier in the line", cls, ())
            return


_SCRIPTS = ("*.sh", "*.bash")


def _edit_in_place(inv: Invocation) -> None:
    """`sed -i`: the files it would print are written back instead (a write, not a read)."""
    for w in inv.words:
        if w.role == "read" and w.option is None:
            w.role = "write"


def _fetched(c: Command) -> None:
    """What a download wrote is code from the network if it runs later in the line. Without a
    named destination, wget and git clone save under the URL's last segment."""
    writes = list(c.writes)
    if not writes and c.inv is not None and c.cwd is not None:
        for w in c.inv.words:
            if w.role in ("url", "remote") and ("://" in w.value or _is_remote(w.value)):
                name = w.value.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
                name = name.rsplit(":", 1)[-1].removesuffix(".git")
                if name:
                    writes.append(os.path.join(c.cwd, name))
    for path in writes:
        c.ctx.line.made[path] = "fetched"


def _module(c: Command, ctx: Context, env: dict[str, str] | None) -> None:
    """`python -m MODULE ARGS` runs MODULE as a program: its grammar's effects (pip, pytest)."""
    inv = c.inv
    if inv is None:
        return
    for w in inv.words:
        if w.role != "end":
            continue
        if c.module(w):
            return
        view = ctx.view(w.value)
        if view is not None and len(ctx.line.made) < 10_000:
            argv = [w.value, *inv.rest]
            c.effects += resolve(argv, ctx, cwd=c.cwd, env=env)
            if view.get("code_language") == "python":  # `-m timeit STMT`, `-m pdb -c CMD`
                from .pyprog import module_code

                module_code(c, argv, view)
        return


def _links(c: Command) -> None:
    """`ln -s TARGET NAME`: a later write to NAME writes TARGET."""
    inv = c.inv
    if inv is None:
        return
    targets = [w.value for w in inv.words if w.role == "link"]
    names = [w.value for w in inv.words if w.role == "write" and w.option is None]
    if len(targets) == 1 and len(names) == 1:
        link = c.path(names[0])
        if not link:
            return
        if os.path.isdir(link) and not os.path.islink(link):
            link = os.path.join(link, os.path.basename(targets[0]))
        from ..shell.paths import resolve as resolve_path

        target = resolve_path(targets[0], os.path.dirname(link), c.ctx.home)
        if target:
            c.ctx.line.links[link] = target
