"""The human prompt, driven through a real pseudo-terminal (DESIGN.md, The human prompt).

pexpect runs the installed `guard` with a pty as its controlling terminal, so the prompt opens
/dev/tty exactly as it would in front of a human.
"""

from __future__ import annotations

import os
import re
import signal
import time
import tomllib
from pathlib import Path

import pexpect
import pytest
from conftest import GUARD, audit_entries, run_guard

TIMEOUT = 10
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
KEYS_PROMPT = "/Enter deny"  # the end of the keys line, printed just before a key is read


def plain(text: str) -> str:
    return _ANSI.sub("", text).replace("\r", "")


@pytest.fixture
def pty_env(tool_bin: Path) -> dict[str, str]:
    env = dict(os.environ)  # PATH starts with tool_bin
    env["COLUMNS"] = "200"  # one line per prompt row: no wrapping inside what we look for
    env["TERM"] = "xterm"
    env["GUARD_REVIEWER"] = "alice"
    return env


@pytest.fixture
def policy(write_policy):
    return write_policy(
        """
        [settings]
        review_timeout = "60s"  # longer than TIMEOUT: a prompt that hangs fails the test

        [[irreversible]]
        id = "tool-wipe"
        match = "tool **"
        flags = ["--wipe"]
        reason = "wipes the tool's data for good"
        """
    )


class Session:
    """One guard run in a pty: the output seen so far, and the exit status."""

    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child
        self.seen = ""

    def expect(self, pattern: str | type) -> str:
        self.child.expect(pattern)
        before = self.child.before if isinstance(self.child.before, str) else ""
        after = self.child.after if isinstance(self.child.after, str) else ""
        self.seen += before + after
        return plain(self.seen)

    def finish(self) -> int:
        self.expect(pexpect.EOF)
        self.child.close()
        assert self.child.signalstatus is None, f"killed by signal: {plain(self.seen)}"
        return int(self.child.exitstatus)

    def wait_for_keys(self) -> str:
        """The screen once the choice is asked. The prompt discards input typed before it
        reads a key (the terminal is flushed), so leave it a moment to get there."""
        screen = self.expect(KEYS_PROMPT)
        time.sleep(0.15)
        return screen

    @property
    def text(self) -> str:
        return plain(self.seen)


def _interruptible() -> None:
    """SIGINT as a terminal gives it: a test run started in the background without job
    control (bash ignores SIGINT for such commands, and children inherit that) would
    otherwise run guard with SIGINT ignored, and the SIGINT test would wait in vain."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture
def spawn(pty_env, tmp_path):
    children: list[pexpect.spawn] = []

    def start(*args: str, program: str = GUARD) -> Session:
        child = pexpect.spawn(
            program,
            list(args),
            env=pty_env,
            cwd=str(tmp_path),
            timeout=TIMEOUT,
            dimensions=(50, 200),
            encoding="utf-8",
            codec_errors="replace",
            preexec_fn=_interruptible,
        )
        children.append(child)
        return Session(child)

    yield start
    for child in children:
        if child.isalive():
            child.close(force=True)


def last_entry(guard_env) -> dict:
    return audit_entries(guard_env.audit_log)[-1]


def test_prompt_shows_irreversible_command_agent_and_rule(
    spawn, policy, marker, guard_env, tmp_path
):
    earlier = tmp_path / "earlier"
    assert run_guard("--agent", "bot-7", "--", "tool", str(earlier)).returncode == 77
    s = spawn("--agent", "bot-7", "--session", "s-42", "--", "tool", str(marker), "--wipe")
    screen = s.wait_for_keys()
    assert f"tool {marker} --wipe" in screen
    assert "IRREVERSIBLE" in screen
    assert "bot-7" in screen
    assert "s-42" in screen
    assert str(tmp_path) in screen  # the working directory
    recent = [ln for ln in screen.splitlines() if f"tool {earlier}" in ln]
    assert recent and "denied" in recent[0], "the agent's recent commands are shown"
    assert "tool-wipe: wipes the tool's data for good" in screen
    # "Remember" is never offered for an irreversible command.
    assert "remember" not in screen
    s.child.send("a")  # not a choice here: nothing happens
    s.child.send("n")
    s.expect("reason")
    s.child.sendline("use the staging copy")
    assert s.finish() == 77
    assert not marker.exists()
    denied = [ln for ln in s.text.splitlines() if ln.startswith("guard: denied:")]
    assert len(denied) == 1
    assert "tool-wipe" in denied[0]
    assert "use the staging copy" in denied[0]
    entry = last_entry(guard_env)
    assert entry["decision"] == "denied"
    assert entry["decided_by"] == "reviewer"
    assert entry["reviewer"] == "alice"
    assert entry["irreversible"] is True
    assert entry["agent"] == "bot-7"
    assert entry["reason"] == "use the staging copy"


def test_y_runs_the_command_and_passes_its_exit_status(spawn, policy, marker, guard_env):
    s = spawn("--", "tool", str(marker), "3", "--wipe")
    s.wait_for_keys()
    s.child.send("y")
    s.expect(f"tool ran: {marker}")
    assert s.finish() == 3
    assert marker.exists()
    entry = last_entry(guard_env)
    assert (entry["decision"], entry["decided_by"], entry["reviewer"]) == (
        "approved",
        "reviewer",
        "alice",
    )
    assert entry["latency_ms"] > 0


@pytest.mark.parametrize(
    "case",
    [
        pytest.param((["n", "\r"], "n, Enter at the reason"), id="n-enter"),
        pytest.param((["\r", "\r"], "Enter, Enter at the reason"), id="enter-enter"),
        pytest.param((["\x03"], "Ctrl-C"), id="ctrl-c"),
        pytest.param((["\x04"], "Ctrl-D (EOF)"), id="ctrl-d"),
        pytest.param((["n", "\x03"], "n, Ctrl-C at the reason"), id="n-ctrl-c"),
    ],
)
def test_deny_keys(spawn, policy, marker, guard_env, case):
    keys, label = case
    s = spawn("--", "tool", str(marker))
    s.wait_for_keys()
    for key in keys:
        s.child.send(key)
    assert s.finish() == 77, label
    assert not marker.exists(), f"{label}: the program ran"
    assert "guard: denied:" in s.text
    entry = last_entry(guard_env)
    assert entry["decision"] == "denied"
    assert entry["decided_by"] == "reviewer"


def test_sigint_while_waiting_denies_and_is_recorded(spawn, policy, marker, guard_env):
    """A SIGINT from outside (the agent's harness interrupted) is a denial, not a crash."""
    s = spawn("--", "tool", str(marker))
    s.wait_for_keys()
    s.child.kill(signal.SIGINT)
    assert s.finish() == 77
    assert not marker.exists()
    assert "Traceback" not in s.text
    entry = last_entry(guard_env)
    assert (entry["decision"], entry["decided_by"]) == ("denied", "reviewer")


def test_command_cannot_hide_itself_from_the_reviewer(spawn, policy, tmp_path, guard_env):
    """Terminal escapes and line breaks in an argument are shown, not obeyed: an agent cannot
    conceal (ESC [8m), erase or overwrite part of the command the human approves."""
    target = tmp_path / "data"
    sneaky = f"{target}\x1b[8m HIDDEN\x1b[0m\r\x1b[2Kls"
    s = spawn("--agent", "bot\x1b[31m", "--", "tool", sneaky, "a\nb")
    s.wait_for_keys()
    raw = s.seen
    assert "\x1b[8m" not in raw
    assert "\x1b[2K" not in raw
    assert "\x1b[31m" not in raw.split("agent", 1)[1].split("session", 1)[0]
    screen = s.text
    assert "\\x1b[8m HIDDEN\\x1b[0m\\r\\x1b[2Kls" in screen
    assert "a\\nb" in screen
    s.child.send("n")
    s.expect("reason")
    s.child.send("\r")
    assert s.finish() == 77


def test_arrow_keys_are_not_answers(spawn, policy, marker, guard_env):
    """Up is `ESC [ A`: its `A` must not count as "approve and remember" (nor Alt+y as y)."""
    s = spawn("--", "tool", str(marker))
    s.wait_for_keys()
    for seq in ("\x1b[A", "\x1b[B", "\x1bOA", "\x1b[1;5A", "\x1by", "\x1bY"):
        s.child.send(seq)
        time.sleep(0.15)
    s.child.send("n")
    s.expect("reason")
    s.child.send("\r")
    assert s.finish() == 77
    assert not marker.exists()
    assert "pattern to whitelist" not in s.text
    assert "approved" not in s.text
    assert last_entry(guard_env)["decision"] == "denied"


def test_keys_typed_before_the_question_do_not_answer_it(spawn, policy, marker, guard_env):
    """A `y` already waiting on the terminal (typed ahead, or injected) is not an approval."""
    s = spawn("--", "tool", str(marker))
    s.child.send("y")  # before the prompt is even drawn
    s.wait_for_keys()
    assert s.child.expect(["approved", pexpect.TIMEOUT], timeout=0.5) == 1
    s.child.send("n")
    s.expect("reason")
    s.child.send("\r")
    assert s.finish() == 77
    assert not marker.exists()


def test_approve_and_remember_whitelists_the_command(
    spawn, marker, guard_env, pty_env, write_policy
):
    # A policy as `guard init` leaves it: tables and comments the new rule must not disturb.
    write_policy(
        """
        # my policy
        [settings]
        review_timeout = "60s"  # keep this comment

        [programs.tool]
        clusters = true
        """
    )
    s = spawn("--", "tool", str(marker))
    screen = s.wait_for_keys()
    assert "approve and remember" in screen
    s.child.send("a")
    screen = s.expect("Enter keeps it")
    assert "tool **" in screen  # the suggested pattern
    s.child.sendline("")
    s.expect("lifetime")
    s.child.sendline("")  # this agent only, never expiring
    s.expect(f"tool ran: {marker}")
    assert s.finish() == 0

    text = guard_env.user_policy.read_text()
    assert "# my policy" in text
    assert 'review_timeout = "60s"  # keep this comment' in text
    layer = tomllib.loads(text)
    assert [r["match"] for r in layer["allow"]] == ["tool **"]
    assert [r["agents"] for r in layer["allow"]] == [["anonymous"]]
    assert layer["allow"][0]["learned"]["by"] == "alice"
    assert layer["allow"][0]["learned"]["command"] == f"tool {marker}"
    assert layer["settings"] == {"review_timeout": "60s"}
    entry = last_entry(guard_env)
    assert entry["decision"] == "approved"
    assert entry["remembered"] == "tool **"

    # The same command now runs with nobody to ask.
    marker.unlink()
    again = run_guard("--", "tool", str(marker))
    assert again.returncode == 0, again.stderr
    assert marker.exists()
    assert last_entry(guard_env)["decision"] == "allowed"


def test_remember_with_an_edited_pattern(spawn, marker, guard_env, pty_env, tmp_path):
    s = spawn("--", "tool", str(marker))
    s.wait_for_keys()
    s.child.send("a")
    s.expect("Enter keeps it")
    s.child.sendline(f"tool {tmp_path}/[ro]*")  # brackets: a glob, not terminal markup
    s.expect("lifetime")
    s.child.sendline("")
    s.expect("added to")
    assert s.finish() == 0
    other = tmp_path / "other.marker"
    assert run_guard("--", "tool", str(other)).returncode == 0
    assert other.exists()
    # The edited pattern is narrower than the suggestion: an extra argument is not covered.
    third = tmp_path / "third.marker"
    result = run_guard("--", "tool", str(third), "0")
    assert result.returncode == 77
    assert not third.exists()


def test_review_timeout_denies(spawn, write_policy, marker, guard_env):
    write_policy('[settings]\nreview_timeout = "1s"\n')
    s = spawn("--", "tool", str(marker))
    s.wait_for_keys()
    shown = time.monotonic()
    assert s.finish() == 77
    assert time.monotonic() - shown < 5
    assert not marker.exists()
    assert "timed out" in s.text
    entry = last_entry(guard_env)
    assert entry["decision"] == "denied"
    assert entry["decided_by"] == "timeout"


def test_prompt_works_while_stdin_and_stdout_are_pipes(spawn, policy, tmp_path, guard_env):
    out = tmp_path / "out.txt"
    s = spawn("-c", f"echo data | {GUARD} -- relay > {out}", program="/bin/bash")
    screen = s.wait_for_keys()
    assert "relay" in screen
    s.child.send("y")
    assert s.finish() == 0
    assert out.read_text() == "data\n"
    assert last_entry(guard_env)["decision"] == "approved"


def test_whitelisted_command_does_not_prompt(spawn, write_policy, marker):
    write_policy("[[allow]]\nid = 'tool'\nmatch = 'tool **'\n")
    s = spawn("--", "tool", str(marker))
    s.expect(f"tool ran: {marker}")
    assert s.finish() == 0
    assert "review needed" not in s.text
