"""Reviews handed to a harness's own prompt, waiting for the event that tells their outcome.

When guard answers "ask", the human decides in the harness (Claude Code's permission prompt,
Cursor's approval) and guard's audit log says `deferred`. The harness reports later what
happened to that tool call (Claude Code: PostToolUse or PostToolUseFailure = it ran, so it was
approved; PermissionDenied = denied; Cursor: afterShellExecution = it ran). This module keeps
one small file per deferred call, named by a digest of (harness, session, call key), so that
event can find the deferred entry and record its outcome linked to it, exactly once: `take`
claims the file by renaming it, so two racing events cannot both resolve it.

Files live in `<state dir>/hook-pending/` (0o700 dir, 0o600 files); stale ones (older than
`STALE` seconds: the human denied at a prompt that reports nothing) are swept on `save`.
"""

from __future__ import annotations

import json
import os
import time

from ... import paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

STALE = 7 * 24 * 3600.0
MAX_BYTES = 1 << 16


def _dir() -> str:
    return os.path.join(paths.state_dir(), "hook-pending")


def _name(harness: str, session: str, key: str) -> str:
    from hashlib import sha256

    digest = sha256("\0".join((harness, session, key)).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:40] + ".json"


def save(harness: str, session: str, key: str, record: dict[str, Any]) -> None:
    """Remember a deferred call (atomically). Raises OSError."""
    directory = paths.ensure_dir(_dir())
    _sweep(directory)
    data = json.dumps(record, ensure_ascii=True, sort_keys=True).encode("ascii")[:MAX_BYTES]
    final = os.path.join(directory, _name(harness, session, key))
    tmp = f"{final}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.replace(tmp, final)


def take(harness: str, session: str, key: str) -> dict[str, Any] | None:
    """The deferred call's record, removed so that nobody else resolves it; None if none."""
    path = os.path.join(_dir(), _name(harness, session, key))
    claimed = f"{path}.{os.getpid()}.taken"
    try:
        os.rename(path, claimed)
    except OSError:
        return None
    try:
        fd = os.open(claimed, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        try:
            data = os.read(fd, MAX_BYTES)
        finally:
            os.close(fd)
        record = json.loads(data)
    except (OSError, ValueError):
        return None
    finally:
        try:
            os.unlink(claimed)
        except OSError:
            pass
    return record if isinstance(record, dict) else None


def _sweep(directory: str) -> None:
    cutoff = time.time() - STALE
    try:
        with os.scandir(directory) as entries:
            for entry in entries:
                try:
                    if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                        os.unlink(entry.path)
                except OSError:
                    continue
    except OSError:
        pass
