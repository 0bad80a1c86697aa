"""Claude Code: `guard hook claude-code` as a command hook (https://code.claude.com/docs/en/hooks).

Wire it for PreToolUse (matcher "Bash", or "Bash|Read|Write|Edit|MultiEdit|NotebookEdit|Grep|Glob"
to judge the file tools too), and for PostToolUse, PostToolUseFailure and PermissionDenied (the
same matcher) to learn the outcome of the reviews it hands to Claude Code.

- PreToolUse on Bash: exit 0 and `{"hookSpecificOutput": {"hookEventName": "PreToolUse",
  "permissionDecision": "allow"|"deny"|"ask", "permissionDecisionReason": ...}}`. "ask" is
  guard's review: Claude Code's own permission prompt asks the human; the audit log says
  `deferred` until the post-tool event tells what happened.
- PreToolUse on a file tool (Read, Write, Edit, MultiEdit, NotebookEdit, Grep, Glob, LS): judged
  as the command the call amounts to (hooks.files: a Write to ~/.bashrc or an Edit of
  .claude/settings.json is a protected write, a Read of a key exposes a secret): "deny" or
  "ask" as above, and no output when guard has nothing against it, so that Claude Code's own
  permission mode still decides (guard never grants an edit Claude Code would have asked about).
- PreToolUse on any other tool: "ask", saying guard does not judge it (Claude Code has no
  "no opinion" value but silence, and silence would let it run unjudged).
- PostToolUse / PostToolUseFailure on Bash (the tool started: the human approved) and
  PermissionDenied (denied): the deferred entry is resolved; exit 0, no output.
- Input guard cannot read: exit 2, the reason on stderr (a blocking error for PreToolUse).
"""

from __future__ import annotations

from . import files
from .core import ALLOWED, ASK, Call, HookResult, Judgement, text_field, tool_command

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "claude-code"
REVIEW = ASK
BLOCK = 2  # "Exit 2 means a blocking error": PreToolUse blocks the tool call, stderr is why
SHELL_TOOL = "Bash"
_RESOLVING = {"PostToolUse": "ran", "PostToolUseFailure": "ran", "PermissionDenied": "refused"}


def malformed(why: str) -> HookResult:
    return HookResult(BLOCK, stderr=f"guard: hook {NAME}: malformed hook input ({why}); blocked\n")


def _answer(decision: str, reason: str) -> HookResult:
    import json

    body = {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": decision,
            "permissionDecisionReason": reason,
        }
    }
    return HookResult(0, stdout=json.dumps(body) + "\n")


def render(call: Call, judgement: Judgement) -> HookResult:
    if judgement.verdict == ALLOWED and call.tool != SHELL_TOOL:
        return HookResult(0)  # a file tool guard has nothing against: Claude Code's own rules
    return _answer(judgement.verdict, judgement.reason)


def parse(data: dict[str, Any]) -> Call | HookResult:
    event = text_field(data, "hook_event_name")
    if event is None:
        return malformed("hook_event_name is missing or not a string")
    if event not in ("PreToolUse", *_RESOLVING):
        # Stop, SessionStart, ...: nothing to decide, and exit 2 would mean something else there
        return HookResult(0, stderr=f"guard: hook {NAME}: {event[:100]}: nothing to decide\n")
    tool = data.get("tool_name")
    if not isinstance(tool, str):
        return malformed("tool_name is missing or not a string")
    if tool == SHELL_TOOL:
        command = tool_command(data)
        if command is None:
            return malformed("tool_input.command is missing or not a string")
    elif files.known(tool):  # Read, Write, Edit, ...: as the command each amounts to
        command = files.line(tool, data.get("tool_input"))
        if command is None:
            return malformed(f"tool_input of {tool} does not name its path")
    elif event == "PreToolUse":
        return _answer(
            "ask",
            f"guard: review: guard judges the {SHELL_TOOL} tool and the file tools; "
            f"{tool[:100]} is yours to decide (narrow the hook's matcher to stop this question)",
        )
    else:  # a post-tool event of a tool guard never judged
        return HookResult(0)
    return Call(
        "decide" if event == "PreToolUse" else _RESOLVING[event],
        command,
        event=event,
        tool=tool,
        session=text_field(data, "session_id"),
        cwd=text_field(data, "cwd"),
        call_id=text_field(data, "tool_use_id"),
    )
