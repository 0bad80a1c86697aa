"""Read a file guard depends on without ever blocking or swallowing memory.

A FIFO in place of a policy, key or agents file would block `open`/`read` forever; `/dev/zero`
would be read until memory runs out; a directory fails with an error that says little. So every
such file is opened with O_NONBLOCK, checked with `fstat` to be a regular file, and read only up
to a bound. Any failure is one `GuardError` line naming the file (its subclass is the caller's:
a policy file raises `PolicyError`, exit 78). A missing file raises `FileNotFoundError` as `open`
would, so callers keep their own meaning for "absent".
"""

from __future__ import annotations

import os
import stat

from .errors import GuardError

MiB = 1024 * 1024

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(
    path: str, what: str, limit: int, error: type[GuardError] = GuardError
) -> tuple[int, int]:
    """(an fd open for reading, close-on-exec, on the regular file `path`; its size), the size
    at most `limit`. Raises like `read_bytes`; the caller closes the fd."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise error(f"{what} {path}: cannot open: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise error(f"{what} {path}: not a regular file ({_kind(st.st_mode)})")
        if st.st_size > limit:
            raise error(f"{what} {path}: too large ({st.st_size} bytes; at most {limit})")
    except OSError as exc:
        os.close(fd)
        raise error(f"{what} {path}: cannot read: {exc.strerror or exc}") from None
    except GuardError:
        os.close(fd)
        raise
    return fd, st.st_size


def read_bytes(path: str, what: str, limit: int, error: type[GuardError] = GuardError) -> bytes:
    """The whole content of the regular file `path`, at most `limit` bytes.

    `what` names the file for the user ("policy file", "audit key file"). Raises
    FileNotFoundError when it does not exist, else `error` with one line naming it.
    """
    fd, expected = open_regular(path, what, limit, error)
    try:
        chunks: list[bytes] = []
        size = 0
        while True:  # the file may grow after fstat: stop one byte past the bound
            # A buffer the size still expected (os.read allocates all it is asked for: 4 MiB
            # for a 4 KB file costs an mmap each call), at least 64 KiB, at most 4 MiB.
            step = min(max(expected + 1 - size, 64 * 1024), 4 * MiB)
            chunk = os.read(fd, min(limit + 1 - size, step))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise error(f"{what} {path}: too large (more than {limit} bytes)")
    except OSError as exc:
        raise error(f"{what} {path}: cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    return b"".join(chunks)


def read_text(path: str, what: str, limit: int, error: type[GuardError] = GuardError) -> str:
    """Like `read_bytes`, decoded as UTF-8; bad bytes are an `error` naming the offset."""
    raw = read_bytes(path, what, limit, error)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{what} {path}: not UTF-8 text (byte {exc.start})") from None
