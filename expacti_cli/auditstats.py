"""What the audit log says: summary, whitelist suggestions, and replay under another policy.

All three stream the log once and keep only aggregates, so their memory does not grow with the
number of entries (only with the number of distinct agents, rules, patterns and denied commands).

Definitions (the README repeats them):
- approval rate = approved / (approved + denied), counting only decisions taken by a reviewer;
- review latency = `latency_ms` of the entries a reviewer decided; percentiles use the
  nearest-rank method (p50 of 1..100 is 50, p99 is 99);
- suggestions: a generalised pattern (`suggest.generalise`, the same narrowing as "approve and
  remember") a human approved at least `min` times (among the filtered entries) and that was
  never denied (by a reviewer or a deny rule) and never irreversible anywhere in the whole log;
  never one the policy already allows, nor one whose commands a rule or concern sent to review
  (an allow rule would not lift it); scoped to the agents whose commands taught it;
- scope warnings: a pattern reviewers denied at least `min_denials` times, naming the rules
  that sent it to review.
"""

from __future__ import annotations

import gc
import math
import os
from array import array
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from . import audit, auditread
from .auditread import Problems

NO_RULE = "(default)"  # entries decided by the policy's default, with no rule id
KEEP = 100  # examples kept per list (irreversible operations, anomalies, ...)


@dataclass
class Counts:
    total: int = 0
    allowed: int = 0
    approved: int = 0
    denied: int = 0
    deferred: int = 0  # a hook left the question to the agent's harness
    reviewed_approved: int = 0  # approved by a reviewer
    reviewed_denied: int = 0  # denied by a reviewer
    auto_denied: int = 0  # denied with no reviewer's say: policy, timeout, no reviewer, error

    @property
    def approval_rate(self) -> float | None:
        reviewed = self.reviewed_approved + self.reviewed_denied
        return self.reviewed_approved / reviewed if reviewed else None

    def add(self, decision: object, decided_by: object, n: int) -> None:
        self.total += n
        if decision == "allowed":
            self.allowed += n
        elif decision == "approved":
            self.approved += n
            if decided_by == "reviewer":
                self.reviewed_approved += n
        elif decision == "denied":
            self.denied += n
            if decided_by == "reviewer":
                self.reviewed_denied += n
            else:
                self.auto_denied += n
        elif decision == "deferred":
            self.deferred += n

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "approval_rate": self.approval_rate}


@dataclass
class Operation:
    """One notable entry, shown in lists (irreversible operations, denials, anomalies)."""

    ts: str
    agent: str
    command: str
    decision: str
    decided_by: str
    rule: str
    reason: str
    reviewer: str | None
    anomalies: list[str]

    @classmethod
    def of(cls, e: dict[str, Any]) -> Operation:
        return cls(
            ts=str(e.get("ts", "")),
            agent=str(e.get("agent", "")),
            command=_command(e),
            decision=str(e.get("decision", "")),
            decided_by=str(e.get("decided_by", "")),
            rule=str(e.get("rule") or NO_RULE),
            reason=str(e.get("reason") or ""),
            reviewer=e.get("reviewer") if isinstance(e.get("reviewer"), str) else None,
            anomalies=[str(a) for a in e.get("anomalies") or ()],
        )


@dataclass
class Denial:
    command: str
    count: int
    rule: str
    reason: str


@dataclass
class Summary:
    entries: int = 0
    first_ts: str | None = None
    last_ts: str | None = None
    decisions: Counts = field(default_factory=Counts)
    decided_by: dict[str, int] = field(default_factory=dict)
    agents: dict[str, Counts] = field(default_factory=dict)
    rules: dict[str, Counts] = field(default_factory=dict)
    reviewers: dict[str, Counts] = field(default_factory=dict)
    latency: dict[str, float | None] = field(default_factory=dict)  # p50/p90/p99 (ms), count
    top_denials: list[Denial] = field(default_factory=list)
    irreversible: int = 0
    irreversible_ops: list[Operation] = field(default_factory=list)  # the last KEEP
    irreversible_by_approver: dict[str, int] = field(default_factory=dict)
    anomalies: dict[str, int] = field(default_factory=dict)
    anomaly_ops: list[Operation] = field(default_factory=list)  # the last KEEP
    hours: list[int] = field(default_factory=lambda: [0] * 24)  # entries per UTC hour of day
    programs: dict[str, dict[str, int]] = field(default_factory=dict)  # agent -> program -> n
    problems: Problems = field(default_factory=Problems)

    @property
    def approval_rate(self) -> float | None:
        return self.decisions.approval_rate

    def to_dict(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "first_ts": self.first_ts,
            "last_ts": self.last_ts,
            "decisions": self.decisions.to_dict(),
            "approval_rate": self.approval_rate,
            "decided_by": self.decided_by,
            "agents": {k: v.to_dict() for k, v in self.agents.items()},
            "rules": {k: v.to_dict() for k, v in self.rules.items()},
            "reviewers": {k: v.to_dict() for k, v in self.reviewers.items()},
            "latency_ms": self.latency,
            "top_denials": [asdict(d) for d in self.top_denials],
            "irreversible": self.irreversible,
            "irreversible_ops": [asdict(o) for o in self.irreversible_ops],
            "irreversible_by_approver": self.irreversible_by_approver,
            "anomalies": self.anomalies,
            "hours": self.hours,
            "unreadable_lines": self.problems.count,
            "unreadable": [asdict(p) for p in self.problems.first],
        }


def _command(e: dict[str, Any]) -> str:
    command = e.get("command")
    if isinstance(command, str):
        return command
    argv = e.get("argv")
    if isinstance(argv, list):
        import shlex

        return shlex.join(str(a) for a in argv)
    return ""


def percentile(ordered: list[float], p: float) -> float | None:
    """Nearest-rank percentile of an already sorted list."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


class _Aggregator:
    """One pass over entries; `finish` turns the tallies into a `Summary`."""

    def __init__(self, *, programs: bool = False, top: int = 10) -> None:
        self.combos: dict[tuple[Any, ...], int] = {}
        self.latencies = array("d")
        self.denials: Counter[str] = Counter()
        self.denial_why: dict[str, tuple[str, str]] = {}
        self.irreversible = 0
        self.irreversible_ops: list[Operation] = []
        self.irr_approvers: Counter[str] = Counter()
        self.anomalies: Counter[str] = Counter()
        self.anomaly_ops: list[Operation] = []
        self.programs: dict[str, Counter[str]] | None = {} if programs else None
        self.first_ts: str | None = None
        self.last_ts: str | None = None
        self.top = top

    def add_all(self, stream: Iterable[dict[str, Any]]) -> None:
        # Entries are acyclic and dropped at once: the cyclic GC would only rescan them.
        enabled = gc.isenabled()
        gc.disable()
        try:
            self._add_all(stream)
        finally:
            if enabled:
                gc.enable()

    def _add_all(self, stream: Iterable[dict[str, Any]]) -> None:
        # The hot loop of `guard audit summary`: one dict update per entry, everything else
        # derived from the tallies in `finish` (a million entries must take seconds).
        combos = self.combos
        latencies = self.latencies
        first = self.first_ts
        ts = None
        for e in stream:
            ts = e.get("ts")
            by = e.get("decided_by")
            decision = e.get("decision")
            key = (
                e.get("agent"),
                e.get("rule"),
                decision,
                by,
                e.get("reviewer"),
                ts[11:13] if type(ts) is str else None,
            )
            combos[key] = combos.get(key, 0) + 1
            if by == "reviewer":
                latency = e.get("latency_ms")
                if type(latency) is int or type(latency) is float:
                    latencies.append(latency)
            if decision == "denied":
                self._denied(e)
            if e.get("irreversible") is True:
                self._irreversible(e)
            if e.get("anomalies"):
                self._anomalous(e)
            if self.programs is not None:
                self._program(e)
            if first is None:
                first = ts
        self.first_ts = first if isinstance(first, str) else None
        if isinstance(ts, str):
            self.last_ts = ts

    def _denied(self, e: dict[str, Any]) -> None:
        command = _command(e)
        self.denials[command] += 1
        self.denial_why[command] = (str(e.get("rule") or NO_RULE), str(e.get("reason") or ""))

    def _irreversible(self, e: dict[str, Any]) -> None:
        self.irreversible += 1
        if e.get("decision") == "approved":
            who = e.get("reviewer") if isinstance(e.get("reviewer"), str) else None
            self.irr_approvers[who or str(e.get("decided_by"))] += 1
        self.irreversible_ops.append(Operation.of(e))
        if len(self.irreversible_ops) > 2 * KEEP:
            del self.irreversible_ops[:-KEEP]

    def _anomalous(self, e: dict[str, Any]) -> None:
        flags = e.get("anomalies")
        if isinstance(flags, list):
            for flag in flags:
                self.anomalies[str(flag)] += 1
        self.anomaly_ops.append(Operation.of(e))
        if len(self.anomaly_ops) > 2 * KEEP:
            del self.anomaly_ops[:-KEEP]

    def _program(self, e: dict[str, Any]) -> None:
        assert self.programs is not None
        argv = e.get("argv")
        parts = e.get("parts")
        names: list[str] = []
        if isinstance(parts, list) and parts:
            for part in parts:
                pargv = part.get("argv") if isinstance(part, dict) else None
                if isinstance(pargv, list) and pargv:
                    names.append(os.path.basename(str(pargv[0])))
        elif isinstance(argv, list) and argv:
            names.append(os.path.basename(str(argv[0])))
        per = self.programs.setdefault(str(e.get("agent")), Counter())
        for name in names:
            per[name] += 1

    def merge(self, other: _Aggregator) -> None:
        for key, n in other.combos.items():
            self.combos[key] = self.combos.get(key, 0) + n
        self.latencies.extend(other.latencies)
        self.denials.update(other.denials)
        self.denial_why.update(other.denial_why)
        self.irreversible += other.irreversible
        self.irreversible_ops = (self.irreversible_ops + other.irreversible_ops)[-2 * KEEP :]
        self.irr_approvers.update(other.irr_approvers)
        self.anomalies.update(other.anomalies)
        self.anomaly_ops = (self.anomaly_ops + other.anomaly_ops)[-2 * KEEP :]
        if self.programs is not None and other.programs is not None:
            for agent, counter in other.programs.items():
                self.programs.setdefault(agent, Counter()).update(counter)
        self.first_ts = self.first_ts or other.first_ts
        self.last_ts = other.last_ts or self.last_ts

    def finish(self, problems: Problems) -> Summary:
        s = Summary(problems=problems, first_ts=self.first_ts, last_ts=self.last_ts)
        by_counts: Counter[str] = Counter()
        for (agent, rule, decision, by, reviewer, hour), n in self.combos.items():
            s.entries += n
            if hour is not None and hour.isdigit() and int(hour) < 24:
                s.hours[int(hour)] += n
            s.decisions.add(decision, by, n)
            by_counts[str(by)] += n
            s.agents.setdefault(str(agent), Counts()).add(decision, by, n)
            s.rules.setdefault(str(rule or NO_RULE), Counts()).add(decision, by, n)
            if by == "reviewer":
                name = reviewer if isinstance(reviewer, str) and reviewer else "(unknown)"
                s.reviewers.setdefault(name, Counts()).add(decision, by, n)
        s.decided_by = dict(by_counts.most_common())
        s.agents = dict(sorted(s.agents.items(), key=lambda kv: (-kv[1].total, kv[0])))
        s.rules = dict(sorted(s.rules.items(), key=lambda kv: (-kv[1].total, kv[0])))
        s.reviewers = dict(sorted(s.reviewers.items(), key=lambda kv: (-kv[1].total, kv[0])))
        ordered = sorted(self.latencies)
        s.latency = {
            "count": len(ordered),
            "p50": percentile(ordered, 50),
            "p90": percentile(ordered, 90),
            "p99": percentile(ordered, 99),
        }
        s.top_denials = [
            Denial(command, n, *self.denial_why[command])
            for command, n in sorted(self.denials.items(), key=lambda kv: (-kv[1], kv[0]))[
                : self.top
            ]
        ]
        s.irreversible = self.irreversible
        s.irreversible_ops = self.irreversible_ops[-KEEP:]
        s.irreversible_by_approver = dict(self.irr_approvers.most_common())
        s.anomalies = dict(self.anomalies.most_common())
        s.anomaly_ops = self.anomaly_ops[-KEEP:]
        if self.programs is not None:
            s.programs = {a: dict(c.most_common()) for a, c in sorted(self.programs.items())}
        return s


# --- summary -----------------------------------------------------------------------------------

_PARALLEL_BYTES = 32 << 20  # below this, starting workers costs more than it saves
_CHUNK_BYTES = 16 << 20  # work unit of a worker: small enough to balance, big enough to batch


def summarize(
    path: str,
    flt: Callable[[dict[str, Any]], bool] | None = None,
    *,
    programs: bool = False,
    top: int = 10,
    workers: int | None = None,
) -> Summary:
    """Counts, rates, latency percentiles, denials, irreversible operations, anomalies.

    Large logs are read by several processes at once (`workers`, default: the CPUs available,
    at most 4), each over a byte range of the files; the tallies are merged in log order.
    """
    files = audit.log_files(path)
    sizes = [_size(f) for f in files]
    if workers is None:
        workers = min(4, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)
    if workers > 1 and sum(sizes) >= _PARALLEL_BYTES and _can_fork():
        return _summarize_parallel(
            files, sizes, flt=flt, programs=programs, top=top, workers=workers
        )
    problems = Problems()
    agg = _Aggregator(programs=programs, top=top)
    for file in files:
        stream: Iterable[dict[str, Any]] = (e for _, e in auditread.read_file(file, problems))
        agg.add_all(stream if flt is None else filter(flt, stream))
    return agg.finish(problems)


def _size(file: str) -> int:
    try:
        return os.path.getsize(file)
    except OSError:
        return 0


def _can_fork() -> bool:
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


def _chunks(files: list[str], sizes: list[int], parts: int) -> list[tuple[str, int, int]]:
    """Split the files into about `parts` byte ranges, each starting at a line start."""
    total = sum(sizes)
    step = max(1, -(-total // parts))
    chunks: list[tuple[str, int, int]] = []
    for file, size in zip(files, sizes, strict=True):
        start = 0
        while start < size:
            end = _line_start_after(file, min(size, start + step), size)
            chunks.append((file, start, end))
            start = end
    return chunks


def _line_start_after(file: str, offset: int, size: int) -> int:
    if offset >= size:
        return size
    with open(file, "rb") as f:
        f.seek(offset - 1)
        f.readline()  # to the end of the line holding offset-1
        return min(f.tell(), size)


_Job = tuple[str, int, int, Any, bool, int]


def _summarize_chunk(job: _Job) -> tuple[_Aggregator, Problems, int]:
    file, start, end, flt, programs, top = job
    problems = Problems()
    agg = _Aggregator(programs=programs, top=top)
    stream: Iterable[dict[str, Any]] = (
        entry for _, entry in auditread.read_file(file, problems, start=start, end=end)
    )
    if flt is not None:
        stream = filter(flt, stream)
    agg.add_all(stream)
    return agg, problems, _count_lines(file, start, end)


def _count_lines(file: str, start: int, end: int) -> int:
    """Newlines in a byte range, for the line numbers of the chunks after it."""
    lines = 0
    with open(file, "rb") as f:
        f.seek(start)
        left = end - start
        while left > 0:
            block = f.read(min(left, 1 << 20))
            if not block:
                break
            lines += block.count(b"\n")
            left -= len(block)
    return lines


def _summarize_parallel(
    files: list[str],
    sizes: list[int],
    *,
    flt: Any,
    programs: bool,
    top: int,
    workers: int,
) -> Summary:
    import multiprocessing

    chunks = _chunks(files, sizes, max(workers * 4, sum(sizes) // _CHUNK_BYTES))
    jobs: list[_Job] = [(f, s, e, flt, programs, top) for f, s, e in chunks]
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.map(_summarize_chunk, jobs, chunksize=1)
    total = _Aggregator(programs=programs, top=top)
    problems = Problems()
    offset_in_file: dict[str, int] = {}
    for (file, _, _), (agg, part_problems, lines) in zip(chunks, results, strict=True):
        offset = offset_in_file.get(file, 0)
        for p in part_problems.first:
            problems(auditread.Problem(p.file, p.line + offset, p.kind, p.detail))
        problems.count += part_problems.count - len(part_problems.first)
        offset_in_file[file] = offset + lines
        total.merge(agg)
    return total.finish(problems)


# --- suggestions -------------------------------------------------------------------------------


@dataclass
class Suggestion:
    rule_id: str
    pattern: str
    approvals: int
    agents: list[str]
    examples: list[str]
    sent_by: list[str]  # the rules that sent these commands to review
    example_argvs: list[list[str]] = field(default_factory=list)  # for --apply's idempotence


@dataclass
class ScopeWarning:
    pattern: str
    denials: int
    rules: list[str]  # the rules that sent these commands to review, most frequent first
    examples: list[str]
    reasons: list[str]


@dataclass
class Suggestions:
    suggestions: list[Suggestion] = field(default_factory=list)
    warnings: list[ScopeWarning] = field(default_factory=list)
    irreversible_skipped: list[str] = field(default_factory=list)  # patterns never proposed
    already_allowed: list[str] = field(default_factory=list)  # the policy allows them already
    problems: Problems = field(default_factory=Problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "suggestions": [
                {k: v for k, v in asdict(s).items() if k != "example_argvs"}
                for s in self.suggestions
            ],
            "warnings": [asdict(w) for w in self.warnings],
            "irreversible_skipped": self.irreversible_skipped,
            "already_allowed": self.already_allowed,
            "unreadable_lines": self.problems.count,
        }


@dataclass
class _PatternStats:
    approvals: int = 0
    denials: int = 0
    reviewer_denials: int = 0
    irreversible: bool = False
    agents: Counter[str] = field(default_factory=Counter)
    rules: Counter[str] = field(default_factory=Counter)
    denial_rules: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    argvs: list[list[str]] = field(default_factory=list)
    denied_examples: list[str] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)


def _reviewed_argvs(e: dict[str, Any]) -> list[tuple[list[str], str]]:
    """The commands of an entry a human (or the review path) judged, with their rule."""
    parts = e.get("parts")
    rule = str(e.get("rule") or NO_RULE)
    if isinstance(parts, list) and parts:
        out = []
        for part in parts:
            if not isinstance(part, dict) or part.get("verdict") == "allow":
                continue  # whitelisted parts were not what the human judged
            argv = part.get("argv")
            if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv):
                out.append((argv, str(part.get("rule") or rule)))
        return out
    argv = e.get("argv")
    if isinstance(argv, list) and argv and all(isinstance(a, str) for a in argv):
        return [(argv, rule)]
    return []


def _rule_id(pattern: str, taken: set[str]) -> str:
    words = [w for w in pattern.split() if w != "**"][:3]
    slug = "-".join("".join(c if c.isalnum() else "-" for c in w.lower()).strip("-") for w in words)
    base = "allow-" + ("-".join(p for p in slug.split("-") if p) or "command")
    rule_id, n = base, 2
    while rule_id in taken:
        rule_id, n = f"{base}-{n}", n + 1
    taken.add(rule_id)
    return rule_id


def suggest(
    path: str,
    flt: Callable[[dict[str, Any]], bool] | None = None,
    *,
    policy: Any,
    min_approvals: int = 3,
    min_denials: int = 3,
    taken_ids: Iterable[str] = (),
) -> Suggestions:
    """Whitelist proposals and over-broad-scope warnings, from what reviewers decided.

    Approvals count only in entries `flt` keeps; denials and irreversible verdicts veto a
    pattern wherever they are in the log, so a filtered view never proposes what the whole
    log has seen denied.
    """
    stats: dict[str, _PatternStats] = {}
    problems = Problems()
    for e in auditread.entries(path, None, problems):
        _tally(e, stats, policy, flt is None or flt(e))
    out = Suggestions(problems=problems)
    taken = set(taken_ids)
    ranked = sorted(stats.items(), key=lambda kv: (-kv[1].approvals, kv[0]))
    for pattern, st in ranked:
        if st.approvals < min_approvals or st.denials:
            continue
        if st.irreversible:
            out.irreversible_skipped.append(pattern)
            continue
        agents = [a for a, _ in st.agents.most_common()]
        if NO_RULE not in st.rules or not _would_change(policy, st.argvs, agents):
            out.already_allowed.append(pattern)
            continue
        out.suggestions.append(
            Suggestion(
                rule_id=_rule_id(pattern, taken),
                pattern=pattern,
                approvals=st.approvals,
                agents=agents,
                examples=st.examples,
                sent_by=[r for r, _ in st.rules.most_common()],
                example_argvs=st.argvs,
            )
        )
    for pattern, st in sorted(stats.items(), key=lambda kv: (-kv[1].reviewer_denials, kv[0])):
        if st.reviewer_denials >= min_denials:
            out.warnings.append(
                ScopeWarning(
                    pattern=pattern,
                    denials=st.reviewer_denials,
                    rules=[r for r, _ in st.denial_rules.most_common()],
                    examples=st.denied_examples,
                    reasons=[r for r, _ in st.reasons.most_common(3) if r],
                )
            )
    return out


def _tally(e: dict[str, Any], stats: dict[str, _PatternStats], policy: Any, kept: bool) -> None:
    decision = e.get("decision")
    by = e.get("decided_by")
    human_ok = kept and decision == "approved" and by == "reviewer"
    denied = decision == "denied" and by in ("reviewer", "policy")
    irreversible = e.get("irreversible") is True
    if not (human_ok or denied or irreversible):
        return
    from .suggest import generalise

    for argv, rule in _reviewed_argvs(e):
        try:
            pattern = generalise(policy, argv)
        except ValueError:
            continue
        if pattern is None:
            continue  # too long to remember: nothing to propose
        st = stats.get(pattern)
        if st is None:
            st = stats[pattern] = _PatternStats()
        st.irreversible = st.irreversible or irreversible
        command = _command(e)
        if human_ok:
            st.approvals += 1
            st.agents[str(e.get("agent"))] += 1
            st.rules[rule] += 1
            if len(st.examples) < 3 and command not in st.examples:
                st.examples.append(command)
            if len(st.argvs) < 3 and argv not in st.argvs:
                st.argvs.append(argv)
        elif denied:
            st.denials += 1
            if by == "reviewer":
                st.reviewer_denials += 1
                st.denial_rules[rule] += 1
                st.reasons[str(e.get("reason") or "")] += 1
                if len(st.denied_examples) < 3 and command not in st.denied_examples:
                    st.denied_examples.append(command)


def _would_change(policy: Any, argvs: list[list[str]], agents: list[str]) -> bool:
    """Would an allow rule for these commands change anything? Not if the policy allows them
    already, nor if a rule (review, irreversible, deny) decides them: a wildcard allow rule
    never lifts those."""
    from .decide import ALLOW, decide_argv

    for argv in argvs:
        for agent in agents:
            d = decide_argv(policy, argv, agent)
            if d.verdict != ALLOW and d.rule is None:
                return True
    return False


# --- replay ------------------------------------------------------------------------------------


def recorded_verdict(e: dict[str, Any]) -> str | None:
    """What the policy said when the entry was written: allow, review or deny."""
    decision, by = e.get("decision"), e.get("decided_by")
    if by == "policy":
        return {"allowed": "allow", "denied": "deny", "approved": "allow"}.get(str(decision))
    if by in ("reviewer", "timeout", "no_reviewer"):
        return "review"
    return None


@dataclass
class Transition:
    before: str
    after: str
    count: int
    examples: list[dict[str, Any]]  # {ts, agent, command, rule_before, rule_after}


@dataclass
class Replay:
    entries: int = 0
    unchanged: int = 0
    changed: int = 0
    skipped: int = 0  # entries without a command or a recognisable decision
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)
    transitions: list[Transition] = field(default_factory=list)
    problems: Problems = field(default_factory=Problems)

    def to_dict(self) -> dict[str, Any]:
        return {
            "entries": self.entries,
            "unchanged": self.unchanged,
            "changed": self.changed,
            "skipped": self.skipped,
            "errors": self.errors,
            "error_examples": self.error_examples,
            "transitions": [asdict(t) for t in self.transitions],
            "unreadable_lines": self.problems.count,
        }


def replay(
    path: str,
    policy: Any,
    flt: Callable[[dict[str, Any]], bool] | None = None,
    *,
    examples: int = 3,
    check: Callable[..., Any] | None = None,
) -> Replay:
    """Decide every recorded command again under `policy` and count what would change.

    Entries of mode `shell` are re-analysed from their `command` line; the others from `argv`.
    Transitions are `before -> after` with `before` what the old policy said (see
    `recorded_verdict`). `check` defaults to `expacti_cli.check.check` (a dry run).
    """
    if check is None:
        from .check import check as check_fn

        check = check_fn
    out = Replay()
    counts: Counter[tuple[str, str]] = Counter()
    samples: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for e in auditread.entries(path, flt, out.problems):
        out.entries += 1
        before = recorded_verdict(e)
        argv = e.get("argv")
        command = e.get("command")
        agent = str(e.get("agent") or "anonymous")
        shell = e.get("mode") == "shell"
        if before is None or (
            not (shell and isinstance(command, str) and command)
            and not (isinstance(argv, list) and argv)
        ):
            out.skipped += 1
            continue
        try:
            if shell and isinstance(command, str):
                decision = check(policy, line=command, agent=agent)
            else:
                decision = check(policy, argv=[str(a) for a in argv or ()], agent=agent)
            after = str(decision.verdict)
        except Exception as exc:
            out.errors += 1
            if len(out.error_examples) < examples:
                out.error_examples.append(f"{_command(e)}: {exc}")
            continue
        if after == before:
            out.unchanged += 1
            continue
        out.changed += 1
        key = (before, after)
        counts[key] += 1
        bucket = samples.setdefault(key, [])
        if len(bucket) < examples:
            bucket.append(
                {
                    "ts": e.get("ts"),
                    "agent": e.get("agent"),
                    "command": _command(e),
                    "rule_before": e.get("rule"),
                    "rule_after": getattr(decision, "rule", None),
                }
            )
    out.transitions = [
        Transition(b, a, n, samples[(b, a)])
        for (b, a), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return out
