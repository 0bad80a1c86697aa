"""Cursor: `guard hook cursor` as a `beforeShellExecution` (and `afterShellExecution`) hook.

Contract (https://cursor.com/docs/agent/hooks): JSON on stdin (`hook_event_name`, `command`,
`cwd`, `conversation_id`, `generation_id`, `workspace_roots`); for beforeShellExecution, exit 0
and `{"permission": "allow"|"deny"|"ask", "user_message": ..., "agent_message": ...}`; exit 2
denies. "ask" is guard's review: Cursor asks its user, the audit log says `deferred`, and
`afterShellExecution` for the same conversation and command (it ran) records `approved`.
Cursor reports no event for a command its user rejected, so such a review stays `deferred`.

Any other permission event wired to this hook (preToolUse, beforeMCPExecution, ...) is answered
"ask", saying guard judges only shell commands.
"""

from __future__ import annotations

from .core import ASK, DENIED, Call, HookResult, Judgement, text_field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

NAME = "cursor"
REVIEW = ASK
BLOCK = 2  # exit 2: deny the action
AFTER_OUTPUT = "{}\n"  # Cursor reads JSON from every hook, even when there is nothing to say


def _json(body: dict[str, Any], exit_code: int = 0) -> HookResult:
    import json

    return HookResult(exit_code, stdout=json.dumps(body) + "\n")


def malformed(why: str) -> HookResult:
    reason = f"guard: hook {NAME}: malformed hook input ({why}); blocked"
    body = {"permission": "deny", "user_message": reason, "agent_message": reason}
    result = _json(body, BLOCK)
    result.stderr = reason + "\n"
    return result


def render(call: Call, judgement: Judgement) -> HookResult:
    permission = {ASK: "ask", DENIED: "deny"}.get(judgement.verdict, "allow")
    return _json(
        {
            "permission": permission,
            "user_message": judgement.reason,
            "agent_message": judgement.reason,
        }
    )


def parse(data: dict[str, Any]) -> Call | HookResult:
    event = text_field(data, "hook_event_name")
    if event is None:
        return malformed("hook_event_name is missing or not a string")
    if event not in ("beforeShellExecution", "afterShellExecution"):
        if event.startswith(("before", "pre")):
            why = (
                f"guard: review: guard judges only shell commands; {event[:100]} is yours to decide"
            )
            return _json({"permission": "ask", "user_message": why, "agent_message": why})
        return _json({})  # other after-events: nothing to decide
    command = data.get("command")
    if not isinstance(command, str):
        return malformed("command is missing or not a string")
    return Call(
        "decide" if event == "beforeShellExecution" else "ran",
        command,
        event=event,
        tool="shell",
        session=text_field(data, "conversation_id"),
        cwd=text_field(data, "cwd"),
    )
