"""Reviews a human can trust, and a whitelist that learns narrowly (issue 10), end to end.

pexpect drives the installed `guard` in a pseudo-terminal, as a human at the prompt would;
follow-up commands run as agents with no terminal (run_guard), so only the policy, a session
approval or a console can decide them.
"""

from __future__ import annotations

import os
import sys
import time
import tomllib
from pathlib import Path

import pexpect
import pytest
from conftest import GUARD, audit_entries, run_guard
from test_prompt import Session, plain

TIMEOUT = 10


@pytest.fixture
def spawn(pty_env, tmp_path, guard_env):
    children: list[pexpect.spawn] = []

    def start(*args: str, env: dict[str, str] | None = None, program: str = GUARD) -> Session:
        child = pexpect.spawn(
            program,
            list(args),
            env=env or pty_env,
            cwd=str(tmp_path),
            timeout=TIMEOUT,
            dimensions=(50, 200),
            encoding="utf-8",
            codec_errors="replace",
        )
        children.append(child)
        return Session(child)

    yield start
    for child in children:
        if child.isalive():
            child.close(force=True)


@pytest.fixture
def pty_env(tool_bin: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["COLUMNS"] = "200"
    env["TERM"] = "xterm"
    env["GUARD_REVIEWER"] = "alice"
    return env


@pytest.fixture
def user_policy(write_policy):
    return write_policy('[settings]\nreview_timeout = "60s"\n')


def test_a_10kb_word_is_fully_visible_with_the_whole_command_key(spawn, user_policy, marker):
    word = "".join(f"{i:05d}" for i in range(2000))  # 10,000 characters, every one distinct
    s = spawn("--", "tool", str(marker), word)
    screen = s.wait_for_keys()
    assert "f whole command" in screen
    assert "…" not in screen and "..." not in screen  # nothing cut in the panel either
    s.child.send("f")
    screen = s.expect("end of command")
    assert word in screen  # escaped (nothing to escape here), in one piece
    assert f"the whole command ({len(f'tool {marker} {word}')} characters)" in screen
    s.wait_for_keys()
    s.child.send("n")
    s.expect("reason")
    s.child.send("\r")
    assert s.finish() == 77
    assert not marker.exists()


def test_the_whole_command_key_numbers_lines_and_escapes(spawn, user_policy, marker):
    line = f"tool {marker} && echo 'two\n\x1b[2Jthree'"
    s = spawn("-c", line)
    s.wait_for_keys()
    s.child.send("f")
    screen = s.expect("end of command")
    assert f"1 | tool {marker}" in screen
    assert "2 | \\x1b[2Jthree'" in screen  # the escape shown, not obeyed
    s.child.send("n")
    s.expect("reason")
    s.child.send("\r")
    assert s.finish() == 77


def test_remember_on_python_m_pytest_proposes_the_module_never_python3_catch_all(
    spawn, user_policy, guard_env
):
    s = spawn("--", "python3", "-m", "pytest", "-q", "tests/")
    s.wait_for_keys()
    s.child.send("a")
    screen = s.expect("Enter keeps it")
    assert "pattern to whitelist python3 -m pytest ** " in screen
    s.child.sendline("python3 **")  # the reviewer tries the catch-all: refused
    screen = s.expect("Enter keeps it")
    assert "refused: python3 **" in screen
    s.child.send("\x03")  # Ctrl-C: deny
    assert s.finish() == 77
    assert "allow" not in tomllib.loads(guard_env.user_policy.read_text())


def test_a_typed_pattern_that_does_not_match_the_command_is_refused(
    spawn, user_policy, marker, guard_env
):
    s = spawn("--", "tool", str(marker))
    s.wait_for_keys()
    s.child.send("a")
    s.expect("Enter keeps it")
    s.child.sendline("rm **")
    screen = s.expect("Enter keeps it")
    assert "refused: rm **: it does not match the command under review" in screen
    s.child.sendline("-")  # give up remembering: approved once
    s.expect(f"tool ran: {marker}")
    assert s.finish() == 0
    assert "allow" not in tomllib.loads(guard_env.user_policy.read_text())


def test_a_pattern_wider_than_the_operation_is_refused(spawn, user_policy, marker, guard_env):
    s = spawn("--", "tool", "sub", str(marker))
    s.wait_for_keys()
    s.child.send("a")
    screen = s.expect("Enter keeps it")
    assert "pattern to whitelist tool sub **" in screen
    s.child.sendline("tool * **")  # any subcommand of tool: broader than the suggestion
    screen = s.expect("Enter keeps it")
    assert "refused: tool * **: the pattern must spell out the operation `tool sub`" in screen
    s.child.sendline("")  # Enter: the suggestion itself
    s.expect("lifetime")
    s.child.sendline("")
    s.expect("added to")
    s.finish()
    (rule,) = tomllib.loads(guard_env.user_policy.read_text())["allow"]
    assert rule["match"] == "tool sub **"


def test_a_remembered_rule_applies_to_the_asking_agent_only(
    spawn, user_policy, marker, guard_env, tmp_path
):
    s = spawn("--agent", "bot-a", "--", "tool", str(marker))
    s.wait_for_keys()
    s.child.send("a")
    s.expect("Enter keeps it")
    s.child.sendline("")
    screen = s.expect("lifetime")
    assert "for agent bot-a only" in screen
    s.child.sendline("")
    s.expect(f"tool ran: {marker}")
    assert s.finish() == 0
    (rule,) = tomllib.loads(guard_env.user_policy.read_text())["allow"]
    assert rule["agents"] == ["bot-a"]
    assert rule["learned"]["by"] == "alice"
    assert rule["learned"]["command"] == f"tool {marker}"

    other = tmp_path / "other.marker"
    assert run_guard("--agent", "bot-a", "--", "tool", str(other)).returncode == 0
    assert other.exists()
    other.unlink()
    refused = run_guard("--agent", "bot-b", "--", "tool", str(other))
    assert refused.returncode == 77
    assert not other.exists()


def test_a_remembered_rule_can_expire(spawn, user_policy, marker, guard_env):
    s = spawn("--", "tool", str(marker))
    s.wait_for_keys()
    s.child.send("a")
    s.expect("Enter keeps it")
    s.child.sendline("")
    s.expect("lifetime")
    s.child.sendline("all 1s")
    s.expect("every agent, until")
    assert s.finish() == 0
    (rule,) = tomllib.loads(guard_env.user_policy.read_text())["allow"]
    assert "agents" not in rule and rule["expires"].endswith("Z")
    time.sleep(2.1)
    assert run_guard("--", "tool", str(marker)).returncode == 77


def test_approve_for_this_session_does_not_carry_to_another_session(
    spawn, user_policy, marker, guard_env, tmp_path
):
    s = spawn("--session", "s-1", "--", "tool", str(marker))
    s.wait_for_keys()
    s.child.send("s")
    s.expect(f"tool ran: {marker}")
    assert s.finish() == 0
    marker.unlink()

    same = run_guard("--session", "s-1", "--", "tool", str(marker), cwd=tmp_path)
    assert same.returncode == 0, same.stderr
    assert marker.exists()
    entry = audit_entries(guard_env.audit_log)[-1]
    assert (entry["decision"], entry["reason"]) == ("approved", "approved for this session")
    marker.unlink()

    for args, cwd in (
        (["--session", "s-2", "--", "tool", str(marker)], tmp_path),  # another session
        (["--session", "s-1", "--agent", "x", "--", "tool", str(marker)], tmp_path),  # agent
        (["--session", "s-1", "--", "tool", str(marker), "0"], tmp_path),  # another command
        (["--session", "s-1", "--", "tool", str(marker)], "/"),  # another directory
    ):
        result = run_guard(*args, cwd=cwd)
        assert result.returncode == 77, args
        assert not marker.exists()


def test_approve_for_this_session_is_not_offered_for_irreversible_commands(
    spawn, write_policy, marker
):
    write_policy(
        '[settings]\nreview_timeout = "60s"\n'
        '[[irreversible]]\nid = "t"\nmatch = "tool **"\nreason = "gone for good"\n'
    )
    s = spawn("--", "tool", str(marker))
    screen = s.wait_for_keys()
    assert "approve for this session" not in screen
    assert "approve and remember" not in screen
    s.child.send("s")  # not a choice here
    s.child.send("n")
    s.expect("reason")
    s.child.send("\r")
    assert s.finish() == 77


RAW_HOLDER = """
import subprocess, sys, termios, tty
tty.setraw(0)  # as an agent's TUI does while its shell tool runs a command
print("raw-held", flush=True)
result = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL)
print(f"guard-exit={result.returncode}", flush=True)
"""


def test_a_terminal_held_in_raw_mode_is_not_drawn_on(spawn, pty_env, user_policy, marker):
    env = dict(pty_env, GUARD_REVIEW="tty")
    s = spawn("-c", RAW_HOLDER, GUARD, "--", "tool", str(marker), env=env, program=sys.executable)
    s.expect("guard-exit=")
    s.expect("\n")
    assert "guard-exit=77" in s.text
    assert "review needed" not in s.text  # no panel drawn on the TUI's screen
    assert "raw mode" in s.text or "no reviewer" in s.text
    assert not marker.exists()


def test_review_from_a_raw_mode_terminal_is_answered_in_the_console(
    spawn, pty_env, user_policy, marker, guard_env
):
    console = spawn("review", "--reviewer", "carol")
    console.expect("waiting for requests")
    agent = spawn(
        "-c", RAW_HOLDER, GUARD, "--", "tool", str(marker), env=pty_env, program=sys.executable
    )
    agent.expect("raw-held")
    console.expect("from pid")
    screen = console.expect(" quit ?")
    assert f"tool {marker}" in screen
    time.sleep(0.15)
    console.child.send("y")
    agent.expect("guard-exit=")
    agent.expect("\n")
    assert "guard-exit=0" in agent.text
    assert "review needed" not in plain(agent.text)
    assert marker.exists()
    entry = audit_entries(guard_env.audit_log)[-1]
    assert (entry["decision"], entry["reviewer"]) == ("approved", "carol")


def test_guard_review_mode_console_without_a_console_denies(
    user_policy, tool_bin, marker, guard_env
):
    result = run_guard("--", "tool", str(marker), env={"GUARD_REVIEW": "console"})
    assert result.returncode == 77
    assert "no guard review console is running" in audit_entries(guard_env.audit_log)[-1]["reason"]


def test_an_invalid_guard_review_value_fails_closed(user_policy, tool_bin, marker, guard_env):
    result = run_guard("--", "tool", str(marker), env={"GUARD_REVIEW": "maybe"})
    assert result.returncode == 77
    assert "GUARD_REVIEW='maybe'" in audit_entries(guard_env.audit_log)[-1]["reason"]


def test_remember_offers_only_the_exact_command_for_a_review_rule(spawn, write_policy, marker):
    write_policy(
        '[settings]\nreview_timeout = "60s"\n'
        '[[allow]]\nid = "tool-all"\nmatch = "tool **"\n'
        '[[review]]\nid = "tool-slow"\nmatch = "tool **"\nflags = ["--slow"]\n'
        'reason = "slow mode runs for hours"\n'
    )
    s = spawn("--", "tool", str(marker), "0", "--slow")
    s.wait_for_keys()
    s.child.send("a")
    screen = s.expect("Enter keeps it")
    assert f"pattern to whitelist tool {marker} 0 --slow " in screen
    s.child.sendline("tool ** --slow")  # a wildcard would not lift the review rule: refused
    screen = s.expect("Enter keeps it")
    assert "refused: tool ** --slow" in screen
    s.child.sendline("")
    s.expect("lifetime")
    s.child.sendline("")
    s.expect("tool ran")
    assert s.finish() == 0
    marker.unlink()
    assert run_guard("--", "tool", str(marker), "0", "--slow").returncode == 0  # lifted, exactly
    assert run_guard("--", "tool", str(marker), "1", "--slow").returncode == 77


def test_remember_shows_what_else_the_pattern_would_allow(spawn, user_policy, tool_bin, tmp_path):
    for args in (["sub", "a"], ["sub", "b"], ["other", "c"]):
        assert run_guard("--", "tool", *args).returncode == 77  # history in the audit log
    s = spawn("--", "tool", "sub", str(tmp_path / "m"))
    s.wait_for_keys()
    s.child.send("a")
    s.expect("Enter keeps it")
    s.child.sendline("")
    screen = s.expect("lifetime")
    assert "of this agent's 3 other past commands, tool sub ** would also allow 2:" in screen
    assert "+ tool sub b" in screen and "+ tool sub a" in screen
    assert "- tool other c" in screen
    s.child.send("\x03")
    s.finish()
