"""Anomaly flags send an otherwise whitelisted command to a human (DESIGN.md, Decisions 3):
a rate spike, a never-seen target, an unusual hour — each judged on the agent's own history."""

from __future__ import annotations

import pytest
from conftest import GUARD, audit_entries, run_guard, run_process

from expacti_cli import agentstate, anomaly

SETTINGS = {
    "enabled": True,
    "min_history": 3,
    "max_rate": 0,
    "rate_window": 60.0,
    "min_hour_share": 0.0,
    "rate_factor": 3.0,
    "rate_floor": 30,
    "rate_learning": 10,
}
BASELINE = {**SETTINGS, "min_history": 1_000_000}  # only the rate is judged


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


def test_rate_counts_commands_recorded_slightly_out_of_order():
    """Concurrent commands of one agent may record their start times a moment out of order."""
    settings = {**SETTINGS, "max_rate": 4}
    now = 1000.0
    state = _state(times=[now - 900, now - 59, now - 70, now - 30, now - 40, now - 5])
    flags = anomaly.flags(settings, state, now, 12, [])
    assert flags and flags[0].startswith("rate-spike: 5 commands in 60s")


def _history(agent: str, per_minute: int, minutes: int, start: float) -> None:
    """Record `minutes` busy minutes of `per_minute` commands each, ending before `start`."""
    for m in range(minutes):
        base = start // 60 * 60 - (minutes - m) * 120.0  # a quiet minute between busy ones
        for i in range(per_minute):
            agentstate.record(agent, base + i * 50.0 / per_minute, 12, "true", "allowed", [])


def _burst(agent: str, count: int, start: float) -> list[list[str]]:
    """`count` commands within one minute; the anomaly flags each would get."""
    seen = []
    for i in range(count):
        now = start // 60 * 60 + i * 50.0 / count  # within one clock minute
        seen.append(anomaly.flags(BASELINE, agentstate.read(agent), now, 12, []))
        agentstate.record(agent, now, 12, "true", "allowed", [])
    return seen


def test_a_burst_at_the_agents_usual_pace_is_not_a_spike(guard_env):
    start = 1_000_000.0
    _history("builder", 500, 12, start)
    flagged = [f for f in _burst("builder", 500, start) if f]
    assert flagged == []


def test_a_sudden_burst_from_a_quiet_agent_is_a_spike(guard_env):
    start = 1_000_000.0
    _history("quiet", 5, 12, start)
    flags = _burst("quiet", 500, start)
    assert flags[29] == []  # up to rate_floor (30 a minute): a quiet agent's small burst
    assert flags[30] and flags[30][0].startswith("rate-spike: 31 commands in 60s")
    assert "usual pace is about 5" in flags[30][0]
    assert all(f for f in flags[30:])


def test_no_rate_spike_while_the_agents_pace_is_learned(guard_env):
    start = 1_000_000.0
    _history("new", 5, 9, start)  # 9 busy minutes: one short of rate_learning
    assert [f for f in _burst("new", 200, start) if f] == []


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


def test_through_guard_a_busy_agents_burst_runs_and_a_quiet_agents_is_reviewed(
    tool_policy, guard_env, tmp_path
):
    """Through the installed guard: 130 whitelisted commands in a minute (more than the old
    fixed cap of 120; the 500 of the acceptance are replayed in-process above) run for the agent
    whose history shows that pace; a quiet agent's burst goes to review (denied here: nobody to
    ask) once it passes three times its pace and the floor of 30."""
    import time

    tool_policy("min_hour_share = 0.0\nmin_history = 1000000")
    now = time.time()
    _history("builder", 500, 12, now - 60)
    _history("quiet", 3, 12, now - 60)
    script = (
        'for i in $(seq {n}); do "$GUARD" --agent {agent} -- tool "$DIR/m" || echo "refused $i";'
        " done"
    )
    env = {"GUARD": GUARD, "DIR": str(tmp_path)}
    busy = run_process(
        ["/bin/sh", "-c", script.format(n=130, agent="builder")], env=env, timeout=300
    )
    assert "refused" not in busy.stdout
    quiet = run_process(["/bin/sh", "-c", script.format(n=40, agent="quiet")], env=env, timeout=60)
    refused = [int(line.split()[1]) for line in quiet.stdout.splitlines() if "refused" in line]
    assert refused and refused[0] == 31 and refused == list(range(31, 41))
    spikes = [
        e for e in audit_entries(guard_env.audit_log) if e["agent"] == "quiet" and e["anomalies"]
    ]
    assert spikes and spikes[0]["anomalies"][0].startswith("rate-spike: 31 commands")


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


def test_threads_of_one_process_lose_no_update_of_an_agents_state(guard_env):
    """guard serve records agents' decisions from several threads. The file lock is a record
    lock, which a process holds for all its threads: without its thread lock, two updates of
    one agent would read the same state and one would be lost."""
    import threading
    import time

    threads, each = 8, 40
    start = threading.Barrier(threads)

    def work(n: int) -> None:
        start.wait()
        for i in range(each):
            agentstate.record("busy", time.time(), 3, f"cmd {n} {i}", "allowed", [f"t{n}"])

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    state = agentstate.read("busy")
    assert state["total"] == threads * each
    assert sum(state["targets"].values()) == threads * each
