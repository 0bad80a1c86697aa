"""`guard hook claude-code` as a real process fed Claude Code's PreToolUse JSON."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import GuardEnv, GuardSetup, run_guard

POLICY = """
[[allow]]
id = "t-read"
match = ["ls **", "cat **", "mytool status **"]

[[deny]]
id = "t-no-frob"
match = "frobnicate **"
reason = "frobnicate corrupts the index"
"""


class HookEnv(GuardSetup):
    """A policy (GUARD_POLICY); calls the hook as Claude Code does."""

    def call(self, stdin: str) -> subprocess.CompletedProcess[str]:
        return run_guard("hook", "claude-code", input=stdin, env=self.env, cwd=self.root)


@pytest.fixture
def hook_env(tmp_path: Path, guard_env: GuardEnv, policy_file: Path, write_policy: Any) -> HookEnv:
    write_policy(POLICY, policy_file)
    return HookEnv(tmp_path, guard_env, policy_file)


def payload(command: str, tool: str = "Bash", **extra: Any) -> str:
    """A PreToolUse call as Claude Code sends it on the hook's stdin."""
    body: dict[str, Any] = {
        "session_id": "abc123-session",
        "transcript_path": "/home/dev/.claude/projects/demo/abc123-session.jsonl",
        "cwd": "/home/dev/demo",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": tool,
        "tool_input": {"command": command, "description": "run it"},
        "tool_use_id": "toolu_01ABC",
    }
    body.update(extra)
    return json.dumps(body)


def answer(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    out = data["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse"
    assert set(out) == {"hookEventName", "permissionDecision", "permissionDecisionReason"}
    return dict(out)


def test_whitelisted_command_is_allowed(hook_env: HookEnv) -> None:
    out = answer(hook_env.call(payload("mytool status --short")))
    assert out["permissionDecision"] == "allow"
    assert "t-read" in out["permissionDecisionReason"]
    (entry,) = hook_env.entries()
    assert entry["mode"] == "hook"
    assert entry["decision"] == "allowed"
    assert entry["session"] == "abc123-session"
    assert entry["cwd"] == "/home/dev/demo"
    assert entry["command"] == "mytool status --short"
    assert entry["agent"] == "claude-code"


def test_denied_command_is_denied_with_the_reason_for_the_model(hook_env: HookEnv) -> None:
    out = answer(hook_env.call(payload("frobnicate --all")))
    assert out["permissionDecision"] == "deny"
    reason = out["permissionDecisionReason"]
    assert reason.startswith("guard: denied: frobnicate --all")
    assert "t-no-frob" in reason
    assert "frobnicate corrupts the index" in reason
    assert hook_env.entries()[-1]["decision"] == "denied"


def test_denied_part_of_a_line_denies_the_line(hook_env: HookEnv) -> None:
    out = answer(hook_env.call(payload("ls && frobnicate x")))
    assert out["permissionDecision"] == "deny"


def test_irreversible_command_asks_the_human_in_claude_code(hook_env: HookEnv) -> None:
    out = answer(hook_env.call(payload("rm -rf build")))
    assert out["permissionDecision"] == "ask"
    assert "IRREVERSIBLE" in out["permissionDecisionReason"]
    entry = hook_env.entries()[-1]
    assert (entry["decision"], entry["decided_by"]) == ("deferred", "hook")
    assert entry["irreversible"] is True


def test_unknown_command_asks(hook_env: HookEnv) -> None:
    out = answer(hook_env.call(payload("some-unknown-tool --go")))
    assert out["permissionDecision"] == "ask"
    assert "review" in out["permissionDecisionReason"]


def test_other_tools_get_no_opinion(hook_env: HookEnv) -> None:
    body = json.loads(payload("x", tool="Read"))
    body["tool_input"] = {"file_path": "/etc/passwd"}
    done = hook_env.call(json.dumps(body))
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert not hook_env.log.exists()


@pytest.mark.parametrize(
    "stdin",
    [
        "",
        "{not json",
        "[1, 2]",
        json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {}}),
        json.dumps({"tool_name": "Bash", "tool_input": {"command": ["rm", "-rf", "/"]}}),
    ],
    ids=["empty", "broken-json", "not-an-object", "no-command", "command-not-a-string"],
)
def test_malformed_input_blocks_with_exit_2(hook_env: HookEnv, stdin: str) -> None:
    done = hook_env.call(stdin)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("guard: hook claude-code: malformed hook input")


def test_invalid_policy_denies(hook_env: HookEnv) -> None:
    hook_env.policy.write_text("[[allow]]\nid = 'x'\n", encoding="utf-8")
    out = answer(hook_env.call(payload("ls")))
    assert out["permissionDecision"] == "deny"
    assert "policy error" in out["permissionDecisionReason"]
    assert str(hook_env.policy) in out["permissionDecisionReason"]


def test_unwritable_audit_log_denies(hook_env: HookEnv) -> None:
    blocker = hook_env.root / "a-file"
    blocker.write_text("")
    hook_env.env["GUARD_AUDIT_LOG"] = str(blocker / "audit.jsonl")
    out = answer(hook_env.call(payload("ls")))
    assert out["permissionDecision"] == "deny"
