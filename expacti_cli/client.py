"""Client mode: `GUARD_SERVER=unix:PATH` sends the request to `guard serve` and obeys.

The program still runs as the agent, through exec, exactly as in local mode; only the
decision (and its audit line) moves to the server. Fail closed: a server that cannot be
reached, answers garbage, or is silent past its budget is a denial (exit 77) with one line
that names the server and what went wrong. Budgets: `GUARD_SERVER_TIMEOUT` (default 5 s) for
the decision; once the server says a human is being asked, the review timeout it announces
plus that budget.

Hot path: `entry` picks this module before the local pipeline (`gate`) is imported; it loads
`_socket` (not `socket`, which imports `enum`) and `protocol` (no `json`; an allowed answer is
compared as bytes, not parsed). Every module costs ~0.1 ms before the request can leave, so
the client is not part of the `server` package (whose `__init__` would load first), and the
request record lives in `entry`. `execute` is imported once the request is sent, while the
server decides; `errors` only on a path that fails. Like `entry` and `protocol`, this module
does without `from __future__ import annotations` (importing `__future__` is ~0.1 ms):
annotations naming types that exist only for the type checker are quoted.
"""

import _socket
import os
import sys
import time

from . import protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .entry import Request

DEFAULT_BUDGET = 5.0


class Unreachable(Exception):
    """The server gave no usable answer; the message says why (one line)."""


def _budget() -> float:
    raw = os.environ.get("GUARD_SERVER_TIMEOUT", "")
    if not raw:
        return DEFAULT_BUDGET
    try:
        value = float(raw.removesuffix("s"))
    except ValueError:
        raise Unreachable(f"GUARD_SERVER_TIMEOUT={raw!r} is not a number of seconds") from None
    if not 0 < value <= 3600:
        raise Unreachable(f"GUARD_SERVER_TIMEOUT={raw!r} is out of range (0-3600 s)")
    return value


def socket_path(server: str) -> str:
    """The socket path of `unix:PATH`; raises Unreachable for any other form."""
    if server.startswith("unix:") and len(server) > 5:
        return server[5:]
    raise Unreachable(f"GUARD_SERVER={server!r} is not unix:PATH or https://HOST:PORT")


class _HttpStream:
    """An HTTP response body read like a socket (`_answer` reads lines from either)."""

    def __init__(self, conn: "Any", response: "Any") -> None:
        self.conn, self.response = conn, response

    def recv(self, n: int) -> bytes:
        return bytes(self.response.read1(n))

    def settimeout(self, seconds: float) -> None:
        self.conn.sock.settimeout(seconds)


def _ask_https(
    server: str, request: "dict[str, Any]", budget: float, on_pending: "Any"
) -> "dict[str, Any]":
    """The request over TLS (`GUARD_SERVER=https://HOST:PORT`): the agent's token is its
    identity; the server's certificate is checked against the system's CAs, or the file in
    GUARD_SERVER_CA. Loads `ssl` and `http.client`, so only in this mode."""
    import http.client
    import ssl

    host, _, port = server[len("https://") :].rstrip("/").rpartition(":")
    if not host or not port.isdigit():
        raise Unreachable(f"GUARD_SERVER={server!r}: give https://HOST:PORT")
    token = request.get("token")
    if not token:
        raise Unreachable(f"the guard server at {server} needs the agent's GUARD_AGENT_TOKEN")
    try:
        context = ssl.create_default_context(cafile=os.environ.get("GUARD_SERVER_CA") or None)
    except (OSError, ssl.SSLError) as exc:
        raise Unreachable(f"GUARD_SERVER_CA cannot be used: {exc}") from None
    conn = http.client.HTTPSConnection(host.strip("[]"), int(port), context=context, timeout=budget)
    body = protocol.encode({k: v for k, v in request.items() if k != "token"})
    try:
        try:
            conn.request(
                "POST",
                "/api/decide",
                body=body,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Content-Type": "application/x-ndjson",
                },
            )
            response = conn.getresponse()
        except (OSError, http.client.HTTPException) as exc:
            raise Unreachable(f"cannot reach the guard server at {server}: {exc}") from None
        if response.status != 200:
            raise Unreachable(f"the guard server at {server} answered HTTP {response.status}")
        return _answer(_HttpStream(conn, response), server, budget, on_pending)
    finally:
        conn.close()


def _request(req: "Request") -> "dict[str, Any]":
    return {
        "op": "decide",
        "mode": req.mode,
        "argv": req.argv,
        "line": req.line,
        "shell_argv": req.shell_argv,
        "cwd": req.cwd,
        "agent": None if req.agent == "anonymous" else req.agent,
        "token": req.token,
        "session": req.session,
        # What the analysis reads of the agent's environment (service.ANALYSIS_ENV).
        "env": {k: v for k in ("HOME", "CDPATH") if (v := os.environ.get(k)) is not None},
    }


def ask(
    server: str, request: "dict[str, Any]", on_pending: "Any" = None, locate: "Any" = None
) -> "dict[str, Any]":
    """Send one request, return the final answer. Raises Unreachable (fail closed).

    `locate()` returns the program's path (or None): on the socket it is called once the
    request is sent, and its answer follows as a line of its own (`program_follows`), so the
    PATH search runs while the server decides; over TLS it is part of the request."""
    request = {"v": protocol.VERSION, **request}
    budget = _budget()
    if server.startswith("https://"):
        if locate is not None:
            request["program"] = locate()
        return _ask_https(server, request, budget, on_pending)
    path = socket_path(server)
    if locate is not None:
        request["program_follows"] = True
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(budget)
        try:
            sock.connect(path)
            sock.sendall(protocol.encode(request))
        except OSError as exc:
            raise Unreachable(f"cannot reach the guard server at {path}: {_why(exc)}") from None
        if locate is not None:
            try:
                sock.sendall(protocol.encode({"program": locate()}))
            except OSError:
                pass  # answered already (a refusal, an older server): the answer says so
        return _answer(sock, path, budget, on_pending)
    finally:
        sock.close()


def call(server: str, body: "dict[str, Any]") -> "dict[str, Any]":
    """One request, one JSON answer (the reviewers' operations). Raises Unreachable."""
    path = socket_path(server)
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(_budget())
        try:
            sock.connect(path)
            sock.sendall(protocol.encode(body))
            line = protocol.read_line(sock.recv, bytearray())
        except OSError as exc:
            raise Unreachable(f"cannot reach the guard server at {path}: {_why(exc)}") from None
        except protocol.ProtocolError as exc:
            raise Unreachable(f"the guard server at {path} answered garbage ({exc})") from None
        if line is None:
            raise Unreachable(f"the guard server at {path} closed the connection")
        try:
            return protocol.decode(line)
        except protocol.ProtocolError as exc:
            raise Unreachable(f"the guard server at {path} answered garbage ({exc})") from None
    finally:
        sock.close()


def _why(exc: Exception) -> str:
    if isinstance(exc, TimeoutError) or "timed out" in str(exc):
        return "no answer within its budget (GUARD_SERVER_TIMEOUT)"
    return getattr(exc, "strerror", None) or str(exc)


def _answer(sock: "Any", path: str, budget: float, on_pending: "Any") -> "dict[str, Any]":
    buffer = bytearray()
    while True:
        try:
            line = protocol.read_line(sock.recv, buffer)
        except ConnectionResetError:  # closed before it read all we sent (the program line)
            line = None
        except (OSError, ValueError) as exc:  # ValueError: http.client on a broken stream
            raise Unreachable(f"the guard server at {path} failed: {_why(exc)}") from None
        except protocol.ProtocolError as exc:
            raise Unreachable(f"the guard server at {path} answered garbage ({exc})") from None
        if line is None:
            raise Unreachable(
                f"the guard server at {path} closed the connection without a decision"
            )
        if line == protocol.ALLOWED:
            return {"status": "done", "decision": "allowed"}
        try:
            answer = protocol.decode(line)
        except protocol.ProtocolError as exc:
            raise Unreachable(f"the guard server at {path} answered garbage ({exc})") from None
        status = answer.get("status")
        if status == "done" and answer.get("decision") in ("allowed", "approved", "denied"):
            return answer
        if status == "pending" and isinstance(answer.get("timeout"), (int, float)):
            sock.settimeout(float(answer["timeout"]) + budget)
            if on_pending is not None:
                on_pending(answer)
            continue
        raise Unreachable(f"the guard server at {path} answered garbage (no decision in it)")


def _deny(req: "Request", why: str) -> int:
    what = req.command if len(req.command) <= 200 else req.command[:197] + "..."
    line = f"guard: denied: {what} ({why}) - nothing was run; a human should check the server"
    if not line.isprintable():
        line = "".join(c if c.isprintable() else repr(c)[1:-1] for c in line)
    sys.stderr.write(line + "\n")
    from .errors import ExitCode

    return ExitCode.NOPERM


def _pending(answer: "dict[str, Any]") -> None:
    sys.stderr.write(
        f"guard: waiting for a reviewer at the guard server (timeout {answer['timeout']:g}s)\n"
    )
    sys.stderr.flush()


def run(req: "Request") -> int:
    """Client mode's `gate.run`: ask the server, then exec the program or deny (exit 77)."""
    found: list[Any] = [None, None]  # the program, or the error finding it

    def locate() -> str | None:
        """The program, for the server's record (asked about even if absent)."""
        from . import execute

        try:
            found[0] = execute.which(
                req.argv[0] if req.line is None else req.shell_argv[0],
                skip_shims=req.line is None,
            )
        except Exception as exc:  # errors.py loads only once something was raised
            from .errors import GuardError

            if not isinstance(exc, GuardError):
                raise
            found[1] = exc
        return found[0]  # type: ignore[no-any-return]

    started = time.monotonic()
    try:
        answer = ask(os.environ["GUARD_SERVER"], _request(req), _pending, locate)
    except Unreachable as exc:
        return _deny(req, f"{exc}; {time.monotonic() - started:.1f}s")
    program, missing = found
    if answer["decision"] == "denied":
        message = str(answer.get("message") or "denied by the guard server")
        if not message.isprintable():
            message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in message)
        sys.stderr.write(message + "\n")
        from .errors import ExitCode

        return ExitCode.NOPERM
    if missing is not None or program is None:
        from .errors import ExitCode

        message = missing.message if missing else "guard: the program is not there"
        sys.stderr.write(message if message.startswith("guard:") else f"guard: {message}")
        sys.stderr.write("\n")
        return missing.exit_code if missing else ExitCode.NOT_FOUND
    from . import execute

    argv = req.argv if req.line is None else req.shell_argv
    try:
        execute.exec_program(program, argv)
    except Exception as exc:  # exec returns only by raising
        from .errors import GuardError

        if not isinstance(exc, GuardError):
            raise
        sys.stderr.write(f"{exc.message}\n")
        return exc.exit_code
    from .errors import ExitCode

    return ExitCode.SOFTWARE  # pragma: no cover - exec does not return
