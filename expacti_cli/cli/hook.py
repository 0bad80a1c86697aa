"""`guard hook`: guard as an agent's permission hook (the agent runs the command itself)."""

from __future__ import annotations

import sys

import click

from . import CONTEXT, audit_log_option, policy_option


@click.group(context_settings=CONTEXT)
def hook() -> None:
    """Answer an agent's permission hook: allow, deny or ask a human.

    \b
    Claude Code (.claude/settings.json):
      "hooks": {"PreToolUse": [{"matcher": "Bash",
        "hooks": [{"type": "command", "command": "guard hook claude-code"}]}]}
    """


@hook.command("claude-code")
@policy_option
@audit_log_option
def claude_code_cmd(policy_path: str | None, audit_path: str | None) -> None:
    """Claude Code PreToolUse hook for the Bash tool: reads the hook JSON on stdin.

    \b
    exit 0 + JSON permissionDecision "allow" | "deny" | "ask" (a review: the human answers
           at Claude Code's own prompt); exit 0, no output for other tools (no opinion);
    exit 2 + a message on stderr when the input cannot be read (blocks the call).
    """
    from .. import hook as core

    result = core.claude_code(sys.stdin.read(), policy_path=policy_path, audit_path=audit_path)
    if result.stdout:
        sys.stdout.write(result.stdout)
        sys.stdout.flush()
    if result.stderr:
        sys.stderr.write(result.stderr)
    sys.exit(result.exit_code)
