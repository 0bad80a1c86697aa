"""Start-up cost of guard's allowed path, measured side by side in one run.

    python benchmarks/hotpath.py [--rounds N]

Runs, interleaved round by round so machine noise hits all alike:
  bare `true`, `python -c pass`, `guard -- true` (whitelisted), `guard -c 'git status && ls'`
and prints medians and ratios, of wall time and of CPU time (user + system of the process,
which other engineers' load on a shared machine disturbs less), with the load average.
Targets (issues 2 and 3): guard -- true <= 1.5x python -c pass; guard -c 'git status && ls'
<= 2.5x python -c pass. Use a regular (non-editable) install for figures users will see: an
editable install adds an import hook to every start.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import sys
import tempfile

from common import guard_env, installed_guard, time_run

POLICY = """
[settings]
default = "review"
[audit]
fsync = %s
[[allow]]
id = "bench"
match = ["true", "git status **", "ls **"]
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--fsync", choices=["true", "false"], default="true")
    opts = parser.parse_args()
    guard = installed_guard()
    with tempfile.TemporaryDirectory() as tmp:
        policy = os.path.join(tmp, "policy.toml")
        with open(policy, "w") as f:
            f.write(POLICY % opts.fsync)
        env = guard_env(tmp, policy, GUARD_AGENT="bench")
        true = shutil.which("true") or "/bin/true"
        cases = {
            "true": [true],
            "python -c pass": [sys.executable, "-c", "pass"],
            "guard -- true": [guard, "--", "true"],
            "bash -c 'git status && ls'": ["/bin/bash", "-c", "git status && ls"],
            "guard -c 'git status && ls'": [guard, "-c", "git status && ls"],
        }
        # Anomaly detection would flag the benchmark itself as a rate spike; raise the limit.
        with open(policy, "a") as f:
            f.write("[anomalies]\nmax_rate = 1000000\n")
        for cmd in cases.values():  # warm caches (compiled policy, .pyc, page cache)
            time_run(cmd, env)
        times: dict[str, list[float]] = {name: [] for name in cases}
        cpu: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(opts.rounds):
            for name, cmd in cases.items():
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                times[name].append(time_run(cmd, env))
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[name].append(
                    after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                )
    med = {name: statistics.median(v) * 1000 for name, v in times.items()}
    med_cpu = {name: statistics.median(v) * 1000 for name, v in cpu.items()}
    base, base_cpu = med["python -c pass"], med_cpu["python -c pass"]
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"rounds: {opts.rounds}, audit fsync: {opts.fsync}, python: {sys.version.split()[0]}, "
        f"load average: {load}"
    )
    print(f"  {'':<32} {'wall':>8}      {'ratio':>5}              {'cpu':>6}      {'ratio':>5}")
    for name, ms in med.items():
        print(
            f"  {name:<32} {ms:8.1f} ms   {ms / base:5.2f}x python -c pass"
            f"   {med_cpu[name]:6.1f} ms   {med_cpu[name] / base_cpu:5.2f}x"
        )
    for name, target in (("guard -- true", 1.5), ("guard -c 'git status && ls'", 2.5)):
        print(
            f"{name} / python -c pass = {med[name] / base:.2f} wall, "
            f"{med_cpu[name] / base_cpu:.2f} cpu (target <= {target})"
        )
    own = med["guard -c 'git status && ls'"] - med["bash -c 'git status && ls'"]
    print(
        f"  of which guard's own part (less the bash line itself): {own:.1f} ms = "
        f"{own / base:.2f}x python -c pass"
    )


if __name__ == "__main__":
    main()
