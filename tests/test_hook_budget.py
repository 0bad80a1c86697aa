"""A hook answers within its budget whatever holds the decision (issue 9: "a hook must answer
within its budget"), and fails closed in the harness's own terms when it cannot decide.

The stuck part is real: another process holds the audit log's lock (a hung guard), so the
decision worker blocks in `flock`; or a reviewer console is open but nobody answers.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import GUARD, GuardEnv
from hook_support import ALLOWED, POLICY, REVIEWED, FakeConsole, HookEnv

from expacti_cli import reviewqueue


@pytest.fixture
def make_env(tmp_path: Path, guard_env: GuardEnv, policy_file: Path, write_policy: Any) -> Any:
    write_policy(POLICY, policy_file)

    def make(harness: str) -> HookEnv:
        return HookEnv(tmp_path, guard_env, policy_file, harness)

    return make


def _claude(command: str) -> str:
    return json.dumps(
        {
            "session_id": "s",
            "cwd": "/home/dev/demo",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": command},
            "tool_use_id": "toolu_1",
        }
    )


def _gemini(command: str) -> str:
    return json.dumps(
        {
            "session_id": "s",
            "cwd": "/home/dev/demo",
            "hook_event_name": "BeforeTool",
            "tool_name": "run_shell_command",
            "tool_input": {"command": command},
        }
    )


def _hold_log_lock(log: Path) -> int:
    log.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(str(log) + ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    os.lockf(fd, os.F_LOCK, 0)  # the writers' lock, as audit.lock takes it
    return fd


def test_a_stuck_decision_is_denied_within_the_budget(make_env: Any) -> None:
    env = make_env("claude-code")
    fd = _hold_log_lock(env.log)
    try:
        started = time.monotonic()
        done = env.call(_claude(ALLOWED), "--budget", "2")
        elapsed = time.monotonic() - started
    finally:
        os.close(fd)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)["hookSpecificOutput"]
    assert out["permissionDecision"] == "deny"
    assert "no decision within the 2s budget" in out["permissionDecisionReason"]
    assert elapsed < 2 + 1.0, elapsed  # the budget, plus starting Python


def test_a_stuck_decision_is_denied_in_gemini_terms(make_env: Any) -> None:
    env = make_env("gemini-cli")
    fd = _hold_log_lock(env.log)
    try:
        done = env.call(_gemini(ALLOWED), "--budget", "1.5")
    finally:
        os.close(fd)
    out = json.loads(done.stdout)
    assert (done.returncode, out["decision"]) == (0, "deny")
    assert "budget" in out["reason"]


def test_a_console_that_never_answers_is_a_denial_within_the_budget(make_env: Any) -> None:
    env = make_env("gemini-cli")
    fd = reviewqueue.hold_console_lock()  # a console is open, nobody answers
    try:
        started = time.monotonic()
        done = env.call(_gemini(REVIEWED), "--budget", "3")
        elapsed = time.monotonic() - started
    finally:
        os.close(fd)
    out = json.loads(done.stdout)
    assert out["decision"] == "deny"
    assert "timed out" in out["reason"]
    assert elapsed < 3 + 1.0, elapsed
    entry = env.entries()[-1]
    assert (entry["decision"], entry["decided_by"]) == ("denied", "timeout")


def test_a_console_answer_within_the_budget_is_used(make_env: Any) -> None:
    env = make_env("gemini-cli")
    console = FakeConsole(approve=True)
    try:
        done = env.call(_gemini(REVIEWED), "--budget", "5")
    finally:
        console.close()
    assert json.loads(done.stdout)["decision"] == "allow"


def test_statistics_stuck_behind_a_lock_do_not_hold_the_answer(make_env: Any) -> None:
    """Agent statistics are kept after the answer is sent, detached from the harness's pipes:
    a state lock another process holds neither delays the answer nor turns a logged `allowed`
    into a budget denial."""
    from expacti_cli import agentstate

    env = make_env("claude-code")
    lock_path = Path(agentstate._file("claude-code") + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.lockf(fd, os.F_LOCK, 0)  # the agent-state lock, as agentstate.record takes it
    try:
        started = time.monotonic()
        done = env.call(_claude(ALLOWED), "--budget", "3")
        elapsed = time.monotonic() - started
    finally:
        os.close(fd)
    assert json.loads(done.stdout)["hookSpecificOutput"]["permissionDecision"] == "allow"
    assert elapsed < 2.5, elapsed
    assert [e["decision"] for e in env.entries()] == ["allowed"]


def test_a_harness_that_never_closes_stdin_gets_a_block_within_the_budget(make_env: Any) -> None:
    env = make_env("codex")
    proc = subprocess.Popen(
        [GUARD, "hook", "codex", "--budget", "1.5"],
        env={**os.environ, **env.env},
        stdin=subprocess.PIPE,  # held open, nothing written
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = _wait(proc)
    finally:
        if proc.stdin:
            proc.stdin.close()
    assert proc.returncode == 2
    assert "no input within the 1.5s budget" in err
    assert out == ""


def _wait(proc: subprocess.Popen[str]) -> tuple[str, str]:
    assert proc.stdout is not None and proc.stderr is not None
    started = time.monotonic()
    out = proc.stdout.read()  # EOF when guard exits, though our end of stdin stays open
    err = proc.stderr.read()
    proc.wait(5)
    assert time.monotonic() - started < 1.5 + 1.0
    return out, err
