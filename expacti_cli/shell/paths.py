"""Sensitive paths: does a write to this path hit one of the catalogue's patterns?

Patterns are path globs (`~/.bashrc`, `**/.git/config`, `$GUARD_POLICY`); `**` matches any
number of segments. One helper, `SensitivePaths.hit`, answers for every writer (redirections,
`tee`, `sed -i`, ...), resolving a relative path against the line's tracked working directory.
"""

from __future__ import annotations

import os

from ..paths import VARIABLES as _VARIABLES
from ..wildcard import match as _match
from ..wildcard import match_segments

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .spec import Spec


def path_match(pat: list[str], segs: list[str]) -> bool:
    """Match path segments; a `**` segment matches any number (zero included) of segments.
    Linear in the path (wildcard.match_segments): a 64 KB path of 32,000 segments once took
    seconds here, slicing the list for every split."""
    return match_segments(pat, segs)


def placeholder(name: str) -> str:
    """The location a `$NAME` pattern stands for (guard's own files), or "" if unknown."""
    from expacti_cli import paths

    if name == "HOME":
        return os.path.expanduser("~")
    getter = {
        "GUARD_CONFIG_DIR": paths.config_dir,
        "GUARD_STATE_DIR": paths.state_dir,
        "GUARD_CACHE_DIR": paths.cache_dir,
        "GUARD_POLICY": paths.user_policy,
        "GUARD_AUDIT_LOG": paths.audit_log,
        "GUARD_AGENTS_FILE": paths.agents_file,
        "GUARD_SHIM_DIR": paths.shim_dir,
        "GUARD_REVIEW_DIR": paths.review_dir,
        "GUARD_BUILTIN_POLICIES": paths.builtin_policies,
        "GUARD_PACKAGE_DIR": paths.package_dir,
        "GUARD_LAUNCHER": paths.launcher,
    }.get(name)
    return os.path.abspath(getter()) if getter is not None else ""


def resolve(path: str, cwd: str | None, home: str) -> str | None:
    """`path` made absolute and normal (`~` is home, relative is under cwd); None when it is
    relative and the working directory is unknown."""
    if path == "~" or path.startswith("~/"):
        path = home + path[1:]
    elif path.startswith("~"):
        path = os.path.expanduser(path)
    if not os.path.isabs(path):
        if cwd is None:
            return None
        path = os.path.join(cwd, path)
    return os.path.normpath(path)


class PathIndex:
    """One class's patterns, pre-sorted so a path is matched against the few that could hit
    it: a pattern whose literal head (`/root/.aws/`) the path does not start with, or whose
    literal last segment is not the path's name, is skipped without matching."""

    __slots__ = ("_hits", "_safe")

    def __init__(self, patterns: list[list[str]], safe: list[list[str]]) -> None:
        self._hits = _Table(patterns)
        self._safe = _Table(safe)

    def safe(self, path: str) -> bool:
        return self._safe.first(path) is not None

    def hit(self, path: str) -> str | None:
        if self.safe(path):
            return None
        p = self._hits.first(path)
        return "/".join(p) if p else None

    def hit_or_target(
        self, path: str, realpath: Callable[[str], str] = os.path.realpath
    ) -> str | None:
        """`hit`; and for a path that is not safe itself and hits nothing, what it really is on
        disk (a link) counts too. A safe path stays safe whatever it links to (/dev/stdout)."""
        if self.safe(path):
            return None
        p = self._hits.first(path)
        if p:
            return "/".join(p)
        try:
            real = realpath(path)
        except (OSError, ValueError):
            return None
        return self.hit(real) if real != path else None


class _Table:
    """Patterns by their literal last segment (`config`), else by the first two directories
    of their head (`/root/.aws`, each list merged with the patterns too short to key, in the
    catalogue's order), else in one list: a path meets only the patterns it could match."""

    __slots__ = ("_by_head", "_by_name", "_short")

    def __init__(self, patterns: list[list[str]]) -> None:
        from ..wildcard import is_glob

        by_name: dict[str, list[_Entry]] = {}
        anywhere = []
        for p in patterns:
            if p[-1] != "**" and not is_glob(p[-1]):
                by_name.setdefault(p[-1], []).append(_entry(p))
            else:
                anywhere.append(_entry(p))
        self._by_name = {name: _Heads(entries) for name, entries in by_name.items()}
        keys = [_key(e[0]) for e in anywhere]
        short = [e for e, k in zip(anywhere, keys, strict=True) if not k]
        self._short = _Heads(short)
        self._by_head: dict[str, _Heads] = {
            key: _Heads([e for e, k in zip(anywhere, keys, strict=True) if k in ("", key)])
            for key in set(keys) - {""}
        }

    def first(self, path: str) -> list[str] | None:
        segs = path.split("/")
        by_name = self._by_name.get(segs[-1])
        found = by_name.first(path, segs) if by_name else None
        return found or self._by_head.get(_key(path), self._short).first(path, segs)


class _Heads:
    """One list of entries by literal head: a path meets only the entries whose head is the
    path or one of its directories, and those without a head, in the list's order (the first
    hit is the one reported). Under the home directory one key held ~170 patterns."""

    __slots__ = ("_by_head", "_depth", "_headless", "_plain")

    def __init__(self, entries: list[_Entry]) -> None:
        self._headless: list[tuple[int, _Entry]] = []
        self._by_head: dict[str, list[tuple[int, _Entry]]] = {}
        for i, e in enumerate(entries):
            if e[0]:
                self._by_head.setdefault(e[0], []).append((i, e))
            else:
                self._headless.append((i, e))
        self._plain = [e for _, e in self._headless]
        self._depth = max((h.count("/") + 1 for h in self._by_head), default=0)

    def __bool__(self) -> bool:
        return bool(self._headless or self._by_head)

    def first(self, path: str, segs: list[str]) -> list[str] | None:
        if not self._by_head:
            return _first(self._plain, segs)
        found: list[tuple[int, _Entry]] = []
        by_head = self._by_head
        head = segs[0]
        for seg in segs[1 : self._depth]:  # no head is longer: a 64 KB path stays linear
            if head:
                found += by_head.get(head, ())
            head += "/" + seg
        found += by_head.get(head, ())  # the deepest (the path itself: `~/.ssh` of `~/.ssh/**`)
        if not found:
            return _first(self._plain, segs)
        found += self._headless
        found.sort(key=_order)
        return _first([e for _, e in found], segs)


def _order(item: tuple[int, _Entry]) -> int:
    return item[0]


def _first(entries: list[_Entry], segs: list[str]) -> list[str] | None:
    """The first entry the path matches; every entry's head is the path, above it, or empty."""
    have = set(segs)
    name = segs[-1]
    for _head, literal, last, prefix, suffix, p in entries:
        if last and not (name.startswith(prefix) and name.endswith(suffix)):
            continue  # `*.pem` cannot match `notes.txt`: no glob matching needed
        if not literal <= have or (last and not _match(last, name)):
            continue
        if match_segments(p, segs):
            return p
    return None


def _key(head: str) -> str:
    """The first two directories of an absolute path (`/root/.aws`), or "" if it has fewer."""
    parts = head.split("/", 3)
    return "/".join(parts[:3]) if len(parts) >= 3 and parts[0] == "" else ""


_Entry = tuple[str, frozenset[str], str, str, str, list[str]]


def _entry(pattern: list[str]) -> _Entry:
    """(literal head, literal segments, glob last segment or "", its literal prefix and suffix,
    pattern): cheap tests a path must pass before the pattern is matched segment by segment."""
    from ..wildcard import is_glob

    literal = frozenset(seg for seg in pattern if seg and seg != "**" and not is_glob(seg))
    last = pattern[-1] if pattern[-1] != "**" and is_glob(pattern[-1]) else ""
    cut = [i for i, ch in enumerate(last) if ch in "*?["]
    prefix = last[: cut[0]] if cut else ""
    suffix = last[cut[-1] + 1 :] if cut and last[cut[-1]] in "*?" else ""
    return _head(pattern), literal, last, prefix, suffix, pattern


def _head(pattern: list[str]) -> str:
    """The literal directory a pattern starts with ("" when it starts with `**`)."""
    from ..wildcard import is_glob

    head: list[str] = []
    for seg in pattern[:-1]:
        if seg == "**" or is_glob(seg):
            break
        head.append(seg)
    return "/".join(head) if pattern and pattern[0] != "**" else ""


# Expanded pattern list -> its index (the lists are cached in _EXPANDED, so they live on).
_INDEXES: dict[int, tuple[list[list[str]], PathIndex]] = {}


class SensitivePaths:
    __slots__ = ("_home", "_safe", "_sensitive", "_spec")

    def __init__(self, spec: Spec, home: str) -> None:
        self._spec = spec
        self._home = home
        self._sensitive: list[list[str]] | None = None
        self._safe: list[list[str]] = []

    def _patterns(self) -> tuple[list[list[str]], list[list[str]]]:
        if self._sensitive is None:
            sensitive, safe = self._spec["sensitive_paths"], self._spec["safe_paths"]
            # Expanding ~ and $GUARD_* costs more than a plain line's whole analysis: reuse
            # it while the catalogue and the variables it depends on are the same.
            key = (self._home, *_locations())
            for held, held_safe, held_key, expanded in _EXPANDED:
                if held is sensitive and held_safe is safe and held_key == key:
                    self._sensitive, self._safe = expanded
                    break
            else:
                self._sensitive = [p for p in map(self._expand, sensitive) if p]
                self._safe = [p for p in map(self._expand, safe) if p]
                _EXPANDED.insert(0, (sensitive, safe, key, (self._sensitive, self._safe)))
                del _EXPANDED[4:]
        return self._sensitive, self._safe

    def _expand(self, pattern: str) -> list[str]:
        if pattern == "~" or pattern.startswith("~/"):
            pattern = self._home + pattern[1:]
        elif pattern.startswith("$"):
            head, sep, tail = pattern[1:].partition("/")
            name, dot, suffix = head.replace("{", "").replace("}", "").partition(".")
            base = placeholder(name)
            if not base:
                return []
            pattern = os.path.normpath(base) + (dot + suffix) + sep + tail
        if not pattern.startswith("**"):
            pattern = os.path.normpath(pattern)
        return pattern.split("/")

    def is_stdin(self, path: str) -> bool:
        """Is `path` the standard input or another inherited descriptor (`/dev/stdin`)?"""
        if not path.startswith("/"):
            return False
        segs = os.path.normpath(path).split("/")
        return any(path_match(p.split("/"), segs) for p in self._spec["stdin_paths"])

    def hit(self, path: str, cwd: str | None) -> str | None:
        """The sensitive pattern a write to `path` hits, or None. With the working directory
        unknown, a relative path hits every pattern it could be the end of."""
        sensitive, safe = self._patterns()
        normal = resolve(path, cwd, self._home)
        if normal is None:
            # A tail of wildcards only (`*` of `~/.ssh/*`) names nothing: every file is the
            # end of it, so it says nothing about this one.
            segs = [s for s in os.path.normpath(path).split("/") if s != "."]
            name, n = segs[-1] if segs else "", len(segs)
            for p, tails in _tails(sensitive):
                for tail, last, size in tails:
                    if (last is not None and last != name) or (size is not None and size != n):
                        continue  # a literal last segment or a fixed length rules it out
                    if path_match(tail, segs):
                        return "/".join(p)
            return None
        index = _INDEXES.get(id(sensitive))
        if index is None or index[0] is not sensitive:
            index = _INDEXES[id(sensitive)] = (sensitive, PathIndex(sensitive, safe))
        found = index[1].hit_or_target(normal)
        if found and new_command(normal, self._spec["command_dirs"], self._home):
            return None
        return found


_EXPANDED: list[Any] = []  # (sensitive list, safe list, key, expanded): the last few
# Expanded pattern list -> each pattern with the tails a relative path could be the end of:
# (tail, its last segment if literal, its length if it has no `**`).
_Tail = tuple[list[str], "str | None", "int | None"]
_TAILS: dict[int, tuple[list[list[str]], list[tuple[list[str], list[_Tail]]]]] = {}


def _tails(sensitive: list[list[str]]) -> list[tuple[list[str], list[_Tail]]]:
    from ..wildcard import is_glob

    held = _TAILS.get(id(sensitive))
    if held is None or held[0] is not sensitive:
        if len(_TAILS) > 16:  # a server reloading its policy: keep the recent lists only
            _TAILS.clear()
        tails = [
            (
                p,
                [
                    (t, None if is_glob(t[-1]) else t[-1], None if "**" in t else len(t))
                    for t in (p[k:] for k in range(1, len(p)) if p[k] != "**" and _names(p[k:]))
                ],
            )
            for p in sensitive
        ]
        held = _TAILS[id(sensitive)] = (sensitive, tails)
    return held[1]


def _locations() -> tuple[str | None, ...]:
    """The environment guard's own locations are derived from (paths.py)."""
    get = os.environ.get
    return tuple(get(name) for name in _VARIABLES)


def _names(tail: list[str]) -> bool:
    """Does a pattern's tail name something (a segment that is not only wildcards)?"""
    return any(seg.strip("*?") for seg in tail)


# bash(1) SHELL BUILTIN COMMANDS: names that run something already, wherever PATH points.
_BUILTINS = frozenset(
    "alias bg bind break builtin caller cd command compgen complete compopt continue declare "  # noqa: SIM905
    "dirs disown echo enable eval exec exit export false fc fg getopts hash help history jobs "
    "kill let local logout mapfile popd printf pushd pwd read readarray readonly return set "
    "shift shopt source suspend test times trap true type typeset ulimit umask unalias unset "
    "wait".split()
)
_HOMES = ("/home/*/", "/root/", "/Users/*/")


def new_command(path: str, dirs: Any, home: str, known: Any = None) -> bool:
    """Is `path` a file right in a directory of programs on PATH ([shell] command_dirs,
    `~/.local/bin`) under a name that runs nothing yet: no builtin, no program of that name
    on PATH or in that directory, none `known(name)` says guard knows? A new name there takes
    over no command a later line would run (`install build/tool ~/bin/tool`)."""
    from ..wildcard import match

    directory, name = os.path.split(os.path.normpath(path))
    if not name or name in _BUILTINS or (known is not None and known(name)):
        return False
    globs = [
        *(home + d[1:] for d in dirs if d.startswith("~/")),
        *(h + d[2:] for d in dirs if d.startswith("~/") for h in _HOMES),
        *(d for d in dirs if not d.startswith("~")),
    ]
    if not any(match(g, directory) for g in globs):
        return False
    for d in [*os.environ.get("PATH", "").split(os.pathsep), directory]:
        if d and os.path.lexists(os.path.join(d, name)):
            return False
    return True
