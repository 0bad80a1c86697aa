"""`guard doctor`: check the installation; exit 0 when healthy, 1 when something is wrong."""

from __future__ import annotations

import json
import sys

import click

from . import CONTEXT, audit_log_option, policy_option

_MARK = {"ok": "ok  ", "info": "    ", "warn": "WARN", "fail": "FAIL"}
_COLOUR = {"ok": "green", "warn": "yellow", "fail": "red"}


@click.command(context_settings=CONTEXT)
@policy_option
@audit_log_option
@click.option("--dir", "shim_dir", type=click.Path(file_okay=False), help="Shim directory.")
@click.option(
    "--path", "search_path", metavar="PATH", help="Check this PATH (the agent's) instead of ours."
)
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
def doctor(
    policy_path: str | None,
    audit_path: str | None,
    shim_dir: str | None,
    search_path: str | None,
    as_json: bool,
) -> None:
    """Check the installation: policy, audit log, shims on PATH, who can write guard's files.

    \b
    Exit status: 0 healthy (warnings allowed), 1 something is wrong (a FAIL line says what).
    """
    from .. import doctor as core

    checks = core.run(
        policy_path=policy_path, audit_path=audit_path, shim_dir=shim_dir, path=search_path
    )
    if as_json:
        click.echo(json.dumps(core.as_json(checks), indent=2))
    else:
        for check in checks:
            mark = click.style(_MARK[check.status], fg=_COLOUR.get(check.status), bold=True)
            click.echo(f"{mark} {check.message}")
        if core.healthy(checks):
            click.echo("guard looks healthy")
        else:
            click.echo("guard: doctor found problems (FAIL lines above)", err=True)
    if not core.healthy(checks):
        sys.exit(1)
