"""Loading the policy: layers in order, settings and their strict parsing, program knowledge
merged across layers, where each rule came from (DESIGN.md, Policy files)."""

from __future__ import annotations

import os

import pytest
from conftest import compile_policy
from hypothesis import given, settings
from hypothesis import strategies as st

from expacti_cli import policy as policy_mod
from expacti_cli.decide import decide_argv
from expacti_cli.errors import PolicyError
from expacti_cli.policy import parse_duration


def test_layers_builtin_then_user(write_policy, guard_env):
    path = write_policy("[[allow]]\nid = 'mine'\nmatch = 'mytool'\n")
    policy = policy_mod.load()
    sources = policy.sources
    assert sources[-1] == str(path)
    assert sources[:-1] == policy_mod.builtin_files()
    assert sources[:-1] == sorted(sources[:-1])
    assert [r["id"] for r in policy.rules].count("mine") == 1


def test_missing_default_user_policy_is_fine(guard_env):
    policy = policy_mod.load()
    assert policy.settings["default"] == "review"
    assert policy.settings["when_no_reviewer"] == "deny"
    assert policy.settings["review_timeout"] == 120.0
    assert policy.settings["require_identity"] is False


def test_guard_policy_variable_and_explicit_path(write_policy, tmp_path, monkeypatch):
    env_file = write_policy("[settings]\ndefault = 'deny'\n", tmp_path / "env.toml")
    monkeypatch.setenv("GUARD_POLICY", str(env_file))
    assert policy_mod.load().settings["default"] == "deny"
    arg_file = write_policy("[settings]\nreview_timeout = '5s'\n", tmp_path / "arg.toml")
    loaded = policy_mod.load(str(arg_file))  # --policy beats GUARD_POLICY
    assert loaded.settings["default"] == "review"
    assert loaded.settings["review_timeout"] == 5.0
    monkeypatch.setenv("GUARD_POLICY", str(tmp_path / "missing.toml"))
    with pytest.raises(PolicyError, match="not found"):
        policy_mod.load()


def test_settings_override_key_by_key(write_policy):
    write_policy(
        """
        [settings]
        review_timeout = "2m"
        require_identity = true

        [audit]
        max_bytes = 0
        fsync = false

        [anomalies]
        max_rate = 7
        rate_window = "30s"
        min_hour_share = 0
        """
    )
    policy = policy_mod.load()
    assert policy.settings["review_timeout"] == 120.0
    assert policy.settings["require_identity"] is True
    assert policy.settings["default"] == "review"  # untouched keys keep their defaults
    assert (policy.audit["max_bytes"], policy.audit["fsync"]) == (0, False)
    assert policy.anomalies["max_rate"] == 7
    assert policy.anomalies["rate_window"] == 30.0
    assert policy.anomalies["min_hour_share"] == 0.0
    assert isinstance(policy.anomalies["min_hour_share"], float)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("120s", 120.0),
        ("2m", 120.0),
        ("1h", 3600.0),
        ("1d", 86400.0),
        ("500ms", 0.5),
        ("1.5s", 1.5),
        ("45", 45.0),
        (" 3M ", 180.0),
        (10, 10.0),
        (0.25, 0.25),
        ("0s", 0.0),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text, "x") == seconds


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "s",
        "ms",
        "soon",
        "-1s",
        "1w",
        "1 s s",
        "nan",
        "infs",
        "inf",
        True,
        None,
        [1],
        -3,
        float("inf"),
        float("nan"),
    ],
)
def test_bad_durations_name_the_value(bad):
    with pytest.raises(ValueError, match="x:") as info:
        parse_duration(bad, "x")
    assert repr(bad) in str(info.value)


@settings(max_examples=200, deadline=None)
@given(st.floats(min_value=0, max_value=1e9, allow_nan=False), st.sampled_from(["", "s", "m"]))
def test_durations_scale(number, unit):
    factor = {"": 1.0, "s": 1.0, "m": 60.0}[unit]
    assert parse_duration(f"{number!r}{unit}", "x") == pytest.approx(number * factor)


def test_programs_merge_across_layers():
    import tomllib

    first = '[programs.git]\nglobal_options = ["-C"]\nequivalent = { "--force" = ["-f"] }\n'
    second = (
        '[programs.git]\nglobal_options = ["--git-dir"]\nnames = ["hub"]\n'
        '[[irreversible]]\nid = "fp"\nmatch = "git push **"\nflags = ["-f"]\n'
    )
    data = policy_mod.compile_layers(
        [("a.toml", tomllib.loads(first), first), ("b.toml", tomllib.loads(second), second)]
    )
    git = data["programs"]["git"]
    assert git["global_options"] == frozenset({"-C", "--git-dir"})
    assert git["aliases"] == {"-f": "--force"}
    assert data["programs"]["hub"] is git
    # The rule written with the alias is compiled to the canonical spelling.
    assert data["rules"][0]["flags"] == [("--force", None)]


def test_rule_origin_is_file_and_line():
    policy = compile_policy(
        """
        # comment

        [[allow]]
        id = "one"
        match = "a"

        [[deny]]
        id = "two"
        match = "b"
        """,
        path="/etc/x.toml",
    )
    assert {r["id"]: r["origin"] for r in policy.rules} == {
        "one": "/etc/x.toml:4",
        "two": "/etc/x.toml:8",
    }


def test_candidates_include_wildcard_program_rules():
    policy = compile_policy(
        """
        [[deny]]
        id = "by-name"
        match = "mkfs **"
        [[deny]]
        id = "by-glob"
        match = "mkfs.* **"
        [[deny]]
        id = "by-path"
        match = "/sbin/mkfs **"
        [[deny]]
        id = "other"
        match = "ls"
        """
    )
    # A rule whose program is a glob or a path is a candidate for every name its program token
    # could match (a path is always kept: the name does not tell the path).
    ids = [r["id"] for r in policy.candidates("deny", "mkfs")]
    assert ids == ["by-name", "by-path"]
    assert [r["id"] for r in policy.candidates("deny", "mkfs.ext4")] == ["by-glob", "by-path"]
    assert [r["id"] for r in policy.candidates("deny", "ls")] == ["by-path", "other"]


def test_candidates_keep_only_the_patterns_naming_the_program():
    policy = compile_policy(
        """
        [[allow]]
        id = "basics"
        match = ["true **", "cat **", "/bin/cat -n **", "ca? -A"]
        """
    )
    (rule,) = policy.candidates("allow", "cat")
    assert rule["match"] == ["cat **", "/bin/cat -n **", "ca? -A"]
    assert [r["match"] for r in policy.candidates("allow", "ls")] == [["/bin/cat -n **"]]
    assert policy.candidates("allow", "rm") == policy.candidates("allow", "ls")
    assert decide_argv(policy, ["cat", "x"]).verdict == "allow"
    assert decide_argv(policy, ["true"]).verdict == "allow"


def test_builtin_catalogue_is_valid_and_proves_itself():
    from expacti_cli.policytest import run_policy_test

    files = policy_mod.builtin_files()
    assert files, "the built-in catalogue is shipped"
    assert all(f.startswith(os.path.dirname(policy_mod.__file__)) for f in files)
    result = run_policy_test(files)
    assert result.problems == []
    assert result.examples > 0


def test_builtin_catalogue_ids_are_unique_and_irreversible_rules_have_reasons():
    data = policy_mod.compile_files(policy_mod.builtin_files())  # raises on duplicate ids
    irreversible = [r for r in data["rules"] if r["kind"] == "irreversible"]
    assert irreversible
    assert all(r["reason"] for r in irreversible)
