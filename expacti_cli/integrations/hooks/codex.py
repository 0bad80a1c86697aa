"""Codex CLI: `guard hook codex` as a PreToolUse command hook on the Bash tool.

Contract (https://developers.openai.com/codex/hooks): Claude-Code-shaped JSON on stdin
(`session_id`, `cwd`, `hook_event_name`, `tool_name`, `tool_input.command`, `tool_use_id`,
`turn_id`); Codex enforces `hookSpecificOutput.permissionDecision: "deny"` (with its reason) and
exit 2 (stderr as the reason). "allow" and "ask" are parsed but not enforced, so guard never
sends them: an allowed command gets no output (Codex's own approval policy and sandbox still
apply), and a command under review goes to guard's reviewer console (`guard review`) within the
budget, then is denied unless a human approves it there.

PreToolUse for apply_patch is judged as the files the patch writes (hooks.files: a patch to
`.codex/config.toml`, `~/.bashrc` or `.git/hooks` is a protected write). One for a tool guard
does not judge (MCP tools) is denied with a message to narrow the matcher: Codex cannot hand
it to a human from a hook.
"""

from __future__ import annotations

from . import files
from .core import DENIED, Call, HookResult, Judgement, text_field, tool_command

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "codex"
REVIEW = "console"
BLOCK = 2
SHELL_TOOL = "Bash"


def malformed(why: str) -> HookResult:
    return HookResult(BLOCK, stderr=f"guard: hook {NAME}: malformed hook input ({why}); blocked\n")


def _deny(reason: str) -> HookResult:
    import json

    body = {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny",
            "permissionDecisionReason": reason,
        }
    }
    return HookResult(0, stdout=json.dumps(body) + "\n")


def render(call: Call, judgement: Judgement) -> HookResult:
    if judgement.verdict == DENIED:
        return _deny(judgement.reason)
    return HookResult(0)  # allowed (or approved in guard review): Codex's normal flow


def parse(data: dict[str, Any]) -> Call | HookResult:
    event = text_field(data, "hook_event_name")
    if event is None:
        return malformed("hook_event_name is missing or not a string")
    if event != "PreToolUse":
        return HookResult(0)  # post-tool and lifecycle events: nothing to decide
    tool = data.get("tool_name")
    if not isinstance(tool, str):
        return malformed("tool_name is missing or not a string")
    if files.known(tool):  # apply_patch: every file it writes, as `true > PATH`
        command = files.line(tool, data.get("tool_input"))
        if command is None:
            return malformed(f"tool_input of {tool} names no file")
    elif tool != SHELL_TOOL:
        return _deny(
            f"guard: denied: guard judges the {SHELL_TOOL} tool and apply_patch, not "
            f"{tool[:100]}; a human should narrow the PreToolUse hook's matcher"
        )
    else:
        command = tool_command(data)
        if command is None:
            return malformed("tool_input.command is missing or not a string")
    return Call(
        "decide",
        command,
        event=event,
        tool=tool,
        session=text_field(data, "session_id"),
        cwd=text_field(data, "cwd"),
        call_id=text_field(data, "tool_use_id"),
    )
