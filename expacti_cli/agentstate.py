"""Small per-agent state: recent commands (for the reviewer) and anomaly statistics.

One marshal file per agent, rewritten atomically under a lock, so reading it never depends on
the size of the audit log. A corrupt file is started afresh (losing only history).
"""

from __future__ import annotations

import _thread
import marshal
import os

from . import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

RECENT = 10
TIMES = 512
TARGETS = 2000
BUSY = 240  # busy minutes kept: the agent's usual pace (anomaly.rate_flag)


def _file(agent: str) -> str:
    safe = "".join(c if c.isascii() and (c.isalnum() or c in "._-") else "_" for c in agent)
    if safe != agent or safe.startswith("."):
        safe = "x-" + agent.encode("utf-8", "surrogateescape").hex()
    return os.path.join(paths.agent_state_dir(), safe + ".state")


def empty() -> dict[str, Any]:
    # busy: commands in each past minute the agent was active (its pace), newest last;
    # minute: [minute number, commands so far] for the minute in progress.
    return {
        "recent": [],
        "hours": [0] * 24,
        "total": 0,
        "times": [],
        "targets": {},
        "busy": [],
        "minute": [0, 0],
    }


MAX_STATE_BYTES = 64 * 1024 * 1024


def read(agent: str) -> dict[str, Any]:
    from .errors import GuardError
    from .safefile import read_bytes

    try:  # a FIFO, device or huge file in its place is no history: never block on it
        data = marshal.loads(read_bytes(_file(agent), "agent state", MAX_STATE_BYTES))
    except (OSError, GuardError, ValueError, EOFError, TypeError):
        return empty()
    if not isinstance(data, dict) or set(data) != set(empty()):
        return empty()
    return data


# Record locks (os.lockf) belong to a process: threads of one process (guard serve) that update
# the same agent are serialised by a thread lock per state file as well.
_THREADS: dict[str, Any] = {}
_THREADS_GUARD = _thread.allocate_lock()


def _thread_lock(path: str) -> Any:
    with _THREADS_GUARD:
        lock = _THREADS.get(path)
        if lock is None:
            lock = _THREADS[path] = _thread.allocate_lock()
        return lock


def record(
    agent: str, when: float, hour: int, command: str, verdict: str, targets: list[str]
) -> None:
    """Add one decision to the agent's state (best effort: state is not the audit log)."""
    path = _file(agent)
    with _thread_lock(path):
        _record(path, agent, when, hour, command, verdict, targets)


def _record(
    path: str, agent: str, when: float, hour: int, command: str, verdict: str, targets: list[str]
) -> None:
    try:
        paths.ensure_dir(os.path.dirname(path))
        # O_NONBLOCK: a FIFO put in place of either file fails at once instead of blocking.
        lock = os.open(path + ".lock", os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK, 0o600)
    except OSError:
        return
    try:
        os.lockf(lock, os.F_LOCK, 0)  # a record lock: `fcntl` would be a library load
        state = read(agent)
        state["recent"] = [*state["recent"], (when, command[:500], verdict)][-RECENT:]
        state["hours"][hour % 24] += 1
        state["total"] += 1
        state["times"] = [*state["times"], when][-TIMES:]
        _count_minute(state, when)
        seen = state["targets"]
        for t in targets:
            seen[t] = seen.get(t, 0) + 1
        if len(seen) > TARGETS:  # keep the most used
            state["targets"] = dict(sorted(seen.items(), key=lambda kv: -kv[1])[:TARGETS])
        # Rewritten in place under the lock: no temp file to create and rename on every
        # command. A crash mid-write leaves a file `read` rejects, which costs only history.
        data = marshal.dumps(state)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_NONBLOCK, 0o600)
        try:
            os.write(fd, data)
            os.ftruncate(fd, len(data))
        finally:
            os.close(fd)
    except OSError:
        pass
    finally:
        os.close(lock)


def _count_minute(state: dict[str, Any], when: float) -> None:
    """Per-minute command counts: the minute in progress, and the finished busy ones."""
    minute = int(when // 60)
    current = state["minute"]
    if minute <= current[0]:  # the same minute (or a late writer from the previous one)
        current[1] += 1
        return
    if current[1]:
        state["busy"] = [*state["busy"], current[1]][-BUSY:]
    state["minute"] = [minute, 1]
