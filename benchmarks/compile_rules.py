"""Cold policy compile time against the number of rules (issue 9: compile must be linear).

    python benchmarks/compile_rules.py [--sizes 10,1000,10000] [--rounds 3]

For each size, writes a user policy of that many generated rules (literal and glob patterns,
flags, `contains`, agents, examples: the mix a grown whitelist has), then reports
  compile: compile and pack in this process (the work a cache miss pays), CPU time,
  cold:    `guard check -- true` through the installed launcher with an empty cache,
  warm:    the same call again (the compiled cache is read),
as the best of --rounds, and the cost per 1,000 rules so growth can be read off: linear growth
keeps "per 1k rules" flat. cold and warm are given as wall time and as the process's CPU time
(the figure that does not depend on how many others share the machine). Run it from the dev
venv (`. .venv/bin/activate`).
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import tempfile
import time

from common import installed_guard

PROGRAMS = ("git", "kubectl", "docker", "npm", "make", "ls", "cat", "psql", "tool", "cargo")


def rules_toml(count: int) -> str:
    """`count` rules of every kind, spread over programs, all with distinct ids."""
    out = []
    for i in range(count):
        prog = PROGRAMS[i % len(PROGRAMS)]
        kind = ("allow", "allow", "allow", "review", "deny")[i % 5]
        out.append(f'[[{kind}]]\nid = "r{i}"\n')
        if i % 3 == 0:
            out.append(f'match = ["{prog} sub{i} **", "{prog} other{i} *"]\n')
        elif i % 3 == 1:
            out.append(f'match = "{prog} v{i}-* --opt=x"\nflags = ["--force", "-f"]\n')
        else:
            out.append(f'match = "{prog} exact{i} arg"\nagents = ["bot-*"]\n')
        if i % 50 == 0:
            out.append(f"contains = ['\\bdrop{i}\\b']\n")
        out.append(f'reason = "generated rule {i}"\n')
        if i % 10 == 0 and i % 3 == 0:
            out.append(f'examples = ["{prog} sub{i} x"]\n')
        out.append("\n")
    return "".join(out)


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one run."""
    start, cpu = time.perf_counter(), _cpu()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{cmd} failed ({proc.returncode}): {proc.stderr[-500:]}")
    return elapsed, _cpu() - cpu


def measure(
    count: int, rounds: int, root: str
) -> tuple[float, tuple[float, float], tuple[float, float]]:
    from expacti_cli import policy

    path = os.path.join(root, f"policy-{count}.toml")
    with open(path, "w", encoding="utf-8") as f:
        f.write(rules_toml(count))
    files, _ = policy.source_files(path)
    compile_s = []
    for _ in range(rounds):
        start = time.process_time()
        policy._compile_and_pack(files)  # what a cache miss pays (load())
        compile_s.append(time.process_time() - start)
    env = {**os.environ, "GUARD_POLICY": path, "GUARD_CONFIG_DIR": root}
    cold, warm = [], []
    for r in range(rounds):
        env["GUARD_CACHE_DIR"] = os.path.join(root, f"cache-{count}-{r}")  # empty: cold
        cold.append(_run([installed_guard(), "check", "--", "true"], env))
        warm.append(_run([installed_guard(), "check", "--", "true"], env))
    return min(compile_s), min(cold), min(warm)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,1000,10000")
    parser.add_argument("--rounds", type=int, default=3)
    opts = parser.parse_args()
    sizes = [int(s) for s in opts.sizes.split(",")]
    print(
        f"{'rules':>7} {'compile':>9} {'per 1k rules':>13} {'cold wall/cpu':>15} "
        f"{'warm wall/cpu':>15}"
    )
    with tempfile.TemporaryDirectory() as root:
        for count in sizes:
            comp, cold, warm = measure(count, opts.rounds, root)
            per_k = comp / count * 1000
            print(
                f"{count:>7} {comp:>8.3f}s {per_k:>12.3f}s {cold[0]:>7.3f}/{cold[1]:.3f}s "
                f"{warm[0]:>7.3f}/{warm[1]:.3f}s"
            )
    print(
        "compile: compile and pack in-process, CPU; cold/warm: `guard check -- true`, best of "
        f"{opts.rounds} (cold: empty cache dir); the catalogue's own rules are included"
    )


if __name__ == "__main__":
    main()
