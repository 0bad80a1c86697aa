"""Summary, suggestions, replay and the pattern generaliser, on logs with known answers."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from audit_builder import approved, denied, entry, lines, rewrite, write

from expacti_cli import auditread, auditstats, policy
from expacti_cli.suggest import generalise, pattern_problem


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


@pytest.fixture(scope="module")
def builtin() -> policy.Policy:
    """The built-in catalogue alone, as guard compiles it."""
    return policy.Policy(policy.compile_files(policy.builtin_files()))


@pytest.mark.parametrize(
    ("argv", "pattern"),
    [
        (["git", "log", "-n", "5"], "git log **"),
        (["ls", "-la"], "ls **"),
        (["/usr/bin/git", "status"], "/usr/bin/git status **"),
        (["./deploy.sh", "prod"], "deploy.sh prod **"),
        (["scripts/../bin/run.sh", "x"], "bin/run.sh x **"),
        (["kubectl", "-n", "prod", "get", "pods"], "kubectl -n prod get pods"),
        (["sed", "-i", "s/a/b/", "x.py"], "sed -i '[!*?[-]*' '[!*?[./~-]*'"),
        (["sed", "-i", "s/a/b/", "/etc/hosts"], "sed -i '[!*?[-]*' /etc/hosts"),
        (["curl", "-s", "http://localhost:8000/api"], "curl -s 'http://localhost:8000/*'"),
        (["timeout", "30", "python3", "x.py", "1"], "timeout 30 python3 x.py **"),
        (["uv", "run", "ruff", "check", "src"], "uv run ruff check **"),
        (["timeout", "5", "bash", "-c", "ls"], "timeout 5 bash -c ls"),
        (["python3", "-m", "pytest", "-q", "tests/"], "python3 -m pytest **"),
        (["python", "script.py", "-v"], "python script.py **"),
        (["npm", "test"], "npm test **"),
        (["my prog", "x"], "'my prog' x **"),
        (["[", "-f", "x", "]"], "'[[]' **"),
        # a remover: a file in the working tree by its extension, anything else exactly
        (["rm", "build.log"], "rm '[!*?[./~-]*[!]*?[/].log'"),
        (["rm", "build"], "rm build"),
        (["rm", "../x.log"], "rm ../x.log"),
        (["chmod", "+x", "run.sh"], "chmod +x '[!*?[./~-]*[!]*?[/].sh'"),
        # protected effects, shells, wrappers, inline code: the exact command only
        (["git", "push", "origin", "main"], "git push origin main"),
        (["curl", "https://example.com"], "curl https://example.com"),
        (["bash", "x.sh"], "bash x.sh"),
        (["sudo", "apt", "update"], "sudo apt update"),
        (["python3", "-c", "print(1)"], "python3 -c 'print(1)'"),
        (["hash", "-r"], "hash -r"),
        (["docker", "run", "alpine"], "docker run alpine"),
    ],
)
def test_generalise(builtin: Any, argv: list[str], pattern: str) -> None:
    assert generalise(builtin, argv) == pattern


def test_generalise_never_proposes_a_catch_all(builtin: Any) -> None:
    """No `**` right after a shell, an interpreter, a wrapper or a protected program."""
    for argv in (
        ["python3", "-m", "pytest"],
        ["python3", "x.py"],
        ["node", "-e", "1"],
        ["bash", "-c", "ls"],
        ["sudo", "ls"],
        ["env", "X=1", "ls"],
        ["rm", "-f", "x"],
        ["curl", "-o", "x", "http://h"],
        ["sh", "script"],
    ):
        pattern = generalise(builtin, argv)
        assert pattern is not None
        assert pattern.split()[1:2] != ["**"], (argv, pattern)


def test_a_command_too_long_is_not_remembered(builtin: Any) -> None:
    assert generalise(builtin, ["rm", "x" * 400]) is None


@pytest.mark.parametrize(
    ("pattern", "argv", "problem"),
    [
        ("python3 **", ["python3", "-m", "pytest", "-q"], "module or script"),
        ("rm **", ["make", "-v"], "does not match"),
        ("make **", ["make", "-v"], "protected effects"),
        ("** x", ["ls", "x"], "program"),
        ("* x", ["ls", "x"], "literally"),
        ("git **", ["git", "log"], "operation"),
        ("bash *", ["bash", "x.sh"], "runs other programs"),
        ("sudo ls **", ["sudo", "ls"], "runs other programs"),
        ("rm *.log", ["rm", "a.log"], "protected effects"),
    ],
)
def test_typed_patterns_that_are_refused(
    builtin: Any, pattern: str, argv: list[str], problem: str
) -> None:
    found = pattern_problem(builtin, pattern, argv)
    assert found is not None and problem in found


@pytest.mark.parametrize(
    ("pattern", "argv"),
    [
        ("python3 -m pytest **", ["python3", "-m", "pytest", "-q"]),
        ("git log **", ["git", "log", "-n", "3"]),
        ("ls **", ["ls", "-la"]),
        ("rm a.log", ["rm", "a.log"]),
        ("bash x.sh", ["bash", "x.sh"]),
    ],
)
def test_typed_patterns_that_are_accepted(builtin: Any, pattern: str, argv: list[str]) -> None:
    assert pattern_problem(builtin, pattern, argv) is None


def test_suggest(tmp_path: Path, builtin: Any) -> None:
    es = [approved(["frob", "log", "-n", str(i)], rule=None) for i in range(3)]
    es += [approved(["npm", "test"]) for _ in range(3)] + [denied(["npm", "test", "--all"])]
    es += [approved(["rm", "-rf", "build"], irreversible=True, rule="rm-rf") for _ in range(3)]
    es += [denied(["frob", "delete", str(i)], rule="kube-write") for i in range(3)]
    es += [approved(["zork", "push"]) for _ in range(2)]
    es += [entry(["ls"]) for _ in range(5)]  # allowed by policy: nothing to suggest
    path = write(tmp_path / "audit.jsonl", es)
    out = auditstats.suggest(path, policy=builtin)
    assert [(s.pattern, s.approvals, s.rule_id) for s in out.suggestions] == [
        ("frob log **", 3, "allow-frob-log")
    ]
    assert out.suggestions[0].agents == ["claude"]
    assert out.suggestions[0].examples == ["frob log -n 0", "frob log -n 1", "frob log -n 2"]
    assert out.irreversible_skipped == ["rm -rf build"]
    assert [(w.pattern, w.denials, w.rules) for w in out.warnings] == [
        ("frob delete **", 3, ["kube-write"])
    ]
    two = auditstats.suggest(path, policy=builtin, min_approvals=2)
    assert two.suggestions[-1].pattern == "zork push **"
    taken = auditstats.suggest(path, policy=builtin, taken_ids={"allow-frob-log"})
    assert taken.suggestions[0].rule_id == "allow-frob-log-2"


def test_suggest_never_proposes_what_the_policy_allows_or_a_rule_reviews(
    tmp_path: Path, builtin: Any
) -> None:
    es = [approved(["git", "log", "-n", str(i)]) for i in range(3)]  # allowed already
    es += [approved(["eval", "x"], rule="shell-eval") for _ in range(3)]  # a rule reviews it
    out = auditstats.suggest(write(tmp_path / "audit.jsonl", es), policy=builtin)
    assert out.suggestions == []
    assert "git log **" in out.already_allowed


def test_suggest_vetoes_over_the_whole_log(tmp_path: Path, builtin: Any) -> None:
    """A filter narrows what counts as approvals, never hides a denial elsewhere in the log."""
    es = [approved(["frob", "x", str(i)], agent="a") for i in range(3)]
    es += [denied(["frob", "x", "9"], agent="b")]
    path = write(tmp_path / "audit.jsonl", es)
    out = auditstats.suggest(path, auditread.Filter(agent="a"), policy=builtin)
    assert out.suggestions == []


def test_suggest_uses_the_parts_of_shell_lines(tmp_path: Path, builtin: Any) -> None:
    parts = [
        {"argv": ["git", "status"], "verdict": "allow", "rule": "git-read", "reason": ""},
        {"argv": ["frob", "all"], "verdict": "review", "rule": None, "reason": ""},
    ]
    es = [approved(["bash", "-c", "git status && frob all"], mode="shell", parts=parts)] * 3
    out = auditstats.suggest(write(tmp_path / "audit.jsonl", es), policy=builtin)
    assert [s.pattern for s in out.suggestions] == ["frob all **"]


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
