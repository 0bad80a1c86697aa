"""The human prompt, on the controlling terminal (/dev/tty, as sudo does).

It works while the agent's own stdin/stdout are pipes. Keys: `y` approve once, `a` approve and
remember (an editable suggested pattern becomes an [[allow]] rule), `n` or Enter deny (with an
optional reason for the agent), Ctrl-C or EOF deny; `review_timeout` expiring denies.
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


def render(
    console: Any, req: Request, decision: Decision, recent: list[Any], timeout: float
) -> None:
    from rich.panel import Panel
    from rich.syntax import Syntax
    from rich.table import Table
    from rich.text import Text

    head = Text()
    if decision.irreversible:
        head.append(" IRREVERSIBLE ", style="bold white on red")
        head.append(" ")
    head.append("guard: review needed", style="bold yellow")
    body = Table.grid(padding=(0, 1))
    body.add_column(style="dim", justify="right")
    body.add_column()
    shown = visible(req.command)
    body.add_row("command", Syntax(shown, "bash", theme="ansi_dark", word_wrap=True))
    body.add_row("agent", Text(visible(f"{req.agent}   session {req.session}")))
    body.add_row("cwd", Text(visible(req.cwd)))
    rule = decision.rule or "(no rule: policy default)"
    body.add_row("why", Text(visible(f"{rule}: {decision.reason}")))
    for flag in decision.anomalies:
        body.add_row("anomaly", Text(visible(flag), style="bold magenta"))
    needing = [p for p in decision.parts if p.verdict != "allow"]
    if len(decision.parts) > 1:
        for part in decision.parts:
            mark = {
                "allow": ("ok", "green"),
                "review": ("REVIEW", "yellow"),
                "deny": ("DENY", "red"),
            }
            word, style = mark[part.verdict]
            label = Text(f"{word:>6} ", style=f"bold {style}")
            label.append(visible(part.text or " ".join(part.argv)))
            if part in needing:
                label.append(visible(f"  <- {part.rule}: {part.reason}"), style="dim")
            body.add_row("part", label)
    if recent:
        lines = Text()
        for i, (when, command, verdict) in enumerate(recent[-5:]):
            if i:
                lines.append("\n")
            stamp = time.strftime("%H:%M:%S", time.localtime(when))
            lines.append(f"{stamp} {verdict:<8} ", style="dim")
            lines.append(visible(command[:120]))
        body.add_row("recent", lines)
    console.print(
        Panel(body, title=head, border_style="red" if decision.irreversible else "yellow")
    )
    console.print(f"[dim]times out in {timeout:g}s (deny)[/dim]")


def remember_suggestions(policy: Policy, decision: Decision, argv: list[str]) -> list[str]:
    """Patterns "approve and remember" may propose; empty when remembering is not allowed."""
    from .suggest import generalise

    if decision.irreversible or decision.anomalies:
        return []
    parts = decision.parts or [decision]
    pending = [p for p in parts if p.verdict != "allow"]
    if not pending or any(p.rule is not None for p in pending):
        return []  # only commands that reached the default; rules and concerns stay reviewed
    return [generalise(p.argv or argv, policy.programs) for p in pending]


def ask(fd: int, policy: Policy, req: Request, decision: Decision, recent: list[Any]) -> Outcome:
    timeout = float(policy.settings["review_timeout"])
    term = Terminal(fd, time.monotonic() + timeout)
    console = _console(fd)
    render(console, req, decision, recent, timeout)
    suggestions = remember_suggestions(policy, decision, req.argv)
    keys = "[bold]y[/] approve once"
    if suggestions:
        keys += " · [bold]a[/] approve and remember"
    keys += " · [bold]n[/]/Enter deny"
    reviewer = _reviewer()
    try:
        while True:
            console.print(keys + " ? ", end="")
            key = term.key().lower()
            console.print(key if key.isprintable() else "")
            if key == "y":
                console.print("[green]approved once[/green]")
                return Outcome(True, "reviewer", reviewer=reviewer, message="approved by reviewer")
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


def _remember(
    console: Any,
    term: Terminal,
    policy: Policy,
    req: Request,
    suggestions: list[str],
    reviewer: str,
) -> Outcome:
    from rich.text import Text

    from . import paths, policy_edit
    from .errors import GuardError

    chosen = []
    for suggestion in suggestions:
        # Text, not markup: the pattern's `[...]` globs (and agent-chosen names) show as written.
        console.print(
            Text.assemble(
                "pattern to whitelist ",
                (visible(suggestion), "bold"),
                " (Enter keeps it, or type another): ",
            ),
            end="",
        )
        typed = term.line()
        chosen.append(typed or suggestion)
    target = req.policy_path or paths.user_policy()
    try:
        rule_id = policy_edit.add_allow_rule(
            target, None, chosen, comment=f"remembered by {reviewer}"
        )
    except GuardError as exc:
        console.print(Text(f"could not save the rule: {exc.message}", "red"), "(approved once)")
        return Outcome(
            True, "reviewer", reviewer=reviewer, message="approved once (remember failed)"
        )
    console.print(Text(f"approved; rule {rule_id} added to {target}", "green"))
    return Outcome(
        True,
        "reviewer",
        reviewer=reviewer,
        message="approved and remembered",
        remembered=" | ".join(chosen),
    )


def _reviewer() -> str:
    from .gate import _user

    return os.environ.get("GUARD_REVIEWER") or f"{_user()}@tty"
