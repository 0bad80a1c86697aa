"""One request end to end: policy -> decision -> anomalies -> review -> audit -> exec.

Every mode (prefix, shell, shim, hook) builds a `Request` and calls `run` or `evaluate`.
Fail closed: any error on the decision path ends in a denial that says why; the audit line is
written before the program starts, and a command whose line cannot be written does not run.
"""

from __future__ import annotations

import os
import sys
import time

from . import agentstate, anomaly, audit, budget, execute, identity
from . import policy as policy_mod
from .decide import ALLOW, DENY, REVIEW, Decision, decide_argv
from .entry import Request as Request  # noqa: PLC0414 - re-exported (mypy): what every mode builds
from .errors import ExitCode, GuardError, PolicyError
from .tokenize import Command, join

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .policy import Policy


class Outcome:
    """How a review ended."""

    __slots__ = ("approved", "decided_by", "message", "remembered", "reviewer")

    def __init__(
        self,
        approved: bool,
        decided_by: str,
        *,
        reviewer: str | None = None,
        message: str = "",
        remembered: str | None = None,
    ) -> None:
        self.approved = approved
        self.decided_by = decided_by
        self.reviewer = reviewer
        self.message = message
        self.remembered = remembered


def _now_rfc3339(t: float) -> str:
    ms = int(t * 1000) % 1000
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{ms:03d}Z"


def uses_shell_analysis(policy: Policy, argv: list[str]) -> bool:
    """Prefix mode hands programs the shell catalogue knows (`sudo`, `sh -c`, `python3 -c`,
    `psql`, `tee`) to the shell analysis, so it decides them exactly as `guard -c` would."""
    return bool(argv) and policy.analysed(os.path.basename(argv[0]))


def evaluate(policy: Policy, req: Request) -> Decision:
    """The policy's decision on the request (no anomalies, no review). Never raises. A decision
    that takes longer than the policy's `decision_budget` is a denial (budget.py)."""
    seconds = policy.settings.get("decision_budget", budget.DEFAULT_SECONDS)
    try:
        return budget.run(seconds, _evaluate, policy, req)
    except budget.Exceeded as exc:
        return Decision(DENY, "decision-budget", f"{exc} (settings.decision_budget)")


def _evaluate(policy: Policy, req: Request) -> Decision:
    try:
        cwd = _elsewhere(req)
        if req.line is not None:
            from . import shell
            from .decideline import decide_line

            analysis = shell.analyse(req.line, policy.shell, cwd=cwd)
            return decide_line(policy, analysis, req.agent, req.line)
        if uses_shell_analysis(policy, req.argv):
            from . import shell
            from .decideline import decide_line

            line = join(req.argv)
            analysis = shell.analyse(line, policy.shell, cwd=cwd)
            decision = decide_line(policy, analysis, req.agent, line)
            decision.argv = req.argv
            return decision
        place = None if cwd is None else _Place(cwd)
        return decide_argv(policy, req.argv, req.agent, text=join(req.argv), part=place)
    except Exception as exc:  # fail closed: a bug in analysis must never allow
        return Decision(DENY, "internal-error", f"internal error while deciding: {exc!r}")


class _Place:
    """Where a command given as argv runs, for its effects (relative paths resolve there)."""

    __slots__ = ("cwd",)

    def __init__(self, cwd: str) -> None:
        self.cwd = cwd


def _elsewhere(req: Request) -> str | None:
    """The directory the command runs in when it is not this process's: a harness's tool runs
    in the `cwd` its hook input names, a `guard serve` client in its own. A relative path is
    judged there (`echo … >> authorized_keys` from ~/.ssh writes a key). None: here."""
    cwd = req.cwd
    if not cwd or not cwd.startswith("/"):
        return None
    try:
        here = os.getcwd()
    except OSError:
        return cwd
    return None if cwd == here else cwd


def _targets(policy: Policy, decision: Decision, req: Request) -> list[str]:
    argvs = [p.argv for p in decision.parts if p.argv] or [req.argv]
    found: list[str] = []
    for argv in argvs:
        if argv:
            cmd = Command(argv, policy.programs)
            found.extend(f"{cmd.name} {t}" for t in cmd.targets())
    return found


def _deny_line(req: Request, decision: Decision, outcome: Outcome) -> str:
    what = req.command
    if len(what) > 200:
        what = what[:197] + "..."
    rule = f"rule {decision.rule}" if decision.rule else "no rule"
    why = decision.reason
    if decision.anomalies:
        why += "; anomalies: " + ", ".join(decision.anomalies)
    nobody = f"no reviewer could be asked ({outcome.message or 'no terminal'})"
    if outcome.decided_by == "no_reviewer" and decision.irreversible:
        hint = (
            f"{nobody}; irreversible commands always need a "
            "human: run it from a terminal or answer it in `guard review`"
        )
    elif outcome.decided_by == "no_reviewer":
        hint = (
            f"{nobody}; a human can run it from a terminal, "
            "answer in `guard review`, or whitelist it in the policy"
        )
    elif outcome.decided_by == "timeout":
        hint = "the review timed out; ask a human to retry while watching the prompt"
    elif outcome.decided_by == "reviewer":
        hint = "a human reviewer denied it" + (f": {outcome.message}" if outcome.message else "")
    elif decision.rule == "internal-error" or outcome.decided_by == "error":
        hint = "guard failed closed; a human should check `guard doctor`"
    else:
        hint = "a human can change the policy (guard policy show) if this is wrong"
    line = f"guard: denied: {what} ({rule}: {why}) - {hint}"
    if not line.isprintable():  # one line, and no terminal escapes from the agent's arguments
        line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
    return line


def _entry(
    req: Request,
    decision: Decision,
    decision_word: str,
    outcome: Outcome,
    started: float,
    program: str | None,
) -> dict[str, Any]:
    now = time.time()
    entry: dict[str, Any] = {
        "ts": _now_rfc3339(now),
        "id": f"{int(now * 1000):012x}{os.urandom(8).hex()}",
        "agent": req.agent,
        "session": req.session,
        "user": audit.user_name(),
        "host": os.uname().nodename,
        "cwd": req.cwd,
        "argv": req.argv if req.line is None else req.shell_argv,
        "command": req.command,
        "mode": req.mode,
        "decision": decision_word,
        "decided_by": outcome.decided_by,
        "rule": decision.rule,
        "reason": outcome.message or decision.reason,
        "irreversible": decision.irreversible,
        "anomalies": list(decision.anomalies),
        "reviewer": outcome.reviewer,
        "latency_ms": round((now - started) * 1000, 1),
        "pattern": decision.pattern,
    }
    if program:
        entry["program"] = program
    if decision.parts:
        entry["parts"] = [
            {
                "argv": p.argv,
                "text": p.text,
                "verdict": p.verdict,
                "rule": p.rule,
                "reason": p.reason,
            }
            for p in decision.parts
        ]
    if outcome.remembered:
        entry["remembered"] = outcome.remembered
    return entry


def _write_audit(req: Request, policy: Policy | None, entry: dict[str, Any]) -> None:
    from . import paths

    settings = policy.audit if policy else policy_mod.DEFAULT_AUDIT
    key = None
    key_file = os.environ.get("GUARD_AUDIT_KEY_FILE") or settings.get("key_file")
    if key_file:
        key = audit.read_key(key_file)
    audit.append(
        req.audit_path or paths.audit_log(),
        entry,
        key=key,
        max_bytes=settings["max_bytes"],
        fsync=settings["fsync"],
    )


def audit_entry(
    req: Request,
    decision: Decision,
    decision_word: str,
    outcome: Outcome,
    *,
    started: float,
    program: str | None = None,
) -> dict[str, Any]:
    """The audit entry for a decision, as the gate writes it (public for hook mode)."""
    return _entry(req, decision, decision_word, outcome, started, program)


def write_audit(req: Request, policy: Policy | None, entry: dict[str, Any]) -> None:
    """Append `entry` to the request's audit log (public for hook mode). Raises AuditError."""
    _write_audit(req, policy, entry)


def targets(policy: Policy, decision: Decision, req: Request) -> list[str]:
    """The anomaly targets a decision names (public for hook mode)."""
    return _targets(policy, decision, req)


def review(policy: Policy, req: Request, decision: Decision) -> Outcome:
    """Ask a human (the session's earlier yes, the terminal or the console: `reviewroute`)."""
    from . import reviewroute

    return reviewroute.review(policy, req, decision)


def decide(
    policy: Policy, req: Request, started: float, *, identified: bool = False
) -> tuple[Decision, list[str]]:
    """The one decision pipeline before review (every mode, the hooks and the server call it):
    identity (unless the caller `identified` the agent itself, as the server does from its
    registry), the policy's verdict on what the command does, then anomalies against this
    agent's own history. Returns the decision and the targets it names."""
    refused = (
        None
        if identified
        else identity.check(req.agent, req.token, policy.settings["require_identity"])
    )
    decision = Decision(DENY, "identity", refused) if refused else evaluate(policy, req)
    targets = _targets(policy, decision, req)
    if decision.verdict != DENY:
        state = agentstate.read(req.agent)
        hour = time.localtime(started).tm_hour
        decision.anomalies = anomaly.flags(policy.anomalies, state, started, hour, targets)
        if decision.verdict == ALLOW and decision.anomalies:
            decision.verdict = REVIEW
            decision.reason = f"{decision.reason}; anomaly: {decision.anomalies[0]}"
    return decision, targets


def run(req: Request) -> int:
    """Decide, review, record, then exec the program (never returns) or return an exit code."""
    if os.environ.get("GUARD_SERVER"):  # client mode: the decision is guard serve's (server/)
        from . import client

        return client.run(req)
    started = time.time()
    policy: Policy | None = None
    program: str | None = None
    try:
        policy = policy_mod.load(req.policy_path)
    except PolicyError as exc:
        decision = Decision(DENY, "policy-error", exc.message)
        outcome = Outcome(False, "error")
        _best_effort_audit(req, None, decision, outcome, started)
        sys.stderr.write(f"guard: policy error: {exc.message}\n")
        return ExitCode.CONFIG

    try:
        decision, targets = decide(policy, req, started)
        if decision.verdict != DENY and req.line is None:
            try:
                # Prefix mode too: checked just now, a shim would check (and ask) twice.
                program = execute.which(req.argv[0], skip_shims=True)
                if policy.programs.pinned(os.path.basename(req.argv[0])):
                    from . import pinning

                    pinning.check(policy, req.argv[0], program)
            except GuardError as exc:
                decision = Decision(
                    DENY,
                    "not-found" if exc.exit_code == ExitCode.NOT_FOUND else "program",
                    exc.message.removeprefix("guard: "),
                    argv=req.argv,
                )
                outcome = Outcome(False, "policy")
                _best_effort_audit(req, policy, decision, outcome, started)
                sys.stderr.write(
                    f"{exc.message}\n"
                    if exc.message.startswith("guard:")
                    else f"guard: {exc.message}\n"
                )
                return exc.exit_code

        if decision.verdict == ALLOW:
            outcome = Outcome(True, "policy")
        elif decision.verdict == DENY:
            outcome = Outcome(False, "policy")
        else:
            outcome = review(policy, req, decision)
        word = (
            ("allowed" if outcome.decided_by == "policy" else "approved")
            if outcome.approved
            else "denied"
        )
        entry = _entry(req, decision, word, outcome, started, program)
    except Exception as exc:  # fail closed
        if os.environ.get("GUARD_DEBUG"):
            raise
        decision = Decision(DENY, "internal-error", f"internal error: {exc!r}")
        outcome = Outcome(False, "error")
        _best_effort_audit(req, policy, decision, outcome, started)
        sys.stderr.write(_deny_line(req, decision, outcome) + "\n")
        return ExitCode.NOPERM

    try:
        _write_audit(req, policy, entry)
    except GuardError as exc:
        sys.stderr.write(f"guard: denied: {req.command} - {exc.message}; nothing was run\n")
        return ExitCode.NOPERM
    agentstate.record(
        req.agent, started, time.localtime(started).tm_hour, req.command, entry["decision"], targets
    )
    if not outcome.approved:
        sys.stderr.write(_deny_line(req, decision, outcome) + "\n")
        return ExitCode.NOPERM
    try:
        if req.line is not None:
            shell_path = req.shell_argv[0]
            execute.exec_program(execute.which(shell_path), req.shell_argv)
        else:
            assert program is not None
            execute.exec_program(program, req.argv)
    except GuardError as exc:
        sys.stderr.write(f"{exc.message}\n")
        return exc.exit_code
    return ExitCode.SOFTWARE  # pragma: no cover - exec does not return


def _best_effort_audit(
    req: Request, policy: Policy | None, decision: Decision, outcome: Outcome, started: float
) -> None:
    """Record a refusal that happened before a normal decision; never raises."""
    try:
        _write_audit(req, policy, _entry(req, decision, "denied", outcome, started, None))
    except Exception:  # noqa: S110 - the refusal itself is what matters; it is on stderr
        pass
