"""Bash's own evaluation sinks (expacti_cli/shell/sinks.py): quoted text bash still runs.

Each dangerous case is first run by the real bash, which must run its payload (so the case is
a real sink, not a guess), and then must not be allowed by the analysis. Each harmless case
uses the same construct with plain text and must stay free of sink concerns."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from expacti_cli import shell, shellspec

pytestmark = pytest.mark.skipif(not os.path.exists("/bin/bash"), reason="needs /bin/bash")

SPEC = shellspec.load_builtin_spec()

# (line with the payload `touch @M@`, the concern that stops it)
DANGEROUS = [
    # arithmetic evaluates a variable's value and its subscripts again
    ("x='a[$(touch @M@)]'; (( x ))", "eval-sink"),
    ("x='a[$(touch @M@)]'; echo $(( x ))", "eval-sink"),
    ("x='a[$(touch @M@)]'; : $((x+1))", "eval-sink"),
    ("x='a[$(touch @M@)]'; [[ $x -eq 0 ]]", "eval-sink"),
    ("x='a[$(touch @M@)]'; [[ x -eq 0 ]]", "eval-sink"),
    ("[[ 'a[$(touch @M@)]' -eq 1 ]]", "eval-sink"),
    ("(( 'a[$(touch @M@)]' ))", "eval-sink"),
    ("x='a[$(touch @M@)]'; for ((i=x; i<0; i++)); do :; done", "eval-sink"),
    ("x='a[$(touch @M@)]'; case 1 in $((x))) : ;; esac", "eval-sink"),
    ("let 'a[$(touch @M@)]=1'", "eval-sink"),
    ("let x='a[$(touch @M@)]'", "eval-sink"),
    ("declare -i x; x='a[$(touch @M@)]'", "eval-sink"),
    ("x='a[$(touch @M@)]'; declare -i y=x", "eval-sink"),
    # subscripts and offsets of expansions
    ("i='b[$(touch @M@)]'; a=(1); echo ${a[$i]}", "eval-sink"),
    ("x='a[$(touch @M@)]'; a=(1 2); echo ${a[x]}", "eval-sink"),
    ("a=(1); x='a[$(touch @M@)]'; echo ${#a[x]}", "eval-sink"),
    ("a=(1); : ${a[ 'b[$(touch @M@)]' ]}", "eval-sink"),
    ("x='a[$(touch @M@)]'; set -- a b; echo ${@:x}", "eval-sink"),
    ("a=(1); x='a[$(touch @M@)]'; : ${a[@]:x}", "eval-sink"),
    ("x='a[$(touch @M@)]'; echo ${!x}", "eval-sink"),
    # builtins that take a variable name evaluate its subscript
    ("printf -v 'a[$(touch @M@)]' %s 1", "eval-sink"),
    ("a=(1); x='a[$(touch @M@)]'; printf -v \"$x\" y", "eval-sink"),
    ("read 'a[$(touch @M@)]' <<< 1", "eval-sink"),
    ("declare 'a[$(touch @M@)]=1'", "eval-sink"),
    ("typeset 'a[$(touch @M@)]=1'", "eval-sink"),
    ("f() { local 'a[$(touch @M@)]=1'; }; f", "eval-sink"),
    ("a=(1); unset 'a[$(touch @M@)]'", "eval-sink"),
    ("a=(1); unset -v 'a[$(touch @M@)]'", "eval-sink"),
    ("test -v 'a[$(touch @M@)]'", "eval-sink"),
    ("[[ -v 'a[$(touch @M@)]' ]]", "eval-sink"),
    ("a=(1); sleep 0 & wait -n -p 'a[$(touch @M@)]'", "eval-sink"),
    # name references
    ("declare -n r='a[$(touch @M@)]'; r=1", "eval-sink"),
    ("a=(1); x='a[$(touch @M@)]'; declare -n r=x; echo $((r))", "eval-sink"),
    # callbacks: judged by what they run (the payload is a command of the analysis)
    ("mapfile -C 'touch @M@' -c 1 arr <<< x", "touch"),
    ("readarray -C 'touch @M@' -c 1 arr <<< x", "touch"),
    ("compgen -W '$(touch @M@)' x", "eval-sink"),
    # prompt strings
    ("x='$(touch @M@)'; echo ${x@P}", "eval-sink"),
    ("PS4='$(touch @M@)'; set -x; true", "eval-sink"),
    # special arrays that rebind command names
    ("BASH_CMDS[ls]=/usr/bin/touch; ls @M@", "opaque-code"),
    ("shopt -s expand_aliases; BASH_ALIASES[x]='touch @M@'\nx", "opaque-code"),
    # a line continuation joins `$` and `(`
    # (`echo $\\<newline>(touch @M@)`: read as bash joins it, tests/test_shell_differential.py)
    # text the line reads at run time, then evaluated
    ("read x <<< 'a[$(touch @M@)]'; (( x ))", "eval-sink"),
]

# Code that runs only in an interactive shell: still not allowed (it is code set for later).
LATER = [
    ("complete -C 'touch @M@' x", "touch"),
    ("complete -F f x", "opaque-code"),  # a function the line does not show
    ('mapfile -C "$CB" -c 1 arr < f', "dynamic-command"),
]

HARMLESS = [
    "a[1]=x",
    "(( i+1 ))",
    "x=5; (( x > 3 ))",
    "for i in 1 2 3; do (( t += i )); done; echo $t",
    "for ((i=0; i<3; i++)); do echo $i; done",
    "i=0; while (( i < 3 )); do (( i++ )); done",
    "(( n = $(wc -l < f) ))",
    "declare -i n=3; n=n+1; (( n ))",
    "a=(1 2); echo ${a[1]} ${#a[@]} ${a[@]:1} ${a[i]}",
    "x=abc; echo ${x:1:2} ${x:-d} ${x@Q}",
    "[[ $x -eq 1 ]]",
    "[[ -v HOME ]]",
    "test -v a[1]",
    "printf -v out %s x; echo $out",
    'read -r line < f; echo "$line"',
    "mapfile -t lines < f",
    "unset a[1]",
    "let i=i+1",
    "getopts ab opt",
    "declare -n ref=other; echo $ref",
    "compgen -W 'start stop' s",
    "mapfile -C 'echo loaded' -c 100 lines < README.md",
    "f() { echo hi; }; complete -F f x",
    "trap 'echo cleanup' EXIT",
    "PS4='+ '; set -x; true",
    "x='$(not run)'; echo \"$x\"",
    'echo "a\\\nb"',
]


def _concerns(line: str) -> set[str]:
    """The concern ids of the line, and the programs of its nested parts (a callback's
    command is judged as a command: `touch` here)."""
    a = shell.analyse(line, SPEC)
    nested = {p.argv[0] for p in a.parts if p.via}
    return {c.id for c in a.concerns} | {c.id for p in a.parts for c in p.concerns} | nested


def _bash_runs_payload(line: str, tmp_path: Path) -> bool:
    marker = tmp_path / "ran"
    subprocess.run(
        ["/bin/bash", "-c", line.replace("@M@", str(marker))],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=10,
        check=False,
    )
    return marker.exists()


@pytest.mark.parametrize(("line", "concern"), DANGEROUS)
def test_bash_runs_it_and_guard_does_not_allow_it(line: str, concern: str, tmp_path: Path) -> None:
    assert _bash_runs_payload(line, tmp_path), "not a sink in this bash: the case proves nothing"
    assert concern in _concerns(line.replace("@M@", str(tmp_path / "ran")))


@pytest.mark.parametrize(("line", "concern"), LATER)
def test_code_for_later_is_not_allowed(line: str, concern: str) -> None:
    assert concern in _concerns(line)


@pytest.mark.parametrize("line", HARMLESS)
def test_plain_uses_stay_allowed(line: str) -> None:
    assert not {"eval-sink", "opaque-code", "cannot-analyse"} & _concerns(line)


def test_eval_sink_is_not_overridable() -> None:
    a = shell.analyse("x='a[$(id)]'; (( x ))", SPEC)
    assert [c.overridable for c in a.concerns if c.id == "eval-sink"] == [False]


def test_callback_is_analysed_as_a_command() -> None:
    a = shell.analyse("mapfile -C 'rm -rf /' -c 1 arr < f", SPEC)
    assert ["rm", "-rf", "/"] in [p.argv for p in a.parts]
