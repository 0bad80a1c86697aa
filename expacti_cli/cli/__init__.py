"""guard's subcommands (click). Thin: parse, call the core, render.

Errors: every `GuardError` becomes `guard: <message>` and its exit code here, in one place;
tracebacks only with --verbose / GUARD_DEBUG.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from .. import __version__
from ..errors import ExitCode, GuardError

# 80: the same help at every terminal width from 80 up (the README shows it, tests/test_docs.py)
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 80}


class Group(click.Group):
    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(
            "guard",
            "[OPTIONS] [--] PROGRAM [ARGS]...\n"
            "       guard -c 'LINE'\n"
            "       guard COMMAND [ARGS]...",
        )


@click.group(cls=Group, context_settings=CONTEXT, invoke_without_command=True)
@click.version_option(__version__, "--version", prog_name="guard")
@click.pass_context
def main(ctx: click.Context) -> None:
    """A zero-trust gate between AI agents and the shell.

    \b
    Prefix mode:  guard [--policy F] [--agent ID] [--audit-log F] [--] PROGRAM [ARGS]...
    Shell mode:   guard [OPTIONS] -c 'LINE'      (a drop-in for bash -c)
    Shim mode:    guard shims install; put the shim directory first on PATH

    Every command is checked against the policy when it runs: whitelisted commands run,
    irreversible or unknown ones go to a human, denied ones exit 77 with the reason.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


def policy_option(f: Any) -> Any:
    return click.option(
        "--policy",
        "policy_path",
        type=click.Path(),  # the loader checks it: one line naming it, exit 78 (safefile.py)
        metavar="FILE",
        envvar="GUARD_POLICY",
        help="User policy file (default: policy.toml in the config dir).",
    )(f)


def audit_log_option(f: Any) -> Any:
    return click.option(
        "--audit-log",
        "audit_path",
        type=click.Path(dir_okay=False),
        envvar="GUARD_AUDIT_LOG",
        help="The audit log (default: audit.jsonl in the state dir; env GUARD_AUDIT_LOG).",
    )(f)


@main.command(context_settings={**CONTEXT, "ignore_unknown_options": True})
@policy_option
@click.option("--agent", envvar="GUARD_AGENT", default="anonymous", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the decision as JSON.")
@click.option("-c", "line", metavar="LINE", help="Check a shell line instead of a program.")
@click.argument("argv", nargs=-1, type=click.UNPROCESSED)
def check(
    policy_path: str | None, agent: str, as_json: bool, line: str | None, argv: tuple[str, ...]
) -> None:
    """Dry run: what would guard decide? (no exec, no prompt, nothing logged)

    \b
    guard check -- git push --force
    guard check --json -c 'git status && rm -rf build'
    """
    from .. import check as check_mod
    from .. import policy as policy_mod
    from ..render import render_decision

    args = list(argv)
    if args and args[0] == "--":
        args = args[1:]
    if line is None and not args:
        raise click.UsageError("give a program (guard check -- PROG ARGS) or -c 'LINE'")
    if line is not None and args:
        raise click.UsageError("give either -c 'LINE' or a program, not both")
    policy = policy_mod.load(policy_path)
    decision = check_mod.check(policy, argv=args or None, line=line, agent=agent)
    render_decision(decision, as_json=as_json)


@main.command()
@click.option("--force", is_flag=True, help="Overwrite an existing policy.")
@policy_option
def init(force: bool, policy_path: str | None) -> None:
    """Write a commented starter user policy."""
    from .. import paths
    from ..policy_edit import _atomic_write
    from ..starter import STARTER_POLICY

    target = policy_path or paths.user_policy()
    if os.path.exists(target) and not force:
        from ..errors import UsageError

        raise UsageError(f"{target} already exists (use --force to overwrite)")
    paths.ensure_dir(os.path.dirname(os.path.abspath(target)))
    _atomic_write(target, STARTER_POLICY)
    click.echo(f"wrote {target}")


@main.group(context_settings=CONTEXT)
def policy() -> None:
    """Show, locate and test the effective policy."""


@policy.command("path")
@policy_option
def policy_path_cmd(policy_path: str | None) -> None:
    """Print where each policy layer is read from."""
    from .. import policy as policy_mod

    files, _ = policy_mod.source_files(policy_path)
    for f in files:
        click.echo(f"{f}{'' if os.path.exists(f) else '  (missing)'}")


@policy.command("show")
@policy_option
@click.option("--json", "as_json", is_flag=True)
def policy_show(policy_path: str | None, as_json: bool) -> None:
    """Print the effective rules and the file each came from."""
    from .. import policy as policy_mod
    from ..render import render_policy

    render_policy(policy_mod.load(policy_path), as_json=as_json)


@policy.command("test")
@policy_option
def policy_test(policy_path: str | None) -> None:
    """Lint every layer and check every rule's examples and not_examples."""
    from .. import policy as policy_mod
    from ..policytest import run_policy_test
    from ..render import render_policy_test

    files, explicit = policy_mod.source_files(policy_path)
    if explicit and not os.path.exists(files[-1]):
        from ..errors import PolicyError

        raise PolicyError(f"{files[-1]}: policy file not found")
    result = run_policy_test(files)
    render_policy_test(result)
    if not result.ok:
        sys.exit(ExitCode.CONFIG)


@main.group(context_settings=CONTEXT)
def agent() -> None:
    """Per-agent identities: add, revoke, enable, list."""


@agent.command("add")
@click.option("--rotate", is_flag=True, help="Replace the token of an existing agent.")
@click.argument("name")
def agent_add(name: str, rotate: bool) -> None:
    """Issue a secret for a new agent NAME (shown once: give it to that agent as
    GUARD_AGENT_TOKEN). An existing name is refused unless --rotate is given."""
    from .. import identity_edit

    token = identity_edit.add(name, rotate=rotate)
    _show_token(name, "given a new token" if rotate else "added", token)


def _show_token(name: str, what: str, token: str) -> None:
    click.echo(f"agent {name} {what}. Its token (shown once):")
    click.echo(token)
    click.echo(f"run the agent with GUARD_AGENT={name} GUARD_AGENT_TOKEN=<token>", err=True)


@agent.command("enable")
@click.argument("name")
def agent_enable(name: str) -> None:
    """Re-activate the revoked agent NAME with a new token (the old one stays refused)."""
    from .. import identity_edit

    _show_token(name, "re-activated", identity_edit.enable(name))


@agent.command("revoke")
@click.argument("name")
def agent_revoke(name: str) -> None:
    """Shut NAME out at once; other agents are untouched."""
    from .. import identity_edit

    identity_edit.revoke(name)
    click.echo(f"agent {name} revoked")


@agent.command("list")
def agent_list() -> None:
    """List registered agents and their status."""
    from .. import identity_edit

    for name, status in sorted(identity_edit.listing().items()):
        click.echo(f"{name}\t{status}")


def _register_optional() -> None:
    """Command groups that live in their own modules."""
    import importlib

    for module, attr in (
        ("audit", "audit"),
        ("shims", "shims"),
        ("doctor", "doctor"),
        ("hook", "hook"),
        ("review", "review"),
        ("serve", "serve"),
        ("serve", "reviewer"),
    ):
        try:
            mod = importlib.import_module(f"{__name__}.{module}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{module}":
                raise
            continue
        main.add_command(getattr(mod, attr))


_register_optional()


def run_cli(args: list[str], *, verbose: bool = False) -> int:
    """Run a subcommand; the one place errors become exit statuses. `verbose` (guard's own
    `-v/--verbose`, given before the subcommand: entry.py) shows tracebacks."""
    verbose = verbose or bool(os.environ.get("GUARD_DEBUG"))
    try:
        main.main(args, prog_name="guard", standalone_mode=False)
    except GuardError as exc:
        if verbose:
            raise
        message = exc.message if exc.message.startswith("guard:") else f"guard: {exc.message}"
        click.echo(message, err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("guard: aborted", err=True)
        return ExitCode.NOPERM
    except click.ClickException as exc:
        exc.show()
        return ExitCode.USAGE
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except SystemExit as exc:
        return int(exc.code or 0) if isinstance(exc.code, int) or exc.code is None else 1
    except BrokenPipeError:
        return ExitCode.OK
    return ExitCode.OK
