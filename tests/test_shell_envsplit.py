"""`env -S STRING` is split as GNU env splits it: checked against the real /usr/bin/env.

env runs `printf '%s\\0' WORDS... END`, so its output is exactly the words it made of the
string (END marks where they stop). Where env fails (exit 125: an invalid escape, an
unterminated quote, `\\c` inside double quotes, `$` without braces) guard's split is None:
guard does not claim to know what would run."""

from __future__ import annotations

import os
import subprocess

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from expacti_cli import shell, shellspec
from expacti_cli.shell.envsplit import split

ENV = "/usr/bin/env"
pytestmark = pytest.mark.skipif(
    not os.path.exists(ENV)
    or b"GNU coreutils"
    not in subprocess.run([ENV, "--version"], capture_output=True, check=False).stdout,
    reason="needs GNU env",
)
PREFIX = "printf '%s\\0' "
SPEC = shellspec.load_builtin_spec()


def real_env(s: str) -> list[str] | None:
    """The words GNU env makes of `s`, or None when it fails."""
    done = subprocess.run(
        [ENV, "-S", PREFIX + s, "END"],
        capture_output=True,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "V": "value"},
        timeout=10,
        check=False,
    )
    if done.returncode != 0:
        return None
    words = done.stdout.decode("utf-8", "surrogateescape").split("\0")
    assert words[-2:] == ["END", ""], words
    return words[:-2]


def ours(s: str) -> list[str] | None:
    words = split(PREFIX + s)
    if words is None:
        return None
    assert words[:2] == ["printf", "%s\\0"]
    return words[2:]


CASES = [
    "a b",
    "a\\_b",  # \_ separates words outside quotes
    '"a\\_b"',  # ... and is a space inside double quotes
    "a\\_\\_b",
    "'a b' c",
    "'a\\'b' 'c\\\\d' 'e\\qf'",
    '"a\\"b" "c\\\\d" "e\\tf" "g\\$h" "i\\#j"',
    "a \\c b c",  # \c ends the string
    '"a\\cb"',  # ... and is an error inside double quotes
    "a #comment",
    "a b#c",
    "'' a \"\"",
    "a\tb\nc\vd\fe\rf",
    "\\#a \\$b",
    "a\\qb",
    "a\\",
    "'unterminated",
    '"unterminated',
    "$HOME",
    "a\\_#b",
    "#all",
    "a'b'c\"d\"e",
    "-rf /",
]


@pytest.mark.parametrize("s", CASES)
def test_split_matches_gnu_env(s: str) -> None:
    assert ours(s) == real_env(s)


ALPHABET = [*"ab '\"\\#_cntq$V{}\t", "\\_", "\\c", "\\\\", "${V}"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(ALPHABET), max_size=12).map("".join))
def test_generated_strings_split_as_gnu_env(s: str) -> None:
    mine = ours(s)
    theirs = real_env(s)
    if mine is None and theirs is not None:
        assert "${" in s, (s, theirs)  # a variable's value: known to env only at run time
    else:
        assert mine == theirs, s


def test_a_split_string_reaches_its_command() -> None:
    """The bypass of issue 9: `\\_` hid `rm -rf /` from the old splitter."""
    a = shell.analyse("env -S 'rm\\_-rf\\_/'", SPEC)
    assert ["rm", "-rf", "/"] in [p.argv for p in a.parts]
    a = shell.analyse("env -S'sh -c \"rm -rf /\"'", SPEC)
    assert ["rm", "-rf", "/"] in [p.argv for p in a.parts]


def test_an_unsplittable_string_is_not_allowed() -> None:
    a = shell.analyse("env -S 'rm ${X}'", SPEC)
    assert "cannot-analyse" in {c.id for c in a.concerns}
