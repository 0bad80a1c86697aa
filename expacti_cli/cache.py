"""The compiled-policy cache: marshal, keyed by the sources' paths, invalidated by any change.

The stamp holds (path, mtime_ns, size, inode) of every source, or (path, None) for a missing
one, so creating, editing, replacing or deleting a policy file invalidates it. A cache file
that is corrupt, from another version or for other sources is rebuilt, never trusted: its
payload carries a CRC-32 that is checked before `marshal.loads` (a checksum against torn or
damaged files, not a signature: whoever can write the cache can write the policy too, see the
threat model).

Layout: `crc32(payload)` (8 hex digits), then the payload: the header's length (8 hex
digits), the header (marshal), and the blob area. Every table of blobs (a dict whose values
are all bytes: rules, programs, grammars by name) is kept in the area, and the header holds
its index; reading gives a `Slices` mapping that copies out only the blobs a decision asks
for, so a call does not build a thousand bytes objects it never reads.
"""

from __future__ import annotations

import marshal
import os
import zlib

# `_collections_abc` is loaded by every interpreter at start (`collections.abc` is not).
from _collections_abc import Mapping

from . import __version__, paths

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

FORMAT = 11  # 11: tables of blobs in an area of the file, read through an index


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


class Slices(Mapping):  # type: ignore[type-arg]  # Mapping[str, bytes]; no `typing` at run time
    """A table of blobs kept in the cache file's area: name -> bytes, each copied out when
    asked for. Its index is the names in order and their (offset, size) spans packed 8 bytes
    each: unmarshalling it builds two objects, not a dict of a thousand tuples, and a decision
    looks up only a few names. A span that does not fit the area raises ValueError (never a
    short blob)."""

    __slots__ = ("_base", "_blob", "_names", "_spans")

    def __init__(self, blob: bytes, base: int, names: tuple[str, ...], spans: bytes) -> None:
        self._blob, self._base, self._names, self._spans = blob, base, names, spans

    def __getitem__(self, name: str) -> bytes:
        try:
            i = self._names.index(name)
        except ValueError:
            raise KeyError(name) from None
        span = self._spans[8 * i : 8 * i + 8]
        first = self._base + int.from_bytes(span[:4], "little")
        end = first + int.from_bytes(span[4:], "little")
        if end > len(self._blob):
            raise ValueError(f"policy cache: the blob of {name!r} lies past the end")
        return self._blob[first:end]

    def __contains__(self, name: object) -> bool:
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _is_table(value: object) -> bool:
    return isinstance(value, dict) and bool(value) and all(type(v) is bytes for v in value.values())


class _Area:
    """The blob area being written: the chunks, and the offset of the next one."""

    __slots__ = ("chunks", "size")

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, blob: bytes) -> bytes:
        """Append `blob`; its span, packed as `Slices` reads it."""
        self.chunks.append(blob)
        self.size += len(blob)
        return (self.size - len(blob)).to_bytes(4, "little") + len(blob).to_bytes(4, "little")


def _split(
    obj: dict[str, Any], path: tuple[str, ...], area: _Area, tables: list[tuple[str, ...]]
) -> dict[str, Any]:
    """A copy of `obj` with every table of blobs replaced by its index into `area`; `tables`
    collects the key paths of the tables."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if _is_table(value):
            out[key] = (tuple(value), b"".join(area.add(blob) for blob in value.values()))
            tables.append((*path, key))
        elif isinstance(value, dict):
            out[key] = _split(value, (*path, key), area, tables)
        else:
            out[key] = value
    return out


def _join(blob: bytes, base: int, head: object, tables: object) -> dict[str, Any] | None:
    """The header with each table's index replaced by its `Slices`; None if malformed."""
    if not isinstance(head, dict) or not isinstance(tables, list):
        return None
    for path in tables:
        if not isinstance(path, tuple) or not path:
            return None
        node: Any = head
        for key in path[:-1]:
            node = node.get(key) if isinstance(node, dict) else None
        index = node.get(path[-1]) if isinstance(node, dict) else None
        if not (isinstance(index, tuple) and len(index) == 2):
            return None
        names, spans = index
        if not (isinstance(names, tuple) and isinstance(spans, bytes)):
            return None
        if len(spans) != 8 * len(names):
            return None
        node[path[-1]] = Slices(blob, base, names, spans)
    return head


def _read(target: str, current: tuple[tuple[Any, ...], ...]) -> dict[str, Any] | None:
    from .errors import GuardError
    from .safefile import read_bytes

    try:  # a FIFO, device or huge file in its place is stale too: never block on it
        blob = read_bytes(target, "policy cache", MAX_CACHE_BYTES)
    except (OSError, GuardError):
        return None
    view = memoryview(blob)  # no copies of the area: blobs are sliced from `blob` itself
    if len(blob) < 16 or blob[:8] != b"%08x" % zlib.crc32(view[8:]):
        return None
    try:
        size = int(blob[8:16], 16)
        fmt, version, head, tables = marshal.loads(view[16 : 16 + size])
    except (ValueError, EOFError, TypeError):
        return None
    if fmt != FORMAT or version != __version__:
        return None
    data = _join(blob, 16 + size, head, tables)
    if data is None or data.get("stamp") != current:
        return None
    return data


def _write(target: str, data: dict[str, Any]) -> None:
    """Best effort: a cache that cannot be written only costs speed."""
    area = _Area()
    tables: list[tuple[str, ...]] = []
    head = _split(data, (), area, tables)
    header = marshal.dumps((FORMAT, __version__, head, tables))
    payload = b"".join([b"%08x" % len(header), header, *area.chunks])
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
