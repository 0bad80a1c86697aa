"""Anomaly flags: an unusual hour, a never-seen target, a rate spike.

Each is judged against this agent's own history (`agentstate`) and the `[anomalies]` settings.
Flags are strings shown to the reviewer and recorded in the audit log.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def flags(
    settings: dict[str, Any], state: dict[str, Any], now: float, hour: int, targets: list[str]
) -> list[str]:
    if not settings.get("enabled", True):
        return []
    found: list[str] = []
    window = settings["rate_window"]
    recent = sum(1 for t in state["times"] if now - t <= window)
    if settings["max_rate"] and recent + 1 > settings["max_rate"]:
        found.append(
            f"rate-spike: {recent + 1} commands in {window:g}s (limit {settings['max_rate']})"
        )
    total = state["total"]
    if total >= settings["min_history"]:
        share = state["hours"][hour % 24] / total
        if share < settings["min_hour_share"]:
            found.append(f"unusual-hour: {hour:02d}h is {share:.1%} of this agent's history")
        for target in targets:
            if target not in state["targets"]:
                found.append(f"new-target: {target} never seen for this agent")
    return found
