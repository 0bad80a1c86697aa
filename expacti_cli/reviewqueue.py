"""The queue between agents with no terminal and the reviewer console (`guard review`).

Files under `paths.review_dir()`:

- `requests/<id>.json`: written by an agent's guard (atomically: temp file + `os.replace`),
  removed by the same guard when it has its answer or gives up (`withdraw`).
- `answers/<id>.json`: written by the console: `{"id", "approved", "reviewer", "message",
  "digest", "scope", "remembered"}`, where `digest` is the SHA-256 of the request file the
  reviewer saw, `scope` what the approval covers (`once`, `session`: the agent's guard records
  the session grant, `remember`: the console wrote `remembered` to its policy).
- `console.lock`: the console holds an exclusive `flock` on it while it runs. A console is
  reachable iff that lock is held; an agent probes it with a non-blocking shared lock.

Fail closed: a request that cannot be read or validated is never shown; an answer that cannot
be read or validated, or that approves a request other than the one this process wrote (the
file was replaced after it was submitted), is a denial. Directories are 0o700 and files 0o600,
unless an administrator made the directory group-accessible (a separate Unix user for the
agent): then files are group-readable too, so the other side can read them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import time

from . import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

REQUESTS = "requests"
ANSWERS = "answers"
LOCK = "console.lock"
POLL = 0.1  # seconds between looks at the answer file
CONSOLE_GRACE = 2.0  # seconds the console may be gone (restarting) before an agent gives up
MAX_BYTES = 1 << 20  # a request or answer larger than this is not read
VERDICTS = ("allow", "review", "deny")
SCOPES = ("once", "session", "remember")  # what an approval covers (answer's "scope")

# id -> SHA-256 of the request file this process submitted; an answer must name the same one.
_submitted: dict[str, str] = {}


def _dir(kind: str) -> str:
    return os.path.join(paths.review_dir(), kind)


def _ensure(kind: str) -> str:
    """Create the review dir and one of its subdirectories, both 0o700 (makedirs would give
    the review dir the umask's mode)."""
    paths.ensure_dir(paths.review_dir())
    return paths.ensure_dir(_dir(kind))


def lock_path() -> str:
    return os.path.join(paths.review_dir(), LOCK)


def valid_id(request_id: object) -> bool:
    """Ids are lowercase hex: they name files, so nothing else (no `/`, no `..`) is accepted."""
    return (
        isinstance(request_id, str)
        and 16 <= len(request_id) <= 64
        and all(c in "0123456789abcdef" for c in request_id)
    )


def new_id() -> str:
    return f"{int(time.time() * 1000):012x}{os.urandom(8).hex()}"


def _file_mode(directory: str) -> int:
    try:
        shared = os.stat(directory).st_mode & 0o070
    except OSError:
        shared = 0
    return 0o640 if shared else 0o600


def _atomic_write(directory: str, name: str, data: bytes) -> None:
    tmp = os.path.join(directory, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        try:
            os.fchmod(fd, _file_mode(directory))
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, os.path.join(directory, name))
    except BaseException:
        _unlink(tmp)
        raise


def _unlink(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)


def _read(path: str) -> bytes | None:
    """A small regular file's bytes, never following a symlink; None if unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except OSError:
        return None
    return data if len(data) <= MAX_BYTES else None


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the console's side of the lock ------------------------------------------------------


def console_live() -> bool:
    """Is a reviewer console running (holding the lock)? Never raises; False when unsure."""
    try:
        fd = os.open(lock_path(), os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    finally:
        os.close(fd)  # closing releases a lock we got
    return False


class ConsoleBusy(Exception):
    """Another console holds the lock; `pid` is what it wrote there (may be empty)."""

    def __init__(self, pid: str) -> None:
        super().__init__(pid)
        self.pid = pid


def hold_console_lock(wait: float = 1.0) -> int:
    """Take the console lock for this process; return the fd (close it to release).

    Agents probing liveness hold a shared lock for a moment, so retry briefly before deciding
    that another console runs. Raises ConsoleBusy, or OSError if the directory is unusable.
    """
    for kind in (REQUESTS, ANSWERS):
        _ensure(kind)
    path = lock_path()
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    # Agents must be able to open it; if it is not ours, whoever set the deployment up chose.
    with contextlib.suppress(OSError):
        os.fchmod(fd, _file_mode(paths.review_dir()))
    give_up = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() >= give_up:
                try:
                    pid = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
                finally:
                    os.close(fd)
                raise ConsoleBusy(pid) from None
            time.sleep(0.05)
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


# --- the agent's side ----------------------------------------------------------------------


def request_for(req: Any, decision: Any, recent: list[Any], deadline: float) -> dict[str, Any]:
    """The request an agent submits, from a gate `Request` and its `Decision`."""
    return {
        "id": new_id(),
        "ts": time.time(),
        "agent": req.agent,
        "session": req.session,
        "cwd": req.cwd,
        "command": req.command,
        "argv": list(req.argv),
        "rule": decision.rule,
        "reason": decision.reason,
        "irreversible": bool(decision.irreversible),
        "anomalies": list(decision.anomalies),
        "parts": [
            {
                "text": p.text or " ".join(p.argv),
                "argv": list(p.argv),
                "verdict": p.verdict,
                "rule": p.rule,
                "reason": p.reason,
                "irreversible": bool(p.irreversible),
            }
            for p in decision.parts
        ],
        "recent": [[float(w), str(c), str(v)] for w, c, v in recent],
        "pid": os.getpid(),
        "deadline": float(deadline),
    }


def submit(request: dict[str, Any]) -> str:
    """Queue a request for the console; return its id. Raises ValueError or OSError."""
    problem = _request_problem(request)
    if problem:
        raise ValueError(f"invalid review request: {problem}")
    directory = _ensure(REQUESTS)
    data = json.dumps(request, ensure_ascii=True, sort_keys=True).encode("ascii")
    request_id = request["id"]
    _atomic_write(directory, f"{request_id}.json", data)
    _submitted[request_id] = digest(data)
    return str(request_id)


def wait_answer(request_id: str, deadline: float) -> dict[str, Any] | None:
    """The console's answer, or None at `deadline` (epoch seconds) or when the console has
    been gone for more than CONSOLE_GRACE seconds. An answer that cannot be trusted is a
    denial: `{"approved": False, "reviewer": None, "message": <why>}`."""
    path = os.path.join(_dir(ANSWERS), f"{request_id}.json")
    last_live = time.monotonic()
    while True:
        if os.path.lexists(path):
            return _check_answer(request_id, _read(path))
        now = time.time()
        if now >= deadline:
            return None
        if console_live():
            last_live = time.monotonic()
        elif time.monotonic() - last_live > CONSOLE_GRACE:
            return None
        time.sleep(min(POLL, max(deadline - now, 0.0)))


def _check_answer(request_id: str, data: bytes | None) -> dict[str, Any]:
    def refused(why: str) -> dict[str, Any]:
        return {"approved": False, "reviewer": None, "message": f"{why}; denied (fail closed)"}

    if data is None:
        return refused("the reviewer console's answer could not be read")
    try:
        answer = json.loads(data)
    except ValueError:
        return refused("the reviewer console's answer is not valid JSON")
    if not (
        isinstance(answer, dict)
        and answer.get("id") == request_id
        and isinstance(answer.get("approved"), bool)
        and isinstance(answer.get("reviewer"), str)
        and isinstance(answer.get("message"), str)
        and isinstance(answer.get("digest"), str)
    ):
        return refused("the reviewer console's answer is malformed")
    expected = _submitted.get(request_id)
    if answer["approved"] and answer["digest"] != expected:
        return refused("the request was changed after it was submitted")
    scope = answer.get("scope", "once")
    remembered = answer.get("remembered", "")
    if scope not in SCOPES or not isinstance(remembered, str):
        return refused("the reviewer console's answer is malformed")
    return {
        "approved": answer["approved"],
        "reviewer": answer["reviewer"][:200],
        "message": answer["message"][:1000],
        "scope": scope,
        "remembered": remembered[:2000],
    }


def withdraw(request_id: str) -> None:
    """Remove a request (answered, timed out, or the agent gave up). Never raises."""
    if valid_id(request_id):
        _unlink(os.path.join(_dir(REQUESTS), f"{request_id}.json"))
        _unlink(os.path.join(_dir(ANSWERS), f"{request_id}.json"))  # if allowed to
    _submitted.pop(request_id, None)


# --- the console's side ----------------------------------------------------------------------


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _request_problem(r: object) -> str | None:
    """What is wrong with a request, or None if it is well formed."""
    if not isinstance(r, dict):
        return "not an object"
    if not valid_id(r.get("id")):
        return "bad id"
    for key in ("agent", "session", "cwd", "command", "reason"):
        if not isinstance(r.get(key), str):
            return f"{key} must be a string"
    if r.get("rule") is not None and not isinstance(r.get("rule"), str):
        return "rule must be a string or null"
    if not isinstance(r.get("irreversible"), bool):
        return "irreversible must be a boolean"
    if not (_strings(r.get("argv")) and _strings(r.get("anomalies"))):
        return "argv and anomalies must be lists of strings"
    if not (_number(r.get("ts")) and _number(r.get("deadline"))):
        return "ts and deadline must be numbers"
    if not isinstance(r.get("pid"), int) or isinstance(r.get("pid"), bool):
        return "pid must be an integer"
    parts = r.get("parts")
    if not isinstance(parts, list):
        return "parts must be a list"
    for p in parts:
        if not (
            isinstance(p, dict)
            and isinstance(p.get("text"), str)
            and p.get("verdict") in VERDICTS
            and (p.get("rule") is None or isinstance(p.get("rule"), str))
            and isinstance(p.get("reason"), str)
            and (p.get("argv") is None or _strings(p.get("argv")))
        ):
            return "bad part"
    recent = r.get("recent")
    if not isinstance(recent, list):
        return "recent must be a list"
    for item in recent:
        if not (
            isinstance(item, list)
            and len(item) == 3
            and _number(item[0])
            and isinstance(item[1], str)
            and isinstance(item[2], str)
        ):
            return "bad recent entry"
    return None


def read_request(request_id: str) -> dict[str, Any] | None:
    """One pending request, validated, with `digest` (of the file's bytes) added; else None."""
    if not valid_id(request_id):
        return None
    data = _read(os.path.join(_dir(REQUESTS), f"{request_id}.json"))
    if data is None:
        return None
    try:
        request = json.loads(data)
    except ValueError:
        return None
    if _request_problem(request) or request["id"] != request_id:
        return None
    request["digest"] = digest(data)
    return dict(request)


def pending(now: float | None = None) -> list[dict[str, Any]]:
    """Requests waiting for an answer, oldest first; expired, answered, unreadable or invalid
    ones are skipped."""
    now = time.time() if now is None else now
    try:
        names = os.listdir(_dir(REQUESTS))
    except OSError:
        return []
    answered: set[str] = set()
    with contextlib.suppress(OSError):
        answered = set(os.listdir(_dir(ANSWERS)))
    found = []
    for name in names:
        stem, dot, ext = name.partition(".")
        if ext != "json" or not dot or name in answered:
            continue
        request = read_request(stem)
        if request is not None and request["deadline"] > now:
            found.append(request)
    found.sort(key=lambda r: (r["ts"], r["id"]))
    return found


def is_pending(request_id: str) -> bool:
    """Is this request still waiting (not withdrawn, not answered)?"""
    return os.path.lexists(os.path.join(_dir(REQUESTS), f"{request_id}.json")) and not (
        os.path.lexists(os.path.join(_dir(ANSWERS), f"{request_id}.json"))
    )


def answer(
    request_id: str,
    approved: bool,
    reviewer: str,
    message: str,
    *,
    request_digest: str,
    scope: str = "once",
    remembered: str = "",
) -> bool:
    """Write the console's answer; False (nothing written) if the request is gone.

    `request_digest` is the `digest` of the request as shown to the reviewer: the agent's
    guard accepts an approval only for the exact request it submitted.
    """
    if not valid_id(request_id):
        raise ValueError(f"invalid request id {request_id!r}")
    if not is_pending(request_id):
        return False
    data = json.dumps(
        {
            "id": request_id,
            "approved": bool(approved),
            "reviewer": reviewer,
            "message": message,
            "digest": request_digest,
            "scope": scope,
            "remembered": remembered,
        },
        ensure_ascii=True,
        sort_keys=True,
    ).encode("ascii")
    _atomic_write(_ensure(ANSWERS), f"{request_id}.json", data)
    return True


def sweep() -> None:
    """Remove answers whose request is gone (the agent has read them or gave up). Best effort."""
    try:
        names = os.listdir(_dir(ANSWERS))
    except OSError:
        return
    for name in names:
        stem, _, ext = name.partition(".")
        if (
            ext == "json"
            and valid_id(stem)
            and not os.path.lexists(os.path.join(_dir(REQUESTS), name))
        ):
            _unlink(os.path.join(_dir(ANSWERS), name))
