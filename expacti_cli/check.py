"""The dry run: what guard would decide, with no side effect (no prompt, exec or audit line)."""

from __future__ import annotations

from .decide import Decision
from .gate import Request, evaluate

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .policy import Policy


def check(
    policy: Policy,
    *,
    argv: list[str] | None = None,
    line: str | None = None,
    agent: str = "anonymous",
) -> Decision:
    """The policy's decision on a program's argv or a shell line (anomalies not included)."""
    if (argv is None) == (line is None):
        raise ValueError("check() takes exactly one of argv or line")
    req = Request("shell" if line is not None else "prefix", argv=argv, line=line, agent=agent)
    return evaluate(policy, req)
