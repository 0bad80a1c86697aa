"""`guard hook codex` as a real process fed Codex CLI's documented PreToolUse JSON.

Contract: https://developers.openai.com/codex/hooks (PreToolUse input: `session_id`,
`transcript_path`, `cwd`, `hook_event_name`, `model`, `turn_id`, `tool_name` "Bash",
`tool_input.command`, `tool_use_id`; Codex enforces `hookSpecificOutput.permissionDecision`
"deny" with its reason, and exit 2 with the reason on stderr; "allow" and "ask" are parsed but
not enforced, so guard sends neither: an allowed command gets no output, a review goes to guard's
reviewer console within the budget).
"""

from __future__ import annotations

import json
import os
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

DOCS = "https://developers.openai.com/codex/hooks"


@pytest.fixture
def hook_env(tmp_path: Path, guard_env: GuardEnv, policy_file: Path, write_policy: Any) -> HookEnv:
    write_policy(POLICY, policy_file)
    return HookEnv(tmp_path, guard_env, policy_file, "codex")


def payload(command: str, tool: str = "Bash", **extra: Any) -> str:
    body: dict[str, Any] = {
        "session_id": "codex-s1",
        "transcript_path": "/home/dev/.codex/sessions/s1.jsonl",
        "cwd": "/home/dev/demo",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "model": "gpt-5-codex",
        "turn_id": "turn-1",
        "tool_name": tool,
        "tool_input": {"command": command},
        "tool_use_id": "call-1",
    }
    body.update(extra)
    return json.dumps(body)


def denial(done: Any) -> str:
    assert done.returncode == 0, done.stderr
    out = json_out(done)["hookSpecificOutput"]
    assert set(out) == {"hookEventName", "permissionDecision", "permissionDecisionReason"}
    assert (out["hookEventName"], out["permissionDecision"]) == ("PreToolUse", "deny")
    return str(out["permissionDecisionReason"])


def test_allowed_gets_no_output(hook_env: HookEnv) -> None:
    done = hook_env.call(payload(ALLOWED))
    assert (done.returncode, done.stdout) == (0, "")
    (entry,) = hook_env.entries()
    assert (entry["decision"], entry["harness"], entry["tool_use_id"]) == (
        "allowed",
        "codex",
        "call-1",
    )


def test_denied(hook_env: HookEnv) -> None:
    assert denial(hook_env.call(payload(DENIED))).startswith(
        f"guard: denied: {DENIED} (rule t-no-frob"
    )


def test_reviewed_with_nobody_to_ask_is_denied(hook_env: HookEnv) -> None:
    assert "guard review" in denial(hook_env.call(payload(REVIEWED)))
    assert hook_env.entries()[-1]["decided_by"] == "no_reviewer"


def test_reviewed_and_approved_in_guard_review_passes(hook_env: HookEnv) -> None:
    console = FakeConsole(approve=True)
    try:
        done = hook_env.call(payload(REVIEWED))
    finally:
        console.close()
    assert (done.returncode, done.stdout) == (0, "")
    entry = hook_env.entries()[-1]
    assert (entry["decision"], entry["reviewer"]) == ("approved", "alice")


PATCH = """*** Begin Patch
*** Update File: {path}
@@
-old
+new
*** End Patch"""


def test_apply_patch_is_judged_by_the_files_it_writes(hook_env: HookEnv) -> None:
    """Codex's edit tool carries its patch in tool_input.command: a patch to ~/.bashrc is a
    protected write (nobody in guard review: denied), one to a workspace file is Codex's own
    business (no output), one that names no file is malformed."""
    home = os.path.expanduser("~")
    patch = PATCH.format(path=f"{home}/.bashrc")
    reason = denial(hook_env.call(payload(patch, tool="apply_patch")))
    assert ".bashrc" in reason
    assert hook_env.entries()[-1]["tool"] == "apply_patch"
    plain = hook_env.call(payload(PATCH.format(path="src/app.py"), tool="apply_patch"))
    assert (plain.returncode, plain.stdout) == (0, ""), plain.stderr
    empty = hook_env.call(payload("*** Begin Patch\n*** End Patch", tool="apply_patch"))
    assert empty.returncode == 2 and "names no file" in empty.stderr


def test_another_tool_is_denied_explicitly(hook_env: HookEnv) -> None:
    reason = denial(hook_env.call(payload("{}", tool="mcp__github__create_issue")))
    assert "narrow" in reason


@pytest.mark.parametrize(
    "stdin",
    [
        "",
        "{",
        "null",
        json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash"}),
        deep_json(),
        huge_json(),
    ],
    ids=["empty", "broken", "null", "no-input", "100000-deep", "over-10MB"],
)
def test_malformed_blocks_with_exit_2(hook_env: HookEnv, stdin: str) -> None:
    done = hook_env.call(stdin)
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.startswith("guard: hook codex: malformed hook input")
    assert "Traceback" not in done.stderr
