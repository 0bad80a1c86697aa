"""Anomaly flags send an otherwise whitelisted command to a human (DESIGN.md, Decisions 3):
a rate spike, a never-seen target, an unusual hour — each judged on the agent's own history."""

from __future__ import annotations

import pytest
from conftest import audit_entries, run_guard

from expacti_cli import agentstate, anomaly

SETTINGS = {
    "enabled": True,
    "min_history": 3,
    "max_rate": 0,
    "rate_window": 60.0,
    "min_hour_share": 0.0,
}


def _state(**changes):
    state = agentstate.empty()
    state.update(changes)
    return state


# ------------------------------------------------------------------ the rules, one by one


def test_rate_spike():
    settings = {**SETTINGS, "max_rate": 3}
    now = 1000.0
    state = _state(times=[now - 50, now - 10, now - 1])
    flags = anomaly.flags(settings, state, now, 12, [])
    assert len(flags) == 1
    assert flags[0].startswith("rate-spike: 4 commands in 60s")
    # Old commands fall out of the window.
    state = _state(times=[now - 500, now - 10, now - 1])
    assert anomaly.flags(settings, state, now, 12, []) == []


def test_new_target_needs_history():
    hours = [0] * 24
    hours[12] = 2
    young = _state(total=2, hours=hours, targets={"-n=dev": 2})
    assert anomaly.flags(SETTINGS, young, 0.0, 12, ["-n=prod"]) == []
    hours[12] = 3
    old = _state(total=3, hours=hours, targets={"-n=dev": 3})
    assert anomaly.flags(SETTINGS, old, 0.0, 12, ["-n=dev"]) == []
    flags = anomaly.flags(SETTINGS, old, 0.0, 12, ["-n=dev", "-n=prod"])
    assert flags == ["new-target: -n=prod never seen for this agent"]


def test_unusual_hour():
    settings = {**SETTINGS, "min_hour_share": 0.05}
    hours = [0] * 24
    hours[9] = 100
    state = _state(total=100, hours=hours)
    assert anomaly.flags(settings, state, 0.0, 9, []) == []
    flags = anomaly.flags(settings, state, 0.0, 3, [])
    assert len(flags) == 1
    assert flags[0].startswith("unusual-hour: 03h")


def test_disabled():
    settings = {**SETTINGS, "enabled": False, "max_rate": 1}
    state = _state(times=[0.0] * 10)
    assert anomaly.flags(settings, state, 1.0, 0, []) == []


def test_corrupt_agent_state_starts_afresh(guard_env):
    agentstate.record("bot", 1.0, 1, "ls", "allowed", [])
    path = agentstate._file("bot")
    with open(path, "wb") as f:
        f.write(b"\x00not marshal")
    assert agentstate.read("bot") == agentstate.empty()


def test_agent_names_cannot_escape_the_state_dir(guard_env):
    import os

    for name in ("../../etc/passwd", ".hidden", "a/b", "ünï"):
        path = agentstate._file(name)
        assert os.path.dirname(path) == os.path.join(str(guard_env.state_dir), "agents")


# ------------------------------------------------------------------ through the real gate


@pytest.fixture
def tool_policy(write_policy, tool_bin):
    def write(anomalies: str) -> None:
        write_policy(
            f"""
            [anomalies]
            {anomalies}

            [programs.tool]
            target_positional = 1

            [[allow]]
            id = "tool"
            match = "tool **"
            """
        )

    return write


def test_rate_spike_sends_a_whitelisted_command_to_review(tool_policy, guard_env, tmp_path):
    tool_policy("max_rate = 3\nmin_hour_share = 0.0")
    for i in range(3):
        assert run_guard("--", "tool", str(tmp_path / f"m{i}")).returncode == 0
    spike = tmp_path / "spike"
    result = run_guard("--", "tool", str(spike))
    assert result.returncode == 77
    assert not spike.exists()
    assert "rate-spike" in result.stderr
    entry = audit_entries(guard_env.audit_log)[-1]
    assert entry["decision"] == "denied"
    assert entry["decided_by"] == "no_reviewer"
    assert entry["rule"] == "tool"
    assert entry["anomalies"] and entry["anomalies"][0].startswith("rate-spike")


def test_rate_is_per_agent(tool_policy, tmp_path):
    tool_policy("max_rate = 2\nmin_hour_share = 0.0")
    for i in range(2):
        assert run_guard("--agent", "a", "--", "tool", str(tmp_path / f"a{i}")).returncode == 0
    assert run_guard("--agent", "a", "--", "tool", str(tmp_path / "a3")).returncode == 77
    assert run_guard("--agent", "b", "--", "tool", str(tmp_path / "b0")).returncode == 0


def test_new_target_after_min_history(tool_policy, guard_env, tmp_path):
    tool_policy("min_history = 3\nmax_rate = 0\nmin_hour_share = 0.0")
    known = tmp_path / "known"
    for _ in range(3):
        assert run_guard("--", "tool", str(known)).returncode == 0
    fresh = tmp_path / "fresh"
    result = run_guard("--", "tool", str(fresh))
    assert result.returncode == 77
    assert not fresh.exists()
    assert f"new-target: tool {fresh}" in result.stderr
    assert audit_entries(guard_env.audit_log)[-1]["anomalies"] == [
        f"new-target: tool {fresh} never seen for this agent"
    ]
    # The known target still runs.
    assert run_guard("--", "tool", str(known)).returncode == 0


def test_anomalies_disabled_in_policy(tool_policy, tmp_path):
    tool_policy("enabled = false\nmax_rate = 1")
    for i in range(3):
        assert run_guard("--", "tool", str(tmp_path / f"m{i}")).returncode == 0


def test_anomalies_never_make_a_denial_softer(write_policy, tool_bin, guard_env, tmp_path):
    write_policy(
        """
        [anomalies]
        max_rate = 1
        [[deny]]
        id = "never"
        match = "tool **"
        """
    )
    for _ in range(3):
        assert run_guard("--", "tool", str(tmp_path / "m")).returncode == 77
    assert {e["decided_by"] for e in audit_entries(guard_env.audit_log)} == {"policy"}
