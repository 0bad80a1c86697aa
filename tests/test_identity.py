"""Per-agent identities (DESIGN.md, Identity): each agent its own secret, shown once, stored
hashed in a private file; revoking one agent shuts it out without touching the others."""

from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner
from conftest import audit_entries, run_guard

from expacti_cli.cli import main

POLICY = """
[settings]
require_identity = true

[[allow]]
id = "tool"
match = "tool **"
"""


def add_agent(name: str, *options: str) -> str:
    result = CliRunner().invoke(main, ["agent", "add", *options, name], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    tokens = [ln for ln in result.stdout.splitlines() if ln.startswith("gat_")]
    assert len(tokens) == 1, result.output
    return tokens[0]


def as_agent(name: str, token: str | None, marker) -> int:
    env = {"GUARD_AGENT": name}
    if token is not None:
        env["GUARD_AGENT_TOKEN"] = token
    return run_guard("--", "tool", str(marker), env=env).returncode


def test_agent_add_shows_token_once_and_stores_only_a_digest(guard_env):
    token = add_agent("claude-1")
    assert len(token) > 30
    text = guard_env.agents_file.read_text()
    assert "claude-1" in text
    assert token not in text
    assert stat.S_IMODE(guard_env.agents_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(guard_env.agents_file.parent.stat().st_mode) == 0o700
    listing = CliRunner().invoke(main, ["agent", "list"], catch_exceptions=False).output
    assert listing == "claude-1\tactive\n"
    assert token not in listing


def test_tokens_are_unique_per_agent(guard_env):
    assert add_agent("a") != add_agent("b")


def test_require_identity(guard_env, write_policy, tool_bin, marker):
    write_policy(POLICY)
    token = add_agent("bot")
    assert as_agent("bot", token, marker) == 0
    assert marker.exists()
    marker.unlink()
    assert as_agent("bot", token + "x", marker) == 77  # wrong token
    assert as_agent("bot", None, marker) == 77  # no token
    assert as_agent("eve", token, marker) == 77  # unknown agent, someone else's token
    assert as_agent("anonymous", None, marker) == 77
    assert not marker.exists()
    reasons = [e["reason"] for e in audit_entries(guard_env.audit_log)[1:]]
    assert "wrong token for agent 'bot'" in reasons[0]
    assert "gave no token" in reasons[1]
    assert "unknown agent 'eve'" in reasons[2]
    assert all(e["rule"] == "identity" for e in audit_entries(guard_env.audit_log)[1:])


def test_denial_tells_the_agent_why(guard_env, write_policy, tool_bin, marker):
    write_policy(POLICY)
    result = run_guard("--agent", "ghost", "--", "tool", str(marker))
    assert result.returncode == 77
    assert "guard: denied:" in result.stderr
    assert "unknown agent 'ghost'" in result.stderr


def test_revoking_one_agent_leaves_the_others(guard_env, write_policy, tool_bin, marker):
    write_policy(POLICY)
    alpha, beta = add_agent("alpha"), add_agent("beta")
    result = CliRunner().invoke(main, ["agent", "revoke", "alpha"], catch_exceptions=False)
    assert result.exit_code == 0
    assert as_agent("alpha", alpha, marker) == 77
    assert not marker.exists()
    assert as_agent("beta", beta, marker) == 0
    listing = CliRunner().invoke(main, ["agent", "list"], catch_exceptions=False).output
    assert listing.splitlines() == ["alpha\trevoked", "beta\tactive"]


def test_revoked_agent_is_denied_even_without_require_identity(
    guard_env, write_policy, tool_bin, marker
):
    write_policy("[[allow]]\nid = 'tool'\nmatch = 'tool **'\n")
    add_agent("old")
    CliRunner().invoke(main, ["agent", "revoke", "old"], catch_exceptions=False)
    result = run_guard("--agent", "old", "--", "tool", str(marker))
    assert result.returncode == 77
    assert "revoked" in result.stderr
    assert not marker.exists()
    assert as_agent("other", None, marker) == 0


def test_rotating_an_agent_replaces_its_token(guard_env, write_policy, tool_bin, marker):
    write_policy(POLICY)
    old = add_agent("bot")
    new = add_agent("bot", "--rotate")
    assert as_agent("bot", old, marker) == 77
    assert as_agent("bot", new, marker) == 0


def test_unreadable_agents_file_fails_closed(guard_env, write_policy, tool_bin, marker):
    write_policy("[[allow]]\nid = 'tool'\nmatch = 'tool **'\n")
    guard_env.agents_file.mkdir(parents=True)  # a directory where the file should be
    result = run_guard("--", "tool", str(marker))
    assert result.returncode == 77
    assert "agents file" in result.stderr
    assert not marker.exists()


@pytest.mark.parametrize("name", ["", "has space", "tab\tname", "slash/name", "ünï"])
def test_invalid_agent_names_are_refused(guard_env, name):
    result = run_guard("agent", "add", name)
    assert result.returncode == 64
    assert not guard_env.agents_file.exists()


def test_revoke_unknown_agent_is_a_usage_error(guard_env):
    result = run_guard("agent", "revoke", "nobody")
    assert result.returncode == 64
    assert "nobody" in result.stderr


def test_token_never_printed_to_stderr(guard_env):
    result = run_guard("agent", "add", "bot")
    assert result.returncode == 0
    token = next(ln for ln in result.stdout.splitlines() if ln.startswith("gat_"))
    assert token not in result.stderr
    assert "GUARD_AGENT_TOKEN" in result.stderr
