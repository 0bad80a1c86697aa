"""Per-agent identities: each agent its own secret, revocable alone.

The agents file (0o600) holds one line per agent: `name<TAB>sha256(token)<TAB>status`, where
status is `active` or `revoked`. Only digests are stored; the token is shown once, at `agent add`.
Plain lines rather than TOML: it is read on every command, and tomllib costs ~7 ms.
This module is the reading half every decision loads; `guard agent` changes the file through
identity_edit.py.
"""

from __future__ import annotations

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
