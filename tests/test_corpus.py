"""The bypass corpus: no dangerous line is ever allowed, harmless lookalikes are.

Under a policy that whitelists every program by name (`* **`), only the irreversibility
catalogue, the code-execution reviews and the shell analysis stand between an agent and the
damage, which is exactly what this tests. Lines come from public bypass reports against other
agent guards (tests/corpus/README.md cites them).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from corpus_loader import load

from expacti_cli import check, policy

EVERYTHING = """
[[allow]]
id = "every-program"
match = "* **"
"""


@pytest.fixture(scope="module")
def whitelist_everything(tmp_path_factory: pytest.TempPathFactory) -> policy.Policy:
    root = tmp_path_factory.mktemp("corpus")
    path = root / "policy.toml"
    path.write_text(EVERYTHING)
    mp = pytest.MonkeyPatch()
    mp.setenv("GUARD_CACHE_DIR", str(root / "cache"))
    try:
        return policy.load(str(path))
    finally:
        mp.undo()


DANGEROUS = load("dangerous")
BENIGN = load("benign")

# Verdicts the effect model (issue 8) changed on purpose, each with its reason; tested as such.
CHANGED = {
    # `env` with no command prints the whole environment, credentials included: secret
    # exposure, a protected effect no wildcard allow rule lifts.
    "benign.txt:78": "review",
    "benign.txt:123": "review",
}


def test_corpus_is_large_enough() -> None:
    assert len(DANGEROUS) >= 200
    assert len(BENIGN) >= 100


@pytest.mark.parametrize(("line", "label"), DANGEROUS, ids=[label for _, label in DANGEROUS])
def test_dangerous_line_is_never_allowed(
    whitelist_everything: policy.Policy, line: str, label: str
) -> None:
    decision = check.check(whitelist_everything, line=line)
    if label in CHANGED:
        assert decision.verdict == CHANGED[label], (label, line, decision)
        return
    assert decision.verdict in ("review", "deny"), f"{label}: allowed: {line!r}"


@pytest.mark.parametrize(("line", "label"), BENIGN, ids=[label for _, label in BENIGN])
def test_benign_lookalike_is_allowed(
    whitelist_everything: policy.Policy, line: str, label: str
) -> None:
    decision = check.check(whitelist_everything, line=line)
    if label in CHANGED:
        assert decision.verdict == CHANGED[label], (label, line, decision)
        return
    why = [(p.text, p.rule, p.reason) for p in decision.parts if p.verdict != "allow"]
    assert decision.verdict == "allow", f"{label}: {decision.verdict}: {line!r}: {why}"


def test_the_issue_examples_of_lookalikes(whitelist_everything: policy.Policy) -> None:
    for line in (
        'echo "rm -rf /"',
        'git commit -m "push --force later"',
        "grep -r -- --force .",
        "git status && git diff",
        "kubectl get pods -n prod",
    ):
        assert check.check(whitelist_everything, line=line).verdict == "allow", line


def test_corpus_files_exist_where_the_loader_reads() -> None:
    assert (Path(__file__).parent / "corpus" / "dangerous.txt").is_file()
