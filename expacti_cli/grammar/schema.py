"""Validate program grammars and derive the views their readers need.

A grammar is one TOML table per program (`grammar/programs/*.toml`, or `[grammar.NAME]` in a
policy layer). Its keys (README "Program grammars" and ARCHITECTURE.md say the same):

  names            other names of the same program (`oc` for kubectl)
  doc              where the grammar was read from (man page, --help, reference page)
  clusters         `-abc` means `-a -b -c` (default true); plus_options, numeric_flags
  code_continues   options and operands follow a `code` option's text (`awk -e PROG FILE`);
                   by default the words after it are the code's own arguments (`python -c`)
  [X.global]       role = [options]: options before the subcommand
  [X.options]      role = [options]: options anywhere; a role `A+B` takes two words
                   (`jq --rawfile NAME FILE`: "value+read")
  [X.equivalent]   canonical option = [other spellings] (rule flag checks)
  [X.keys."-o"]    role = [KEY globs]: the value of a `keyval` option is KEY=VALUE
                   ([X.keys.operands] for KEY=VALUE operands: `make CC=gcc`)
  [X.env]          role = [VARIABLES] the program reads
  [X.env_config]   count, key, value, option: COUNT=N variables add N pairs KEY<n>=VALUE<n>,
                   each read like `option KEY=VALUE` (git's GIT_CONFIG_COUNT and -c)
  operands         roles of the operands in order; a role ending in "..." repeats
  pattern_options  options that give what a leading `value` operand would (`grep -e PATTERN`,
                   `jq -f FILE`): with one present, the operands start at the second role;
                   also per subcommand
  operands_with    option = [roles]: with that option given, the operands have these roles
                   instead (`tree --fromfile FILE...`: files whose lines it prints; `jq --args`)
  outputs, outputs_with   (also per program) what it prints to stdout under those options
  lists, lists_with       (also per program) it prints names of files, under those options:
                   of its operands of that role and the entries below them ("read": grep
                   -l; "value": ls), or "." of the working directory's tree (git ls-files);
                   `xargs` and `while read` hand them to the command they run
  stdin_lines      (a builtin: `read`) the operands take lines of stdin: fed by a pipe, a
                   loop's words that expand them stand for what the command before printed
  login_stdin, service  (per subcommand) options (or `-`) under which it reads a credential on
                   stdin to log in to its service: the `host` words, else `service` hosts
                   (`echo "$GITHUB_TOKEN" | docker login ghcr.io --password-stdin` gives the
                   token to its own service, [shell] secret_services)
  filters, filters_unless  reading its standard input, it prints only whole lines of it
                   (selected or reordered: grep, head, sort), unless given one of those
                   options (grep -o, head -c); the names a pipe carries pass through it. Any
                   other program's output is not known (`sed`, `tr`, `rev` make new names)
  recursive        (per subcommand) its path operands, or the working directory when it
                   names none, are searched recursively (`git grep`)
  [X.commands]     "sub command" = effect, or a table {effect, operands, runs, options,
                   keys, prints_with}; `keys` names the table a `key` operand's VALUE (the
                   next operand) is read with: an option's ("-c"), "operands", or
                   "environment"; `prints_with`: options without which `revpath` operands
                   are only named, not printed (`git log -p -- FILE`); `outputs`: local
                   data the subcommand writes to standard output (`git archive`: the
                   repository's files), under `outputs_with` options (or `-` operand) only
  effect, bare     an effect of every call / of a call without operands
  runs             globs of files in the working directory the program runs as code
  sends_stdin      what the program reads on stdin goes to a host (ssh, nc, socat)
  dir_contents     how a source names a directory's contents, not the directory: files of
                   unseen names land in the destination (default "/.", cp SRC/.; rsync "/")
  no_effect_with   options under which the call changes and runs nothing (`--dry-run`,
                   `bash -n`, `npx --no`); also per subcommand
  effect_with      option = effect: under that option the call has that effect too (`gpg -d`
                   prints the plain text: "secret"), or, for an ordinary effect (local,
                   read), that one instead (`supabase db push --local`); also per
                   subcommand; OPTION=GLOB:
                   that option with a value matching GLOB (`--target=prod*`); NAME=GLOB: the
                   variable NAME, in the environment or a NAME=VALUE operand (`RAILS_ENV=prod*`)
  in_place         options under which the `read` operands are edited in place (written
                   back, not printed: `sed -i`); OPTION=VALUE: that option with that
                   value (`gawk -i inplace`)
  replaces_with    options under which a `write` operand that is a directory is the name
                   itself, replaced, not a directory written into (coreutils -T)
  replaces_link_with  the same when that operand is a link (ln -n)
  unpacks          options (or globs of a first word that is no option: tar's `xzf`) under
                   which the program unpacks an archive into files (effects.feed)
  [X.plugins]      prefix ("kubectl-"), builtins: `X NAME` whose NAME is neither a builtin nor
                   in [X.commands] runs the program PREFIX-NAME (a plugin: unknown code unless
                   installed in the system's directories)
  unlisted, command_depth, read_verbs
                   for CLIs with thousands of operations (aws SERVICE OPERATION): a path of
                   `command_depth` words that [X.commands] does not list has the effect
                   `unlisted`, unless its last word matches a `read_verbs` glob (a read)
  targets, target_positional   what names the target (anomalies)
  [X.wrapper] [X.interpreter] [X.client] [X.writer]   how the shell analysis treats it

Roles say what a value IS; the effect model turns them into effects. The views returned here
hold only marshal-able data (dicts, lists, tuples, str, int, bool).
"""

from __future__ import annotations

from ..errors import PolicyError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Roles of an option, and what the shell analysis calls them (shellspec.OPTION_KEYS kinds).
# Roles the analysis has no kind for take a value and are "value" to it.
WALKER_KIND = {
    "flag": "flag",
    "value": "value",
    "attached": "attached",
    "stop": "stop",
    "split": "split",
    "command": "string",
    "script-flag": "script",
    "stdin": "stdin",
    "argv": "argv",
    "code": "code",
    "end": "end",
    "info": "info",
    "replace": "replace",
    "attached-replace": "attached_replace",
    # An optional value attached with `=` (`tar --one-top-level[=DIR]`) that is a path.
    "attached-into": "attached",
    "attached-write": "attached",
}
# Roles that describe what a value is, for the effect model.
EFFECT_ROLES = {
    "read": "a path the program reads",
    "name-filter": "a file-name glob the program reads below its directories (grep --include, "
    "rg -g): what it names is read (`--include='.env*'`)",
    "write": "a path the program writes, creates or removes",
    "made-dir": "a directory the program creates (empty: nothing in it runs or is read)",
    "meta": "a path whose metadata (mode, times) the program changes",
    "owner": "a path whose owner or group the program changes",
    "dir": "a directory the program works in (relative paths resolve against it)",
    "keyfile": "a key or credential file the program reads",
    "config": "a configuration file the program reads (it can make it run code)",
    "host": "a host the program connects to",
    "bind": "the local address a server listens on (0.0.0.0, :: or * is every interface)",
    "url": "a URL the program fetches from or sends to",
    "remote": "a repository or remote location (a URL or HOST:PATH sends data there)",
    "sync-dest": "where a sync copies to: a HOST:PATH or URL receives the data, a local path "
    "is written (rsync SRC... DEST)",
    "sql": "SQL text the program runs",
    "target": "a target name (namespace, context, profile)",
    "keyval": "KEY=VALUE; the role of VALUE is given by [X.keys.OPTION]",
    "data": "data sent to a host; @FILE sends the file",
    "upload": "a path whose content is sent to a host",
    "secret": "a credential given on the command line",
    "mode": "a permission mode (chmod)",
    "package": "a package to install; a URL, VCS or path form fetches code",
    "program-file": "a file of program text the interpreter runs",
    "module": "a module the program imports by name (a module written in the line is code)",
    "runs": "a file the program runs as code",
    "program": "a program the program runs with arguments of its own (npm --script-shell)",
    "dest": "where the program copies to: a remote location (s3://, host:path) changes it",
    "remote-name": "a name given to a remote (`git remote add NAME URL`): pushes to it send there",
    "into": "a directory the program writes files of unseen names into (unzip -d, tar -x -C)",
    "link": "the target of a link the program creates",
    "varname": "a variable name whose value the program prints",
    "printed": "a word the program prints (a secret variable expanded into it is exposed)",
    "words": "words of the program's own command language (redis-cli, mongo)",
    # effects/values.py
    "key": "a KEY whose VALUE is the next operand; the subcommand's `keys` table gives its role",
    "command-argv": "the operands from here are one command and its arguments, which it runs",
    "command-words": "the operands from here are joined with spaces into one shell line it runs",
    "keys": "keys typed into a terminal (tmux send-keys): each line typed is a command line",
    "assignment": "NAME=VALUE set for the programs it starts: judged as `export NAME=VALUE`",
    "options": "a variable holding the program's own options: judged as the program with them",
    "revpath": "a git `REV:PATH` or pathspec whose content is printed: PATH is read",
    "sed-script": "a sed script: `r`/`R FILE` read FILE, `w`/`W FILE`, `s///w FILE` write it",
    # effects/awkprog.py
    "awk-program": "an awk program: `print > FILE` writes FILE, `getline < FILE` reads it",
    "debugger-commands": "a gdb or lldb command (gdb -ex, lldb -o): `shell CMD` / `!CMD` run a "
    "shell command line, Python and code run in the debugged process are code",
    "comma-argv": "PROGRAM,ARG,... a program run with those arguments (gcc -wrapper)",
    "saved-alias": "an alias kept for later calls (gh alias set): `!CMD` is a shell command "
    "they run (persistence), anything else the program's own arguments",
    "pager-options": "options for less, the program's pager (SYSTEMD_LESS): judged as `less VALUE`",
    "ex-commands": "Ex commands of a vi-family editor (vim -c): `!CMD` runs a shell command line, "
    "`w FILE` writes FILE, vimscript is code",
    "repo-package": "an npm-style package spec: `OWNER/REPO` is a GitHub repository",
    "project": "a package the program builds: a local directory's build scripts run (pip install)",
    "module-dir": "a local module directory later builds compile and run (go work use DIR)",
    "index": "a package index or links directory: a URL, or a path outside the workspace",
    "toolchain": "a toolchain version (GOTOOLCHAIN): one not installed is downloaded and run",
    "insecure": "turns off verification of fetched code (GOINSECURE)",
    "verify": "a verification switch, on by default: off (0, false, no) fetches unverified code",
    "redact": "a switch that keeps credentials out of traces: off, the traces print them",
    "database": "a database file opened for reading and writing",
    "database-url": "the database a migration changes (a URL or connection string): one on "
    "another machine is a production change",
    "make-value": "a make variable's value: `$(shell CMD)` in it runs CMD when it is expanded",
    "write-out": "curl's -w format: `@FILE` is read, `%output{FILE}` written",
    "context": "a build context, sent to the daemon (one on another host receives the files)",
    "linker-flags": "flags for a linker: -extld, -fuse-ld=PATH, -B name programs it runs",
    "shell-args": "the arguments a shell is given before each command (make .SHELLFLAGS)",
    "typed-output": "TYPE:PATH, a report of TYPE written to PATH (pytest --cov-report=xml:F)",
    "setting": "a configuration value kept for later calls: persistence (unless listed harmless)",
    "node-options": "options npm passes to node (NODE_OPTIONS): judged as node with them",
    # effects/loaded.py
    "credentials-to": "a server the program sends its stored credentials to (kubectl --server)",
    "alias": "an alias's expansion: `!CMD` is a shell command line, anything else the program's "
    "own arguments (git-config(1) alias.*)",
    "staged": "what goes into the repository's next commit (a path added, a message, an author): "
    "a secret there is sent by a later push",
    "default-remote": "the remote a push goes to when it names none (git remote.pushDefault)",
    "dpkg-options": "options apt passes to dpkg (apt.conf(5) DPkg::Options): judged with "
    "dpkg's grammar",
    "stdin-names": "a flag: the names of more files it reads come on standard input (zip -@)",
    "names-from": "a file listing the names of files it reads; `-` is standard input (tar -T)",
    "backup-repo": "where a backup program stores what it reads: one on another host receives "
    "the paths backed up (restic -r, borg REPO::ARCHIVE)",
    "socat-address": "a socat address (TYPE:PARAMS,OPTIONS): EXEC/SYSTEM run a command, OPEN/"
    "FILE name a file, TCP/SSL a host, *-LISTEN a port whoever connects reaches",
    "request-item": "an HTTPie request item: `name=@FILE`, `name:=@FILE`, `name@FILE` send FILE",
    "forward": "an ssh port forward `[bind_address:]port ...`: every interface exposes the tunnel",
    "ftp-commands": "an FTP/SMB client's commands (lftp -e, smbclient -c): put and mirror -R send "
    "local files, `!CMD` runs a shell command",
    "transfer-path": "a path of a copy whose data flows from the first to the later ones (rclone "
    "copy SRC DEST): a local first path goes to any remote after it",
    "listen-address": "the address a forwarder listens on: every interface exposes what it "
    "forwards",
    "route": "where connections to a host really go (curl --connect-to H1:P1:H2:P2, --resolve "
    "H:P:ADDR): that host receives what is sent to the URL's",
}
ROLES = frozenset(WALKER_KIND) | frozenset(EFFECT_ROLES)
NO_VALUE = frozenset({"flag", "stop", "script-flag", "stdin", "argv", "info", "stdin-names"})
# Effects a grammar may declare for a program or subcommand.
EFFECTS = {
    "read": "reads only (local or remote state)",
    "local": "ordinary local work",
    "change": "changes remote or production state",
    "secret": "prints or exposes a secret",
    "privilege": "changes permissions, users or privileges",
    "network-code": "downloads code and runs it",
    "persist": "changes configuration that later runs code",
    "send": "sends local data to a host",
    "fetch": "downloads data from a host",
    "runs-files": "runs code from files in the working directory",
    "tamper": "stops, removes or reconfigures guard",
}
_TOP_KEYS = {
    "names": "strlist",
    "doc": "str",
    "clusters": "bool",
    "code_continues": "bool",
    "plus_options": "bool",
    "numeric_flags": "bool",
    "targets": "strlist",
    "target_positional": "int",
    "operands": "strlist",
    "effect": "str",
    "bare": "str",
    "runs": "strlist",
    "no_effect_with": "strlist",
    "effect_with": "table",
    "pattern_options": "strlist",
    "operands_with": "table",
    "outputs": "str",
    "outputs_with": "strlist",
    "lists": "str",
    "lists_with": "strlist",
    "stdin_lines": "bool",
    "filters": "bool",
    "filters_unless": "strlist",
    "in_place": "strlist",
    "replaces_with": "strlist",
    "replaces_link_with": "strlist",
    "unpacks": "strlist",
    "sends_stdin": "bool",
    "dir_contents": "str",
    "unlisted": "str",
    "command_depth": "int",
    "read_verbs": "strlist",
    "plugins": "table",
    "global": "roles",
    "options": "roles",
    "equivalent": "table",
    "keys": "table",
    "env": "roles",
    "env_config": "table",
    "commands": "table",
    "wrapper": "table",
    "interpreter": "table",
    "client": "table",
    "writer": "table",
}
_COMMAND_KEYS = {
    "sends_stdin": "bool",
    "keys": "str",
    "prints_with": "strlist",
    "outputs": "str",
    "outputs_with": "strlist",
    "lists": "str",
    "lists_with": "strlist",
    "login_stdin": "strlist",
    "service": "strlist",
    "effect": "str",
    "operands": "strlist",
    "runs": "strlist",
    "options": "roles",
    "no_effect_with": "strlist",
    "effect_with": "table",
    "pattern_options": "strlist",
    "recursive": "bool",
}
_WRAPPER_ONLY = (
    "run",
    "positionals",
    "options_after_positionals",
    "assignments",
    "clears_env",
    "keeps_env",
    "subcommand",
    "subcommands",
    "consumes_stdin",
    "fills",
    "no_command",
    "terminators",
    "embedded_options",
    "embedded_terminators",
    "replace",
)
_INTERPRETER_ONLY = (
    "stdin_script",
    "stdin_without_script",
    "code_subcommands",
    "program_positional",
    "unsafe_code",
)
_WRITER_ONLY = ("files", "file_prefixes", "only_with", "script_options")


def _pair(role: str) -> bool:
    """`A+B`: an option that takes two words, the first with role A, the second with B."""
    return role.count("+") == 1


class _Checker:
    def __init__(self, origin: str, name: str) -> None:
        self.origin = origin
        self.where = f"[grammar.{name}]"

    def fail(self, what: str) -> None:
        raise PolicyError(f"{self.origin}: {self.where}: {what}")

    def typed(self, key: str, value: Any, kind: str) -> None:
        ok = {
            "strlist": isinstance(value, list) and all(isinstance(v, str) and v for v in value),
            "str": isinstance(value, str) and bool(value),
            "bool": isinstance(value, bool),
            "int": isinstance(value, int) and not isinstance(value, bool) and value >= 0,
            "table": isinstance(value, dict),
            "roles": isinstance(value, dict),
        }[kind]
        if not ok:
            self.fail(f"{key!r} must be {kind.replace('strlist', 'a list of strings')}")

    def roles(self, key: str, table: dict[str, Any], options: bool) -> dict[str, str]:
        """{role: [names]} -> {name: role}; every name has one role."""
        out: dict[str, str] = {}
        for role, names in table.items():
            if _pair(role) and all(r in ROLES and r not in NO_VALUE for r in role.split("+")):
                pass  # an option that takes two values (`jq --rawfile NAME FILE`)
            elif role not in ROLES:
                self.fail(f"{key}: unknown role {role!r} (known: {', '.join(sorted(ROLES))})")
            self.typed(f"{key}.{role}", names, "strlist")
            for n in names:
                if options and not (n.startswith(("-", "+")) and len(n) > 1) and n != "-":
                    self.fail(f"{key}.{role}: {n!r} is not an option")
                if n in out and out[n] != role:
                    self.fail(f"{key}: {n!r} has two roles, {out[n]!r} and {role!r}")
                out[n] = role
        return out

    def operand_roles(self, key: str, roles: list[str]) -> list[str]:
        repeats = 0
        for r in roles:
            base = r.removesuffix("...")
            if base not in ROLES:
                self.fail(f"{key}: unknown operand role {r!r}")
            repeats += r.endswith("...")
        if repeats > 1:
            self.fail(f"{key}: at most one operand role may repeat ('...')")
        return list(roles)

    def effect(self, key: str, value: str) -> str:
        if value not in EFFECTS:
            self.fail(f"{key}: unknown effect {value!r} (known: {', '.join(EFFECTS)})")
        return value


def _check(origin: str, name: str, table: Any) -> dict[str, Any]:
    """Validate one program's table; return the effect-model view of it."""
    c = _Checker(origin, name)
    if not isinstance(table, dict):
        c.fail("must be a table")
    for key, value in table.items():
        if key not in _TOP_KEYS:
            c.fail(f"unknown key {key!r} (known: {', '.join(_TOP_KEYS)})")
        c.typed(key, value, _TOP_KEYS[key])
    options = c.roles("options", table.get("options", {}), True)
    global_ = c.roles("global", table.get("global", {}), True)
    keys: dict[str, dict[str, str]] = {}
    for opt, roles in table.get("keys", {}).items():
        operand = opt == "operands" and (
            any(r.removesuffix("...") == "keyval" for r in table.get("operands", ()))
            or any(  # a subcommand's `key` operands read with it (`npm config set KEY VALUE`)
                isinstance(spec, dict) and spec.get("keys") == "operands"
                for spec in table.get("commands", {}).values()
            )
        )
        if not operand and options.get(opt, global_.get(opt)) != "keyval":
            c.fail(f"keys.{opt}: {opt!r} is not a 'keyval' option of this program")
        c.typed(f"keys.{opt}", roles, "table")
        keys[opt] = {k.lower(): r for k, r in c.roles(f"keys.{opt}", roles, False).items()}
    commands: dict[str, dict[str, Any]] = {}
    for sub, given in table.get("commands", {}).items():
        spec: dict[str, Any] = {"effect": given} if isinstance(given, str) else given
        c.typed(f"commands.{sub}", spec, "table")
        for k, v in spec.items():
            if k not in _COMMAND_KEYS:
                c.fail(f"commands.{sub}: unknown key {k!r} (known: {', '.join(_COMMAND_KEYS)})")
            c.typed(f"commands.{sub}.{k}", v, _COMMAND_KEYS[k])
        commands[sub] = {
            "effect": c.effect(f"commands.{sub}", spec["effect"]) if "effect" in spec else None,
            "operands": c.operand_roles(f"commands.{sub}", spec["operands"])
            if "operands" in spec
            else None,
            "runs": list(spec.get("runs", ())),
            "options": c.roles(f"commands.{sub}.options", spec.get("options", {}), True),
            "no_effect_with": list(spec.get("no_effect_with", ())),
            "effect_with": _effect_with(c, f"commands.{sub}", spec.get("effect_with", {})),
            "pattern_options": list(spec.get("pattern_options", ())),
            "recursive": spec.get("recursive", False),
            "keys": _keys_table(c, sub, spec.get("keys"), keys),
            "prints_with": list(spec.get("prints_with", ())),
            "outputs": spec.get("outputs"),
            "outputs_with": list(spec.get("outputs_with", ())),
            "lists": _lists(c, f"commands.{sub}", spec),
            "lists_with": list(spec.get("lists_with", ())),
            "login_stdin": list(spec.get("login_stdin", ())),
            "service": list(spec.get("service", ())),
            "sends_stdin": spec.get("sends_stdin", False),
        }
    return {
        "names": [name, *[n for n in table.get("names", ()) if n != name]],
        "clusters": table.get("clusters", True),
        "code_continues": table.get("code_continues", False),
        "options": options,
        "global": global_,
        "keys": keys,
        "env": c.roles("env", table.get("env", {}), False),
        "env_config": _env_config(c, table.get("env_config"), options, global_),
        # Operands a grammar does not describe may be files it reads; a program that runs
        # another command (a wrapper) hands its operands to that command instead, and one
        # with subcommands describes them per subcommand.
        "operands": c.operand_roles(
            "operands",
            table.get("operands", [] if "wrapper" in table or "commands" in table else ["read..."]),
        ),
        "commands": commands,
        "effect": c.effect("effect", table["effect"]) if "effect" in table else None,
        "bare": c.effect("bare", table["bare"]) if "bare" in table else None,
        "runs": list(table.get("runs", ())),
        "no_effect_with": list(table.get("no_effect_with", ())),
        "effect_with": _effect_with(c, "effect_with", table.get("effect_with", {})),
        "pattern_options": list(table.get("pattern_options", ())),
        "outputs": table.get("outputs"),
        "outputs_with": list(table.get("outputs_with", ())),
        "lists": _lists(c, "lists", table),
        "lists_with": list(table.get("lists_with", ())),
        "stdin_lines": table.get("stdin_lines", False),
        "filters": table.get("filters", False),
        "filters_unless": list(table.get("filters_unless", ())),
        "operands_with": _operands_with(c, table.get("operands_with", {})),
        "in_place": list(table.get("in_place", ())),
        "replaces_with": list(table.get("replaces_with", ())),
        "replaces_link_with": list(table.get("replaces_link_with", ())),
        "unpacks": list(table.get("unpacks", ())),
        "fills": _fills(table.get("wrapper", {})),
        # The language of inline code (-c), read by effects/pyprog.py as the shell analysis does.
        "code_language": table.get("interpreter", {}).get("code_language"),
        "sends_stdin": table.get("sends_stdin", False),
        # How a source names a directory's contents rather than the directory (cp: DIR/.).
        "dir_contents": table.get("dir_contents", "/."),
        "unlisted": c.effect("unlisted", table["unlisted"]) if "unlisted" in table else None,
        "command_depth": table.get("command_depth", 0),
        "read_verbs": list(table.get("read_verbs", ())),
        "plugins": _plugins(c, name, table.get("plugins"), commands),
    }


def _effect_with(c: Any, where: str, table: dict[str, Any]) -> dict[str, str]:
    """`effect_with`: option -> the effect the call has when that option is given;
    `OPTION=GLOB` when its value matches GLOB (`--target=prod*`); `NAME=GLOB` when the
    variable NAME does, set in the environment or as a NAME=VALUE operand (`RAILS_ENV=prod*`)."""
    for opt, effect in table.items():
        name, eq, glob = opt.partition("=")
        if not (name.startswith("-") or (eq and glob and name.isidentifier())):
            c.fail(f"{where}: {opt!r} is not an option or NAME=GLOB")
        c.effect(f"{where}.{opt}", effect)
    return dict(table)


def _operands_with(c: Any, table: dict[str, Any]) -> dict[str, list[str]]:
    """`operands_with`: option -> the operand roles when that option is given."""
    out = {}
    for opt, roles in table.items():
        c.typed(f"operands_with.{opt}", roles, "strlist")
        out[opt] = c.operand_roles(f"operands_with.{opt}", roles)
    return out


def _plugins(c: _Checker, name: str, given: Any, commands: dict[str, Any]) -> dict[str, Any] | None:
    """[X.plugins] prefix, builtins: `X NAME` with NAME neither a built-in subcommand nor in
    [X.commands] runs the program PREFIX-NAME (effects/loaded.py `plugin`)."""
    if given is None:
        return None
    for k, v in given.items():
        if k not in ("prefix", "builtins"):
            c.fail(f"plugins: unknown key {k!r} (known: prefix, builtins)")
        c.typed(f"plugins.{k}", v, "str" if k == "prefix" else "strlist")
    prefix = given.get("prefix", "")
    if prefix != name + "-":
        c.fail(f"plugins.prefix: must be the program's name and '-' ({name}-), not {prefix!r}")
    heads = {sub.split()[0] for sub in commands}
    return {"prefix": prefix, "builtins": sorted(heads | set(given.get("builtins", ())))}


def _lists(c: Any, where: str, table: dict[str, Any]) -> str | None:
    """`lists`: the operand role whose paths the program prints the names of (and of the
    entries below them), or "." for the working directory's whole tree."""
    value = table.get("lists")
    if value is not None and value not in ("read", "value", "."):
        c.fail(f'{where}: lists must be "read", "value" or ".", not {value!r}')
    return value


def _fills(wrapper: dict[str, Any]) -> str | None:
    """Where the `{}` words of the command a wrapper runs come from: its input (xargs) or the
    paths it finds (find -exec)."""
    if wrapper.get("fills"):
        return "input"
    return "found" if wrapper.get("run") == "embedded" else None


def _keys_table(c: _Checker, sub: str, name: str | None, keys: dict[str, Any]) -> str | None:
    """A subcommand's `keys`: the table its `key` operands are read with (an option's
    [X.keys.OPTION], "operands"), or "environment" (variables for the programs it starts)."""
    if name is not None and name != "environment" and name not in keys:
        c.fail(f"commands.{sub}.keys: no [keys.{name!r}] table")
    return name


def _env_config(
    c: _Checker, given: Any, options: dict[str, str], global_: dict[str, str]
) -> dict[str, str] | None:
    """[X.env_config]: the count variable, key and value prefixes, and the keyval option."""
    if given is None:
        return None
    for k in ("count", "key", "value", "option"):
        c.typed(f"env_config.{k}", given.get(k), "str")
    extra = set(given) - {"count", "key", "value", "option"}
    if extra:
        c.fail(f"env_config: unknown key {sorted(extra)[0]!r}")
    if options.get(given["option"], global_.get(given["option"])) != "keyval":
        c.fail(f"env_config.option: {given['option']!r} is not a 'keyval' option")
    return {k: given[k] for k in ("count", "key", "value", "option")}


def _by_kind(roles: dict[str, str], kinds: dict[str, str]) -> dict[str, list[str]]:
    """{option: role} -> {catalogue key: [options]} for the shell-analysis catalogue."""
    out: dict[str, list[str]] = {}
    for opt, role in roles.items():
        key = kinds.get(WALKER_KIND.get(role, "value"))
        if key:
            out.setdefault(key, []).append(opt)
    return out


def _analysis_tables(name: str, table: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
    """The [wrappers]/[shell.*] catalogue entries this program's grammar implies."""
    from ..shellspec import OPTION_KEYS

    key_of = {kind: key for key, kind in OPTION_KEYS.items()}
    names = view["names"][1:]
    out: dict[str, Any] = {}
    roles = view["options"]
    if "wrapper" in table:
        entry = {k: v for k, v in table["wrapper"].items()}
        entry.update(_by_kind(roles, key_of))
        value_globals = [o for o, r in view["global"].items() if r not in NO_VALUE]
        if value_globals:
            entry["global_options"] = value_globals
        for k in ("clusters", "plus_options", "numeric_flags"):
            if k in table:
                entry[k] = table[k]
        out["wrappers"] = {name: {"names": names, **entry}}
    if "interpreter" in table:
        entry = dict(table["interpreter"])
        entry.update(_by_kind(roles, key_of))
        # A built-in server's address (`php -S ADDR`) also gives the interpreter its program:
        # the files it serves, not a program on stdin.
        files = [o for o, r in roles.items() if r in ("program-file", "bind")]
        if files:
            entry["program_file_options"] = files
        if "clusters" in table:
            entry["clusters"] = table["clusters"]
        out["interpreters"] = {name: {"names": names, **entry}}
    if "client" in table:
        out["clients"] = {name: {"names": names, **table["client"]}}
    if "writer" in table:
        entry = dict(table["writer"])
        writes = [o for o, r in roles.items() if r == "write"]
        values = [o for o, r in roles.items() if r not in NO_VALUE and r != "write"]
        if writes:
            entry["file_options"] = writes
        if values:
            entry["value_options"] = values
        entry["clusters"] = table.get("clusters", True)
        out["writers"] = {name: {"names": names, **entry}}
    return out


def _matcher_table(table: dict[str, Any], view: dict[str, Any]) -> dict[str, Any]:
    """The [programs.NAME] entry the rule matcher reads (tokenize.Command)."""
    out: dict[str, Any] = {}
    names = [n for n in view["names"][1:] if not is_glob(n)]
    if names:
        out["names"] = names
    g = view["global"]
    if g:
        out["global_options"] = [o for o, r in g.items() if r not in NO_VALUE]
        out["global_flags"] = [o for o, r in g.items() if r in NO_VALUE]
    values = [o for o, r in view["options"].items() if r not in NO_VALUE and "attached" not in r]
    if values:
        out["value_options"] = values
    for k in ("equivalent", "clusters", "targets", "target_positional"):
        if k in table:
            out[k] = table[k]
    return out


def expand(origin: str, grammar: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """One layer's `grammar` table -> (policy layer keys it implies, effect views by name)."""
    if not isinstance(grammar, dict):
        raise PolicyError(f"{origin}: [grammar] must be a table of programs")
    layer: dict[str, Any] = {"programs": {}, "wrappers": {}, "shell": {}}
    views: dict[str, Any] = {}
    for name, table in grammar.items():
        view = _check(origin, name, table)
        for k in _WRAPPER_ONLY:
            if k in table.get("interpreter", {}) or k in table.get("writer", {}):
                raise PolicyError(f"{origin}: [grammar.{name}]: {k!r} belongs in [.wrapper]")
        matcher = _matcher_table(table, view)
        if matcher:
            layer["programs"][name] = matcher
        for key, entries in _analysis_tables(name, table, view).items():
            if key == "wrappers":
                layer["wrappers"].update(entries)
            else:
                layer["shell"].setdefault(key, {}).update(entries)
        views[name] = view
    return layer, views


def is_glob(name: str) -> bool:
    return any(c in name for c in "*?[")


def index(views: dict[str, Any]) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Program name (and every other name) -> the grammar that describes it; glob names
    (`python3.*`) apart, in order."""
    exact: dict[str, str] = {}
    globs: list[tuple[str, str]] = []
    for name, view in views.items():
        for n in view["names"]:
            if is_glob(n):
                globs.append((n, name))
            else:
                exact.setdefault(n, name)
        exact[name] = name
    return exact, globs


def builtin_files() -> list[str]:
    """The shipped grammar files (the hot path lists them: paths.grammar_files)."""
    from ..paths import grammar_files

    return grammar_files()
