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


def render_policy(policy: Policy, *, as_json: bool) -> None:
    rows = [
        {
            "kind": r["kind"],
            "id": r["id"],
            "match": r["match"],
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
    table = Table("kind", "id", "match", "from", box=None, pad_edge=False)
    for r in rows:
        table.add_row(
            Text(r["kind"]), Text(r["id"]), Text(" | ".join(r["match"])), Text(r["origin"])
        )
    out.print(table)


def render_policy_test(result: PolicyTestResult) -> None:
    from rich.text import Text

    out = console()
    for problem in result.problems:
        out.print(Text("FAIL", style="red") + Text(f" {problem}"))
    status = "[green]ok[/green]" if result.ok else f"[red]{len(result.problems)} problem(s)[/red]"
    out.print(
        f"{status}: {result.rules} rules, {result.examples} examples, {len(result.files)} layers"
    )
