"""Building audit logs for the `guard audit` tests: real writer format, known contents."""

from __future__ import annotations

import os
import shlex
from typing import Any

from expacti_cli import audit

_counter = iter(range(1, 10**9))


def entry(argv: list[str] | None = None, **fields: Any) -> dict[str, Any]:
    """An audit entry with plausible defaults; `fields` override them."""
    argv = argv or ["git", "status"]
    n = next(_counter)
    base: dict[str, Any] = {
        "ts": f"2026-11-26T10:{n // 60 % 60:02d}:{n % 60:02d}.000Z",
        "id": f"{n:016x}",
        "agent": "claude",
        "session": "s1",
        "user": "dev",
        "host": "box",
        "cwd": "/src",
        "argv": argv,
        "command": shlex.join(argv),
        "mode": "prefix",
        "decision": "allowed",
        "decided_by": "policy",
        "rule": "git-read",
        "reason": "",
        "irreversible": False,
        "anomalies": [],
        "reviewer": None,
        "latency_ms": 1.0,
    }
    base.update(fields)
    return base


def approved(argv: list[str], latency: float = 1000.0, **fields: Any) -> dict[str, Any]:
    return entry(
        argv,
        **{
            "decision": "approved",
            "decided_by": "reviewer",
            "reviewer": "alice",
            "rule": None,
            "latency_ms": latency,
            **fields,
        },
    )


def denied(argv: list[str], latency: float = 1000.0, **fields: Any) -> dict[str, Any]:
    return entry(
        argv,
        **{
            "decision": "denied",
            "decided_by": "reviewer",
            "reviewer": "alice",
            "rule": None,
            "reason": "not now",
            "latency_ms": latency,
            **fields,
        },
    )


def write(path: str | os.PathLike[str], entries: list[dict[str, Any]], **kw: Any) -> str:
    """Append `entries` with the real writer (lock, chain, rotation); return the path."""
    path = os.fspath(path)
    for e in entries:
        audit.append(path, dict(e), fsync=False, **kw)
    return path


def lines(path: str | os.PathLike[str]) -> list[str]:
    with open(path, encoding="ascii") as f:
        return f.read().splitlines(keepends=True)


def rewrite(path: str | os.PathLike[str], new_lines: list[str]) -> None:
    with open(path, "w", encoding="ascii") as f:
        f.write("".join(new_lines))


def seal(obj: dict[str, Any], prev: str, key: bytes | None = None) -> str:
    """One line as the writer would write it for `obj` after `prev`."""
    obj = {k: v for k, v in obj.items() if k != "hash"}
    obj["prev"] = prev
    text = audit.canonical(obj)
    return text[:-1] + ',"hash":"' + audit.entry_hash(text, key) + '"}\n'
