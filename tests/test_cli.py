"""The subcommands: check, init, policy path/show/test (click's CliRunner for their logic, the
real process where the exit status or the error boundary is the point)."""

from __future__ import annotations

import json
import os
import stat
import tomllib

import pytest
from click.testing import CliRunner
from conftest import run_guard

from expacti_cli import __version__
from expacti_cli import policy as policy_mod
from expacti_cli.cli import main
from expacti_cli.errors import GuardError


@pytest.fixture
def cli(monkeypatch):
    monkeypatch.setenv("COLUMNS", "300")  # rich tables: no truncated cells

    def invoke(*args: str, code: int = 0):
        result = CliRunner().invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result

    return invoke


# ------------------------------------------------------------------ help and version


def test_help_lists_modes_and_subcommands(cli):
    out = cli("--help").output
    assert "guard [OPTIONS] [--] PROGRAM" in out
    for name in ("check", "init", "policy", "agent"):
        assert name in out


def test_bare_guard_prints_help():
    result = run_guard()
    assert result.returncode == 0
    assert "Usage:" in result.stdout


def test_version(cli):
    assert __version__ in cli("--version").output


# ------------------------------------------------------------------ check


def test_check_json_force_push_is_irreversible_review(cli, guard_env):
    out = cli("check", "--json", "--", "git", "push", "--force").output
    decision = json.loads(out)
    assert decision["verdict"] == "review"
    assert decision["irreversible"] is True
    assert decision["rule"]
    assert decision["reason"]
    assert decision["argv"] == ["git", "push", "--force"]
    # A dry run: nothing logged.
    assert not guard_env.audit_log.exists()


def test_check_text_output(cli, write_policy):
    write_policy("[[allow]]\nid = 'mine'\nmatch = 'mytool **'\n")
    out = cli("check", "--", "mytool", "x").output
    assert "ALLOW" in out
    assert "mine" in out
    out = cli("check", "--", "git", "push", "-f").output
    assert "REVIEW" in out
    assert "IRREVERSIBLE" in out


def test_check_honours_policy_and_agent(cli, tmp_path):
    path = tmp_path / "p.toml"
    path.write_text("[[allow]]\nid = 'bob'\nmatch = 'mytool'\nagents = ['bob']\n")
    as_bob = json.loads(
        cli("check", "--json", "--policy", str(path), "--agent", "bob", "mytool").output
    )
    as_eve = json.loads(
        cli("check", "--json", "--policy", str(path), "--agent", "eve", "mytool").output
    )
    assert (as_bob["verdict"], as_eve["verdict"]) == ("allow", "review")


def test_check_does_not_run_the_program(tool_bin, marker):
    result = run_guard("check", "--", "tool", str(marker))
    assert result.returncode == 0
    assert not marker.exists()


def test_check_without_a_command_is_a_usage_error():
    result = run_guard("check")
    assert result.returncode == 64
    assert "guard check -- PROG" in result.stderr


# ------------------------------------------------------------------ init


def test_init_writes_a_private_starter_policy(cli, guard_env):
    out = cli("init").output
    assert str(guard_env.user_policy) in out
    assert stat.S_IMODE(guard_env.user_policy.stat().st_mode) == 0o600
    assert stat.S_IMODE(guard_env.config_dir.stat().st_mode) == 0o700
    text = guard_env.user_policy.read_text()
    layer = tomllib.loads(text)
    assert layer["settings"]["default"] == "review"
    assert "# " in text  # commented
    policy_mod.load()  # a valid policy with the catalogue


def test_init_refuses_to_overwrite(guard_env, write_policy):
    write_policy("# my precious policy\n")
    result = run_guard("init")
    assert result.returncode == 64
    assert "--force" in result.stderr
    assert str(guard_env.user_policy) in result.stderr
    assert guard_env.user_policy.read_text() == "# my precious policy\n"
    with pytest.raises(GuardError):
        CliRunner().invoke(main, ["init"], catch_exceptions=False)


def test_init_force_overwrites(cli, guard_env, write_policy):
    write_policy("# old\n")
    cli("init", "--force")
    assert "[settings]" in guard_env.user_policy.read_text()


def test_init_to_a_named_file(cli, tmp_path, guard_env):
    target = tmp_path / "sub" / "mine.toml"
    cli("init", "--policy", str(target))
    assert target.exists()
    assert not guard_env.user_policy.exists()


def test_starter_policy_passes_policy_test(cli):
    cli("init")
    assert "ok" in cli("policy", "test").output


# ------------------------------------------------------------------ policy path / show


def test_policy_path_lists_layers_in_order(cli, guard_env, write_policy):
    lines = cli("policy", "path").output.splitlines()
    assert lines[-1] == f"{guard_env.user_policy}  (missing)"
    builtin = lines[:-1]
    assert builtin, "the built-in catalogue is listed"
    # Program grammars first (one file per family), then the rule catalogue, each sorted.
    grammars = [ln for ln in builtin if os.path.join("expacti_cli", "grammar", "programs") in ln]
    catalogue = [ln for ln in builtin if os.path.join("expacti_cli", "policies") in ln]
    assert grammars and catalogue
    assert builtin == grammars + catalogue
    assert grammars == sorted(grammars) and catalogue == sorted(catalogue)
    write_policy("")
    assert cli("policy", "path").output.splitlines()[-1] == str(guard_env.user_policy)


def test_policy_path_honours_guard_policy(cli, tmp_path, monkeypatch):
    monkeypatch.setenv("GUARD_POLICY", str(tmp_path / "env.toml"))
    assert cli("policy", "path").output.splitlines()[-1].startswith(str(tmp_path / "env.toml"))


def test_policy_show_json(cli, write_policy):
    path = write_policy(
        """
        [settings]
        default = "deny"

        [[allow]]
        id = "mine"
        match = ["mytool **", "other"]
        reason = "mine"
        """
    )
    data = json.loads(cli("policy", "show", "--json").output)
    assert data["settings"]["default"] == "deny"
    rule = next(r for r in data["rules"] if r["id"] == "mine")
    assert rule["kind"] == "allow"
    assert rule["match"] == ["mytool **", "other"]
    assert rule["origin"] == f"{path}:5"
    assert any(r["kind"] == "irreversible" for r in data["rules"])


def test_policy_show_text(cli, write_policy):
    path = write_policy("[[allow]]\nid = 'mine'\nmatch = 'mytool **'\n")
    out = cli("policy", "show").output
    assert "mine" in out
    assert "mytool **" in out
    assert f"{path}:1" in out


# ------------------------------------------------------------------ policy test


def test_policy_test_passes_on_the_shipped_catalogue():
    result = run_guard("policy", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("ok")


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        (
            "[[allow]]\nid = 'tests'\nmatch = 'pytest **'\nexamples = ['py.test -q']\n",
            "example does not match: py.test -q",
        ),
        (
            "[[deny]]\nid = 'curl-up'\nmatch = 'curl **'\nflags = ['-T']\n"
            "not_examples = ['curl -T f http://x']\n",
            "not_example matches: curl -T f http://x",
        ),
        (
            "[[irreversible]]\nid = 'deploy'\nmatch = 'make deploy **'\n",
            "needs examples",
        ),
    ],
)
def test_policy_test_fails_with_78_naming_rule_and_example(write_policy, rule, problem):
    path = write_policy(rule)
    result = run_guard("policy", "test")
    assert result.returncode == 78
    fails = [ln for ln in result.stdout.splitlines() if ln.startswith("FAIL")]
    assert len(fails) == 1, result.stdout
    assert str(path) in fails[0]
    assert problem in fails[0]


def test_policy_test_reports_an_invalid_policy(write_policy):
    path = write_policy("[[allow]]\nid = 'x'\n")
    result = run_guard("policy", "test")
    assert result.returncode == 78
    assert str(path) in result.stdout + result.stderr
    assert "missing 'match'" in result.stdout + result.stderr


def test_policy_test_with_a_missing_named_file(tmp_path):
    result = run_guard("policy", "test", "--policy", str(tmp_path / "nope.toml"))
    assert result.returncode == 78
    assert "not found" in result.stderr


def test_brackets_in_patterns_are_shown_as_written(cli, write_policy):
    """Glob classes like `[abc]` are policy text, not terminal markup to be swallowed."""
    write_policy(
        """
        [[allow]]
        id = "logs"
        match = ["mytool [abc].log", "mytool [/]x"]
        reason = "see [bold]docs[/bold]"
        examples = ["mytool [/]y"]
        """
    )
    assert "mytool [abc].log | mytool [/]x" in cli("policy", "show").output
    out = cli("check", "--", "mytool", "b.log").output
    assert "pattern: mytool [abc].log" in out
    assert "reason:  see [bold]docs[/bold]" in out
    fail = cli("policy", "test", code=78).output
    assert "example does not match: mytool [/]y" in fail
