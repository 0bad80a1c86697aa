"""Per-agent identities: each agent its own secret, revocable alone.

The agents file (0o600) holds one line per agent: `name<TAB>sha256(token)<TAB>status`, where
status is `active` or `revoked`. Only digests are stored; the token is shown once, at `agent add`.
Plain lines rather than TOML: it is read on every command, and tomllib costs ~7 ms.
"""

from __future__ import annotations

import os

from . import paths
from .audit import _sha256

MAX_AGENTS_BYTES = 16 * 1024 * 1024  # ~100,000 agents


def _read() -> dict[str, tuple[str, str]]:
    """The agents file's entries. Raises GuardError (one line naming the file) when it cannot
    be read as a regular file of bounded size: never blocks on a FIFO or reads /dev/zero."""
    from .errors import PolicyError
    from .safefile import read_text

    try:
        text = read_text(paths.agents_file(), "agents file", MAX_AGENTS_BYTES, PolicyError)
    except FileNotFoundError:
        return {}
    lines = text.splitlines()
    agents = {}
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        name, digest, status = ([*line.split("\t"), "", ""])[:3]
        agents[name] = (digest, status)
    return agents


def check(agent: str, token: str | None, require: bool) -> str | None:
    """Why this agent may not act, or None. Unreadable identity data refuses (fail closed)."""
    from .errors import GuardError

    try:
        agents = _read()
    except GuardError as exc:
        return exc.message
    known = agents.get(agent)
    if known and known[1] == "revoked":
        return f"agent '{agent}' has been revoked"
    if not require:
        return None
    if known is None:
        return f"unknown agent '{agent}' (identity is required: guard agent add {agent})"
    if not token:
        return f"agent '{agent}' gave no token (set GUARD_AGENT_TOKEN)"
    if _sha256(token.encode("utf-8", "surrogateescape")) != known[0]:
        return f"wrong token for agent '{agent}'"
    return None


def _write(agents: dict[str, tuple[str, str]]) -> None:
    path = paths.agents_file()
    paths.ensure_dir(os.path.dirname(path))
    tmp = f"{path}.{os.getpid()}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write("# guard agents: name, sha256 of token, status. Managed by `guard agent`.\n")
        for name, (digest, status) in sorted(agents.items()):
            f.write(f"{name}\t{digest}\t{status}\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _valid_name(name: str) -> bool:
    return bool(name) and all(c.isascii() and (c.isalnum() or c in "._-@") for c in name)


class _Locked:
    """Holds the agents file's lock for one read-modify-write (`guard agent` run twice at once
    must not lose an agent)."""

    def __enter__(self) -> _Locked:
        import fcntl

        path = paths.agents_file() + ".lock"
        paths.ensure_dir(os.path.dirname(path))
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)  # closing releases the lock


def _new_token() -> tuple[str, str]:
    import secrets

    token = "gat_" + secrets.token_urlsafe(32)
    return token, _sha256(token.encode())


def add(name: str, *, rotate: bool = False) -> str:
    """Register a new agent, or with `rotate` give an active one a new token (the old one stops
    working at once); return the new token. Never silently re-keys or re-activates."""
    from .errors import UsageError

    if not _valid_name(name):
        raise UsageError(f"agent name {name!r}: use letters, digits and . _ - @")
    with _Locked():
        agents = _read()
        status = agents[name][1] if name in agents else None
        if status == "revoked":
            raise UsageError(
                f"agent {name!r} is revoked; re-activate it explicitly with "
                f"`guard agent enable {name}` (it gets a new token)"
            )
        if status is not None and not rotate:
            raise UsageError(
                f"agent {name!r} already exists and its token stays valid; "
                f"`guard agent add --rotate {name}` replaces the token"
            )
        if status is None and rotate:
            raise UsageError(f"no agent named {name!r} to rotate (guard agent add {name})")
        token, digest = _new_token()
        agents[name] = (digest, "active")
        _write(agents)
    return token


def enable(name: str) -> str:
    """Re-activate a revoked agent with a new token (the revoked one is presumed leaked)."""
    from .errors import UsageError

    with _Locked():
        agents = _read()
        if name not in agents:
            raise UsageError(f"no agent named {name!r} (see guard agent list)")
        if agents[name][1] != "revoked":
            raise UsageError(
                f"agent {name!r} is not revoked (guard agent add --rotate {name} "
                "replaces its token)"
            )
        token, digest = _new_token()
        agents[name] = (digest, "active")
        _write(agents)
    return token


def revoke(name: str) -> None:
    from .errors import UsageError

    with _Locked():
        agents = _read()
        if name not in agents:
            raise UsageError(f"no agent named {name!r} (see guard agent list)")
        agents[name] = (agents[name][0], "revoked")
        _write(agents)


def listing() -> dict[str, str]:
    return {name: status for name, (_, status) in _read().items()}
