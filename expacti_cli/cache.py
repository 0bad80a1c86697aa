"""The compiled-policy cache: marshal, keyed by the sources' paths, invalidated by any change.

The stamp holds (path, mtime_ns, size, inode) of every source, or (path, None) for a missing
one, so creating, editing, replacing or deleting a policy file invalidates it. A cache file
that is corrupt, from another version or for other sources is rebuilt, never trusted: its
payload carries a CRC-32 that is checked before `marshal.loads` (a checksum against torn or
damaged files, not a signature: whoever can write the cache can write the policy too, see the
threat model).
"""

from __future__ import annotations

import marshal
import os
import zlib

from . import __version__, paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

FORMAT = 10  # 10: the shell catalogue by key, its program tables by entry


def stamp(files: list[str]) -> tuple[tuple[Any, ...], ...]:
    out: list[tuple[Any, ...]] = []
    for path in files:
        try:
            st = os.stat(path)
        except FileNotFoundError:
            out.append((path, None))
        else:
            out.append((path, st.st_mtime_ns, st.st_size, st.st_ino))
    return tuple(out)


def cache_file(files: list[str]) -> str:
    from .audit import _sha256

    key = _sha256("\0".join(files).encode("utf-8", "surrogateescape"))[:24]
    return os.path.join(paths.cache_dir(), f"policy-{key}.marshal")


# The compiled form of 10,000 rules is a few MB: a larger cache file is not ours.
MAX_CACHE_BYTES = 64 * 1024 * 1024


def load_or_compile(
    files: list[str],
    compile_files: Callable[[list[str]], dict[str, Any]],
    valid: Callable[[dict[str, Any]], bool] | None = None,
) -> dict[str, Any]:
    """The compiled sources, from the cache when it is current and `valid(data)` accepts its
    shape (a hand-made or foreign cache is stale, never trusted), else compiled afresh."""
    current = stamp(files)
    target = cache_file(files)
    data = _read(target, current)
    if data is not None and (valid is None or valid(data)):
        return data
    data = compile_files(files)
    data["stamp"] = current
    # A file edited during compilation must not be cached under its new stamp.
    if stamp(files) == current:
        _write(target, data)
    return data


def _read(target: str, current: tuple[tuple[Any, ...], ...]) -> dict[str, Any] | None:
    from .errors import GuardError
    from .safefile import read_bytes

    try:  # a FIFO, device or huge file in its place is stale too: never block on it
        blob = read_bytes(target, "policy cache", MAX_CACHE_BYTES)
    except (OSError, GuardError):
        return None
    digest, payload = blob[:8], blob[8:]
    if len(blob) < 8 or digest != b"%08x" % zlib.crc32(payload):
        return None
    try:
        fmt, version, data = marshal.loads(payload)
    except (ValueError, EOFError, TypeError):
        return None
    if fmt != FORMAT or version != __version__ or not isinstance(data, dict):
        return None
    if data.get("stamp") != current:
        return None
    return data


def _write(target: str, data: dict[str, Any]) -> None:
    """Best effort: a cache that cannot be written only costs speed."""
    payload = marshal.dumps((FORMAT, __version__, data))
    blob = b"%08x" % zlib.crc32(payload) + payload
    directory = os.path.dirname(target)
    tmp = f"{target}.{os.getpid()}.tmp"
    try:
        paths.ensure_dir(directory)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, blob)
        finally:
            os.close(fd)
        os.replace(tmp, target)
    except OSError:
        try:
            os.unlink(tmp)
        except OSError:
            pass
