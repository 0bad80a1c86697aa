"""Where a review goes: an earlier "approve for this session", the terminal, or the console.

`GUARD_REVIEW` chooses:

- `auto` (default): a running `guard review` console first; else the controlling terminal,
  unless another program holds it in raw mode (an agent's TUI: Claude Code, Codex, Gemini CLI
  draw their own screen, and a panel drawn there would be garbled and its keys eaten);
- `tty`: only the controlling terminal (never one held in raw mode);
- `console`: only the reviewer console.

With nobody to ask, the policy's `when_no_reviewer` applies (irreversible: always deny).
"""

from __future__ import annotations

import os
import sys
import time

from . import agentstate, sessions
from .gate import Outcome

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .decide import Decision
    from .gate import Request
    from .policy import Policy

MODES = ("auto", "tty", "console")
NO_TERMINAL = "no terminal"


def review(policy: Policy, req: Request, decision: Decision) -> Outcome:
    """Ask a human (or reuse this session's earlier yes); never raises for a missing human."""
    if not decision.irreversible:
        grant = sessions.granted(req)
        if grant is not None:
            return Outcome(
                True,
                "reviewer",
                reviewer=str(grant.get("reviewer") or "?"),
                message="approved for this session",
            )
    mode = (os.environ.get("GUARD_REVIEW") or "auto").strip().lower()
    if mode not in MODES:
        return Outcome(
            False, "no_reviewer", message=f"GUARD_REVIEW={mode!r} is not auto, tty or console"
        )
    from . import reviewqueue

    if mode != "tty" and reviewqueue.console_live():
        return console_review(policy, req, decision)
    if mode == "console":
        return no_reviewer(policy, decision, "no guard review console is running")
    fd = open_tty()
    if fd < 0:
        return no_reviewer(policy, decision, NO_TERMINAL)
    try:
        if held_raw(fd):
            return no_reviewer(
                policy,
                decision,
                "the terminal is held in raw mode by another program (an agent's own screen); "
                "run `guard review` in a terminal of your own",
            )
        from . import prompt

        return prompt.ask(fd, policy, req, decision, agentstate.read(req.agent)["recent"])
    except KeyboardInterrupt:  # SIGINT while the prompt waits: a denial, recorded as one
        return Outcome(False, "reviewer", message="review interrupted (SIGINT)")
    finally:
        os.close(fd)


def open_tty() -> int:
    try:
        return os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        return -1


def held_raw(fd: int) -> bool:
    """Is the terminal in non-canonical (raw or cbreak) mode, that is, held by a program that
    reads keys itself? A shell at its prompt and a program it runs see canonical mode."""
    import termios

    try:
        lflag = termios.tcgetattr(fd)[3]
    except termios.error:
        return True  # not a terminal we can read settings of: do not draw on it
    return not lflag & termios.ICANON


def no_reviewer(policy: Policy, decision: Decision, why: str) -> Outcome:
    """`when_no_reviewer`. The message (the audit entry's reason, and the denial line's
    "no reviewer could be asked (...)") says why nobody was asked, unless it is the plain
    case of no terminal, where the decision's own reason stays the entry's reason."""
    if policy.settings["when_no_reviewer"] == "allow" and not decision.irreversible:
        return Outcome(
            True, "no_reviewer", message=f"approved: no reviewer ({why}; when_no_reviewer = allow)"
        )
    return Outcome(False, "no_reviewer", message="" if why == NO_TERMINAL else why)


def console_review(policy: Policy, req: Request, decision: Decision) -> Outcome:
    """Ask the reviewer console (`guard review`) through the review queue."""
    from . import reviewqueue

    timeout = float(policy.settings["review_timeout"])
    deadline = time.time() + timeout
    recent = agentstate.read(req.agent)["recent"]
    try:
        request = reviewqueue.request_for(req, decision, recent, deadline)
        request_id = reviewqueue.submit(request)
    except (OSError, ValueError) as exc:
        return Outcome(False, "no_reviewer", message=f"cannot queue the review: {exc}")
    sys.stderr.write(f"guard: waiting for a reviewer in guard review (timeout {timeout:g}s)\n")
    sys.stderr.flush()
    try:
        answer = reviewqueue.wait_answer(request_id, deadline)
    except KeyboardInterrupt:
        return Outcome(False, "reviewer", message="review interrupted (SIGINT)")
    finally:
        reviewqueue.withdraw(request_id)
    if answer is None:
        if time.time() >= deadline:
            return Outcome(False, "timeout", message=f"no answer within {timeout:g}s")
        return Outcome(False, "no_reviewer", message="the reviewer console closed before answering")
    outcome = Outcome(
        answer["approved"], "reviewer", reviewer=answer["reviewer"], message=answer["message"]
    )
    if answer["approved"] and answer.get("scope") == "session" and not decision.irreversible:
        try:
            sessions.grant(req, answer["reviewer"])
        except OSError as exc:
            outcome.message += f" (the session grant could not be saved: {exc.strerror})"
    if answer.get("remembered"):
        outcome.remembered = answer["remembered"]
    return outcome
