"""How fast guard's whitelist learns from a reviewer, and whether it learns anything dangerous.

    python benchmarks/learning.py [--limit N] [--workload FILE] [--why]

Replays ../shared/workloads/agent-commands/commands.jsonl (20,000 real agent lines; read in
place, never copied here) in order, each line as `guard -c LINE` from its agent, under the
built-in catalogue plus the rules learned so far. A simulated reviewer answers every review:
a line the workload guesses dangerous is denied; any other is approved, with "approve and
remember" whenever guard offers it, accepting guard's own suggested pattern (Enter), scoped to
the asking agent as guard proposes. Prints the review burden per 1,000 lines and over the last
10,000, the rules learned, and the dangerous lines a learned rule let through: as they happened
in the replay, and again at the end with every learned rule written to a real policy file and
every dangerous line decided by guard itself. A suggestion that does not match the command it
was offered for is reported (it would teach nothing). `--why` sorts the reviews of the last
10,000 lines by cause (the part of each line learning could least have helped with) and counts
those no learner within issue 10's limits could have spared.

Learned rules join the policy's rule lists in memory during the replay, so every line is decided
by the real engine (rules, protected effects and what an allow rule lifts) without recompiling
the policy after each approval; after each approval the line is decided again, and a suggestion
that does not allow the part it was offered for is reported. The final check writes the rules
to a policy file and loads it as guard would.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT = os.path.join(HERE, "..", "..", "shared", "workloads", "agent-commands", "commands.jsonl")
TARGET_BURDEN = 0.10  # issue 10: at most 10% of the last 10,000 lines reviewed

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from expacti_cli.policy import Policy


class Learned:
    """The rules learned so far, as allow rules in the policy in memory: each line is decided by
    the real engine (rules, then protected effects and what an allow rule lifts), as if every
    learned rule were in the policy file, without recompiling the policy after each approval."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.seen: list[tuple[str, str]] = []
        self._seen: set[tuple[str, str]] = set()
        self.ids: set[str] = set()
        self.count = 0

    def add(self, agent: str, pattern: str) -> None:
        from expacti_cli.policy import compile_pattern
        from expacti_cli.remember import escape_glob

        if (agent, pattern) in self._seen:
            return
        self._seen.add((agent, pattern))
        self.seen.append((agent, pattern))
        tokens = compile_pattern(pattern)
        rule_id = f"learned-{self.count}"
        rule: dict[str, Any] = {
            "kind": "allow",
            "id": rule_id,
            "match": [pattern],
            "patterns": [tokens],
            "exact": [all(t[0] == "L" for t in tokens)],
            "flags": [],
            "global_flags": [],
            "contains": [],
            "agents": [escape_glob(agent)],
            "expires": None,
            "learned": {},
            "reason": "",
            "class": "",
            "seq": 1_000_000 + self.count,  # after every built-in rule, as a later layer
        }
        head, pol = tokens[0], self.policy
        # The rule lists in memory; the policy also remembers the candidate rules per kind and
        # program name, so those that may now include this rule are forgotten.
        remembered = getattr(pol, "_candidates", {})
        if head[0] == "L" and "/" not in head[1]:
            pol._named(head[1]).append(rule)
            remembered.pop(("allow", head[1]), None)
        else:
            pol._wildcard().append(rule)
            remembered.clear()
        self.ids.add(rule_id)
        self.count += 1

    def used(self, decision: Any) -> list[str]:
        """The learned rules that allowed a part of this decision."""
        parts = decision.parts or [decision]
        return [p.rule for p in parts if p.verdict == "allow" and p.rule in self.ids]


# Why a line still went to a human, hardest first: a line counts once, under the part that
# learning could least have helped with.
CATEGORIES = {
    "dangerous": "dangerous (the simulated reviewer denies it)",
    "anomaly": "anomaly flags",
    "irreversible": "irreversible (no rule lifts it)",
    "never": "never remembered (protected effects, concerns no rule lifts)",
    "unoffered": "remember not offered (too long, or a word known only at run time)",
    "exact": "exact command only, not seen before (inline code, shells, wrappers)",
    "new": "narrow pattern, not learned yet (a new script, operation or shape)",
}


class Why:
    """The reviewed lines of the last 10,000, by why they went to a human."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.lines: collections.Counter[str] = collections.Counter()
        self.details: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        self.examples: dict[str, list[str]] = collections.defaultdict(list)
        self.forced = 0

    def add(self, decision: Any, cmd: str, dangerous: bool) -> None:
        forced = True
        if dangerous:
            category, detail = "dangerous", "denied"
        elif decision.anomalies:
            category, detail = "anomaly", ",".join(decision.anomalies)
        else:
            parts = decision.parts or [decision]
            reasons = [self._part(p) for p in parts if p.verdict == "review"]
            reasons = reasons or [("never", str(decision.rule), True)]
            order = list(CATEGORIES)
            category, detail, _ = min(reasons, key=lambda r: order.index(r[0]))
            forced = any(r[2] for r in reasons)
        self.lines[category] += 1
        self.details[category][detail] += 1
        self.forced += forced
        if len(self.examples[category]) < 3:
            self.examples[category].append(cmd)

    def _part(self, part: Any) -> tuple[str, str, bool]:
        """(category, detail, forced): forced if no learner within issue 10's limits could have
        spared the review (no rule lifts it; only the exact command may be remembered for
        inline code, shells and wrappers; a script or module is named literally, so its first
        run is new whatever was learned before)."""
        from expacti_cli import suggest
        from expacti_cli.prompt import liftable

        rule, argv = part.rule, list(part.argv)
        if part.irreversible:
            return "irreversible", str(rule), True
        if rule is not None and rule.startswith("protected:"):
            pattern = suggest.for_protected(self.policy, argv) if argv else None
            if pattern is None:
                return "never", rule, True
            kind = "exact" if pattern == suggest.exact(argv) else "new"
            return kind, f"{rule}: {_program(argv)}", kind == "exact"
        if rule is not None:
            if argv and liftable(self.policy, rule, argv[0]):
                return "exact", f"{rule}: {_program(argv)}", True
            return "never", rule, True
        if not argv or not argv[0] or any("\0" in w for w in argv):
            return "unoffered", "a word known only at run time", True
        pattern = suggest.generalise(self.policy, argv)
        if pattern is None:
            return "unoffered", f"too long: {_program(argv)}", True
        kind, _ops = suggest.operation_kind(self.policy, argv)
        detail = f"{kind}: {_program(argv)}"
        if pattern == suggest.exact(argv):
            return "exact", detail, kind != "protected"
        return "new", detail, kind == "interpreter"

    def report(self, window: int) -> None:
        total = sum(self.lines.values())
        print(
            f"why the last {window:,} lines went to review ({total:,} lines; "
            "each counted once, under its hardest part):"
        )
        for category, label in CATEGORIES.items():
            n = self.lines[category]
            if not n:
                continue
            top = ", ".join(f"{d} {c}" for d, c in self.details[category].most_common(8))
            print(f"  {n:>5} {n / window:6.1%}  {label}\n          {top}")
            for cmd in self.examples[category]:
                print(f"          e.g. {cmd[:100]!r}")
        print(
            f"  of which reviewed whatever a learner within issue 10's limits remembers: "
            f"{self.forced:,} ({self.forced / window:.1%}): no rule lifts them, or only the "
            "exact command (inline code, shells, wrappers), or a script or module runs for "
            "the first time"
        )


def _program(argv: list[str]) -> str:
    name = os.path.basename(argv[0])
    return f"{name} -c/-e" if any(w in ("-c", "-e") for w in argv[1:3]) else name


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workload", default=DEFAULT)
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument(
        "--why", action="store_true", help="break the last 10,000 lines' reviews down by cause"
    )
    opts = parser.parse_args()
    if not os.path.exists(opts.workload):
        sys.exit(f"workload not found: {opts.workload}")
    work = tempfile.mkdtemp(prefix="guard-learning-")
    os.environ["GUARD_CACHE_DIR"] = os.path.join(work, "cache")
    empty = os.path.join(work, "empty.toml")
    open(empty, "w").close()
    os.environ["GUARD_POLICY"] = empty  # the built-in catalogue alone
    from expacti_cli import check, policy, prompt

    pol = policy.load()
    rows = []
    with open(opts.workload, encoding="utf-8") as f:
        for line in f:
            rows.append(json.loads(line))
            if opts.limit and len(rows) >= opts.limit:
                break
    learned = Learned(pol)
    reviewed = [False] * len(rows)
    slipped: list[tuple[int, str, list[str]]] = []
    offered = approved_once = 0
    kinds: collections.Counter[str] = collections.Counter()
    why = Why(pol) if opts.why else None
    blind: list[str] = []
    window_start = max(len(rows) - 10_000, 0)
    started = time.perf_counter()
    for i, row in enumerate(rows):
        agent = row.get("agent") or "anonymous"
        decision = check.check(pol, line=row["cmd"], agent=agent)
        final, used = decision.verdict, learned.used(decision)
        dangerous = bool(row.get("dangerous_guess"))
        if final == "allow":
            if used and dangerous:
                slipped.append((i, row["cmd"], used))
            continue
        if final == "deny":
            continue
        reviewed[i] = True
        if why is not None and i >= window_start:
            why.add(decision, row["cmd"], dangerous)
        if dangerous:
            continue  # the reviewer denies it
        suggestions = prompt.remember_suggestions(pol, decision, [], agent)
        if not suggestions:
            approved_once += 1
            continue
        offered += 1
        for _argv, pattern in suggestions:
            learned.add(agent, pattern)
            kinds[pattern.split()[0]] += 1
        again = check.check(pol, line=row["cmd"], agent=agent)
        still = {tuple(p.argv): p.reason for p in again.parts or [again] if p.verdict != "allow"}
        # guard proposed a rule that does not allow the part it was offered for
        blind += [f"{p} ({still[tuple(a)]})" for a, p in suggestions if tuple(a) in still]
    elapsed = time.perf_counter() - started
    if blind and len(blind) * 2 > offered:
        sys.exit(
            f"{len(blind)} of {offered} suggestions allowed nothing once learned: the learned "
            "rules do not reach the policy in memory (Learned.add follows Policy's rule lists)"
        )
    if blind:
        print(f"suggestions that do not match the command they were offered for: {len(blind)}")
        for pattern in blind[:5]:
            print(f"  {pattern[-160:]!r}")
    report(rows, reviewed, learned, slipped, offered, approved_once, kinds, elapsed)
    if why is not None:
        why.report(len(rows) - window_start)
    final_check(rows, learned, work)


def report(
    rows: list[dict[str, object]],
    reviewed: list[bool],
    learned: Learned,
    slipped: list[tuple[int, str, list[str]]],
    offered: int,
    approved_once: int,
    kinds: collections.Counter[str],
    elapsed: float,
) -> None:
    n, total = len(rows), sum(reviewed)
    print(f"lines: {n}, replayed in {elapsed:.1f}s; reviews: {total} ({total / n:.1%})")
    print("review burden per 1,000 lines:")
    for start in range(0, n, 1000):
        block = reviewed[start : start + 1000]
        print(f"  {start + 1:>6}-{start + len(block):<6} {sum(block) / len(block):6.1%}")
    last = reviewed[-10_000:]
    burden = sum(last) / max(len(last), 1)
    mark = "ok" if burden <= TARGET_BURDEN else "ABOVE TARGET"
    print(f"burden over the last {len(last):,} lines: {burden:.1%} (target <= 10%: {mark})")
    print(
        f"rules learned: {learned.count} (remember offered and taken {offered} times; "
        f"approved once where remember is not offered: {approved_once})"
    )
    print("  most learned programs: " + ", ".join(f"{k} {v}" for k, v in kinds.most_common(12)))
    print(f"dangerous lines auto-allowed by a learned rule during the replay: {len(slipped)}")
    for i, cmd, used in slipped[:10]:
        print(f"  line {i + 1}: {cmd[:120]!r} via {used}")


def final_check(rows: list[dict[str, object]], learned: Learned, work: str) -> None:
    """Every learned rule in a real policy file; every dangerous line decided by guard."""
    import tomli_w

    from expacti_cli import check, policy
    from expacti_cli.remember import escape_glob

    rules = [
        {"id": f"learned-{n}", "match": pattern, "agents": [escape_glob(agent)]}
        for n, (agent, pattern) in enumerate(learned.seen)
    ]
    path = os.path.join(work, "learned.toml")
    with open(path, "wb") as f:
        f.write(tomli_w.dumps({"allow": rules}).encode())
    pol = policy.load(path)
    ids = {r["id"] for r in rules}
    through = []
    for row in rows:
        if not row.get("dangerous_guess"):
            continue
        d = check.check(pol, line=str(row["cmd"]), agent=str(row.get("agent") or "anonymous"))
        parts = d.parts or [d]
        if d.verdict == "allow" and any(p.rule in ids for p in parts):
            through.append(row["cmd"])
    dangerous = sum(1 for r in rows if r.get("dangerous_guess"))
    print(
        f"final check, real engine, {len(rules)} learned rules: dangerous lines auto-allowed by "
        f"a learned rule: {len(through)} of {dangerous}"
    )
    for cmd in through[:10]:
        print(f"  ALLOWED: {str(cmd)[:120]!r}")


if __name__ == "__main__":
    main()
