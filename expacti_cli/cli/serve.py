"""`guard serve` (the decision point as its own user) and `guard reviewer` (its reviewers)."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from . import CONTEXT


def _default_db() -> str:
    from .. import paths

    return os.path.join(paths.state_dir(), "server", "guard.db")


def db_option(f: Any) -> Any:
    return click.option(
        "--db",
        envvar="GUARD_SERVER_DB",
        metavar="PATH|URL",
        help="SQLite file (default: server/guard.db in the state dir) or postgresql://...",
    )(f)


def _store(db: str | None) -> Any:
    from ..server.store import open_store

    return open_store(db or _default_db())


@click.group(context_settings=CONTEXT, invoke_without_command=True)
@click.option("--socket", "socket_path", metavar="PATH", help="The agents' Unix socket.")
@click.option(
    "--listen",
    metavar="HOST:PORT",
    help="Serve the web reviewer console (and agents over TLS) here.",
)
@click.option("--cert", type=click.Path(dir_okay=False), help="TLS certificate (PEM).")
@click.option("--key", type=click.Path(dir_okay=False), help="TLS private key (PEM).")
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(),
    envvar="GUARD_POLICY",
    metavar="FILE",
    help="The server's policy (default: policy.toml in its config dir).",
)
@click.option(
    "--console-grace",
    type=click.FloatRange(0.5, 3600),
    metavar="SECONDS",
    default=10.0,
    show_default=True,
    help="Seconds a reviewer console counts as connected after it last looked at the queue; "
    "with none connected a review gets the policy's when_no_reviewer at once.",
)
@click.option(
    "--syslog",
    metavar="PATH|HOST:PORT",
    help="Also send each audit entry to syslog (e.g. /dev/log, which journald reads).",
)
@db_option
@click.pass_context
def serve(
    ctx: click.Context,
    socket_path: str | None,
    listen: str | None,
    cert: str | None,
    key: str | None,
    policy_path: str | None,
    console_grace: float,
    syslog: str | None,
    db: str | None,
) -> None:
    """Run the decision point: agents ask it over a Unix socket, reviewers answer in a web
    console; it alone holds the policy, audit chain, agents and review queue.

    \b
    guard serve --socket /run/guard/guard.sock
    guard serve --socket S --listen 127.0.0.1:8377            (web console, loopback only)
    guard serve --socket S --listen 0.0.0.0:8443 --cert C --key K --db postgresql://...
    guard serve agent add NAME --user UNIXUSER                 (map a Unix user to an agent)
    guard serve export --out chain.jsonl && guard audit verify --audit-log chain.jsonl

    Agents run with GUARD_SERVER=unix:PATH, or https://HOST:PORT (with --listen and TLS,
    their GUARD_AGENT_TOKEN as identity). SIGHUP reloads the policy (so does any change to
    its files, checked every second); SIGTERM stops.
    """
    if ctx.invoked_subcommand is not None:
        ctx.ensure_object(dict)["db"] = db
        return
    from ..errors import UsageError
    from ..server import runner

    if not socket_path and not listen:
        raise UsageError("give --socket PATH (and/or --listen HOST:PORT)")
    runner.run(
        socket_path, listen, cert, key, policy_path, db or _default_db(), console_grace, syslog
    )


def _db(ctx: click.Context, db: str | None) -> str | None:
    return db or (ctx.obj or {}).get("db")


@serve.group("agent", context_settings=CONTEXT)
def serve_agent() -> None:
    """The server's agents: which Unix users act as which agent, tokens, revocation."""


@serve_agent.command("add")
@click.argument("name")
@click.option("--user", "users", multiple=True, required=True, help="Unix user(s) of the agent.")
@click.option("--rotate", is_flag=True, help="Give an existing agent a new token.")
@db_option
@click.pass_context
def agent_add(
    ctx: click.Context, name: str, users: tuple[str, ...], rotate: bool, db: str | None
) -> None:
    """Map Unix USER to agent NAME and issue its token (shown once)."""
    import pwd

    from ..errors import UsageError

    for user in users:
        try:
            pwd.getpwnam(user)
        except KeyError:
            raise UsageError(f"no Unix user named {user!r}") from None
    token = _store(_db(ctx, db)).add_agent(name, list(users), rotate=rotate)
    click.echo(f"agent {name} (Unix user {', '.join(users)}) added. Its token (shown once):")
    click.echo(token)


@serve_agent.command("revoke")
@click.argument("name")
@db_option
@click.pass_context
def agent_revoke(ctx: click.Context, name: str, db: str | None) -> None:
    """Shut NAME out from its next request on."""
    _store(_db(ctx, db)).set_agent_status(name, "revoked")
    click.echo(f"agent {name} revoked")


@serve_agent.command("enable")
@click.argument("name")
@db_option
@click.pass_context
def agent_enable(ctx: click.Context, name: str, db: str | None) -> None:
    """Let the revoked agent NAME in again."""
    _store(_db(ctx, db)).set_agent_status(name, "active")
    click.echo(f"agent {name} enabled")


@serve_agent.command("list")
@db_option
@click.pass_context
def agent_list(ctx: click.Context, db: str | None) -> None:
    """Agents, their Unix users and status."""
    for name, users, _, status in _store(_db(ctx, db)).agents():
        click.echo(f"{name}\t{','.join(users)}\t{status}")


@serve.command("export")
@click.option("--out", type=click.Path(dir_okay=False), help="Write here (default: stdout).")
@db_option
@click.pass_context
def export(ctx: click.Context, out: str | None, db: str | None) -> None:
    """The server's audit chain as audit-log JSON lines (`guard audit verify` reads them)."""
    store = _store(_db(ctx, db))
    if out is None:
        store.export(sys.stdout)
        return
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        count = store.export(f)
    click.echo(f"{count} entries written to {out}", err=True)


@serve.command("verify")
@db_option
@click.pass_context
def verify(ctx: click.Context, db: str | None) -> None:
    """Verify the server's audit chain (as `guard audit verify` does a log)."""
    import tempfile

    from .. import auditverify

    store = _store(_db(ctx, db))
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "chain.jsonl")
        with open(path, "w", encoding="ascii") as f:
            store.export(f)
        result = auditverify.verify(path)
        click.echo(auditverify.describe(result).replace(path, "the server's chain"))
        problem = auditverify.failure(result)
    if problem is not None:
        raise problem


@click.group(context_settings=CONTEXT)
def reviewer() -> None:
    """Reviewers of `guard serve`: they answer reviews in its consoles (not agents)."""


@reviewer.command("add")
@click.argument("name")
@click.option("--rotate", is_flag=True, help="Give an existing reviewer a new secret.")
@db_option
def reviewer_add(name: str, rotate: bool, db: str | None) -> None:
    """Issue reviewer NAME's secret (shown once): the web console's login and
    GUARD_REVIEWER_SECRET for `guard review --server`."""
    secret = _store(db).add_reviewer(name, rotate=rotate)
    click.echo(f"reviewer {name} added. Their secret (shown once):")
    click.echo(secret)


# --- guard review --server: the terminal console against guard serve -----------------------


class _ServerConsole:
    """The reviewer's side of the server's socket: queue and answers, as reviewer `secret`."""

    def __init__(self, server: str, secret: str) -> None:
        self.server, self.secret = server, secret

    def _call(self, body: dict[str, Any]) -> dict[str, Any]:
        from .. import client
        from ..errors import Denied, GuardError

        try:
            answer = client.call(self.server, {**body, "secret": self.secret})
        except client.Unreachable as exc:
            raise GuardError(str(exc)) from None
        if answer.get("status") == "refused":
            raise Denied(f"the guard server refused: {answer.get('error')}")
        return answer

    def pending(self) -> list[dict[str, Any]]:
        return list(self._call({"op": "queue"}).get("pending") or [])

    def answer(self, review_id: str, kind: str, message: str = "") -> str | None:
        """Send one answer; the server's objection, or None once it is recorded."""
        reply = self._call({"op": "answer", "id": review_id, "answer": kind, "message": message})
        return None if reply.get("status") == "ok" else str(reply.get("error"))


def review_against_server(server: str, once: bool, script: bool) -> None:
    """`guard review --server URL`: answer the server's queue from this terminal (or script).
    The reviewer secret comes from GUARD_REVIEWER_SECRET or a hidden prompt, never argv."""
    from ..errors import UsageError

    secret = os.environ.get("GUARD_REVIEWER_SECRET", "")
    if not secret and not script and sys.stdin.isatty():
        secret = click.prompt("reviewer secret", hide_input=True, err=True)
    if not secret:
        raise UsageError("give the reviewer secret in GUARD_REVIEWER_SECRET")
    console = _ServerConsole(server, secret.strip())
    console.pending()  # refused at once if the secret is not a reviewer's
    if script:
        _scripted_server(console, once)
    else:
        _terminal_server(console, server, once)


def _scripted_server(console: _ServerConsole, once: bool) -> None:
    """Requests out and answers in, one JSON object a line (as `guard review --script`):
    in: `{"id": ID, "answer": "once"|"session"|"remember"|"deny", "message": "..."}`."""
    import json
    import select
    import time

    shown: set[str] = set()
    while True:
        waiting = [r for r in console.pending() if r["id"] not in shown]
        for request in waiting:
            shown.add(request["id"])
            print(json.dumps({"request": request}, sort_keys=True), flush=True)
        if once and not waiting:
            return
        ready, _, _ = select.select([sys.stdin], [], [], 0.3)
        if not ready:
            continue
        line = sys.stdin.readline()
        if not line:
            return
        try:
            data = json.loads(line)
            problem = console.answer(
                str(data["id"]), str(data["answer"]), str(data.get("message") or "")
            )
        except (ValueError, KeyError, TypeError):
            problem = 'give {"id": ..., "answer": "once"|"session"|"deny"}'
        out = {"error": problem} if problem else {"answered": data["id"]}
        print(json.dumps(out, sort_keys=True), flush=True)
        time.sleep(0)


def _terminal_server(console: _ServerConsole, server: str, once: bool) -> None:
    import time

    from rich.console import Console

    from .. import prompt
    from .review import IDLE_POLL, _as_objects, _Keys, _Quit, _reason

    screen = Console(highlight=False, soft_wrap=True)
    keys = _Keys(sys.stdin.fileno())
    screen.print(f"guard review: answering the queue of {server} (q or Ctrl-C to quit)")
    later: set[str] = set()
    try:
        while True:
            todo = [r for r in console.pending() if r["id"] not in later]
            for request in todo:
                req, decision = _as_objects(request)
                prompt.render(
                    screen,
                    req,
                    decision,
                    request["recent"],
                    float(max(round(request["deadline"] - time.time()), 0)),
                )
                screen.print(f"[dim]Unix user {request.get('user')}, pid {request['pid']}[/dim]")
                if not _answer_one(console, screen, keys, request, _reason):
                    later.add(request["id"])
            if once:
                return
            if not todo and keys.read(IDLE_POLL) == "q":
                raise _Quit
    except (_Quit, KeyboardInterrupt):
        screen.print("\nguard review: stopped")


def _answer_one(
    console: _ServerConsole, screen: Any, keys: Any, request: dict[str, Any], reason: Any
) -> bool:
    """One request's keys; False if it was put off (l)."""
    import time

    from .. import prompt
    from .review import _Quit

    session = not request["irreversible"]
    remember = bool(request.get("suggestions"))
    if remember:
        screen.print(
            f"[dim]a remembers, for agent {request['agent']}: "
            f"{' | '.join(request['suggestions'])}[/dim]"
        )
    screen.print(
        "[bold]y[/] approve once"
        + (" · [bold]s[/] approve for this session" if session else "")
        + (" · [bold]a[/] approve and remember" if remember else "")
        + " · [bold]f[/] whole command · [bold]n[/] deny · [bold]l[/] later"
        " · [bold]q[/] quit ? ",
        end="",
    )
    checked = time.monotonic()
    while True:
        key = keys.read(0.2, flush=True)
        if key is None:
            if time.monotonic() - checked > 1:
                checked = time.monotonic()
                if request["id"] not in {r["id"] for r in console.pending()}:
                    screen.print("\n[dim]no longer pending[/dim]")
                    return True
            continue
        if key == "q":
            raise _Quit
        if key == "l":
            screen.print("l")
            return False
        if key == "f":
            prompt.show_full(screen, request["command"])
            continue
        if key in ("y", "s", "a", "n") and (key != "s" or session) and (key != "a" or remember):
            screen.print(key)
            message = ""
            if key == "n":
                screen.print("reason for the agent (optional, Enter to skip): ", end="")
                message = prompt.visible(reason(keys.fd, request["deadline"]))[:1000]
            kind = {"y": "once", "s": "session", "a": "remember", "n": "deny"}[key]
            problem = console.answer(request["id"], kind, message)
            screen.print(f"[red]{problem}[/red]" if problem else f"[green]{kind}: sent[/green]")
            return True
