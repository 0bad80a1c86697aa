"""Streaming readers, filters and strict time parsing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from audit_builder import approved, denied, entry, lines, rewrite, write

from expacti_cli import audit, auditread
from expacti_cli.errors import UsageError

NOW = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30m", 1800), ("2h", 7200), ("7d", 604800), ("1w", 604800), ("90s", 90), ("1h30m", 5400)],
)
def test_durations(text: str, seconds: float) -> None:
    assert auditread.parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["", "2", "h", "2 h", "2x", "-2h", "2h-", "two hours"])
def test_bad_durations_name_the_value(bad: str) -> None:
    with pytest.raises(UsageError, match=f"invalid duration {bad!r}"):
        auditread.parse_duration(bad)


@pytest.mark.parametrize(
    ("text", "ts"),
    [
        ("2h", "2026-11-26T10:00:00.000Z"),
        ("7d", "2026-11-19T12:00:00.000Z"),
        ("30m", "2026-11-26T11:30:00.000Z"),
        ("2026-11-20", "2026-11-20T00:00:00.000Z"),
        ("2026-11-20T08:30", "2026-11-20T08:30:00.000Z"),
        ("2026-11-20T08:30:00Z", "2026-11-20T08:30:00.000Z"),
        ("2026-11-20T10:30:00+02:00", "2026-11-20T08:30:00.000Z"),
    ],
)
def test_when(text: str, ts: str) -> None:
    assert auditread.parse_when(text, NOW) == ts


@pytest.mark.parametrize("bad", ["yesterday", "2026-13-01", "2026-11-20T25:00", "2h ago"])
def test_bad_times_name_the_value(bad: str) -> None:
    with pytest.raises(UsageError, match=repr(bad)):
        auditread.parse_when(bad, NOW)


def test_bad_decision_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="'allow'"):
        auditread.Filter(decision="allow")


@pytest.fixture
def log(tmp_path: Path) -> str:
    return write(
        tmp_path / "audit.jsonl",
        [
            entry(["git", "status"], ts="2026-11-26T08:00:00.000Z", agent="claude", session="a"),
            approved(["npm", "test"], ts="2026-11-26T09:00:00.000Z", agent="codex", session="b"),
            denied(
                ["rm", "-rf", "/"],
                ts="2026-11-26T10:00:00.000Z",
                agent="claude",
                rule="rm-rf",
                irreversible=True,
            ),
            entry(["git", "log"], ts="2026-11-26T11:00:00.000Z", agent="claude-2", session="a"),
        ],
    )


def _commands(log: str, **opts: str | bool) -> list[str]:
    flt = auditread.Filter.from_options(now=NOW, **opts)  # type: ignore[arg-type]
    return [r.entry["command"] for r in auditread.read_log(log, flt)]


def test_filters(log: str) -> None:
    assert _commands(log, agent="claude") == ["git status", "rm -rf /"]
    assert _commands(log, agent="claude*") == ["git status", "rm -rf /", "git log"]
    assert _commands(log, session="a") == ["git status", "git log"]
    assert _commands(log, decision="denied") == ["rm -rf /"]
    assert _commands(log, rule="rm-*") == ["rm -rf /"]
    assert _commands(log, irreversible=True) == ["rm -rf /"]
    assert _commands(log, grep="NPM") == ["npm test"]
    assert _commands(log, since="2026-11-26T09:00Z", until="2026-11-26T11:00Z") == [
        "npm test",
        "rm -rf /",
    ]
    assert _commands(log, since="2h30m") == ["rm -rf /", "git log"]  # from 09:30
    assert _commands(log, agent="claude", decision="allowed") == ["git status"]


def test_corrupt_lines_are_reported_with_their_line_number_and_skipped(log: str) -> None:
    text = lines(log)
    text[1] = "garbage{\n"
    text.insert(3, "\n")
    text[-1] = text[-1][:40]  # torn tail
    rewrite(log, text)
    problems = auditread.Problems()
    records = list(auditread.read_log(log, problems=problems))
    assert [(r.line, r.entry["command"]) for r in records] == [(1, "git status"), (3, "rm -rf /")]
    assert [(p.line, p.kind) for p in problems.first] == [
        (2, "corrupt"),
        (4, "corrupt"),
        (5, "torn"),
    ]
    assert "garbage" in problems.first[0].detail
    assert problems.first[1].detail == "empty line"


def test_records_carry_file_and_line_across_rotation(tmp_path: Path) -> None:
    path = str(tmp_path / "audit.jsonl")
    for i in range(12):
        audit.append(path, entry(["echo", str(i)]), fsync=False, max_bytes=1500)
    records = list(auditread.read_log(path))
    assert [r.entry["command"] for r in records] == [f"echo {i}" for i in range(12)]
    assert records[0].file == audit.log_files(path)[0]
    assert {r.file for r in records} == set(audit.log_files(path))
    assert [r.entry["command"] for r in auditread.tail(path, 3)] == ["echo 9", "echo 10", "echo 11"]


def test_follow_sees_new_entries_across_rotation(tmp_path: Path) -> None:
    path = str(tmp_path / "audit.jsonl")
    write(path, [entry(["echo", "old"])])
    seen: list[str] = []
    done = threading.Event()

    def consume() -> None:
        stream = auditread.follow(path, interval=0.01)
        for record in stream:
            seen.append(record.entry["command"])
            if len(seen) == 20:
                break
        stream.close()
        done.set()

    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    import time

    time.sleep(0.1)
    for i in range(20):
        audit.append(path, entry(["echo", str(i)]), fsync=False, max_bytes=1500)
        time.sleep(0.005)
    assert done.wait(10), seen
    assert len(audit.rotated_files(path)) >= 2
    assert seen == [f"echo {i}" for i in range(20)]  # "old" was there before: not repeated


def test_reader_memory_is_flat(tmp_path: Path) -> None:
    import tracemalloc

    path = write(tmp_path / "audit.jsonl", [entry(["echo", str(i)]) for i in range(3000)])
    tracemalloc.start()
    n = sum(1 for _ in auditread.read_log(path))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == 3000
    assert peak < 256 * 1024  # the whole file is ~1.7 MB; the reader holds a line at a time
