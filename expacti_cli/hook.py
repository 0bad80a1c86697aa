"""Agent hooks: guard as the judge of an agent's own permission check (no exec by guard).

Claude Code (`guard hook claude-code`, a PreToolUse hook on the Bash tool) sends the tool call
as JSON on stdin and reads the answer from stdout and the exit status:

- exit 0 and `{"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision":
  "allow"|"deny"|"ask", "permissionDecisionReason": "..."}}`: allow runs the command without
  asking, deny blocks it and shows the reason to the model, ask puts the question to the human
  at Claude Code's own prompt (guard's "review": the human is there, not on guard's terminal);
- exit 0 and no output for any other tool or event: no opinion;
- exit 2 with a message on stderr for input guard cannot read: a blocking error (fail closed).

Every verdict is written to the audit log (mode "hook"). An "ask" is recorded as decision
"deferred", decided_by "hook": the human answers in Claude Code, which does not tell guard.
"""

from __future__ import annotations

import os
import time

from . import agentstate, anomaly, gate, identity
from . import policy as policy_mod
from .decide import ALLOW, DENY, REVIEW, Decision
from .errors import GuardError, PolicyError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

BLOCK = 2  # Claude Code: a blocking error; stderr is shown to the model
_ANSWER = {ALLOW: "allow", DENY: "deny", REVIEW: "ask"}


class HookResult:
    """What the hook process prints and how it exits."""

    __slots__ = ("exit_code", "stderr", "stdout")

    def __init__(self, exit_code: int, stdout: str = "", stderr: str = "") -> None:
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr


def _malformed(why: str) -> HookResult:
    return HookResult(
        BLOCK, stderr=f"guard: hook claude-code: malformed hook input ({why}); blocked\n"
    )


def _answer(verdict: str, reason: str) -> HookResult:
    import json

    body = {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": _ANSWER[verdict],
            "permissionDecisionReason": reason,
        }
    }
    return HookResult(0, stdout=json.dumps(body) + "\n")


def _reason(decision: Decision, command: str) -> str:
    rule = f"rule {decision.rule}" if decision.rule else "no rule"
    why = decision.reason
    if decision.anomalies:
        why += "; anomalies: " + ", ".join(decision.anomalies)
    if decision.verdict == ALLOW:
        return f"guard: allowed by {rule}: {why}"
    if decision.verdict == DENY:
        what = command if len(command) <= 200 else command[:197] + "..."
        return (
            f"guard: denied: {what} ({rule}: {why}) - a human can change the policy "
            "(guard policy show) if this is wrong"
        )
    badge = "IRREVERSIBLE - " if decision.irreversible else ""
    return f"guard: review: {badge}{rule}: {why}"


def claude_code(
    text: str, *, policy_path: str | None = None, audit_path: str | None = None
) -> HookResult:
    """Answer one Claude Code PreToolUse hook call (`text` is the JSON from stdin)."""
    import json

    try:
        data = json.loads(text)
    except ValueError as exc:
        return _malformed(f"not JSON: {exc}")
    if not isinstance(data, dict):
        return _malformed("not a JSON object")
    event = data.get("hook_event_name", "PreToolUse")
    if event != "PreToolUse" or data.get("tool_name") != "Bash":
        return HookResult(0)  # not ours: no opinion
    tool_input = data.get("tool_input")
    command = tool_input.get("command") if isinstance(tool_input, dict) else None
    if not isinstance(command, str):
        return _malformed("tool_input.command is missing or not a string")
    session = data.get("session_id")
    cwd = data.get("cwd")

    started = time.time()
    req = gate.Request(
        "hook",
        line=command,
        shell_argv=["bash", "-c", command],
        agent=os.environ.get("GUARD_AGENT") or "claude-code",
        session=session if isinstance(session, str) and session else None,
        policy_path=policy_path,
        audit_path=audit_path,
    )
    if isinstance(cwd, str) and cwd:
        req.cwd = cwd

    policy = None
    try:
        policy = policy_mod.load(policy_path)
        decision = _decide(policy, req, started)
    except PolicyError as exc:
        decision = Decision(DENY, "policy-error", f"policy error: {exc.message}")
    except Exception as exc:  # fail closed: a bug must never allow
        decision = Decision(DENY, "internal-error", f"internal error: {exc!r}")

    if decision.verdict == ALLOW:
        word, outcome = "allowed", gate.Outcome(True, "policy")
    elif decision.verdict == DENY:
        word, outcome = "denied", gate.Outcome(False, "policy")
    else:
        word = "deferred"
        outcome = gate.Outcome(
            False, "hook", message=f"{decision.reason} (asked the human in Claude Code)"
        )
    try:
        entry = gate.audit_entry(req, decision, word, outcome, started=started)
        gate.write_audit(req, policy, entry)
    except GuardError as exc:
        return _answer(DENY, f"guard: denied: {command} - {exc.message}; nothing may run")
    except Exception as exc:  # fail closed
        return _answer(DENY, f"guard: denied: cannot write the audit log: {exc!r}")
    if policy is not None:
        hour = time.localtime(started).tm_hour
        agentstate.record(req.agent, started, hour, command, word, _targets(policy, decision, req))
    return _answer(decision.verdict, _reason(decision, command))


def _targets(policy: Any, decision: Decision, req: gate.Request) -> list[str]:
    try:
        return gate.targets(policy, decision, req)
    except Exception:  # targets only feed anomaly statistics
        return []


def _decide(policy: Any, req: gate.Request, started: float) -> Decision:
    """Identity, the policy's verdict on the line, then anomalies (as the gate decides)."""
    from .check import check

    refused = identity.check(req.agent, req.token, policy.settings["require_identity"])
    if refused:
        return Decision(DENY, "identity", refused)
    assert req.line is not None
    decision = check(policy, line=req.line, agent=req.agent)
    if decision.verdict != DENY:
        state = agentstate.read(req.agent)
        hour = time.localtime(started).tm_hour
        decision.anomalies = anomaly.flags(
            policy.anomalies, state, started, hour, _targets(policy, decision, req)
        )
        if decision.verdict == ALLOW and decision.anomalies:
            decision.verdict = REVIEW
            decision.reason = f"{decision.reason}; anomaly: {decision.anomalies[0]}"
    return decision
