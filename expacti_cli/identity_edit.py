"""Changing the agents file (`guard agent add|enable|revoke|list`): identity.py reads it on
every decision; this half, with its lock and token generation, only `guard agent` loads.
"""

from __future__ import annotations

import os

from . import paths
from .audit import _sha256
from .identity import _read as read


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
        agents = read()
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
        return _issue(agents, name)


def enable(name: str) -> str:
    """Re-activate a revoked agent with a new token (the revoked one is presumed leaked)."""
    from .errors import UsageError

    with _Locked():
        agents = read()
        if name not in agents:
            raise UsageError(f"no agent named {name!r} (see guard agent list)")
        if agents[name][1] != "revoked":
            raise UsageError(
                f"agent {name!r} is not revoked (guard agent add --rotate {name} "
                "replaces its token)"
            )
        return _issue(agents, name)


def _issue(agents: dict[str, tuple[str, str]], name: str) -> str:
    """Give `name` a new token, active (under the lock): the token, shown once."""
    token, digest = _new_token()
    agents[name] = (digest, "active")
    _write(agents)
    return token


def revoke(name: str) -> None:
    from .errors import UsageError

    with _Locked():
        agents = read()
        if name not in agents:
            raise UsageError(f"no agent named {name!r} (see guard agent list)")
        agents[name] = (agents[name][0], "revoked")
        _write(agents)


def listing() -> dict[str, str]:
    return {name: status for name, (_, status) in read().items()}
