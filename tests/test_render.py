"""`guard policy show` for people: every condition of a rule, at 80 columns."""

from __future__ import annotations

import json

from conftest import run_guard


def test_policy_show_shows_every_condition_of_a_rule(write_policy):
    write_policy(
        """
        [[irreversible]]
        id = "tool-wipe"
        match = "tool **"
        flags = ["--wipe"]
        reason = "wipes the tool's data"

        [[allow]]
        id = "remembered-tool"
        match = "tool sub **"
        agents = ["bot-1"]
        expires = "2099-01-01T00:00:00Z"
        [allow.learned]
        by = "alice"
        at = "2026-11-29T10:00:00.000Z"
        command = "tool sub x"
        """
    )
    narrow = run_guard("policy", "show", env={"COLUMNS": "80"})
    assert narrow.returncode == 0, narrow.stderr
    assert max(len(line) for line in narrow.stdout.splitlines()[1:]) <= 80
    out = run_guard("policy", "show", env={"COLUMNS": "250"}).stdout
    (row,) = [line for line in out.splitlines() if line.startswith("tool **")]
    assert "irreversible" in row
    assert "only with any of --wipe" in out
    assert "only for agents bot-1" in out
    assert "until 2099-01-01T00:00:00Z" in out
    assert "learned from `tool sub x`, by alice at 2026-11-29T10:00:00.000Z" in out
    assert "<- None" not in out

    data = json.loads(run_guard("policy", "show", "--json").stdout)
    (rule,) = [r for r in data["rules"] if r["id"] == "tool-wipe"]
    assert rule["flags"] == ["--wipe"]
    (mine,) = [r for r in data["rules"] if r["id"] == "remembered-tool"]
    assert mine["agents"] == ["bot-1"] and mine["learned"]["by"] == "alice"
