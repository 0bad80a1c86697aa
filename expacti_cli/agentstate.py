"""Small per-agent state: recent commands (for the reviewer) and anomaly statistics.

One marshal file per agent, rewritten atomically under a lock, so reading it never depends on
the size of the audit log. A corrupt file is started afresh (losing only history).
"""

from __future__ import annotations

import fcntl
import marshal
import os

from . import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

RECENT = 10
TIMES = 512
TARGETS = 2000


def _file(agent: str) -> str:
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in agent)
    if safe != agent or safe.startswith("."):
        safe = "x-" + agent.encode("utf-8", "surrogateescape").hex()
    return os.path.join(paths.agent_state_dir(), safe + ".state")


def empty() -> dict[str, Any]:
    return {"recent": [], "hours": [0] * 24, "total": 0, "times": [], "targets": {}}


def read(agent: str) -> dict[str, Any]:
    try:
        with open(_file(agent), "rb") as f:
            data = marshal.loads(f.read())
    except (OSError, ValueError, EOFError, TypeError):
        return empty()
    if not isinstance(data, dict) or set(data) != set(empty()):
        return empty()
    return data


def record(
    agent: str, when: float, hour: int, command: str, verdict: str, targets: list[str]
) -> None:
    """Add one decision to the agent's state (best effort: state is not the audit log)."""
    path = _file(agent)
    try:
        paths.ensure_dir(os.path.dirname(path))
        lock = os.open(path + ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError:
        return
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = read(agent)
        state["recent"] = [*state["recent"], (when, command[:500], verdict)][-RECENT:]
        state["hours"][hour % 24] += 1
        state["total"] += 1
        state["times"] = [*state["times"], when][-TIMES:]
        seen = state["targets"]
        for t in targets:
            seen[t] = seen.get(t, 0) + 1
        if len(seen) > TARGETS:  # keep the most used
            state["targets"] = dict(sorted(seen.items(), key=lambda kv: -kv[1])[:TARGETS])
        # Rewritten in place under the lock: no temp file to create and rename on every
        # command. A crash mid-write leaves a file `read` rejects, which costs only history.
        data = marshal.dumps(state)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.write(fd, data)
            os.ftruncate(fd, len(data))
        finally:
            os.close(fd)
    except OSError:
        pass
    finally:
        os.close(lock)
