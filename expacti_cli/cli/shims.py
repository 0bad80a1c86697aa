"""`guard shims`: install, list and remove shims; print the PATH line."""

from __future__ import annotations

import json
import os
from typing import Any

import click

from . import CONTEXT, policy_option

_DIR_HELP = "Shim directory (default: GUARD_SHIM_DIR, else 'shims' in the state dir)."


def _dir_option(f: Any) -> Any:
    return click.option("--dir", "directory", type=click.Path(file_okay=False), help=_DIR_HELP)(f)


def _directory(directory: str | None) -> str:
    from .. import paths

    return os.path.abspath(directory or paths.shim_dir())


@click.group(context_settings=CONTEXT)
def shims() -> None:
    """Shim mode: programs on the agent's PATH that run through guard.

    \b
    guard shims install              # a shim for every program the policy names
    guard shims install git rm kubectl
    eval "$(guard shims env)"        # put the shim directory first on PATH
    """


@shims.command("install")
@_dir_option
@policy_option
@click.option(
    "--scripts",
    is_flag=True,
    help="Write tiny scripts instead of symlinks (no-symlink filesystems).",
)
@click.argument("programs", nargs=-1)
def install_cmd(
    directory: str | None, policy_path: str | None, scripts: bool, programs: tuple[str, ...]
) -> None:
    """Create shims for PROGRAMS (default: every program the policy names)."""
    from .. import shims as core

    names = list(programs)
    if not names:
        from .. import policy as policy_mod

        names = core.policy_programs(policy_mod.load(policy_path))
    target = _directory(directory)
    result = core.install(target, names, scripts=scripts)
    for name, why in result.skipped:
        click.echo(f"guard: skipped {name}: {why}", err=True)
    click.echo(
        f"installed {len(result.installed)} shims in {result.directory} -> {result.launcher}"
    )
    if result.installed:
        click.echo("  " + " ".join(result.installed))
    if core.path_position(target) != 0:
        click.echo(
            f'put it first on the agent\'s PATH: eval "$(guard shims env --dir {target})"',
            err=True,
        )


@shims.command("list")
@_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(directory: str | None, as_json: bool) -> None:
    """List the shims, what each runs, and the real program it shadows."""
    from .. import execute
    from .. import shims as core
    from ..errors import GuardError

    target = _directory(directory)
    found = core.list_shims(target)
    rows = []
    for shim in found:
        try:
            real: str | None = execute.which(shim.name, skip_shims=True)
        except GuardError:
            real = None
        rows.append({**shim.as_dict(), "shadows": real})
    if as_json:
        click.echo(json.dumps({"directory": target, "shims": rows}, indent=2))
        return
    if not rows:
        click.echo(f"no shims in {target}")
        return
    click.echo(f"{target}:")
    for row in rows:
        state = "ok" if row["ok"] else "BROKEN (does not run guard)"
        shadows = row["shadows"] or "(no real program on PATH)"
        click.echo(f"  {row['name']:<16} {row['kind']:<6} {state:<8} shadows {shadows}")


@shims.command("remove")
@_dir_option
@click.argument("programs", nargs=-1)
def remove_cmd(directory: str | None, programs: tuple[str, ...]) -> None:
    """Remove the named shims, or all of them and the directory."""
    from .. import shims as core

    target = _directory(directory)
    removed = core.remove(target, list(programs) or None)
    click.echo(f"removed {len(removed)} shims from {target}")


@shims.command("env")
@_dir_option
@click.option(
    "--shell",
    type=click.Choice(["bash", "zsh", "fish"]),
    help="Shell syntax (default: from $SHELL, else bash).",
)
def env_cmd(directory: str | None, shell: str | None) -> None:
    """Print the line that puts the shim directory first on PATH (eval it)."""
    from .. import shims as core

    click.echo(core.env_line(_directory(directory), shell or core.default_shell()))
