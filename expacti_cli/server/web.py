"""The web reviewer console of `guard serve` (Starlette; uvicorn serves it).

Reviewers log in with their reviewer secret (`guard reviewer add NAME`); the server keeps only
its digest and answers with a session cookie (HttpOnly, SameSite=Strict, Secure under TLS).
Agent tokens are not reviewer secrets: an agent cannot log in, so it cannot answer its own
review. Every answer records the reviewer the login belongs to, never a name the page sends.
State-changing calls need the `X-Guard-Console` header, which a cross-site form cannot send.

The page (console.html) draws agent-controlled text with `textContent` only.
"""

from __future__ import annotations

import json
import os
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from . import reviewapi
from .service import Service

COOKIE = "guard_console"
HEADER = "x-guard-console"
HISTORY = 50


async def _body(request: Request, limit: int) -> bytes:
    """The request body, at most `limit` bytes read (the rest is never buffered: anyone who
    can reach the port may send, before any secret is checked)."""
    data = bytearray()
    async for chunk in request.stream():
        data.extend(chunk[: limit - len(data)])
        if len(data) >= limit:
            break
    return bytes(data)


def _page() -> str:
    with open(os.path.join(os.path.dirname(__file__), "console.html"), encoding="utf-8") as f:
        return f.read()


def app(service: Service, *, secure: bool) -> Starlette:
    console = _Console(service, secure)
    return Starlette(
        routes=[
            Route("/", console.index),
            Route("/report", console.report),
            Route("/api/decide", console.decide, methods=["POST"]),
            Route("/login", console.login, methods=["POST"]),
            Route("/logout", console.logout, methods=["POST"]),
            Route("/api/queue", console.queue),
            Route("/api/answer", console.answer, methods=["POST"]),
            Route("/api/audit", console.history),
        ]
    )


def _refused() -> Response:
    return JSONResponse({"error": "log in with a reviewer secret"}, status_code=401)


class _Console:
    """The routes, one method each, over one server's service and store."""

    def __init__(self, service: Service, secure: bool) -> None:
        self.service = service
        self.store = service.store
        self.secure = secure
        self.page = _page()

    def reviewer(self, request: Request) -> str | None:
        login = request.cookies.get(COOKIE)
        return self.store.login_reviewer(login) if login else None

    async def index(self, request: Request) -> Response:
        return HTMLResponse(
            self.page, headers={"Content-Security-Policy": _CSP, "Cache-Control": "no-store"}
        )

    async def login(self, request: Request) -> Response:
        from urllib.parse import parse_qs

        body = (await _body(request, 4096)).decode("utf-8", "replace")
        secret = (parse_qs(body).get("secret") or [""])[0]
        name = self.store.reviewer_for(secret.strip())
        if name is None:
            return RedirectResponse("/?refused=1", status_code=303)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            COOKIE,
            self.store.new_login(name),
            httponly=True,
            samesite="strict",
            secure=self.secure,
            max_age=12 * 3600,
        )
        return response

    async def logout(self, request: Request) -> Response:
        response = RedirectResponse("/", status_code=303)
        response.delete_cookie(COOKIE)
        return response

    async def queue(self, request: Request) -> Response:
        """The pending reviews. `?wait=V`: first wait (up to LONG_POLL s) until the queue's
        version differs from V, so the page updates the moment a review arrives or goes."""
        from starlette.concurrency import run_in_threadpool

        name = self.reviewer(request)
        if name is None:
            return _refused()
        store = self.store
        store.reviewer_seen(name)
        wait = request.query_params.get("wait", "")
        version = store.wait_change(-1, 0)
        if wait.lstrip("-").isdigit() and int(wait) == version:
            # Short enough that a waiting console still counts as connected (--console-grace).
            timeout = min(store.long_poll, self.service.console_grace / 2)
            version = await run_in_threadpool(store.wait_change, version, timeout)
        pending = [reviewapi.shown(r, self.service) for r in store.pending()]
        return JSONResponse({"reviewer": name, "version": version, "pending": pending})

    async def answer(self, request: Request) -> Response:
        from starlette.concurrency import run_in_threadpool

        name = self.reviewer(request)
        if name is None:
            return _refused()
        if request.headers.get(HEADER) != "1":
            return JSONResponse({"error": "missing the console header"}, status_code=403)
        try:
            body = json.loads(await _body(request, 64 * 1024))
        except ValueError:
            return JSONResponse({"error": "not JSON"}, status_code=400)
        if not isinstance(body, dict):
            return JSONResponse({"error": "not a JSON object"}, status_code=400)
        problem = await run_in_threadpool(reviewapi.answer, self.store, name, body, self.service)
        if problem:
            return JSONResponse({"error": problem}, status_code=409)
        return JSONResponse({"answered": body["id"], "reviewer": name})

    async def history(self, request: Request) -> Response:
        if self.reviewer(request) is None:
            return _refused()
        text = request.query_params.get("q", "").lower()
        rows = self.store.recent(HISTORY * (10 if text else 1))
        entries = [json.loads(line) for line in rows]
        if text:
            entries = [e for e in entries if text in json.dumps(e).lower()][:HISTORY]
        return JSONResponse({"entries": entries})

    async def decide(self, request: Request) -> Response:
        """An agent's request over TLS: its token (Authorization: Bearer) is its identity.
        The answer streams as the socket's does: a `pending` line while a human is asked,
        then the decision; a client that goes away stops the wait."""
        from .. import protocol
        from .service import Peer

        auth = request.headers.get("authorization", "")
        raw = await _body(request, protocol.MAX_LINE)
        try:
            body = protocol.decode(raw)
        except protocol.ProtocolError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        body["token"] = auth[7:].strip() if auth[:7].lower() == "bearer " else None
        peer = Peer(0, -1, remote=request.client.host if request.client else "?")
        return _streamed(self.service, peer, body)

    def report(self, request: Request) -> Response:
        """The compliance report of the whole chain (`guard audit report --format html`)."""
        import tempfile

        from .. import auditreport

        if self.reviewer(request) is None:
            return RedirectResponse("/", status_code=303)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "chain.jsonl")
            with open(path, "w", encoding="ascii") as f:
                self.store.export(f)
            text = auditreport.report(path, fmt="html").replace(path, "the server's chain")
        return HTMLResponse(text, headers={"Cache-Control": "no-store"})


def _streamed(service: Service, peer: Any, body: dict[str, Any]) -> Response:
    """The decision as a stream of protocol lines, decided in a thread of its own (a review
    may wait minutes); the client going away ends the wait."""
    import asyncio
    import threading

    from starlette.responses import StreamingResponse

    from .. import protocol

    loop, lines = asyncio.get_running_loop(), asyncio.Queue[bytes | None]()
    gone = threading.Event()

    def pending(message: dict[str, Any]) -> bool:
        if message:
            loop.call_soon_threadsafe(lines.put_nowait, protocol.encode(message))
        return not gone.is_set()

    def work() -> None:
        answer = service.decide(peer, body, pending)
        loop.call_soon_threadsafe(lines.put_nowait, protocol.encode(answer))
        loop.call_soon_threadsafe(lines.put_nowait, None)

    async def stream() -> Any:
        try:
            while (line := await lines.get()) is not None:
                yield line
        finally:
            gone.set()

    threading.Thread(target=work, daemon=True).start()
    return StreamingResponse(stream(), media_type="application/x-ndjson")


_CSP = "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'"
