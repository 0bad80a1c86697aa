"""Which class a path belongs to: secret, guard's own (tamper), privileged, persistence.

The classes are data (`[shell]` lists in policies/protected.toml and shell.toml); matching is the
shell analysis' one helper (`shell.paths.SensitivePaths`), so a relative path resolves against
the line's tracked working directory and, when that is unknown, hits every pattern it could be
the end of.
"""

from __future__ import annotations

import os

from ..wildcard import match as wildcard_match

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..shell.paths import PathIndex as _Index
    from ..shell.paths import SensitivePaths

_CLASSES = {
    # class: (patterns, exceptions)
    "secret": ("secret_paths", "public_paths"),
    "self-tamper": ("tamper_paths", "safe_paths"),
    "privilege": ("privileged_paths", "safe_paths"),
    "persistence": ("sensitive_paths", "safe_paths"),
}


# Other users' homes hold the same files as ours (an agent running as root, or with write access
# to another account, reaches /home/user/.bashrc as surely as ~/.bashrc).
_HOMES = ("/home/*/", "/root/", "/Users/*/")


def _every_home(patterns: Any) -> list[str]:
    out = list(patterns)
    for p in patterns:
        if p.startswith("~/"):
            out.extend(home + p[2:] for home in _HOMES)
    return out


# Where installed programs live: a command line hidden in a variable or option value that runs
# a program from anywhere else runs a file of unknown safety (`GIT_EXTERNAL_DIFF=./x.sh`).
SYSTEM_BIN = (
    "/bin/",
    "/sbin/",
    "/usr/bin/",
    "/usr/sbin/",
    "/usr/local/bin/",
    "/usr/local/sbin/",
    "/opt/homebrew/bin/",
    "/snap/bin/",
    "/usr/libexec/",
)


def hidden_program(argv: list[str]) -> bool:
    """Does this command, found in a value, run a program by a path outside the system's?"""
    head = argv[0] if argv else ""
    return "/" in head and not head.startswith(SYSTEM_BIN)


class PathClasses:
    """The catalogue's path classes (made once per catalogue), and, in the copy one line
    uses (`for_line`), what the disk says a path really is: a write is checked against three
    classes and a read path is often named again, but the disk does not change while a line
    is judged, so each path is resolved once."""

    __slots__ = (
        "_home",
        "_indexes",
        "_matchers",
        "_real",
        "_rooted",
        "_shell",
        "_sorted",
        "shell",
    )

    def __init__(self, shell: dict[str, Any]) -> None:
        self._shell = self.shell = shell
        self._home = os.path.expanduser("~")
        self._matchers: dict[str, SensitivePaths] = {}
        self._indexes: dict[str, _Index] = {}
        self._rooted: dict[str, list[str]] = {}
        self._sorted: dict[str, list[tuple[str, int]]] = {}  # rooted, sorted, with their rank
        self._real: dict[str, str] = {}

    def for_line(self) -> PathClasses:
        """A view sharing the catalogue's indexes, with its own memory of the disk."""
        view = PathClasses.__new__(PathClasses)
        for slot in PathClasses.__slots__:
            setattr(view, slot, getattr(self, slot))
        view._real = {}
        return view

    def _realpath(self, path: str) -> str:
        real = self._real.get(path)
        if real is None:
            real = self._real[path] = os.path.realpath(path)
        return real

    def rooted(self, cls: str) -> list[str]:
        """The patterns of `cls` that start at a directory (not `**`), as text."""
        found = self._rooted.get(cls)
        if found is None:
            patterns = self._matcher(cls)._patterns()[0]
            found = self._rooted[cls] = ["/".join(p) for p in patterns if p and p[0] != "**"]
        return found

    def _matcher(self, cls: str) -> SensitivePaths:
        m = self._matchers.get(cls)
        if m is None:
            from ..shell.paths import SensitivePaths  # with the first path a line names

            hits, misses = _CLASSES[cls]
            spec = {
                "sensitive_paths": _every_home(self._shell.get(hits, ())),
                "safe_paths": _every_home(self._shell.get(misses, ())),
                "stdin_paths": (),
            }
            m = self._matchers[cls] = SensitivePaths(spec, self._home)  # type: ignore[arg-type]
        return m

    def hit(self, cls: str, path: str, cwd: str | None) -> str | None:
        """The pattern of class `cls` that `path` (or what it really is on disk) hits."""
        from ..shell.paths import resolve

        normal = resolve(path, cwd, self._home)
        if normal is None:  # relative to an unknown directory: the shell helper's rule
            return self._matcher(cls).hit(path, cwd)
        index = self._indexes.get(cls)
        if index is None:
            from ..shell.paths import PathIndex as _Index

            sensitive, safe = self._matcher(cls)._patterns()
            index = self._indexes[cls] = _Index(sensitive, safe)
        return index.hit_or_target(normal, self._realpath)

    def written(self, path: str, cwd: str | None) -> tuple[str, str] | None:
        """The protected class of a write to `path` (and the pattern), strongest first. A
        path find would find (`~/**/.bashrc`, effects.feed) is each file it could be."""
        from ..shell.paths import resolve

        base, found, glob = path.partition("/**/")
        for cls in ("self-tamper", "privilege", "persistence"):
            if found and "/" not in glob:
                hit = self._found_hits(cls, resolve(base, cwd, self._home) or base, glob)
            else:
                hit = self.hit(cls, path, cwd)
            if hit:
                return cls, hit
        return None

    def holds_secrets(self, path: str, cwd: str | None) -> str | None:
        """A secret path below `path` (a directory read recursively exposes it), or None."""
        from ..shell.paths import resolve

        base = resolve(path, cwd, self._home)
        if base is None:
            return None
        prefix = base.rstrip("/") + "/"
        for text in self.rooted("secret"):
            if text.startswith(prefix):
                return text
        return None

    def glob_hits(self, cls: str, path: str) -> str | None:
        """A pattern of `cls` that a glob path (`~/.ssh/*`) could match: a pattern in the same
        directory whose name the glob matches when the pattern's own wildcards are read as
        plain characters (`*` matches `id_*`; `*.pub` does not)."""
        from ..wildcard import match

        directory, _, glob = path.rpartition("/")
        if directory.endswith("/**") or "/**/" in directory:
            return self._found_hits(cls, directory.split("/**", 1)[0] or "/", glob)
        if any(c in directory for c in "*?["):
            return self.holds_secrets(directory.split("*", 1)[0].rsplit("/", 1)[0] or "/", None)
        for pattern in self._matcher(cls)._patterns()[0]:
            if "/".join(pattern[:-1]) == directory and match(glob, pattern[-1]):
                return "/".join(pattern)
        return None

    def _found_hits(self, cls: str, base: str, glob: str) -> str | None:
        """A pattern of `cls` that a file named `glob` at any depth below `base` could be
        (what `find BASE -name GLOB` finds): one below `base` whose name the glob matches (or
        that takes any name, `X/**`), one covering all of `base`, or a pattern of any
        directory (`**/.env`) that the glob names specifically (`.env*`, `id_*`, `*.pem` for
        `**/*.pem`; not `*.json` for `**/credentials.json`: a search by extension alone, like
        `grep -r --include`, is not a search for credentials)."""
        from ..wildcard import match

        prefix = base.rstrip("/") + "/"
        named = bool(glob.strip("*"))
        for pattern in self._matcher(cls)._patterns()[0]:
            if not pattern:
                continue
            text = "/".join(pattern)
            last = pattern[-1]
            if pattern[0] == "**":
                hit = named and match(glob, last) and _specific(glob, last)
            elif text.startswith(prefix):
                hit = last == "**" or match(glob, last)
            else:
                hit = last == "**" and prefix.startswith("/".join(pattern[:-1]) + "/")
            if hit:
                return text
        return None

    def below(self, cls: str, directory: str) -> str | None:
        """A pattern of `cls` naming something below `directory` (`~` holds `~/.bashrc`): of
        the rooted patterns that start with it, the first in the catalogue's order (found by a
        search in their sorted list: a command's every written path asks)."""
        from bisect import bisect_left

        prefix = directory.rstrip("/") + "/"
        ordered = self._sorted.get(cls)
        if ordered is None:
            ordered = self._sorted[cls] = sorted((t, k) for k, t in enumerate(self.rooted(cls)))
        hits = []
        for text, rank in ordered[bisect_left(ordered, (prefix, -1)) :]:
            if not text.startswith(prefix):
                break
            hits.append((rank, text))
        return min(hits)[1] if hits else None

    def world_writable_target(self, path: str, cwd: str | None) -> str | None:
        """A privileged or system path, or a directory holding one (`chmod 777 ~`: anyone may
        then replace ~/.bashrc): making it writable by everyone is a privilege change."""
        return (
            self.hit("privilege", path, cwd)
            or self.hit("persistence", path, cwd)
            or self.below("persistence", path)
            or self.below("self-tamper", path)
        )

    def secret_service(self, name: str, hosts: list[str]) -> bool:
        """Is every host a credential variable goes to the service that issued it ([shell]
        secret_services: "VARIABLE HOST-GLOB..."; `$GITHUB_TOKEN` to api.github.com)?"""
        names = [h.split(":", 1)[0].lower().rstrip(".") for h in hosts]
        for entry in self._shell.get("secret_services", ()):
            variable, *globs = entry.split()
            if names and wildcard_match(variable, name.upper()):
                return all(any(wildcard_match(g, h) for g in globs) for h in names)
        return False

    def default_registry(self, url: str) -> bool:
        """Is `url` a package registry its tools use by default ([shell] default_registries:
        `npm install --registry https://registry.npmjs.org/`)?"""
        plain = url.lower().strip("\"'").rstrip("/")
        return plain in self._shell.get("default_registries", ())

    def secret_variable(self, name: str) -> bool:
        return any(wildcard_match(p, name.upper()) for p in self._shell.get("secret_variables", ()))

    def metadata_host(self, text: str) -> str | None:
        """The cloud metadata host a URL or host word names, or None."""
        host = text.split("://", 1)[-1]
        for end in "/?#\\":  # the authority ends there (RFC 3986 3.2)
            host = host.split(end, 1)[0]
        host = host.rsplit("@", 1)[-1]
        host = host.split("]", 1)[0] + "]" if host.startswith("[") else host.split(":", 1)[0]
        host = host.lower().rstrip(".")
        return host if host in self._shell.get("metadata_hosts", ()) else None


def _specific(glob: str, name: str) -> bool:
    """Does a name glob aim at `name` rather than at a kind of file: it starts with literal
    text (`.env*`, `id_*`) or is the pattern's own name (`*.pem` for `*.pem`)?"""
    return glob == name or glob[:1] not in ("*", "?", "[")
