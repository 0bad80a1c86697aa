"""Names flowing from the command that prints them to the words that take them (effects.feed):
every producer (known output, a filter, a transformer, nothing printed) with every consumer
(xargs, a while-read loop, $(…), f=$(…), for f in $(…), < <(…)) is decided without an
internal error, and a secret named upstream is read downstream only through a review."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from effects_loader import load_policy

from expacti_cli import check, policy

PRODUCERS = {
    # what the producer prints, and whether it names a secret
    "echo ~/.ssh/id_rsa": True,
    "printf '%s\\n' ~/.aws/credentials": True,
    "find ~/.ssh -type f": True,
    "ls -d ~/.ssh/*": True,
    "echo ~/.ssh/id_rsa | sort": True,  # a filter passes the names on
    "echo ~/.ssh/id_rsaX | sed 's/X$//'": True,  # a transformer may print any name
    "echo src/app.py": False,
    "find src -name '*.py'": False,
    "git ls-files '*.py'": False,
    "printf ''": False,  # prints nothing
}
CONSUMERS = {
    "xargs": "{p} | xargs cat",
    "while-read": '{p} | while read -r f; do cat "$f"; done',
    "substitution": 'cat "$({p})"',
    "assigned": 'f=$({p}); cat "$f"',
    "for": 'for f in $({p}); do cat "$f"; done',
    "process-substitution": "xargs cat < <({p})",
}


@pytest.fixture(scope="module")
def whitelist(tmp_path_factory: pytest.TempPathFactory) -> policy.Policy:
    return load_policy(tmp_path_factory.mktemp("flows") / "cache")


@pytest.mark.parametrize(
    ("producer", "consumer"), list(itertools.product(PRODUCERS, CONSUMERS.values()))
)
def test_a_secret_named_upstream_is_read_only_through_a_review(
    whitelist: policy.Policy, producer: str, consumer: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a workspace holding no secret
    line = consumer.format(p=producer)
    decision = check.check(whitelist, line=line)
    assert decision.rule != "internal-error", (line, decision.reason)
    if PRODUCERS[producer]:
        assert decision.verdict == "review", (line, decision.rule, decision.reason)
    elif "sed" not in producer:
        assert decision.verdict == "allow", (line, decision.rule, decision.reason)
