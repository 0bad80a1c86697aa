"""Summary, suggestions, replay and the pattern generaliser, on logs with known answers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from audit_builder import approved, denied, entry, lines, rewrite, write

from expacti_cli import auditread, auditstats, policy
from expacti_cli.suggest import generalise

KUBECTL = {"kubectl": {"global_options": ["-n", "--namespace", "--context"]}}


@pytest.fixture
def log(tmp_path: Path) -> str:
    es = [entry(["git", "status"], agent="claude") for _ in range(4)]
    es += [approved(["npm", "test"], latency=100.0 * i, agent="codex") for i in range(1, 7)]
    es += [
        approved(["make"], latency=700.0, reviewer="bob"),
        approved(["make"], 800.0, reviewer="bob"),
    ]
    es += [denied(["curl", "x"], latency=900.0), denied(["curl", "y"], latency=1000.0)]
    es += [
        entry(["mkfs.ext4", "/dev/sda"], decision="denied", rule="no-disk-wipe", reason="wipe"),
        entry(["sleep", "1"], decision="denied", decided_by="timeout", rule=None, latency_ms=5e5),
        approved(["rm", "-rf", "build"], irreversible=True, rule="rm-rf", reviewer="carol"),
        entry(["ls"], anomalies=["unusual-hour"], ts="2026-11-26T03:15:00.000Z"),
    ]
    return write(tmp_path / "audit.jsonl", es)


def test_summary_counts_rates_and_percentiles(log: str) -> None:
    s = auditstats.summarize(log)
    assert s.entries == 18
    d = s.decisions
    assert (d.allowed, d.approved, d.denied) == (5, 9, 4)
    # reviewer decisions: 9 approved (6 npm, 2 make, 1 rm) and 2 denied (curl)
    assert s.approval_rate == pytest.approx(9 / 11)
    assert s.decided_by == {"policy": 6, "reviewer": 11, "timeout": 1}
    # latencies 100..1000 step 100, plus rm's 1000: 11 values
    assert s.latency["count"] == 11
    assert s.latency["p50"] == 600.0  # nearest rank: the 6th of 11
    assert s.latency["p90"] == 1000.0
    assert s.latency["p99"] == 1000.0
    assert s.agents["codex"].approved == 6
    assert s.agents["codex"].approval_rate == 1.0
    assert s.rules["no-disk-wipe"].denied == 1
    assert s.rules[auditstats.NO_RULE].reviewed_denied == 2
    assert s.reviewers["bob"].approved == 2
    assert s.reviewers["alice"].approval_rate == pytest.approx(6 / 8)
    assert [(x.command, x.count) for x in s.top_denials][:1] == [("curl x", 1)]
    assert {x.command for x in s.top_denials} == {
        "curl x",
        "curl y",
        "mkfs.ext4 /dev/sda",
        "sleep 1",
    }
    assert s.irreversible == 1
    assert s.irreversible_by_approver == {"carol": 1}
    assert s.irreversible_ops[0].command == "rm -rf build"
    assert s.anomalies == {"unusual-hour": 1}
    assert s.hours[3] == 1
    assert s.hours[10] == 17


def test_percentiles_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert auditstats.percentile(values, 50) == 50
    assert auditstats.percentile(values, 90) == 90
    assert auditstats.percentile(values, 99) == 99
    assert auditstats.percentile([], 50) is None
    assert auditstats.percentile([7.0], 99) == 7.0


def test_summary_with_filter_and_corrupt_lines(log: str) -> None:
    text = lines(log)
    text.insert(2, "oops\n")
    rewrite(log, text)
    s = auditstats.summarize(log, auditread.Filter(agent="codex"))
    assert s.entries == 6
    assert s.problems.count == 1
    assert s.problems.first[0].line == 3


def test_parallel_summary_equals_sequential(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "audit.jsonl")
    es = []
    for i in range(300):
        es.append(approved(["npm", "test"], latency=float(i)) if i % 3 else entry(["ls"]))
    write(path, es, max_bytes=20_000)
    text = lines(path)
    text[5] = "broken\n"
    rewrite(path, text)
    seq = auditstats.summarize(path, workers=1)
    monkeypatch.setattr(auditstats, "_PARALLEL_BYTES", 0)
    monkeypatch.setattr(auditstats, "_CHUNK_BYTES", 7_000)
    par = auditstats.summarize(path, workers=2)
    assert par.to_dict() == seq.to_dict()
    assert par.problems.first[0].line == 6


@pytest.mark.parametrize(
    ("argv", "programs", "pattern"),
    [
        (["git", "log", "-n", "5"], None, "git log **"),
        (["ls", "-la"], None, "ls **"),
        (["/usr/bin/git", "status"], None, "git status **"),
        (["kubectl", "-n", "prod", "get", "pods"], KUBECTL, "kubectl get **"),
        (["kubectl", "--namespace=prod", "get", "pods"], KUBECTL, "kubectl get **"),
        (["kubectl", "-nprod", "delete", "pod", "x"], KUBECTL, "kubectl delete **"),
        (["kubectl", "-n", "prod", "get", "pods"], None, "kubectl **"),
        (["python", "script.py"], None, "python **"),
        (["my prog", "x"], None, "'my prog' x **"),
        (["[", "-f", "x", "]"], None, "'[[]' **"),
    ],
)
def test_generalise(argv: list[str], programs: Any, pattern: str) -> None:
    assert generalise(argv, programs) == pattern


def test_generalise_with_the_builtin_catalogue() -> None:
    pol = policy.load(None)
    pattern = generalise(["kubectl", "-n", "prod", "get", "pods"], pol.programs)
    assert pattern == "kubectl get **"


def test_suggest(tmp_path: Path) -> None:
    es = [approved(["git", "log", "-n", str(i)], rule="review-git") for i in range(3)]
    es += [approved(["npm", "test"]) for _ in range(3)] + [denied(["npm", "test", "--all"])]
    es += [approved(["rm", "-rf", "build"], irreversible=True, rule="rm-rf") for _ in range(3)]
    es += [
        denied(["kubectl", "-n", "prod", "delete", "pod", str(i)], rule="kube-write")
        for i in range(3)
    ]
    es += [approved(["git", "push"]) for _ in range(2)]
    es += [entry(["ls"]) for _ in range(5)]  # allowed by policy: nothing to suggest
    path = write(tmp_path / "audit.jsonl", es)
    out = auditstats.suggest(path, programs=KUBECTL)
    assert [(s.pattern, s.approvals, s.rule_id) for s in out.suggestions] == [
        ("git log **", 3, "allow-git-log")
    ]
    assert out.suggestions[0].sent_by == ["review-git"]
    assert out.suggestions[0].examples == ["git log -n 0", "git log -n 1", "git log -n 2"]
    assert out.irreversible_skipped == ["rm **"]
    assert [(w.pattern, w.denials, w.rules) for w in out.warnings] == [
        ("kubectl delete **", 3, ["kube-write"])
    ]
    assert auditstats.suggest(path, min_approvals=2).suggestions[-1].pattern == "git push **"
    taken = auditstats.suggest(path, taken_ids={"allow-git-log"})
    assert taken.suggestions[0].rule_id == "allow-git-log-2"


def test_suggest_uses_the_parts_of_shell_lines(tmp_path: Path) -> None:
    parts = [
        {"argv": ["git", "status"], "verdict": "allow", "rule": "git-read", "reason": ""},
        {"argv": ["make", "all"], "verdict": "review", "rule": None, "reason": ""},
    ]
    es = [approved(["bash", "-c", "git status && make all"], mode="shell", parts=parts)] * 3
    out = auditstats.suggest(write(tmp_path / "audit.jsonl", es))
    assert [s.pattern for s in out.suggestions] == ["make all **"]


def test_recorded_verdicts() -> None:
    rv = auditstats.recorded_verdict
    assert rv({"decision": "allowed", "decided_by": "policy"}) == "allow"
    assert rv({"decision": "denied", "decided_by": "policy"}) == "deny"
    assert rv({"decision": "approved", "decided_by": "reviewer"}) == "review"
    assert rv({"decision": "denied", "decided_by": "reviewer"}) == "review"
    assert rv({"decision": "denied", "decided_by": "timeout"}) == "review"
    assert rv({"decision": "denied", "decided_by": "no_reviewer"}) == "review"
    assert rv({"decision": "denied"}) is None


def test_replay_counts_transitions_with_a_given_checker(tmp_path: Path) -> None:
    es = [entry(["git", "status"])] * 2 + [approved(["npm", "test"])] * 3
    es += [entry(["bash", "-c", "make && ls"], mode="shell", command="make && ls")]
    path = write(tmp_path / "audit.jsonl", es)
    calls: list[dict[str, Any]] = []

    def fake_check(pol: Any, **kw: Any) -> Any:
        calls.append(kw)
        if kw.get("line"):
            return SimpleNamespace(verdict="deny", rule="no-make")
        return SimpleNamespace(verdict="review" if kw["argv"][0] == "git" else "allow", rule="r")

    out = auditstats.replay(path, object(), check=fake_check)
    assert out.entries == 6 and out.unchanged == 0 and out.changed == 6
    assert [(t.before, t.after, t.count) for t in out.transitions] == [
        ("review", "allow", 3),
        ("allow", "review", 2),
        ("allow", "deny", 1),
    ]
    assert {"line": "make && ls", "agent": "claude"} in calls
    assert out.transitions[0].examples[0]["command"] == "npm test"


def test_replay_against_a_real_policy(tmp_path: Path) -> None:
    pfile = tmp_path / "new-policy.toml"
    pfile.write_text('[[allow]]\nid = "npm-test"\nmatch = "npm test **"\n', encoding="utf-8")
    es = [approved(["npm", "test"])] * 3 + [entry(["git", "status"])] * 2
    es += [approved(["frobnicate", "--x"])]
    path = write(tmp_path / "audit.jsonl", es)
    out = auditstats.replay(path, policy.load(str(pfile)))
    assert out.errors == 0
    assert [(t.before, t.after, t.count) for t in out.transitions] == [("review", "allow", 3)]
    assert out.transitions[0].examples[0]["rule_after"] == "npm-test"
    assert out.unchanged == 3  # git status stays allowed, frobnicate stays in review
