"""Sane ranges of numeric policy settings, checked when a policy compiles and when a cached
compiled policy is read back (a hand-edited cache must not smuggle in a NaN or a 2**63 s
timeout)."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# Sane ranges of numeric settings: (table, key) -> (low, high, also allowed, unit). A value out
# of range would break guard later (an overflowing timeout, a division by zero, NaN compares).
_RANGES: dict[tuple[str, str], tuple[float, float, float | None, str]] = {
    ("settings", "review_timeout"): (0.1, 86400.0, None, " seconds"),
    ("settings", "decision_budget"): (0.05, 10.0, None, " seconds"),
    ("audit", "max_bytes"): (1024, 2**40, 0, " bytes (0: never rotate)"),
    ("anomalies", "min_history"): (1, 1_000_000, None, ""),
    ("anomalies", "max_rate"): (1, 1_000_000, 0, " (0: no rate limit)"),
    ("anomalies", "rate_window"): (0.001, 7 * 86400.0, None, " seconds"),
    ("anomalies", "min_hour_share"): (0.0, 1.0, None, ""),
    ("anomalies", "rate_factor"): (1.0, 1000.0, None, " (times the agent's usual pace)"),
    ("anomalies", "rate_floor"): (1, 1_000_000, None, " commands per rate_window"),
    ("anomalies", "rate_learning"): (1, 100_000, None, " busy minutes"),
}


def out_of_range(table: str, key: str, value: object) -> str | None:
    """Why a setting's value is out of its sane range, or None."""
    bounds = _RANGES.get((table, key))
    if bounds is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    low, high, also, unit = bounds
    if value == also or low <= value <= high:  # NaN fails both comparisons
        return None
    also_text = f" or {also:g}" if also is not None else ""
    return f"[{table}] {key} must be between {low:g} and {high:g}{also_text}{unit}, got {value!r}"


def in_range(
    settings: dict[str, Any], audit: dict[str, Any], anomalies: dict[str, Any]
) -> str | None:
    """The first setting out of its sane range, or None (checks a cached compiled policy)."""
    for table, values in (("settings", settings), ("audit", audit), ("anomalies", anomalies)):
        for key, value in values.items():
            why = out_of_range(table, key, value)
            if why:
                return why
    return None
