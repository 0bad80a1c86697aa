"""The compiled-policy cache: marshal, keyed by the sources' paths, invalidated by any change.

The stamp holds (path, mtime_ns, size, inode) of every source, or (path, None) for a missing
one, so creating, editing, replacing or deleting a policy file invalidates it. A cache file
that is corrupt, from another version or for other sources is rebuilt, never trusted: its
payload carries a CRC-32 that is checked before `marshal.loads` (a checksum against torn or
damaged files, not a signature: whoever can write the cache can write the policy too, see the
threat model).

Layout: the CRC-32 of the header part (8 hex digits), then the header part: the header's
length (8 hex digits) and the header (marshal), then the blob area. Every table of blobs (a
dict whose values are all bytes: rules, programs, grammars by name) is kept in the area, and
the header holds its index: each blob's offset, size and own CRC-32. A call reads and checks
only the header part (the file's size must be the one the header gives: a truncated file is
stale), and a `Slices` mapping reads each blob a decision asks for from the open file
(`os.pread`) and checks its CRC then: a call neither reads nor checks the grammar data it never
uses, and damage in a blob it uses is still caught. The file is written by atomic rename, so the
fd read from keeps the file that was checked even if a new cache replaces it.
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

FORMAT = 13  # 12: a CRC for the header part and one per blob, blobs read on demand;
# 13: a table's names are one NUL-separated string


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


class _File:
    """The cache file a `Slices` reads from: its fd (close-on-exec, closed with this object),
    its path, and where the blob area lies in it."""

    __slots__ = ("area", "end", "fd", "path")

    def __init__(self, fd: int, path: str, area: int, end: int) -> None:
        self.fd, self.path, self.area, self.end = fd, path, area, end

    def __del__(self, _close: Any = os.close) -> None:
        # `os.close` bound at definition: at interpreter exit the module's globals may be
        # gone before the last policy is collected.
        try:
            _close(self.fd)
        except OSError:
            pass

    def discard(self) -> None:
        """Remove the damaged file so the next call rebuilds it (unless a new cache has
        already replaced it)."""
        try:
            if os.stat(self.path).st_ino == os.fstat(self.fd).st_ino:
                os.unlink(self.path)
        except OSError:
            pass


class Slices(Mapping):  # type: ignore[type-arg]  # Mapping[str, bytes]; no `typing` at run time
    """A table of blobs kept in the cache file's area: name -> bytes, each read from the file
    and checked when asked for. Its index is two flat objects: the names in order, each
    followed by a NUL in one string (found with `str.find`), and their (offset, size, CRC-32)
    packed 12 bytes each. Unmarshalling it builds two objects, not a tuple of a thousand names,
    and a decision looks up only a few. A span that does not fit the area, or a blob whose
    CRC does not match, raises ValueError (never a short or damaged blob): the decision that
    needed it denies, and a damaged file is removed so the next call rebuilds it."""

    __slots__ = ("_file", "_names", "_spans")

    def __init__(self, file: _File, names: str, spans: bytes) -> None:
        self._file, self._names, self._spans = file, names, spans

    def _index(self, name: object) -> int:
        """The position of `name` in the table, or -1. A name holding a NUL is in no table
        (`_split` leaves such names out: no argv word or shell word can hold one)."""
        if type(name) is not str or "\0" in name:
            return -1
        names = self._names
        if names.startswith(name + "\0"):
            return 0
        at = names.find("\0" + name + "\0")
        return -1 if at < 0 else names.count("\0", 0, at) + 1

    def __getitem__(self, name: str) -> bytes:
        i = self._index(name)
        if i < 0:
            raise KeyError(name)
        span = self._spans[12 * i : 12 * i + 12]
        file = self._file
        first = file.area + int.from_bytes(span[:4], "little")
        size = int.from_bytes(span[4:8], "little")
        if first + size > file.end:
            raise ValueError(f"policy cache: the blob of {name!r} lies past the end")
        blob = os.pread(file.fd, size, first)
        if len(blob) != size or zlib.crc32(blob) != int.from_bytes(span[8:], "little"):
            file.discard()
            raise ValueError(f"policy cache: the blob of {name!r} is damaged")
        return blob

    def __contains__(self, name: object) -> bool:
        return self._index(name) >= 0

    def __iter__(self) -> Iterator[str]:
        return iter(self._names.split("\0")[:-1])

    def __len__(self) -> int:
        return len(self._spans) // 12


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
        offset = (self.size - len(blob)).to_bytes(4, "little")
        return offset + len(blob).to_bytes(4, "little") + zlib.crc32(blob).to_bytes(4, "little")


def _split(
    obj: dict[str, Any], path: tuple[str, ...], area: _Area, tables: list[tuple[str, ...]]
) -> dict[str, Any]:
    """A copy of `obj` with every table of blobs replaced by its index into `area`; `tables`
    collects the key paths of the tables."""
    out: dict[str, Any] = {}
    for key, value in obj.items():
        if _is_table(value):
            # NUL ends each name in the index; a name holding one can never be looked up.
            kept = {name: blob for name, blob in value.items() if "\0" not in name}
            index = "".join(name + "\0" for name in kept)
            out[key] = (index, b"".join(area.add(blob) for blob in kept.values()))
            tables.append((*path, key))
        elif isinstance(value, dict):
            out[key] = _split(value, (*path, key), area, tables)
        else:
            out[key] = value
    return out


def _join(file: _File, head: object, tables: object) -> dict[str, Any] | None:
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
        if not (type(names) is str and type(spans) is bytes):
            return None
        if len(spans) != 12 * names.count("\0") or (names and not names.endswith("\0")):
            return None
        node[path[-1]] = Slices(file, names, spans)
    return head


# The header part is read with one call when it is at most this long (the built-in policy's
# is about 50 KB), else with a second.
_FIRST_READ = 64 * 1024


def _read(target: str, current: tuple[tuple[Any, ...], ...]) -> dict[str, Any] | None:
    from .errors import GuardError
    from .safefile import open_regular

    try:  # a FIFO, device or huge file in its place is stale too: never block on it
        fd, size = open_regular(target, "policy cache", MAX_CACHE_BYTES)
    except (OSError, GuardError):
        return None
    file = _File(fd, target, 0, size)  # closes the fd when nothing reads from it any more
    try:
        header = _header(fd, size)
    except OSError:
        return None
    if header is None:
        return None
    area, (fmt, version, area_size, head, tables) = header
    if fmt != FORMAT or version != __version__ or area + area_size != size:
        return None
    file.area = area
    data = _join(file, head, tables)
    if data is None or data.get("stamp") != current:
        return None
    return data


def _header(fd: int, size: int) -> tuple[int, tuple[Any, ...]] | None:
    """(where the blob area starts, the header) of a file whose header part is intact."""
    first = os.pread(fd, min(size, _FIRST_READ), 0)
    if len(first) < 16:
        return None
    try:
        length = int(first[8:16], 16)
    except ValueError:
        return None
    if not 0 <= length <= size - 16:
        return None
    if 16 + length > len(first):
        first += os.pread(fd, 16 + length - len(first), len(first))
    part = memoryview(first)[8 : 16 + length]
    if len(part) != 8 + length or first[:8] != b"%08x" % zlib.crc32(part):
        return None
    try:
        header = marshal.loads(part[8:])
    except (ValueError, EOFError, TypeError):
        return None
    if not (isinstance(header, tuple) and len(header) == 5 and type(header[2]) is int):
        return None
    return 16 + length, header


def _write(target: str, data: dict[str, Any]) -> None:
    """Best effort: a cache that cannot be written only costs speed."""
    area = _Area()
    tables: list[tuple[str, ...]] = []
    head = _split(data, (), area, tables)
    header = marshal.dumps((FORMAT, __version__, area.size, head, tables))
    part = b"%08x" % len(header) + header
    blob = b"".join([b"%08x" % zlib.crc32(part), part, *area.chunks])
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
