"""Every harness configuration under examples/ is loaded and exercised for real.

Each test parses the shipped config (JSON or TOML), checks the harness's timeout and failure
settings leave guard's budget room and cannot fail open, then runs the exact command line the
config gives the harness, through `/bin/sh -c` as the harnesses run command hooks, with the
example payload in the harness's documented format (see the test_hook_*.py files for the pages).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
from conftest import GUARD, SYSTEM_PATH, GuardEnv, GuardSetup, run_guard, run_process
from hook_support import POLICY

from expacti_cli.integrations.hooks.core import DEFAULT_BUDGET

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
BIN = os.path.dirname(GUARD)
ROOM = 5  # seconds the harness's timeout must exceed guard's default budget by


class ExampleEnv(GuardSetup):
    def run(
        self, command: str, payload: dict[str, Any] | str, *, with_guard: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """The configured command line as the harness runs it: `sh -c`, JSON on stdin."""
        path = os.pathsep.join([BIN, SYSTEM_PATH]) if with_guard else "/usr/bin:/bin"
        assert with_guard or shutil.which("guard", path=path) is None
        stdin = payload if isinstance(payload, str) else json.dumps(payload)
        return run_process(
            ["/bin/sh", "-c", command], env=self.env, path=path, cwd=self.root, input=stdin
        )

    def verify(self) -> None:
        done = run_guard("audit", "verify", env=self.env)
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def example_env(
    tmp_path: Path, guard_env: GuardEnv, policy_file: Path, write_policy: Any
) -> ExampleEnv:
    write_policy(POLICY, policy_file)
    return ExampleEnv(tmp_path, guard_env, policy_file)


def _load_json(*parts: str) -> Any:
    return json.loads((EXAMPLES.joinpath(*parts)).read_text(encoding="utf-8"))


def _with_command(payload: dict[str, Any], command: str, *where: str) -> dict[str, Any]:
    body = json.loads(json.dumps(payload))
    target = body
    for key in where:
        target = target[key]
    target["command"] = command
    return body


# ---------------------------------------------------------------- claude-code


def _claude_hook(settings: dict[str, Any], event: str) -> dict[str, Any]:
    (group,) = settings["hooks"][event]
    assert group["matcher"] == "Bash|Read|Write|Edit|MultiEdit|NotebookEdit|Grep|Glob|LS"
    (hook,) = group["hooks"]
    assert hook["type"] == "command"
    return dict(hook)


def test_claude_code_settings(example_env: ExampleEnv) -> None:
    settings = _load_json("claude-code", "settings.json")
    pre = _claude_hook(settings, "PreToolUse")
    # https://code.claude.com/docs/en/hooks: "timeout" in seconds; a command hook that times
    # out, cannot start or exits with an unexpected status lets the call through unless
    # "onFailure": "block" (Claude Code 2.1.295 changelog) is on the hook entry.
    assert pre["onFailure"] == "block"
    assert pre["timeout"] >= DEFAULT_BUDGET + ROOM
    payload = _load_json("claude-code", "pretooluse-bash.json")

    def decision(done: subprocess.CompletedProcess[str]) -> tuple[str, str]:
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)["hookSpecificOutput"]
        return out["permissionDecision"], out["permissionDecisionReason"]

    command = pre["command"]
    assert decision(example_env.run(command, payload))[0] == "ask"  # the recorded rm -rf build
    assert (
        decision(example_env.run(command, _with_command(payload, "ls -la", "tool_input")))[0]
        == "allow"
    )
    verdict, reason = decision(
        example_env.run(command, _with_command(payload, "frobnicate now", "tool_input"))
    )
    assert (verdict, "t-no-frob" in reason) == ("deny", True)
    malformed = example_env.run(command, "{")
    assert (malformed.returncode, malformed.stdout) == (2, "")

    # the human approved the "ask": Claude Code ran it and sends PostToolUse
    post = _claude_hook(settings, "PostToolUse")
    ran = dict(payload, hook_event_name="PostToolUse", tool_response={"stdout": ""})
    assert example_env.run(post["command"], ran).returncode == 0
    for event in ("PostToolUse", "PostToolUseFailure", "PermissionDenied"):
        resolver = _claude_hook(settings, event)
        assert resolver["command"] == command
        assert resolver["async"] is True  # recording an answer must not delay the agent
    decisions = [(e["decision"], e.get("deferred_id")) for e in example_env.entries()]
    deferred_id = example_env.entries()[0]["id"]
    assert decisions == [
        ("deferred", None),
        ("allowed", None),
        ("denied", None),
        ("approved", deferred_id),
    ]
    example_env.verify()


# ---------------------------------------------------------------- gemini-cli


def test_gemini_cli_settings(example_env: ExampleEnv) -> None:
    settings = _load_json("gemini-cli", "settings.json")
    (group,) = settings["hooks"]["BeforeTool"]
    assert group["matcher"] == (
        "^(run_shell_command|read_file|read_many_files|write_file|replace|search_file_content"
        "|list_directory|glob)$"
    )
    (hook,) = group["hooks"]
    # https://geminicli.com/docs/hooks/reference: "timeout" in milliseconds; exit 2 blocks,
    # any other exit is a warning and the tool runs: hence `|| exit 2`.
    assert hook["type"] == "command"
    assert hook["timeout"] >= (DEFAULT_BUDGET + ROOM) * 1000
    command = hook["command"]
    assert command.endswith("|| exit 2")
    payload = _load_json("gemini-cli", "beforetool-shell.json")

    def decision(body: dict[str, Any]) -> str:
        done = example_env.run(command, body)
        assert done.returncode == 0, done.stderr
        return str(json.loads(done.stdout)["decision"])

    assert decision(payload) == "deny"  # a review, and no guard review console open
    assert decision(_with_command(payload, "ls -la", "tool_input")) == "allow"
    assert decision(_with_command(payload, "frobnicate now", "tool_input")) == "deny"
    assert example_env.run(command, "[").returncode == 2
    # guard missing (or killed): still a block, not a warning
    missing = example_env.run(command, payload, with_guard=False)
    assert missing.returncode == 2


# ---------------------------------------------------------------- cursor


def test_cursor_hooks(example_env: ExampleEnv) -> None:
    config = _load_json("cursor", "hooks.json")
    assert config["version"] == 1
    (before,) = config["hooks"]["beforeShellExecution"]
    (after,) = config["hooks"]["afterShellExecution"]
    # https://cursor.com/docs/agent/hooks: "failClosed" blocks the action when the hook
    # fails, times out or answers garbage; "timeout" in seconds.
    assert before["failClosed"] is True
    assert before["timeout"] >= DEFAULT_BUDGET + ROOM
    payload = _load_json("cursor", "beforeshellexecution.json")

    def permission(body: dict[str, Any]) -> str:
        done = example_env.run(before["command"], body)
        assert done.returncode == 0, done.stderr
        return str(json.loads(done.stdout)["permission"])

    assert permission(payload) == "ask"
    assert permission(_with_command(payload, "ls -la")) == "allow"
    assert permission(_with_command(payload, "frobnicate now")) == "deny"
    malformed = example_env.run(before["command"], "nope")
    assert (malformed.returncode, json.loads(malformed.stdout)["permission"]) == (2, "deny")
    ran = dict(payload, hook_event_name="afterShellExecution", output="", duration=10)
    assert example_env.run(after["command"], ran).returncode == 0
    assert [e["decision"] for e in example_env.entries()] == [
        "deferred",
        "allowed",
        "denied",
        "approved",
    ]
    example_env.verify()


# ---------------------------------------------------------------- codex


def test_codex_config(example_env: ExampleEnv) -> None:
    config = tomllib.loads((EXAMPLES / "codex" / "config.toml").read_text(encoding="utf-8"))
    # https://developers.openai.com/codex/hooks: hooks inline in config.toml, "timeout" in
    # seconds; only "deny" and exit 2 are enforced. A hook that fails falls back to Codex's
    # own approval policy, so that must ask for anything not known to be safe.
    assert config["approval_policy"] == "untrusted"
    assert config["sandbox_mode"] != "danger-full-access"
    (group,) = config["hooks"]["PreToolUse"]
    assert group["matcher"] == "^(Bash|apply_patch)$"
    (hook,) = group["hooks"]
    assert hook["type"] == "command"
    assert hook["timeout"] >= DEFAULT_BUDGET + ROOM
    command = hook["command"]
    assert command.endswith("|| exit 2")
    payload = _load_json("codex", "pretooluse-bash.json")

    def run(body: dict[str, Any] | str) -> subprocess.CompletedProcess[str]:
        return example_env.run(command, body)

    denied = json.loads(run(payload).stdout)["hookSpecificOutput"]  # review, nobody to ask
    assert denied["permissionDecision"] == "deny"
    allowed = run(_with_command(payload, "ls -la", "tool_input"))
    assert (allowed.returncode, allowed.stdout) == (0, "")
    frob = json.loads(run(_with_command(payload, "frobnicate now", "tool_input")).stdout)
    assert "t-no-frob" in frob["hookSpecificOutput"]["permissionDecisionReason"]
    assert run("").returncode == 2
    assert example_env.run(command, payload, with_guard=False).returncode == 2


@pytest.mark.parametrize("harness", ["claude-code", "gemini-cli", "cursor", "codex"])
def test_every_harness_example_has_a_readme_naming_its_contract(harness: str) -> None:
    text = (EXAMPLES / harness / "README.md").read_text(encoding="utf-8")
    assert f"guard hook {harness}" in text
    assert "https://" in text  # the harness's own documentation page
