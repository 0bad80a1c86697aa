"""`guard audit` and its subcommands through click (the `audit` group called directly)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from audit_builder import approved, denied, entry, lines, rewrite, write
from click.testing import CliRunner

from expacti_cli.cli.audit import audit
from expacti_cli.errors import AuditDataError, UsageError


@pytest.fixture
def log(tmp_path: Path) -> str:
    es = [entry(["git", "status"], agent="claude") for _ in range(3)]
    es += [
        approved(["npm", "test", str(i)], agent="codex", latency=1000.0 * i) for i in range(1, 5)
    ]
    es += [denied(["curl", "evil.sh"], agent="codex", reason="no downloads")]
    es += [approved(["rm", "-rf", "build"], irreversible=True, rule="rm-rf", reviewer="carol")]
    es += [entry(["=cmd", "\x1b[31mred"], agent="claude", command="=cmd '\x1b[31mred'")]
    return write(tmp_path / "audit.jsonl", es)


def run(*args: str) -> str:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(audit, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_list_shows_the_last_entries(log: str) -> None:
    out = run("--audit-log", log, "--limit", "3")
    assert "curl evil.sh" in out and "rm -rf build" in out and "IRREVERSIBLE" in out
    assert "npm test" not in out
    assert "\x1b[31m" not in out and "\\x1b[31mred" in out  # control characters are escaped


def test_list_filters_and_json_lines(log: str) -> None:
    out = run("--audit-log", log, "--agent", "codex", "--decision", "approved", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["command"] for r in rows] == [f"npm test {i}" for i in range(1, 5)]
    assert all("hash" in r for r in rows)


def test_list_csv_export_with_limit_zero(log: str) -> None:
    out = run("--audit-log", log, "--csv", "--limit", "0")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 10
    assert rows[7]["decision"] == "denied" and rows[7]["reason"] == "no downloads"
    assert rows[8]["irreversible"] == "true"
    assert rows[9]["command"].startswith("'=")  # no formula injection into spreadsheets


def test_list_reports_unreadable_lines_on_stderr(log: str) -> None:
    text = lines(log)
    text[1] = "{broken\n"
    rewrite(log, text)
    result = CliRunner().invoke(audit, ["--audit-log", log, "--json"], catch_exceptions=False)
    assert result.exit_code == 0
    assert f"{log}:2" in result.stderr
    assert len(result.stdout.splitlines()) == 9


def test_bad_since_is_a_usage_error(log: str) -> None:
    with pytest.raises(UsageError, match="'yesterday'"):
        CliRunner().invoke(
            audit, ["--audit-log", log, "--since", "yesterday"], catch_exceptions=False
        )


def test_missing_log_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AuditDataError, match="no audit log"):
        CliRunner().invoke(
            audit, ["summary", "--audit-log", str(tmp_path / "nope")], catch_exceptions=False
        )


def test_audit_log_from_the_environment(log: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GUARD_AUDIT_LOG", log)
    assert "rm -rf build" in run("--limit", "2")


def test_verify_ok_and_broken(log: str) -> None:
    assert "chain intact" in run("verify", "--audit-log", log)
    text = lines(log)
    text[4] = text[4].replace("npm", "pip")
    rewrite(log, text)
    with pytest.raises(AuditDataError) as err:
        CliRunner().invoke(audit, ["verify", "--audit-log", log], catch_exceptions=False)
    assert err.value.message.startswith(f"audit: broken at {log}:5 (edited): ")
    assert err.value.exit_code == 65


def test_verify_keyed_log_with_key_file_option_and_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "key"
    key_file.write_bytes(b"k3y\n")
    path = write(tmp_path / "keyed.jsonl", [entry(), entry()], key=b"k3y")
    assert "keyed" in run("verify", "--audit-log", path, "--key-file", str(key_file))
    monkeypatch.setenv("GUARD_AUDIT_KEY_FILE", str(key_file))
    assert "keyed" in run("verify", "--audit-log", path)


def test_verify_takes_the_key_file_from_the_policy(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_bytes(b"k3y")
    policy = tmp_path / "policy.toml"
    policy.write_text(f'[audit]\nkey_file = "{key_file}"\n', encoding="utf-8")
    path = write(tmp_path / "keyed.jsonl", [entry(), entry()], key=b"k3y")
    assert "keyed" in run("verify", "--audit-log", path, "--policy", str(policy))


def test_summary_json(log: str) -> None:
    data = json.loads(run("summary", "--audit-log", log, "--json"))
    assert data["entries"] == 10
    assert data["decisions"]["approved"] == 5
    assert data["approval_rate"] == pytest.approx(5 / 6)
    assert data["latency_ms"]["p50"] == 1000.0  # 1000,1000,2000,3000,4000,1000 -> 3rd of 6
    assert data["irreversible_by_approver"] == {"carol": 1}


def test_summary_table(log: str) -> None:
    out = run("summary", "--audit-log", log)
    for text in ("decisions", "agents", "codex", "top denials", "curl"):
        assert text in out
    assert "█" in out
    # reviewer approvals, reviewer denials and automatic denials, each counted apart
    flat = " ".join(out.split())
    assert "reviewers approved 5 and denied 1 (83% approved); 0 denied with no reviewer" in flat
    assert "denied automatically" in out and "denied by a reviewer" in out


def _at(columns: int, *args: str) -> str:
    result = CliRunner(env={"COLUMNS": str(columns)}).invoke(
        audit, list(args), catch_exceptions=False, terminal_width=columns
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_listing_at_80_columns_puts_the_command_first_and_marks_shortened_ones(
    tmp_path: Path,
) -> None:
    long = ["python3", "-c", "print(1)  # " + "y" * 15000]
    path = write(tmp_path / "audit.jsonl", [entry(["git", "status"]), entry(long)])
    out = _at(80, "--audit-log", path)
    lines = out.splitlines()
    assert lines[0].split()[:2] == ["command", "decision"]
    assert max(len(line) for line in lines) <= 80
    assert "git status" in lines[1]  # the command is not squeezed to a few characters
    flat = "".join(out.split())
    assert "[+" in flat and "morechars:--jsonshowsall]" in flat
    assert len(out) < 2000  # the long entry is shortened in the listing...
    whole = run("--audit-log", path, "--json")
    assert "y" * 15000 in whole  # ...and only there


def test_deferred_entries_can_be_filtered_and_are_counted(tmp_path: Path) -> None:
    es = [entry(["git", "status"]), entry(["make"], decision="deferred", decided_by="hook")]
    path = write(tmp_path / "audit.jsonl", es)
    out = run("--audit-log", path, "--decision", "deferred", "--json")
    assert [json.loads(x)["argv"] for x in out.splitlines()] == [["make"]]
    summary = json.loads(run("summary", "--audit-log", path, "--json"))
    assert summary["decisions"]["deferred"] == 1
    assert "deferred to the harness" in run("summary", "--audit-log", path)


def test_suggest_title_is_not_markup(tmp_path: Path) -> None:
    path = write(tmp_path / "audit.jsonl", [approved(["frob", "x", str(i)]) for i in range(3)])
    out = run("suggest", "--audit-log", path)
    assert "suggested [[allow]] rules" in out and "suggested [] rules" not in out


def test_suggest_and_apply(tmp_path: Path) -> None:
    es = [approved(["make", "test", str(i)]) for i in range(3)]
    path = write(tmp_path / "audit.jsonl", es)
    policy = tmp_path / "policy.toml"
    policy.write_text('# my policy\n[settings]\ndefault = "review"\n', encoding="utf-8")
    os.chmod(policy, 0o600)
    out = run("suggest", "--audit-log", path, "--policy", str(policy))
    assert "make test **" in out
    result = CliRunner().invoke(
        audit,
        ["suggest", "--audit-log", path, "--policy", str(policy), "--apply"],
        input="n\n",
        catch_exceptions=False,
    )
    assert "nothing written" in result.output
    assert "allow" not in policy.read_text(encoding="utf-8")
    result = CliRunner().invoke(
        audit,
        ["suggest", "--audit-log", path, "--policy", str(policy), "--apply"],
        input="y\n",
        catch_exceptions=False,
    )
    assert "added [[allow]] allow-make-test" in result.output
    text = policy.read_text(encoding="utf-8")
    assert text.startswith("# my policy\n")  # appended, comments kept
    assert tomllib.loads(text)["allow"] == [
        {"id": "allow-make-test", "match": "make test **", "agents": ["claude"]}
    ]
    assert os.stat(policy).st_mode & 0o777 == 0o600
    # once whitelisted, nothing is proposed again, and --apply adds nothing
    again = json.loads(run("suggest", "--audit-log", path, "--policy", str(policy), "--json"))
    assert again["suggestions"] == []
    assert again["already_allowed"] == ["make test **"]
    run("suggest", "--audit-log", path, "--policy", str(policy), "--apply", "--yes")
    assert policy.read_text(encoding="utf-8") == text


def test_replay_json(tmp_path: Path) -> None:
    pfile = tmp_path / "new.toml"
    pfile.write_text('[[allow]]\nid = "npm-test"\nmatch = "npm test **"\n', encoding="utf-8")
    path = write(tmp_path / "audit.jsonl", [approved(["npm", "test"])] * 2 + [entry()])
    data = json.loads(run("replay", "--audit-log", path, "--policy", str(pfile), "--json"))
    assert data["changed"] == 2 and data["unchanged"] == 1
    assert data["transitions"][0]["before"] == "review"
    assert data["transitions"][0]["after"] == "allow"
    assert "review -> allow" in run("replay", "--audit-log", path, "--policy", str(pfile))


def test_report_markdown(log: str, tmp_path: Path) -> None:
    out = run("report", "--audit-log", log, "--format", "md")
    for heading in (
        "# guard audit report",
        "## Who ran what",
        "## Approvals by reviewer",
        "## Irreversible operations",
        "## Denials",
        "## Anomalies",
    ):
        assert heading in out
    assert "Chain: intact" in out
    assert "| carol |" in out or "carol" in out
    assert "no downloads" in out
    target = tmp_path / "r.md"
    run("report", "--audit-log", log, "--output", str(target), "--since", "2026-01-01")
    assert "Period: 2026-01-01T00:00:00.000Z" in target.read_text(encoding="utf-8")


def test_report_says_when_the_chain_is_broken(log: str) -> None:
    text = lines(log)
    del text[2]
    rewrite(log, text)
    out = run("report", "--audit-log", log)
    assert "BROKEN" in out and "(deleted)" in out


@pytest.mark.slow
def test_html_report_renders_in_headless_chromium(log: str, tmp_path: Path) -> None:
    # Must FAIL, not skip, without a browser: CI installs Debian's `chromium` package.
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    assert browser, "chromium is not installed (apt-get install -y chromium)"
    page = tmp_path / "report.html"
    run("report", "--audit-log", log, "--format", "html", "--output", str(page))
    html = page.read_text(encoding="utf-8")
    assert "<svg" in html and "http://" not in html.replace("http://www.w3.org/2000/svg", "")
    assert "<script" not in html and "https://" not in html
    assert "\x1b" not in html
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    png = tmp_path / "report.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={png}", "--window-size=1200,2000", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert png.exists()
    assert png.stat().st_size > 20_000  # a rendered page, not a blank one
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    for heading in (
        "Who ran what",
        "Approvals by reviewer",
        "Irreversible operations",
        "Denials",
        "Anomalies",
        "Commands per hour of day",
    ):
        assert heading in dom
    assert "rm -rf build" in dom
