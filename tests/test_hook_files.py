"""The harnesses' file tools through `guard hook`: judged as the command each amounts to.

A turned agent can skip the shell: Claude Code's Write and Edit, Gemini CLI's write_file and
replace change files, Read and read_file print them. With the hook's matcher widened to these
tools, guard decides each call by the same policy and protected effects as a shell command
(expacti_cli/integrations/hooks/files.py), as a real `guard hook` process fed the harness's
documented JSON (Claude Code: https://code.claude.com/docs/en/hooks "PreToolUse input" for
Write, Edit, Read, Glob, Grep; Gemini CLI: https://geminicli.com/docs/tools/file-system).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from conftest import GuardEnv
from hook_support import POLICY, HookEnv, json_out
from test_hook import answer

HOME = os.path.expanduser("~")


@pytest.fixture(params=["claude-code", "gemini-cli"])
def env(request: Any, tmp_path: Path, guard_env: GuardEnv, policy_file: Path, write_policy: Any):
    write_policy(POLICY, policy_file)
    return HookEnv(tmp_path, guard_env, policy_file, request.param)


CLAUDE = {"read": "Read", "write": "Write", "edit": "Edit", "search": "Grep", "list": "Glob"}
GEMINI = {
    "read": "read_file",
    "write": "write_file",
    "edit": "replace",
    "search": "search_file_content",
    "list": "glob",
}


def work(env: HookEnv) -> Path:
    """The agent's workspace (not env.root, which holds guard's own state: its token store is a
    secret, and a search of it is rightly a human's call)."""
    path = env.root / "work"
    path.mkdir(exist_ok=True)
    return path


def call(env: HookEnv, what: str, tool_input: dict[str, Any], event: str | None = None) -> Any:
    """The hook's verdict: allow, deny, ask; "own" when guard leaves the call to the harness's
    own permission rules (no output from Claude Code's hook, `{}` from Gemini CLI's)."""
    claude = env.harness == "claude-code"
    body = {
        "session_id": "s-files",
        "cwd": str(work(env)),
        "hook_event_name": event or ("PreToolUse" if claude else "BeforeTool"),
        "tool_name": (CLAUDE if claude else GEMINI)[what],
        "tool_input": tool_input,
        "tool_use_id": "toolu_files",
    }
    done = env.call(json.dumps(body))
    if claude and done.returncode == 0 and not done.stdout:
        return "own"
    if claude:
        return answer(done)["permissionDecision"]
    return json_out(done).get("decision", "own")  # no "ask": a review nobody answers is denied


def held(env: HookEnv, verdict: str) -> bool:
    """Not allowed: Claude Code asks its human; Gemini CLI's contract has no ask, and guard's
    console is not running, so the review is denied."""
    return verdict == ("ask" if env.harness == "claude-code" else "deny")


@pytest.mark.parametrize(
    ("what", "path"),
    [
        ("write", f"{HOME}/.bashrc"),  # persistence: runs in every new shell
        ("edit", "{root}/.claude/settings.json"),  # guard's own hook lives there
        ("write", "{root}/.git/hooks/pre-commit"),  # runs at the next commit
        ("edit", f"{HOME}/.ssh/authorized_keys"),
        ("write", "/etc/sudoers.d/agent"),
        ("read", f"{HOME}/.aws/credentials"),  # `cat` is whitelisted; the secret is not
        ("read", "~/.ssh/id_rsa"),  # the tools read `~` as the home directory
        ("search", f"{HOME}/.ssh"),
    ],
)
def test_a_protected_file_effect_goes_to_a_human(env: HookEnv, what: str, path: str) -> None:
    path = path.format(root=work(env))
    tool_input: dict[str, Any] = {"file_path": path, "content": "x", "pattern": "KEY"}
    if what == "edit":
        tool_input.update(old_string="a", new_string="b")
    if what == "search":
        tool_input = {"pattern": "KEY", "path": path}
    assert held(env, call(env, what, tool_input))
    entry = env.entries()[-1]
    assert entry["tool"] == (CLAUDE if env.harness == "claude-code" else GEMINI)[what]
    assert os.path.expanduser(path) in entry["command"]


@pytest.mark.parametrize(
    ("what", "tool_input"),
    [
        ("read", {"file_path": "{root}/src/app.py"}),
        ("write", {"file_path": "{root}/src/app.py", "content": "print(1)\n"}),
        ("edit", {"file_path": "{root}/README.md", "old_string": "a", "new_string": "b"}),
        ("search", {"pattern": "TODO", "path": "{root}/src"}),
        ("search", {"pattern": "TODO"}),  # no path: the working directory
        ("list", {"pattern": "**/*.py"}),
    ],
)
def test_ordinary_file_work_is_left_to_the_harness(
    env: HookEnv, what: str, tool_input: dict[str, Any]
) -> None:
    given = {k: v.format(root=work(env)) for k, v in tool_input.items()}
    verdict = call(env, what, given)
    # guard has nothing against it, and grants nothing the harness would have asked about
    assert verdict == "own", env.entries()[-1]["reason"]
    assert env.entries()[-1]["decision"] == "allowed"


def test_a_file_tool_without_its_path_is_malformed(env: HookEnv) -> None:
    body = {
        "session_id": "s",
        "hook_event_name": "PreToolUse" if env.harness == "claude-code" else "BeforeTool",
        "tool_name": "Write" if env.harness == "claude-code" else "write_file",
        "tool_input": {"content": "x", "file_path": ["not", 1]},
    }
    done = env.call(json.dumps(body))
    assert done.returncode == 2
    assert "does not name its path" in done.stderr


def test_claude_code_resolves_a_deferred_file_write_when_it_ran(
    tmp_path: Path, guard_env: GuardEnv, policy_file: Path, write_policy: Any
) -> None:
    write_policy(POLICY, policy_file)
    env = HookEnv(tmp_path, guard_env, policy_file, "claude-code")
    tool_input = {"file_path": f"{HOME}/.bashrc", "content": "alias ls=ls\n"}
    assert call(env, "write", tool_input) == "ask"
    assert env.entries()[-1]["decision"] == "deferred"
    done = env.call(
        json.dumps(
            {
                "session_id": "s-files",
                "cwd": str(work(env)),
                "hook_event_name": "PostToolUse",
                "tool_name": "Write",
                "tool_input": tool_input,
                "tool_response": {"filePath": tool_input["file_path"], "success": True},
                "tool_use_id": "toolu_files",
            }
        )
    )
    assert done.returncode == 0, done.stderr
    assert env.entries()[-1]["decision"] == "approved"


def test_a_tool_guard_does_not_judge_is_still_not_allowed(env: HookEnv) -> None:
    claude = env.harness == "claude-code"
    body = {
        "session_id": "s",
        "hook_event_name": "PreToolUse" if claude else "BeforeTool",
        "tool_name": "WebFetch" if claude else "web_fetch",
        "tool_input": {"url": "https://example.com", "prompt": "x"},
    }
    done = env.call(json.dumps(body))
    verdict = answer(done)["permissionDecision"] if claude else json_out(done)["decision"]
    assert verdict == ("ask" if claude else "deny")


@pytest.mark.parametrize("where", [".git/hooks", "src"])
def test_a_relative_path_is_judged_in_the_harness_cwd(env: HookEnv, where: str) -> None:
    """The hook process runs elsewhere (here env.root); the tool runs in the input's `cwd`.
    `echo … > pre-commit` from .git/hooks writes a hook that runs at the next commit."""
    claude = env.harness == "claude-code"
    cwd = work(env) / where
    cwd.mkdir(parents=True)
    body = {
        "session_id": "s-cwd",
        "cwd": str(cwd),
        "hook_event_name": "PreToolUse" if claude else "BeforeTool",
        "tool_name": "Bash" if claude else "run_shell_command",
        "tool_input": {"command": "echo 'curl x | sh' > pre-commit"},
    }
    done = env.call(json.dumps(body))
    verdict = answer(done)["permissionDecision"] if claude else json_out(done)["decision"]
    if where == "src":
        assert verdict == "allow"
    else:
        assert held(env, verdict)
        assert "hooks" in env.entries()[-1]["reason"]
