""" "Approve for this session": a reviewer's yes bound to one session, one exact command line
and one working directory, for one agent.

A grant is a small file under `<state dir>/sessions/`, named by a digest of (agent, session)
and, inside, of (cwd, command): looking one up is one `open`, whatever the number of grants.
It ends with the session: for guard's own session ids (`sid-N`, the Unix session of the agent)
when that session's leader process is gone (its start time is recorded, so a reused pid does not
revive it); for a session named by `GUARD_SESSION` after `SESSION_TTL` seconds. No other session
or agent ever sees it. Fail closed: a grant that cannot be read or does not match is no grant.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time

from . import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

SESSION_TTL = 12 * 3600.0  # seconds a grant lives in a session guard cannot watch end


def _dir() -> str:
    return os.path.join(paths.state_dir(), "sessions")


def _digest(*words: str) -> str:
    data = "\0".join(words).encode("utf-8", "surrogateescape")
    return hashlib.sha256(data).hexdigest()


def _file(req: Any) -> str:
    return os.path.join(
        _dir(), _digest(req.agent, req.session), _digest(req.cwd, req.command) + ".json"
    )


def _leader(session: str) -> list[int] | None:
    """[pid, start time] of the leader of a `sid-N` session, None if it is not one."""
    if not session.startswith("sid-") or not session[4:].isdigit():
        return None
    pid = int(session[4:])
    return [pid, _start_time(pid)]


def _start_time(pid: int) -> int:
    """The process's start time in clock ticks since boot; -1 if it does not exist."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return int(stat[stat.rindex(b")") + 2 :].split()[19])
    except (OSError, ValueError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return -1
        except OSError:
            pass
        return 0  # alive, start time unknown (no /proc)


def grant(req: Any, reviewer: str) -> None:
    """Record a reviewer's "approve for this session" of `req`. Raises OSError."""
    path = _file(req)
    paths.ensure_dir(_dir())
    paths.ensure_dir(os.path.dirname(path))
    record = {
        "agent": req.agent,
        "session": req.session,
        "cwd": req.cwd,
        "command": req.command,
        "reviewer": reviewer,
        "at": time.time(),
        "leader": _leader(req.session),
    }
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def granted(req: Any, now: float | None = None) -> dict[str, Any] | None:
    """The grant covering exactly this request, if its session is still running."""
    path = _file(req)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        with os.fdopen(fd, "rb") as f:
            record = json.loads(f.read(1 << 20))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or any(
        record.get(k) != getattr(req, k) for k in ("agent", "session", "cwd", "command")
    ):
        return None
    if not _alive(record, time.time() if now is None else now):
        with contextlib.suppress(OSError):
            os.unlink(path)
        return None
    return record


def _alive(record: dict[str, Any], now: float) -> bool:
    leader = record.get("leader")
    if isinstance(leader, list) and len(leader) == 2:
        pid, started = leader
        return isinstance(pid, int) and started not in (-1, None) and _start_time(pid) == started
    at = record.get("at")
    return isinstance(at, int | float) and 0 <= now - at < SESSION_TTL
