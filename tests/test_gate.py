"""The gate end to end through the installed `guard`: exit statuses, review with nobody to ask,
the audit entry, failing closed (DESIGN.md, Decisions, Audit log, Exit status)."""

from __future__ import annotations

import os
import re
import shlex

import pytest
from conftest import GUARD, assert_chain, audit_entries, run_guard

ALLOW_TOOL = """
[[allow]]
id = "tool-ok"
match = "tool **"
"""


def entries(guard_env):
    return audit_entries(guard_env.audit_log)


def denied_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("guard: denied:")]
    assert len(lines) == 1, stderr
    return lines[0]


# ------------------------------------------------------------------ exit statuses


def test_allowed_command_runs_and_its_status_passes_through(tool_bin, write_policy, marker):
    write_policy(ALLOW_TOOL)
    result = run_guard("--", "tool", str(marker), "3")
    assert result.returncode == 3
    assert result.stdout == f"tool ran: {marker}\n"
    assert result.stderr == ""
    assert marker.exists()


def test_stdin_reaches_the_program(tool_bin, write_policy):
    write_policy("[[allow]]\nid = 'relay'\nmatch = 'relay'\n")
    result = run_guard("relay", input="some data\n")
    assert (result.returncode, result.stdout) == (0, "some data\n")


def test_unmatched_command_with_no_terminal_is_denied(tool_bin, guard_env, marker):
    result = run_guard("--", "tool", str(marker))
    assert result.returncode == 77
    assert not marker.exists()
    line = denied_line(result.stderr)
    assert f"tool {marker}" in line
    assert "no reviewer" in line
    entry = entries(guard_env)[-1]
    assert (entry["decision"], entry["decided_by"], entry["rule"]) == (
        "denied",
        "no_reviewer",
        None,
    )


def test_deny_rule(tool_bin, write_policy, guard_env, marker):
    write_policy(
        ALLOW_TOOL
        + """
        [[deny]]
        id = "no-tool-9"
        match = "tool * 9"
        reason = "status nine is forbidden"
        """
    )
    result = run_guard("--", "tool", str(marker), "9")
    assert result.returncode == 77
    assert not marker.exists()
    line = denied_line(result.stderr)
    assert "no-tool-9" in line
    assert "status nine is forbidden" in line
    entry = entries(guard_env)[-1]
    assert (entry["decision"], entry["decided_by"], entry["rule"]) == (
        "denied",
        "policy",
        "no-tool-9",
    )


def test_default_deny_setting(tool_bin, write_policy, guard_env, marker):
    write_policy("[settings]\ndefault = 'deny'\n")
    result = run_guard("--", "tool", str(marker))
    assert result.returncode == 77
    assert entries(guard_env)[-1]["decided_by"] == "policy"


def test_program_not_found_is_127(write_policy, guard_env):
    write_policy("[[allow]]\nid = 'ghost'\nmatch = 'no-such-program-xyz **'\n")
    result = run_guard("--", "no-such-program-xyz", "arg")
    assert result.returncode == 127
    assert result.stderr.startswith("guard: ")
    assert "no-such-program-xyz" in result.stderr
    assert "not found" in result.stderr
    assert len(result.stderr.splitlines()) == 1
    entry = entries(guard_env)[-1]
    assert entry["argv"] == ["no-such-program-xyz", "arg"]
    assert entry["decision"] == "denied"


def test_program_path_not_found_is_127(guard_env, tmp_path):
    result = run_guard("--", str(tmp_path / "nothing-here"))
    assert result.returncode == 127
    assert "nothing-here" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--frobnicate"],
        ["--frobnicate", "--", "true"],
        ["--policy"],
        ["--policy="],
        ["--agent", "bot"],
        ["--agent", "bot", "--"],
        ["--"],
        ["run"],
        ["run", "--"],
        ["--", ""],
    ],
)
def test_usage_errors_are_64(args, marker):
    result = run_guard(*args)
    assert result.returncode == 64, result
    assert result.stderr.startswith("guard: ")
    assert "usage" in result.stderr


def test_unknown_option_hint_names_the_option():
    result = run_guard("--frobnicate")
    assert "--frobnicate" in result.stderr


def test_subcommand_names_are_reserved_but_dash_dash_runs_a_program(tool_bin, write_policy):
    write_policy("[[allow]]\nid = 'check-prog'\nmatch = 'check **'\n")
    for args in (["--", "check", "x"], ["run", "--", "check", "x"], ["run", "check", "x"]):
        result = run_guard(*args)
        assert result.returncode == 0, (args, result.stderr)
        assert result.stdout == "the program called check ran: x\n"
    # Without `--`, `check` is guard's dry run: nothing is executed.
    result = run_guard("check", "--", "check", "x")
    assert result.returncode == 0
    assert "the program called check ran" not in result.stdout


def test_a_program_whose_name_starts_with_dash_needs_dash_dash(tool_bin):
    result = run_guard("-tool")
    assert result.returncode == 64
    assert "--" in result.stderr


# ------------------------------------------------------------------ review with nobody to ask


def test_whitelisted_irreversible_command_is_still_reviewed(write_policy, guard_env, tmp_path):
    target = tmp_path / "DIR"
    (target / "sub").mkdir(parents=True)
    write_policy('[[allow]]\nid = "user-rm"\nmatch = "rm **"\n')
    result = run_guard("rm", "-rf", str(target))
    assert result.returncode == 77
    assert target.is_dir(), "rm -rf ran"
    entry = entries(guard_env)[-1]
    assert entry["decision"] == "denied"
    assert entry["decided_by"] == "no_reviewer"
    assert entry["irreversible"] is True
    assert entry["rule"] and entry["rule"] != "user-rm"
    line = denied_line(result.stderr)
    assert f"rule {entry['rule']}" in line
    assert entry["reason"] in line
    assert f"rm -rf {target}" in line
    # What a human can do: whitelisting cannot help an irreversible command.
    assert "always need a human" in line
    assert "whitelist" not in line.rsplit(" - ", 1)[1]


def test_user_irreversible_rule_beats_user_whitelist(tool_bin, write_policy, guard_env, marker):
    write_policy(
        ALLOW_TOOL
        + """
        [[irreversible]]
        id = "tool-wipe"
        match = "tool **"
        flags = ["--wipe"]
        reason = "wipes for good"
        """
    )
    assert run_guard("--", "tool", str(marker)).returncode == 0
    marker.unlink()
    result = run_guard("--", "tool", str(marker), "--wipe")
    assert result.returncode == 77
    assert not marker.exists()
    line = denied_line(result.stderr)
    assert "tool-wipe" in line
    assert "wipes for good" in line
    entry = entries(guard_env)[-1]
    assert (entry["decided_by"], entry["irreversible"]) == ("no_reviewer", True)


def test_when_no_reviewer_allow_never_covers_irreversible(
    tool_bin, write_policy, guard_env, marker
):
    write_policy(
        """
        [settings]
        when_no_reviewer = "allow"

        [[irreversible]]
        id = "tool-wipe"
        match = "tool **"
        flags = ["--wipe"]
        """
    )
    result = run_guard("--", "tool", str(marker))
    assert result.returncode == 0
    assert marker.exists()
    entry = entries(guard_env)[-1]
    assert (entry["decision"], entry["decided_by"]) == ("approved", "no_reviewer")
    marker.unlink()
    result = run_guard("--", "tool", str(marker), "--wipe")
    assert result.returncode == 77
    assert not marker.exists()


# ------------------------------------------------------------------ the audit entry

_TS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


def test_audit_entry_has_every_documented_field(tool_bin, write_policy, guard_env, marker):
    write_policy(ALLOW_TOOL)
    argv = ["tool", str(marker), "0", "it's a test", "$HOME"]
    result = run_guard(
        "--agent", "bot-1", "--", *argv, env={"GUARD_SESSION": "sess-9"}, cwd=guard_env.root.parent
    )
    assert result.returncode == 0, result.stderr
    (entry,) = entries(guard_env)
    types = {
        "ts": str,
        "id": str,
        "agent": str,
        "session": str,
        "user": str,
        "host": str,
        "cwd": str,
        "argv": list,
        "command": str,
        "mode": str,
        "decision": str,
        "decided_by": str,
        "rule": str,
        "reason": str,
        "irreversible": bool,
        "anomalies": list,
        "latency_ms": (int, float),
        "prev": str,
        "hash": str,
    }
    for field, kind in types.items():
        assert isinstance(entry[field], kind), (field, entry.get(field))
    assert "reviewer" in entry
    assert entry["reviewer"] is None
    assert _TS.match(entry["ts"]), entry["ts"]
    assert entry["agent"] == "bot-1"
    assert entry["session"] == "sess-9"
    assert entry["cwd"] == str(guard_env.root.parent)
    assert entry["argv"] == argv
    assert shlex.split(entry["command"]) == argv
    assert entry["mode"] == "prefix"
    assert (entry["decision"], entry["decided_by"], entry["rule"]) == (
        "allowed",
        "policy",
        "tool-ok",
    )
    assert entry["irreversible"] is False
    assert entry["anomalies"] == []
    assert entry["latency_ms"] >= 0
    assert entry["prev"] == "0" * 64
    assert _HEX64.match(entry["hash"])
    assert list(entry)[-1] == "hash"
    assert_chain([entry])


def test_argument_that_is_not_utf8_is_recorded_faithfully(
    tool_bin, write_policy, guard_env, tmp_path
):
    write_policy(ALLOW_TOOL)
    name = os.fsdecode(b"caf\xe9-\xff")  # bytes an agent may pass; not UTF-8
    result = run_guard("--", "tool", str(tmp_path / name))
    assert result.returncode == 0, result.stderr
    assert os.path.exists(os.fsencode(tmp_path) + b"/caf\xe9-\xff")
    (entry,) = entries(guard_env)
    assert entry["argv"][1] == str(tmp_path / name)
    assert_chain([entry])


def test_audit_ids_are_unique_and_chain_links(tool_bin, write_policy, guard_env, marker):
    write_policy(ALLOW_TOOL)
    for _ in range(3):
        run_guard("--", "tool", str(marker))
    run_guard("--", "never-allowed-program")
    log = entries(guard_env)
    assert len(log) == 4
    assert len({e["id"] for e in log}) == 4
    assert_chain(log)


def test_audit_line_is_written_before_the_program_starts(write_policy, guard_env):
    write_policy("[[allow]]\nid = 'cat-log'\nmatch = 'cat **'\n")
    result = run_guard("--", "cat", str(guard_env.audit_log))
    assert result.returncode == 0
    assert f'"command":"cat {guard_env.audit_log}"' in result.stdout


def test_agent_and_session_from_environment(tool_bin, write_policy, guard_env, marker):
    write_policy(ALLOW_TOOL)
    run_guard("--", "tool", str(marker), env={"GUARD_AGENT": "env-bot", "GUARD_SESSION": "s1"})
    entry = entries(guard_env)[-1]
    assert (entry["agent"], entry["session"]) == ("env-bot", "s1")
    run_guard("--", "tool", str(marker))
    assert entries(guard_env)[-1]["agent"] == "anonymous"


def test_audit_log_option_overrides_environment(tool_bin, write_policy, guard_env, tmp_path):
    write_policy(ALLOW_TOOL)
    other = tmp_path / "elsewhere" / "log.jsonl"
    assert run_guard("--audit-log", str(other), "--", "tool", str(tmp_path / "m")).returncode == 0
    assert len(audit_entries(other)) == 1
    assert not guard_env.audit_log.exists()


# ------------------------------------------------------------------ failing closed


def test_audit_log_that_is_a_directory_blocks_the_command(tool_bin, write_policy, tmp_path, marker):
    write_policy(ALLOW_TOOL)
    log_dir = tmp_path / "log-is-a-dir"
    log_dir.mkdir()
    result = run_guard("--", "tool", str(marker), env={"GUARD_AUDIT_LOG": str(log_dir)})
    assert result.returncode == 77
    assert not marker.exists(), "ran although its audit line could not be written"
    line = denied_line(result.stderr)
    assert str(log_dir) in line
    assert "nothing was run" in line


def test_audit_log_under_a_file_blocks_the_command(tool_bin, write_policy, tmp_path, marker):
    write_policy(ALLOW_TOOL)
    blocker = tmp_path / "plain-file"
    blocker.write_text("not a directory")
    log = blocker / "audit.jsonl"
    result = run_guard("--", "tool", str(marker), env={"GUARD_AUDIT_LOG": str(log)})
    assert result.returncode == 77
    assert not marker.exists()
    assert str(log) in result.stderr


def test_a_torn_last_line_does_not_swallow_the_next_entry(tool_bin, write_policy, guard_env):
    write_policy(ALLOW_TOOL)
    run_guard("--", "tool", str(guard_env.root / "m1"))
    with open(guard_env.audit_log, "a") as f:
        f.write('{"torn": "half a li')  # a writer killed mid-line
    assert run_guard("--", "tool", str(guard_env.root / "m2")).returncode == 0
    lines = guard_env.audit_log.read_text().splitlines()
    assert lines[1] == '{"torn": "half a li'
    assert lines[2].startswith("{") and lines[2].endswith("}")
    first, last = (audit_entries_from(lines[i]) for i in (0, 2))
    assert last["prev"] == first["hash"], (
        "the chain skips the torn line and links to the last entry"
    )


def audit_entries_from(line: str) -> dict:
    import json

    return json.loads(line)


def test_a_link_named_python3_is_a_shim_not_guard(tmp_path, write_policy, guard_env):
    """Invoked under a program's name, guard gates that program: `python3 --version` through a
    shim is Python's, and `python3 -c CODE` is never guard's own shell mode."""
    shims = tmp_path / "shims"
    shims.mkdir()
    link = shims / "python3"
    link.symlink_to(GUARD)
    write_policy("[[allow]]\nid = 'py-version'\nmatch = 'python3 --version'\n")
    result = run_guard("--version", executable=str(link))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Python 3")
    entry = entries(guard_env)[-1]
    assert (entry["mode"], entry["argv"]) == ("shim", ["python3", "--version"])
    assert entry["program"] != str(link)

    marker = tmp_path / "ran"
    result = run_guard("-c", f"open({str(marker)!r}, 'w')", executable=str(link))
    assert result.returncode == 77
    entry = entries(guard_env)[-1]
    assert entry["mode"] == "shim"
    assert entry["argv"][:2] == ["python3", "-c"]
    assert not marker.exists()


def test_whitelisted_sh_does_not_carry_rm_rf_past_review(write_policy, guard_env, tmp_path):
    target = tmp_path / "DIR"
    target.mkdir()
    write_policy('[[allow]]\nid = "user-sh"\nmatch = "sh **"\n')
    result = run_guard("sh", "-c", f"rm -rf {target}")
    assert result.returncode == 77
    assert target.is_dir()
    assert entries(guard_env)[-1]["irreversible"] is True


def test_denied_message_is_one_line_even_for_multiline_arguments(tool_bin, guard_env):
    result = run_guard("--", "tool", "two\nlines\x1b[31m")
    assert result.returncode == 77
    (line,) = result.stderr.splitlines()
    assert line.startswith("guard: denied: tool ")
    assert "two\\nlines\\x1b[31m" in line
    assert "\x1b" not in result.stderr


@pytest.mark.parametrize("argv", [["cp", "key.pub", "authorized_keys"], ["tee", "authorized_keys"]])
def test_an_argv_is_judged_in_the_directory_it_runs_in(
    argv: list[str], write_policy, guard_env, tmp_path, monkeypatch
):
    """A request decided elsewhere (a hook's harness, a guard serve client) names its cwd:
    `cp key.pub authorized_keys` from ~/.ssh adds a login key, from a project it does not."""
    from expacti_cli import gate
    from expacti_cli import policy as policy_mod

    path = write_policy('[[allow]]\nid = "files"\nmatch = ["cp **", "tee **"]\n')
    pol = policy_mod.load(str(path))
    monkeypatch.chdir(tmp_path)  # this process runs here, the command elsewhere
    verdicts = {}
    for where in (os.path.expanduser("~/.ssh"), str(tmp_path / "project")):
        req = gate.Request("prefix", argv=argv, agent="bot")
        req.cwd = where
        verdicts[where] = gate.evaluate(pol, req).verdict
    assert list(verdicts.values()) == ["review", "allow"], verdicts
