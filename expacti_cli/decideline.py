"""A shell line's verdict: each simple command decided in order (decide.py), with the line's
state, and the strictest part speaks for the line (deny > review > allow).

Only shell lines load this module (`guard -c`, shims of analysed programs, the hooks); a
prefix call decides its one command in decide.py.
"""

from __future__ import annotations

from .decide import _RANK, ALLOW, REVIEW, Decision, _first, decide_argv
from .effects import judge
from .effects.paths import hidden_program
from .match import DYNAMIC, OPERAND
from .tokenize import Command

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .effects.resolve import Context
    from .policy import Policy
    from .shell import Analysis


def _weight(d: Decision) -> tuple[int, bool, bool]:
    # Among equally strict parts the most telling one speaks for the line: an irreversible
    # rule before another rule, a rule before the policy default.
    return (_RANK[d.verdict], d.irreversible, d.rule is not None)


def strictest(parts: list[Decision]) -> Decision:
    """The first part with the highest verdict (deny > review > allow)."""
    best = parts[0]
    for part in parts[1:]:
        if _weight(part) > _weight(best):
            best = part
    return best


def could_become_stricter(
    policy: Policy,
    argv: list[str],
    dynamic: tuple[int, ...] | list[int],
    agent: str,
    optionlike: tuple[int, ...] | list[int] | None = None,
) -> tuple[dict[str, Any], str] | None:
    """A deny or irreversible rule that would match for SOME run-time value of the dynamic
    words (`x=-rf; rm $x /`): each stands for any argument, and those in `optionlike` (all, if
    not given) for any option too. (`[[review]]` rules are left out: `git diff $(git
    merge-base a b)` could be `--ext-diff` in theory, and sending every such line to a human
    would teach reviewers to approve without reading.)"""
    flags = dynamic if optionlike is None else optionlike
    probe = [
        (DYNAMIC if i in flags else OPERAND) if i in dynamic else word
        for i, word in enumerate(argv)
    ]
    cmd = Command(probe, policy.programs)
    for kind in ("deny", "irreversible"):
        hit = _first(policy, kind, cmd, agent)
        if hit:
            return hit
    return None


def _decide_part(
    policy: Policy, part: Any, agent: str, ctx: Context | None = None, depth: int = 0
) -> Decision:
    text = part.text or " ".join(part.argv)
    if any(v.startswith("$") for v in part.via) and hidden_program(part.argv):
        exact = _first(policy, "allow", Command(part.argv, policy.programs), agent, exact_only=True)
        if not exact:
            return Decision(
                REVIEW,
                "protected:unknown-code",
                f"runs code of unknown safety: {part.argv[0]}, named in {part.via[-1]}",
                argv=part.argv,
                text=text,
            )
    decision = decide_argv(
        policy, part.argv, agent, part.concerns, text, part=part, effects=ctx, depth=depth
    )
    dynamic = getattr(part, "dynamic", ())
    if decision.verdict == ALLOW and dynamic and part.argv:
        optionlike = getattr(part, "optionlike", dynamic)
        hit = could_become_stricter(policy, part.argv, dynamic, agent, optionlike)
        if hit:
            rule, pattern = hit
            words = ", ".join(part.argv[i] for i in dynamic)
            return Decision(
                REVIEW,
                rule["id"],
                f"{words} is known only at run time and could make this: "
                f"{rule['reason'] or rule['kind']}",
                argv=part.argv,
                text=text,
                irreversible=rule["kind"] == "irreversible",
                pattern=pattern,
            )
    return decision


def decide_line(
    policy: Policy, analysis: Analysis, agent: str = "anonymous", line: str = "", depth: int = 0
) -> Decision:
    """The verdict on a shell line: each simple command decided in order, with the line's
    state (files written, links made), the strictest wins."""
    ctx = judge.context(policy)
    parts = []
    for k, part in enumerate(analysis.parts):
        ctx.line.reader = judge.reader(analysis.parts, k)
        parts.append(_decide_part(policy, part, agent, ctx, depth))
    ctx.line.reader = None
    parts.extend(Decision(REVIEW, c.id, c.reason, text=line) for c in analysis.concerns)
    if not parts:
        # Assignments, exports, `unset`, arithmetic: the analysis walked every statement (any
        # node it does not know is a concern) and found nothing that runs.
        return Decision(ALLOW, "nothing-to-run", "only the shell's own state changes", text=line)
    top = strictest(parts)
    return Decision(
        top.verdict,
        top.rule,
        top.reason,
        argv=top.argv,
        text=line,
        irreversible=any(p.irreversible for p in parts),
        pattern=top.pattern,
        parts=parts,
    )
