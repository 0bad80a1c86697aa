"""`guard hook claude-code` as a real process fed Claude Code's documented hook JSON.

Contract: https://code.claude.com/docs/en/hooks (Hooks reference): "PreToolUse input" (the Bash
`tool_input.command`, `tool_use_id`), "PreToolUse decision control" (exit 0 and
`hookSpecificOutput.permissionDecision` allow | deny | ask with `permissionDecisionReason`),
"Exit code 2" (a blocking error: PreToolUse blocks the call, stderr is the reason), "PostToolUse
input", "PostToolUseFailure input" and "PermissionDenied input" (the events that tell guard what
became of a call it handed to Claude Code's own prompt).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import GUARD, PYTHON, GuardEnv, imported, run_guard, run_process
from hook_support import ALLOWED, DENIED, POLICY, REVIEWED, HookEnv, deep_json, huge_json, json_out

DOCS = "https://code.claude.com/docs/en/hooks"


@pytest.fixture
def hook_env(tmp_path: Path, guard_env: GuardEnv, policy_file: Path, write_policy: Any) -> HookEnv:
    write_policy(POLICY, policy_file)
    return HookEnv(tmp_path, guard_env, policy_file, "claude-code")


def payload(command: str, tool: str = "Bash", event: str = "PreToolUse", **extra: Any) -> str:
    """A hook call as Claude Code sends it on stdin (DOCS, "Common input fields" and
    "PreToolUse input": the Bash example with description, timeout, run_in_background)."""
    body: dict[str, Any] = {
        "session_id": "abc123-session",
        "prompt_id": "550e8400-e29b-41d4-a716-446655440000",
        "transcript_path": "/home/dev/.claude/projects/demo/abc123-session.jsonl",
        "cwd": "/home/dev/demo",
        "permission_mode": "default",
        "hook_event_name": event,
        "tool_name": tool,
        "tool_input": {
            "command": command,
            "description": "run it",
            "timeout": 120000,
            "run_in_background": False,
        },
        "tool_use_id": "toolu_01ABC",
    }
    body.update(extra)
    return json.dumps(body)


def answer(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The exact documented shape: exit 0, one JSON object with hookSpecificOutput only."""
    assert done.returncode == 0, done.stderr
    data = json_out(done)
    assert set(data) == {"hookSpecificOutput"}
    out = data["hookSpecificOutput"]
    assert set(out) == {"hookEventName", "permissionDecision", "permissionDecisionReason"}
    assert out["hookEventName"] == "PreToolUse"
    return dict(out)


def test_whitelisted_command_is_allowed(hook_env: HookEnv) -> None:
    out = answer(hook_env.call(payload(ALLOWED)))
    assert out["permissionDecision"] == "allow"
    assert "t-read" in out["permissionDecisionReason"]
    (entry,) = hook_env.entries()
    assert (entry["mode"], entry["decision"], entry["harness"]) == (
        "hook",
        "allowed",
        "claude-code",
    )
    assert entry["session"] == "abc123-session"
    assert entry["cwd"] == "/home/dev/demo"
    assert entry["command"] == ALLOWED
    assert entry["agent"] == "claude-code"
    assert entry["tool_use_id"] == "toolu_01ABC"


def test_denied_command_is_denied_with_the_reason_for_the_model(hook_env: HookEnv) -> None:
    out = answer(hook_env.call(payload(DENIED)))
    assert out["permissionDecision"] == "deny"
    reason = out["permissionDecisionReason"]
    assert reason.startswith(f"guard: denied: {DENIED}")
    assert "t-no-frob" in reason
    assert "frobnicate corrupts the index" in reason
    assert hook_env.entries()[-1]["decision"] == "denied"


def test_denied_part_of_a_line_denies_the_line(hook_env: HookEnv) -> None:
    assert answer(hook_env.call(payload("ls && frobnicate x")))["permissionDecision"] == "deny"


def test_irreversible_command_asks_the_human_in_claude_code(hook_env: HookEnv) -> None:
    out = answer(hook_env.call(payload(REVIEWED)))
    assert out["permissionDecision"] == "ask"
    assert out["permissionDecisionReason"].startswith("guard: review: IRREVERSIBLE")
    entry = hook_env.entries()[-1]
    assert (entry["decision"], entry["decided_by"]) == ("deferred", "hook")
    assert entry["irreversible"] is True


def test_unknown_command_asks(hook_env: HookEnv) -> None:
    out = answer(hook_env.call(payload("some-unknown-tool --go")))
    assert out["permissionDecision"] == "ask"
    assert out["permissionDecisionReason"].startswith("guard: review:")


def test_a_tool_guard_does_not_judge_is_handed_to_the_human_explicitly(hook_env: HookEnv) -> None:
    """Silence would let the tool run unjudged: guard says so and asks (DOCS: "ask" prompts
    the user to confirm)."""
    body = json.loads(payload("x", tool="PowerShell"))
    body["tool_input"] = {"command": "Remove-Item -Recurse C:\\"}
    out = answer(hook_env.call(json.dumps(body)))
    assert out["permissionDecision"] == "ask"
    assert "judges the Bash tool and the file tools; PowerShell" in out["permissionDecisionReason"]
    assert not hook_env.log.exists()


# --- closing the loop: the human's answer to an "ask" ---------------------------------------


def _verify(hook_env: HookEnv) -> None:
    done = run_guard("audit", "verify", env=hook_env.env)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("event", ["PostToolUse", "PostToolUseFailure"])
def test_a_deferred_review_that_ran_is_recorded_as_approved(hook_env: HookEnv, event: str) -> None:
    """PreToolUse "ask", then the post-tool event of the same tool_use_id (DOCS: PostToolUse
    "after a tool has already executed successfully"; PostToolUseFailure "a tool that started
    executing fails"): the human approved it."""
    answer(hook_env.call(payload(REVIEWED)))
    extra = (
        {"tool_response": {"stdout": "", "stderr": "", "interrupted": False, "isImage": False}}
        if event == "PostToolUse"
        else {"error": "Exit code 1\nrm: cannot remove", "is_interrupt": False}
    )
    done = hook_env.call(payload(REVIEWED, event=event, duration_ms=12, **extra))
    assert (done.returncode, done.stdout) == (0, "")
    deferred, resolved = hook_env.entries()
    assert deferred["decision"] == "deferred"
    assert (resolved["decision"], resolved["decided_by"]) == ("approved", "reviewer")
    assert resolved["deferred_id"] == deferred["id"]
    assert resolved["command"] == REVIEWED
    assert resolved["irreversible"] is True
    assert event in resolved["reason"]
    _verify(hook_env)
    # the same event again (a retry, a second hook) resolves nothing twice
    hook_env.call(payload(REVIEWED, event=event, duration_ms=12, **extra))
    assert len(hook_env.entries()) == 2


def test_a_deferred_review_the_harness_denied_is_recorded_as_denied(hook_env: HookEnv) -> None:
    """PermissionDenied (DOCS: input adds `reason`; auto mode's denial of the call)."""
    answer(hook_env.call(payload(REVIEWED, permission_mode="auto")))
    done = hook_env.call(
        payload(
            REVIEWED,
            event="PermissionDenied",
            permission_mode="auto",
            reason="Blocked by classifier",
        )
    )
    assert (done.returncode, done.stdout) == (0, "")
    deferred, resolved = hook_env.entries()
    assert (resolved["decision"], resolved["deferred_id"]) == ("denied", deferred["id"])
    _verify(hook_env)


def test_post_events_of_calls_guard_decided_itself_add_nothing(hook_env: HookEnv) -> None:
    answer(hook_env.call(payload(ALLOWED)))
    hook_env.call(payload(ALLOWED, event="PostToolUse", tool_response={}))
    assert [e["decision"] for e in hook_env.entries()] == ["allowed"]


def test_a_post_event_matches_the_deferred_call_by_session_and_tool_use_id(
    hook_env: HookEnv,
) -> None:
    answer(hook_env.call(payload(REVIEWED)))
    hook_env.call(
        payload(REVIEWED, event="PostToolUse", tool_use_id="toolu_OTHER", tool_response={})
    )
    hook_env.call(payload(REVIEWED, event="PostToolUse", session_id="other", tool_response={}))
    assert [e["decision"] for e in hook_env.entries()] == ["deferred"]


# --- input guard cannot read: exit 2, fail closed ------------------------------------------


@pytest.mark.parametrize(
    "stdin",
    [
        "",
        "{not json",
        "[1, 2]",
        json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {}}),
        json.dumps({"tool_name": "Bash", "tool_input": {"command": ["rm", "-rf", "/"]}}),
        json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": "rm"}),
        deep_json(),
        huge_json(),
    ],
    ids=[
        "empty",
        "broken-json",
        "not-an-object",
        "no-command",
        "no-event",
        "input-not-an-object",
        "100000-deep",
        "over-10MB",
    ],
)
def test_malformed_input_blocks_with_exit_2(hook_env: HookEnv, stdin: str) -> None:
    """DOCS "Exit code 2": a blocking error; PreToolUse blocks the tool call, stderr is why."""
    done = hook_env.call(stdin)
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("guard: hook claude-code: malformed hook input")
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1


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


def test_a_bad_budget_on_the_hook_command_line_blocks(hook_env: HookEnv) -> None:
    """A mistyped hook configuration must not become a usage error Claude Code ignores."""
    done = hook_env.call(payload(ALLOWED), "--budget", "soon")
    assert done.returncode == 2
    assert "--budget 'soon'" in done.stderr


def test_the_hook_loads_no_click_and_no_rich(hook_env: HookEnv) -> None:
    """It runs on every tool call: `guard hook HARNESS` is dispatched without the CLI layer."""
    done = run_process(
        [PYTHON, "-X", "importtime", GUARD, "hook", "claude-code"],
        env=hook_env.env,
        input=payload(ALLOWED),
    )
    assert answer(done)["permissionDecision"] == "allow"
    loaded = imported(done.stderr)
    assert not {name for name in loaded if name.split(".")[0] in ("click", "rich")}
    assert "expacti_cli.integrations.hooks.core" in loaded


@pytest.mark.parametrize(
    "body",
    [
        {"session_id": "s", "hook_event_name": "Stop", "stop_hook_active": False},
        {
            "session_id": "s",
            "hook_event_name": "PostToolUse",
            "tool_name": "Read",
            "tool_input": {"file_path": "/etc/hosts"},
            "tool_response": {},
        },
    ],
    ids=["Stop", "PostToolUse-Read"],
)
def test_events_with_nothing_to_decide_exit_0(hook_env: HookEnv, body: dict[str, Any]) -> None:
    """Exit 2 would not mean "blocked" there (DOCS "Exit code 2 behavior per event": on Stop
    it keeps Claude from stopping): a hook wired too widely must not do that."""
    done = hook_env.call(json.dumps(body))
    assert (done.returncode, done.stdout) == (0, "")
    assert not hook_env.log.exists()
