"""`guard review`: the reviewer console for agents that have no terminal.

A human runs it in a terminal of their own; it shows each pending request (as the /dev/tty
prompt does) and writes the answer to the review queue (`reviewqueue`). One console at a time.
"""

from __future__ import annotations

import os
import select
import sys
import termios
import time
import tty
from types import SimpleNamespace
from typing import Any

import click

from . import CONTEXT

IDLE_POLL = 0.2  # seconds between looks for new requests, and for a shown one's withdrawal


class _Quit(Exception):
    """Ctrl-C, Ctrl-D, `q` or EOF on the console's terminal."""


class _Keys:
    """Single keys from the console's terminal (raw mode only while waiting for one)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def read(self, timeout: float, *, flush: bool = False) -> str | None:
        """One key, or None after `timeout` seconds. `flush` drops what was typed before,
        so keys pressed for an earlier request never answer a new one."""
        old = termios.tcgetattr(self.fd)
        try:
            tty.setraw(self.fd, termios.TCSAFLUSH if flush else termios.TCSANOW)
            ready, _, _ = select.select([self.fd], [], [], max(timeout, 0.0))
            data = os.read(self.fd, 1) if ready else None
        finally:
            termios.tcsetattr(self.fd, termios.TCSADRAIN, old)
        if data is None:
            return None
        if data in (b"", b"\x03", b"\x04"):
            raise _Quit
        return data.decode("utf-8", "replace").lower()


def _default_reviewer() -> str:
    from ..gate import _user

    return os.environ.get("GUARD_REVIEWER") or f"{_user()}@review"


def _as_objects(request: dict[str, Any]) -> tuple[Any, Any]:
    """Lightweight stand-ins for the gate's Request and Decision, for `prompt.render`."""
    req = SimpleNamespace(
        command=request["command"],
        agent=request["agent"],
        session=request["session"],
        cwd=request["cwd"],
    )
    parts = [
        SimpleNamespace(
            verdict=p["verdict"], text=p["text"], argv=[], rule=p["rule"], reason=p["reason"]
        )
        for p in request["parts"]
    ]
    decision = SimpleNamespace(
        irreversible=request["irreversible"],
        rule=request["rule"],
        reason=request["reason"],
        anomalies=request["anomalies"],
        parts=parts,
    )
    return req, decision


def _reason(fd: int, deadline: float) -> str:
    """The optional reason for a denial, typed as a line (Ctrl-C or timeout: no reason)."""
    from .. import prompt

    try:
        return prompt.Terminal(fd, time.monotonic() + max(deadline - time.time(), 0.0)).line()
    except Exception:  # prompt's timeout or Ctrl-C: deny without a reason
        return ""


def _handle(console: Any, keys: _Keys, request: dict[str, Any], reviewer: str) -> bool:
    """Show one request and record the reviewer's answer. Returns False if it was skipped."""
    from rich.text import Text

    from .. import prompt, reviewqueue

    request_id = request["id"]
    req, decision = _as_objects(request)
    deadline = request["deadline"]
    left = float(max(round(deadline - time.time()), 0))
    prompt.render(console, req, decision, request["recent"], left)
    console.print(
        Text(f"request {request_id[:12]} from pid {request['pid']}", style="dim"),
    )
    console.print(
        "[bold]y[/] approve · [bold]n[/] deny · [bold]s[/] skip · [bold]q[/] quit ? ", end=""
    )
    flush = True
    while True:
        if not reviewqueue.is_pending(request_id):
            console.print("\n[dim]withdrawn: the agent stopped waiting[/dim]")
            return True
        left = deadline - time.time()
        if left <= 0:
            console.print("\n[red]timed out: the agent was denied[/red]")
            return True
        key = keys.read(min(left, IDLE_POLL), flush=flush)
        flush = False
        if key is None:
            continue
        if key == "q":
            console.print("q")
            raise _Quit
        if key == "s":
            console.print(
                "s\n[dim]skipped: it stays pending (r shows skipped requests again)[/dim]"
            )
            return False
        if key == "y":
            console.print("y")
            written = reviewqueue.answer(
                request_id,
                True,
                reviewer,
                "approved in guard review",
                request_digest=request["digest"],
            )
            console.print("[green]approved[/green]" if written else "[dim]withdrawn[/dim]")
            return True
        if key == "n":
            console.print("n")
            console.print("reason for the agent (optional, Enter to skip): ", end="")
            message = prompt.visible(_reason(keys.fd, deadline))[:1000]
            written = reviewqueue.answer(
                request_id, False, reviewer, message, request_digest=request["digest"]
            )
            console.print("[red]denied[/red]" if written else "[dim]withdrawn[/dim]")
            return True


@click.command(context_settings=CONTEXT)
@click.option("--once", is_flag=True, help="Answer what is pending now, then exit.")
@click.option(
    "--reviewer",
    metavar="NAME",
    help="Name recorded in the audit log (default: $GUARD_REVIEWER, else <user>@review).",
)
def review(once: bool, reviewer: str | None) -> None:
    """The reviewer console: answer review requests from agents with no terminal.

    Run it in a terminal of your own; every agent whose guard cannot open a terminal sends
    its reviews here (while no console runs, they get the policy's `when_no_reviewer`).
    Keys: y approve, n deny (with an optional reason), s skip, r show skipped again,
    q or Ctrl-C quit. Only one console runs at a time.
    """
    from rich.console import Console
    from rich.text import Text

    from .. import paths, reviewqueue
    from ..errors import GuardError, UsageError

    fd = sys.stdin.fileno()
    if not os.isatty(fd):
        raise UsageError("guard review needs a terminal: run it in a terminal of its own")
    reviewer = reviewer or _default_reviewer()
    try:
        lock = reviewqueue.hold_console_lock()
    except reviewqueue.ConsoleBusy as exc:
        who = f" (pid {exc.pid})" if exc.pid.isdigit() else ""
        raise UsageError(
            f"another reviewer console is already running{who}; only one may run at a time"
        ) from None
    except OSError as exc:
        raise GuardError(f"cannot open the review queue in {paths.review_dir()}: {exc}") from exc
    console = Console(highlight=False, soft_wrap=True)
    keys = _Keys(fd)
    skipped: set[str] = set()
    try:
        console.print(
            Text.assemble(
                "guard review: reviewing as ",
                (reviewer, "bold"),
                f"; waiting for requests in {paths.review_dir()} (q or Ctrl-C to quit)",
            )
        )
        last_sweep = 0.0
        while True:
            if time.monotonic() - last_sweep > 5:
                reviewqueue.sweep()
                last_sweep = time.monotonic()
            waiting = reviewqueue.pending()
            todo = [r for r in waiting if r["id"] not in skipped]
            skipped &= {r["id"] for r in waiting}
            for request in todo:
                if request["deadline"] <= time.time() or not reviewqueue.is_pending(request["id"]):
                    continue  # gone while an earlier one was being answered
                if not _handle(console, keys, request, reviewer):
                    skipped.add(request["id"])
            if once:
                break
            if not todo:
                key = keys.read(IDLE_POLL)
                if key == "q":
                    raise _Quit
                if key == "r" and skipped:
                    skipped.clear()
    except (_Quit, KeyboardInterrupt):
        console.print("\nguard review: stopped")
    finally:
        os.close(lock)  # releases the console lock: agents now get `when_no_reviewer`
