"""A malformed policy stops guard: exit 78, the file, line or rule and the problem named, and
the command never runs (DESIGN.md, Policy files; fail closed)."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

import pytest
from conftest import assert_chain, audit_entries, run_guard

# (test id, policy text, fragments the error must name besides the file, line number or None)
CASES = [
    (
        "invalid-toml-syntax",
        """
        [[allow]
        id = "x"
        """,
        ["invalid TOML", "line 2"],
        None,
    ),
    (
        "unknown-top-level-key",
        """
        [setings]
        default = "deny"
        """,
        ["unknown top-level key", "setings"],
        None,
    ),
    (
        "loader-value-as-an-unlisted-variable",
        """
        [shell.loader_values]
        MY_OPTS = ["@as", "NO_SUCH_OPTS"]
        """,
        ["[shell.loader_values]", "MY_OPTS", "@as names no variable"],
        None,
    ),
    (
        "unknown-rule-key",
        """
        [[allow]]
        id = "ls"
        match = "ls **"
        patern = "ls"
        """,
        ["'ls'", "unknown key", "patern"],
        5,
    ),
    (
        "match-wrong-type",
        """
        [[allow]]
        id = "num"
        match = 3
        """,
        ["'num'", "match", "3"],
        4,
    ),
    (
        "empty-match-string",
        """
        [[allow]]
        id = "empty"
        match = ""
        """,
        ["'empty'", "empty pattern"],
        4,
    ),
    (
        "empty-match-list",
        """
        [[deny]]
        id = "nothing"
        match = []
        """,
        ["'nothing'", "match must not be empty"],
        4,
    ),
    (
        "match-list-with-non-string",
        """
        [[allow]]
        id = "mixed"
        match = ["ls **", 4]
        """,
        ["'mixed'", "list of strings"],
        4,
    ),
    (
        "duplicate-id-same-kind",
        """
        [[allow]]
        id = "twice"
        match = "ls **"

        [[allow]]
        id = "twice"
        match = "pwd"
        """,
        ["duplicate rule id 'twice'", ":2"],
        6,
    ),
    (
        "duplicate-id-across-kinds",
        """
        [[allow]]
        id = "same"
        match = "ls **"

        [[deny]]
        id = "same"
        match = "pwd"
        """,
        ["duplicate rule id 'same'"],
        None,
    ),
    (
        "bad-duration",
        """
        [settings]
        review_timeout = "soon"
        """,
        ["review_timeout", "'soon'"],
        3,
    ),
    (
        "negative-duration",
        """
        [settings]
        review_timeout = "-5s"
        """,
        ["review_timeout", "'-5s'"],
        3,
    ),
    (
        "infinite-duration",
        """
        [settings]
        review_timeout = inf
        """,
        ["review_timeout", "inf"],
        3,
    ),
    (
        "bad-default-value",
        """
        [settings]
        default = "allow"
        """,
        ["default", "'allow'", "'review' or 'deny'"],
        3,
    ),
    (
        "bad-when-no-reviewer",
        """
        [settings]
        when_no_reviewer = "ask"
        """,
        ["when_no_reviewer", "'ask'"],
        3,
    ),
    (
        "bool-setting-as-string",
        """
        [settings]
        require_identity = "yes"
        """,
        ["require_identity", "true/false", "'yes'"],
        3,
    ),
    (
        "flags-not-a-list",
        """
        [[irreversible]]
        id = "force"
        match = "tool push **"
        flags = "--force"
        """,
        ["'force'", "flags must be a list"],
        5,
    ),
    (
        "flag-without-dash",
        """
        [[irreversible]]
        id = "force"
        match = "tool push **"
        flags = ["force"]
        """,
        ["'force'", "must start with '-'"],
        5,
    ),
    (
        "bad-regex-in-contains",
        """
        [[deny]]
        id = "sql-drop"
        match = "psql **"
        contains = ["drop (table"]
        """,
        ["'sql-drop'", "bad regex", "drop (table"],
        5,
    ),
    (
        "missing-id",
        """
        [[allow]]
        match = "ls **"
        """,
        ["missing 'id'"],
        2,
    ),
    (
        "missing-match",
        """
        [[allow]]
        id = "nomatch"
        """,
        ["'nomatch'", "missing 'match'"],
        2,
    ),
    (
        "allow-as-table-not-array",
        """
        [allow]
        id = "touch"
        match = "touch **"
        """,
        ["'allow' must be an array of tables", "[[allow]]"],
        None,
    ),
    (
        "program-cannot-be-doublestar",
        """
        [[allow]]
        id = "anything"
        match = "** rm"
        """,
        ["'anything'", "program cannot be '**'"],
        4,
    ),
    (
        "unbalanced-quote-in-pattern",
        """
        [[allow]]
        id = "quote"
        match = "echo 'unterminated"
        """,
        ["'quote'", "closing quotation"],
        4,
    ),
    (
        "unknown-key-in-programs-table",
        """
        [programs.tool]
        global_opts = ["-C"]
        """,
        ["[programs.tool]", "unknown key", "global_opts"],
        3,
    ),
    (
        "negative-max-bytes",
        """
        [audit]
        max_bytes = -1
        """,
        ["max_bytes", "negative", "-1"],
        3,
    ),
    (
        "negative-target-positional",
        """
        [programs.tool]
        target_positional = -1
        """,
        ["target_positional", "-1"],
        3,
    ),
    (
        "agents-not-a-list",
        """
        [[allow]]
        id = "bob-only"
        match = "ls **"
        agents = "bob"
        """,
        ["'bob-only'", "agents must be a list"],
        5,
    ),
    (
        "unknown-anomalies-key",
        """
        [anomalies]
        max_rates = 5
        """,
        ["[anomalies]", "unknown key", "max_rates"],
        3,
    ),
    (
        "example-unbalanced-quote",
        """
        [[allow]]
        id = "ex"
        match = "echo **"
        examples = ["echo 'oops"]
        """,
        ["'ex'", "examples", "closing quotation"],
        5,
    ),
]


def _touch_cmd(marker: Path) -> list[str]:
    return ["--", "touch", str(marker)]


@pytest.mark.parametrize(
    ("text", "fragments", "line"),
    [pytest.param(t, f, n, id=i) for i, t, f, n in CASES],
)
def test_malformed_policy_exits_78_names_file_and_problem(
    write_policy, marker, text, fragments, line
):
    text = textwrap.dedent(text)
    if "[allow]\n" not in text:
        # The policy would whitelist `touch` if it loaded: only the error can stop the command.
        text += "\n[[allow]]\nid = 'touch-ok'\nmatch = 'touch **'\n"
    path = write_policy(text)
    result = run_guard("--policy", str(path), *_touch_cmd(marker))
    assert result.returncode == 78, result.stderr
    assert not marker.exists(), "the command ran despite an invalid policy"
    err = result.stderr
    assert err.startswith("guard: policy error: "), err
    assert str(path) in err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
    if line is not None:
        assert f"{path}:{line}:" in err, err
    assert len(err.splitlines()) == 1, "one clear line, no traceback"


def test_non_utf8_policy_file(tmp_path, marker):
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[[allow]]\nid = "caf\xe9"\nmatch = "touch **"\n')
    result = run_guard("--policy", str(path), *_touch_cmd(marker))
    assert result.returncode == 78
    assert str(path) in result.stderr
    assert "UTF-8" in result.stderr
    assert not marker.exists()


def test_missing_explicit_policy_file(tmp_path, marker):
    missing = tmp_path / "no-such-policy.toml"
    result = run_guard("--policy", str(missing), *_touch_cmd(marker))
    assert result.returncode == 78
    assert f"{missing}: policy file not found" in result.stderr
    assert not marker.exists()


def test_missing_policy_named_by_environment(tmp_path, marker):
    missing = tmp_path / "gone.toml"
    result = run_guard(*_touch_cmd(marker), env={"GUARD_POLICY": str(missing)})
    assert result.returncode == 78
    assert str(missing) in result.stderr
    assert "not found" in result.stderr
    assert not marker.exists()


def test_default_user_policy_may_be_absent(guard_env, marker):
    """Only an explicitly named policy must exist; with none, the default (review) applies."""
    assert not guard_env.user_policy.exists()
    result = run_guard(*_touch_cmd(marker))
    assert result.returncode == 77
    assert not marker.exists()


def test_unreadable_policy_path_is_a_directory(tmp_path, marker):
    directory = tmp_path / "policy.toml"
    directory.mkdir()
    result = run_guard("--policy", str(directory), *_touch_cmd(marker))
    assert result.returncode == 78
    assert str(directory) in result.stderr
    assert not marker.exists()


def test_duplicate_id_against_builtin_catalogue(write_policy, marker, builtin_rule_id):
    path = write_policy(
        f"""
        [[allow]]
        id = "{builtin_rule_id}"
        match = "touch **"
        """
    )
    result = run_guard("--policy", str(path), *_touch_cmd(marker))
    assert result.returncode == 78
    assert f"duplicate rule id '{builtin_rule_id}'" in result.stderr
    assert str(path) in result.stderr
    # ...and where the built-in one lives, so the user knows which id to rename.
    assert os.path.join("expacti_cli", "policies") in result.stderr
    assert not marker.exists()


def test_policy_error_in_subcommand_is_78_too(write_policy):
    path = write_policy("[settings]\ndefault = 'sometimes'\n")
    result = run_guard("check", "--policy", str(path), "--", "ls")
    assert result.returncode == 78
    assert str(path) in result.stderr
    assert "'sometimes'" in result.stderr


def test_policy_error_keeps_audit_log_intact(guard_env, write_policy, marker, tmp_path):
    good = write_policy("[[allow]]\nid = 'true'\nmatch = 'true'\n")
    for _ in range(3):
        assert run_guard("--policy", str(good), "--", "true").returncode == 0
    before = guard_env.audit_log.read_bytes()
    assert len(before.splitlines()) == 3

    bad = write_policy(
        "[[allow]]\nid = 'touch'\nmatch = 'touch **'\nbogus = 1\n", tmp_path / "bad.toml"
    )
    result = run_guard("--policy", str(bad), *_touch_cmd(marker))
    assert result.returncode == 78
    assert not marker.exists()

    after = guard_env.audit_log.read_bytes()
    assert after.startswith(before), "lines already recorded were changed"
    entries = audit_entries(guard_env.audit_log)
    assert_chain(entries)
    # Whatever guard records about the refusal, it never says the command ran.
    assert all(e["decision"] == "denied" for e in entries[3:])
    # and the log still takes new entries on the same chain.
    assert run_guard("--policy", str(good), "--", "true").returncode == 0
    assert_chain(audit_entries(guard_env.audit_log))


def test_error_line_names_rule_not_just_file(write_policy, marker):
    """The rule id and its line, in a file with several rules."""
    path = write_policy(
        """
        # a comment
        [[allow]]
        id = "first"
        match = "ls **"

        [[allow]]
        id = "second"
        match = "cat **"
        flags = ["-n", "number"]
        """
    )
    result = run_guard("--policy", str(path), *_touch_cmd(marker))
    assert result.returncode == 78
    assert re.search(rf"{re.escape(str(path))}:10: \[\[allow\]\] rule 'second'", result.stderr)
    assert "'number'" in result.stderr
