"""A shell tool for an LLM agent that runs every command through guard.

The generic pattern for any agent framework: wherever the tool would run
`["bash", "-c", cmd]`, run `["guard", "-c", cmd]`. guard analyses the whole line (every simple
command, pipes, `$(...)`, wrappers), runs it with bash only if every part may run, and otherwise
exits 77 with one `guard: denied: ...` line on stderr that tells the model what happened.

    $ python shell_tool.py 'echo hello' 'rm -rf /tmp/x'
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

GUARD = os.environ.get("GUARD_BIN", "guard")  # the guard launcher (name on PATH or a path)
DENIED = 77  # guard's exit status for a denied command (EX_NOPERM)


def run_shell(cmd: str, *, timeout: float = 300, cwd: str | None = None) -> tuple[int, str, str]:
    """Run one shell command line for the agent: (exit status, stdout, stderr)."""
    done = subprocess.run(
        [GUARD, "-c", cmd],  # instead of ["bash", "-c", cmd]
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def tool_result(cmd: str) -> str:
    """What the model reads back after asking for `cmd`."""
    code, out, err = run_shell(cmd)
    if code == DENIED and "guard: denied:" in err:
        return f"NOT RUN (denied by guard, exit {code}):\n{err.strip()}"
    return f"exit {code}\n--- stdout\n{out}--- stderr\n{err}"


if __name__ == "__main__":
    for line in sys.argv[1:]:
        status, stdout, stderr = run_shell(line)
        print(json.dumps({"command": line, "exit": status, "stdout": stdout, "stderr": stderr}))
