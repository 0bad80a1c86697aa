"""guard's entry point: a hand-written dispatch so the allowed path never imports click or rich.

guard [--policy F] [--agent ID] [--audit-log F] [--] PROGRAM [ARGS...]   prefix mode
guard run [OPTIONS] -- PROGRAM [ARGS...]                                  same
guard [OPTIONS] -c 'LINE' [NAME [ARGS...]]                                shell mode (bash -c)
<shim name> [ARGS...]                                                     shim mode
guard SUBCOMMAND ...                                                      cli/ (click)
"""

import gc
import os
import sys

SUBCOMMANDS = frozenset(
    {"check", "audit", "policy", "shims", "agent", "review", "init", "doctor", "hook", "help"}
    | {"serve", "reviewer"}  # guard serve (server/)
)
_OPTIONS_WITH_VALUE = {
    "--policy": "policy",
    "--agent": "agent",
    "--audit-log": "audit_log",
    "--session": "session",
}
# guard's own verbose option: recognised only where guard's options stand (before the
# subcommand, the program or `--`), never among the program's arguments.
_VERBOSE = ("-v", "--verbose")
# Shell option letters accepted with -c (as in `bash -lc`, `sh -ec`); passed on to the shell.
_SHELL_LETTERS = frozenset("lceuxvo")
_GC_DEFAULT = gc.get_threshold()
_GC_ALLOCATIONS = 10_000  # see main


# What an agent asked for, and who asked: the one record every mode (prefix, shell, shim, hook,
# client) hands to the decision. It lives here, where it is built, so that client mode loads no
# module of its own for it.
class Request:
    """What an agent asked for, and who asked."""

    __slots__ = (
        "agent",
        "argv",
        "audit_path",
        "cwd",
        "line",
        "mode",
        "policy_path",
        "session",
        "shell_argv",
        "token",
    )

    def __init__(
        self,
        mode: str,
        *,
        argv: list[str] | None = None,
        line: str | None = None,
        shell_argv: list[str] | None = None,
        agent: str | None = None,
        session: str | None = None,
        policy_path: str | None = None,
        audit_path: str | None = None,
    ) -> None:
        env = os.environ
        self.mode = mode
        self.argv = argv or []
        self.line = line
        self.shell_argv = shell_argv or []  # how to run `line`: [shell, flags..., line, args...]
        self.agent = agent or env.get("GUARD_AGENT") or "anonymous"
        self.token = env.get("GUARD_AGENT_TOKEN")
        self.session = session or env.get("GUARD_SESSION") or f"sid-{os.getsid(0)}"
        self.policy_path = policy_path
        self.audit_path = audit_path
        try:
            self.cwd = os.getcwd()
        except OSError:
            self.cwd = env.get("PWD", "?")

    @property
    def command(self) -> str:
        """The request as one line of text (a shell line as given, an argv quoted)."""
        if self.line is not None:
            return self.line
        from .tokenize import join

        return join(self.argv)


def _debug_guard_only() -> None:
    """-v: tracebacks for guard itself, which reads GUARD_DEBUG from `os.environ`, while the
    program it runs must not inherit it: the variable is set in the `os.environ` mapping and
    removed again from the process environment that exec passes on (`os.unsetenv` does not
    touch the mapping). A GUARD_DEBUG the caller set is theirs, and is passed on untouched."""
    if "GUARD_DEBUG" not in os.environ:
        os.environ["GUARD_DEBUG"] = "1"
        os.unsetenv("GUARD_DEBUG")


def _usage(message: str) -> int:
    sys.stderr.write(
        f"guard: {message}\nusage: guard [OPTIONS] [--] PROGRAM [ARGS...] | "
        "guard -c 'LINE' | guard SUBCOMMAND --help\n"
    )
    from .errors import ExitCode

    return ExitCode.USAGE


def _is_guard_name(name: str) -> bool:
    # Not "python*": a shim named python3 must act as a shim (`python3 -c CODE` is not `guard -c`).
    return name in ("guard", "__main__.py", "guard.py") or name.startswith("guard-")


def main(argv: list[str] | None = None) -> int:
    # A decision loads ~30 modules and the cached policy, objects that nearly all live until
    # exec: at the cycle collector's default pace (a pass every 700 allocations) it rescans
    # them dozens of times, ~0.7 ms of an allowed command. Every 10,000 still collects garbage
    # cycles, so memory stays bounded; the caller's setting is back when main returns.
    threshold = gc.get_threshold()
    gc.set_threshold(_GC_ALLOCATIONS, *threshold[1:])
    try:
        return _main(argv)
    finally:
        gc.set_threshold(*threshold)


def _main(argv: list[str] | None) -> int:
    argv = list(sys.argv if argv is None else argv)
    invoked = os.path.basename(argv[0]) if argv else "guard"
    if not _is_guard_name(invoked):
        return _run_shim(invoked, argv[1:])
    args = argv[1:]
    verbose = False
    while args and args[0] in _VERBOSE:  # guard's own option, before a subcommand or program
        verbose = True
        args = args[1:]
    if args[:1] == ["hook"]:  # on every tool call of an agent: no click (integrations/hooks)
        from .integrations.hooks import fast_main

        code = fast_main(args[1:])
        if code is not None:
            return code
    if not args or args[0] in SUBCOMMANDS or args[0] in ("-h", "--help", "--version"):
        from .cli import run_cli

        gc.set_threshold(*_GC_DEFAULT)  # subcommands (a server, a console) may run for long
        return run_cli(args, verbose=verbose)
    if verbose:
        _debug_guard_only()
    if args[0] == "run":
        args = args[1:]
    return _run_prefix_or_shell(args)


def _run_prefix_or_shell(args: list[str]) -> int:
    opts: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            i += 1
            break
        name, eq, value = arg.partition("=")
        if name in _OPTIONS_WITH_VALUE:
            if not eq:
                if i + 1 >= len(args):
                    return _usage(f"option {arg} needs a value")
                value = args[i + 1]
                i += 1
            if not value:
                return _usage(f"option {name} needs a non-empty value")
            opts[_OPTIONS_WITH_VALUE[name]] = value
            i += 1
            continue
        if arg in _VERBOSE:
            _debug_guard_only()
            i += 1
            continue
        if (
            len(arg) > 1
            and arg[0] == "-"
            and arg[1] != "-"
            and "c" in arg
            and set(arg[1:]) <= _SHELL_LETTERS
        ):
            if i + 1 >= len(args):
                return _usage(f"{arg} needs a command line")
            return _run_shell(arg, args[i + 1], args[i + 2 :], opts)
        if arg.startswith("-"):
            return _usage(
                f"unknown option {arg!r} (put -- before a program whose name starts with '-')"
            )
        break
    program = args[i:]
    if not program:
        return _usage("no program given")
    if not program[0] or "\0" in "".join(program):
        return _usage("the program name is empty or an argument holds a NUL byte")
    return _decide_and_run(
        Request(
            "prefix",
            argv=program,
            agent=opts.get("agent"),
            session=opts.get("session"),
            policy_path=opts.get("policy"),
            audit_path=opts.get("audit_log"),
        )
    )


def _run_shell(flags: str, line: str, rest: list[str], opts: dict[str, str]) -> int:
    shell = os.environ.get("GUARD_SHELL") or "/bin/bash"
    return _decide_and_run(
        Request(
            "shell",
            line=line,
            shell_argv=[shell, flags, line, *rest],
            agent=opts.get("agent"),
            session=opts.get("session"),
            policy_path=opts.get("policy"),
            audit_path=opts.get("audit_log"),
        )
    )


def _run_shim(name: str, args: list[str]) -> int:
    return _decide_and_run(Request("shim", argv=[name, *args]))


def _decide_and_run(req: Request) -> int:
    """Decide, record and exec (or deny). Client mode is chosen here, before the local
    pipeline is imported: its start-up then loads only the request, the socket and exec."""
    if os.environ.get("GUARD_SERVER"):
        from .client import run
    else:
        from .gate import run
    return run(req)
