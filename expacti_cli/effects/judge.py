"""Protected effects over rule verdicts: what a matching allow rule may lift, and what not.

A wildcard allow rule (`kubectl **`) allows a program's ordinary effects only (DESIGN.md):
production change, secret exposure, exfiltration and code from the network are lifted only by
an allow rule that names the operation literally (`kubectl scale **`); persistence and code of
unknown safety only by a rule naming the exact command; irreversible, self-tamper, privilege and
the exfiltration of a secret by nothing. A command line given as an option or variable value
(`GIT_PAGER`, `ssh -o ProxyCommand=`) is decided as a line of its own: harmless is harmless.
"""

from __future__ import annotations

import os

from ..match import agent_applies, matched_pattern
from .feed import unseen
from .model import LIFT, Effect
from .paths import PathClasses
from .resolve import Context, Line, resolve

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..policy import Policy
    from ..tokenize import Command

MAX_NESTED = 4
_CLASSES: dict[int, PathClasses] = {}


def context(policy: Policy, line: Line | None = None) -> Context:
    return Context(policy.grammars, lambda: _classes(policy).for_line(), line or Line())


def _classes(policy: Policy) -> PathClasses:
    """The path classes of the policy's catalogue (made once per catalogue)."""
    shell = policy.shell["shell"]
    classes = _CLASSES.get(id(shell))
    if classes is None:
        classes = _CLASSES[id(shell)] = PathClasses(shell)
    return classes


def _literal(pattern: list[tuple[str, ...]], anchor: tuple[str, ...]) -> bool:
    """Does the pattern (after the program) name every anchor word literally?"""
    literal = {tok[1] for tok in pattern[1:] if tok[0] == "L"}
    return bool(anchor) and all(a in literal for a in anchor)


def _how(effect: Effect) -> str:
    how = LIFT.get(effect.protected or "", "never")
    if how == "literal" and not effect.anchor:
        return "exact"  # nothing names the operation but the whole command
    return how


def lifts(pattern: list[tuple[str, ...]], effect: Effect) -> bool:
    """Does an allow pattern that matches the command lift this effect? (Also what "approve
    and remember" checks before it proposes a pattern for a protected operation.)"""
    how = _how(effect)
    if how == "exact":
        return all(tok[0] == "L" for tok in pattern)
    return how == "literal" and _literal(pattern, effect.anchor)


def lifted(policy: Policy, cmd: Command, agent: str, effect: Effect) -> bool:
    how = _how(effect)
    if how == "never":
        return False
    for rule in policy.candidates("allow", cmd.name):
        if not agent_applies(rule, agent):
            continue
        pattern = matched_pattern(rule, cmd, exact_only=how == "exact")
        if pattern is None:
            continue
        for compiled, text in zip(rule["patterns"], rule["match"], strict=False):
            if text == pattern and lifts(compiled, effect):
                return True
    return False


def _protected_rules(policy: Policy, cmd: Command, agent: str) -> list[Effect]:
    found = []
    for rule in policy.candidates("protected", cmd.name):
        if not agent_applies(rule, agent):
            continue
        pattern = matched_pattern(rule, cmd)
        if pattern is None:
            continue
        # The operation is every word the rule names (globs as written): an allow rule lifts it
        # only by naming them all (`kubectl get secret **` does not lift `get secret/*`). A
        # rule whose condition is an option or a word's content names no words an allow rule
        # could spell: only the exact command lifts it.
        conditional = rule["flags"] or rule["global_flags"] or rule["contains"]
        words = () if conditional else tuple(w for w in pattern.split()[1:] if w != "**")
        effect = Effect("rule", rule["reason"] or rule["id"], rule["class"], words)
        found.append(effect)
    return found


def effects_of(
    policy: Policy, argv: list[str], ctx: Context, part: Any = None, agent: str = "anonymous"
) -> list[Effect]:
    """Every effect of one simple command: the grammar's and the [[protected]] rules'."""
    from ..tokenize import Command

    cwd = getattr(part, "cwd", None) if part is not None else _cwd()
    effects = resolve(
        argv,
        ctx,
        cwd=cwd,
        redirects=getattr(part, "redirects", []),
        env={**getattr(part, "env", {}), **getattr(part, "runtime_env", {})} or None,
        stdin=getattr(part, "stdin", None),
        choices=getattr(part, "choices", None),
    )
    substitution = getattr(part, "prints_for", None)
    if substitution:  # `cat "$(ls ~/.ssh/*)"` reads them; `$(… | sed …)`: any file
        output = ctx.line.output
        ctx.line.printed[substitution] = output if output is not None else unseen(substitution)
    if argv:
        effects += _protected_rules(policy, Command(argv, policy.programs), agent)
    return effects


def reader(parts: list[Any], k: int) -> Any:
    """The part that reads part k's standard output through a pipe, if the line shows it:
    the next one, fed by a pipe, when k prints neither into a substitution nor a file."""
    if k + 1 >= len(parts) or getattr(parts[k + 1], "stdin", None) != "pipe":
        return None
    part = parts[k]
    if getattr(part, "prints_for", None):
        return None
    redirected = any(r.fd == 1 and r.writes for r in getattr(part, "redirects", ()))
    return None if redirected else parts[k + 1]


def _cwd() -> str | None:
    try:
        return os.getcwd()
    except OSError:
        return None
