"""Latency a harness hook adds to every tool call: `guard hook HARNESS` on the allowed path.

    python benchmarks/hook_latency.py [--rounds N] [--fsync true|false]

Each round runs, interleaved so machine noise hits all alike: `python -c pass` (the floor of
any Python hook), `guard -c 'git status'` (shell mode, for comparison: it also runs git), and
`guard hook HARNESS` for claude-code, gemini-cli, cursor and codex, each fed its harness's
documented JSON for a whitelisted command (`git status`) on stdin, the way the harness spawns
it (a fresh process per call). Prints median and p90 per case, and the ratio to
`python -c pass`. The hook's whole cost is paid on every tool call the agent makes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from common import guard_env, installed_guard

POLICY = """
[audit]
fsync = %s
[anomalies]
max_rate = 1000000
[[allow]]
id = "bench"
match = ["git status **"]
"""

COMMAND = "git status"
PAYLOADS = {
    "claude-code": {
        "session_id": "bench",
        "transcript_path": "/home/dev/.claude/t.jsonl",
        "cwd": "/home/dev/demo",
        "permission_mode": "default",
        "hook_event_name": "PreToolUse",
        "tool_name": "Bash",
        "tool_input": {"command": COMMAND, "description": "status"},
        "tool_use_id": "toolu_bench",
    },
    "gemini-cli": {
        "session_id": "bench",
        "transcript_path": "/home/dev/.gemini/t.json",
        "cwd": "/home/dev/demo",
        "hook_event_name": "BeforeTool",
        "timestamp": "2026-11-29T00:00:00.000Z",
        "tool_name": "run_shell_command",
        "tool_input": {"command": COMMAND},
    },
    "cursor": {
        "conversation_id": "bench",
        "generation_id": "g",
        "hook_event_name": "beforeShellExecution",
        "workspace_roots": ["/home/dev/demo"],
        "command": COMMAND,
        "cwd": "/home/dev/demo",
    },
    "codex": {
        "session_id": "bench",
        "cwd": "/home/dev/demo",
        "hook_event_name": "PreToolUse",
        "turn_id": "t",
        "tool_name": "Bash",
        "tool_input": {"command": COMMAND},
        "tool_use_id": "call_bench",
    },
}


def _time(cmd: list[str], env: dict[str, str], stdin: bytes) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, env=env, input=stdin, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode not in (0, 128) or b'"deny"' in proc.stdout:  # 128: git, no repo
        raise SystemExit(f"{cmd} failed ({proc.returncode}): {proc.stdout!r} {proc.stderr!r}")
    return elapsed


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--fsync", choices=["true", "false"], default="true")
    opts = parser.parse_args()
    guard = installed_guard()
    with tempfile.TemporaryDirectory() as tmp:
        policy = os.path.join(tmp, "policy.toml")
        with open(policy, "w") as f:
            f.write(POLICY % opts.fsync)
        env = guard_env(tmp, policy, GUARD_REVIEW_DIR=f"{tmp}/r")
        cases: dict[str, tuple[list[str], bytes]] = {
            "python -c pass": ([sys.executable, "-c", "pass"], b""),
            # for comparison: the same line through shell mode, which also runs it
            "guard -c 'git status'": ([guard, "-c", COMMAND], b""),
        }
        for harness, payload in PAYLOADS.items():
            cases[f"guard hook {harness}"] = (
                [guard, "hook", harness],
                json.dumps(payload).encode(),
            )
        for cmd, stdin in cases.values():  # warm caches (compiled policy, .pyc, page cache)
            _time(cmd, env, stdin)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(opts.rounds):
            for name, (cmd, stdin) in cases.items():
                times[name].append(_time(cmd, env, stdin))
    base = statistics.median(times["python -c pass"]) * 1000
    print(f"rounds: {opts.rounds}, audit fsync: {opts.fsync}, python: {sys.version.split()[0]}")
    print(f"  {'case':<24} {'median':>9} {'p90':>9}   median / python -c pass")
    for name, values in times.items():
        med = statistics.median(values) * 1000
        p90 = _p90(values) * 1000
        print(f"  {name:<24} {med:7.1f}ms {p90:7.1f}ms   {med / base:5.2f}x")
    hooks = [statistics.median(v) * 1000 for n, v in times.items() if n.startswith("guard")]
    print(
        f"latency a hook adds per command (allowed path): median {statistics.median(hooks):.1f} ms"
        f" = {statistics.median(hooks) / base:.2f}x python -c pass"
    )


if __name__ == "__main__":
    main()
