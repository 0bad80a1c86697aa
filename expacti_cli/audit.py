"""The audit log writer: one JSON line per decision, hash-chained, appended under a lock.

Format (DESIGN.md, Audit log): each line is the canonical JSON of the entry (sorted keys,
compact, ASCII; see `jsonline`) with `prev` set to the previous entry's hash, then the field
`hash` appended last: `hash = sha256(canonical)` (or HMAC-SHA256 with the key in keyed mode).
The first entry ever has `prev = GENESIS`. Because `hash` is the last field, the writer finds
the previous hash by reading only the end of the file, whatever the size of the last entry.

Rotation: when the live file reaches `max_bytes` it is renamed to `<log>.<NNNNNN>` (numbers
grow with age order: higher is newer) and the chain continues into the new live file. A log
that cannot be renamed (append-only, `chattr +a`) keeps growing, with a warning: the entry is
already written, so the command it allows must run.
Writers serialise on `<log>.lock` with a POSIX record lock (`os.lockf`, in the `os` module:
the `fcntl` module would cost every decision a library load), so concurrent guards never
interleave lines; readers that need a still moment (`auditverify`) take a shared record lock on
the same file, which the writers' lock excludes. Record locks belong to a process, not to a
descriptor: threads of one process are serialised by `_IN_PROCESS` as well, and nothing here
opens the lock file twice while holding it (closing any descriptor of it would release it).

Faults: the log must be a regular file (not a symlink, FIFO or device: opened without blocking
and checked with fstat). A write that fails or comes up short (full disk) is rolled back to
the previous size under the lock, so the chain stays verifiable and the command is denied.

Keys: a keyed writer whose previous entry is not keyed with its key first writes an
`audit-key-on` event (HMAC'd with the new key), so `verify` knows where the keyed stretch
starts, and says that a log is keyed when it has no key to check it with.
"""

from __future__ import annotations

import _thread
import errno
import os
import stat
import sys
import time

from . import jsonline
from .errors import AuditError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

GENESIS = "0" * 64
KEY_EVENT = "audit-key-on"  # the event that starts a keyed stretch
REPAIR_EVENT = "audit-repair"  # written by `guard audit repair`
_HASH_TAIL = b'"hash":"'
_TAIL_LEN = len(_HASH_TAIL) + 64 + 2  # "hash":"<64 hex>"}
_HEX = b"0123456789abcdef"
_KEY_MAX = 64 * 1024  # a key file larger than this is not a key
_SCAN = 64 * 1024  # bytes read per step when looking backwards for a line start

# open(2) flags: never follow a symlink to the log, never block on a FIFO or device.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_SAFE = _NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)


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


def key_id(key: bytes) -> str:
    """A short public name for a key (says which key, reveals nothing of it)."""
    return _sha256(b"expacti-guard audit key id\0" + key)[:16]


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISDIR(mode):
        return "a directory"
    return "not a regular file"


def open_regular(
    path: str, flags: int, what: str = "the audit log", *, follow: bool = False
) -> int:
    """Open `path` as a regular file, or raise AuditError naming it and what it is instead.

    Never blocks (a FIFO or a device answers at once) and, unless `follow`, never follows a
    symlink: a log that is a link to /dev/null or /dev/stdout would discard every entry.
    """
    extra = _SAFE if not follow else _SAFE & ~_NOFOLLOW
    try:
        fd = os.open(path, flags | extra, 0o600)
    except OSError as exc:
        problem = exc.strerror or str(exc)
        if exc.errno in (errno.ELOOP, errno.ENXIO):  # a symlink (O_NOFOLLOW); a FIFO, no reader
            try:
                problem = f"it is {_kind(os.lstat(path).st_mode)}, not a regular file"
            except OSError:
                pass
        raise AuditError(f"cannot use {what} {path}: {problem}") from exc
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise AuditError(f"cannot use {what} {path}: it is {_kind(mode)}, not a regular file")
    return fd


def read_key(path: str) -> bytes:
    """The HMAC key of a keyed log: the key file's bytes, surrounding whitespace removed."""
    path = os.path.expanduser(path)
    fd = open_regular(path, os.O_RDONLY, "the audit key file", follow=True)  # secrets: links ok
    try:
        key = os.read(fd, _KEY_MAX + 1)
    except OSError as exc:
        raise AuditError(f"cannot read the audit key file {path}: {exc.strerror}") from exc
    finally:
        os.close(fd)
    if len(key) > _KEY_MAX:
        raise AuditError(f"the audit key file {path} is larger than {_KEY_MAX} bytes: not a key")
    key = key.strip()
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
    if os.path.lexists(path):
        files.append(path)
    return files


# --- finding the end of the chain --------------------------------------------------------------


def _is_hex64(s: bytes) -> bool:
    return len(s) == 64 and all(c in _HEX for c in s)


def _pread(fd: int, n: int, offset: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = os.pread(fd, n - len(data), offset + len(data))
        if not chunk:
            break
        data += chunk
    return data


def _newline_before(fd: int, end: int) -> int:
    """The offset of the last newline before `end`, or -1 (reads backwards, any distance)."""
    step = _SCAN
    while end > 0:
        start = max(0, end - step)
        found = _pread(fd, end - start, start).rfind(b"\n")
        if found >= 0:
            return start + found
        end = start
        step = min(step * 2, 1 << 22)
    return -1


def last_entry(fd: int, size: int, *, find_start: bool = True) -> tuple[str, int, int] | None:
    """(hash, start, end) of the last intact entry in an open file of `size` bytes.

    An intact entry is a line that ends with `"hash":"<64 hex>"}` (the writer's format);
    `end` excludes its newline. Lines after it (torn or corrupt) are skipped, whatever their
    size: only their newlines are looked for, so the cost is the length of the damage.
    Without `find_start` (an unkeyed writer needs only the hash) `start` is -1 and the line
    before the hash is not read.
    """
    end = size
    if size and _pread(fd, 1, size - 1) == b"\n":
        end = size - 1
    while end > 0:
        if end >= _TAIL_LEN:
            tail = _pread(fd, _TAIL_LEN, end - _TAIL_LEN)
            digest = tail[len(_HASH_TAIL) : -2]
            if tail.startswith(_HASH_TAIL) and tail.endswith(b'"}') and _is_hex64(digest):
                start = _newline_before(fd, end) + 1 if find_start else -1
                return digest.decode("ascii"), start, end
        end = _newline_before(fd, end)
    return None


def last_hash_in(path: str) -> str | None:
    """The hash of the last complete entry in one file, whatever the size of that entry."""
    try:
        fd = open_regular(path, os.O_RDONLY)
    except AuditError:
        if not os.path.lexists(path):
            return None
        raise
    try:
        found = last_entry(fd, os.fstat(fd).st_size, find_start=False)
        return found[0] if found else None
    finally:
        os.close(fd)


def _previous(path: str, fd: int, size: int, find_start: bool) -> tuple[str, int, int, int]:
    """(hash, fd, start, end) of the entry the next one chains to: in the live file, else in
    the newest rotated part that has one (a new live file after rotation). fd is -1 for
    GENESIS; when it is not the live file's `fd`, the caller closes it."""
    found = last_entry(fd, size, find_start=find_start)
    if found is not None:
        return found[0], fd, found[1], found[2]
    for older in reversed(rotated_files(path)):
        other = open_regular(older, os.O_RDONLY, "the rotated audit log")
        found = last_entry(other, os.fstat(other).st_size, find_start=find_start)
        if found is not None:
            return found[0], other, found[1], found[2]
        os.close(other)
    return GENESIS, -1, 0, 0


def _keyed_with(key: bytes, fd: int, start: int, end: int, digest: str) -> bool:
    """Was the entry at [start, end) hashed with `key`? (Reads that whole line, once.)"""
    if fd < 0:
        return False
    line = _pread(fd, end - start, start)
    body = line[: -(_TAIL_LEN + 1)]  # without `,"hash":"<64 hex>"}`
    try:
        return entry_hash(body.decode("ascii") + "}", key) == digest
    except UnicodeDecodeError:
        return False


# --- writing -----------------------------------------------------------------------------------


_IN_PROCESS = _thread.allocate_lock()  # record locks do not exclude threads of one process


def lock(path: str) -> int:
    """Take the writers' lock of the log (blocking); `unlock` the returned fd to release it."""
    try:
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise AuditError(f"cannot write the audit log {path}: {exc.strerror or exc}") from exc
    fd = open_regular(path + ".lock", os.O_WRONLY | os.O_CREAT, "the audit lock file")
    _IN_PROCESS.acquire()
    try:
        os.lockf(fd, os.F_LOCK, 0)
    except OSError as exc:
        _IN_PROCESS.release()
        os.close(fd)
        raise AuditError(f"cannot lock the audit log {path}: {exc.strerror}") from exc
    return fd


def unlock(fd: int) -> None:
    """Release the writers' lock taken by `lock` (closing the fd releases the record lock)."""
    try:
        os.close(fd)
    finally:
        _IN_PROCESS.release()


def _refuse_special(path: str) -> None:
    """Refuse a log that exists and is not a regular file before creating anything beside it."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise AuditError(f"cannot use the audit log {path}: {exc.strerror}") from exc
    if not stat.S_ISREG(mode):
        raise AuditError(
            f"cannot use the audit log {path}: it is {_kind(mode)}, not a regular file"
        )


def append(
    path: str,
    entry: dict[str, Any],
    *,
    key: bytes | None = None,
    max_bytes: int = 0,
    fsync: bool = True,
) -> dict[str, Any]:
    """Append one entry (adding `prev` and `hash`) and return it. Raises AuditError (the
    command must not run); the partial entry is then rolled back, or, when the file cannot be
    truncated (append-only), the error says a torn line is left for `guard audit repair`."""
    _refuse_special(path)
    lock_fd = lock(path)
    try:
        return append_locked(path, entry, key=key, max_bytes=max_bytes, fsync=fsync)
    except OSError as exc:  # listing or reading the rotated parts
        raise AuditError(f"cannot write the audit log {path}: {exc.strerror or exc}") from exc
    finally:
        unlock(lock_fd)


def append_locked(
    path: str,
    entry: dict[str, Any],
    *,
    key: bytes | None = None,
    max_bytes: int = 0,
    fsync: bool = True,
) -> dict[str, Any]:
    """`append` for a caller that already holds the lock (`guard audit repair`)."""
    fd = open_regular(path, os.O_RDWR | os.O_APPEND | os.O_CREAT)
    try:
        size = os.fstat(fd).st_size
        # Only a keyed writer reads the previous line (is it keyed with this key?).
        prev, prev_fd, start, end = _previous(path, fd, size, key is not None)
        try:
            marker = key is not None and not _keyed_with(key, prev_fd, start, end, prev)
        finally:
            if prev_fd not in (fd, -1):
                os.close(prev_fd)
        data = ""
        if size and _pread(fd, 1, size - 1) != b"\n":
            data = "\n"  # never glue a new entry onto a torn last line
        if marker:
            assert key is not None
            event = new_event(KEY_EVENT, keyid=key_id(key), reason="audit key turned on")
            event_line, prev = _seal(event, prev, key)
            data += event_line
        line, _ = _seal(entry, prev, key)
        _write_all(path, fd, size, (data + line).encode("ascii"), fsync)
        size += len(data) + len(line)
    finally:
        os.close(fd)
    if max_bytes and size >= max_bytes:
        try:
            _rotate(path)
        except OSError as exc:  # the entry is written: its command runs; say why it grows
            sys.stderr.write(
                f"guard: warning: cannot rotate the audit log {path} ({exc.strerror}); "
                "still appending to it\n"
            )
    return entry


def _seal(entry: dict[str, Any], prev: str, key: bytes | None) -> tuple[str, str]:
    """(the line for `entry` chained after `prev`, its hash); sets entry's prev and hash."""
    entry.pop("hash", None)
    entry["prev"] = prev
    text = canonical(entry)
    entry["hash"] = entry_hash(text, key)
    return text[:-1] + ',"hash":"' + entry["hash"] + '"}\n', entry["hash"]


def _write_all(path: str, fd: int, size: int, data: bytes, fsync: bool) -> None:
    """Write `data` at the end, or roll the file back to `size` and raise AuditError."""
    done = 0
    try:
        while done < len(data):
            written = os.write(fd, data[done:])
            if written <= 0:
                raise OSError(28, "No space left on device")
            done += written
        if fsync:
            os.fsync(fd)
    except OSError as exc:
        why = exc.strerror or str(exc)
        try:
            os.ftruncate(fd, size)  # the chain stays as it was: verify still passes
        except OSError as undo:
            raise AuditError(
                f"cannot write the audit log {path}: {why}; the partial entry could not be "
                f"removed ({undo.strerror}): `guard audit repair` records it"
            ) from exc
        raise AuditError(
            f"cannot write the audit log {path}: {why} (nothing was recorded)"
        ) from exc


def new_event(event: str, **fields: Any) -> dict[str, Any]:
    """An entry that records something guard did to its own log (not a decision)."""
    now = time.time()
    ms = int(now * 1000) % 1000
    entry: dict[str, Any] = {
        "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{ms:03d}Z",
        "id": f"{int(now * 1000):012x}{os.urandom(8).hex()}",
        "event": event,
        "agent": "guard",
        "user": user_name(),
        "host": os.uname().nodename,
        "command": f"({event})",
    }
    entry.update(fields)
    return entry


_ACCOUNTS = "/etc/passwd"
_ACCOUNTS_MAX = 64 * 1024 * 1024


def user_name(uid: int | None = None) -> str:
    """The account name of `uid` (this process's by default), as every entry records it.

    /etc/passwd is read first: the C library's lookup loads its NSS modules before it looks
    there (~90 us of every decision), while the file takes ~10 us and is root's to change,
    never the agent's. An account it does not name (a directory service) is looked up through
    NSS; one nobody names is its number (never $USER, which the agent sets)."""
    uid = os.getuid() if uid is None else uid
    try:
        st = os.stat(_ACCOUNTS)
        stamp: object = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
    except OSError:
        stamp = None
    held = _NAMES.get(uid)
    if held is not None and held[0] == stamp and stamp is not None:
        return held[1]  # a server names its own user on every entry: read once per change
    name = _user_name(uid)
    _NAMES[uid] = (stamp, name)
    return name


_NAMES: dict[int, tuple[object, str]] = {}  # uid -> (/etc/passwd's stamp, name)


def _user_name(uid: int) -> str:
    from .errors import GuardError
    from .safefile import read_text

    wanted = str(uid)
    try:
        text = read_text(_ACCOUNTS, "account database", _ACCOUNTS_MAX)
    except (OSError, GuardError):
        text = ""
    for line in text.splitlines():
        fields = line.split(":", 3)
        if len(fields) == 4 and fields[2] == wanted and fields[0][:1] not in ("", "+", "-"):
            return fields[0]
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return wanted


def _rotate(path: str) -> None:
    """Rename the live file to the next number. Called with the lock held."""
    existing = rotated_files(path)
    number = int(existing[-1].rsplit(".", 1)[1]) + 1 if existing else 1
    os.replace(path, f"{path}.{number:06d}")
