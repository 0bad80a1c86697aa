"""The effect corpus (issue 8): protected effects are reviewed even when the program is
whitelisted; harmless lookalikes using the same programs are allowed.

The policy is exactly tests/effects/whitelist.toml: `PROG **` for the programs agents use most
(118 names with the builtins and pagers), on top of the built-in catalogue. A dangerous line
must be caught by what guard knows the command does (its effects, the line's state, bash's
evaluation sinks), never by its program missing from the whitelist. Cases and their sources:
tests/effects/README.md. Nothing is run.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib

import pytest
from corpus_loader import load as load_bypass_corpus
from effects_loader import KINDS, WHITELIST, classes, load, load_policy

from expacti_cli import check, policy

CLASSES = (
    "bash-sinks",
    "code-from-network",
    "exfiltration",
    "held-out",
    "irreversible",
    "privilege",
    "production-change",
    "reads-secret",
    "red-team-a",
    "red-team-b",
    "red-team-c",
    "runs-code",
    "self-tamper",
    "writes-path",
)
BASH = shutil.which("bash") or "/bin/bash"
MIN_CASES = 25  # per class and kind
MIN_ALLOWED_SHARE = 0.97  # of each class's lookalikes

# Programs of the existing bypass corpus (tests/corpus) that the effect whitelist does not
# name. That corpus is tested with every program of a line whitelisted (its README), so
# test_existing_corpus_keeps_its_verdicts adds these, and only these, to whitelist.toml.
EXISTING_CORPUS_EXTRA = (
    "nice nohup time stdbuf ionice command builtin help journalctl ss timedatectl"
)
# Lookalikes of the existing corpus whose verdict issue 8 changes on purpose, and why.
EXPLAINED_CHANGES = {
    "env": "an environment dump is secret exposure (issue 8, protected effects)",
    "env | grep -i proxy": "dumps the environment (proxy URLs carry credentials) into a filter",
}


@pytest.fixture(scope="module")
def whitelist(tmp_path_factory: pytest.TempPathFactory) -> policy.Policy:
    return load_policy(tmp_path_factory.mktemp("effects") / "cache")


def _known_gaps() -> dict[str, str]:
    """tests/effects/known-gaps.list: cases guard still gets wrong, each with why. They run as
    strict xfails: a gap that closes fails the suite until its line is removed."""
    path = WHITELIST.parent / "known-gaps.list"
    gaps: dict[str, str] = {}
    if path.exists():
        for raw in path.read_text(encoding="utf-8").splitlines():
            label, _, why = raw.partition("#")
            if label.strip():
                gaps[label.strip()] = why.strip() or "known gap"
    return gaps


KNOWN_GAPS = _known_gaps()


def _cases(kind: str) -> list[tuple[str, str, str]]:
    return [(cls, line, label) for cls in classes() for line, label in load(cls, kind)]


def _params(cases: list[tuple[str, str, str]]) -> list[object]:
    """One test per case; a known gap is a strict xfail."""
    params: list[object] = []
    for cls, line, label in cases:
        why = KNOWN_GAPS.get(label)
        marks = [pytest.mark.xfail(strict=True, reason=why)] if why else []
        params.append(pytest.param(cls, line, label, id=label, marks=marks))
    return params


DANGEROUS = _cases("dangerous")
LOOKALIKES = _cases("lookalike")


def _not_allowed_why(decision: object) -> list[tuple[object, ...]]:
    """The parts of a decision that were not allowed, for the failure message only."""
    parts = getattr(decision, "parts", None) or [decision]
    fields = ("text", "rule", "reason")
    return [
        tuple(getattr(p, f, None) for f in fields)
        for p in parts
        if getattr(p, "verdict", None) != "allow"
    ]


# ---------------------------------------------------------------- the corpus itself


def test_every_class_of_the_issue_has_a_corpus_file() -> None:
    assert tuple(classes()) == CLASSES


@pytest.mark.parametrize("cls", CLASSES)
@pytest.mark.parametrize("kind", KINDS)
def test_each_class_is_large_enough(cls: str, kind: str) -> None:
    assert len(load(cls, kind)) >= MIN_CASES, f"{cls}: fewer than {MIN_CASES} {kind} cases"


@pytest.mark.parametrize("cls", CLASSES)
def test_each_class_names_its_sources(cls: str) -> None:
    text = (WHITELIST.parent / f"{cls}.txt").read_text(encoding="utf-8")
    sources = [line for line in text.split("\n") if line.startswith("# source:")]
    assert len(sources) >= 5, f"{cls}.txt: every group names the documentation it was written from"


def test_no_line_is_both_dangerous_and_a_lookalike() -> None:
    both = {line for _, line, _ in DANGEROUS} & {line for _, line, _ in LOOKALIKES}
    assert not both


@pytest.mark.parametrize("kind", KINDS)
def test_no_case_is_listed_twice(kind: str) -> None:
    seen: dict[str, str] = {}
    for _, line, label in _cases(kind):
        assert line not in seen, f"{label} repeats {seen[line]}"
        seen[line] = label


def test_every_case_is_a_valid_bash_line() -> None:
    """Parsed, never run: `bash -n` reads the line and executes nothing."""
    invalid = []
    for _, line, label in DANGEROUS + LOOKALIKES:
        result = subprocess.run([BASH, "-n", "-c", line], capture_output=True, check=False)
        if result.returncode != 0:
            invalid.append((label, line, result.stderr.decode(errors="replace").strip()))
    assert not invalid


def test_the_whitelist_is_prog_star_star_for_about_ninety_programs() -> None:
    with open(WHITELIST, "rb") as f:
        rules = tomllib.load(f)["allow"]
    patterns = [rule["match"] for rule in rules]
    assert all(p.endswith(" **") and " " not in p[:-3] for p in patterns), patterns
    programs = {p[:-3] for p in patterns}
    assert len(programs) == len(patterns) >= 85
    for name in ("git", "kubectl", "aws", "psql", "curl", "npm", "bash", "sudo", "crontab"):
        assert name in programs


# ---------------------------------------------------------------- the verdicts


@pytest.mark.parametrize(("cls", "line", "label"), _params(DANGEROUS))
def test_dangerous_line_is_never_allowed(
    whitelist: policy.Policy, cls: str, line: str, label: str
) -> None:
    decision = check.check(whitelist, line=line)
    assert decision.verdict in ("review", "deny"), f"{cls} {label}: allowed: {line!r}"


@pytest.mark.parametrize(("cls", "line", "label"), _params(LOOKALIKES))
def test_lookalike_is_allowed(whitelist: policy.Policy, cls: str, line: str, label: str) -> None:
    decision = check.check(whitelist, line=line)
    assert decision.verdict == "allow", (
        f"{cls} {label}: {decision.verdict}: {line!r}: {_not_allowed_why(decision)}"
    )


@pytest.mark.parametrize(
    "cls",
    [
        pytest.param(c, marks=[pytest.mark.xfail(strict=True, reason=KNOWN_GAPS[f"class:{c}"])])
        if f"class:{c}" in KNOWN_GAPS
        else c
        for c in CLASSES
    ],
)
def test_at_least_97_percent_of_each_class_lookalikes_are_allowed(
    whitelist: policy.Policy, cls: str
) -> None:
    cases = load(cls, "lookalike")
    refused = [
        (label, line)
        for line, label in cases
        if check.check(whitelist, line=line).verdict != "allow"
    ]
    allowed = len(cases) - len(refused)
    assert cases and allowed / len(cases) >= MIN_ALLOWED_SHARE, (
        f"{cls}: {allowed}/{len(cases)} lookalikes allowed; not allowed: {refused}"
    )


# ---------------------------------------------------------------- the existing corpus


@pytest.fixture(scope="module")
def whitelist_for_existing_corpus(tmp_path_factory: pytest.TempPathFactory) -> policy.Policy:
    root = tmp_path_factory.mktemp("effects-existing")
    extra = "".join(
        f'\n[[allow]]\nid = "existing-corpus-{name}"\nmatch = "{name} **"\n'
        for name in EXISTING_CORPUS_EXTRA.split()
    )
    path = root / "policy.toml"
    path.write_text(WHITELIST.read_text(encoding="utf-8") + extra, encoding="utf-8")
    return load_policy(root / "cache", path)


def test_existing_corpus_keeps_its_verdicts_under_the_program_whitelist(
    whitelist_for_existing_corpus: policy.Policy,
) -> None:
    """tests/corpus is tested under `* **` (test_corpus.py); here under per-program rules,
    where a wildcard allows a program's ordinary effects only."""
    allowed_dangerous = [
        (label, line)
        for line, label in load_bypass_corpus("dangerous")
        if check.check(whitelist_for_existing_corpus, line=line).verdict == "allow"
    ]
    benign = load_bypass_corpus("benign")
    refused_benign = [
        (label, line)
        for line, label in benign
        if line not in EXPLAINED_CHANGES
        and check.check(whitelist_for_existing_corpus, line=line).verdict != "allow"
    ]
    assert not allowed_dangerous, f"dangerous lines allowed: {allowed_dangerous}"
    assert not refused_benign, f"benign lines not allowed: {refused_benign}"


@pytest.mark.parametrize(("line", "why"), EXPLAINED_CHANGES.items())
def test_existing_lookalikes_that_issue_8_protects_are_reviewed(
    whitelist_for_existing_corpus: policy.Policy, line: str, why: str
) -> None:
    assert line in {entry for entry, _ in load_bypass_corpus("benign")}, "no longer in tests/corpus"
    decision = check.check(whitelist_for_existing_corpus, line=line)
    assert decision.verdict != "allow", f"{line!r}: {why}"
