"""Sensitive paths: does a write to this path hit one of the catalogue's patterns?

Patterns are path globs (`~/.bashrc`, `**/.git/config`, `$GUARD_POLICY`); `**` matches any
number of segments. One helper, `SensitivePaths.hit`, answers for every writer (redirections,
`tee`, `sed -i`, ...), resolving a relative path against the line's tracked working directory.
"""

from __future__ import annotations

import os

from ..wildcard import match_segments

TYPE_CHECKING = False
if TYPE_CHECKING:
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
            key = (self._home, *sorted(_locations()))
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
            segs = [s for s in os.path.normpath(path).split("/") if s != "."]
            for p in sensitive:
                tails = (p[k:] for k in range(1, len(p)) if p[k] != "**")
                if any(path_match(tail, segs) for tail in tails):
                    return "/".join(p)
            return None
        if any(path_match(p, normal.split("/")) for p in safe):
            return None
        candidates = [normal]
        try:
            real = os.path.realpath(normal)
        except (OSError, ValueError):
            real = normal
        if real != normal and not any(path_match(p, real.split("/")) for p in safe):
            candidates.append(real)
        for c in candidates:
            segs = c.split("/")
            for p in sensitive:
                if path_match(p, segs):
                    return "/".join(p)
        return None


_EXPANDED: list[Any] = []  # (sensitive list, safe list, key, expanded): the last few


def _locations() -> list[tuple[str, str]]:
    """The environment guard's own locations are derived from (paths.py)."""
    return [
        (k, v) for k, v in os.environ.items() if k.startswith(("GUARD_", "XDG_")) or k == "HOME"
    ]
