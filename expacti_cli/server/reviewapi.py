"""What a reviewer may do at the server: see the queue, answer one request.

Shared by the terminal console (over the Unix socket) and the web console (over HTTP). The
reviewer is named by the server from a reviewer secret or a web login, never by the request;
agent tokens are not reviewer secrets (`Store.reviewer_for`), so an agent cannot answer.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .service import Service
    from .store import Store

ANSWERS = ("once", "session", "remember", "deny")
MAX_MESSAGE = 1000


def shown(request: dict[str, Any], service: Service | None = None) -> dict[str, Any]:
    """A queued request as a console shows it, with what "remember" would whitelist."""
    out = {k: v for k, v in request.items() if k != "digest"}
    if service is not None:
        out["suggestions"] = [p for _, p in service.suggestions(request)]
    return out


def answer(
    store: Store, reviewer: str, body: dict[str, Any], service: Service | None = None
) -> str | None:
    """Apply one answer; the problem with it, or None once answered. "remember" writes the
    suggested allow rule to the server's policy first (`Service.remember`)."""
    review_id, kind = body.get("id"), body.get("answer")
    message = str(body.get("message") or "")[:MAX_MESSAGE]
    if not isinstance(review_id, str) or kind not in ANSWERS:
        return "give an id and an answer: once, session or deny"
    request = next((r for r in store.pending() if r["id"] == review_id), None)
    if request is None:
        return f"request {review_id} is no longer pending"
    if kind == "session" and request["irreversible"]:
        return "approve for this session is not offered for an irreversible command"
    approved = kind != "deny"
    remembered = None
    if kind == "remember":
        from ..errors import GuardError

        if service is None:
            return "remember is not offered here"
        patterns = [p for _, p in service.suggestions(request)]
        try:
            message = service.remember(request, reviewer)
        except GuardError as exc:
            return exc.message
        remembered = " | ".join(patterns)
    if not message:
        message = {"once": "approved by the reviewer", "session": "approved for this session"}.get(
            kind, ""
        )
    scope = kind if kind in ("session", "remember") else "once"
    if not store.answer(review_id, approved, reviewer, message, scope, remembered):
        return f"request {review_id} is no longer pending"
    return None


def handle(store: Store, body: dict[str, Any], service: Service | None = None) -> dict[str, Any]:
    """A reviewer's request on the Unix socket."""
    secret = body.get("secret")
    reviewer = store.reviewer_for(secret) if isinstance(secret, str) else None
    if reviewer is None:
        return {"status": "refused", "error": "not a reviewer secret (guard reviewer add NAME)"}
    store.reviewer_seen(reviewer)
    if body.get("op") == "queue":
        return {
            "status": "ok",
            "reviewer": reviewer,
            "pending": [shown(r, service) for r in store.pending()],
        }
    problem = answer(store, reviewer, body, service)
    if problem:
        return {"status": "error", "error": problem}
    return {"status": "ok", "answered": body["id"]}
