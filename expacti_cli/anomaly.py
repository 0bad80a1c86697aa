"""Anomaly flags: an unusual hour, a never-seen target, a rate spike.

Each is judged against this agent's own history (`agentstate`) and the `[anomalies]` settings
(README, "Anomalies", documents every one). Flags are strings shown to the reviewer and
recorded in the audit log.

Rate: the commands of the last `rate_window` are compared with the agent's usual pace, the
90th percentile of its busy minutes (minutes with at least one command), scaled to the window.
A spike is more than `rate_factor` times that pace and more than `rate_floor` commands. Until
the agent has `rate_learning` busy minutes its pace is unknown and no spike is flagged (the
learning period); `max_rate`, when not 0, is an absolute cap that holds from the first command.
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
    spike = rate_flag(settings, state, now)
    if spike:
        found.append(spike)
    total = state["total"]
    if total >= settings["min_history"]:
        share = state["hours"][hour % 24] / total
        if share < settings["min_hour_share"]:
            found.append(f"unusual-hour: {hour:02d}h is {share:.1%} of this agent's history")
        for target in targets:
            if target not in state["targets"]:
                found.append(f"new-target: {target} never seen for this agent")
    return found


def usual_pace(state: dict[str, Any]) -> float:
    """Commands in this agent's usual busy minute: the 90th percentile (nearest rank)."""
    busy = sorted(state.get("busy") or ())
    if not busy:
        return 0.0
    return float(busy[max(0, -(-len(busy) * 9 // 10) - 1)])


def _recent(times: list[float], now: float, window: float) -> int:
    """How many of `times` fall in the last `window` seconds (counted in C: an agent's whole
    history of times is read on every decision; their order does not matter)."""
    return sum(map((now - window).__le__, times))


def rate_flag(settings: dict[str, Any], state: dict[str, Any], now: float) -> str | None:
    window = settings["rate_window"]
    count = _recent(state["times"], now, window) + 1  # with this command
    cap = settings.get("max_rate", 0)
    if cap and count > cap:
        return f"rate-spike: {count} commands in {window:g}s (max_rate {cap})"
    if len(state.get("busy") or ()) < settings.get("rate_learning", 10):
        return None  # still learning this agent's pace
    usual = usual_pace(state) * window / 60.0
    limit = max(float(settings.get("rate_floor", 30)), settings.get("rate_factor", 3.0) * usual)
    if count > limit:
        return (
            f"rate-spike: {count} commands in {window:g}s; this agent's usual pace is "
            f"about {usual:.0f} (limit {limit:.0f})"
        )
    return None
