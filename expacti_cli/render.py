"""The one place core results become terminal output (rich) or JSON."""

from __future__ import annotations

import json
from typing import Any

import click

from .decide import Decision
from .policy import Policy
from .policytest import PolicyTestResult

_STYLE = {"allow": "bold green", "review": "bold yellow", "deny": "bold red"}


def console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=True)


def render_decision(decision: Decision, *, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(decision.as_dict(), indent=2))
        return
    from rich.table import Table
    from rich.text import Text

    out = console()
    head = Text(decision.verdict.upper(), style=_STYLE[decision.verdict])
    if decision.irreversible:
        head.append("  IRREVERSIBLE", style="bold white on red")
    out.print(head)
    # Rules, reasons and patterns are plain text: `[abc]` in a glob is not rich markup.
    out.print(f"rule:    {decision.rule or '(none: policy default)'}", markup=False)
    out.print(f"reason:  {decision.reason}", markup=False)
    if decision.pattern:
        out.print(f"pattern: {decision.pattern}", markup=False)
    if decision.parts:
        table = Table("verdict", "part", "rule", "reason", box=None, pad_edge=False)
        for part in decision.parts:
            table.add_row(
                Text(part.verdict, style=_STYLE[part.verdict]),
                Text(part.text or " ".join(part.argv)),
                Text(part.rule or "-"),
                Text(part.reason),
            )
        out.print(table)


def conditions(rule: dict[str, Any]) -> list[str]:
    """Every condition of a rule beyond its patterns, as a person reads them: a rule with
    `flags` holds only when one of them is present (`rm **` with flags -r/-f is not every rm)."""
    import time

    from .prompt import visible

    found = []
    if rule.get("flags"):
        found.append("only with any of " + " ".join(_flag(f) for f in rule["flags"]))
    if rule.get("global_flags"):
        found.append("only with, before the subcommand, any of ")
        found[-1] += " ".join(_flag(f) for f in rule["global_flags"])
    if rule.get("contains"):
        found.append("only when an argument contains /" + "/ or /".join(rule["contains"]) + "/")
    if rule.get("agents"):
        found.append("only for agents " + ", ".join(rule["agents"]))
    if rule.get("expires"):
        when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(rule["expires"]))
        expired = " (expired)" if rule["expires"] <= time.time() else ""
        found.append(f"until {when}{expired}")
    learned = rule.get("learned") or {}
    if learned:
        who = learned.get("by", "?")
        at = learned.get("at", "?")
        taught = visible(str(learned.get("command", "?")))  # an agent's words: escaped
        found.append(f"learned from `{taught}`, by {visible(str(who))} at {visible(str(at))}")
    return found


def _flag(flag: Any) -> str:
    name, glob = (flag, None) if isinstance(flag, str) else (flag[0], flag[1])
    return f"{name}={glob}" if glob else str(name)


def render_policy(policy: Policy, *, as_json: bool) -> None:
    rows = [
        {
            "kind": r["kind"],
            "id": r["id"],
            "match": r["match"],
            "flags": [_flag(f) for f in r.get("flags", ())],
            "global_flags": [_flag(f) for f in r.get("global_flags", ())],
            "contains": list(r.get("contains", ())),
            "agents": list(r.get("agents", ())),
            "expires": r.get("expires") or None,
            "learned": r.get("learned") or None,
            "reason": r["reason"],
            "origin": r["origin"],
        }
        for r in policy.rules
    ]
    if as_json:
        click.echo(json.dumps({"settings": policy.settings, "rules": rows}, indent=2))
        return
    from rich.table import Table
    from rich.text import Text

    out = console()
    out.print("[bold]settings[/bold]: " + ", ".join(f"{k}={v}" for k, v in policy.settings.items()))
    # At 80 columns: what the rule matches, and when, first; then its kind and id; where it
    # comes from on a line of its own (file paths are long).
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("match, and only when", overflow="fold", ratio=3)
    table.add_column("kind / id", overflow="fold", ratio=2)
    for r in policy.rules:
        what = Text(" | ".join(r["match"]))
        for condition in conditions(r):
            what.append("\n  " + condition, style="yellow")
        who = Text(r["kind"], style=_KIND_STYLE.get(r["kind"], ""))
        who.append("\n" + r["id"])
        who.append("\n" + _origin(r["origin"]), style="dim")
        table.add_row(what, who)
    out.print(table)


def _origin(origin: str) -> str:
    """`file:line`, with the built-in catalogue's long install path shortened."""
    import os

    from . import paths

    package = os.path.dirname(paths.builtin_policies())
    if origin.startswith(package + os.sep):
        return "built-in " + origin[len(package) + 1 :]
    return origin


_KIND_STYLE = {"allow": "green", "review": "yellow", "irreversible": "bold red", "deny": "red"}


def render_policy_test(result: PolicyTestResult) -> None:
    from rich.text import Text

    out = console()
    for problem in result.problems:
        out.print(Text("FAIL", style="red") + Text(f" {problem}"))
    status = "[green]ok[/green]" if result.ok else f"[red]{len(result.problems)} problem(s)[/red]"
    out.print(
        f"{status}: {result.rules} rules, {result.examples} examples, {len(result.files)} layers"
    )
