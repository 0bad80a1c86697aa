"""The one place that turns a concrete command into a whitelist pattern, and judges patterns.

Used by "approve and remember" at the prompt and by `guard audit suggest`, so both propose the
same rule for the same command. The proposal is the narrowest pattern that still generalises:

- it keeps what defines the operation: the program, its subcommands (`git log`, `kubectl
  rollout undo`), an interpreter's module or script (`python3 -m pytest`, `node build.js`);
- an ordinary operation lets its arguments vary: `git log -n 5` -> `git log **`;
- an operation that has protected effects somewhere in the catalogue (`curl`, `sed`, `cp`)
  keeps its options literally and each other argument by its shape: a name in the working
  tree, a URL's host (`curl -s http://h/x` -> `curl -s 'http://h/*'`), an editor's script
  text (`sed -n '/a/,/b/p' f` -> `sed -n '[!*?[-]*' '[!*?[./~-]*'`); anything outside the
  working tree, and shell globs (`*.py` stands for every such name), literally;
- a remover (`rm`, `unlink`, `chmod +x`) keeps the kind of file, its extension:
  `rm reproduce.py` -> `rm '[!*?[./~-]*[!]*?[/].py'`; other destructive operations (`git
  push`, `kill`, `dd`) keep every word: only that exact command is remembered;
- shells, wrappers and inline code (`bash x.sh`, `sudo ...`, `python3 -c CODE`) are remembered
  only as the exact command, never with a wildcard; a command too long to be a rule has no
  proposal at all.

What guard knows about a program's shape sits behind `program_kind` and `operation_words`,
fed today from the policy (`[programs.*]`, the shell catalogue, the rules' first tokens) so a
grammar package can take their place without touching the callers.
"""

from __future__ import annotations

import os
import shlex

from .match import SHAPE_CLASS, TEXT_CLASS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .policy import Policy

_GLOB_CHARS = "*?["
MAX_EXACT = 300  # characters: a longer command is reviewed each time, not remembered exactly
SHELLS = frozenset(
    ("sh", "bash", "dash", "zsh", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "busybox")
)
# Shell builtins that change what later commands run or where they look (`hash -p`, `alias`,
# `enable -f`, `source`): remembered only exactly, like a shell.
SHELL_BUILTINS = frozenset(
    (
        "hash",
        "alias",
        "unalias",
        "enable",
        "source",
        ".",
        "eval",
        "exec",
        "builtin",
        "command",
        "trap",
        "export",
        "declare",
        "typeset",
        "set",
        "shopt",
        "unset",
        "readonly",
        "local",
        "let",
    )
)
# Programs whose every use destroys or changes state for good (a file, a mode, a process): they
# have no subcommands, and a shaped argument would reach other targets, so only the exact
# command is remembered (the removers below excepted).
DESTRUCTIVE = frozenset(
    (
        "rm",
        "rmdir",
        "unlink",
        "shred",
        "truncate",
        "wipefs",
        "chmod",
        "chown",
        "chgrp",
        "chattr",
        "kill",
        "pkill",
        "killall",
        "dd",
        "mkfs",
        "crontab",
        "userdel",
        "passwd",
    )
)
# Of those, the ones whose every operand is a file they remove or change (`rm`, `chmod +x`):
# remembered by the kind of file (its extension), options literally.
REMOVERS = frozenset(("rm", "unlink", "chmod"))
DESTRUCTIVE_OPS = frozenset(
    (
        ("git", "push"),
        ("git", "reset"),
        ("git", "clean"),
        ("git", "rm"),
        ("docker", "rm"),
        ("kubectl", "delete"),
        ("gh", "release"),
        ("npm", "publish"),
        ("cargo", "publish"),
    )
)
# Of those, the ones whose destructive forms are options or refspec spellings the catalogue
# marks irreversible (`git push --force`, `+main`, `:old`): the branches pushed are
# remembered by their family (`_branches`), never a bare name or another remote.
REFSPEC_OPS = frozenset((("git", "push"),))
# Wrappers that run their command unchanged (a time limit, a priority, a project environment):
# remembered as the wrapper's own words, literally, then the command's own narrow pattern.
# Any other wrapper (sudo, env, xargs, ssh, ...) is remembered only exactly.
TRANSPARENT = frozenset(
    (
        "timeout",
        "nice",
        "nohup",
        "time",
        "stdbuf",
        "ionice",
        "setsid",
        "unbuffer",
        "xvfb-run",
        "dbus-run-session",
        "valgrind",
        "catchsegv",
        "chrt",
        "taskset",
        "numactl",
        "tini",
        "dumb-init",
        "uv",
        "poetry",
        "pipenv",
        "pdm",
        "hatch",
        "bundle",
    )
)
# One argument that is not an option, an absolute, home or dot path, nor a shell glob that
# expands to every name of the working directory (`*`, `*.py`): guard matches words as
# written, so a glob the reviewer never saw must not pass for the one name they approved. The
# matcher reads a token holding SHAPE_CLASS as such a shape: it never matches a word with a glob
# character anywhere, a `..` component, or a word known only at run time (match.py).
SHAPE = SHAPE_CLASS + "*"
# Free text, an option's value with a space (`--comment 'fixed in 2.1'`): the matcher refuses a
# word known only at run time for it (match.TEXT_CLASS).
TEXT = TEXT_CLASS + "* *"
_PROTECTING = ("deny", "irreversible", "review")
KINDS = ("shell", "interpreter", "wrapper", "protected", "plain")


# --- what guard knows about a program (the grammar's future seat) -----------------------------


def program_kind(policy: Policy, name: str) -> str:
    """ "shell" | "interpreter" | "wrapper" | "protected" | "plain" for a program's base name.

    wrapper: runs the program named in its arguments whatever its subcommand (`sudo`, `env`,
    `xargs`); programs that wrap only in some subcommands (`docker run`, `kubectl exec`) or
    through options (`find -exec`) count as protected. protected: some deny, irreversible or
    review rule names this program, or the shell catalogue knows it writes files or talks to a
    database (writers, clients).
    """
    shell = policy.shell
    if name in SHELLS or name in SHELL_BUILTINS:
        return "shell"
    if _family(shell, "interpreter", name):
        return "interpreter"
    wrapper = _wrapper_spec(policy, name)
    if wrapper is not None and not wrapper.get("subcommands") and wrapper.get("run") != "embedded":
        return "wrapper"
    if wrapper is not None or _family(shell, "writer", name) or _family(shell, "client", name):
        return "protected"
    if _protecting_rules(policy, name) or _grammar_protected(policy, name):
        return "protected"
    return "plain"


def _grammar_protected(policy: Policy, name: str) -> bool:
    """Does the program's grammar declare a protected effect for it or a subcommand?"""
    view = policy.grammars.get(name)
    if view is None:
        return False
    tags = {view.get("effect"), view.get("bare")}
    tags.update(spec.get("effect") for spec in view.get("commands", {}).values())
    from .effects.model import TAG_CLASS  # the effects that make `PROG **` too broad

    return bool(tags & TAG_CLASS.keys())


def _family(shell: dict[str, Any], kind: str, name: str) -> str | None:
    """The catalogue entry (`[shell.interpreters.python]`...) a program name belongs to."""
    from .wildcard import match

    family = (shell.get(f"{kind}_names") or {}).get(name)
    if family is None:
        globs = shell.get(f"{kind}_globs") or ()
        family = next((f for glob, f in globs if match(glob, name)), None)
    return family


def _wrapper_spec(policy: Policy, name: str) -> dict[str, Any] | None:
    family = _family(policy.shell, "wrapper", name)
    return policy.shell["wrappers"].get(family) if family else None


def _protecting_rules(policy: Policy, name: str) -> list[list[str]]:
    """The argument words of every deny/irreversible/review pattern whose program is `name`."""
    from .wildcard import match

    found = []
    for kind in _PROTECTING:
        for rule in policy.candidates(kind, name):
            for text in rule["match"]:
                words = text.split()
                if words and match(words[0], name):
                    found.append(words[1:])
    return found


def operation_words(policy: Policy, argv: list[str]) -> int:
    """How many words after the program (and its global options) name the operation.

    `git stash list` -> 2 when some rule of the policy spells `git stash ...`; `git log -n 5`
    -> 1; `ls -la` -> 0. A word counts only if it reads like a subcommand, and a second or
    third word only if the policy's rules name that deeper subcommand.
    """
    from .tokenize import Command

    cmd = Command(argv, policy.programs)
    args = cmd.args
    if not args or not _is_subcommand(args[0]):
        return 0
    view = policy.grammars.get(cmd.name)
    if view is not None and view.get("commands"):
        # The grammar knows the subcommand tree (`kubectl rollout undo`, `aws s3 rm`).
        from .grammar.scan import scan

        found = len(scan(argv, view).command_at)
        if found:
            return found
    known = _rule_prefixes(policy, cmd.name)
    n = 1
    while n < min(len(args), 3) and _is_subcommand(args[n]) and tuple(args[: n + 1]) in known:
        n += 1
    if n == 1 and cmd.spec is None and (args[0],) not in known:
        # A program guard knows nothing about: its first word may be a file name (`make
        # test`, `pytest tests`); keep it only if it cannot be mistaken for one.
        return 1 if "." not in args[0] else 0
    return n


def _rule_prefixes(policy: Policy, name: str) -> set[tuple[str, ...]]:
    """Literal word prefixes (after the program) that the policy's rules spell out."""
    from .wildcard import match

    found: set[tuple[str, ...]] = set()
    for kind in ("deny", "irreversible", "review", "allow"):
        for rule in policy.candidates(kind, name):
            for text in rule["match"]:
                words = text.split()
                if not words or not match(words[0], name):
                    continue
                lead: list[str] = []
                for word in words[1:]:
                    if any(c in word for c in _GLOB_CHARS) or word.startswith("-"):
                        break
                    lead.append(word)
                    found.add(tuple(lead))
    return found


def operation_kind(policy: Policy, argv: list[str]) -> tuple[str, list[str]]:
    """(kind, operation words) of one command: `program_kind` refined by its operation.

    `docker run ...` is a wrapper though `docker` is not; `git log` is plain though `git`
    has protected operations (`git push`); an operation is protected when a deny,
    irreversible or review rule names it (`git push **`), or names the bare program
    (`rm **`) and the command has no subcommand.
    """
    from .tokenize import Command

    name = os.path.basename(argv[0].rstrip("/")) or argv[0]
    if name in DESTRUCTIVE:
        return "protected", []  # no subcommands: `rm build` is not an operation `build`
    kind = program_kind(policy, name)
    cmd = Command(argv, policy.programs)
    ops = cmd.args[: operation_words(policy, argv)]
    if kind in ("shell", "interpreter", "wrapper", "plain"):
        return kind, ops
    wrapper = _wrapper_spec(policy, name)
    if wrapper is not None:
        for sub in wrapper.get("subcommands") or ():
            if cmd.args[: len(sub)] == list(sub):
                return "wrapper", ops
        if wrapper.get("run") == "embedded":
            return "protected", ops
    shell = policy.shell
    if _family(shell, "writer", name) or _family(shell, "client", name):
        return "protected", ops
    for words in _protecting_rules(policy, name):
        if _names_operation(words, ops):
            return "protected", ops
    return "plain", ops


def _names_operation(words: list[str], ops: list[str]) -> bool:
    """Does a rule's argument words name this operation (or, with no operation, apply to
    the bare program)? Rules that reach every operation only through flags (`git **` with
    `--ext-diff`) stay in force against any allow rule, so they do not narrow learning."""
    from .wildcard import match

    if not ops:
        return True
    if not words or any(c in words[0] for c in _GLOB_CHARS) or words[0].startswith("-"):
        return False
    for word, op in zip(words, ops, strict=False):
        if word == "**":
            return True
        if not match(word, op):
            return False
    return True


# --- proposing -----------------------------------------------------------------------------------


def _is_subcommand(word: str) -> bool:
    """A word that reads like a subcommand (`log`, `get`, `compose`), not a path or a value."""
    return (
        0 < len(word) <= 40
        and word[0].isascii()
        and word[0].isalpha()
        and all(c.isascii() and (c.isalnum() or c in "-_") for c in word)
    )


def quote_token(token: str) -> str:
    """One literal token as a pattern word: glob characters escaped, then shell-quoted."""
    if any(c in token for c in _GLOB_CHARS):
        token = "".join(f"[{c}]" if c in _GLOB_CHARS else c for c in token)
    return shlex.quote(token)


def program_word(program: str) -> str:
    """The pattern's first word: the base name for a program found on PATH (`git`), the
    normalised path for one called by path (`/opt/x/run.sh`, `scripts/x.sh`), so a rule
    learned for one script never allows another of the same name elsewhere."""
    from .tokenize import program_path

    path = program_path(program)
    return quote_token(path if "/" in path else os.path.basename(path) or program)


def exact(argv: list[str]) -> str | None:
    """The pattern naming exactly this command (no wildcard), or None if too long for a rule."""
    text = " ".join([program_word(argv[0]), *(quote_token(w) for w in argv[1:])])
    return text if len(text) <= MAX_EXACT else None


def _interpreter_head(policy: Policy, argv: list[str]) -> list[str] | None:
    """The words of an interpreter call up to its module or script (`python3 -X dev -m pytest`),
    or None when it runs inline code, reads stdin, or names no file."""
    spec = _interpreter_spec(policy, os.path.basename(argv[0]))
    options: dict[str, str] = dict(spec.get("options") or {}) if spec else {}
    i = 1
    while i < len(argv):
        word = argv[i]
        role = options.get(word)
        if role == "end":  # `-m MODULE`: the module defines the operation
            return argv[: i + 2] if i + 1 < len(argv) and _is_module(argv[i + 1]) else None
        if role == "value":
            i += 2
            continue
        if role in ("code", "info") or word in ("-", "--"):
            return None
        if word.startswith("-"):
            glued = word.startswith("--") or any(
                options.get(f"-{c}") in ("code", "end", "value") for c in word[1:]
            )
            if glued:
                return None  # `-cCODE`, `-Bc CODE`, `-mpytest`: such forms are spelled exactly
            i += 1
            continue
        return argv[: i + 1] if _is_script(word) else None
    return None


def _interpreter_spec(policy: Policy, name: str) -> dict[str, Any] | None:
    family = _family(policy.shell, "interpreter", name)
    spec = policy.shell.get("interpreters", {}).get(family) if family else None
    return spec if isinstance(spec, dict) else None


def _is_module(word: str) -> bool:
    return bool(word) and all(c.isascii() and (c.isalnum() or c in "._") for c in word)


def _is_script(word: str) -> bool:
    return bool(word) and not any(c in word for c in "*?[$`\n") and word[0] != "-"


def generalise(policy: Policy, argv: list[str]) -> str | None:
    """The pattern "approve and remember" proposes for `argv`, or None when nothing may be
    remembered (a command too long to whitelist exactly).

    `git log -n 5` -> `git log **`; `python3 -m pytest -q tests/` -> `python3 -m pytest **`;
    `timeout 30 python3 x.py` -> `timeout 30 python3 x.py **`; `sed -i s/a/b/ f.py` ->
    `sed -i '[!*?[-]*' '[!*?[./~-]*'`; `rm build.log` -> `rm '[!*?[./~-]*[!]*?[/].log'`;
    `bash x.sh` -> `bash x.sh`.
    """
    if not argv or not argv[0]:
        raise ValueError("cannot generalise an empty command")
    kind, ops = operation_kind(policy, argv)
    if kind == "interpreter":
        head = _interpreter_head(policy, argv)
        return _pattern(head[0], head[1:], wild=True) if head else exact(argv)
    if kind == "wrapper":
        return _through_wrapper(policy, argv)
    if kind == "protected":
        return _shaped(policy, argv, ops)
    if kind != "plain":
        return exact(argv)
    return _pattern(argv[0], ops, wild=True)


def for_protected(policy: Policy, argv: list[str]) -> str | None:
    """The pattern "approve and remember" proposes for a command sent to review by a protected
    effect (effects/judge.py), or None when no allow rule lifts one of its effects
    (irreversible, self-tamper, privilege, a secret sent out).

    The narrow pattern of `generalise` when it names every operation literally (`gh issue close
    12` -> `gh issue close '[!*?[./~-]*'`, never `gh **`), else the exact command when that
    lifts them all (persistence and code of unknown safety want the whole command). Checked
    with the engine's own rule (`judge.lifts`), so what is remembered lifts the review."""
    from .effects import judge
    from .effects.model import LIFT
    from .match import pattern_match
    from .policy import compile_pattern
    from .tokenize import Command

    effects = [e for e in judge.effects_of(policy, argv, judge.context(policy)) if e.protected]
    if not effects or any(LIFT.get(e.protected or "") == "never" for e in effects):
        return None
    cmd = Command(argv, policy.programs)
    kind, ops = operation_kind(policy, argv)
    # A protected operation keeps its options literally, its operands by shape (`_shaped`):
    # `gh issue close **` would also lift `gh issue close 12 -R other/repo`.
    narrow = _shaped(policy, argv, ops) if kind in ("plain", "protected") else None
    if kind == "wrapper":
        narrow = _runs_package(policy, argv)
    for pattern in (narrow, exact(argv)):
        if pattern is None:
            continue
        tokens = compile_pattern(pattern)
        if pattern_match(tokens, cmd) and all(judge.lifts(tokens, e) for e in effects):
            return pattern
    return None


def _runs_package(policy: Policy, argv: list[str]) -> str | None:
    """A wrapper that fetches a package and runs its command (`npx [OPTIONS] PKG ARGS`): its
    words up to the package literally (the package names the operation), then the narrow
    pattern of the command it runs, which the shell analysis also decides as a part of its own
    (`npx -y prisma generate` -> `npx -y prisma generate **`)."""
    name = os.path.basename(argv[0].rstrip("/")) or argv[0]
    view = policy.grammars.get(name)
    if view is None:
        return None
    from .grammar.scan import scan

    words = scan(argv, view).words
    at = next((w.index for w in words if w.role == "package" and w.option is None), None)
    inner = generalise(policy, argv[at:]) if at is not None else None
    first = program_word(argv[at]) if at is not None else ""
    if at is None or inner is None or not inner.startswith(first + " "):
        return None
    head = [program_word(argv[0]), *(quote_token(w) for w in argv[1 : at + 1])]
    return _fits(" ".join(head) + inner[len(first) :], argv)


def wrapped(policy: Policy, argv: list[str]) -> tuple[list[str], list[str]] | None:
    """(the wrapper's own words, the command it runs) for a transparent wrapper whose options
    guard knows (`timeout -s KILL 30` + `python3 x.py`); None otherwise."""
    name = os.path.basename(argv[0].rstrip("/")) or argv[0]
    spec = _wrapper_spec(policy, name)
    if name not in TRANSPARENT or spec is None:
        return None
    args, i = argv[1:], 0
    subs = spec.get("subcommands") or ()
    if subs:
        sub = next((list(s) for s in subs if args[: len(s)] == list(s)), None)
        if sub is None:
            return None
        i = len(sub)
    options = spec.get("options") or {}
    while i < len(args) and args[i].startswith("-") and args[i] != "-":
        word = args[i]
        if word == "--":
            i += 1
            break
        role = options.get(word.split("=", 1)[0])
        if role is None:
            return None  # an option guard does not know: it may take the command's place
        i += 2 if role == "value" and "=" not in word else 1
    i += int(spec.get("positionals") or 0)
    if i >= len(args):
        return None
    return argv[: i + 1], args[i:]


def _through_wrapper(policy: Policy, argv: list[str]) -> str | None:
    split = wrapped(policy, argv)
    if split is None:
        return exact(argv)
    head, inner = split
    pattern = generalise(policy, inner)
    if pattern is None:
        return None
    words = [quote_token(w) for w in head[1:]] + [quote_token(inner[0])]
    text = " ".join([program_word(head[0]), *words, *pattern.split(" ")[1:]])
    return text if len(text) <= MAX_EXACT else None


def _shaped(policy: Policy, argv: list[str], ops: list[str]) -> str | None:
    """An operation with protected effects: options kept literally, each other argument by its
    shape (a relative name, a URL's host); destructive programs and targets outside the
    working tree (absolute, home, `..`) stay exact."""
    name = os.path.basename(argv[0].rstrip("/")) or argv[0]
    if name in REMOVERS:
        return _files_by_kind(policy, name, argv)
    refspecs = (name, *ops[:1]) in REFSPEC_OPS
    if name in DESTRUCTIVE or ((name, *ops[:1]) in DESTRUCTIVE_OPS and not refspecs):
        return exact(argv)
    from .tokenize import Command

    cmd = Command(argv, policy.programs)
    if cmd.globals:
        # A pattern with wildcards sees the command without its global options (`kubectl -n
        # prod get` is `kubectl get`): only the exact command keeps `-n prod`.
        return exact(argv)
    rest = cmd.args[len(ops) :]
    start = len(argv) - len(rest)
    if refspecs:
        return _fits(" ".join([*(quote_token(w) for w in argv[:start]), *_branches(rest)]), argv)
    scripts = _script_words(policy, name, argv)
    texts = _text_values(policy, name, argv, start)
    words = [program_word(argv[0]), *(quote_token(w) for w in argv[1:start])]
    for i, word in enumerate(rest, start):
        if i in scripts:
            words.append(_script(word))
        elif i in texts:
            opt, eq, _ = word.partition("=") if word.startswith("-") else ("", "", word)
            words.append(_glob(opt + eq, ("", TEXT)))
        else:
            words.append(_shape(word))
    return _fits(" ".join(words), argv)


def _text_values(policy: Policy, name: str, argv: list[str], start: int) -> set[int]:
    """The argv indexes (from `start`) of option values that are free text: a value with a
    space (`--comment 'fixed in 2.1'`, `--title=a b`) of an option whose value the grammar
    gives no role (not a path, host, URL, code or SQL), with no `$` (an expansion) and not
    itself an option. Such text is remembered by its kind, `TEXT`."""
    roles: dict[int, str] = {}
    view = policy.grammars.get(name)
    if view is not None:
        from .grammar.scan import scan

        roles = {w.index: w.role for w in scan(argv, view).words}
    found = set()
    for i in range(max(start, 1), len(argv)):
        prev, word = argv[i - 1], argv[i]
        opt, eq, value = word.partition("=")
        if word.startswith("--") and eq:
            prev, word = opt, value  # `--title=a b`
        elif not (prev.startswith("-") and prev != "--" and "=" not in prev) or i - 1 < start:
            continue
        plain = " " in word and not any(c in word for c in "$\0") and word[:1] != "-"
        if plain and roles.get(i) in (None, "value"):
            found.add(i)
    return found


def _branches(rest: list[str]) -> list[str]:
    """`git push`'s words after the operation: options and the remote literally, each branch
    by its family (`feat/api-keys` -> `feat/[!*?[./~-]*`, any other branch named `feat/...`);
    a branch with no family (`dev`, `main`), or any other refspec, literally."""
    words, remote = [], False
    for word in rest:
        family, slash, leaf = word.rpartition("/")
        plain = remote and slash and family[:1].isalnum() and leaf[:1].isalnum()
        if plain and ".." not in word and not any(c in word for c in "*?[:+$`\\ \0"):
            words.append(_glob(family + "/", ("", SHAPE)))
        else:
            words.append(quote_token(word))
        remote = remote or not word.startswith("-")
    return words


def _files_by_kind(policy: Policy, name: str, argv: list[str]) -> str | None:
    """A remover's (`rm`, `unlink`, `chmod +x`) pattern: every option and mode literally, each
    file it changes by its kind, a name in the working tree with the same extension
    (`rm reproduce.py` -> `rm '[!*?[./~-]*[!]*?[/].py'`); any other target (absolute, home,
    dot, `..`, a glob, no extension) literally. `rm -r`/`-f` stays irreversible whatever is
    remembered."""
    view = policy.grammars.get(name)
    if view is None:
        return exact(argv)
    from .grammar.scan import scan

    files = {w.index for w in scan(argv, view).words if w.role in ("write", "meta")}
    words = [program_word(argv[0])]
    words += [_kind(w) if i in files else quote_token(w) for i, w in enumerate(argv) if i]
    return _fits(" ".join(words), argv)


def _fits(text: str, argv: list[str]) -> str | None:
    """A shaped pattern, or the exact command (narrower, often shorter) when the shapes make it
    too long for a rule."""
    return text if len(text) <= MAX_EXACT else exact(argv)


def _kind(path: str) -> str:
    """`src/x.py` -> `[!*?[./~-]*[!]*?[/].py`: a relative name with this extension (no glob
    right before it either: `src/*.py` is every such file); an absolute path's directory stays
    literal (`_directory`); else the path itself."""
    folder = _directory(path)
    name = path[len(folder) :]
    stem, ext = os.path.splitext(name)
    plain = name[:1] not in "/~.-" and ".." not in path and ext[1:].isalnum() and ext.isascii()
    if not plain or len(stem) < 2 or any(c in path for c in "*?[]$:\0\n"):
        return quote_token(path)
    return _glob(folder, ("", f"{SHAPE}[!]*?[/]{ext}"))


def _directory(path: str) -> str:
    """The literal directory (with its slash) an absolute path's shape keeps, or "": one at
    least three deep with no hidden component (`/home/me/proj/` and below, never `/etc/`,
    `/tmp/x/` or `~/.ssh/`), holding a name that is no option, dot or home path."""
    folder, slash, name = path.rpartition("/")
    parts = folder.split("/")
    deep = path[:1] == "/" and len(parts) >= 4 and all(p and p[0] != "." for p in parts[1:])
    return folder + slash if deep and name[:1] not in "/~.-" else ""


def _script_words(policy: Policy, name: str, argv: list[str]) -> set[int]:
    """The argv indexes of a script-driven editor's script text (sed's `s/a/b/`, `-e '/x/d'`):
    the values of its script options, or else its first operand. Only for a writer whose
    catalogue entry names `script_options` and whose grammar reads the script as text (a
    value, or a sed script; not a file): what such a script may do beyond editing (sed's `e`,
    `w`) is a `[[review]]` rule's business, which only the exact command lifts, so the text
    itself is not kept."""
    family = _family(policy.shell, "writer", name)
    entry = policy.shell["writers"].get(family) if family else None
    view = policy.grammars.get(name)
    if not entry or not entry.get("script_options") or view is None:
        return set()
    from .grammar.scan import scan

    inv = scan(argv, view)
    options = set(entry["script_options"])
    if any(o in options for o, _, _ in inv.options):
        return {w.index for w in inv.words if w.option in options and w.role in _SCRIPT_ROLES}
    first = next((w for w in inv.words if w.option is None), None)
    return {first.index} if first is not None and first.role in _SCRIPT_ROLES else set()


# How a grammar reads an editor's script: a plain value, or sed's script (whose `r`/`w` files
# the effects read from it).
_SCRIPT_ROLES = ("value", "sed-script")


def _script(word: str) -> str:
    """An editor's script text by its shape: any text that cannot be read as an option
    (`--expression=TEXT` keeps its option)."""
    if word.startswith("--") and "=" in word:
        return _glob(word.partition("=")[0] + "=", ("", "*"))
    return _glob("", ("", "[!*?[-]*")) if word and word[0] not in "-*?[" else quote_token(word)


def _shape(word: str) -> str:
    if word.startswith("-") and word != "-":
        opt, eq, value = word.partition("=")
        return quote_token(word) if not eq else _glob(opt + "=", _value_glob(value))
    return _glob("", _value_glob(word))


def _value_glob(value: str) -> tuple[str, str]:
    """(literal prefix, glob suffix) for one argument's shape."""
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "", value
    host, slash, path = rest.partition("/")
    if sep or (":" in host and host.split(":")[-1].isdigit()):
        prefix = f"{scheme}{sep}{host}{slash}"
        return (prefix, "*") if path else (value, "")
    if not value or ".." in value or any(c in value for c in "$\0*?[:"):
        return value, ""
    if value.startswith("./") and len(value) > 2 and value[2] not in "/~.-":
        return "./", SHAPE  # a name in the working directory, spelled with ./
    if value[0] == "/" and _directory(value):
        return _directory(value), SHAPE  # a name below that directory
    if value[0] in "/~.-":
        return value, ""
    return "", SHAPE


def _glob(literal: str, value: tuple[str, str]) -> str:
    text, glob = value
    escaped = "".join(f"[{c}]" if c in _GLOB_CHARS else c for c in literal + text)
    return shlex.quote(escaped + glob)


def _pattern(program: str, words: list[str], *, wild: bool) -> str:
    return " ".join([program_word(program), *(quote_token(w) for w in words), *(["**"] * wild)])


# --- judging a pattern a human typed ----------------------------------------------------------


def pattern_problem(
    policy: Policy, pattern: str, argv: list[str], suggestion: str | None = None
) -> str | None:
    """Why `pattern` may not be remembered for the command `argv` under review, or None.

    Refused: a pattern that does not parse or does not match the command; one that does not
    name its program literally; one broader than guard's own suggestion (`broader_than`), which
    already is as broad as guard allows: no wildcard for a shell or a privileged wrapper, none
    over an interpreter's module or script, over an operation's subcommand, or over a
    protected operation's options and targets. Narrower patterns are welcome.
    """
    from .match import pattern_match
    from .policy import compile_pattern
    from .tokenize import Command

    try:
        tokens = compile_pattern(pattern)
    except ValueError as exc:
        return f"not a valid pattern: {exc}"
    if tokens[0][0] != "L":
        return "the pattern must name its program literally (no `*` or `**` in the first word)"
    if not pattern_match(tokens, Command(argv, policy.programs)):
        return "it does not match the command under review"
    if all(t[0] == "L" for t in tokens):
        return None
    if suggestion is None:
        suggestion = generalise(policy, argv)
    if suggestion is not None and not broader_than(policy, pattern, suggestion):
        return None
    kind, ops = operation_kind(policy, argv)
    what = " ".join([tokens[0][1], *ops])
    wild = next(i for i, t in enumerate(tokens) if t[0] != "L")
    if kind in ("shell", "wrapper"):
        return f"{what} runs other programs: no wider than {suggestion or 'the exact command'}"
    if kind == "interpreter":
        return f"{what} runs code: the pattern must name the module or script literally"
    if kind == "plain" and ops and wild <= len(ops):
        return f"the pattern must spell out the operation `{what}`"
    if kind == "protected":
        return f"{what} has protected effects: no wider than {suggestion or 'the exact command'}"
    return f"no wider than the suggestion {suggestion}"


def broader_than(policy: Policy, pattern: str, suggestion: str | None) -> bool:
    """Could `pattern` match a command the suggestion does not? Checked word by word: each
    word must be the suggestion's own, or a literal the suggestion's glob matches; after the
    suggestion's `**`, anything (it is covered). Conservative: when unsure, broader."""
    if suggestion is None:
        return True
    from .policy import compile_pattern
    from .wildcard import match

    try:
        mine, theirs = compile_pattern(pattern), compile_pattern(suggestion)
    except ValueError:
        return True
    for i, tok in enumerate(theirs):
        if tok[0] == "S":
            return False  # everything from here is covered by the suggestion's `**`
        if i >= len(mine):
            return True
        own = mine[i]
        if own == tok or (own[0] == "L" and tok[0] == "G" and match(tok[1], own[1])):
            continue
        return True
    return len(mine) > len(theirs)
