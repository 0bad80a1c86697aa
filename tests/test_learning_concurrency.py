"""Learning is idempotent, also between processes: `guard audit suggest --apply` run four times
at once, and "remember" of the same rule by several reviewers at once, add it exactly once."""

from __future__ import annotations

import subprocess
import textwrap
import tomllib
from pathlib import Path

from audit_builder import approved, write
from conftest import GUARD, PYTHON

from expacti_cli import policy_edit


def _run_all(commands: list[list[str]]) -> None:
    procs = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for c in commands
    ]
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (out, err)


def test_concurrent_suggest_apply_adds_each_rule_once(write_policy, tmp_path: Path):
    policy = write_policy("# mine\n[settings]\ndefault = 'review'\n")
    log = write(
        tmp_path / "audit.jsonl",
        [approved(["frob", "build", str(i)]) for i in range(3)]
        + [approved(["zork", "test", str(i)], agent="codex") for i in range(3)],
    )
    apply = [GUARD, "audit", "suggest", "--apply", "--yes", "--audit-log", log]
    _run_all([apply] * 4)
    rules = tomllib.loads(policy.read_text())["allow"]
    assert sorted((r["match"], r["agents"]) for r in rules) == [
        ("frob build **", ["claude"]),
        ("zork test **", ["codex"]),
    ]
    _run_all([apply])  # and again later: nothing new
    assert len(tomllib.loads(policy.read_text())["allow"]) == 2
    assert policy.read_text().startswith("# mine\n")


REMEMBER = textwrap.dedent(
    """
    import sys
    from expacti_cli import policy_edit
    policy_edit.add_allow_rule(
        sys.argv[1], None, ["frob build **"], agents=["bot"], covers=[["frob", "build", "x"]]
    )
    """
)


def test_concurrent_remember_of_the_same_rule_adds_it_once(write_policy):
    path = write_policy("[settings]\ndefault = 'review'\n")
    _run_all([[PYTHON, "-c", REMEMBER, str(path)] for _ in range(6)])
    (rule,) = tomllib.loads(path.read_text())["allow"]
    assert rule["match"] == "frob build **" and rule["agents"] == ["bot"]


def test_a_rule_the_policy_already_allows_is_not_added(write_policy):
    path = write_policy('[[allow]]\nid = "frob-all"\nmatch = "frob **"\n')
    done = policy_edit.add_allow_rule(
        str(path), None, ["frob build **"], agents=["bot"], covers=[["frob", "build", "x"]]
    )
    assert (done.added, done.rule_id) == (False, "frob-all")
    assert len(tomllib.loads(path.read_text())["allow"]) == 1
