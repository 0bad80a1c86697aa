"""`guard hook`: guard as an agent harness's command-approval hook (the harness runs the
command itself). The work is in `integrations/hooks`; `guard hook HARNESS` with ordinary options
is dispatched there by `entry.py` without loading click, so this module mostly explains."""

from __future__ import annotations

import sys

import click

from ..integrations.hooks import HARNESSES, answer, parse_budget
from . import CONTEXT, audit_log_option, policy_option


@click.group(context_settings=CONTEXT)
def hook() -> None:
    """Answer an agent's permission hook: allow, deny or ask a human.

    \b
    Harnesses: claude-code, gemini-cli, cursor, codex. Each reads its harness's hook JSON on
    stdin and answers in that harness's documented output and exit status. Examples with the
    timeout and failure settings that keep a slow or broken guard from letting a command
    through: examples/<harness>/ in the source tree.
    """


def _budget(ctx: click.Context, param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    seconds = parse_budget(value)
    if seconds is None:
        raise click.BadParameter("a number of seconds between 0.1 and 3600", ctx, param)
    return seconds


_HELP = {
    "claude-code": """Claude Code PreToolUse hook on Bash (and PostToolUse, PostToolUseFailure,
    PermissionDenied, which record the human's answer to a review).

    \b
    exit 0 + JSON permissionDecision "allow" | "deny" | "ask" (a review: the human answers at
           Claude Code's own prompt; logged "deferred", then "approved"/"denied");
    exit 2 + a message on stderr when the input cannot be read (blocks the call).""",
    "gemini-cli": """Gemini CLI BeforeTool hook on run_shell_command.

    \b
    exit 0 + JSON {"decision": "allow"} | {"decision": "deny", "reason": ...};
    a review goes to `guard review` within the budget, else it is denied;
    exit 2 + a message on stderr when the input cannot be read (blocks the tool).""",
    "cursor": """Cursor beforeShellExecution (and afterShellExecution) hook.

    \b
    exit 0 + JSON {"permission": "allow" | "deny" | "ask", "user_message", "agent_message"};
    exit 2 + a deny answer when the input cannot be read.""",
    "codex": """Codex CLI PreToolUse hook on Bash.

    \b
    allowed: exit 0, no output (Codex's own approval policy still applies);
    denied: exit 0 + JSON permissionDecision "deny" and the reason;
    a review goes to `guard review` within the budget, else it is denied;
    exit 2 + a message on stderr when the input cannot be read (blocks the call).""",
}


def _command(harness: str) -> click.Command:
    @policy_option
    @audit_log_option
    @click.option(
        "--budget",
        callback=_budget,
        metavar="SECONDS",
        help="Answer within this many seconds (default 20); keep it below the harness's "
        "hook timeout.",
    )
    def run(policy_path: str | None, audit_path: str | None, budget: float | None) -> None:
        sys.exit(answer(harness, policy_path=policy_path, audit_path=audit_path, budget=budget))

    run.__doc__ = _HELP[harness]
    return click.command(harness, context_settings=CONTEXT)(run)


for _name in HARNESSES:
    hook.add_command(_command(_name))
