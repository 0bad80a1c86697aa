"""Per-agent identities: each agent its own secret, revocable alone.

The agents file (0o600) holds one line per agent: `name<TAB>sha256(token)<TAB>status`, where
status is `active` or `revoked`. Only digests are stored; the token is shown once, at `agent add`.
Plain lines rather than TOML: it is read on every command, and tomllib costs ~7 ms.
"""

from __future__ import annotations

import os

from . import paths
from .audit import _sha256


def _read() -> dict[str, tuple[str, str]]:
    try:
        with open(paths.agents_file(), encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return {}
    agents = {}
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        name, digest, status = ([*line.split("\t"), "", ""])[:3]
        agents[name] = (digest, status)
    return agents


def check(agent: str, token: str | None, require: bool) -> str | None:
    """Why this agent may not act, or None. Unreadable identity data refuses (fail closed)."""
    try:
        agents = _read()
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read the agents file {paths.agents_file()}: {exc}"
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


def add(name: str) -> str:
    """Register (or re-key) an agent; return its new token."""
    import secrets

    from .errors import UsageError

    if not _valid_name(name):
        raise UsageError(f"agent name {name!r}: use letters, digits and . _ - @")
    token = "gat_" + secrets.token_urlsafe(32)
    agents = _read()
    agents[name] = (_sha256(token.encode()), "active")
    _write(agents)
    return token


def revoke(name: str) -> None:
    from .errors import UsageError

    agents = _read()
    if name not in agents:
        raise UsageError(f"no agent named {name!r} (see guard agent list)")
    agents[name] = (agents[name][0], "revoked")
    _write(agents)


def listing() -> dict[str, str]:
    return {name: status for name, (_, status) in _read().items()}
