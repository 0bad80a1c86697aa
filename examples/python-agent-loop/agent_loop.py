"""A minimal agent loop whose commands run with guard's shims first on PATH.

The "model" here is a scripted list of shell commands (one per line in a file, or the built-in
demo); a real loop would ask an LLM for the next command and show it the previous result. Each
command runs the way most frameworks run one, `subprocess.run(cmd, shell=True)`, i.e. `/bin/sh -c`,
but with the shim directory first on PATH: every program the policy names (`rm`, `git`,
`kubectl`, ...) resolves to a guard shim, so it is checked when it runs, also when a script, a
`find -exec` or `xargs` starts it.

    $ python agent_loop.py                 # the demo script
    $ python agent_loop.py commands.txt    # one command per line
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

GUARD = os.environ.get("GUARD_BIN", "guard")
DEMO = [
    "echo 'hello from the agent'",
    "mkdir -p scratch && touch scratch/data",
    "rm -rf scratch",  # irreversible: no reviewer in a headless loop -> denied, exit 77
    "ls scratch",
]


def install_shims() -> str:
    """Create (or refresh) the shims for every program the policy names; return their dir."""
    subprocess.run([GUARD, "shims", "install"], check=True, capture_output=True, text=True)
    listing = subprocess.run(
        [GUARD, "shims", "list", "--json"], check=True, capture_output=True, text=True
    )
    return str(json.loads(listing.stdout)["directory"])


class ScriptedModel:
    """Stands in for the LLM: proposes the next command, sees each result."""

    def __init__(self, commands: list[str]) -> None:
        self.commands = list(commands)
        self.seen: list[dict[str, object]] = []

    def next_command(self) -> str | None:
        return self.commands.pop(0) if self.commands else None

    def observe(self, result: dict[str, object]) -> None:
        self.seen.append(result)


def run_agent(model: ScriptedModel, shim_dir: str) -> list[dict[str, object]]:
    env = dict(os.environ)
    env["PATH"] = shim_dir + os.pathsep + env.get("PATH", os.defpath)
    while (cmd := model.next_command()) is not None:
        # shell=True: the model's line runs as frameworks run it, /bin/sh -c, shims on PATH
        done = subprocess.run(  # noqa: S602
            cmd, shell=True, env=env, capture_output=True, text=True, timeout=300, check=False
        )
        result = {
            "command": cmd,
            "exit": done.returncode,
            "stdout": done.stdout,
            "stderr": done.stderr,
        }
        model.observe(result)
    return model.seen


def main(argv: list[str]) -> int:
    if argv:
        with open(argv[0], encoding="utf-8") as f:
            commands = [line.strip() for line in f if line.strip() and not line.startswith("#")]
    else:
        commands = DEMO
    shim_dir = install_shims()
    for result in run_agent(ScriptedModel(commands), shim_dir):
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
