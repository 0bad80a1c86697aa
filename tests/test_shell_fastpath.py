"""Plain lines (`git status && ls`) are analysed without tree-sitter, and exactly as with it.

The fast path (shell.plain.analyse_plain) must never make an analysis the full path would not: on
generated lines, from the plain subset and from around its edges (quotes, `$`, `&`, `#`,
newlines, reserved words, assignments, tight budgets), both paths give equal parts and
concerns. And a plain line really does not load tree-sitter, while any other line does.
"""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expacti_cli import shell, shellspec
from expacti_cli.shell import plain as fastpath
from expacti_cli.shell import syntax

SPEC = shellspec.load_builtin_spec()
SETTINGS = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])

PLAIN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=,@%+-"
# Everything the subset excludes, and the blanks bash also splits at.
OTHER_CHARS = [*"'\"\\$`(){}[]<>*?~#!&;|\t\n\r\0", "é", "\u00a0", "&&&", ";;", "|&"]
OPERATORS = ["&&", "||", ";", "|"]
# Bash reserved words, tree-sitter-bash keywords and other grammar tokens made of word
# characters: as command names and as arguments.
KEYWORDS = [
    *sorted(syntax.RESERVED),
    *("time", "coproc", "export", "declare", "typeset", "local", "readonly", "unset"),
    *("unsetenv", "test", "-a", "-o", "A", "E", "K", "L", "P", "Q", "U", "a", "k", "u", "end"),
    *("%", "%%", ":", ":-", ":=", ":+", "+", "++", "+=", "-", "--", "-=", "/", "//", "..", "@"),
    *("=", "==", "=~", "%=", ",", ",,"),
]


def _catalogue_words() -> list[str]:
    """Program names, options and subcommands the catalogue knows, and the shell's lists."""
    words: set[str] = set()
    for kind in ("wrapper", "interpreter", "client", "writer"):
        words.update(SPEC[kind + "_names"])
        for entry in SPEC[kind + "s"].values():
            for key in ("options", "file_options", "value_options", "script_options"):
                words.update(entry.get(key) or ())
            for key in ("subcommands", "stdin_args"):
                for seq in entry.get(key) or ():
                    words.update(seq)
            for key in ("stdin_script", "replace"):
                if entry.get(key):
                    words.add(entry[key])
            words.update(entry.get("code_subcommands") or ())
            words.update(entry.get("file_prefixes") or ())
    sh = SPEC["shell"]
    for key in ("eval", "source", "trap", "alias", "coproc"):
        words.update(sh[key])
    for name in (*sh["code_variables"], *sh["loader_variables"], *sh["shell_variables"]):
        words.update((f"{name}=ls", f"{name}=", f"{name}=bash"))
    return sorted(w for w in words if w)


WORDS = [
    *_catalogue_words(),
    *("git", "status", "ls", "-la", "cd", "src", "pytest", "-q", "grep", "-rn", "foo", "."),
    *("head", "echo", "x", "rm", "-rf", "/", "build", "cat", "true", "1", "0", "-5", "0x1f"),
    *("2", "10", "a=b", "A=1", "=x", "x=", "+x", "@x", "%1", "a,b", "a:b", "..", "-", "--"),
    *("/etc/passwd", ".git/hooks/pre-commit", ".git/config", "/dev/stdin", "/dev/fd/0"),
    *("/dev/null", "/proc/1/fd/0", ".envrc", ".claude/settings.json", "/usr/bin/rm"),
    *("./x.sh", "/bin/sh", "sh", "-c", "-s", "-e", "-i", "-S", "-exec", "-delete", "+"),
]
NAMES = [w for w in WORDS if w[0] != "-" and "=" not in w]


@st.composite
def plain_word(draw: st.DrawFn, names: bool = False) -> str:
    """Mostly a word the catalogue knows; else a random one, or (1 in 20) a keyword."""
    kind = draw(st.sampled_from(["known"] * 15 + ["random"] * 4 + ["keyword"]))
    if kind == "known":
        return draw(st.sampled_from(NAMES if names else WORDS))
    if kind == "random":
        return draw(st.text(alphabet=PLAIN_CHARS, min_size=1, max_size=8))
    return draw(st.sampled_from(KEYWORDS))


def separator() -> st.SearchStrategy[str]:
    return st.sampled_from(["", " ", " ", " ", "  "])


@st.composite
def plain_lines(draw: st.DrawFn) -> str:
    """Words of the catalogue and the subset, mostly joined as a plain line should be."""
    out = [draw(separator())]
    for k in range(draw(st.integers(1, 5))):
        if k:
            gap = draw(st.sampled_from([*OPERATORS * 3, "&", *OPERATORS * 3, ";;", "|&", " "]))
            out += [draw(separator()), gap, draw(separator())]
        # Rarely an empty command (`a && && b`, a leading or trailing operator).
        words = (
            draw(st.integers(0, 5)) if draw(st.integers(0, 20)) == 0 else draw(st.integers(1, 5))
        )
        for j in range(words):
            if j:
                out.append(draw(st.sampled_from([" ", " ", "  "])))
            out.append(draw(plain_word(names=not j)))
    out.append(draw(separator()))
    return "".join(out)


@st.composite
def near_plain_lines(draw: st.DrawFn) -> str:
    """A plain line with characters from outside the subset put in anywhere."""
    line = draw(plain_lines())
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(line)))
        line = line[:at] + draw(st.sampled_from(OTHER_CHARS)) + line[at:]
    return line


def summary(a: shell.Analysis) -> tuple[Any, ...]:
    def concerns(cs: list[shell.Concern]) -> list[tuple[str, str, bool]]:
        return [(c.id, c.reason, c.overridable) for c in cs]

    parts = [
        (p.argv, p.text, p.assignments, p.via, p.dynamic, concerns(p.concerns)) for p in a.parts
    ]
    return parts, concerns(a.concerns)


def both(line: str, spec: dict[str, Any] = SPEC) -> tuple[Any, Any]:
    return summary(shell.analyse(line, spec)), summary(shell.analyse(line, spec, fast=False))


@SETTINGS
@given(plain_lines())
def test_plain_lines_analyse_as_with_tree_sitter(line: str) -> None:
    fast, full = both(line)
    assert fast == full


@SETTINGS
@given(near_plain_lines())
def test_lines_near_the_subset_analyse_as_with_tree_sitter(line: str) -> None:
    fast, full = both(line)
    assert fast == full


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    plain_lines(),
    st.integers(1, 16),
    st.integers(1, 400),
    st.integers(1, 80),
)
def test_budgets_are_kept_as_with_tree_sitter(
    line: str, nesting: int, nodes: int, size: int
) -> None:
    """Where tree-sitter would hit a budget (too-complex), the fast path is not taken."""
    sh = {**SPEC["shell"], "max_nesting": nesting, "max_nodes": nodes, "max_bytes": size}
    fast, full = both(line, {**SPEC, "shell": sh})
    assert fast == full


def test_the_generated_lines_mostly_take_the_fast_path() -> None:
    """The properties above test the fast path, not only the fallback."""
    seen = {"lines": 0, "plain": 0, "analysed": 0}

    @settings(max_examples=500, deadline=None, database=None)
    @given(plain_lines())
    def count(line: str) -> None:
        seen["lines"] += 1
        seen["plain"] += fastpath.commands_of(line) is not None
        seen["analysed"] += fastpath.analyse_plain(line, SPEC, os.getcwd()) is not None

    count()
    assert seen["plain"] > seen["lines"] * 0.4, seen
    assert seen["analysed"] > seen["lines"] * 0.35, seen


@pytest.mark.parametrize(
    "line",
    [
        "git status && ls",
        "cd src && pytest -q",
        "ls -la | head",
        "grep -rn foo .",
        "a&&b||c;d|e",
        "  git   status  ",
        "make -j4 && ./run.sh --port=8080 user@host:path a,b +x %1",
    ],
)
def test_plain_lines_take_the_fast_path(line: str) -> None:
    assert fastpath.commands_of(line) is not None
    assert fastpath.analyse_plain(line, SPEC, os.getcwd()) is not None
    fast, full = both(line)
    assert fast == full


@pytest.mark.parametrize(
    "line",
    [
        "",
        "   ",
        "ls;",
        ";ls",
        "ls && && pwd",
        "ls &",
        "ls &&& pwd",
        "ls ;; pwd",
        "ls |& cat",
        "ls\npwd",
        "ls\tpwd",
        "ls # comment",
        "echo 'x'",
        'echo "x"',
        "echo \\x",
        "echo $HOME",
        "echo `id`",
        "echo ~",
        "ls *.py",
        "ls a?",
        "ls [ab]",
        "echo {a,b}",
        "(ls)",
        "ls > out",
        "cat < in",
        "! ls",
        "FOO=1 ls",
        "=x ls",
        "-x ls",
        "if true",
        "ls && then",
        "export FOO=bar",
        "unset FOO",
        "time ls",
        "coproc ls",
        "echo done",
        "ls é",
        "ls\0",
    ],
)
def test_other_lines_take_the_full_path(line: str) -> None:
    assert fastpath.commands_of(line) is None
    fast, full = both(line)
    assert fast == full


@pytest.mark.parametrize(
    "line",
    ["bash -c ls", "eval ls -la", "env GIT_SSH_COMMAND=ssh git fetch", "trap ls EXIT"],
)
def test_nested_shell_strings_fall_back_to_the_full_path(line: str) -> None:
    """A nested shell string is parsed by tree-sitter: the plain analysis gives up on it."""
    assert fastpath.commands_of(line) is not None
    assert fastpath.analyse_plain(line, SPEC, os.getcwd()) is None
    fast, full = both(line)
    assert fast == full
    assert any(p.via for p in shell.analyse(line, SPEC).parts)


def test_a_pipe_into_a_client_is_still_hidden_input() -> None:
    a = shell.analyse("echo x | redis-cli", SPEC)
    assert fastpath.analyse_plain("echo x | redis-cli", SPEC, os.getcwd()) is not None
    assert [c.id for c in a.parts[1].concerns] == ["hidden-input"]
    assert shell.analyse("redis-cli && echo x", SPEC).parts[0].concerns == []


def test_part_text_is_the_source_span() -> None:
    a = shell.analyse("  git   status&&ls  -la |  head ", SPEC)
    assert [p.text for p in a.parts] == ["git   status", "ls  -la", "head"]
    assert [p.argv for p in a.parts] == [["git", "status"], ["ls", "-la"], ["head"]]


def _loads_tree_sitter(line: str, tmp_path: Any) -> bool:
    code = (
        "import sys\n"
        "from expacti_cli import shell, shellspec\n"
        "spec = shellspec.load_builtin_spec()\n"
        "shell.analyse(sys.argv[1], spec)\n"
        "print(any(m.split('.')[0] in ('tree_sitter', 'tree_sitter_bash') for m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, line],
        capture_output=True,
        text=True,
        env={**os.environ, "GUARD_CACHE_DIR": str(tmp_path)},
        check=True,
        timeout=60,
    )
    return {"True": True, "False": False}[result.stdout.strip()]


@pytest.mark.parametrize(
    ("line", "loads"),
    [
        ("git status && ls", False),
        ("echo x | redis-cli", False),
        ("git status && ls > out", True),
        ("echo 'x'", True),
        ("bash -c ls", True),
    ],
)
def test_only_lines_outside_the_subset_load_tree_sitter(
    line: str, loads: bool, tmp_path: Any
) -> None:
    assert _loads_tree_sitter(line, tmp_path) is loads


def _operator_lines(count: int) -> list[str]:
    """`redis-cli` joined by every sequence of `count` operators: each part's concerns show
    whether it reads a pipe, so both paths must group the operators alike."""
    return [
        "redis-cli" + "".join(f"{op}redis-cli {k}" for k, op in enumerate(ops))
        for ops in itertools.product(OPERATORS, repeat=count)
    ]


@pytest.mark.parametrize("count", range(1, fastpath.PLAIN_MAX_OPS + 1))
def test_every_operator_sequence_groups_as_with_tree_sitter(count: int) -> None:
    lines = _operator_lines(count)
    if count > 6:  # every 5th, 21st, 87th of the 4**count lines; all of them below
        lines = lines[:: 4 ** (count - 6) + 1]
    for line in lines:
        fast, full = both(line)
        assert fast == full, line


def _tree_sitter_stdin(line: str) -> list[str | None]:
    """The stdin the full path gives each command of a clean list/pipeline tree."""
    root = syntax.parser().parse(line.encode()).root_node
    assert not root.has_error, line
    out: list[str | None] = []

    def walk(node: Any, stdin: str | None) -> None:
        if node.type == "command":
            out.append(stdin)
            return
        assert node.type in ("program", "list", "pipeline"), (line, node.type)
        named = [c for c in node.children if c.is_named]
        for k, child in enumerate(named):
            walk(child, "pipe" if node.type == "pipeline" and k else stdin)

    walk(root, None)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("count", range(7, fastpath.PLAIN_MAX_OPS + 1))
def test_every_long_operator_sequence_groups_as_in_tree_sitter(count: int) -> None:
    """All of the longer sequences, faster: tree-sitter's grouping against the plain one."""
    names = "bcdefghij"
    for ops in itertools.product(OPERATORS, repeat=count):
        line = "a" + "".join(op + names[k] for k, op in enumerate(ops))
        commands = fastpath.commands_of(line)
        if commands is not None:
            plain = ["pipe" if piped else None for _, piped in commands]
            assert plain == _tree_sitter_stdin(line), line


def test_more_operators_take_the_full_path() -> None:
    assert fastpath.commands_of(" && ".join(["ls"] * (fastpath.PLAIN_MAX_OPS + 1))) is not None
    assert fastpath.commands_of(" && ".join(["ls"] * (fastpath.PLAIN_MAX_OPS + 2))) is None
