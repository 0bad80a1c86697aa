"""`guard hook cursor` as a real process fed Cursor's documented beforeShellExecution JSON.

Contract: https://cursor.com/docs/agent/hooks (common input: `conversation_id`,
`generation_id`, `hook_event_name`, `workspace_roots`; beforeShellExecution adds `command` and
`cwd` and answers `{"permission": "allow" | "deny" | "ask", "user_message", "agent_message"}`;
afterShellExecution adds `output` and `duration`; exit code 2 denies).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import GuardEnv, run_guard
from hook_support import ALLOWED, DENIED, POLICY, REVIEWED, HookEnv, deep_json, huge_json, json_out

DOCS = "https://cursor.com/docs/agent/hooks"


@pytest.fixture
def hook_env(tmp_path: Path, guard_env: GuardEnv, policy_file: Path, write_policy: Any) -> HookEnv:
    write_policy(POLICY, policy_file)
    return HookEnv(tmp_path, guard_env, policy_file, "cursor")


def payload(command: str, event: str = "beforeShellExecution", **extra: Any) -> str:
    body: dict[str, Any] = {
        "conversation_id": "conv-123",
        "generation_id": "gen-456",
        "hook_event_name": event,
        "workspace_roots": ["/home/dev/demo"],
        "model": "some-model",
        "cursor_version": "2.0.77",
        "command": command,
        "cwd": "/home/dev/demo",
    }
    body.update(extra)
    return json.dumps(body)


def permission(done: Any) -> tuple[str, str]:
    assert done.returncode == 0, done.stderr
    out = json_out(done)
    assert set(out) == {"permission", "user_message", "agent_message"}
    assert out["user_message"] == out["agent_message"]
    return out["permission"], out["agent_message"]


def test_allowed(hook_env: HookEnv) -> None:
    verdict, reason = permission(hook_env.call(payload(ALLOWED)))
    assert verdict == "allow" and "t-read" in reason
    (entry,) = hook_env.entries()
    assert (entry["decision"], entry["session"], entry["harness"]) == (
        "allowed",
        "conv-123",
        "cursor",
    )


def test_denied(hook_env: HookEnv) -> None:
    verdict, reason = permission(hook_env.call(payload(DENIED)))
    assert verdict == "deny"
    assert reason.startswith(f"guard: denied: {DENIED} (rule t-no-frob")


def test_reviewed_asks_the_cursor_user_then_records_that_it_ran(hook_env: HookEnv) -> None:
    verdict, reason = permission(hook_env.call(payload(REVIEWED)))
    assert verdict == "ask" and reason.startswith("guard: review: IRREVERSIBLE")
    done = hook_env.call(payload(REVIEWED, event="afterShellExecution", output="", duration=15))
    assert (done.returncode, json_out(done)) == (0, {})
    deferred, resolved = hook_env.entries()
    assert deferred["decision"] == "deferred"
    assert (resolved["decision"], resolved["deferred_id"]) == ("approved", deferred["id"])
    verify = run_guard("audit", "verify", env=hook_env.env)
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_another_permission_event_is_handed_to_the_user(hook_env: HookEnv) -> None:
    body = {
        "hook_event_name": "beforeMCPExecution",
        "conversation_id": "c",
        "tool_name": "db",
        "tool_input": "{}",
        "workspace_roots": [],
    }
    verdict, reason = permission(hook_env.call(json.dumps(body)))
    assert verdict == "ask" and "only shell commands" in reason


@pytest.mark.parametrize(
    "stdin",
    [
        "",
        "nope",
        "[]",
        json.dumps({"hook_event_name": "beforeShellExecution", "command": 7}),
        deep_json(),
        huge_json(),
    ],
    ids=["empty", "not-json", "array", "command-not-a-string", "100000-deep", "over-10MB"],
)
def test_malformed_is_denied_with_exit_2(hook_env: HookEnv, stdin: str) -> None:
    done = hook_env.call(stdin)
    assert done.returncode == 2
    out = json_out(done)
    assert out["permission"] == "deny"
    assert out["agent_message"].startswith("guard: hook cursor: malformed hook input")
    assert "Traceback" not in done.stderr
