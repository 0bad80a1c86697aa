"""The human prompt, on the controlling terminal (/dev/tty, as sudo does).

It works while the agent's own stdin/stdout are pipes. Keys: `y` approve once, `s` approve for
this session (this exact command, in this directory, `sessions`), `a` approve and remember (an
editable suggested pattern becomes an [[allow]] rule for this agent: `remember`), `f` show the
whole command escaped with line numbers, `n` or Enter deny (with an optional reason for the
agent), Ctrl-C or EOF deny; `review_timeout` expiring denies.
"""

from __future__ import annotations

import os
import select
import termios
import time
import tty

from .gate import Outcome

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .decide import Decision
    from .gate import Request
    from .policy import Policy

    Pending = tuple[list[str], str]  # a part's argv, and the pattern suggested for it


class _Timeout(Exception):
    pass


class _Abort(Exception):
    """Ctrl-C or EOF at the prompt."""


class Terminal:
    """Key and line input on the tty fd with a deadline."""

    def __init__(self, fd: int, deadline: float) -> None:
        self.fd = fd
        self.deadline = deadline

    def _wait(self) -> None:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Timeout
        ready, _, _ = select.select([self.fd], [], [], left)
        if not ready:
            raise _Timeout

    def key(self) -> str:
        old = termios.tcgetattr(self.fd)
        try:
            tty.setraw(self.fd)
            self._wait()
            data = os.read(self.fd, 1)
        finally:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, old)
        if not data or data in (b"\x03", b"\x04"):
            raise _Abort
        return data.decode("utf-8", "replace")

    def line(self) -> str:
        """A line in cooked mode (the terminal edits it); Ctrl-C/EOF abort."""
        old = termios.tcgetattr(self.fd)
        new = termios.tcgetattr(self.fd)
        new[3] &= ~termios.ISIG  # Ctrl-C arrives as a byte, not a signal to the agent
        new[3] |= termios.ICANON | termios.ECHO
        # ...and ends the line, so the read returns it at once instead of waiting for Enter.
        new[6][termios.VEOL] = b"\x03"
        buf = b""
        try:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, new)
            while not buf.endswith(b"\n"):
                self._wait()
                chunk = os.read(self.fd, 4096)
                if not chunk or b"\x03" in chunk or (chunk == b"\x04" and not buf):
                    raise _Abort
                buf += chunk
        finally:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, old)
        return buf.decode("utf-8", "replace").strip()


def _console(fd: int) -> Any:
    from rich.console import Console

    stream = os.fdopen(os.dup(fd), "w", encoding="utf-8", errors="replace")
    return Console(file=stream, force_terminal=True, highlight=False, soft_wrap=True)


def visible(text: str) -> str:
    """Agent-controlled text as the reviewer must see it: control and invisible characters
    (ESC, CR, newline, bidi overrides...) shown as escapes, so a command cannot hide or
    rewrite itself on the reviewer's terminal."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


_MARKS = {
    "allow": ("ok", "green"),
    "review": ("REVIEW", "yellow"),
    "deny": ("DENY", "red"),
}


def _part_row(part: Any) -> Any:
    """One part of a line: its verdict, marked IRREVERSIBLE when it is, then why."""
    from rich.text import Text

    word, style = _MARKS.get(part.verdict, ("?", "red"))
    label = Text(f"{word:>6} ", style=f"bold {style}")
    if getattr(part, "irreversible", False):
        label.append("IRREVERSIBLE", style="bold white on red")
        label.append(" ")
    label.append(visible(part.text or " ".join(part.argv)))
    if part.verdict != "allow":
        why = f"{part.rule}: {part.reason}" if part.rule else part.reason
        label.append(visible(f"  <- {why}"), style="dim")
    return label


def render(console: Any, req: Any, decision: Any, recent: list[Any], timeout: float) -> None:
    """The review panel. Nothing is cut: long words fold onto the next line."""
    from rich.panel import Panel
    from rich.table import Table
    from rich.text import Text

    head = Text()
    if decision.irreversible:
        head.append(" IRREVERSIBLE ", style="bold white on red")
        head.append(" ")
    head.append("guard: review needed", style="bold yellow")
    body = Table.grid(padding=(0, 1))
    body.add_column(style="dim", justify="right", no_wrap=True)
    body.add_column(overflow="fold")
    body.add_row("command", Text(visible(req.command), style="bold"))
    body.add_row("agent", Text(visible(f"{req.agent}   session {req.session}")))
    body.add_row("cwd", Text(visible(req.cwd)))
    why = f"{decision.rule}: {decision.reason}" if decision.rule else decision.reason
    body.add_row("why", Text(visible(why)))
    for flag in decision.anomalies:
        body.add_row("anomaly", Text(visible(flag), style="bold magenta"))
    if len(decision.parts) > 1:
        for part in decision.parts:
            body.add_row("part", _part_row(part))
    if recent:
        lines = Text()
        for i, (when, command, verdict) in enumerate(recent[-5:]):
            if i:
                lines.append("\n")
            stamp = time.strftime("%H:%M:%S", time.localtime(when))
            lines.append(f"{stamp} {verdict:<8} ", style="dim")
            lines.append(visible(command))
        body.add_row("recent", lines)
    console.print(
        Panel(body, title=head, border_style="red" if decision.irreversible else "yellow")
    )
    console.print(f"[dim]times out in {timeout:g}s (deny)[/dim]")


def show_full(console: Any, command: str) -> None:
    """The whole command, escaped, one numbered row per line of its text (the `f` key)."""
    from rich.text import Text

    lines = command.split("\n")
    width = len(str(len(lines)))
    console.print(Text(f"the whole command ({len(command)} characters):", style="bold"))
    for number, line in enumerate(lines, 1):
        console.print(Text(f"{number:>{width}} | ", style="dim") + Text(visible(line)))
    console.print(Text("(end of command)", style="dim"))


def remember_suggestions(
    policy: Policy, decision: Any, argv: list[str], agent: str = "anonymous"
) -> list[Pending]:
    """What "approve and remember" would whitelist: one (argv, suggested pattern) for each part
    under review that an allow rule can change. A part that reached the policy's default gets
    the narrow pattern (`suggest.generalise`); a part a `[[review]]` rule or an overridable
    concern (opaque code a human can vouch for) sent to review gets the exact command, the only
    allow rule that lifts those. Nothing for irreversible parts, anomalies, or other rules and
    concerns (they always go to a human), nor for a command too long to whitelist, nor for one
    whose run-time words could make a deny or irreversible rule hold (`kill $PID`: an allow
    rule would not spare it the review, decideline.could_become_stricter)."""
    if decision.irreversible or decision.anomalies:
        return []
    found: list[Pending] = []
    for part in decision.parts or [decision]:
        _suggest_for(policy, part, argv, agent, found)
    return found


def _suggest_for(
    policy: Policy, part: Any, argv: list[str], agent: str, found: list[Pending]
) -> None:
    """Add the suggestion for one part under review. A part reviewed for the command line it
    runs (`tmux send-keys 'python x.py' Enter`) gets those inner parts' suggestions: allowing
    the outer command would not lift its review."""
    from .suggest import exact, for_protected, generalise

    if part.verdict != "review" or getattr(part, "irreversible", False):
        return
    nested = getattr(part, "nested", None)
    if nested:
        for inner in nested:
            _suggest_for(policy, inner, [], agent, found)
        return
    words = list(part.argv or argv)
    if not words or not words[0] or any("\0" in w for w in words):
        return  # no program name, or a word known only at run time
    if part.rule is None:
        pattern = generalise(policy, words)
    elif part.rule.startswith("protected:"):
        pattern = for_protected(policy, words)  # None for what no allow rule lifts
    elif liftable(policy, part.rule, words[0]):
        pattern = exact(words)
    else:
        return
    if pattern is None or (words, pattern) in found or _stays_reviewed(policy, words, agent):
        return
    found.append((words, pattern))


def _stays_reviewed(policy: Policy, words: list[str], agent: str) -> bool:
    """Would this command still go to a human once allowed: a word known only at run time (its
    source text: `$PID`, `$(pgrep x)`, a wrapper's `{}`) could make a deny or irreversible rule
    hold? Words that merely look run-time (`'$5'` in single quotes) only cost the offer."""
    runtime = [i for i, w in enumerate(words) if i and ("$" in w or "`" in w or w == "{}")]
    if not runtime:
        return False
    from .decideline import could_become_stricter

    return could_become_stricter(policy, words, runtime, agent) is not None


def liftable(policy: Policy, rule_id: str, program: str) -> bool:
    """Can an allow rule naming the exact command lift this rule or concern (decide.py)?"""
    from .shell.model import CONCERNS

    if rule_id in CONCERNS:
        return CONCERNS[rule_id][0]
    name = os.path.basename(program)
    return any(r["id"] == rule_id for r in policy.candidates("review", name))


def _keys_line(remember: bool, session: bool) -> str:
    keys = "[bold]y[/] approve once"
    if session:
        keys += " · [bold]s[/] approve for this session"
    if remember:
        keys += " · [bold]a[/] approve and remember"
    return keys + " · [bold]f[/] whole command · [bold]n[/]/Enter deny"


def ask(fd: int, policy: Policy, req: Request, decision: Decision, recent: list[Any]) -> Outcome:
    timeout = float(policy.settings["review_timeout"])
    term = Terminal(fd, time.monotonic() + timeout)
    console = _console(fd)
    render(console, req, decision, recent, timeout)
    suggestions = remember_suggestions(policy, decision, req.argv, req.agent)
    session = not decision.irreversible
    keys = _keys_line(bool(suggestions), session)
    reviewer = _reviewer()
    try:
        while True:
            console.print(keys + " ? ", end="")
            key = term.key().lower()
            console.print(key if key.isprintable() else "")
            if key == "y":
                console.print("[green]approved once[/green]")
                return Outcome(True, "reviewer", reviewer=reviewer, message="approved by reviewer")
            if key == "f":
                show_full(console, req.command)
            if key == "s" and session:
                return _for_session(console, req, reviewer)
            if key == "a" and suggestions:
                return _remember(console, term, policy, req, suggestions, reviewer)
            if key in ("n", "\r", "\n"):
                console.print("reason for the agent (optional, Enter to skip): ", end="")
                try:
                    reason = term.line()
                except (_Timeout, _Abort):
                    reason = ""
                console.print("[red]denied[/red]")
                return Outcome(False, "reviewer", reviewer=reviewer, message=reason)
    except _Timeout:
        console.print("\n[red]review timed out: denied[/red]")
        return Outcome(False, "timeout", message=f"no answer within {timeout:g}s")
    except _Abort:
        console.print("\n[red]aborted: denied[/red]")
        return Outcome(False, "reviewer", reviewer=reviewer, message="review aborted (Ctrl-C/EOF)")


def _for_session(console: Any, req: Request, reviewer: str) -> Outcome:
    from . import sessions

    try:
        sessions.grant(req, reviewer)
    except OSError as exc:
        console.print(f"[red]could not save the session approval: {exc.strerror}[/red]")
        return Outcome(True, "reviewer", reviewer=reviewer, message="approved once")
    console.print(
        "[green]approved for this session (this exact command, in this directory)[/green]"
    )
    return Outcome(True, "reviewer", reviewer=reviewer, message="approved for this session")


def _remember(
    console: Any,
    term: Terminal,
    policy: Policy,
    req: Request,
    suggestions: list[Pending],
    reviewer: str,
) -> Outcome:
    from rich.text import Text

    from . import paths, remember
    from .errors import GuardError

    choice = remember.choose(console, term.line, policy, req.agent, suggestions, req.audit_path)
    if choice is None:
        console.print(Text("nothing remembered; approved once", "yellow"))
        return Outcome(True, "reviewer", reviewer=reviewer, message="approved once")
    target = req.policy_path or paths.user_policy()
    try:
        saved = remember.save(target, choice, reviewer, req.command)
    except GuardError as exc:
        console.print(Text(f"could not save the rule: {exc.message}", "red"), "(approved once)")
        return Outcome(
            True, "reviewer", reviewer=reviewer, message="approved once (remember failed)"
        )
    console.print(Text(saved, "green"))
    return Outcome(
        True,
        "reviewer",
        reviewer=reviewer,
        message="approved and remembered",
        remembered=" | ".join(choice.patterns),
    )


def _reviewer() -> str:
    from .audit import user_name

    return os.environ.get("GUARD_REVIEWER") or f"{user_name()}@tty"
