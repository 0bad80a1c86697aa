"""What the benchmark scripts share: the installed launcher, an isolated guard environment, and
timing one whole process. Scripts run as `python benchmarks/NAME.py`, so `import common` finds
this file."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time


def installed_guard() -> str:
    """The `guard` launcher next to this interpreter (the install being measured)."""
    guard = os.path.join(os.path.dirname(sys.executable), "guard")
    if os.path.exists(guard):
        return guard
    return shutil.which("guard") or sys.exit("guard is not installed next to this python")


def guard_env(tmp: str, policy: str, **extra: str) -> dict[str, str]:
    """This environment with every guard location inside `tmp` and `policy` as the policy."""
    return {
        **os.environ,
        "GUARD_POLICY": policy,
        "GUARD_CONFIG_DIR": f"{tmp}/c",
        "GUARD_STATE_DIR": f"{tmp}/s",
        "GUARD_CACHE_DIR": f"{tmp}/k",
        "GUARD_AUDIT_LOG": f"{tmp}/audit.jsonl",
        **extra,
    }


def time_run(cmd: list[str], env: dict[str, str]) -> float:
    """Wall time of one run of `cmd`; a failing run ends the benchmark with its stderr."""
    start = time.perf_counter()
    proc = subprocess.run(
        cmd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed ({proc.returncode}): {proc.stderr.decode()[-500:]}")
    return elapsed
