"""`guard audit repair`: deal with torn lines (interrupted writes), openly and in the chain.

A torn line is what a crash, a SIGKILL or a full disk leaves in the middle of a write: a half
line at the end of the live file, or one a later writer sealed with a newline (the chain
continues past it from the entry before it). `auditverify` reports them apart from edits.

Repair, under the writers' lock: the bytes of each torn line are copied to a side file next
to the log (`<log>.torn-<time>-<random>-<n>`); a torn tail of the live file is then cut off
(or, when the file cannot be truncated, append-only, sealed with a newline); torn lines
elsewhere are left in place. Then one `audit-repair` event is appended to the chain naming
every torn line (file, line, offset, size, SHA-256 of its bytes, the entry it follows, what
was done), so nothing is rewritten silently and `verify` accepts exactly those bytes at
exactly that place afterwards.
Repair never touches a line that is not torn: edits and gaps stay for a human to judge.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

from . import audit, auditverify
from .auditverify import KeyNeeded, Torn, VerifyResult
from .errors import AuditError


@dataclass
class RepairResult:
    before: VerifyResult
    after: VerifyResult
    repairs: list[dict[str, Any]] = field(default_factory=list)
    event: dict[str, Any] | None = None  # the chained event recording the repairs


def repair(path: str, key: bytes | None = None, *, dry_run: bool = False) -> RepairResult:
    """Quarantine every torn line the chain does not already account for; see the module doc."""
    lock_fd = audit.lock(path)
    try:
        before = auditverify.verify(path, key, locked=True)
        if before.needs_key:
            raise KeyNeeded(
                f"audit: the log is keyed from {before.keyed_from}: repair needs its key to "
                "verify it and to record the repair (--key-file)"
            )
        if not before.torn or dry_run:
            plan = [_record(t, "would quarantine", None) for t in before.torn]
            return RepairResult(before, before, plan)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + os.urandom(3).hex()
        repairs = [
            _quarantine(path, t, f"{path}.torn-{stamp}-{n}") for n, t in enumerate(before.torn, 1)
        ]
        event = audit.new_event(
            audit.REPAIR_EVENT,
            repairs=repairs,
            command="guard audit repair",
            reason=f"{len(repairs)} torn line(s) (interrupted writes) quarantined",
        )
        audit.append_locked(path, event, key=key, fsync=True)
        after = auditverify.verify(path, key, locked=True)
        return RepairResult(before, after, repairs, event)
    finally:
        audit.unlock(lock_fd)


def _record(torn: Torn, action: str, saved: str | None) -> dict[str, Any]:
    return {
        "file": os.path.basename(torn.file),
        "line": torn.line,
        "offset": torn.offset,
        "bytes": torn.size,
        "sha256": torn.sha256,
        "after": torn.after,
        "action": action,
        "saved_to": os.path.basename(saved) if saved else None,
    }


def _quarantine(path: str, torn: Torn, side: str) -> dict[str, Any]:
    """Copy the torn bytes aside, then cut (or seal) a live tail; say what was done."""
    fd = audit.open_regular(torn.file, os.O_RDONLY)
    try:
        data = os.pread(fd, torn.size, torn.offset)
    finally:
        os.close(fd)
    if len(data) != torn.size:
        raise AuditError(f"audit: {torn.file} changed while repairing; run repair again")
    out = audit.open_regular(side, os.O_WRONLY | os.O_CREAT | os.O_EXCL, "the quarantine file")
    try:
        os.write(out, data)
        os.fsync(out)
    finally:
        os.close(out)
    action = "acknowledged (left in place)"
    if torn.tail and torn.file == path:
        try:
            os.truncate(path, torn.offset)
            action = "removed"
        except OSError:  # append-only (chattr +a): end it with a newline instead
            fd = audit.open_regular(path, os.O_WRONLY | os.O_APPEND)
            try:
                os.write(fd, b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
            action = "sealed with a newline (the file cannot be truncated)"
    return _record(torn, action, side)
