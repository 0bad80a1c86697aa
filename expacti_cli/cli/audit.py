"""`guard audit`: list, verify, summarise, suggest, replay and report. Thin over the core.

The core (`auditread`, `auditverify`, `auditstats`, `auditreport`) returns plain results; this
module parses options, calls it, and renders with rich (imported inside the functions that draw)
or as JSON/CSV. Errors are `GuardError`s, turned into exit statuses by the main command.
"""

from __future__ import annotations

import csv
import json
import os
import sys
from typing import Any

import click

from .. import auditread, paths
from ..errors import AuditDataError, UsageError
from . import audit_log_option

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 80}  # as cli.CONTEXT
_DECISION_STYLE = {
    "allowed": "green",
    "approved": "cyan",
    "denied": "bold red",
    "deferred": "yellow",
}
LIST_CHARS = 300  # a listing shows at most this much of a command; --json shows it all
CSV_FIELDS = [
    "ts",
    "id",
    "agent",
    "session",
    "user",
    "host",
    "cwd",
    "mode",
    "decision",
    "decided_by",
    "rule",
    "reason",
    "irreversible",
    "anomalies",
    "reviewer",
    "latency_ms",
    "command",
]


# --- shared options ----------------------------------------------------------------------------


_FILTERS = [
    click.option("--agent", help="Only this agent (glob)."),
    click.option("--session", help="Only this session (glob)."),
    click.option(
        "--decision",
        type=click.Choice(auditread.DECISIONS),
        help="Only entries with this decision.",
    ),
    click.option("--rule", help="Only entries decided by this rule id (glob)."),
    click.option("--irreversible", is_flag=True, default=None, help="Only irreversible ones."),
    click.option("--since", metavar="WHEN", help="From WHEN: 30m, 2h, 7d ago, or an ISO date."),
    click.option("--until", metavar="WHEN", help="Before WHEN (same forms as --since)."),
    click.option("--grep", metavar="TEXT", help="Only commands containing TEXT (any case)."),
]


def _filter_options(f: Any) -> Any:
    for option in reversed(_FILTERS):
        f = option(f)
    return f


def _filter(opts: dict[str, Any]) -> auditread.Filter:
    return auditread.Filter.from_options(
        agent=opts.get("agent"),
        session=opts.get("session"),
        decision=opts.get("decision"),
        rule=opts.get("rule"),
        irreversible=opts.get("irreversible") or None,
        since=opts.get("since"),
        until=opts.get("until"),
        grep=opts.get("grep"),
    )


def _log_path(ctx: click.Context, given: str | None) -> str:
    if given:
        return given
    obj = ctx.obj
    if isinstance(obj, dict) and obj.get("audit_log"):
        return str(obj["audit_log"])
    return paths.audit_log()


def _require_log(path: str) -> None:
    from .. import audit as audit_mod

    if not audit_mod.log_files(path):
        raise AuditDataError(f"audit: no audit log at {path}")


def _warn_problems(problems: auditread.Problems) -> None:
    if not problems.count:
        return
    first = problems.first[0]
    more = f" (and {problems.count - 1} more)" if problems.count > 1 else ""
    click.echo(
        f"guard: audit: {problems.count} unreadable line(s) skipped: "
        f"{first.file}:{first.line}: {first.detail}{more}",
        err=True,
    )


def _safe(text: object) -> str:
    """Text from the log, with control characters shown as escapes: an agent must not be able
    to move the cursor or recolour the terminal of whoever reads the log."""
    s = "" if text is None else str(text)
    if s.isprintable():
        return s
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)


def _console(stderr: bool = False) -> Any:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _bar(value: int, maximum: int, width: int = 20) -> str:
    if maximum <= 0:
        return ""
    filled = round(width * value / maximum)
    return "█" * filled + "·" * (width - filled)


# --- guard audit (list) ------------------------------------------------------------------------


@click.group(
    "audit",
    invoke_without_command=True,
    context_settings=CONTEXT,
    epilog="Subcommands: verify, summary, suggest, replay, report.",
)
@audit_log_option
@_filter_options
@click.option("-n", "--limit", default=20, show_default=True, help="Show the last N (0: all).")
@click.option("--json", "fmt", flag_value="json", help="JSON lines, one entry each.")
@click.option("--csv", "fmt", flag_value="csv", help="CSV with a header row.")
@click.option("-f", "--follow", is_flag=True, help="Then keep printing new entries.")
@click.pass_context
def audit(
    ctx: click.Context,
    /,
    audit_path: str | None,
    limit: int,
    fmt: str | None,
    follow: bool,
    **filters: Any,
) -> None:
    """Read the audit log: the last entries, or a subcommand.

    \b
    guard audit --agent claude-code --since 2h
    guard audit --decision denied --json
    guard audit verify
    guard audit summary
    """
    ctx.obj = {"audit_log": audit_path}
    if ctx.invoked_subcommand is not None:
        return
    if limit < 0:
        raise UsageError(f"invalid --limit {limit}: give 0 (all) or more")
    path = _log_path(ctx, audit_path)
    flt = _filter(filters)
    if not follow:
        _require_log(path)
    problems = auditread.Problems()
    source: Any = (
        auditread.tail(path, limit, flt, problems)
        if limit
        else auditread.read_log(path, flt, problems)  # streamed: --limit 0 exports everything
    )
    if fmt == "json":
        _print_json_lines(source)
    elif fmt == "csv":
        _print_csv(source)
    else:
        _print_table(list(source), path)
    _warn_problems(problems)
    if follow:
        _follow(path, flt, fmt)


def _print_json_lines(records: Any) -> None:
    out = sys.stdout
    for record in records:
        out.write(json.dumps(record.entry, separators=(",", ":")) + "\n")
    out.flush()


def _csv_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = ";".join(str(v) for v in value)
    text = _safe(value)
    # A cell starting with = + - @ runs as a formula in spreadsheets (CSV injection): an agent
    # chooses its commands, so neutralise them with a leading apostrophe (OWASP's advice).
    if text[:1] in ("=", "+", "-", "@"):
        text = "'" + text
    return text


def _print_csv(records: Any, header: bool = True) -> None:
    writer = csv.writer(sys.stdout, lineterminator="\n")
    if header:
        writer.writerow(CSV_FIELDS)
    for record in records:
        writer.writerow([_csv_cell(record.entry.get(k)) for k in CSV_FIELDS])


def _print_table(records: list[auditread.Record], path: str) -> None:
    """The command first (it matters most, and folds onto more lines at 80 columns), then
    who decided, the agent, the time. A command longer than LIST_CHARS is shortened here only,
    with a marker saying how much is left out; --json and --csv always give it whole."""
    from rich.table import Table
    from rich.text import Text

    console = _console()
    if not records:
        console.print(Text(f"no matching entries in {path}"))
        return
    table = Table(box=None, header_style="bold", pad_edge=False, expand=False)
    table.add_column("command", overflow="fold", ratio=3)  # never cut by the table: folded
    table.add_column("decision", overflow="fold", ratio=1, min_width=8)
    table.add_column("agent", overflow="fold", ratio=1)
    table.add_column("time (UTC)", overflow="fold", min_width=8)
    for record in records:
        e = record.entry
        decision = str(e.get("decision", ""))
        command = listed(e.get("command", ""))
        if e.get("irreversible"):
            command = Text("IRREVERSIBLE ", style="bold magenta") + command
        by = e.get("reviewer") or e.get("decided_by") or ""
        verdict = Text(decision, style=_DECISION_STYLE.get(decision, ""))
        verdict.append(f"\n{_safe(by)}" if by else "", style="dim")
        rule = e.get("rule")
        if rule:
            verdict.append(f"\n{_safe(rule)}", style="dim")
        stamp = _safe(e.get("ts", ""))
        table.add_row(command, verdict, Text(_safe(e.get("agent", ""))), Text(stamp[11:19]))
    console.print(table)


def listed(command: object) -> Any:
    """A command as a listing shows it: escaped, and shortened past LIST_CHARS with a visible
    marker (never silently: the marker says how many characters are left out)."""
    from rich.text import Text

    text = _safe(command)
    if len(text) <= LIST_CHARS:
        return Text(text)
    shown = Text(text[:LIST_CHARS])
    shown.append(f" [+{len(text) - LIST_CHARS:,} more chars: --json shows all]", style="bold")
    return shown


def _follow(path: str, flt: auditread.Filter, fmt: str | None) -> None:
    problems = auditread.Problems()
    seen = 0
    try:
        for record in auditread.follow(path, flt, problems):
            if fmt == "json":
                _print_json_lines([record])
            elif fmt == "csv":
                _print_csv([record], header=False)
                sys.stdout.flush()
            else:
                _print_table([record], path)
            if problems.count > seen:
                _warn_problems(problems)
                seen = problems.count
    except KeyboardInterrupt:
        return


# --- verify ------------------------------------------------------------------------------------


def resolve_key(key_file: str | None, policy_path: str | None) -> bytes | None:
    """--key-file, else GUARD_AUDIT_KEY_FILE (click reads it), else the policy's [audit]."""
    from .. import audit as audit_mod

    if not key_file:
        from .. import policy as policy_mod

        key_file = str(policy_mod.load(policy_path).audit.get("key_file") or "") or None
    return audit_mod.read_key(key_file) if key_file else None


def key_options(f: Any) -> Any:
    """--key-file and --policy: what a keyed log's key comes from (`resolve_key`)."""
    f = click.option(
        "--policy", "policy_path", type=click.Path(dir_okay=False), envvar="GUARD_POLICY"
    )(f)
    return click.option(
        "--key-file",
        type=click.Path(dir_okay=False),
        envvar="GUARD_AUDIT_KEY_FILE",
        help="The HMAC key of a keyed log (default: the policy's [audit] key_file).",
    )(f)


@audit.command(context_settings=CONTEXT)
@audit_log_option
@key_options
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_context
def verify(
    ctx: click.Context,
    /,
    audit_path: str | None,
    key_file: str | None,
    policy_path: str | None,
    as_json: bool,
) -> None:
    """Check the hash chain: exit 0 if intact, 65 at the first break (edit, gap, ...),
    74 if the only breaks are torn lines (`guard audit repair`), 66 keyed and no key."""
    from .. import auditverify

    path = _log_path(ctx, audit_path)
    _require_log(path)
    result = auditverify.verify(path, resolve_key(key_file, policy_path))
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        click.echo(auditverify.describe(result))
    problem = auditverify.failure(result)
    if problem is not None:
        raise problem


# --- summary -----------------------------------------------------------------------------------


@audit.command(context_settings=CONTEXT)
@audit_log_option
@_filter_options
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--top", default=10, show_default=True, help="Rows in the top-N tables.")
@click.pass_context
def summary(
    ctx: click.Context, /, audit_path: str | None, as_json: bool, top: int, **filters: Any
) -> None:
    """Counts by decision, agent, rule and reviewer; approval rate; review latency."""
    from .. import auditstats

    path = _log_path(ctx, audit_path)
    _require_log(path)
    flt = _filter(filters)
    result = auditstats.summarize(path, None if flt.empty else flt, top=top)
    _warn_problems(result.problems)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    _render_summary(result, top)


def _counts_table(title: str, rows: dict[str, Any], top: int) -> Any:
    """Per agent, rule or reviewer, at 80 columns: allowed, approved and denied by a reviewer
    (with the approval rate of those), denied automatically, deferred."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column(title, overflow="fold", ratio=1)
    for name in ("total", "allowed", "rev.ok", "rev.no", "auto.no", "defer", "ok%"):
        table.add_column(name, justify="right", no_wrap=True)
    for name, c in list(rows.items())[:top]:
        table.add_row(
            Text(_safe(name)),
            str(c.total),
            str(c.allowed),
            str(c.reviewed_approved),
            str(c.reviewed_denied),
            str(c.auto_denied),
            str(c.deferred),
            _rate(c.approval_rate),
        )
    if len(rows) > top:
        table.add_row(Text(f"... {len(rows) - top} more (--top N)", style="dim"))
    return table


def _render_summary(s: Any, top: int) -> None:
    from rich.table import Table
    from rich.text import Text

    console = _console()
    period = f"{s.first_ts} .. {s.last_ts}" if s.first_ts else "empty"
    console.print(Text(f"{s.entries} entries, {period}", style="bold"))
    decisions = Table(box=None, header_style="bold")
    decisions.add_column("decisions")
    decisions.add_column("count", justify="right")
    decisions.add_column("")
    d = s.decisions
    rows = (
        ("allowed by the policy", d.allowed, "allowed"),
        ("approved by a reviewer", d.reviewed_approved, "approved"),
        ("approved otherwise", d.approved - d.reviewed_approved, "approved"),
        ("denied by a reviewer", d.reviewed_denied, "denied"),
        ("denied automatically", d.auto_denied, "denied"),
        ("deferred to the harness", d.deferred, "deferred"),
    )
    for name, value, style in rows:
        if value or style != "deferred":
            decisions.add_row(
                Text(name, style=_DECISION_STYLE[style]),
                str(value),
                Text(_bar(value, s.entries), style=_DECISION_STYLE[style]),
            )
    console.print(decisions)
    lat = s.latency

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value / 1000:.1f}s"

    console.print(
        f"reviewers approved {d.reviewed_approved} and denied {d.reviewed_denied} "
        f"({_rate(s.approval_rate)} approved); {d.auto_denied} denied with no reviewer's say"
    )
    console.print(
        f"review latency over {lat.get('count', 0)} reviews: "
        f"p50 {ms(lat.get('p50'))}  p90 {ms(lat.get('p90'))}  p99 {ms(lat.get('p99'))}"
    )
    console.print(_counts_table("agents", s.agents, top))
    console.print(_counts_table("rules", s.rules, top))
    if s.reviewers:
        console.print(_counts_table("reviewers", s.reviewers, top))
    if s.top_denials:
        t = Table(box=None, header_style="bold", pad_edge=False)
        t.add_column("top denials", overflow="fold", ratio=3)
        t.add_column("count", justify="right", no_wrap=True)
        t.add_column("rule and reason", overflow="fold", ratio=2)
        for den in s.top_denials:
            why = Text(_safe(den.rule or "(default)"))
            if den.reason:
                why.append(f"\n{_safe(den.reason)}", style="dim")
            t.add_row(listed(den.command), str(den.count), why)
        console.print(t)
    if s.irreversible:
        console.print(Text(f"irreversible operations: {s.irreversible}", style="bold"))
        t = Table(box=None, header_style="bold")
        t.add_column("approved by")
        t.add_column("count", justify="right")
        for who, n in s.irreversible_by_approver.items():
            t.add_row(Text(_safe(who)), str(n))
        console.print(t)


# --- suggest -----------------------------------------------------------------------------------


@audit.command(context_settings=CONTEXT)
@audit_log_option
@_filter_options
@click.option("--min", "min_approvals", default=3, show_default=True, help="Approvals needed.")
@click.option(
    "--min-denials", default=3, show_default=True, help="Denials that make a scope warning."
)
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False), envvar="GUARD_POLICY")
@click.option("--apply", is_flag=True, help="Ask once, then add the rules to the user policy.")
@click.option("--yes", is_flag=True, help="With --apply: do not ask.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def suggest(
    ctx: click.Context,
    /,
    *,
    audit_path: str | None,
    min_approvals: int,
    min_denials: int,
    policy_path: str | None,
    apply: bool,
    yes: bool,
    as_json: bool,
    **filters: Any,
) -> None:
    """Whitelist rules for what humans approve again and again; warn of over-broad scopes."""
    from .. import auditstats

    if min_approvals < 1 or min_denials < 1:
        raise UsageError("--min and --min-denials must be at least 1")
    path = _log_path(ctx, audit_path)
    _require_log(path)
    from .. import policy as policy_mod

    pol = policy_mod.load(policy_path)
    taken = {str(r["id"]) for r in pol.rules}
    flt = _filter(filters)
    result = auditstats.suggest(
        path,
        None if flt.empty else flt,
        policy=pol,
        min_approvals=min_approvals,
        min_denials=min_denials,
        taken_ids=taken,
    )
    _warn_problems(result.problems)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
    else:
        _render_suggestions(result, min_approvals)
    if apply and result.suggestions:
        _apply(result.suggestions, policy_path or paths.user_policy(), yes)


def _render_suggestions(result: Any, min_approvals: int) -> None:
    from rich.table import Table
    from rich.text import Text

    console = _console()
    if not result.suggestions:
        console.print(
            f"no suggestions: no pattern approved {min_approvals}+ times and never denied"
        )
    else:
        console.print(Text("suggested [[allow]] rules", style="bold"))
        t = Table(box=None, pad_edge=False)
        for name in ("pattern", "approvals", "agents", "id"):
            t.add_column(name, header_style="bold", overflow="fold")
        for s in result.suggestions:
            t.add_row(
                Text(_safe(s.pattern), style="green"),
                str(s.approvals),
                Text(_safe(", ".join(s.agents))),
                Text(_safe(s.rule_id)),
            )
        console.print(t)
    for w in result.warnings:
        rules = ", ".join(w.rules) or "the default"
        console.print(
            Text(f"scope too broad? {w.pattern}", style="yellow")
            + Text(
                f": denied {w.denials} times by reviewers; sent to review by {_safe(rules)}"
                + (f"; reasons: {_safe('; '.join(w.reasons))}" if w.reasons else "")
            )
        )
    if result.irreversible_skipped:
        console.print(
            Text("never proposed (irreversible): " + _safe(", ".join(result.irreversible_skipped)))
        )
    if result.already_allowed:
        console.print(
            Text(
                f"not proposed: {len(result.already_allowed)} pattern(s) the policy already "
                "allows or that a rule sends to review anyway"
            )
        )


def _apply(suggestions: list[Any], policy_file: str, yes: bool) -> None:
    from ..policy_edit import add_allow_rule
    from ..remember import escape_glob

    if not yes and not click.confirm(
        f"Add {len(suggestions)} [[allow]] rule(s) to {policy_file}?", default=False
    ):
        click.echo("nothing written")
        return
    for s in suggestions:
        # Idempotent, also against a concurrent run: the check is made under the file's lock.
        done = add_allow_rule(
            policy_file,
            s.rule_id,
            [s.pattern],
            comment=f"suggested by guard audit suggest: approved {s.approvals} times, never denied",
            agents=[escape_glob(a) for a in s.agents],
            covers=s.example_argvs,
        )
        if done.added:
            click.echo(f"added [[allow]] {done.rule_id}: {s.pattern}")
        else:
            click.echo(f"already allowed by {done.rule_id}: {s.pattern} (nothing added)")


# --- replay ------------------------------------------------------------------------------------


@audit.command(context_settings=CONTEXT)
@audit_log_option
@_filter_options
@click.option(
    "--policy",
    "policy_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True),
    help="The policy to replay the log against.",
)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def replay(
    ctx: click.Context, /, audit_path: str | None, policy_path: str, as_json: bool, **filters: Any
) -> None:
    """What would another policy have decided? Transitions like allow->review, with examples."""
    from .. import auditstats
    from .. import policy as policy_mod

    path = _log_path(ctx, audit_path)
    _require_log(path)
    pol = policy_mod.load(policy_path)
    flt = _filter(filters)
    result = auditstats.replay(path, pol, None if flt.empty else flt)
    _warn_problems(result.problems)
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2))
        return
    from rich.table import Table
    from rich.text import Text

    console = _console()
    console.print(
        f"{result.entries} entries replayed against {policy_path}: "
        f"{result.unchanged} unchanged, {result.changed} changed"
        + (f", {result.skipped} skipped" if result.skipped else "")
        + (f", {result.errors} errors" if result.errors else "")
    )
    if result.transitions:
        t = Table(box=None, header_style="bold")
        for name in ("change", "count", "example"):
            t.add_column(name, justify="right" if name == "count" else "left")
        for tr in result.transitions:
            example = tr.examples[0]["command"] if tr.examples else ""
            t.add_row(f"{tr.before} -> {tr.after}", str(tr.count), Text(_safe(example)))
        console.print(t)
    for message in result.error_examples:
        console.print(Text(_safe(message), style="red"))


# --- report ------------------------------------------------------------------------------------


@audit.command(context_settings=CONTEXT)
@audit_log_option
@_filter_options
@click.option("--format", "fmt", type=click.Choice(["md", "html"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE.")
@click.option("--key-file", type=click.Path(dir_okay=False), envvar="GUARD_AUDIT_KEY_FILE")
@click.option("--policy", "policy_path", type=click.Path(dir_okay=False), envvar="GUARD_POLICY")
@click.pass_context
def report(
    ctx: click.Context,
    /,
    *,
    audit_path: str | None,
    fmt: str,
    output: str | None,
    key_file: str | None,
    policy_path: str | None,
    **filters: Any,
) -> None:
    """A compliance report for a period (Markdown, or one self-contained HTML file)."""
    from .. import auditreport

    path = _log_path(ctx, audit_path)
    _require_log(path)
    flt = _filter(filters)
    text = auditreport.report(
        path,
        fmt=fmt,
        flt=None if flt.empty else flt,
        key=resolve_key(key_file, policy_path),
        since=flt.since,
        until=flt.until,
    )
    if output:
        _write_file(output, text)
        click.echo(f"wrote {output}")
    else:
        sys.stdout.write(text)


def _write_file(path: str, text: str) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(directory, f".{os.path.basename(path)}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


from .audit_repair import repair  # noqa: E402 - registered here, defined in its own module

audit.add_command(repair)

__all__ = ["audit", "resolve_key"]
