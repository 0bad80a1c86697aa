"""`guard review`: the reviewer console for agents that have no terminal (or whose terminal an
agent's own screen holds).

A human runs it in a terminal of their own; it shows each pending request as the /dev/tty prompt
does, with the same choices, and writes the answer to the review queue (`reviewqueue`). One
console at a time. `--script` is the same console for programs: requests as JSON lines on
stdout, answers as JSON lines on stdin, no terminal needed.
"""

from __future__ import annotations

import json
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
QUIT_MESSAGE = "the reviewer closed guard review before answering"


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
    from ..audit import user_name

    return os.environ.get("GUARD_REVIEWER") or f"{user_name()}@review"


def _as_objects(request: dict[str, Any]) -> tuple[Any, Any]:
    """Lightweight stand-ins for the gate's Request and Decision (prompt.render, remember)."""
    req = SimpleNamespace(
        command=request["command"],
        agent=request["agent"],
        session=request["session"],
        cwd=request["cwd"],
        argv=request["argv"],
    )
    parts = [
        SimpleNamespace(
            verdict=p["verdict"],
            text=p["text"],
            argv=list(p.get("argv") or []),
            rule=p["rule"],
            reason=p["reason"],
            irreversible=bool(p.get("irreversible")),
            anomalies=[],
        )
        for p in request["parts"]
    ]
    decision = SimpleNamespace(
        verdict="review",
        irreversible=request["irreversible"],
        rule=request["rule"],
        reason=request["reason"],
        anomalies=request["anomalies"],
        parts=parts,
        argv=request["argv"],
    )
    return req, decision


class Reviewing:
    """What every request's answer needs: who answers, and the policy "remember" writes to."""

    def __init__(self, reviewer: str, policy_path: str | None) -> None:
        self.reviewer = reviewer
        self.policy_path = policy_path
        self._policy: Any = None

    @property
    def policy(self) -> Any:
        if self._policy is None:
            from .. import policy as policy_mod

            self._policy = policy_mod.load(self.policy_path)
        return self._policy

    def suggestions(self, request: dict[str, Any]) -> list[tuple[list[str], str]]:
        from ..prompt import remember_suggestions

        _, decision = _as_objects(request)
        try:
            return remember_suggestions(
                self.policy, decision, request["argv"], request.get("agent") or "anonymous"
            )
        except Exception:  # a policy that does not load: remembering is not offered
            return []

    def target(self) -> str:
        from .. import paths

        return self.policy_path or paths.user_policy()

    def send(self, request: dict[str, Any], approved: bool, message: str, **kw: str) -> bool:
        from .. import reviewqueue

        return reviewqueue.answer(
            request["id"],
            approved,
            self.reviewer,
            message,
            request_digest=request["digest"],
            **kw,
        )


def _reason(fd: int, deadline: float) -> str:
    """The optional reason for a denial, typed as a line (Ctrl-C or timeout: no reason)."""
    from .. import prompt

    try:
        return prompt.Terminal(fd, time.monotonic() + max(deadline - time.time(), 0.0)).line()
    except Exception:  # prompt's timeout or Ctrl-C: deny without a reason
        return ""


def _keys_line(remember: bool, session: bool) -> str:
    keys = "[bold]y[/] approve once"
    if session:
        keys += " · [bold]s[/] approve for this session"
    if remember:
        keys += " · [bold]a[/] approve and remember"
    return (
        keys
        + " · [bold]f[/] whole command · [bold]n[/] deny · [bold]l[/] later · [bold]q[/] quit ? "
    )


def _handle(
    console: Any, keys: _Keys, request: dict[str, Any], ctx: Reviewing, waiting: int
) -> bool:
    """Show one request and record the reviewer's answer. Returns False if it was put off."""
    from rich.text import Text

    from .. import prompt, reviewqueue

    request_id = request["id"]
    req, decision = _as_objects(request)
    deadline = request["deadline"]
    left = float(max(round(deadline - time.time()), 0))
    prompt.render(console, req, decision, request["recent"], left)
    console.print(
        Text(
            f"request {request_id[:12]} from pid {request['pid']}; {waiting} pending", style="dim"
        ),
    )
    suggestions = ctx.suggestions(request)
    session = not request["irreversible"]
    line = _keys_line(bool(suggestions), session)
    console.print(line, end="")
    flush = True
    try:
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
            if key == "l":
                console.print("l\n[dim]later: it stays pending (r shows it again)[/dim]")
                return False
            if key == "f":
                console.print("f")
                prompt.show_full(console, request["command"])
                console.print(line, end="")
            if key == "y":
                console.print("y")
                _said(console, ctx.send(request, True, "approved in guard review"), "approved")
                return True
            if key == "s" and session:
                console.print("s")
                written = ctx.send(
                    request, True, "approved for this session in guard review", scope="session"
                )
                _said(console, written, "approved for this session")
                return True
            if key == "a" and suggestions:
                console.print("a")
                return _remember(console, keys, request, ctx, suggestions)
            if key == "n":
                console.print("n")
                console.print("reason for the agent (optional, Enter to skip): ", end="")
                message = prompt.visible(_reason(keys.fd, deadline))[:1000]
                _said(console, ctx.send(request, False, message), "[red]denied[/red]")
                return True
    except (_Quit, KeyboardInterrupt):
        # The request on screen gets an answer that says what happened, not a silent timeout.
        ctx.send(request, False, QUIT_MESSAGE)
        raise _Quit from None


def _said(console: Any, written: bool, what: str) -> None:
    console.print(f"[green]{what}[/green]" if written else "[dim]withdrawn[/dim]")


def _remember(
    console: Any,
    keys: _Keys,
    request: dict[str, Any],
    ctx: Reviewing,
    suggestions: list[tuple[list[str], str]],
) -> bool:
    from rich.text import Text

    from .. import prompt, remember
    from ..errors import GuardError

    term = prompt.Terminal(keys.fd, time.monotonic() + max(request["deadline"] - time.time(), 0))
    try:
        choice = remember.choose(
            console, term.line, ctx.policy, request["agent"], suggestions, None
        )
    except Exception:  # the request's time ran out, or Ctrl-C while typing: nothing saved
        choice = None
    if choice is None:
        _said(console, ctx.send(request, True, "approved in guard review"), "approved once")
        return True
    try:
        said = remember.save(ctx.target(), choice, ctx.reviewer, request["command"])
    except GuardError as exc:
        console.print(Text(f"could not save the rule: {exc.message}", "red"), "(approved once)")
        ctx.send(request, True, "approved once (remember failed)")
        return True
    console.print(Text(said, "green"))
    ctx.send(
        request,
        True,
        "approved and remembered in guard review",
        scope="remember",
        remembered=" | ".join(choice.patterns),
    )
    return True


@click.command(context_settings=CONTEXT)
@click.option("--once", is_flag=True, help="Answer what is pending now, then exit.")
@click.option(
    "--reviewer",
    metavar="NAME",
    help="Name recorded in the audit log (default: $GUARD_REVIEWER, else <user>@review).",
)
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(dir_okay=False),
    envvar="GUARD_POLICY",
    help="The policy 'approve and remember' writes to (default: the user policy).",
)
@click.option(
    "--script",
    is_flag=True,
    help="No terminal: requests as JSON lines on stdout, answers as JSON lines on stdin.",
)
@click.option(
    "--server",
    metavar="URL",
    help="Answer the queue of guard serve at unix:PATH (secret: GUARD_REVIEWER_SECRET).",
)
def review(
    once: bool, reviewer: str | None, policy_path: str | None, script: bool, server: str | None
) -> None:
    """The reviewer console: answer review requests from agents with no terminal.

    Run it in a terminal of your own; every agent whose guard cannot use a terminal (none, or
    one an agent's own screen holds in raw mode) sends its reviews here, and with
    GUARD_REVIEW=auto (the default) agents prefer it to their terminal while it runs.
    Keys: y approve once, s approve for this session, a approve and remember, f whole command,
    n deny (with an optional reason), l later, r show those again, q or Ctrl-C quit.
    Only one console runs at a time.
    """
    if server:  # guard serve's queue (cli/serve.py)
        from .serve import review_against_server

        review_against_server(server, once, script)
        return
    from rich.console import Console
    from rich.text import Text

    from .. import paths, reviewqueue
    from ..errors import GuardError, UsageError

    fd = sys.stdin.fileno()
    if not script and not os.isatty(fd):
        raise UsageError(
            "guard review needs a terminal: run it in a terminal of its own (or use --script)"
        )
    ctx = Reviewing(reviewer or _default_reviewer(), policy_path)
    try:
        lock = reviewqueue.hold_console_lock()
    except reviewqueue.ConsoleBusy as exc:
        who = f" (pid {exc.pid})" if exc.pid.isdigit() else ""
        raise UsageError(
            f"another reviewer console is already running{who}; only one may run at a time"
        ) from None
    except OSError as exc:
        raise GuardError(f"cannot open the review queue in {paths.review_dir()}: {exc}") from exc
    try:
        if script:
            _scripted(ctx, once)
            return
        console = Console(highlight=False, soft_wrap=True)
        console.print(
            Text.assemble(
                "guard review: reviewing as ",
                (ctx.reviewer, "bold"),
                f"; waiting for requests in {paths.review_dir()} (q or Ctrl-C to quit)",
            )
        )
        _loop(console, _Keys(fd), ctx, once)
    finally:
        os.close(lock)  # releases the console lock: agents now get `when_no_reviewer`


def _loop(console: Any, keys: _Keys, ctx: Reviewing, once: bool) -> None:
    from .. import reviewqueue

    later: set[str] = set()
    last_sweep = 0.0
    idle_said = -1
    try:
        while True:
            if time.monotonic() - last_sweep > 5:
                reviewqueue.sweep()
                last_sweep = time.monotonic()
            waiting = reviewqueue.pending()
            todo = [r for r in waiting if r["id"] not in later]
            later &= {r["id"] for r in waiting}
            for n, request in enumerate(todo):
                if request["deadline"] <= time.time() or not reviewqueue.is_pending(request["id"]):
                    continue  # gone while an earlier one was being answered
                if not _handle(console, keys, request, ctx, len(waiting) - n):
                    later.add(request["id"])
            if once:
                break
            if not todo:
                if len(waiting) != idle_said:
                    idle_said = len(waiting)
                    extra = f" ({len(waiting)} put off: r shows them)" if waiting else ""
                    console.print(f"[dim]0 pending{extra}[/dim]")
                key = keys.read(IDLE_POLL)
                if key == "q":
                    raise _Quit
                if key == "r" and later:
                    later.clear()
            else:
                idle_said = -1
    except (_Quit, KeyboardInterrupt):
        console.print("\nguard review: stopped")


# --- the scriptable console ---------------------------------------------------------------


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=True, sort_keys=True) + "\n")
    sys.stdout.flush()


def _scripted(ctx: Reviewing, once: bool) -> None:
    """Requests out, answers in, one JSON object a line each.

    Out: `{"request": {...the request..., "suggestions": [patterns], "pending": N}}`.
    In: `{"id": ID, "answer": "once"|"session"|"remember"|"deny", "message": "...",
    "patterns": [...], "scope": "agent"|"all", "expires": "8h"}` (all but id and answer
    optional; remember takes guard's suggestions unless `patterns` is given). A line that
    cannot be used gets `{"error": "..."}` and the request stays open; EOF quits (the request
    shown is denied, saying so).
    """
    from .. import reviewqueue

    while True:
        reviewqueue.sweep()
        waiting = reviewqueue.pending()
        if not waiting:
            if once:
                return
            ready, _, _ = select.select([sys.stdin], [], [], IDLE_POLL)
            if ready and not sys.stdin.readline():
                return
            continue
        request = waiting[0]
        shown = {k: v for k, v in request.items() if k != "digest"}
        shown["suggestions"] = [p for _, p in ctx.suggestions(request)]
        shown["pending"] = len(waiting)
        _emit({"request": shown})
        while reviewqueue.is_pending(request["id"]):
            line = sys.stdin.readline()
            if not line:
                ctx.send(request, False, QUIT_MESSAGE)
                return
            problem = _scripted_answer(ctx, request, line)
            if problem is None:
                _emit({"answered": request["id"]})
                break
            _emit({"error": problem})


def _scripted_answer(ctx: Reviewing, request: dict[str, Any], line: str) -> str | None:
    """Apply one answer line; the problem with it, or None once answered."""
    from .. import remember
    from ..errors import GuardError, PolicyError
    from ..policy import parse_duration
    from ..suggest import pattern_problem

    try:
        data = json.loads(line)
    except ValueError:
        return "not a JSON object"
    if not isinstance(data, dict) or data.get("id") != request["id"]:
        return f"answer the request shown first: {request['id']}"
    kind, message = data.get("answer"), str(data.get("message") or "")[:1000]
    if kind == "deny":
        ctx.send(request, False, message)
    elif kind == "once":
        ctx.send(request, True, message or "approved in guard review")
    elif kind == "session" and not request["irreversible"]:
        ctx.send(request, True, "approved for this session in guard review", scope="session")
    elif kind == "remember":
        suggestions = ctx.suggestions(request)
        if not suggestions:
            return "remember is not offered for this request"
        patterns = data.get("patterns") or [p for _, p in suggestions]
        if not isinstance(patterns, list) or len(patterns) != len(suggestions):
            return f"patterns: one for each of {[p for _, p in suggestions]}"
        for (argv, suggested), pattern in zip(suggestions, patterns, strict=True):
            problem = pattern_problem(ctx.policy, str(pattern), argv, suggested)
            if problem:
                return f"refused: {pattern}: {problem}"
        expires = ""
        if data.get("expires"):
            try:
                seconds = parse_duration(str(data["expires"]), "expires")
            except PolicyError as exc:
                return exc.message
            expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + seconds))
        agents = None if data.get("scope") == "all" else [remember.escape_glob(request["agent"])]
        choice = remember.Choice(
            [str(p) for p in patterns], [a for a, _ in suggestions], agents, expires
        )
        try:
            remember.save(ctx.target(), choice, ctx.reviewer, request["command"])
        except GuardError as exc:
            return f"could not save the rule: {exc.message}"
        ctx.send(
            request,
            True,
            "approved and remembered in guard review",
            scope="remember",
            remembered=" | ".join(choice.patterns),
        )
    else:
        return "answer must be once, session (not for irreversible), remember or deny"
    return None
