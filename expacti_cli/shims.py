"""Shim directories: links named after real programs that run guard instead (shim mode).

A shim directory holds the marker file `execute.SHIM_MARKER`; `execute.which(skip_shims=True)`
passes over such directories, so a shim finds the real program further down PATH, never itself.
Each shim is a symlink to the guard launcher; where a link cannot be made (or `scripts=True`),
a tiny `/bin/sh` script that runs guard's entry point with the shim's own path as argv[0].
"""

from __future__ import annotations

import os
import sys

from . import execute
from .errors import GuardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .policy import Policy

SHELLS = ("bash", "zsh", "fish")
_MARKER_TEXT = (
    "This directory holds guard's shims (guard shims install).\n"
    "guard skips every PATH directory holding this file when it looks for the real program.\n"
)
_SCRIPT = """#!/bin/sh
# guard shim: runs guard under this file's name ({name}); written where a symlink could not be.
exec {python} -E -P -c 'import sys; sys.argv = sys.argv[1:]; from expacti_cli.entry import main; \
sys.exit(main())' "$0" "$@"
"""


class Shim:
    """One entry of a shim directory."""

    __slots__ = ("kind", "name", "ok", "path", "target")

    def __init__(self, name: str, path: str, kind: str, target: str | None, ok: bool) -> None:
        self.name = name
        self.path = path
        self.kind = kind  # "link", "script" or "other"
        self.target = target  # the launcher it runs (links: where the link points)
        self.ok = ok  # it runs guard

    def as_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "path": self.path,
            "kind": self.kind,
            "target": self.target,
            "ok": self.ok,
        }


class InstallResult:
    __slots__ = ("directory", "installed", "launcher", "skipped")

    def __init__(self, directory: str, launcher: str) -> None:
        self.directory = directory
        self.launcher = launcher
        self.installed: list[str] = []
        self.skipped: list[tuple[str, str]] = []  # (name, why)


# ---------------------------------------------------------------- which programs


def _is_guard_name(name: str) -> bool:
    from .entry import _is_guard_name as entry_is_guard_name

    return entry_is_guard_name(name)


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a shim, or None."""
    if not name or name in (".", "..") or "/" in name or "\0" in name:
        return "not a program name"
    if name == execute.SHIM_MARKER:
        return "reserved for the shim marker"
    if _is_guard_name(name):
        return "guard treats this name as itself, so a shim could not run it"
    return None


def policy_programs(policy: Policy) -> list[str]:
    """Every program the policy names: rules' literal program tokens, wrappers, [programs.*]."""
    names: dict[str, None] = {}
    for rule in policy.rules:
        for pattern in rule["patterns"]:
            kind, *rest = pattern[0]
            if kind == "L" and "/" not in rest[0]:
                names[rest[0]] = None
    for name in policy.shell.get("wrappers", {}) or {}:
        names[name] = None
    for name, spec in policy.programs.items():
        names[name] = None
        for other in spec.get("names", ()):
            names[other] = None
    return sorted(n for n in names if name_problem(n) is None)


# ---------------------------------------------------------------- the launcher


def find_launcher() -> str:
    """The guard launcher the shims point at (a real path). Raises GuardError."""
    candidates = []
    env = os.environ.get("GUARD_EXECUTABLE")
    if env:
        candidates.append(env)
    if sys.argv and sys.argv[0]:
        candidates.append(sys.argv[0])
    import shutil

    found = shutil.which("guard")
    if found:
        candidates.append(found)
    candidates.append(os.path.join(os.path.dirname(sys.executable), "guard"))
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if (
            os.path.isfile(real)
            and os.access(real, os.X_OK)
            and execute.is_guard_launcher(real)
            and not execute.is_shim_dir(os.path.dirname(real))
        ):
            return real
    raise GuardError(
        "cannot find the guard launcher to link the shims to (set GUARD_EXECUTABLE to its path)"
    )


# ---------------------------------------------------------------- install, list, remove


def _prepare_dir(directory: str) -> None:
    if os.path.isdir(directory) and not execute.is_shim_dir(directory) and os.listdir(directory):
        raise GuardError(
            f"{directory} is not empty and is not a shim directory; guard would hide its "
            "programs from itself. Choose an empty or new directory (--dir)"
        )
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        os.chmod(directory, 0o700)
        marker = os.path.join(directory, execute.SHIM_MARKER)
        if not os.path.exists(marker):
            _write_atomic(marker, _MARKER_TEXT, 0o600)
    except OSError as exc:
        raise GuardError(f"cannot prepare the shim directory {directory}: {exc}") from exc


def _write_atomic(path: str, text: str, mode: int) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def _link_atomic(target: str, path: str) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    try:
        os.replace(tmp, path)
    except OSError:
        os.unlink(tmp)
        raise


def script_text(name: str) -> str:
    """A script shim. The interpreter path is kept as is: resolving a venv's python symlink
    would leave the venv (and guard's package) behind."""
    import shlex

    return _SCRIPT.format(name=name, python=shlex.quote(os.path.abspath(sys.executable)))


def install(
    directory: str,
    programs: list[str],
    *,
    launcher: str | None = None,
    scripts: bool = False,
) -> InstallResult:
    """Create (or refresh) a shim for each program in `directory`. Raises GuardError."""
    launcher = launcher or find_launcher()
    directory = os.path.abspath(directory)
    result = InstallResult(directory, launcher)
    valid = []
    for name in dict.fromkeys(programs):
        problem = name_problem(name)
        if problem:
            result.skipped.append((name, problem))
        else:
            valid.append(name)
    _prepare_dir(directory)
    for name in valid:
        path = os.path.join(directory, name)
        if os.path.isdir(path) and not os.path.islink(path):
            result.skipped.append((name, f"{path} is a directory"))
            continue
        try:
            if scripts:
                raise OSError("scripts requested")
            _link_atomic(launcher, path)
        except OSError:
            try:
                _write_atomic(path, script_text(name), 0o700)
            except OSError as exc:
                raise GuardError(f"cannot write the shim {path}: {exc}") from exc
        result.installed.append(name)
    return result


def _describe(directory: str, name: str) -> Shim:
    path = os.path.join(directory, name)
    if os.path.islink(path):
        target = os.path.realpath(path)
        ok = os.path.isfile(target) and execute.is_guard_launcher(target)
        return Shim(name, path, "link", os.readlink(path), ok)
    if execute.is_guard_launcher(path):
        return Shim(name, path, "script", None, os.access(path, os.X_OK))
    return Shim(name, path, "other", None, False)


def list_shims(directory: str) -> list[Shim]:
    """The shims in `directory` (none when it is missing). Raises GuardError if not a shim dir."""
    if not os.path.isdir(directory):
        return []
    if not execute.is_shim_dir(directory):
        raise GuardError(f"{directory} is not a shim directory (no {execute.SHIM_MARKER} file)")
    names = sorted(n for n in os.listdir(directory) if n != execute.SHIM_MARKER)
    return [_describe(directory, n) for n in names]


def remove(directory: str, programs: list[str] | None = None) -> list[str]:
    """Remove the named shims, or all of them and the directory. Returns the names removed."""
    shims = {s.name: s for s in list_shims(directory)}
    if programs:
        unknown = [p for p in programs if p not in shims]
        if unknown:
            raise GuardError(f"no shim named {', '.join(unknown)} in {directory}")
        chosen = [shims[p] for p in programs]
    else:
        chosen = list(shims.values())
    removed = []
    for shim in chosen:
        if shim.kind == "other":
            continue  # not ours: never delete a file guard did not write
        try:
            os.unlink(shim.path)
        except OSError as exc:
            raise GuardError(f"cannot remove {shim.path}: {exc.strerror}") from exc
        removed.append(shim.name)
    if not programs and os.path.isdir(directory):
        left = [n for n in os.listdir(directory) if n != execute.SHIM_MARKER]
        if not left:
            try:
                os.unlink(os.path.join(directory, execute.SHIM_MARKER))
                os.rmdir(directory)
            except OSError as exc:
                raise GuardError(f"cannot remove {directory}: {exc.strerror}") from exc
    return removed


# ---------------------------------------------------------------- PATH


def env_line(directory: str, shell: str) -> str:
    """The line that puts `directory` first on PATH in `shell`."""
    import shlex

    quoted = shlex.quote(os.path.abspath(directory))
    if shell == "fish":
        return f"set -gx PATH {quoted} $PATH"
    if shell in ("bash", "zsh"):
        return f'export PATH={quoted}:"$PATH"'
    raise GuardError(f"unknown shell {shell!r}: use one of {', '.join(SHELLS)}")


def default_shell() -> str:
    name = os.path.basename(os.environ.get("SHELL", ""))
    return name if name in SHELLS else "bash"


def path_position(directory: str, path: str | None = None) -> int | None:
    """Index of `directory` on PATH (comparing real paths), or None when it is not there."""
    real = os.path.realpath(directory)
    entries = (os.environ.get("PATH", os.defpath) if path is None else path).split(os.pathsep)
    for i, entry in enumerate(entries):
        if os.path.realpath(entry or ".") == real:
            return i
    return None
