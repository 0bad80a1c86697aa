"""`guard audit repair`: quarantine torn lines and record it in the chain (see auditrepair)."""

from __future__ import annotations

import json

import click

from . import audit_log_option
from .audit import key_options

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.command("repair", context_settings=CONTEXT)
@audit_log_option
@key_options
@click.option("--dry-run", is_flag=True, help="Say what would be done; change nothing.")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@click.pass_context
def repair(
    ctx: click.Context,
    /,
    audit_path: str | None,
    key_file: str | None,
    policy_path: str | None,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Quarantine torn lines (interrupted writes) and record it as a chained event.

    \b
    The torn bytes are kept in <log>.torn-<time>-...; a torn tail of the live file is cut
    off (sealed with a newline if the file is append-only). Edits and gaps are never
    touched. Exit 0 when the chain then verifies, else as `guard audit verify`.
    """
    from .. import auditrepair, auditverify
    from .audit import _log_path, _require_log, resolve_key

    path = _log_path(ctx, audit_path)
    _require_log(path)
    result = auditrepair.repair(path, resolve_key(key_file, policy_path), dry_run=dry_run)
    if as_json:
        data = {
            "repairs": result.repairs,
            "event": result.event and result.event["id"],
            "verify": result.after.to_dict(),
        }
        click.echo(json.dumps(data, indent=2))
    else:
        for r in result.repairs:
            saved = f"; bytes kept in {r['saved_to']}" if r["saved_to"] else ""
            click.echo(
                f"audit: torn line {r['file']}:{r['line']} ({r['bytes']} bytes at offset "
                f"{r['offset']}): {r['action']}{saved}"
            )
        if result.event is not None:
            click.echo(f"audit: recorded as event {result.event['id']} ({result.event['event']})")
        elif not result.repairs:
            click.echo("audit: no torn line to repair")
        click.echo(auditverify.describe(result.after))
    if not dry_run:
        problem = auditverify.failure(result.after)
        if problem is not None:
            raise problem


__all__ = ["repair"]
