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

Memory: only a window of `WINDOW` hashes behind and `WINDOW` lines ahead is kept, so verifying a
log of any size stays within a few megabytes. A `prev` that points further away than the window
is reported as `deleted` (the detail says how far the search looked).

Not detectable from the log alone: the newest lines of the live file cut away cleanly (the chain
before them is intact). Keep a copy of the last hash elsewhere to close that gap.
"""

from __future__ import annotations

import json
import os
from collections import deque
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from . import audit
from .errors import AuditDataError

WINDOW = 1024
_TAIL = ',"hash":"'
_TAIL_LEN = len(_TAIL) + 64 + 2
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class Break:
    file: str
    line: int
    kind: str  # edited | deleted | inserted | reordered | truncated | corrupt
    detail: str


@dataclass
class VerifyResult:
    ok: bool = True
    entries: int = 0  # lines that hold an entry (intact or not)
    files: list[str] = field(default_factory=list)
    first_break: Break | None = None
    breaks: int = 0  # separate broken stretches (consecutive bad lines count once)
    keyed: bool = False
    last_hash: str | None = None  # the head of the chain: keep it elsewhere to detect cut tails

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class _Item:
    file: str
    line: int
    status: str  # ok | edited | corrupt | torn | empty
    prev: str | None = None
    hash: str | None = None
    first_in_file: bool = False
    detail: str = ""


def _is_hex64(value: object) -> bool:
    return isinstance(value, str) and len(value) == 64 and _HEX.issuperset(value)


def _check_line(text: str, key: bytes | None) -> tuple[str, str | None, str | None, str]:
    """(status, prev, hash, detail) of one line (without its newline)."""
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        obj = None
    if not isinstance(obj, dict):
        shown = text if len(text) <= 60 else text[:57] + "..."
        return "corrupt", None, None, f"not a JSON object: {shown!r}"
    prev, stored = obj.get("prev"), obj.get("hash")
    if not _is_hex64(stored) or not _is_hex64(prev):
        missing = [k for k, v in (("prev", prev), ("hash", stored)) if not _is_hex64(v)]
        return "corrupt", None, None, f"no valid {' and '.join(missing)} field"
    # Fast path: the writer's own line is `canonical[:-1] + ',"hash":"H"}'`.
    if (
        text.endswith('"}')
        and text[-_TAIL_LEN:].startswith(_TAIL)
        and text[-66:-2] == stored
        and audit.entry_hash(text[:-_TAIL_LEN] + "}", key) == stored
    ):
        return "ok", prev, stored, ""
    # A line re-encoded (spacing, key order) with the same content still verifies.
    try:
        canonical = audit.canonical(obj)
    except (TypeError, ValueError):
        canonical = None
    if canonical is not None and audit.entry_hash(canonical, key) == stored:
        return "ok", prev, stored, ""
    return "edited", prev, stored, "the hash does not match the content"


def _items(files: list[str], key: bytes | None) -> Iterator[_Item]:
    for file in files:
        try:
            f = open(file, encoding="ascii", errors="surrogateescape", newline="\n")  # noqa: SIM115
        except FileNotFoundError:
            yield _Item(file, 0, "missing", detail="the file disappeared while verifying")
            continue
        except OSError as exc:
            raise AuditDataError(f"cannot read the audit log {file}: {exc.strerror}") from exc
        with f:
            first = True
            for lineno, raw in enumerate(f, 1):
                if not raw.endswith("\n"):
                    status, prev, digest, detail = _check_line(raw, key)
                    if status != "ok":
                        yield _Item(
                            file,
                            lineno,
                            "torn",
                            detail="the file ends in the middle of a line (cut short)",
                        )
                        continue
                    text = raw
                else:
                    text = raw[:-1]
                    if not text.strip():
                        yield _Item(file, lineno, "corrupt", detail="empty line")
                        continue
                    status, prev, digest, detail = _check_line(text, key)
                yield _Item(file, lineno, status, prev, digest, first, detail)
                first = False


def _missing_rotated(path: str) -> str | None:
    """The first rotated part missing from the numbered sequence, if any."""
    numbers = [int(p.rsplit(".", 1)[1]) for p in audit.rotated_files(path)]
    for expected, number in enumerate(numbers, 1):
        if number != expected:
            return f"{path}.{expected:06d}"
    return None


def verify(path: str, key: bytes | None = None, *, window: int = WINDOW) -> VerifyResult:
    """Walk the whole chain; see the module docstring for what each break kind means."""
    files = audit.log_files(path)
    result = VerifyResult(files=files, keyed=key is not None)
    missing = _missing_rotated(path)
    items = _items(files, key)
    ahead: deque[_Item] = deque()
    behind: deque[tuple[str, str, int]] = deque()  # (hash, file, line) of the last entries
    seen: dict[str, int] = {}  # hash -> position, for the entries in `behind`
    position = 0
    expected = audit.GENESIS
    previous_bad = False
    exhausted = False

    def fill() -> None:
        nonlocal exhausted
        while not exhausted and len(ahead) <= window:
            item = next(items, None)
            if item is None:
                exhausted = True
            else:
                ahead.append(item)

    def remember(item: _Item) -> None:
        nonlocal position
        assert item.hash is not None
        position += 1
        behind.append((item.hash, item.file, item.line))
        seen[item.hash] = position
        if len(behind) > window:
            old = behind.popleft()[0]
            if seen.get(old, 0) <= position - window:
                seen.pop(old, None)

    def report(item: _Item, kind: str, detail: str, at: tuple[str, int] | None = None) -> None:
        nonlocal previous_bad
        if not previous_bad:
            result.breaks += 1
            if result.first_break is None:
                file, line = at or (item.file, item.line)
                result.first_break = Break(file, line, kind, detail)
        result.ok = False
        previous_bad = True

    fill()
    while ahead:
        item = ahead.popleft()
        fill()
        if item.status == "missing":
            report(item, "truncated", item.detail)
            continue
        if item.status != "empty":
            result.entries += 1
        if item.status in ("corrupt", "empty"):
            report(item, "corrupt", item.detail)
            continue  # the writer continues the chain from the last intact line
        if item.status == "torn":
            report(item, "truncated", item.detail)
            continue
        assert item.prev is not None and item.hash is not None
        if item.status == "edited":
            hint = ""
            if position == 0 and key is None:
                hint = " (if the log is keyed, give its key with --key-file)"
            elif position == 0:
                hint = " (is this the right key?)"
            report(item, "edited", item.detail + hint)
            expected = item.hash  # the next line still chains to the stored hash
            remember(item)
            continue
        if item.prev == expected:
            previous_bad = False
            expected = item.hash
            remember(item)
            continue
        kind, detail, skip, back = _classify(
            item, expected, ahead=ahead, seen=seen, position=position, window=window
        )
        at = None
        if back is not None:  # the inserted lines came before this one: point at the first
            _, file, line = behind[len(behind) - (position - back)]
            at = (file, line)
        if kind == "deleted" and (position == 0 or item.first_in_file):
            kind = "truncated"
            if missing is not None:
                detail = f"the rotated file {os.path.basename(missing)} is missing"
            elif position == 0:
                detail = (
                    "the log does not start at GENESIS: older entries or rotated files are missing"
                )
            else:
                detail = (
                    "the file does not continue the chain of the file before it "
                    "(its end was cut, or a file is missing)"
                )
        report(item, kind, detail, at)
        if not skip:
            expected = item.hash
            remember(item)
    if files:
        result.last_hash = expected if position else None
    return result


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
    following = next((i for i in ahead if i.status in ("ok", "edited")), None)
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
