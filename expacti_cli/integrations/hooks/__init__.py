"""Agent-harness hooks: `guard hook HARNESS` answers a harness's command-approval hook.

One module per harness knows its wire format (claude_code, gemini_cli, cursor, codex); `core`
decides, audits and keeps the budget; `pending` links reviews handed to a harness's own prompt
to the event that reports their outcome; `budget` runs the decision in a worker it can kill.
Kept light: `answer` imports only the harness asked for (and the decision core).
"""

from __future__ import annotations

import os

HARNESSES = {
    "claude-code": "claude_code",
    "gemini-cli": "gemini_cli",
    "cursor": "cursor",
    "codex": "codex",
}


def answer(
    harness: str,
    *,
    policy_path: str | None = None,
    audit_path: str | None = None,
    budget: float | None = None,
) -> int:
    """Answer one hook call on this process's stdin/stdout; return the exit status."""
    import importlib

    from . import core

    module = importlib.import_module(f"{__name__}.{HARNESSES[harness]}")
    options = core.Options(
        policy_path, audit_path, core.DEFAULT_BUDGET if budget is None else budget
    )
    result = core.run(module, options)
    for fd, text in ((1, result.stdout), (2, result.stderr)):
        data = text.encode("utf-8", "surrogateescape")
        while data:
            try:
                data = data[os.write(fd, data) :]
            except OSError:
                break
    return result.exit_code


_VALUE_OPTIONS = {"--policy": "policy_path", "--audit-log": "audit_path", "--budget": "budget"}


def fast_main(args: list[str]) -> int | None:
    """`guard hook HARNESS [--policy F] [--audit-log F] [--budget SECONDS]` without click
    (it runs on every tool call of an agent). None: not that shape (--help, an unknown
    harness or option): the caller hands it to the click command, which explains."""
    if not args or args[0] not in HARNESSES:
        return None
    found: dict[str, str] = {}
    rest = args[1:]
    while rest:
        name, eq, value = rest[0].partition("=")
        if name not in _VALUE_OPTIONS:
            return None
        if not eq:
            if len(rest) < 2:
                return None
            value, rest = rest[1], rest[2:]
        else:
            rest = rest[1:]
        found[_VALUE_OPTIONS[name]] = value
    budget = None
    if "budget" in found:
        budget = parse_budget(found["budget"])
        if budget is None:
            return _refuse(
                args[0],
                f"--budget {found['budget']!r} is not a number of seconds between 0.1 and 3600",
            )
    code = answer(
        args[0],
        policy_path=found.get("policy_path") or None,
        audit_path=found.get("audit_path") or None,
        budget=budget,
    )
    # The answer is written (unbuffered os.write) and nothing else is pending: skip the
    # interpreter's teardown of every loaded module, a third of a hook's run time under load.
    os._exit(code)


def parse_budget(text: str) -> float | None:
    """Seconds as a finite number in [0.1, 3600], else None."""
    try:
        value = float(text.removesuffix("s"))
    except ValueError:
        return None
    return value if 0.1 <= value <= 3600 else None


def _refuse(harness: str, why: str) -> int:
    """A hook command line guard cannot use: the harness's fail-closed answer, not a usage
    error (most harnesses let a tool run when a hook exits with an unexpected status)."""
    import importlib

    module = importlib.import_module(f"{__name__}.{HARNESSES[harness]}")
    result = module.malformed(f"bad hook command line: {why}")
    os.write(1, result.stdout.encode())
    os.write(2, result.stderr.encode())
    return int(result.exit_code)
