"""`guard audit report`: a compliance report for a period, in Markdown or one HTML file.

Sections: period and chain status (from `auditverify`), who ran what (per agent, with the
programs they used), approvals by reviewer, irreversible operations and who approved them,
denials with their reasons, anomalies, unreadable lines. The HTML is self-contained: inline CSS
and inline SVG charts (activity per hour of day, per agent), no script, no external URL, so it
can be attached to a ticket and opened anywhere, offline.

Everything from the log is escaped (HTML) or fenced (Markdown): agents choose their commands.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

from . import auditstats, auditverify
from .auditstats import Summary
from .auditverify import VerifyResult

_TOP_PROGRAMS = 8


@dataclass
class ReportData:
    title: str
    period: str
    generated: str
    log: str
    summary: Summary
    chain: VerifyResult


def collect(
    path: str,
    *,
    flt: Callable[[dict[str, Any]], bool] | None = None,
    key: bytes | None = None,
    since: str | None = None,
    until: str | None = None,
    now: datetime | None = None,
) -> ReportData:
    summary = auditstats.summarize(path, flt, programs=True, top=25)
    chain = auditverify.verify(path, key)
    start = since or summary.first_ts or "-"
    end = until or summary.last_ts or "-"
    return ReportData(
        title="guard audit report",
        period=f"{start} to {end}",
        generated=(now or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC"),
        log=path,
        summary=summary,
        chain=chain,
    )


def report(
    path: str,
    *,
    fmt: str = "md",
    flt: Callable[[dict[str, Any]], bool] | None = None,
    key: bytes | None = None,
    since: str | None = None,
    until: str | None = None,
    now: datetime | None = None,
) -> str:
    """The report as text. `since`/`until` are only shown: filtering is `flt`'s job."""
    data = collect(path, flt=flt, key=key, since=since, until=until, now=now)
    if fmt == "md":
        return markdown(data)
    if fmt == "html":
        return html(data)
    raise ValueError(f"unknown report format {fmt!r}")


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.0f}%"


def _seconds(ms: float | None) -> str:
    return "-" if ms is None else f"{ms / 1000:.1f} s"


def _chain_line(chain: VerifyResult) -> str:
    if chain.ok:
        keyed = " (keyed HMAC chain)" if chain.keyed else ""
        return f"intact: {chain.entries} entries in {len(chain.files)} file(s){keyed}"
    b = chain.first_break
    where = f"{b.file}:{b.line} ({b.kind}): {b.detail}" if b else "unknown"
    return f"BROKEN: {chain.breaks} broken stretch(es); first at {where}"


# --- Markdown ----------------------------------------------------------------------------------


def _md(text: object) -> str:
    """A table cell: pipes and newlines escaped, code spans fenced safely."""
    s = "" if text is None else str(text)
    s = "".join(c if c.isprintable() else repr(c)[1:-1] for c in s)
    return s.replace("|", "\\|")


def _code(text: object) -> str:
    s = _md(text)
    fence = "``" if "`" in s else "`"
    return f"{fence} {s} {fence}" if fence == "``" else f"`{s}`"


def markdown(data: ReportData) -> str:
    s = data.summary
    out: list[str] = []
    w = out.append
    w(f"# {data.title}\n")
    w(f"- Period: {data.period}")
    w(f"- Generated: {data.generated}")
    w(f"- Log: `{_md(data.log)}`")
    w(f"- Chain: {_md(_chain_line(data.chain))}")
    w(
        f"- Entries: {s.entries} (allowed {s.decisions.allowed}, approved "
        f"{s.decisions.approved}, denied {s.decisions.denied})"
    )
    w(f"- Approval rate of reviewed commands: {_rate(s.approval_rate)}")
    lat = s.latency
    w(
        f"- Review latency: p50 {_seconds(lat.get('p50'))}, p90 {_seconds(lat.get('p90'))}, "
        f"p99 {_seconds(lat.get('p99'))} over {lat.get('count', 0)} reviews"
    )
    if s.problems.count:
        w(f"- Unreadable lines skipped: {s.problems.count}")
    w("\n## Who ran what\n")
    w("| agent | commands | allowed | approved | denied | approval rate | programs |")
    w("|---|---:|---:|---:|---:|---:|---|")
    for agent, c in s.agents.items():
        progs = s.programs.get(agent, {})
        top = ", ".join(f"{p} ({n})" for p, n in list(progs.items())[:_TOP_PROGRAMS])
        w(
            f"| {_md(agent)} | {c.total} | {c.allowed} | {c.approved} | {c.denied} | "
            f"{_rate(c.approval_rate)} | {_md(top)} |"
        )
    w("\n## Approvals by reviewer\n")
    if s.reviewers:
        w("| reviewer | approved | denied | approval rate |")
        w("|---|---:|---:|---:|")
        for name, c in s.reviewers.items():
            w(f"| {_md(name)} | {c.approved} | {c.denied} | {_rate(c.approval_rate)} |")
    else:
        w("No command was decided by a reviewer in this period.")
    w("\n## Irreversible operations\n")
    if s.irreversible:
        approvers = ", ".join(f"{_md(k)} ({v})" for k, v in s.irreversible_by_approver.items())
        w(f"{s.irreversible} irreversible operation(s). Approved by: {approvers or 'nobody'}.\n")
        shown = (
            f" (the last {len(s.irreversible_ops)})"
            if len(s.irreversible_ops) < (s.irreversible)
            else ""
        )
        w(f"| time{shown} | agent | command | decision | approved by | rule |")
        w("|---|---|---|---|---|---|")
        for op in s.irreversible_ops:
            w(
                f"| {_md(op.ts)} | {_md(op.agent)} | {_code(op.command)} | {op.decision} | "
                f"{_md(op.reviewer or op.decided_by)} | {_md(op.rule)} |"
            )
    else:
        w("None.")
    w("\n## Denials\n")
    if s.top_denials:
        w("| count | command | rule | reason |")
        w("|---:|---|---|---|")
        for d in s.top_denials:
            w(f"| {d.count} | {_code(d.command)} | {_md(d.rule)} | {_md(d.reason)} |")
    else:
        w("None.")
    w("\n## Anomalies\n")
    if s.anomalies:
        w(", ".join(f"{_md(k)}: {v}" for k, v in s.anomalies.items()) + "\n")
        w("| time | agent | command | flags | decision |")
        w("|---|---|---|---|---|")
        for op in s.anomaly_ops:
            w(
                f"| {_md(op.ts)} | {_md(op.agent)} | {_code(op.command)} | "
                f"{_md(', '.join(op.anomalies))} | {op.decision} |"
            )
    else:
        w("None.")
    if s.problems.count:
        w("\n## Unreadable lines\n")
        for p in s.problems.first:
            w(f"- `{_md(p.file)}:{p.line}` ({p.kind}): {_md(p.detail)}")
    return "\n".join(out) + "\n"


# --- HTML --------------------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1f2328;margin:2em auto;
max-width:1100px;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;border-bottom:1px solid #d0d7de;
padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;width:100%;margin:.6em 0}
th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;background:#f6f8fa;padding:1px 4px;
border-radius:4px;overflow-wrap:anywhere}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px}
.facts dt{color:#57606a}.facts dd{margin:0}
.charts{display:flex;flex-wrap:wrap;gap:24px}
figure{margin:0}figcaption{color:#57606a;font-size:12px}
"""


def _bar_chart(values: list[int], labels: list[str], title: str) -> str:
    """Vertical bars, one per label (activity per hour)."""
    width, height, pad = 560, 180, 24
    peak = max(values, default=0) or 1
    step = (width - 2 * pad) / max(len(values), 1)
    bars = []
    for i, (value, label) in enumerate(zip(values, labels, strict=True)):
        h = (height - 2 * pad) * value / peak
        x = pad + i * step
        y = height - pad - h
        bars.append(
            f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{step - 2:.1f}" height="{h:.1f}" '
            f'fill="#0969da"><title>{escape(label)}: {value}</title></rect>'
        )
        if i % 3 == 0:
            bars.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 8}" font-size="10" '
                f'text-anchor="middle" fill="#57606a">{escape(label)}</text>'
            )
    return (
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">'
        f'<line x1="{pad}" y1="{height - pad}" x2="{width - pad}" y2="{height - pad}" '
        f'stroke="#8c959f"/>{"".join(bars)}</svg>'
        f"<figcaption>{escape(title)} (peak {max(values, default=0)})</figcaption></figure>"
    )


def _hbar_chart(rows: list[tuple[str, list[int]]], title: str) -> str:
    """Horizontal stacked bars per agent: allowed, approved, denied."""
    colours = ["#1a7f37", "#0969da", "#cf222e"]
    rows = rows[:15]
    label_w, width, row_h = 140, 520, 22
    height = row_h * len(rows) + 30
    peak = max((sum(v) for _, v in rows), default=0) or 1
    parts = []
    for i, (name, values) in enumerate(rows):
        y = 4 + i * row_h
        shown = name if len(name) <= 20 else name[:19] + "…"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 14}" font-size="12" text-anchor="end">'
            f"{escape(shown)}</text>"
        )
        x = float(label_w)
        for value, colour, kind in zip(
            values, colours, ("allowed", "approved", "denied"), strict=True
        ):
            w = (width - label_w - 60) * value / peak
            if w > 0:
                parts.append(
                    f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
                    f'fill="{colour}"><title>{escape(name)} {kind}: {value}</title></rect>'
                )
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 14}" font-size="11">{sum(values)}</text>')
    legend_y = height - 8
    for i, (colour, kind) in enumerate(
        zip(colours, ("allowed", "approved", "denied"), strict=True)
    ):
        lx = label_w + i * 90
        parts.append(
            f'<rect x="{lx}" y="{legend_y - 9}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{legend_y}" font-size="11">{kind}</text>'
        )
    return (
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}">{"".join(parts)}</svg>'
        f"<figcaption>{escape(title)}</figcaption></figure>"
    )


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    numeric = numeric or set()
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="n">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _e(text: object) -> str:
    s = "" if text is None else str(text)
    return escape("".join(c if c.isprintable() else repr(c)[1:-1] for c in s))


def _c(text: object) -> str:
    return f"<code>{_e(text)}</code>"


def html(data: ReportData) -> str:
    s = data.summary
    chain = data.chain
    chain_html = f'<span class="{"ok" if chain.ok else "bad"}">{_e(_chain_line(chain))}</span>'
    lat = s.latency
    facts = [
        ("Period", _e(data.period)),
        ("Generated", _e(data.generated)),
        ("Log", _c(data.log)),
        ("Hash chain", chain_html),
        (
            "Entries",
            f"{s.entries} (allowed {s.decisions.allowed}, approved {s.decisions.approved}, "
            f"denied {s.decisions.denied})",
        ),
        ("Approval rate", _rate(s.approval_rate) + " of reviewed commands"),
        (
            "Review latency",
            f"p50 {_seconds(lat.get('p50'))}, p90 {_seconds(lat.get('p90'))}, "
            f"p99 {_seconds(lat.get('p99'))} ({lat.get('count', 0)} reviews)",
        ),
    ]
    if s.problems.count:
        facts.append(("Unreadable lines", f'<span class="bad">{s.problems.count}</span>'))
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(data.title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(data.title)}</h1>",
        '<dl class="facts">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>",
        "<h2>Activity</h2>",
        '<div class="charts">',
        _bar_chart(s.hours, [f"{h:02d}" for h in range(24)], "Commands per hour of day (UTC)"),
        _hbar_chart(
            [(a, [c.allowed, c.approved, c.denied]) for a, c in s.agents.items()],
            "Commands per agent",
        ),
        "</div>",
        "<h2>Who ran what</h2>",
        _table(
            ["agent", "commands", "allowed", "approved", "denied", "approval rate", "programs"],
            [
                [
                    _e(agent),
                    str(c.total),
                    str(c.allowed),
                    str(c.approved),
                    str(c.denied),
                    _rate(c.approval_rate),
                    ", ".join(
                        f"{_c(p)}&nbsp;({n})"
                        for p, n in list(s.programs.get(agent, {}).items())[:_TOP_PROGRAMS]
                    ),
                ]
                for agent, c in s.agents.items()
            ],
            {1, 2, 3, 4, 5},
        ),
        "<h2>Approvals by reviewer</h2>",
        _table(
            ["reviewer", "approved", "denied", "approval rate"],
            [
                [_e(n), str(c.approved), str(c.denied), _rate(c.approval_rate)]
                for n, c in s.reviewers.items()
            ],
            {1, 2, 3},
        )
        if s.reviewers
        else "<p>No command was decided by a reviewer in this period.</p>",
        "<h2>Irreversible operations</h2>",
    ]
    if s.irreversible:
        approvers = ", ".join(f"{_e(k)} ({v})" for k, v in s.irreversible_by_approver.items())
        parts.append(f"<p>{s.irreversible} operation(s). Approved by: {approvers or 'nobody'}.</p>")
        parts.append(
            _table(
                ["time", "agent", "command", "decision", "approved by", "rule"],
                [
                    [
                        _e(op.ts),
                        _e(op.agent),
                        _c(op.command),
                        _e(op.decision),
                        _e(op.reviewer or op.decided_by),
                        _e(op.rule),
                    ]
                    for op in s.irreversible_ops
                ],
            )
        )
    else:
        parts.append("<p>None.</p>")
    parts.append("<h2>Denials</h2>")
    parts.append(
        _table(
            ["count", "command", "rule", "reason"],
            [[str(d.count), _c(d.command), _e(d.rule), _e(d.reason)] for d in s.top_denials],
            {0},
        )
        if s.top_denials
        else "<p>None.</p>"
    )
    parts.append("<h2>Anomalies</h2>")
    if s.anomalies:
        parts.append("<p>" + ", ".join(f"{_e(k)}: {v}" for k, v in s.anomalies.items()) + "</p>")
        parts.append(
            _table(
                ["time", "agent", "command", "flags", "decision"],
                [
                    [
                        _e(o.ts),
                        _e(o.agent),
                        _c(o.command),
                        _e(", ".join(o.anomalies)),
                        _e(o.decision),
                    ]
                    for o in s.anomaly_ops
                ],
            )
        )
    else:
        parts.append("<p>None.</p>")
    if s.problems.count:
        parts.append("<h2>Unreadable lines</h2><ul>")
        parts.extend(
            f"<li>{_c(f'{p.file}:{p.line}')} ({_e(p.kind)}): {_e(p.detail)}</li>"
            for p in s.problems.first
        )
        parts.append("</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)
