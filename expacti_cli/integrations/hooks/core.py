"""What every harness hook shares: bounded input, one decision path, the audit, the budget.

A harness module (`claude_code`, `gemini_cli`, `cursor`, `codex`) knows only its wire format:
it turns the harness's JSON into a `Call` (or answers at once: a tool guard does not judge,
malformed input) and renders guard's `Judgement` in the harness's documented output. This
module decides: identity, the policy's verdict on the whole line (as `guard -c` would),
anomalies, then a review either handed to the harness's own prompt (`ask`, audited as
`deferred` and resolved later by the harness's post-tool events) or put to guard's reviewer
console within the budget (harnesses whose contract has no "ask").

Fail closed everywhere: input that cannot be read, a policy that cannot be loaded, an audit line
that cannot be written, a bug, or no answer within the budget all end in a denial.
"""

from __future__ import annotations

import os
import sys
import time

from ... import agentstate, gate
from ... import policy as policy_mod
from ...decide import ALLOW, DENY, Decision
from ...errors import GuardError, PolicyError
from . import budget as budget_mod
from . import pending

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Protocol

    from ...policy import Policy

    class Harness(Protocol):
        NAME: str
        REVIEW: str  # "ask": the harness asks its human; "console": guard asks its console

        def parse(self, data: dict[str, Any]) -> Call | HookResult: ...
        def render(self, call: Call, judgement: Judgement) -> HookResult: ...
        def malformed(self, why: str) -> HookResult: ...


MAX_INPUT = 10 * 1024 * 1024  # bytes of hook JSON read from stdin; more is refused
MAX_COMMAND = 1024 * 1024  # a longer command line is denied unread (the kernel caps one
#                            argument at 128 KiB anyway: `bash -c` could not run it)
DEFAULT_BUDGET = 20.0  # seconds; the examples give the harness a 30 s timeout
MARGIN = 1.0  # seconds of the budget kept back to record and write a budget denial
REVIEW_MARGIN = 0.5  # seconds a console review leaves the worker to record its answer
ASK, ALLOWED, DENIED = "ask", "allow", "deny"

# Work done after the answer is sent (agent statistics): a lock another guard holds there must
# not hold the harness, nor be killed by the budget after the entry was written.
_AFTER_ANSWER: list[Callable[[], None]] = []


class HookResult:
    """What the hook process prints and how it exits."""

    __slots__ = ("exit_code", "stderr", "stdout")

    def __init__(self, exit_code: int, stdout: str = "", stderr: str = "") -> None:
        self.exit_code = exit_code
        self.stdout = stdout
        self.stderr = stderr


class Call:
    """One hook event the harness sent, in guard's terms.

    `kind` is "decide" (a command is about to run), "ran" (a deferred command ran, so the human
    approved it) or "refused" (the harness denied it after guard deferred).
    """

    __slots__ = ("call_id", "command", "cwd", "event", "kind", "session", "tool")

    def __init__(
        self,
        kind: str,
        command: str,
        *,
        event: str,
        tool: str = "",
        session: str | None = None,
        cwd: str | None = None,
        call_id: str | None = None,
    ) -> None:
        self.kind = kind
        self.command = command
        self.event = event
        self.tool = tool
        self.session = session
        self.cwd = cwd
        self.call_id = call_id

    def as_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Call:
        kind, command = data["kind"], data["command"]
        rest = {k: v for k, v in data.items() if k not in ("kind", "command")}
        return cls(kind, command, **rest)

    @property
    def pending_key(self) -> str:
        """What links a deferred call to its later event: the tool call id, else the line."""
        return f"id:{self.call_id}" if self.call_id else f"cmd:{self.command}"


class Judgement:
    """guard's answer to a harness: allow, deny or ask (a human decides in the harness)."""

    __slots__ = ("reason", "verdict")

    def __init__(self, verdict: str, reason: str) -> None:
        self.verdict = verdict
        self.reason = reason


class Options:
    __slots__ = ("audit_path", "budget", "policy_path")

    def __init__(
        self,
        policy_path: str | None = None,
        audit_path: str | None = None,
        budget: float = DEFAULT_BUDGET,
    ) -> None:
        self.policy_path = policy_path
        self.audit_path = audit_path
        self.budget = budget


# --- input ---------------------------------------------------------------------------------


def read_stdin(limit: int = MAX_INPUT) -> bytes | None:
    """At most `limit` bytes of stdin; None when there is more (refused unread)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        try:
            chunk = os.read(0, min(1 << 20, limit + 1 - size))
        except InterruptedError:
            continue
        except OSError:
            return b""
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return None


def parse_json(raw: bytes | None) -> tuple[dict[str, Any] | None, str]:
    """The hook input as a JSON object, or (None, why not). Never raises."""
    if raw is None:
        return None, f"more than {MAX_INPUT} bytes"
    if not raw.strip():
        return None, "empty input"
    import json

    try:
        data = json.loads(raw)
    except RecursionError:
        return None, "nested too deeply"
    except (ValueError, MemoryError) as exc:
        return None, f"not JSON: {str(exc)[:200]}"
    if not isinstance(data, dict):
        return None, "not a JSON object"
    return data, ""


def text_field(data: dict[str, Any], name: str) -> str | None:
    value = data.get(name)
    return value if isinstance(value, str) and value else None


def tool_command(data: dict[str, Any]) -> str | None:
    """`tool_input.command` (Claude Code, Gemini CLI and Codex all send the line there)."""
    tool_input = data.get("tool_input")
    command = tool_input.get("command") if isinstance(tool_input, dict) else None
    return command if isinstance(command, str) else None


# --- running one hook call -------------------------------------------------------------------


def run(harness: Harness, options: Options) -> HookResult:
    """Read stdin, decide within the budget, return what to print. Never raises."""

    def work(worker: budget_mod.Worker) -> None:
        worker.send("result", _as_tuple(_answer(harness, options, worker)))
        worker.detach()
        for bookkeeping in _AFTER_ANSWER:  # nothing here may delay or change the answer
            try:
                bookkeeping()
            except Exception:  # noqa: S110 - statistics only
                pass

    try:
        outcome = budget_mod.run(work, max(options.budget - MARGIN, 0.1))
    except OSError as exc:  # cannot fork or pipe: decide here, without the watchdog
        return harness.malformed(f"guard cannot start its decision worker: {exc}")
    if outcome.result is not None:
        code, out, err = outcome.result
        return HookResult(code, out, err)
    if outcome.call is None:
        if outcome.timed_out:
            return harness.malformed(f"no input within the {options.budget:g}s budget")
        return harness.malformed("guard's decision worker failed before reading the input")
    call = Call.from_dict(outcome.call)
    if call.kind != "decide":  # a post-tool event: nothing to block any more
        return HookResult(0, stderr="guard: hook: the answer to a deferred review was lost\n")
    why = (
        f"no decision within the {options.budget:g}s budget"
        if outcome.timed_out
        else "the decision worker failed"
    )
    decision = Decision(DENY, "hook-budget", why)
    reason = deny_text(call.command, decision, "guard failed closed; a human should check it")
    try:  # bounded too: the log's lock may be what held the worker
        budget_mod.run(
            lambda _w: _audit_after_budget(harness, options, call, decision, outcome.audit),
            MARGIN * 0.8,
        )
    except OSError:
        pass
    return harness.render(call, Judgement(DENIED, reason))


def _as_tuple(result: HookResult) -> tuple[int, str, str]:
    return (int(result.exit_code), str(result.stdout), str(result.stderr))


def _answer(harness: Harness, options: Options, worker: budget_mod.Worker) -> HookResult:
    data, why = parse_json(read_stdin())
    if data is None:
        return harness.malformed(why)
    try:
        parsed = harness.parse(data)
    except Exception as exc:  # fail closed: a bug in reading the input must never allow
        return harness.malformed(f"unreadable hook input ({exc!r})")
    if isinstance(parsed, HookResult):
        return parsed
    call = parsed
    if len(call.command) > MAX_COMMAND:
        return harness.malformed(f"the command is longer than {MAX_COMMAND} bytes")
    worker.send("call", call.as_dict())
    if call.kind != "decide":
        resolve(harness.NAME, call, options)
        return HookResult(0, stdout=getattr(harness, "AFTER_OUTPUT", ""))
    return harness.render(call, judge(harness, call, options, worker))


# --- deciding ------------------------------------------------------------------------------


def request_for(harness_name: str, call: Call, options: Options) -> gate.Request:
    req = gate.Request(
        "hook",
        line=call.command,
        shell_argv=["bash", "-c", call.command],
        agent=os.environ.get("GUARD_AGENT") or harness_name,
        session=call.session,
        policy_path=options.policy_path,
        audit_path=options.audit_path,
    )
    if call.cwd:
        req.cwd = call.cwd
    return req


def decide(policy: Policy, req: gate.Request, started: float) -> Decision:
    """The gate's one decision pipeline (identity, verdict, anomalies): `gate.decide`."""
    return gate.decide(policy, req, started)[0]


def judge(
    harness: Harness, call: Call, options: Options, worker: budget_mod.Worker | None = None
) -> Judgement:
    """Decide one command, audit it, and say what the harness should do."""
    started = time.time()
    deadline = started + options.budget - MARGIN - REVIEW_MARGIN
    req = request_for(harness.NAME, call, options)
    if os.environ.get("GUARD_SERVER"):
        return ask_server(call, req)
    policy = None
    try:
        policy = policy_mod.load(options.policy_path)
        if worker is not None:
            worker.send("audit", dict(policy.audit))
        decision = decide(policy, req, started)
    except PolicyError as exc:
        decision = Decision(DENY, "policy-error", f"policy error: {exc.message}")
    except Exception as exc:  # fail closed: a bug must never allow
        decision = Decision(DENY, "internal-error", f"internal error: {exc!r}")

    if decision.verdict == ALLOW:
        word, outcome = "allowed", gate.Outcome(True, "policy")
    elif decision.verdict == DENY:
        word, outcome = "denied", gate.Outcome(False, "policy")
    elif harness.REVIEW == ASK:
        word = "deferred"
        outcome = gate.Outcome(
            False, "hook", message=f"{decision.reason} (asked in {harness.NAME})"
        )
    else:
        assert policy is not None
        outcome = ask_console(policy, req, decision, deadline)
        word = "approved" if outcome.approved else "denied"
    try:
        entry = gate.audit_entry(req, decision, word, outcome, started=started)
        entry["harness"] = harness.NAME
        if call.tool and call.tool != getattr(harness, "SHELL_TOOL", call.tool):
            entry["tool"] = call.tool  # a file tool, judged as the command it amounts to
        if call.call_id:
            entry["tool_use_id"] = call.call_id
        if word == "deferred":  # first: a record without its entry is harmless, not the reverse
            pending.save(harness.NAME, call.session or "", call.pending_key, _pending_record(entry))
        gate.write_audit(req, policy, entry)
    except GuardError as exc:
        return Judgement(DENIED, f"guard: denied: {_short(call.command)} - {exc.message}")
    except Exception as exc:  # fail closed
        return Judgement(DENIED, f"guard: denied: cannot record the decision: {exc!r}")
    if policy is not None:
        hour = time.localtime(started).tm_hour
        targets = _targets(policy, decision, req)
        _AFTER_ANSWER.append(
            lambda: agentstate.record(req.agent, started, hour, call.command, word, targets)
        )
    return _judgement(decision, outcome, call.command, word)


def _judgement(decision: Decision, outcome: gate.Outcome, command: str, word: str) -> Judgement:
    if word == "allowed":
        rule = f"rule {decision.rule}" if decision.rule else "no rule"
        return Judgement(ALLOWED, f"guard: allowed by {rule}: {_why(decision)}")
    if word == "approved":
        who = f" by {outcome.reviewer}" if outcome.reviewer else ""
        return Judgement(ALLOWED, f"guard: approved{who}: {_short(command)}")
    if word == "deferred":
        badge = "IRREVERSIBLE - " if decision.irreversible else ""
        rule = f"rule {decision.rule}" if decision.rule else "no rule"
        return Judgement(ASK, f"guard: review: {badge}{rule}: {_why(decision)}")
    return Judgement(DENIED, deny_text(command, decision, _deny_hint(decision, outcome)))


def _deny_hint(decision: Decision, outcome: gate.Outcome) -> str:
    if outcome.decided_by == "reviewer":
        return "a human reviewer denied it" + (f": {outcome.message}" if outcome.message else "")
    if outcome.decided_by == "timeout":
        return "the review timed out; ask a human to retry while `guard review` is open"
    if outcome.decided_by == "no_reviewer":
        return (
            "it needs a human and nobody could be asked: open `guard review` in a terminal, "
            "then retry"
            + ("; irreversible commands always need one" if decision.irreversible else "")
        )
    if decision.rule in ("internal-error", "hook-budget"):
        return "guard failed closed; a human should check `guard doctor`"
    return "a human can change the policy (guard policy show) if this is wrong"


def deny_text(command: str, decision: Decision, hint: str) -> str:
    """The one denial line an agent reads: what, which rule, why, what a human can do."""
    rule = f"rule {decision.rule}" if decision.rule else "no rule"
    line = f"guard: denied: {_short(command)} ({rule}: {_why(decision)}) - {hint}"
    if not line.isprintable():  # one line, no terminal escapes from the agent's command
        line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
    return line


def _why(decision: Decision) -> str:
    why = decision.reason
    if decision.anomalies:
        why += "; anomalies: " + ", ".join(decision.anomalies)
    return why


def _short(command: str) -> str:
    return command if len(command) <= 200 else command[:197] + "..."


def _targets(policy: Any, decision: Decision, req: gate.Request) -> list[str]:
    try:
        return gate.targets(policy, decision, req)
    except Exception:  # targets only feed anomaly statistics
        return []


def _audit_after_budget(
    harness: Harness,
    options: Options,
    call: Call,
    decision: Decision,
    audit_settings: dict[str, Any] | None,
) -> None:
    """Record a budget denial, if the worker told us how its log is chained. Never raises.

    Without the policy's audit settings (the policy itself did not load in time) an entry
    could be chained with the wrong key and break a keyed log for good: record nothing then,
    and say so on stderr (the harness logs it).
    """
    if audit_settings is None:
        sys.stderr.write("guard: hook: the policy did not load within the budget; not audited\n")
        sys.stderr.flush()  # a worker ends with os._exit
        return

    class _Settings:  # what gate.write_audit reads of a policy
        audit = audit_settings

    try:
        req = request_for(harness.NAME, call, options)
        outcome = gate.Outcome(False, "error")
        entry = gate.audit_entry(req, decision, "denied", outcome, started=time.time())
        entry["harness"] = harness.NAME
        gate.write_audit(req, _Settings(), entry)  # type: ignore[arg-type]
    except Exception as exc:  # the denial itself is what matters
        sys.stderr.write(f"guard: hook: cannot record the budget denial: {exc}\n")
        sys.stderr.flush()  # a worker ends with os._exit


# --- client mode: the decision is guard serve's ------------------------------------------


def ask_server(call: Call, req: gate.Request) -> Judgement:
    """GUARD_SERVER set: the agent's user only asks; `guard serve` decides, reviews (in its
    consoles) and records. The server knows no "hook" mode: it records the line as shell mode.
    Fail closed: no usable answer within the client's budget is a denial."""
    from ... import client

    body = {
        "op": "decide",
        "mode": "shell",
        "argv": [],
        "line": call.command,
        "shell_argv": req.shell_argv,
        "cwd": req.cwd,
        "agent": None if req.agent == "anonymous" else req.agent,
        "token": req.token,
        "session": req.session,
        "program": None,
    }
    try:
        answer = client.ask(os.environ["GUARD_SERVER"], body)
    except client.Unreachable as exc:
        decision = Decision(DENY, "server", str(exc))
        return Judgement(
            DENIED, deny_text(call.command, decision, "a human should check the server")
        )
    if answer["decision"] == "denied":
        message = str(answer.get("message") or f"guard: denied: {_short(call.command)}")
        if not message.isprintable():
            message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
        return Judgement(DENIED, message)
    return Judgement(ALLOWED, f"guard: {answer['decision']} by the guard server")


# --- review through guard's own console (harnesses without "ask") --------------------------


def ask_console(
    policy: Policy, req: gate.Request, decision: Decision, deadline: float
) -> gate.Outcome:
    """Put the review to `guard review` and wait until `deadline` at most.

    Never the controlling terminal: a harness's TUI holds it. Like the gate's console review,
    but bounded by the hook's budget instead of `review_timeout` alone.
    """
    from ... import reviewqueue

    if not reviewqueue.console_live():
        if policy.settings["when_no_reviewer"] == "allow" and not decision.irreversible:
            return gate.Outcome(
                True, "no_reviewer", message="approved: no reviewer (when_no_reviewer = allow)"
            )
        return gate.Outcome(False, "no_reviewer")
    deadline = min(deadline, time.time() + float(policy.settings["review_timeout"]))
    recent = agentstate.read(req.agent)["recent"]
    try:
        request_id = reviewqueue.submit(reviewqueue.request_for(req, decision, recent, deadline))
    except (OSError, ValueError) as exc:
        return gate.Outcome(False, "no_reviewer", message=f"cannot queue the review: {exc}")
    try:
        answer = reviewqueue.wait_answer(request_id, deadline)
    finally:
        reviewqueue.withdraw(request_id)
    if answer is None:
        if time.time() >= deadline:
            return gate.Outcome(False, "timeout", message="no answer within the hook's budget")
        return gate.Outcome(False, "no_reviewer", message="the reviewer console went away")
    return gate.Outcome(
        answer["approved"], "reviewer", reviewer=answer["reviewer"], message=answer["message"]
    )


# --- closing the loop: the harness tells what happened to a deferred call -------------------


def _pending_record(entry: dict[str, Any]) -> dict[str, Any]:
    keep = ("id", "command", "rule", "reason", "irreversible", "anomalies", "pattern")
    return {k: entry.get(k) for k in keep}


def resolve(harness_name: str, call: Call, options: Options) -> bool:
    """Record the human's answer to a deferred call, linked to its entry. True if one was."""
    req = request_for(harness_name, call, options)
    record = pending.take(harness_name, call.session or "", call.pending_key)
    if record is None:
        return False  # guard did not defer this call (it allowed or denied it itself)
    approved = call.kind == "ran"
    decision = Decision(
        ALLOW if approved else DENY,
        record.get("rule"),
        str(record.get("reason") or ""),
        irreversible=bool(record.get("irreversible")),
        pattern=record.get("pattern"),
    )
    decision.anomalies = list(record.get("anomalies") or [])
    how = "it ran" if approved else "the harness denied it"
    outcome = gate.Outcome(
        approved,
        "reviewer",
        reviewer=f"human at {harness_name}'s prompt",
        message=f"answered in {harness_name} ({call.event}: {how})",
    )
    policy = None
    try:
        policy = policy_mod.load(options.policy_path)
    except Exception:  # the default audit settings then, as the gate does
        policy = None
    try:
        entry = gate.audit_entry(
            req, decision, "approved" if approved else "denied", outcome, started=time.time()
        )
        entry["harness"] = harness_name
        entry["deferred_id"] = record.get("id")
        if call.call_id:
            entry["tool_use_id"] = call.call_id
        gate.write_audit(req, policy, entry)
    except Exception as exc:  # the command already ran or was refused
        sys.stderr.write(f"guard: hook: cannot record the answer to a deferred review: {exc}\n")
        sys.stderr.flush()  # a worker ends with os._exit
        return False
    return True
