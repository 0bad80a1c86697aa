"""Policy: TOML layers, validated strictly and compiled into plain data for the matcher.

Layers, in order: every `*.toml` of the built-in catalogue (`expacti_cli/policies/`), then the
user policy. The compiled form (dicts, lists, tuples, frozensets) is cached by `cache.py`, so
an ordinary call neither imports `tomllib` nor parses TOML (DESIGN.md, Speed).
"""

from __future__ import annotations

import os

# `_collections_abc` is loaded by every interpreter at start; `collections.abc` would import
# the whole `collections` package on the hot path.
from _collections_abc import Mapping

from . import paths
from .errors import PolicyError
from .settings import in_range

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

RULE_KINDS = ("deny", "irreversible", "protected", "review", "allow")
COMPILED_FORMAT = 4

DEFAULT_SETTINGS: dict[str, Any] = {
    "default": "review",
    "when_no_reviewer": "deny",
    "review_timeout": 120.0,
    "require_identity": False,
    "decision_budget": 1.0,  # seconds for the policy's decision (budget.py), not the review
}
DEFAULT_AUDIT: dict[str, Any] = {"max_bytes": 64 * 1024 * 1024, "fsync": True, "key_file": ""}
DEFAULT_ANOMALIES: dict[str, Any] = {
    "enabled": True,
    "min_history": 50,
    "max_rate": 0,  # an absolute cap per rate_window whatever the agent's pace (0: none)
    "rate_window": 60.0,
    "min_hour_share": 0.01,
    "rate_factor": 3.0,  # a spike: more than rate_factor x the agent's usual busy pace...
    "rate_floor": 30,  # ...and more than this many commands per rate_window
    "rate_learning": 10,  # busy minutes of history before the agent's pace is judged
}


# Programs the shell analysis knows more about than the rules do: wrappers run another command,
# interpreters run inline code, clients must not be fed hidden input, writers write files.
ANALYSED_KINDS = ("wrapper", "interpreter", "client", "writer")


def _unpack(blob: bytes) -> Any:
    import marshal
    import zlib

    return marshal.loads(zlib.decompress(blob))


def pack(data: dict[str, Any]) -> dict[str, Any]:
    """The runtime form of a compiled policy, as cached (policycompile.pack)."""
    from .policycompile import pack as pack_

    return pack_(data)


if TYPE_CHECKING:
    _SpecMapping = Mapping[str, Any]
else:  # subscripting needs `typing` at run time
    _SpecMapping = Mapping


# The shell catalogue's program tables (`shellspec.compile`): entries by name, unpacked alone.
_CATALOGUE_TABLES = frozenset(kind + "s" for kind in ANALYSED_KINDS)


class _Blobs(_SpecMapping):
    """A read-only mapping whose values are marshal blobs, each unpacked on first use."""

    __slots__ = ("_blobs", "_seen")

    def __init__(self, blobs: Mapping[str, Any]) -> None:
        self._blobs = blobs
        self._seen: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        try:
            return self._seen[name]
        except KeyError:
            pass
        import marshal

        value = self._seen[name] = marshal.loads(self._blobs[name])
        return value

    def __contains__(self, name: object) -> bool:
        return name in self._blobs

    def __iter__(self) -> Iterator[str]:
        return iter(self._blobs)

    def __len__(self) -> int:
        return len(self._blobs)


class Catalogue(_Blobs):
    """The compiled shell catalogue (`shellspec.compile`) as a read-only mapping: each key is
    unpacked on first use, and the program tables (`wrappers`...) entry by entry."""

    __slots__ = ()

    def __getitem__(self, key: str) -> Any:
        try:
            return self._seen[key]
        except KeyError:
            pass
        blob = self._blobs[key]
        if key in _CATALOGUE_TABLES:
            value = self._seen[key] = _Blobs(blob)
            return value
        return super().__getitem__(key)


class Programs(_SpecMapping):
    """What the catalogue knows about each program, unpacked on first use (a read-only mapping)."""

    __slots__ = ("_blobs", "_seen")

    def __init__(self, blobs: Mapping[str, bytes]) -> None:
        self._blobs = blobs
        self._seen: dict[str, Any] = {}

    def get(self, name: str, default: Any = None) -> Any:
        try:
            spec = self._seen[name]
        except KeyError:  # first look: programs the catalogue does not know are remembered too
            blob = self._blobs.get(name)
            spec = self._seen[name] = None if blob is None else _unpack(blob)
        return default if spec is None else spec

    def __getitem__(self, name: str) -> Any:
        spec = self.get(name)
        if spec is None:
            raise KeyError(name)
        return spec

    def pinned(self, name: str) -> bool:
        """Does the policy pin the program called `name` (`path` or `sha256`: pinning.py)?"""
        spec = self.get(name)
        return bool(spec) and ("path" in spec or "sha256" in spec)

    def __contains__(self, name: object) -> bool:
        return name in self._blobs

    def __iter__(self) -> Iterator[str]:
        return iter(self._blobs)

    def __len__(self) -> int:
        return len(self._blobs)


class Grammars:
    """Program name -> its grammar view, unpacked on first use (a read-only mapping's `get`).
    Written by `grammar.layers.grammar_blobs`; it lives here so that a decision reads the
    grammars without loading the grammar package (its compile-time code)."""

    __slots__ = ("_packed", "_seen")

    def __init__(self, packed: dict[str, Any]) -> None:
        self._packed = packed or {"blobs": {}, "names": {}, "globs": []}
        self._seen: dict[str, Any] = {}

    def get(self, name: str, default: Any = None) -> Any:
        found = self._packed["names"].get(name)
        if found is None:
            return default
        entry = found.decode()
        view = self._seen.get(entry)
        if view is None:
            view = self._seen[entry] = _unpack(self._packed["blobs"][entry])
        return view

    def globs(self) -> list[tuple[str, str]]:
        """(glob name, grammar) pairs for names such as `python3.*`."""
        return list(self._packed["globs"])


class Policy:
    """The compiled, merged policy (see `compile_layers` and `pack`). Rules are dicts."""

    __slots__ = (
        "_by_name",
        "_candidates",
        "_shell",
        "_wild",
        "anomalies",
        "audit",
        "data",
        "grammars",
        "programs",
        "settings",
    )

    def __init__(self, data: dict[str, Any]) -> None:
        if not data.get("packed"):
            data = pack(data)
        self.data = data
        self.settings: dict[str, Any] = data["settings"]
        self.audit: dict[str, Any] = data["audit"]
        self.anomalies: dict[str, Any] = data["anomalies"]
        self.programs = Programs(data["program_blobs"])
        self.grammars = Grammars(data.get("grammar_blobs", {}))
        self._by_name: dict[str, list[dict[str, Any]]] = {}
        self._candidates: dict[tuple[str, str], tuple[dict[str, Any], ...]] = {}
        self._wild: list[dict[str, Any]] | None = None
        self._shell: Catalogue | None = None

    @property
    def sources(self) -> list[str]:
        return [s[0] for s in self.data["stamp"] if s[1] is not None]

    @property
    def shell(self) -> dict[str, Any]:
        """The compiled shell catalogue (`shellspec.compile`), unpacked as it is read. Typed as
        the dict the shell analysis takes; it is a read-only `Catalogue`, which the analysis
        reads only with `[]`, `get`, `in` and iteration."""
        if self._shell is None:
            self._shell = Catalogue(self.data["shell_blobs"])
        return self._shell  # type: ignore[return-value]

    def analysed(self, name: str) -> bool:
        """Does the shell catalogue know this program (wrapper, interpreter, client, writer)?"""
        names, globs = self.data["analysed"]
        if name in names:
            return True
        if globs:
            from .wildcard import match

            return any(match(glob, name) for glob in globs)
        return False

    def _named(self, name: str) -> list[dict[str, Any]]:
        rules = self._by_name.get(name)
        if rules is None:
            blob = self.data["rule_blobs"].get(name)
            rules = self._by_name[name] = _unpack(blob) if blob else []
        return rules

    def _wildcard(self) -> list[dict[str, Any]]:
        if self._wild is None:
            import marshal

            self._wild = marshal.loads(self.data["wild_blob"])
        return self._wild

    def candidates(self, kind: str, name: str) -> tuple[dict[str, Any], ...]:
        """Rules of one kind that could match a program called `name`, in layer order
        (remembered: a line asks for the same few several times)."""
        found = self._candidates.get((kind, name))
        if found is None:
            from .match import narrowed

            named = [r for r in self._named(name) if r["kind"] == kind]
            wild = [r for r in self._wildcard() if r["kind"] == kind]
            if named and wild:
                named = sorted(named + wild, key=lambda r: r["seq"])
            kept = (narrowed(r, name) for r in named or wild)
            found = self._candidates[kind, name] = tuple(r for r in kept if r is not None)
        return found

    @property
    def rules(self) -> list[dict[str, Any]]:
        """Every rule, in layer order."""
        every = {r["seq"]: r for name in self.data["rule_blobs"] for r in self._named(name)}
        every.update((r["seq"], r) for r in self._wildcard())
        return [every[seq] for seq in sorted(every)]


# ---------------------------------------------------------------- locating the sources


def builtin_files() -> list[str]:
    """The program grammars, then the built-in catalogue, in layer order."""
    return [*paths.grammar_files(), *_catalogue_files()]


def _catalogue_files() -> list[str]:
    directory = paths.builtin_policies()
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(".toml"))
    except OSError as exc:
        raise PolicyError(f"cannot read the built-in catalogue {directory}: {exc}") from exc
    return [os.path.join(directory, n) for n in names]


def source_files(path: str | None = None) -> tuple[list[str], bool]:
    """(files in layer order, whether the last one was named explicitly and must exist)."""
    explicit = path is not None or bool(os.environ.get("GUARD_POLICY"))
    user = path or paths.user_policy()
    return [*builtin_files(), user], explicit


def load(path: str | None = None) -> Policy:
    """The effective policy, from the cache when no source changed. Raises PolicyError."""
    from . import cache

    files, explicit = source_files(path)
    user = files[-1]
    if explicit and not os.path.exists(user):
        raise PolicyError(f"{user}: policy file not found")
    try:
        data = cache.load_or_compile(files, _compile_and_pack, packed_shape_ok)
    except RecursionError:  # a value nested deeper than the checks below can walk
        raise PolicyError(f"{user}: values nested too deeply") from None
    return Policy(data)


def _compile_and_pack(files: list[str]) -> dict[str, Any]:
    import gc

    # Compiling makes many small acyclic objects: the cycle collector would rescan them every
    # few thousand allocations (about a third of the time for 10,000 rules).
    enabled = gc.isenabled()
    gc.disable()
    try:
        return pack(compile_files(files))
    finally:
        if enabled:
            gc.enable()


def _typed(table: object, defaults: dict[str, Any]) -> bool:
    if not isinstance(table, dict) or set(table) != set(defaults):
        return False
    for key, default in defaults.items():
        value = table[key]
        if type(value) is not type(default):
            return False
    return True


# Tables of blobs are dicts when freshly compiled, `cache.Slices` when read from the cache.
_PACKED_TYPES = {
    "rule_blobs": Mapping,
    "wild_blob": bytes,
    "program_blobs": Mapping,
    "grammar_blobs": dict,
    "shell_blobs": dict,
    "analysed": tuple,
    "stamp": tuple,
}


def _blob_table(table: object) -> bool:
    """A table of blobs: name -> bytes. One read from the cache (`Slices`) holds only bytes
    by construction and checks each index entry when the blob is asked for."""
    from .cache import Slices

    if isinstance(table, Slices):
        return True
    return isinstance(table, dict) and all(
        isinstance(k, str) and isinstance(v, bytes) for k, v in table.items()
    )


def packed_shape_ok(data: dict[str, Any]) -> bool:
    """Does a cached compiled policy have every key, each of the expected type? (The cache
    checks a CRC against damage; this catches a hand-made or older cache: it is recompiled.)"""
    if data.get("packed") is not True:
        return False
    if any(not isinstance(data.get(k), t) for k, t in _PACKED_TYPES.items()):
        return False
    for key, blob in data["shell_blobs"].items():
        if not isinstance(blob, Mapping if key in _CATALOGUE_TABLES else bytes):
            return False
    tables = [data["rule_blobs"], data["program_blobs"], data["grammar_blobs"].get("blobs", {})]
    tables.extend(data["shell_blobs"].get(key, {}) for key in _CATALOGUE_TABLES)
    if not all(_blob_table(t) for t in tables):
        return False
    analysed = data["analysed"]
    if len(analysed) != 2 or not isinstance(analysed[0], frozenset):
        return False
    return (
        _typed(data.get("settings"), DEFAULT_SETTINGS)
        and _typed(data.get("audit"), DEFAULT_AUDIT)
        and _typed(data.get("anomalies"), DEFAULT_ANOMALIES)
        and in_range(data["settings"], data["audit"], data["anomalies"]) is None
    )


# ---------------------------------------------------------------- compiling
# Validation and compilation live in policycompile.py: a decision whose compiled policy is
# cached never loads them. These names stay here for the callers (and tests) that use them.


def read_layer(path: str) -> tuple[dict[str, Any], str]:
    from .policycompile import read_layer as read

    return read(path)


def compile_files(files: list[str]) -> dict[str, Any]:
    from .policycompile import compile_files as compile_

    return compile_(files)


def compile_layers(layers: list[tuple[str, dict[str, Any], str]]) -> dict[str, Any]:
    from .policycompile import compile_layers as compile_

    return compile_(layers)


def compile_pattern(text: str) -> list[tuple[str, ...]]:
    from .policycompile import compile_pattern as compile_

    return compile_(text)


def parse_duration(value: object, what: str) -> float:
    from .policycompile import parse_duration as parse

    return parse(value, what)
