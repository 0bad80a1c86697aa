"""Real agent traffic through guard's decision engine: throughput and false reviews.

    python benchmarks/traffic.py [--policy FILE] [--limit N]

Reads ../shared/workloads/agent-commands/commands.jsonl (20,000 command lines real agents
issued; never copied into this repository) and decides each line as `guard -c LINE` would, on
the built-in policy plus the optional user policy. Prints decisions per second, the verdict
mix, the most common reasons harmless lines go to review ("false reviews" here means lines the
workload's quick judgement did not call dangerous), and any line judged dangerous that guard
allowed.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "..", "..", "shared", "workloads", "agent-commands", "commands.jsonl")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", default=DEFAULT)
    parser.add_argument("--policy", default=None, help="user policy layered on the built-in one")
    parser.add_argument("--limit", type=int, default=0)
    opts = parser.parse_args()
    if not os.path.exists(opts.workload):
        sys.exit(f"workload not found: {opts.workload}")
    os.environ.setdefault("GUARD_CACHE_DIR", os.path.join(HERE, ".cache"))
    if opts.policy is None:  # built-in catalogue only: an empty user policy
        import tempfile

        empty = os.path.join(tempfile.mkdtemp(prefix="guard-traffic-"), "empty.toml")
        open(empty, "w").close()
        os.environ["GUARD_POLICY"] = empty
    from expacti_cli import check, policy

    pol = policy.load(opts.policy)
    rows = []
    with open(opts.workload, encoding="utf-8") as f:
        for line in f:
            rows.append(json.loads(line))
            if opts.limit and len(rows) >= opts.limit:
                break
    verdicts: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    missed = []
    start = time.perf_counter()
    for row in rows:
        decision = check.check(pol, line=row["cmd"])
        verdicts[decision.verdict] += 1
        if decision.verdict != "allow" and not row.get("dangerous_guess"):
            reasons[decision.rule or "(default: no rule)"] += 1
        if decision.verdict == "allow" and row.get("dangerous_guess"):
            missed.append(row["cmd"])
    elapsed = time.perf_counter() - start
    n = len(rows)
    print(
        f"lines: {n}, decided in {elapsed:.2f}s = {n / elapsed:,.0f} decisions/s "
        f"({elapsed / n * 1e6:,.0f} us per line)"
    )
    for verdict in ("allow", "review", "deny"):
        print(f"  {verdict:<7} {verdicts_pct(verdicts, verdict, n)}")
    benign = sum(1 for r in rows if not r.get("dangerous_guess"))
    false_reviews = sum(reasons.values())
    print(
        f"false reviews: {false_reviews} of {benign} lines not guessed dangerous "
        f"({false_reviews / max(benign, 1):.1%}); top reasons:"
    )
    for reason, count in reasons.most_common(15):
        print(f"  {count:6}  {reason}")
    guessed = n - benign
    print(f"lines guessed dangerous: {guessed}; allowed by guard: {len(missed)}")
    for cmd in missed[:10]:
        print(f"  ALLOWED: {cmd[:150]!r}")


def verdicts_pct(counter: collections.Counter[str], key: str, n: int) -> str:
    return f"{counter[key]:6} ({counter[key] / max(n, 1):.1%})"


if __name__ == "__main__":
    main()
