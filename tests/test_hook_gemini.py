"""`guard hook gemini-cli` as a real process fed Gemini CLI's documented BeforeTool JSON.

Contract: https://geminicli.com/docs/hooks/reference ("Global hook mechanics": exit 0 and JSON
on stdout, exit 2 "System Block" with stderr as the reason; "Base input schema"; "BeforeTool":
`tool_name`, `tool_input`, output `decision` "allow" | "deny" (alias "block") and `reason`),
and https://geminicli.com/docs/tools/shell (`run_shell_command` takes `command`, `description`,
`dir_path`, `is_background`). The documented decisions have no "ask": a review goes to guard's
reviewer console within the budget, and is denied when nobody answers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from conftest import GuardEnv
from hook_support import (
    ALLOWED,
    DENIED,
    POLICY,
    REVIEWED,
    FakeConsole,
    HookEnv,
    deep_json,
    huge_json,
    json_out,
)

DOCS = "https://geminicli.com/docs/hooks/reference"


@pytest.fixture
def hook_env(tmp_path: Path, guard_env: GuardEnv, policy_file: Path, write_policy: Any) -> HookEnv:
    write_policy(POLICY, policy_file)
    return HookEnv(tmp_path, guard_env, policy_file, "gemini-cli")


def payload(command: str, tool: str = "run_shell_command", **extra: Any) -> str:
    body: dict[str, Any] = {
        "session_id": "gem-session-1",
        "transcript_path": "/home/dev/.gemini/tmp/demo/chats/session.json",
        "cwd": "/home/dev/demo",
        "hook_event_name": "BeforeTool",
        "timestamp": "2026-11-29T23:50:00.000Z",
        "tool_name": tool,
        "tool_input": {"command": command, "description": "run it", "dir_path": "sub"},
    }
    body.update(extra)
    return json.dumps(body)


def test_allowed(hook_env: HookEnv) -> None:
    done = hook_env.call(payload(ALLOWED))
    assert done.returncode == 0, done.stderr
    out = json_out(done)
    assert out["decision"] == "allow"
    assert set(out) == {"decision", "reason"}
    (entry,) = hook_env.entries()
    assert (entry["decision"], entry["harness"], entry["agent"]) == (
        "allowed",
        "gemini-cli",
        "gemini-cli",
    )
    assert entry["cwd"] == "/home/dev/demo/sub"  # dir_path is relative to the workspace
    assert entry["session"] == "gem-session-1"


def test_denied_with_the_reason_sent_to_the_agent(hook_env: HookEnv) -> None:
    done = hook_env.call(payload(DENIED))
    assert done.returncode == 0
    out = json_out(done)
    assert out["decision"] == "deny"
    assert out["reason"].startswith(f"guard: denied: {DENIED} (rule t-no-frob")


def test_reviewed_with_nobody_to_ask_is_denied(hook_env: HookEnv) -> None:
    done = hook_env.call(payload(REVIEWED))
    assert done.returncode == 0
    out = json_out(done)
    assert out["decision"] == "deny"
    assert "guard review" in out["reason"]
    entry = hook_env.entries()[-1]
    assert (entry["decision"], entry["decided_by"]) == ("denied", "no_reviewer")


@pytest.mark.parametrize("approve", [True, False], ids=["approved", "denied"])
def test_reviewed_goes_to_the_reviewer_console(hook_env: HookEnv, approve: bool) -> None:
    console = FakeConsole(approve)
    try:
        done = hook_env.call(payload(REVIEWED))
    finally:
        console.close()
    assert [r["command"] for r in console.seen] == [REVIEWED]
    out = json_out(done)
    assert out["decision"] == ("allow" if approve else "deny")
    entry = hook_env.entries()[-1]
    assert entry["decision"] == ("approved" if approve else "denied")
    assert (entry["decided_by"], entry["reviewer"]) == ("reviewer", "alice")


def test_another_tool_is_denied_explicitly(hook_env: HookEnv) -> None:
    body = json.loads(payload("x", tool="web_fetch"))
    body["tool_input"] = {"prompt": "summarise https://example.com"}
    out = json_out(hook_env.call(json.dumps(body)))
    assert out["decision"] == "deny"
    assert "narrow" in out["reason"]


def test_after_tool_events_get_an_empty_object(hook_env: HookEnv) -> None:
    body = json.loads(payload(ALLOWED))
    body.update(
        hook_event_name="AfterTool", tool_response={"llmContent": "ok", "returnDisplay": "ok"}
    )
    done = hook_env.call(json.dumps(body))
    assert (done.returncode, json_out(done)) == (0, {})


@pytest.mark.parametrize(
    "stdin",
    [
        "",
        "{oops",
        "42",
        json.dumps({"hook_event_name": "BeforeTool", "tool_name": "run_shell_command"}),
        deep_json(),
        huge_json(),
    ],
    ids=["empty", "broken", "number", "no-input", "100000-deep", "over-10MB"],
)
def test_malformed_is_a_system_block(hook_env: HookEnv, stdin: str) -> None:
    """DOCS "Exit codes": 2 = System Block, stderr is the rejection reason."""
    done = hook_env.call(stdin)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("guard: hook gemini-cli: malformed hook input")
    assert "Traceback" not in done.stderr
