"""Decisions: which verdict the policy gives a command or a shell line.

Precedence (DESIGN.md, Decisions), highest first:
  1. `[[deny]]` rules -> deny
  2. `[[irreversible]]` rules -> review, always (no allow rule lifts it)
  3. `[[review]]` rules and the shell analysis' concerns -> review, unless an `[[allow]]` rule
     names that exact command (no wildcard) and the concern is overridable
  4. `[[allow]]` rules -> allow (anomalies, applied by the gate, may still send it to review)
  5. the policy's default (`review` or `deny`)
A line is as strict as its strictest part: deny > review > allow.
"""

from __future__ import annotations

from .effects import judge  # every decision judges effects: imported once, not per call
from .effects.paths import hidden_program
from .effects.resolve import no_effect
from .match import agent_applies, matched_pattern
from .tokenize import Command

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .effects.resolve import Context
    from .policy import Policy
    from .shell import Concern

ALLOW, REVIEW, DENY = "allow", "review", "deny"
_RANK = {ALLOW: 0, REVIEW: 1, DENY: 2}


class Decision:
    """The verdict on one command or line, and why."""

    __slots__ = (
        "anomalies",
        "argv",
        "irreversible",
        "nested",
        "parts",
        "pattern",
        "reason",
        "rule",
        "text",
        "verdict",
    )

    def __init__(
        self,
        verdict: str,
        rule: str | None,
        reason: str,
        *,
        argv: list[str] | None = None,
        text: str = "",
        irreversible: bool = False,
        pattern: str | None = None,
        parts: list[Decision] | None = None,
    ) -> None:
        self.verdict = verdict
        self.rule = rule
        self.reason = reason
        self.argv = argv or []
        self.text = text
        self.irreversible = irreversible
        self.pattern = pattern
        self.anomalies: list[str] = []
        self.parts = parts or []
        # The parts of a command line this command runs (an option's or variable's value)
        # that decided its verdict, and its own rules' verdict: what "approve and remember"
        # should learn instead of this command's pattern.
        self.nested: list[Decision] = []

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "verdict": self.verdict,
            "rule": self.rule,
            "reason": self.reason,
            "irreversible": self.irreversible,
            "pattern": self.pattern,
            "anomalies": list(self.anomalies),
        }
        if self.argv:
            out["argv"] = list(self.argv)
        if self.text:
            out["text"] = self.text
        if self.parts:
            out["parts"] = [p.as_dict() for p in self.parts]
        return out

    def __repr__(self) -> str:
        return f"Decision({self.verdict!r}, rule={self.rule!r}, reason={self.reason!r})"


def _first(
    policy: Policy, kind: str, cmd: Command, agent: str, *, exact_only: bool = False
) -> tuple[dict[str, Any], str] | None:
    for rule in policy.candidates(kind, cmd.name):
        if not agent_applies(rule, agent):
            continue
        pattern = matched_pattern(rule, cmd, exact_only=exact_only)
        if pattern is not None:
            return rule, pattern
    return None


def decide_argv(
    policy: Policy,
    argv: list[str],
    agent: str = "anonymous",
    concerns: list[Concern] | tuple[Concern, ...] = (),
    text: str = "",
    *,
    part: Any = None,
    effects: Context | None = None,
    depth: int = 0,
) -> Decision:
    """The policy's verdict on one simple command (before anomalies and review): its rules,
    then its effects (`effects/`): a protected effect no matching allow rule lifts, or a
    command line in an option or variable that is not allowed itself, sends it to a human."""
    if not argv or not argv[0]:
        return Decision(REVIEW, None, "empty command name: cannot analyse", argv=argv, text=text)
    cmd = Command(argv, policy.programs)
    ctx = effects if effects is not None else judge.context(policy)
    dry = no_effect(argv, ctx)
    decision = _by_rules(policy, cmd, argv, agent, concerns, text, dry=dry)
    if decision.verdict == DENY:
        return decision
    return _by_effects(policy, cmd, decision, agent, ctx, part, depth)


def _by_effects(
    policy: Policy,
    cmd: Command,
    decision: Decision,
    agent: str,
    ctx: Context,
    part: Any,
    depth: int,
) -> Decision:
    worst: Decision | None = None
    for effect in judge.effects_of(policy, cmd.argv, ctx, part, agent):
        if effect.kind == "command" and hidden_program(effect.what.split()[:1]):
            why = Decision(
                REVIEW,
                "protected:unknown-code",
                f"runs code of unknown safety: {effect.what.split()[0]}, named in an option",
                argv=cmd.argv,
                text=decision.text,
            )
        elif effect.kind == "command":
            nested = _nested(policy, effect.what, agent, depth)
            if nested.verdict == ALLOW:
                continue
            why = Decision(
                nested.verdict,
                nested.rule,
                f"runs the command line {effect.what!r}: {nested.reason}",
                argv=cmd.argv,
                text=decision.text,
                irreversible=nested.irreversible,
            )
            # What to learn instead (prompt.remember_suggestions): the inner line's parts,
            # and this command itself unless its own rules allow it.
            why.nested = [
                *(nested.parts or [nested]),
                *([decision] if decision.verdict != ALLOW else []),
            ]
        elif effect.protected and not judge.lifted(policy, cmd, agent, effect):
            why = Decision(
                REVIEW,
                f"protected:{effect.protected}",
                effect.reason,
                argv=cmd.argv,
                text=decision.text,
                irreversible=effect.protected == "irreversible",
            )
        else:
            continue
        if worst is None or _RANK[why.verdict] > _RANK[worst.verdict]:
            worst = why
    if worst is None:
        return decision
    if decision.verdict == ALLOW or worst.verdict == DENY or decision.rule is None:
        return worst
    return decision


def _by_rules(
    policy: Policy,
    cmd: Command,
    argv: list[str],
    agent: str,
    concerns: list[Concern] | tuple[Concern, ...],
    text: str,
    *,
    dry: bool = False,
) -> Decision:
    """Rules first: deny, irreversible (not for a dry run the grammar declares), review and
    concerns, allow, the default."""

    def ruled(verdict: str, hit: tuple[dict[str, Any], str], fallback: str) -> Decision:
        rule, pattern = hit
        return Decision(
            verdict,
            rule["id"],
            rule["reason"] or fallback,
            argv=argv,
            text=text,
            irreversible=rule["kind"] == "irreversible",
            pattern=pattern,
        )

    hit = _first(policy, "deny", cmd, agent)
    if hit:
        return ruled(DENY, hit, "denied by policy")
    hit = None if dry else _first(policy, "irreversible", cmd, agent)
    if hit:
        return ruled(REVIEW, hit, "irreversible")

    if dry:  # a dry run the grammar declares: what it reads unseen changes nothing either
        concerns = [c for c in concerns if c.id != "hidden-input"]
    hit = _first(policy, "review", cmd, agent)
    if hit or concerns:
        exact = _first(policy, "allow", cmd, agent, exact_only=True)
        if hit and not exact:
            return ruled(REVIEW, hit, "needs review")
        for concern in concerns:
            if not (concern.overridable and exact):
                return Decision(REVIEW, concern.id, concern.reason, argv=argv, text=text)
        if exact:
            return ruled(ALLOW, exact, "whitelisted (exact)")

    hit = _first(policy, "allow", cmd, agent)
    if hit:
        return ruled(ALLOW, hit, "whitelisted")
    default = policy.settings["default"]
    return Decision(
        default, None, f"no rule matches (policy default: {default})", argv=argv, text=text
    )


def _nested(policy: Policy, text: str, agent: str, depth: int) -> Decision:
    """A command line found in an option or variable value, decided as a line of its own."""
    from . import shell
    from .effects.judge import MAX_NESTED

    if depth >= MAX_NESTED:
        return Decision(REVIEW, "too-deep", "command lines nested too deeply", text=text)
    from .decideline import decide_line

    analysis = shell.analyse(text, policy.shell)
    return decide_line(policy, analysis, agent, text, depth=depth + 1)
