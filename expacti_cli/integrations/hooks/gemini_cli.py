"""Gemini CLI: `guard hook gemini-cli` as a BeforeTool command hook on `run_shell_command`.

Contract (https://geminicli.com/docs/hooks/reference): JSON on stdin (`hook_event_name`,
`tool_name`, `tool_input`, `cwd`, `session_id`, ...), only JSON on stdout, exit 0 with
`{"decision": "allow"}` or `{"decision": "deny", "reason": ...}` (the reason goes to the agent
as a tool error); exit 2 blocks with stderr as the reason; any other exit is a warning and the
tool runs. The documented decisions have no "ask": a command under review goes to guard's own
reviewer console (`guard review`) within the budget, and is denied when nobody answers.

A BeforeTool call for a file tool (read_file, read_many_files, write_file, replace,
search_file_content, list_directory, glob) is judged as the command it amounts to
(hooks.files): denied, or `{}` (no decision: Gemini CLI's own confirmation still applies)
when guard has nothing against it. One for another tool is denied with a message to narrow
the matcher: guard cannot judge it and the contract has no way to hand it to a human.
"""

from __future__ import annotations

import os

from . import files
from .core import DENIED, Call, HookResult, Judgement, text_field, tool_command

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "gemini-cli"
REVIEW = "console"
BLOCK = 2  # "System Block. The action is blocked; stderr is used as the rejection reason."
SHELL_TOOL = "run_shell_command"


def malformed(why: str) -> HookResult:
    return HookResult(BLOCK, stderr=f"guard: hook {NAME}: malformed hook input ({why}); blocked\n")


def _json(body: dict[str, Any]) -> HookResult:
    import json

    return HookResult(0, stdout=json.dumps(body) + "\n")


def render(call: Call, judgement: Judgement) -> HookResult:
    if judgement.verdict == DENIED:
        return _json({"decision": "deny", "reason": judgement.reason})
    if call.tool != SHELL_TOOL:
        return _json({})  # a file tool guard has nothing against: Gemini CLI's own rules
    return _json({"decision": "allow", "reason": judgement.reason})


def parse(data: dict[str, Any]) -> Call | HookResult:
    event = text_field(data, "hook_event_name")
    if event is None:
        return malformed("hook_event_name is missing or not a string")
    if event != "BeforeTool":
        return _json({})  # after-tool and lifecycle events: nothing to decide
    tool = data.get("tool_name")
    if not isinstance(tool, str):
        return malformed("tool_name is missing or not a string")
    cwd = text_field(data, "cwd")
    if files.known(tool):  # read_file, write_file, replace, ...: the command each amounts to
        command = files.line(tool, data.get("tool_input"))
        if command is None:
            return malformed(f"tool_input of {tool} does not name its path")
    elif tool != SHELL_TOOL:
        return _json(
            {
                "decision": "deny",
                "reason": f"guard: denied: guard judges {SHELL_TOOL} and the file tools, not "
                f"{tool[:100]}; a human should narrow the BeforeTool hook's matcher",
            }
        )
    else:
        command = tool_command(data)
        if command is None:
            return malformed("tool_input.command is missing or not a string")
        dir_path = data["tool_input"].get("dir_path")  # tool_input is an object: it had a command
        if isinstance(dir_path, str) and dir_path:
            cwd = os.path.join(cwd or "", dir_path)  # absolute, or relative to the workspace
    return Call(
        "decide",
        command,
        event=event,
        tool=tool,
        session=text_field(data, "session_id"),
        cwd=cwd,
    )
