"""`guard policy test`: lint every layer and prove each rule by its examples."""

from __future__ import annotations

from .decide import decide_argv
from .errors import PolicyError
from .match import matched_pattern
from .tokenize import Command, split_words


class PolicyTestResult:
    __slots__ = ("examples", "files", "problems", "rules")

    def __init__(self, files: list[str]) -> None:
        self.files = files
        self.rules = 0
        self.examples = 0
        self.problems: list[str] = []

    @property
    def ok(self) -> bool:
        return not self.problems


def run_policy_test(files: list[str]) -> PolicyTestResult:
    from . import policy as policy_mod

    result = PolicyTestResult(files)
    try:
        data = policy_mod.compile_files(files)
    except PolicyError as exc:
        result.problems.append(exc.message)
        return result
    data["stamp"] = ()
    policy = policy_mod.Policy(data)
    for rule in data["rules"]:  # the full form: the runtime one drops the examples
        result.rules += 1
        where = f"{rule['origin']}: [[{rule['kind']}]] {rule['id']}"
        if rule["kind"] in ("irreversible", "protected") and not rule["examples"]:
            result.problems.append(f"{where}: a {rule['kind']} rule needs examples that prove it")
        for example in rule["examples"]:
            result.examples += 1
            cmd = Command(split_words(example), policy.programs)
            if matched_pattern(rule, cmd) is None:
                result.problems.append(f"{where}: example does not match: {example}")
                continue
            if rule["kind"] == "irreversible":
                verdict = decide_argv(policy, cmd.argv, "policy-test")
                if verdict.verdict == "allow" or not (
                    verdict.irreversible or verdict.verdict == "deny"
                ):
                    result.problems.append(
                        f"{where}: example is decided {verdict.verdict} "
                        f"({verdict.rule}), not reviewed as irreversible: {example}"
                    )
        for example in rule["not_examples"]:
            result.examples += 1
            cmd = Command(split_words(example), policy.programs)
            if matched_pattern(rule, cmd) is not None:
                result.problems.append(f"{where}: not_example matches: {example}")
    return result
