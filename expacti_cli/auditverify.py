"""`guard audit verify`: walk the hash chain from GENESIS across every file of the log.

Each line's `hash` must be the hash of its own content (every field but `hash`, canonically
encoded, `prev` included) and its `prev` must be the hash of the line before it (GENESIS for the
very first entry). The walk reports the FIRST place where that fails, classified by what the
hashes around it say:

- `corrupt`: the line is not a JSON object with a 64-hex `hash` and `prev`.
- `truncated`: a file ends in the middle of a line; the log does not start at GENESIS; a file
  does not continue the chain of the file before it; or a rotated file is missing.
- `edited`: the line's hash does not match its content (in keyed mode: not with this key, which
  is how a chain recomputed without the key shows up).
- `inserted`: the line is skipped by the chain: the next line continues from the line before it,
  or the line after it continues from further back (a forged line placed in the middle).
- `reordered`: the line's `prev` is the hash of a line that comes LATER in the file.
- `deleted`: the line's `prev` is the hash of no line nearby: lines are missing before it (or,
  without a key, the line before it was rewritten and rehashed: the two look the same).

Torn lines (interrupted writes: a crash, SIGKILL or full disk in the middle of a write) are told
apart from edits: a half line at the end of a file (`truncated`), or one the next writer sealed
with a newline while the chain continues past it from the entry before it (`corrupt`), is a
`Break` with `torn=True`. When every break is torn, `failure` gives exit 74, not 65.
`guard audit repair` quarantines them and records an `audit-repair` event in the chain; a torn
line named by such an event (same place in the chain, same bytes) is no break any more.

Keys: entries are checked with plain SHA-256 until an `audit-key-on` event (or, in logs written
before that event existed, an entry that only the key verifies) starts a keyed stretch; from
there every entry must verify with the key. Without a key the walk stops at the keyed stretch
and the result says the log needs its key (`needs_key`, exit 66): never "ok".

Consistency: the set of files and the live file's size are taken under the writers' lock (a
shared record lock, held for a moment), and the live file is read through the descriptor opened
then, so writers appending and rotating meanwhile cannot make a false break. Without access to
the lock, the walk is repeated while the files change under it.

Memory: only a window of `WINDOW` hashes behind and `WINDOW` lines ahead is kept, so verifying a
log of any size stays within a few megabytes. A `prev` that points further away than the window
is reported as `deleted` (the detail says how far the search looked).

Not detectable from the log alone: the newest lines of the live file cut away cleanly (the chain
before them is intact). Keep a copy of the last hash elsewhere to close that gap.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from . import audit
from .errors import AuditDataError, AuditError, ExitCode, GuardError

WINDOW = 1024
ATTEMPTS = 5  # walks of a log that keeps changing when the lock cannot be taken
LOCK_WAIT = 10.0  # seconds to wait for the writers' lock before walking without it
_TAIL = ',"hash":"'
_TAIL_LEN = len(_TAIL) + 64 + 2
_HEX = frozenset("0123456789abcdef")


class TornLog(AuditDataError):
    """The only breaks are torn lines (interrupted writes): repairable, not tampering."""

    exit_code = ExitCode.IOERR


class KeyNeeded(AuditDataError):
    """The log is keyed and no key was given: it cannot be verified."""

    exit_code = ExitCode.NOINPUT


@dataclass(frozen=True)
class Break:
    file: str
    line: int
    kind: str  # edited | deleted | inserted | reordered | truncated | corrupt
    detail: str
    torn: bool = False  # an interrupted write, not an edit (`guard audit repair`)


@dataclass(frozen=True)
class Torn:
    """A torn line: where it is, its bytes (by digest), and the entry it follows."""

    file: str
    line: int
    offset: int
    size: int
    sha256: str
    after: str  # the hash of the last intact entry before it (GENESIS if none)
    tail: bool  # the last line of its file, without a newline


@dataclass
class VerifyResult:
    ok: bool = True
    entries: int = 0  # lines that hold a decision entry (intact or not)
    events: int = 0  # lines that hold guard's own events (key on, repair)
    files: list[str] = field(default_factory=list)
    first_break: Break | None = None
    breaks: int = 0  # separate broken stretches (consecutive bad lines count once)
    keyed: bool = False  # verified with a key
    last_hash: str | None = None  # the head of the chain: keep it elsewhere to detect cut tails
    torn: list[Torn] = field(default_factory=list)  # torn lines no repair event names
    repaired: int = 0  # torn lines named by an `audit-repair` event
    keyed_from: str | None = None  # FILE:LINE where the keyed stretch starts
    needs_key: bool = False  # keyed entries were met and no key was given
    unverified: int = 0  # entries left unchecked for lack of the key

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class _Item:
    file: str
    line: int
    status: str  # entry | corrupt | torn | empty | missing
    prev: str | None = None
    hash: str | None = None
    first_in_file: bool = False
    detail: str = ""
    plain_ok: bool = False  # the hash is SHA-256 of the content
    keyed_ok: bool = False  # the hash is HMAC-SHA256 of the content with the given key
    event: str | None = None
    keyid: str | None = None
    acks: tuple[tuple[str, str], ...] = ()  # (after, sha256) of torn lines a repair names
    offset: int = 0
    size: int = 0
    sha256: str = ""  # of the raw bytes, for torn and corrupt lines


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and _HEX.issuperset(value)


def _entry_item(item: _Item, text: str, key: bytes | None) -> None:
    """Fill `item` from one line's text: its status, links and which hash it carries."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        obj = None
    if not isinstance(obj, dict):
        shown = text if len(text) <= 60 else text[:57] + "..."
        item.status, item.detail = "corrupt", f"not a JSON object: {shown!r}"
        return
    prev, stored = obj.get("prev"), obj.get("hash")
    if not _is_hex64(stored) or not _is_hex64(prev):
        missing = [k for k, v in (("prev", prev), ("hash", stored)) if not _is_hex64(v)]
        item.status, item.detail = "corrupt", f"no valid {' and '.join(missing)} field"
        return
    item.status, item.prev, item.hash = "entry", prev, stored
    event = obj.get("event")
    item.event = event if isinstance(event, str) else None
    keyid = obj.get("keyid")
    item.keyid = keyid if isinstance(keyid, str) else None
    if item.event == audit.REPAIR_EVENT:
        item.acks = _acks(obj.get("repairs"))
    # The writer's own line is `canonical[:-1] + ',"hash":"H"}'`; a line re-encoded (spacing,
    # key order) with the same content still verifies through the canonical form.
    texts = []
    if text.endswith('"}') and text[-_TAIL_LEN:].startswith(_TAIL) and text[-66:-2] == stored:
        texts.append(text[:-_TAIL_LEN] + "}")
    try:
        texts.append(audit.canonical(obj))
    except (TypeError, ValueError):
        pass
    for canonical in texts:
        item.plain_ok = item.plain_ok or audit.entry_hash(canonical, None) == stored
        if key is not None:
            item.keyed_ok = item.keyed_ok or audit.entry_hash(canonical, key) == stored
        if item.plain_ok or item.keyed_ok:
            break


def _acks(repairs: object) -> tuple[tuple[str, str], ...]:
    if not isinstance(repairs, list):
        return ()
    return tuple(
        (r["after"], r["sha256"])
        for r in repairs
        if isinstance(r, dict) and _is_hex64(r.get("after")) and _is_hex64(r.get("sha256"))
    )


# --- the files, read consistently --------------------------------------------------------------


@dataclass
class _Snapshot:
    rotated: list[str]
    live_fd: int  # -1: no live file
    live_size: int
    live_id: tuple[int, int] | None
    consistent: bool  # taken under the writers' lock

    @property
    def files(self) -> list[str]:
        return self.rotated

    def close(self) -> None:
        if self.live_fd >= 0:
            os.close(self.live_fd)
            self.live_fd = -1


def _take_lock(path: str) -> int:
    """A shared hold on the writers' lock, or -1 (no lock file, no access, or a writer stuck)."""
    try:
        fd = os.open(path + ".lock", os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return -1
    deadline = time.monotonic() + LOCK_WAIT
    while True:
        try:
            # A shared record lock: the writers' exclusive one (audit.lock) excludes it.
            fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            return fd
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES) or time.monotonic() > deadline:
                break
            time.sleep(0.005)
    os.close(fd)
    return -1


def _snapshot(path: str, locked: bool) -> _Snapshot:
    lock_fd = -1 if locked else _take_lock(path)
    try:
        rotated = audit.rotated_files(path)
        fd, size, ident = -1, 0, None
        if os.path.lexists(path):
            fd = audit.open_regular(path, os.O_RDONLY)
            st = os.fstat(fd)
            size, ident = st.st_size, (st.st_dev, st.st_ino)
        return _Snapshot(rotated, fd, size, ident, locked or lock_fd >= 0)
    finally:
        if lock_fd >= 0:
            os.close(lock_fd)


def _changed(path: str, snap: _Snapshot) -> bool:
    if audit.rotated_files(path) != snap.rotated:
        return True
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return snap.live_id is not None
    return (st.st_dev, st.st_ino) != snap.live_id or st.st_size != snap.live_size


def _lines(fd: int, limit: int | None) -> Iterator[bytes]:
    """The lines of an open file, up to `limit` bytes (the size seen under the lock)."""
    with os.fdopen(fd, "rb", closefd=False) as f:
        f.seek(0)
        left = limit
        for raw in f:
            if left is None:
                yield raw
                continue
            if left <= 0:
                return
            piece = raw[:left]
            left -= len(piece)
            yield piece


def _items(path: str, snap: _Snapshot, key: bytes | None) -> Iterator[_Item]:
    sources: list[tuple[str, int, int | None]] = []
    for file in snap.rotated:
        sources.append((file, -1, None))
    if snap.live_fd >= 0:
        sources.append((path, snap.live_fd, snap.live_size))
    for file, given, limit in sources:
        fd = given
        if given < 0:
            try:
                fd = audit.open_regular(file, os.O_RDONLY, "the rotated audit log")
            except AuditError:
                if os.path.lexists(file):
                    raise
                yield _Item(file, 0, "missing", detail="the file disappeared while verifying")
                continue
        try:
            yield from _file_items(file, fd, limit, key)
        finally:
            if given < 0:
                os.close(fd)


def _file_items(file: str, fd: int, limit: int | None, key: bytes | None) -> Iterator[_Item]:
    first = True
    offset = 0
    for lineno, raw in enumerate(_lines(fd, limit), 1):
        item = _Item(file, lineno, "entry", first_in_file=first, offset=offset, size=len(raw))
        offset += len(raw)
        ended = raw.endswith(b"\n")
        body = raw[:-1] if ended else raw
        text = body.decode("ascii", "surrogateescape")
        if ended and not text.strip():
            item.status, item.detail = "empty", "empty line"
        else:
            _entry_item(item, text, key)
        if item.status != "entry":
            item.size, item.sha256 = len(body), hashlib.sha256(body).hexdigest()
            if not ended:
                item.status = "torn"
                item.detail = (
                    f"the file ends in the middle of a line ({len(body)} bytes): an interrupted "
                    "write (crash, kill or full disk), not an edit; `guard audit repair` "
                    "quarantines it"
                )
            elif text.startswith("{") and item.status == "corrupt" and "JSON" in item.detail:
                # a write cut anywhere, even after one byte (a page boundary): a prefix of an entry
                item.status = "maybe-torn"
        if item.status == "entry":
            first = False
        yield item


# --- the walk ----------------------------------------------------------------------------------


def verify(
    path: str, key: bytes | None = None, *, window: int = WINDOW, locked: bool = False
) -> VerifyResult:
    """Walk the whole chain; see the module docstring for what each break kind means.

    `locked`: the caller holds the writers' lock already (`guard audit repair`).
    """
    result = VerifyResult()
    for _ in range(ATTEMPTS):
        snap = _snapshot(path, locked)
        try:
            result = _Walk(path, key, window, snap).run()
        finally:
            snap.close()
        if result.ok or snap.consistent or not _changed(path, snap):
            break
    return result


class _Walk:
    def __init__(self, path: str, key: bytes | None, window: int, snap: _Snapshot) -> None:
        files = list(snap.rotated) + ([path] if snap.live_fd >= 0 else [])
        self.result = VerifyResult(files=files, keyed=key is not None)
        self.key = key
        self.window = window
        self.missing = _missing_rotated(path, snap.rotated)
        self.items = _items(path, snap, key)
        self.ahead: deque[_Item] = deque()
        self.behind: deque[tuple[str, str, int]] = deque()  # (hash, file, line)
        self.seen: dict[str, int] = {}  # hash -> position, for the entries in `behind`
        self.position = 0
        self.expected = audit.GENESIS
        self.previous_bad = False
        self.exhausted = False
        self.keyed_stretch = False
        self.unverifiable = False
        self.pending: list[tuple[int, Torn, Break]] = []  # torn lines, until a repair names them
        self.found: list[tuple[int, Break]] = []  # (sequence, break)
        self.sequence = 0

    def fill(self) -> None:
        while not self.exhausted and len(self.ahead) <= self.window:
            item = next(self.items, None)
            if item is None:
                self.exhausted = True
            else:
                self.ahead.append(item)

    def remember(self, item: _Item) -> None:
        assert item.hash is not None
        self.position += 1
        self.behind.append((item.hash, item.file, item.line))
        self.seen[item.hash] = self.position
        if len(self.behind) > self.window:
            old = self.behind.popleft()[0]
            if self.seen.get(old, 0) <= self.position - self.window:
                self.seen.pop(old, None)

    def report(
        self, item: _Item, kind: str, detail: str, at: tuple[str, int] | None = None
    ) -> None:
        if not self.previous_bad:
            file, line = at or (item.file, item.line)
            self.found.append((self.sequence, Break(file, line, kind, detail)))
        self.previous_bad = True

    def run(self) -> VerifyResult:
        self.fill()
        while self.ahead:
            item = self.ahead.popleft()
            self.sequence += 1
            self.fill()
            self.step(item)
        return self.finish()

    def step(self, item: _Item) -> None:
        if item.status == "missing":
            self.report(item, "truncated", item.detail)
            return
        if item.event is not None:
            self.result.events += 1
        elif item.status != "empty":
            self.result.entries += 1
        if self.unverifiable:
            self.result.unverified += 1
            return
        if item.status == "maybe-torn":
            # Torn if the next entry continues the chain past it, or if no entry follows at all
            # (only other torn lines: writers killed one after the other).
            following = next((i for i in self.ahead if i.status == "entry"), None)
            if (following is None and self.exhausted) or (
                following is not None and following.prev == self.expected
            ):
                self.torn(item, "corrupt", False)
                return
            item.status = "corrupt"
        if item.status in ("corrupt", "empty"):
            self.report(item, "corrupt", item.detail)
            return  # the writer continues the chain from the last intact line
        if item.status == "torn":
            self.torn(item, "truncated", True)
            return
        self.entry(item)

    def torn(self, item: _Item, kind: str, tail: bool) -> None:
        if tail:
            detail = item.detail
        else:
            detail = (
                f"a torn line ({item.size} bytes) sealed by the next entry, which continues the "
                "chain past it: an interrupted write, not an edit; `guard audit repair` records it"
            )
        torn = Torn(item.file, item.line, item.offset, item.size, item.sha256, self.expected, tail)
        self.pending.append((self.sequence, torn, Break(item.file, item.line, kind, detail, True)))

    def entry(self, item: _Item) -> None:
        assert item.prev is not None and item.hash is not None
        valid, detail = self.check_hash(item)
        if self.unverifiable:
            self.result.unverified += 1
            return
        if not valid:
            self.report(item, "edited", detail)
            self.expected = item.hash  # the next line still chains to the stored hash
            self.remember(item)
            return
        if item.acks:
            acked = set(item.acks)
            still = [p for p in self.pending if (p[1].after, p[1].sha256) not in acked]
            self.result.repaired += len(self.pending) - len(still)
            self.pending = still
        if item.prev == self.expected:
            self.previous_bad = False
            self.expected = item.hash
            self.remember(item)
            return
        self.mislinked(item)

    def check_hash(self, item: _Item) -> tuple[bool, str]:
        """Does the entry's hash hold in the current stretch (unkeyed or keyed)?"""
        where = f"{item.file}:{item.line}"
        if self.keyed_stretch:
            if item.keyed_ok:
                return True, ""
            if item.plain_ok:
                return False, (
                    f"an unkeyed entry inside the keyed stretch that starts at "
                    f"{self.result.keyed_from}: written without the key (was the key turned "
                    "off?) or forged"
                )
            return False, "the hash does not match the content with this key"
        if item.event == audit.KEY_EVENT:
            if self.key is None:
                self.unverifiable = True
                self.result.needs_key = True
                self.result.keyed_from = where
                self.found.append(
                    (
                        self.sequence,
                        Break(
                            item.file,
                            item.line,
                            "edited",
                            f"the log is keyed (HMAC, key id {item.keyid}) from here: it cannot "
                            "be verified without its key; give it with --key-file",
                        ),
                    )
                )
                return False, ""
            if item.keyed_ok:
                self.keyed_stretch, self.result.keyed_from = True, where
                return True, ""
            return False, (
                f"the keyed stretch starting here was keyed with key id {item.keyid}, not with "
                f"this key (id {audit.key_id(self.key)})"
            )
        if item.plain_ok:
            return True, ""
        if item.keyed_ok:  # keyed before the key event existed: the stretch starts here
            self.keyed_stretch, self.result.keyed_from = True, where
            return True, ""
        hint = ""
        if self.position == 0 and self.key is None:
            hint = " (if the log is keyed, give its key with --key-file)"
        elif self.position == 0:
            hint = " (is this the right key?)"
        return False, "the hash does not match the content" + hint

    def mislinked(self, item: _Item) -> None:
        kind, detail, skip, back = _classify(
            item,
            self.expected,
            ahead=self.ahead,
            seen=self.seen,
            position=self.position,
            window=self.window,
        )
        at = None
        if back is not None:  # the inserted lines came before this one: point at the first
            _, file, line = self.behind[len(self.behind) - (self.position - back)]
            at = (file, line)
        if kind == "deleted" and (self.position == 0 or item.first_in_file):
            kind = "truncated"
            if self.missing is not None:
                detail = f"the rotated file {os.path.basename(self.missing)} is missing"
            elif self.position == 0:
                detail = (
                    "the log does not start at GENESIS: older entries or rotated files are missing"
                )
            else:
                detail = (
                    "the file does not continue the chain of the file before it "
                    "(its end was cut, or a file is missing)"
                )
        self.report(item, kind, detail, at)
        if not skip:
            self.expected = item.hash  # type: ignore[assignment]
            self.remember(item)

    def finish(self) -> VerifyResult:
        result = self.result
        for sequence, torn, brk in self.pending:
            result.torn.append(torn)
            self.found.append((sequence, brk))
        self.found.sort(key=lambda pair: pair[0])
        result.breaks = len(self.found)
        result.first_break = self.found[0][1] if self.found else None
        result.ok = not self.found and not result.needs_key
        if result.files:
            result.last_hash = self.expected if self.position else None
        return result


def _missing_rotated(path: str, rotated: list[str]) -> str | None:
    """The first rotated part missing from the numbered sequence, if any."""
    numbers = [int(p.rsplit(".", 1)[1]) for p in rotated]
    for expected, number in enumerate(numbers, 1):
        if number != expected:
            return f"{path}.{expected:06d}"
    return None


def _classify(
    item: _Item,
    expected: str,
    *,
    ahead: deque[_Item],
    seen: dict[str, int],
    position: int,
    window: int,
) -> tuple[str, str, bool, int | None]:
    """Why does `item.prev` not continue the chain?

    -> (kind, detail, skip this item, position of the entry the chain really continues from
    when the inserted lines are the ones before `item`).
    """
    if item.hash in seen:
        return "inserted", "a copy of an earlier entry (replayed line)", True, None
    for distance, later in enumerate(ahead, 1):
        if later.hash == item.prev:
            return (
                "reordered",
                f"this entry continues from an entry {distance} line(s) later in the log",
                False,
                None,
            )
    following = next((i for i in ahead if i.status == "entry"), None)
    if following is not None and following.prev == expected:
        detail = "the chain skips this line: the next entry continues from the one before it"
        return "inserted", detail, True, None
    back = seen.get(item.prev or "")
    if back is not None and back < position:
        skipped = position - back
        detail = (
            f"{skipped} line(s) not part of the chain: the entry after them continues from "
            "the entry before them"
        )
        return "inserted", detail, False, back
    return (
        "deleted",
        f"prev matches no entry within {window} lines: entries are missing before this line "
        "(or the line before it was rewritten and rehashed)",
        False,
        None,
    )


# --- what it means for the user ----------------------------------------------------------------


def describe(result: VerifyResult) -> str:
    """The one-line summary `guard audit verify` prints."""
    if result.ok:
        keyed = ""
        if result.keyed_from:
            keyed = f", keyed from {result.keyed_from}"
        elif result.keyed:
            keyed = ", no keyed entry yet (a key was given)"
        repaired = f", {result.repaired} torn line(s) repaired" if result.repaired else ""
        events = f" and {result.events} event(s)" if result.events else ""
        return (
            f"audit: ok: {result.entries} entries{events} in {len(result.files)} file(s), "
            f"chain intact{keyed}{repaired}; head {result.last_hash}"
        )
    if result.needs_key and result.breaks == 1:
        return (
            f"audit: keyed log: the {result.unverified} line(s) from {result.keyed_from} on "
            "are keyed and cannot be verified without the key"
        )
    torn = f" ({len(result.torn)} torn line(s))" if result.torn else ""
    return f"audit: {result.breaks} broken stretch(es){torn} in {result.entries} entries"


def failure(result: VerifyResult) -> GuardError | None:
    """The error `guard audit verify` exits with: 65 a break (edit, gap, ...), 74 only torn
    lines (interrupted writes: `guard audit repair`), 66 keyed and no key; None when ok."""
    if result.ok or result.first_break is None:
        return None
    b = result.first_break
    where = f"{b.file}:{b.line}"
    others = result.breaks - len(result.torn) - result.needs_key  # edits, gaps, corruption
    if others == 0 and not result.torn:
        return KeyNeeded(
            f"audit: the log is keyed from {result.keyed_from} and cannot be verified without "
            "its key: give it with --key-file, GUARD_AUDIT_KEY_FILE or [audit] key_file"
        )
    if others == 0:
        first = result.torn[0]
        more = f" (and {len(result.torn) - 1} more torn line(s))" if len(result.torn) > 1 else ""
        keyed = "; the keyed rest needs its key (--key-file)" if result.needs_key else ""
        what = f"({b.kind}, torn): {b.detail}" if b.torn else "an interrupted write, not an edit"
        return TornLog(f"audit: torn at {first.file}:{first.line} {what}{more}{keyed}")
    return AuditDataError(f"audit: broken at {where} ({b.kind}): {b.detail}")
