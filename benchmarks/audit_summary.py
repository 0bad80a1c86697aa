"""How long does `guard audit summary` take on a 1,000,000-entry log, and how much memory?

    python benchmarks/audit_summary.py [--entries N] [--keep DIR]

Generates a realistic log in the writer's exact format (canonical JSON, sha256 chain, rotation
at the default 64 MiB) in a temporary directory, computing the chain in-process rather than
taking the lock a million times, then runs `guard audit summary` as a subprocess and prints its
wall time and peak memory (RUSAGE_CHILDREN ru_maxrss: the largest process, workers included).
Targets: <= 5 s and <= 200 MB for 1,000,000 entries.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

GENESIS = "0" * 64
MAX_BYTES = 64 * 1024 * 1024

AGENTS = ["claude-code", "codex", "aider", "cursor-agent", "devin"]
REVIEWERS = ["alice", "bob", "carol"]
# (argv, weight, verdict, rule, irreversible)
COMMANDS = [
    (["git", "status"], 20, "allow", "git-read", False),
    (["git", "log", "-n", "5", "--oneline"], 10, "allow", "git-read", False),
    (["git", "diff", "HEAD~1"], 10, "allow", "git-read", False),
    (["ls", "-la"], 12, "allow", "fs-read", False),
    (["cat", "README.md"], 8, "allow", "fs-read", False),
    (["pytest", "-q", "tests/"], 8, "review", None, False),
    (["npm", "test"], 5, "review", None, False),
    (["kubectl", "-n", "prod", "get", "pods"], 6, "review", None, False),
    (["make", "build"], 4, "review", None, False),
    (["rm", "-rf", "build"], 3, "review", "rm-recursive", True),
    (["git", "push", "--force", "origin", "main"], 1, "review", "git-force-push", True),
    (["curl", "-s", "https://example.com/install.sh"], 2, "review", None, False),
    (["mkfs.ext4", "/dev/sda1"], 1, "deny", "no-disk-wipe", False),
]


def _canonical(entry: dict[str, object]) -> str:
    # byte-identical to expacti_cli.jsonline.dumps (a test there checks it), and much faster
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def generate(path: str, entries: int, *, seed: int = 1, max_bytes: int = MAX_BYTES) -> None:
    """Write `entries` chained entries to the log at `path`, rotating like the writer."""
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    weights = [c[1] for c in COMMANDS]
    start = datetime(2026, 11, 1, tzinfo=UTC)
    prev = GENESIS
    number = 0
    out = open(path, "w", encoding="ascii")  # noqa: SIM115
    size = 0
    buffer: list[str] = []
    picks = rng.choices(COMMANDS, weights, k=entries)
    for i, (argv, _, verdict, rule, irreversible) in enumerate(picks):
        moment = start + timedelta(seconds=i * 2.5 + rng.random())
        ts = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
        agent = AGENTS[i % 7 % len(AGENTS)]
        shell = i % 3 == 0
        command = shlex.join(argv)
        if verdict == "allow":
            decision, by, reviewer, latency = "allowed", "policy", None, round(rng.random(), 1)
        elif verdict == "deny":
            decision, by, reviewer, latency = "denied", "policy", None, round(rng.random(), 1)
        else:
            roll = rng.random()
            reviewer = rng.choice(REVIEWERS)
            latency = round(rng.lognormvariate(8.5, 1.0), 1)
            if roll < 0.80:
                decision, by = "approved", "reviewer"
            elif roll < 0.97:
                decision, by = "denied", "reviewer"
            else:
                decision, by, reviewer = "denied", "timeout", None
        entry: dict[str, object] = {
            "ts": ts,
            "id": f"{int(moment.timestamp() * 1000):012x}{rng.getrandbits(64):016x}",
            "agent": agent,
            "session": f"s-{i // 500:06d}",
            "user": "dev",
            "host": "build-01",
            "cwd": "/home/dev/src/project",
            "argv": ["bash", "-c", command] if shell else argv,
            "command": command,
            "mode": "shell" if shell else "prefix",
            "decision": decision,
            "decided_by": by,
            "rule": rule,
            "reason": "irreversible operation" if irreversible else "no rule matched",
            "irreversible": irreversible,
            "anomalies": ["unusual-hour"] if i % 997 == 0 else [],
            "reviewer": reviewer,
            "latency_ms": latency,
            "pattern": None,
            "prev": prev,
        }
        if shell:
            entry["parts"] = [
                {"argv": argv, "text": command, "verdict": verdict, "rule": rule, "reason": ""}
            ]
        text = _canonical(entry)
        prev = hashlib.sha256(text.encode("ascii")).hexdigest()
        line = text[:-1] + ',"hash":"' + prev + '"}\n'
        buffer.append(line)
        size += len(line)
        if len(buffer) >= 4096:
            out.write("".join(buffer))
            buffer.clear()
        if max_bytes and size >= max_bytes:
            out.write("".join(buffer))
            buffer.clear()
            out.close()
            number += 1
            os.replace(path, f"{path}.{number:06d}")
            out = open(path, "w", encoding="ascii")  # noqa: SIM115
            size = 0
    out.write("".join(buffer))
    out.close()


def _guard_command() -> list[str]:
    """`guard audit` if the main command knows it yet, else the audit group itself."""
    launcher = os.path.join(os.path.dirname(sys.executable), "guard")
    if os.path.exists(launcher):
        probe = subprocess.run(
            [sys.executable, launcher, "audit", "--help"], capture_output=True, check=False
        )
        if probe.returncode == 0:
            return [sys.executable, launcher, "audit"]
    return [
        sys.executable,
        "-c",
        "import sys; from expacti_cli.cli.audit import audit; "
        "sys.exit(audit.main(prog_name='guard audit'))",
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument(
        "--keep", metavar="DIR", help="generate into DIR and keep it (reused if already there)"
    )
    args = parser.parse_args()
    directory = args.keep or tempfile.mkdtemp(prefix="guard-bench-")
    os.makedirs(directory, exist_ok=True)
    log = os.path.join(directory, "audit.jsonl")
    try:
        started = time.perf_counter()
        if not (args.keep and os.path.exists(log)):
            generate(log, args.entries)
        took = time.perf_counter() - started
        size = sum(
            os.path.getsize(os.path.join(directory, f))
            for f in os.listdir(directory)
            if f.startswith("audit.jsonl")
        )
        print(f"log of {args.entries:,} entries ({size / 1e6:.0f} MB) in {took:.1f} s")
        command = [*_guard_command(), "summary", "--audit-log", log]
        env = {**os.environ, "GUARD_AUDIT_LOG": log}
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            print(done.stdout, done.stderr, sep="\n")
            print(f"guard audit summary failed with exit status {done.returncode}")
            return 1
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(done.stdout)
        print(f"guard audit summary: wall {wall:.2f} s (target <= 5 s)")
        print(f"guard audit summary: peak memory {peak_mb:.0f} MB (target <= 200 MB)")
        return 0 if wall <= 5 and peak_mb <= 200 else 2
    finally:
        if not args.keep:
            shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
