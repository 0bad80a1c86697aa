"""Reading the audit log back: streaming, filtering, following.

Every reader walks `audit.log_files(path)` (rotated parts oldest first, then the live file) one
line at a time, so memory stays flat whatever the size of the log. A line that is not a JSON
object (a torn write after a crash, an edit by hand) is reported with its file and line number
and skipped: a damaged log never stops `guard audit` from answering. Whether the log was
*tampered with* is the business of `auditverify`, not of these readers.

Times: entries carry `ts` as UTC RFC 3339 with milliseconds ("2026-11-26T10:11:12.345Z"), so a
bound given as `--since`/`--until` is turned into the same form once and compared as text.
"""

from __future__ import annotations

import fnmatch
import os
import re
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from json import JSONDecoder
from typing import Any

from . import audit
from .errors import AuditDataError, AuditError, UsageError

DECISIONS = ("allowed", "approved", "denied", "deferred")  # deferred: left to a harness (hook)
_scan = JSONDecoder().scan_once  # type: ignore[attr-defined] # the C scanner without json.loads' per-call regex work


# --- times -------------------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(value: str) -> float:
    """`90s`, `30m`, `2h`, `7d`, `1w` (or `1h30m`) -> seconds. Raises UsageError naming `value`."""
    text = value.strip()
    pos = 0
    total = 0.0
    while pos < len(text):
        m = _DURATION.match(text, pos)
        if m is None:
            break
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if not text or pos != len(text):
        raise UsageError(
            f"invalid duration {value!r}: use a number and a unit, e.g. 30m, 2h, 7d, 1w"
        )
    return total


def format_ts(moment: datetime) -> str:
    """A datetime as the audit log writes `ts`: UTC, milliseconds, `Z`."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_when(value: str, now: datetime | None = None) -> str:
    """A `--since`/`--until` value -> a `ts` string to compare entries with.

    Accepted: a duration meaning "that long ago" (`2h`, `7d`, `30m`), an ISO date
    (`2026-11-26`, midnight UTC) or an ISO datetime (`2026-11-26T10:00`, with `Z` or an offset;
    without one it is taken as UTC, like the log). Raises UsageError naming the bad value.
    """
    text = value.strip()
    if text and text[0].isdigit() and text[-1].isalpha() and "-" not in text:
        seconds = parse_duration(text)
        return format_ts((now or datetime.now(UTC)) - timedelta(seconds=seconds))
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        raise UsageError(
            f"invalid time {value!r}: use a duration (30m, 2h, 7d) or an ISO date or datetime "
            "(2026-11-26, 2026-11-26T10:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return format_ts(moment)


# --- problems ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Problem:
    """A line that could not be read as an entry."""

    file: str
    line: int
    kind: str  # "corrupt": not a JSON object; "torn": last line of a file, cut short
    detail: str


@dataclass
class Problems:
    """Collects unreadable lines: the first `keep` in full, the rest only counted."""

    keep: int = 100
    count: int = 0
    first: list[Problem] = field(default_factory=list)

    def __call__(self, problem: Problem) -> None:
        self.count += 1
        if len(self.first) < self.keep:
            self.first.append(problem)

    def merge(self, other: Problems) -> None:
        self.count += other.count
        room = self.keep - len(self.first)
        self.first.extend(other.first[: max(room, 0)])


# --- filters -----------------------------------------------------------------------------------


@dataclass
class Filter:
    """Which entries to keep. Every given criterion must hold. Text criteria accept globs."""

    agent: str | None = None
    session: str | None = None
    decision: str | None = None
    rule: str | None = None
    irreversible: bool | None = None
    since: str | None = None  # ts string, inclusive
    until: str | None = None  # ts string, exclusive
    grep: str | None = None  # case-insensitive text in `command`

    def __post_init__(self) -> None:
        if self.decision is not None and self.decision not in DECISIONS:
            raise UsageError(
                f"invalid decision {self.decision!r}: use one of {', '.join(DECISIONS)}"
            )
        self._grep = self.grep.lower() if self.grep else None

    @classmethod
    def from_options(
        cls,
        *,
        agent: str | None = None,
        session: str | None = None,
        decision: str | None = None,
        rule: str | None = None,
        irreversible: bool | None = None,
        since: str | None = None,
        until: str | None = None,
        grep: str | None = None,
        now: datetime | None = None,
    ) -> Filter:
        """Build a filter from user text (durations and dates parsed strictly)."""
        now = now or datetime.now(UTC)
        return cls(
            agent=agent,
            session=session,
            decision=decision,
            rule=rule,
            irreversible=irreversible,
            since=parse_when(since, now) if since else None,
            until=parse_when(until, now) if until else None,
            grep=grep,
        )

    @property
    def empty(self) -> bool:
        return all(
            v is None
            for v in (
                self.agent,
                self.session,
                self.decision,
                self.rule,
                self.irreversible,
                self.since,
                self.until,
                self.grep,
            )
        )

    def __call__(self, entry: dict[str, Any]) -> bool:
        if self.since is not None or self.until is not None:
            ts = entry.get("ts")
            if not isinstance(ts, str):
                return False
            if self.since is not None and ts < self.since:
                return False
            if self.until is not None and ts >= self.until:
                return False
        if self.decision is not None and entry.get("decision") != self.decision:
            return False
        if self.irreversible is not None and bool(entry.get("irreversible")) != self.irreversible:
            return False
        if self.agent is not None and not _glob(entry.get("agent"), self.agent):
            return False
        if self.session is not None and not _glob(entry.get("session"), self.session):
            return False
        if self.rule is not None and not _glob(entry.get("rule"), self.rule):
            return False
        if self._grep is not None:
            command = entry.get("command")
            if not isinstance(command, str) or self._grep not in command.lower():
                return False
        return True


def _glob(value: object, pattern: str) -> bool:
    if not isinstance(value, str):
        return False
    if value == pattern:
        return True
    return any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(value, pattern)


# --- reading -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Record:
    """One entry and where it was read."""

    file: str
    line: int
    entry: dict[str, Any]


def _stdlib_loads(data: bytes | str) -> Any:
    text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
    obj, stop = _scan(text, 0)
    if stop < len(text) and text[stop:].strip():
        raise ValueError("trailing data after the JSON object")
    return obj


try:  # orjson parses a line in about half the time of json's C scanner: `summary` needs it
    from orjson import JSONDecodeError as _OrjsonError
    from orjson import loads as _orjson_loads
except ImportError:  # pragma: no cover - orjson is a dependency; stay correct without it
    _fast_loads = _stdlib_loads
else:

    def _fast_loads(data: bytes | str) -> Any:
        try:
            return _orjson_loads(data)
        except _OrjsonError:
            return _stdlib_loads(data)  # what json accepts and orjson does not (huge ints)


def parse_line(data: bytes | str) -> dict[str, Any] | None:
    """One line -> the entry, or None when it is not exactly one JSON object."""
    try:
        obj = _fast_loads(data)
    except (ValueError, StopIteration, RecursionError):
        return None
    return obj if type(obj) is dict else None


def _describe(data: bytes | str) -> str:
    if isinstance(data, bytes):
        data = data.decode("utf-8", "backslashreplace")
    shown = data.strip()
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"not a JSON object: {shown!r}" if shown else "empty line"


def read_file(
    file: str,
    problems: Callable[[Problem], None] | None = None,
    *,
    start: int = 0,
    end: int | None = None,
) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, entry) for each readable line of one file; bad lines go to `problems`.

    With `start`/`end` (byte offsets at line starts) only that part is read and line numbers
    count from 1 at `start`; `read_log` uses whole files.
    """
    f = _open(file)
    if f is None:
        return  # rotated away between listing and opening: the next file has its entries
    loads = _fast_loads
    with f:
        if start:
            f.seek(start)
        lines: Iterator[bytes] = iter(f)
        if end is not None:
            lines = _until(lines, end - start)
        for lineno, data in enumerate(lines, 1):
            try:
                obj = loads(data)
            except (ValueError, StopIteration, RecursionError):
                obj = None
            if type(obj) is dict:
                yield lineno, obj
            elif problems is not None:
                torn = not data.endswith(b"\n")
                problems(
                    Problem(
                        file,
                        lineno,
                        "torn" if torn else "corrupt",
                        "the file ends in the middle of a line (an interrupted write)"
                        if torn
                        else _describe(data),
                    )
                )


def _open(file: str) -> Any:
    """The file for reading, or None if it is gone. A FIFO, a device or a symlink is refused
    at once (AuditDataError naming it) instead of blocking or reading forever."""
    try:
        fd = audit.open_regular(file, os.O_RDONLY)
    except AuditError as exc:
        if not os.path.lexists(file):
            return None
        raise AuditDataError(exc.message) from exc
    return os.fdopen(fd, "rb")


def _until(lines: Iterator[bytes], budget: int) -> Iterator[bytes]:
    """The lines that fit in `budget` bytes."""
    for data in lines:
        budget -= len(data)
        if budget < 0:
            return
        yield data


def read_log(
    path: str,
    flt: Callable[[dict[str, Any]], bool] | None = None,
    problems: Callable[[Problem], None] | None = None,
) -> Iterator[Record]:
    """Every readable entry of the log, oldest first, with its file and line number."""
    for file in audit.log_files(path):
        for lineno, entry in read_file(file, problems):
            if flt is None or flt(entry):
                yield Record(file, lineno, entry)


def entries(
    path: str,
    flt: Callable[[dict[str, Any]], bool] | None = None,
    problems: Callable[[Problem], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Like `read_log` but only the entries (the fast path for aggregations)."""
    for file in audit.log_files(path):
        if flt is None:
            for _, entry in read_file(file, problems):
                yield entry
        else:
            for _, entry in read_file(file, problems):
                if flt(entry):
                    yield entry


def tail(
    path: str,
    limit: int,
    flt: Callable[[dict[str, Any]], bool] | None = None,
    problems: Callable[[Problem], None] | None = None,
) -> list[Record]:
    """The last `limit` matching entries (the whole log is streamed; memory holds `limit`)."""
    if limit <= 0:
        return []
    return list(deque(read_log(path, flt, problems), maxlen=limit))


def follow(
    path: str,
    flt: Callable[[dict[str, Any]], bool] | None = None,
    problems: Callable[[Problem], None] | None = None,
    *,
    interval: float = 0.5,
    sleep: Callable[[float], None] = time.sleep,
    from_start: bool = False,
) -> Iterator[Record]:
    """New entries as writers append them, forever (stop by closing the generator).

    Polls every `interval` seconds. Rotation is handled: when the live file is renamed away,
    the rest of the old file is read through the still-open handle, then the new live file from
    its start. Half-written lines wait until their newline arrives.
    """
    handle = None
    name = path
    lineno = 0
    pending = b""
    try:
        while True:
            if handle is None:
                handle = _open(path)
                if handle is None:
                    sleep(interval)
                    continue
                lineno = 0
                pending = b""
                if not from_start:
                    # skip what is already there (the caller showed it), counting its lines
                    for _ in handle:
                        lineno += 1
                from_start = True  # any later live file is read from its start
            chunk = handle.read()
            rotated = not chunk and _replaced(path, handle)
            if rotated:
                chunk = handle.read()  # lines appended just before the rename
            if chunk:
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for text in complete:
                    lineno += 1
                    entry = parse_line(text)
                    if entry is None:
                        if problems is not None:
                            problems(Problem(name, lineno, "corrupt", _describe(text)))
                    elif flt is None or flt(entry):
                        yield Record(name, lineno, entry)
            if rotated:
                if pending and problems is not None:
                    problems(Problem(name, lineno + 1, "torn", "the file ends mid-line"))
                handle.close()
                handle = None
            elif not chunk:
                sleep(interval)
    finally:
        if handle is not None:
            handle.close()


def _replaced(path: str, handle: Any) -> bool:
    """Has the live file been rotated away from under our open handle?"""
    try:
        now = os.stat(path)
    except FileNotFoundError:
        return False  # rotated, new live file not created yet: keep draining the old one
    mine = os.fstat(handle.fileno())
    return (now.st_ino, now.st_dev) != (mine.st_ino, mine.st_dev)
