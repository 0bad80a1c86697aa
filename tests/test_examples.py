"""The agent integrations under examples/ run for real against the installed guard."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import GUARD, SYSTEM_PATH, GuardEnv, GuardSetup, run_process

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
BIN = os.path.dirname(GUARD)  # where the installed `guard` launcher lives

POLICY = """
[[allow]]
id = "t-basics"
match = ["echo **", "ls **", "mkdir **", "touch **", "cat **"]

[[deny]]
id = "t-no-frob"
match = "frobnicate **"
reason = "frobnicate corrupts the index"
"""


class ExampleEnv(GuardSetup):
    """A policy (GUARD_POLICY), a work dir, and `guard` found by name as the examples call it."""

    def __init__(self, root: Path, guard_env: GuardEnv, policy: Path) -> None:
        super().__init__(root, guard_env, policy)
        self.work = root / "work"
        self.work.mkdir()
        # `guard` by name, as the examples call it: the venv's launcher first on PATH
        self.path = os.pathsep.join([BIN, SYSTEM_PATH])

    def run(
        self, argv: list[str], *, stdin: str | None = None, timeout: float = 60
    ) -> subprocess.CompletedProcess[str]:
        return run_process(
            argv, env=self.env, path=self.path, cwd=self.work, input=stdin, timeout=timeout
        )


@pytest.fixture
def example_env(
    tmp_path: Path, guard_env: GuardEnv, policy_file: Path, write_policy: Any
) -> ExampleEnv:
    write_policy(POLICY, policy_file)
    return ExampleEnv(tmp_path, guard_env, policy_file)


def test_every_example_has_a_readme() -> None:
    for name in ("claude-code", "shell-tool", "python-agent-loop"):
        assert (EXAMPLES / name / "README.md").is_file(), name


# ---------------------------------------------------------------- claude-code


def _hook_command() -> str:
    settings = json.loads((EXAMPLES / "claude-code" / "settings.json").read_text())
    (group,) = settings["hooks"]["PreToolUse"]
    assert group["matcher"] == "Bash|Read|Write|Edit|MultiEdit|NotebookEdit|Grep|Glob|LS"
    (hook,) = group["hooks"]
    assert hook["type"] == "command"
    return str(hook["command"])


def _hook_call(env: ExampleEnv, command: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the hook the way Claude Code does: its command through a shell, JSON on stdin."""
    payload = json.loads((EXAMPLES / "claude-code" / "pretooluse-bash.json").read_text())
    if command is not None:
        payload["tool_input"]["command"] = command
    return env.run(["/bin/sh", "-c", _hook_command()], stdin=json.dumps(payload))


def _decision(done: subprocess.CompletedProcess[str]) -> tuple[str, str]:
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)["hookSpecificOutput"]
    assert out["hookEventName"] == "PreToolUse"
    return out["permissionDecision"], out["permissionDecisionReason"]


def test_claude_code_settings_wire_guard_hook(example_env: ExampleEnv) -> None:
    assert _hook_command() == "guard hook claude-code"
    verdict, reason = _decision(_hook_call(example_env))  # the recorded rm -rf build
    assert verdict == "ask"
    assert "IRREVERSIBLE" in reason
    assert _decision(_hook_call(example_env, "ls -la"))[0] == "allow"
    verdict, reason = _decision(_hook_call(example_env, "frobnicate now"))
    assert verdict == "deny"
    assert "t-no-frob" in reason
    sessions = {e["session"] for e in example_env.entries()}
    assert sessions == {"8f2c1c1e-6b53-4b0e-9d1a-0c4f5e2a7b11"}


# ---------------------------------------------------------------- shell-tool


def _shell_tool(env: ExampleEnv, *lines: str) -> list[dict[str, Any]]:
    done = env.run([sys.executable, str(EXAMPLES / "shell-tool" / "shell_tool.py"), *lines])
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_shell_tool_runs_allowed_lines_and_reports_denials(example_env: ExampleEnv) -> None:
    allowed, denied = _shell_tool(example_env, "echo hello; echo world >&2", "frobnicate --all")
    assert (allowed["exit"], allowed["stdout"], allowed["stderr"]) == (0, "hello\n", "world\n")
    assert denied["exit"] == 77
    assert denied["stdout"] == ""
    assert denied["stderr"].startswith("guard: denied: frobnicate --all")
    assert "t-no-frob" in denied["stderr"]


def test_shell_tool_stops_a_whole_line_with_one_bad_part(example_env: ExampleEnv) -> None:
    victim = example_env.work / "victim"
    victim.mkdir()
    (result,) = _shell_tool(example_env, "touch made && rm -rf victim")
    assert result["exit"] == 77
    assert "guard: denied:" in result["stderr"]
    assert victim.is_dir()
    assert not (example_env.work / "made").exists()  # nothing of the line ran


def test_shell_tool_passes_exit_status_through(example_env: ExampleEnv) -> None:
    (result,) = _shell_tool(example_env, "ls /nonexistent-dir-xyz")
    assert result["exit"] == 2
    assert "nonexistent-dir-xyz" in result["stderr"]


# ---------------------------------------------------------------- python-agent-loop


def test_agent_loop_with_shims_on_path(example_env: ExampleEnv) -> None:
    script = example_env.root / "commands.txt"
    script.write_text(
        "\n".join(
            [
                "echo hello from the agent",
                "mkdir -p scratch/deep && touch scratch/data",
                "rm -rf scratch",
                "find . -name scratch -exec rm -rf {} +",
                "ls scratch",
            ]
        )
        + "\n"
    )
    done = example_env.run(
        [sys.executable, str(EXAMPLES / "python-agent-loop" / "agent_loop.py"), str(script)]
    )
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    hello, made, rm, find, ls = results
    assert (hello["exit"], hello["stdout"]) == (0, "hello from the agent\n")
    assert made["exit"] == 0
    assert rm["exit"] == 77
    assert rm["stderr"].startswith("guard: denied: rm -rf scratch")
    assert find["exit"] != 0
    assert "guard: denied:" in find["stderr"]
    assert (ls["exit"], sorted(ls["stdout"].split())) == (0, ["data", "deep"])
    assert (example_env.work / "scratch" / "deep").is_dir()
    # the shims were installed where the policy's GUARD_SHIM_DIR says, with rm among them
    assert (example_env.shims / "rm").is_symlink()
    shim_entries = [e for e in example_env.entries() if e["mode"] == "shim"]
    assert any(e["argv"][:2] == ["rm", "-rf"] and e["decision"] == "denied" for e in shim_entries)


def test_readme_snippets_name_real_commands() -> None:
    """The READMEs show the commands the tests run (no drift in the wiring)."""
    text = (EXAMPLES / "claude-code" / "README.md").read_text()
    assert '"command": "guard hook claude-code"' in text
    shell_readme = (EXAMPLES / "shell-tool" / "README.md").read_text()
    assert 'subprocess.run(["guard", "-c", cmd]' in shell_readme
    source = (EXAMPLES / "shell-tool" / "shell_tool.py").read_text()
    assert '[GUARD, "-c", cmd]' in source
    assert shlex.split(_hook_command()) == ["guard", "hook", "claude-code"]
