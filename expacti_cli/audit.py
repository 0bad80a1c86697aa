"""The audit log writer: one JSON line per decision, hash-chained, appended under a lock.

Format (DESIGN.md, Audit log): each line is the canonical JSON of the entry (sorted keys,
compact, ASCII; see `jsonline`) with `prev` set to the previous entry's hash, then the field
`hash` appended last: `hash = sha256(canonical)` (or HMAC-SHA256 with the key in keyed mode).
The first entry ever has `prev = GENESIS`. Because `hash` is the last field, the writer finds
the previous hash by reading only the tail of the file: its cost does not grow with the log.

Rotation: when the live file reaches `max_bytes` it is renamed to `<log>.<NNNNNN>` (numbers
grow with age order: higher is newer) and the chain continues into the new live file.
Writers serialise on `<log>.lock` with flock, so concurrent guards never interleave lines.
"""

from __future__ import annotations

import fcntl
import os

from . import jsonline
from .errors import AuditError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

GENESIS = "0" * 64
_HASH_TAIL = '"hash":"'
_TAIL_LEN = len(_HASH_TAIL) + 64 + 2  # "hash":"<64 hex>"}


def _sha256(data: bytes) -> str:
    try:  # the builtin module avoids loading OpenSSL through hashlib (~5 ms)
        from _sha256 import sha256  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - interpreters without it
        from hashlib import sha256
    return str(sha256(data).hexdigest())


def entry_hash(canonical: str, key: bytes | None = None) -> str:
    """The hash of one entry's canonical text (which includes `prev`)."""
    data = canonical.encode("ascii")
    if key is None:
        return _sha256(data)
    import hmac

    return hmac.new(key, data, "sha256").hexdigest()


def read_key(path: str) -> bytes:
    """The HMAC key of a keyed log: the key file's bytes, surrounding whitespace removed."""
    try:
        with open(os.path.expanduser(path), "rb") as f:
            key = f.read().strip()
    except OSError as exc:
        raise AuditError(f"cannot read the audit key file {path}: {exc.strerror}") from exc
    if not key:
        raise AuditError(f"the audit key file {path} is empty")
    return key


def canonical(entry: dict[str, Any]) -> str:
    """The text hashed for an entry: every field but `hash`, canonically encoded."""
    if "hash" in entry:
        entry = {k: v for k, v in entry.items() if k != "hash"}
    return jsonline.dumps(entry)


def rotated_files(path: str) -> list[str]:
    """The rotated parts of the log, oldest first (not the live file)."""
    directory, base = os.path.split(os.path.abspath(path))
    prefix = base + "."
    found: list[tuple[int, str]] = []
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    for name in names:
        suffix = name[len(prefix) :]
        if name.startswith(prefix) and suffix.isdigit():
            found.append((int(suffix), os.path.join(directory, name)))
    return [p for _, p in sorted(found)]


def log_files(path: str) -> list[str]:
    """Every file of the log in chain order: rotated parts oldest first, then the live file."""
    files = rotated_files(path)
    if os.path.exists(path):
        files.append(path)
    return files


def last_hash_in(path: str) -> str | None:
    """The hash of the last complete entry in one file, reading only its tail."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        size = os.fstat(fd).st_size
        step = 4096
        end = size
        while end > 0:
            start = max(0, end - step)
            os.lseek(fd, start, os.SEEK_SET)
            chunk = os.read(fd, end - start + _TAIL_LEN)
            text = chunk.decode("ascii", "replace")
            lines = text.split("\n")
            # lines[0] may be cut; the others are complete if followed by a newline.
            for raw in reversed(lines[1:] if start else lines):
                line = raw.rstrip("\r")
                if len(line) >= _TAIL_LEN and line.endswith('"}'):
                    tail = line[-_TAIL_LEN:]
                    digest = tail[len(_HASH_TAIL) : -2]
                    if tail.startswith(_HASH_TAIL) and _is_hex64(digest):
                        return digest
            if end - start < step or size - start > (1 << 20):
                break  # nothing intact in the last MiB: the chain is broken there anyway
            end = start + len(lines[0])
            step *= 2
        return None
    finally:
        os.close(fd)


def _is_hex64(s: str) -> bool:
    return len(s) == 64 and all(c in "0123456789abcdef" for c in s)


def _previous_hash(path: str) -> str:
    found = last_hash_in(path)
    if found is not None:
        return found
    for older in reversed(rotated_files(path)):
        found = last_hash_in(older)
        if found is not None:
            return found
    return GENESIS


def append(
    path: str,
    entry: dict[str, Any],
    *,
    key: bytes | None = None,
    max_bytes: int = 0,
    fsync: bool = True,
) -> dict[str, Any]:
    """Append one entry (adding `prev` and `hash`) and return it. Raises AuditError."""
    try:
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, mode=0o700, exist_ok=True)
        lock_fd = os.open(path + ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    except OSError as exc:
        raise AuditError(f"cannot write the audit log {path}: {exc.strerror or exc}") from exc
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        entry["prev"] = _previous_hash(path)
        text = canonical(entry)
        entry["hash"] = entry_hash(text, key)
        line = text[:-1] + ',"hash":"' + entry["hash"] + '"}\n'
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            size = os.fstat(fd).st_size
            if size and _ends_without_newline(path, size):
                line = "\n" + line  # never glue a new entry onto a torn last line
            data = line.encode("ascii")
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(28, "short write (disk full?)")
            if fsync:
                os.fsync(fd)
            size += written
        finally:
            os.close(fd)
        if max_bytes and size >= max_bytes:
            _rotate(path)
        return entry
    except OSError as exc:
        raise AuditError(f"cannot write the audit log {path}: {exc.strerror or exc}") from exc
    finally:
        os.close(lock_fd)  # closing releases the flock


def _ends_without_newline(path: str, size: int) -> bool:
    with open(path, "rb") as f:
        f.seek(size - 1)
        return f.read(1) != b"\n"


def _rotate(path: str) -> None:
    """Rename the live file to the next number. Called with the lock held."""
    existing = rotated_files(path)
    number = int(existing[-1].rsplit(".", 1)[1]) + 1 if existing else 1
    os.replace(path, f"{path}.{number:06d}")
