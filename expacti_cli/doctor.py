"""`guard doctor`: is this installation able to protect anything? A list of check results.

Statuses: "ok" and "info" say where things are; "warn" is a weakness guard cannot fix by itself
(the threat model: an agent's user that can write guard's own policy or log); "fail" means
guard is broken or bypassed here (an invalid policy, an audit log that cannot be written or whose
chain is broken, shims that come after the real programs on PATH). `healthy` is "no fail".
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from . import execute, paths
from . import policy as policy_mod
from .errors import GuardError, PolicyError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .policy import Policy

OK, INFO, WARN, FAIL = "ok", "info", "warn", "fail"


@dataclass(frozen=True)
class Check:
    name: str  # what was checked: policy, audit-log, audit-chain, shims, access, ...
    status: str  # ok | info | warn | fail
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def healthy(checks: list[Check]) -> bool:
    return all(c.status != FAIL for c in checks)


def run(
    *,
    policy_path: str | None = None,
    audit_path: str | None = None,
    shim_dir: str | None = None,
    path: str | None = None,
) -> list[Check]:
    """Every check, in the order a human reads them. `path` is the agent's PATH (default ours)."""
    checks: list[Check] = []
    user_policy = policy_path or paths.user_policy()
    log = audit_path or paths.audit_log()
    shims = os.path.abspath(shim_dir or paths.shim_dir())
    search = os.environ.get("PATH", os.defpath) if path is None else path

    state = "" if os.path.exists(user_policy) else "  (missing: only the built-in catalogue)"
    checks.append(Check("where", INFO, f"policy: {user_policy}{state}"))
    checks.append(Check("where", INFO, f"audit log: {log}"))
    checks.append(Check("where", INFO, f"cache: {paths.cache_dir()}"))
    checks.append(Check("where", INFO, f"shims: {shims}"))

    policy = _check_policy(checks, policy_path)
    _check_log(checks, log, policy)
    _check_shims(checks, shims, search)
    _check_access(checks, user_policy, log)
    return checks


# ---------------------------------------------------------------- policy


def _check_policy(checks: list[Check], policy_path: str | None) -> Policy | None:
    try:
        policy = policy_mod.load(policy_path)
    except PolicyError as exc:
        checks.append(Check("policy", FAIL, f"policy invalid: {exc.message}"))
        return None
    layers = len(policy.sources)
    checks.append(
        Check("policy", OK, f"policy valid: {len(policy.rules)} rules from {layers} files")
    )
    return policy


# ---------------------------------------------------------------- audit log


def _writable(log: str) -> str | None:
    """Why an entry could not be appended to `log`, or None. Writes nothing to the log."""
    if os.path.isdir(log):
        return "it is a directory"
    if os.path.exists(log):
        try:
            fd = os.open(log, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            return f"cannot open it for appending: {exc.strerror}"
        os.close(fd)
    directory = os.path.dirname(os.path.abspath(log))
    existing = directory
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return f"{existing} is not a directory"
    if existing != directory:
        if not os.access(existing, os.W_OK | os.X_OK):
            return f"cannot create {directory}: {existing} is not writable"
        return None
    # The lock file and rotation need the directory itself: try a real file there.
    probe = os.path.join(directory, f".guard-doctor-{os.getpid()}")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        return f"cannot create files in {directory}: {exc.strerror}"
    os.close(fd)
    os.unlink(probe)
    return None


def _check_log(checks: list[Check], log: str, policy: Policy | None) -> None:
    problem = _writable(log)
    if problem:
        checks.append(
            Check(
                "audit-log",
                FAIL,
                f"audit log {log} is not writable ({problem}): every command will be denied",
            )
        )
        return
    checks.append(Check("audit-log", OK, f"audit log writable: {log}"))
    if not os.path.exists(log) or os.path.isdir(log):
        checks.append(Check("audit-chain", INFO, "audit log is empty (no entries yet)"))
        return
    key = None
    key_file = os.environ.get("GUARD_AUDIT_KEY_FILE") or (
        policy.audit.get("key_file") if policy else ""
    )
    try:
        if key_file:
            from .audit import read_key

            key = read_key(key_file)
        checks.append(_verify_chain(log, key))
    except GuardError as exc:
        checks.append(Check("audit-chain", FAIL, f"audit log chain not checked: {exc.message}"))
    except OSError as exc:
        checks.append(Check("audit-chain", FAIL, f"audit log unreadable: {exc}"))


def _verify_chain(log: str, key: bytes | None) -> Check:
    try:
        from . import auditverify
    except ImportError:  # pragma: no cover - older layout: check that the tail is intact
        from . import audit

        if audit.last_hash_in(log) is None and os.path.getsize(log):
            return Check("audit-chain", FAIL, f"audit log {log}: no intact entry at its end")
        return Check("audit-chain", OK, "audit log ends with an intact entry")
    result = auditverify.verify(log, key)
    if result.ok:
        return Check("audit-chain", OK, f"audit log chain intact ({result.entries} entries)")
    brk = result.first_break
    where = f"{brk.file}:{brk.line} ({brk.kind}: {brk.detail})" if brk else "somewhere"
    return Check(
        "audit-chain", FAIL, f"audit log chain broken at {where}; see `guard audit verify`"
    )


# ---------------------------------------------------------------- shims and PATH


def _first_on_path(name: str, entries: list[str]) -> str | None:
    for directory in entries:
        candidate = os.path.join(directory or ".", name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _real_on_path(name: str, entries: list[str]) -> str | None:
    own = execute.guard_executables()
    for directory in entries:
        candidate = os.path.join(directory or ".", name)
        if not os.path.isfile(candidate) or not os.access(candidate, os.X_OK):
            continue
        if not execute.is_shim(candidate, own):
            return candidate
    return None


def _check_shims(checks: list[Check], directory: str, search: str) -> None:
    from . import shims as shims_mod

    if not os.path.isdir(directory):
        checks.append(Check("shims", INFO, f"no shims installed in {directory}"))
        return
    try:
        found = shims_mod.list_shims(directory)
    except GuardError as exc:
        checks.append(Check("shims", FAIL, exc.message))
        return
    broken = [s.name for s in found if not s.ok]
    if broken:
        checks.append(
            Check(
                "shims",
                FAIL,
                f"shims that do not run guard: {', '.join(broken)} (guard shims install to repair)",
            )
        )
    working = [s.name for s in found if s.ok]
    if not working:
        checks.append(Check("shims", INFO, f"no working shims in {directory}"))
        return
    entries = search.split(os.pathsep)
    position = shims_mod.path_position(directory, search)
    if position is None:
        checks.append(
            Check(
                "shims",
                WARN,
                f"the shim directory {directory} is not on PATH: programs "
                f'run by name bypass it (eval "$(guard shims env)")',
            )
        )
        return
    late: dict[str, str] = {}
    shadows: list[str] = []
    for name in working:
        first = _first_on_path(name, entries)
        real = _real_on_path(name, entries)
        if first is not None and not execute.is_shim(first):
            late[name] = os.path.dirname(first)
        elif real is not None:
            shadows.append(f"{name} ({real})")
    if late:
        dirs = ", ".join(sorted(set(late.values())))
        checks.append(
            Check(
                "shims",
                FAIL,
                f"the shim directory comes after {dirs} on PATH, so these run "
                f"without guard: {', '.join(sorted(late))}; put {directory} first on PATH",
            )
        )
    if late and not shadows:
        return
    place = "first" if position == 0 else f"entry {position + 1}"
    listed = ", ".join(shadows) if shadows else "nothing (no real program found)"
    checks.append(Check("shims", OK, f"shim directory is {place} on PATH; shadows: {listed}"))


# ---------------------------------------------------------------- who can write guard's files


def _writable_by_me(path: str) -> str | None:
    """What this user could change to alter `path`: itself, or the directory to replace it in."""
    probe = os.path.abspath(path)
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe) and os.access(probe, os.W_OK):
        return probe
    directory = probe if os.path.isdir(probe) else os.path.dirname(probe)
    return directory if os.access(directory, os.W_OK | os.X_OK) else None


def _check_access(checks: list[Check], user_policy: str, log: str) -> None:
    """DESIGN.md threat model: guard cannot protect files the agent's own user may write."""
    exposed = []
    for what, target in (
        ("policy", user_policy),
        ("built-in catalogue", paths.builtin_policies()),
        ("policy cache", paths.cache_dir()),
        ("audit log", log),
        ("agent identities", paths.agents_file()),
    ):
        found = _writable_by_me(target)
        if found:
            exposed.append(f"{what} ({found})")
    if exposed:
        checks.append(
            Check(
                "access",
                WARN,
                "this user can write guard's own files: "
                + "; ".join(exposed)
                + ". An agent running as this user could rewrite its rules or its log: run "
                "the agent as another Unix user (README: Deploying guard)",
            )
        )
    else:
        checks.append(Check("access", OK, "this user cannot write guard's policy, cache or log"))


def as_json(checks: list[Check]) -> dict[str, Any]:
    return {"healthy": healthy(checks), "checks": [c.to_dict() for c in checks]}
