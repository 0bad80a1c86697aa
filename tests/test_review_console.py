"""The reviewer console, `guard review` (DESIGN.md, The human prompt; Decisions).

Real processes: agents are the installed `guard` started with `start_new_session=True`, so they
have no controlling terminal and must go through the review queue; the console runs in a
pexpect pseudo-terminal, as in front of a human.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import time
import tomllib
from pathlib import Path
from typing import Any

import pexpect
import pytest
from conftest import GUARD, GUARD_PATH_VARS, audit_entries, run_guard, spawn_guard

from expacti_cli import reviewqueue

TIMEOUT = 10
KEYS = " quit ?"  # the end of the console's keys line, printed just before a key is read
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


def plain(text: str) -> str:
    return _ANSI.sub("", text).replace("\r", "")


class ConsoleEnv:
    """Every guard path in tmp_path, a policy sending `tool` to review, and helpers."""

    def __init__(self, tmp_path: Path, env: dict[str, str]) -> None:
        self.tmp = tmp_path
        self.env = env
        self.review_dir = Path(env["GUARD_REVIEW_DIR"])
        self.requests = self.review_dir / "requests"
        self.answers = self.review_dir / "answers"
        self.audit_log = Path(env["GUARD_AUDIT_LOG"])
        self.children: list[Any] = []

    def policy(self, timeout: str) -> None:
        Path(self.env["GUARD_POLICY"]).write_text(
            f'[settings]\nreview_timeout = "{timeout}"\nwhen_no_reviewer = "deny"\n'
        )

    def agent(self, marker: Path, agent: str = "bot-1") -> subprocess.Popen[str]:
        """`guard -- tool MARKER` as an agent with no terminal (`tool` is unknown: review)."""
        proc = spawn_guard(
            "--agent",
            agent,
            "--session",
            f"s-{agent}",
            "--",
            "tool",
            str(marker),
            env=self.env,
            cwd=self.tmp,
        )
        self.children.append(proc)
        return proc

    def console(self, *args: str) -> Console:
        child = pexpect.spawn(
            GUARD,
            ["review", "--reviewer", "alice", *args],
            env=self.env,
            cwd=str(self.tmp),
            timeout=TIMEOUT,
            dimensions=(50, 200),
            encoding="utf-8",
            codec_errors="replace",
        )
        self.children.append(child)
        return Console(child)

    def live_console(self) -> Console:
        """A console that holds its lock (it said so): agents will now queue their reviews."""
        console = self.console()
        console.expect("waiting for requests")
        assert reviewqueue.console_live()
        return console

    def request_files(self) -> list[Path]:
        return sorted(self.requests.glob("*.json")) if self.requests.exists() else []

    def wait_requests(self, count: int) -> list[Path]:
        give_up = time.monotonic() + TIMEOUT
        while time.monotonic() < give_up:
            found = self.request_files()
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"expected {count} queued request(s), found {self.request_files()}")

    def entries(self) -> list[dict[str, Any]]:
        return audit_entries(self.audit_log)

    def entry_for(self, agent: str) -> dict[str, Any]:
        (entry,) = [e for e in self.entries() if e["agent"] == agent]
        return entry


class Console:
    def __init__(self, child: pexpect.spawn) -> None:
        self.child = child
        self.seen = ""

    def expect(self, pattern: Any) -> str:
        self.child.expect(pattern)
        for part in (self.child.before, self.child.after):
            if isinstance(part, str):
                self.seen += part
        return plain(self.seen)

    def wait_for_keys(self) -> str:
        """The screen once a request is shown and a key is asked. The console drops keys
        typed before it asks (so a key meant for one request never answers the next):
        leave it a moment to get there."""
        screen = self.expect(re.escape(KEYS))
        time.sleep(0.3)
        return screen

    def quit(self) -> int:
        self.child.send("q")
        self.expect(pexpect.EOF)
        self.child.close()
        return int(self.child.exitstatus)


def finish(proc: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, out, err


def denied_line(stderr: str) -> str:
    (line,) = [x for x in stderr.splitlines() if x.startswith("guard: denied:")]
    return line


@pytest.fixture
def console_env(tmp_path: Path, guard_env: Any, tool_bin: Path, policy_file: Path) -> Any:
    env = dict(os.environ)  # guard_env (autouse), tool_bin and policy_file set these for this test
    env["COLUMNS"] = "200"
    env["TERM"] = "xterm"
    env.pop("GUARD_REVIEWER", None)
    for var in GUARD_PATH_VARS:
        assert Path(env[var]).is_relative_to(tmp_path), var
    ce = ConsoleEnv(tmp_path, env)
    ce.policy("10s")
    yield ce
    for child in ce.children:
        if isinstance(child, subprocess.Popen):
            if child.poll() is None:
                child.kill()
                child.communicate()
        elif child.isalive():
            child.close(force=True)


@pytest.fixture
def fake_console(console_env: ConsoleEnv) -> Any:
    """The console lock held by the test itself: agents queue, nothing answers."""
    fd = reviewqueue.hold_console_lock()
    holder = {"fd": fd}
    yield holder
    if holder["fd"] is not None:
        os.close(holder["fd"])


# ------------------------------------------------------------------ answers from the console


def test_approval_in_the_console_runs_the_agents_command(console_env, tmp_path):
    console = console_env.live_console()
    marker = tmp_path / "approved.marker"
    agent = console_env.agent(marker, agent="bot-7")
    screen = console.wait_for_keys()
    assert f"tool {marker}" in screen
    assert "bot-7" in screen
    assert "s-bot-7" in screen
    assert str(tmp_path) in screen  # the agent's working directory
    assert "policy default" in screen  # why it is under review
    console.child.send("y")
    status, out, err = finish(agent)
    assert status == 0, err
    assert marker.exists()
    assert f"tool ran: {marker}" in out
    assert "guard: waiting for a reviewer in guard review (timeout 10s)" in err
    entry = console_env.entry_for("bot-7")
    assert (entry["decision"], entry["decided_by"], entry["reviewer"]) == (
        "approved",
        "reviewer",
        "alice",
    )
    assert "approved" in console.expect("approved")
    assert console.quit() == 0
    assert console_env.request_files() == []  # the agent withdrew its answered request
    assert not reviewqueue.console_live()  # quitting released the lock


def test_denial_with_a_reason_reaches_the_agent(console_env, tmp_path):
    console = console_env.live_console()
    marker = tmp_path / "denied.marker"
    agent = console_env.agent(marker)
    console.wait_for_keys()
    console.child.send("n")
    console.expect("reason for the agent")
    console.child.sendline("use the staging copy instead")
    status, _, err = finish(agent)
    assert status == 77
    assert not marker.exists()
    line = denied_line(err)
    assert f"tool {marker}" in line
    assert "use the staging copy instead" in line
    entry = console_env.entry_for("bot-1")
    assert (entry["decision"], entry["decided_by"], entry["reviewer"]) == (
        "denied",
        "reviewer",
        "alice",
    )
    assert entry["reason"] == "use the staging copy instead"
    console.expect("denied")
    assert console.quit() == 0


def test_irreversible_request_shows_badge_and_recent_commands(console_env, tmp_path):
    Path(console_env.env["GUARD_POLICY"]).write_text(
        '[settings]\nreview_timeout = "10s"\n\n'
        '[[irreversible]]\nid = "tool-wipe"\nmatch = "tool **"\nflags = ["--wipe"]\n'
        'reason = "wipes the tool data for good"\n'
    )
    earlier = tmp_path / "earlier"
    assert (
        run_guard("--agent", "bot-1", "--", "tool", str(earlier), env=console_env.env).returncode
        == 77
    )
    console = console_env.live_console()
    marker = tmp_path / "wipe.marker"
    proc = spawn_guard("--agent", "bot-1", "--", "tool", str(marker), "--wipe", env=console_env.env)
    console_env.children.append(proc)
    screen = console.wait_for_keys()
    assert "IRREVERSIBLE" in screen
    assert "tool-wipe: wipes the tool data for good" in screen
    assert f"tool {earlier}" in screen  # the agent's recent commands
    console.child.send("n")
    console.expect("reason for the agent")
    console.child.sendline("")
    status, _, _ = finish(proc)
    assert status == 77
    assert not marker.exists()


def test_two_agents_at_once_each_get_their_own_answer(console_env, tmp_path):
    console = console_env.live_console()
    first, second = tmp_path / "first.marker", tmp_path / "second.marker"
    agent_a = console_env.agent(first, agent="bot-a")
    console_env.wait_requests(1)
    agent_b = console_env.agent(second, agent="bot-b")
    assert len(console_env.wait_requests(2)) == 2  # both queued at the same time
    screen = console.wait_for_keys()
    assert f"tool {first}" in screen  # oldest first
    console.child.send("y")
    console.expect("approved")
    screen = console.wait_for_keys()
    assert f"tool {second}" in screen.rsplit("approved", 1)[1]
    console.child.send("n")
    console.expect("reason for the agent")
    console.child.sendline("only one of you")
    status_a, _, err_a = finish(agent_a)
    status_b, _, err_b = finish(agent_b)
    assert (status_a, first.exists()) == (0, True), err_a
    assert (status_b, second.exists()) == (77, False)
    assert "only one of you" in denied_line(err_b)
    assert console_env.entry_for("bot-a")["decision"] == "approved"
    assert console_env.entry_for("bot-b")["decision"] == "denied"
    assert console.quit() == 0


def test_once_answers_what_is_pending_then_exits(console_env, fake_console, tmp_path):
    marker = tmp_path / "once.marker"
    agent = console_env.agent(marker)
    console_env.wait_requests(1)
    os.close(fake_console["fd"])  # hand over to a real console (agents wait 2 s for one)
    fake_console["fd"] = None
    console = console_env.console("--once")
    console.wait_for_keys()
    console.child.send("y")
    console.expect(pexpect.EOF)
    console.child.close()
    assert console.child.exitstatus == 0
    status, _, err = finish(agent)
    assert status == 0, err
    assert marker.exists()


# ------------------------------------------------------------------ nobody answers


def test_no_console_denies_at_once(console_env, tmp_path):
    marker = tmp_path / "never.marker"
    started = time.monotonic()
    result = run_guard("--", "tool", str(marker), env=console_env.env)
    assert result.returncode == 77
    assert time.monotonic() - started < 5  # not a 10 s review timeout
    assert not marker.exists()
    assert "no reviewer could be asked" in denied_line(result.stderr)
    assert console_env.entries()[-1]["decided_by"] == "no_reviewer"
    assert console_env.request_files() == []


def test_a_console_that_has_exited_is_not_reachable(console_env, tmp_path):
    console = console_env.console("--once")  # nothing pending: exits at once
    console.expect(pexpect.EOF)
    console.child.close()
    assert console.child.exitstatus == 0
    assert (console_env.review_dir / "console.lock").exists()
    result = run_guard("--", "tool", str(tmp_path / "m"), env=console_env.env)
    assert result.returncode == 77
    assert console_env.entries()[-1]["decided_by"] == "no_reviewer"


def test_unanswered_review_times_out_and_is_withdrawn(console_env, tmp_path):
    console_env.policy("2s")
    console = console_env.live_console()
    marker = tmp_path / "late.marker"
    agent = console_env.agent(marker)
    console.wait_for_keys()
    started = time.monotonic()
    status, _, err = finish(agent)
    assert status == 77
    assert time.monotonic() - started < 5
    assert not marker.exists()
    assert "timed out" in denied_line(err)
    entry = console_env.entries()[-1]
    assert (entry["decision"], entry["decided_by"]) == ("denied", "timeout")
    assert console_env.request_files() == []
    assert re.search("withdrawn|timed out", console.expect("withdrawn|timed out"))
    assert console.quit() == 0


def test_console_closing_mid_review_denies_without_waiting_for_the_timeout(
    console_env, fake_console, tmp_path
):
    agent = console_env.agent(tmp_path / "m")
    console_env.wait_requests(1)
    started = time.monotonic()
    os.close(fake_console["fd"])
    fake_console["fd"] = None
    status, _, _ = finish(agent)
    assert status == 77
    assert time.monotonic() - started < 6  # ~2 s grace, not the 10 s review timeout
    entry = console_env.entries()[-1]
    assert entry["decided_by"] == "no_reviewer"
    assert "closed" in entry["reason"]
    assert console_env.request_files() == []


# ------------------------------------------------------------------ fail closed


def test_corrupt_answer_is_a_denial(console_env, fake_console, tmp_path):
    marker = tmp_path / "corrupt.marker"
    agent = console_env.agent(marker)
    (request,) = console_env.wait_requests(1)
    console_env.answers.mkdir(exist_ok=True)
    (console_env.answers / request.name).write_text('{"approved": tru')
    status, _, _ = finish(agent)
    assert status == 77
    assert not marker.exists()
    entry = console_env.entries()[-1]
    assert entry["decision"] == "denied"
    assert "not valid JSON" in entry["reason"]


def test_approval_of_a_request_changed_after_submission_is_refused(
    console_env, fake_console, tmp_path
):
    marker = tmp_path / "swapped.marker"
    agent = console_env.agent(marker)
    (request,) = console_env.wait_requests(1)
    data = json.loads(request.read_text())
    data["command"] = "tool harmless"
    request.write_text(json.dumps(data))
    os.close(fake_console["fd"])
    fake_console["fd"] = None
    console = console_env.console("--once")
    screen = console.wait_for_keys()
    assert "tool harmless" in screen  # what the reviewer was shown...
    console.child.send("y")
    console.expect(pexpect.EOF)
    status, _, _ = finish(agent)
    assert status == 77  # ...is not what the agent asked for
    assert not marker.exists()
    assert "changed after it was submitted" in console_env.entries()[-1]["reason"]


# ------------------------------------------------------------------ the console itself


def test_only_one_console_at_a_time(console_env):
    first = console_env.live_console()
    second = console_env.console()
    screen = second.expect(pexpect.EOF)
    second.child.close()
    assert second.child.exitstatus == 64
    assert "another reviewer console is already running" in screen
    assert first.quit() == 0


def test_console_needs_a_terminal(console_env):
    result = run_guard("review", env=console_env.env)
    assert result.returncode == 64
    assert "needs a terminal" in result.stderr


def test_ctrl_c_quits_and_releases_the_lock(console_env):
    console = console_env.live_console()
    time.sleep(0.3)
    console.child.sendintr()
    console.expect("stopped")
    console.expect(pexpect.EOF)
    console.child.close()
    assert console.child.exitstatus == 0
    assert not reviewqueue.console_live()


# ------------------------------------------------------------------ the queue files


def _request(**changes: Any) -> dict[str, Any]:
    request = {
        "id": reviewqueue.new_id(),
        "ts": time.time(),
        "agent": "bot",
        "session": "s",
        "cwd": "/",
        "command": "tool x",
        "argv": ["tool", "x"],
        "rule": None,
        "reason": "no rule matched",
        "irreversible": False,
        "anomalies": [],
        "parts": [],
        "recent": [],
        "pid": os.getpid(),
        "deadline": time.time() + 60,
    }
    request.update(changes)
    return request


def test_queue_files_are_private_and_pending_skips_bad_ones(console_env):
    old = reviewqueue.submit(_request(ts=time.time() - 5))
    new = reviewqueue.submit(_request())
    reviewqueue.submit(_request(deadline=time.time() - 1))  # expired
    (console_env.requests / f"{'ab' * 12}.json").write_text("{not json")
    (console_env.requests / f"{'cd' * 12}.json").write_text(json.dumps(_request(id="cd" * 12)))
    (console_env.requests / f"{'ef' * 12}.json").write_text(
        json.dumps({**_request(id="ef" * 12), "argv": "tool x"})  # wrong type
    )
    assert [r["id"] for r in reviewqueue.pending()] == [old, new, "cd" * 12]
    assert stat.S_IMODE(console_env.review_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE(console_env.requests.stat().st_mode) == 0o700
    assert stat.S_IMODE((console_env.requests / f"{old}.json").stat().st_mode) == 0o600
    pending = reviewqueue.pending()[0]
    assert reviewqueue.answer(old, False, "alice", "no", request_digest=pending["digest"])
    assert stat.S_IMODE(console_env.answers.stat().st_mode) == 0o700
    assert stat.S_IMODE((console_env.answers / f"{old}.json").stat().st_mode) == 0o600
    assert old not in [r["id"] for r in reviewqueue.pending()]  # answered
    reviewqueue.withdraw(new)
    assert not reviewqueue.answer(new, True, "alice", "", request_digest="x")  # gone
    with pytest.raises(ValueError):
        reviewqueue.answer("../../etc/passwd", True, "alice", "", request_digest="x")
    with pytest.raises(ValueError):
        reviewqueue.submit(_request(id="../x"))


def test_wait_answer_checks_what_was_approved(console_env, fake_console):
    request_id = reviewqueue.submit(_request())
    shown = reviewqueue.read_request(request_id)
    assert shown is not None
    reviewqueue.answer(request_id, True, "alice", "ok", request_digest="0" * 64)
    answer = reviewqueue.wait_answer(request_id, time.time() + 5)
    assert answer is not None
    assert answer["approved"] is False
    reviewqueue.withdraw(request_id)

    request_id = reviewqueue.submit(_request())
    shown = reviewqueue.read_request(request_id)
    assert shown is not None
    reviewqueue.answer(request_id, True, "alice", "ok", request_digest=shown["digest"])
    assert reviewqueue.wait_answer(request_id, time.time() + 5) == {
        "approved": True,
        "reviewer": "alice",
        "message": "ok",
        "scope": "once",
        "remembered": "",
    }
    reviewqueue.withdraw(request_id)
    assert reviewqueue.wait_answer(reviewqueue.new_id(), time.time() + 0.3) is None


def test_skipped_request_comes_back_on_r(console_env, tmp_path):
    console = console_env.live_console()
    marker = tmp_path / "skipped.marker"
    agent = console_env.agent(marker)
    console.wait_for_keys()
    console.child.send("l")
    console.expect("later: it stays pending")
    time.sleep(0.5)  # the console is idle: a skipped request is not shown again by itself
    assert plain(console.seen).count(f"tool {marker}") == 1
    console.child.send("r")
    screen = console.wait_for_keys()
    assert screen.count(f"tool {marker}") == 2
    console.child.send("y")
    status, _, err = finish(agent)
    assert status == 0, err
    assert marker.exists()
    assert console.quit() == 0


# ------------------------------------------------------------------ the console's choices


def _press(console: Console, key: str, then: str) -> str:
    """Send `key` until `then` appears: a key pressed before the console reads (it flushes
    what was typed earlier) is dropped, and a loaded machine may take a while to get there."""
    for _ in range(10):
        console.child.send(key)
        if console.child.expect([then, pexpect.TIMEOUT], timeout=1.5) == 0:
            console.seen += str(console.child.before) + str(console.child.after)
            return plain(console.seen)
    raise AssertionError(f"{then!r} never came after {key!r}: {plain(console.seen)[-500:]}")


def test_the_console_shows_how_many_requests_are_pending(console_env, tmp_path):
    console = console_env.live_console()
    first = console_env.agent(tmp_path / "one.marker", agent="bot-1")
    screen = console.wait_for_keys()
    assert "1 pending" in screen
    second = console_env.agent(tmp_path / "two.marker", agent="bot-2")
    console_env.wait_requests(2)
    screen = _press(console, "l", "2 pending")  # the first put off: both wait now
    console.wait_for_keys()
    _press(console, "y", "approved")
    _press(console, "r", "1 pending")  # the put-off one again, now alone
    console.wait_for_keys()
    _press(console, "y", "approved")
    for proc in (first, second):
        assert finish(proc)[0] == 0
    console.expect("0 pending")
    assert console.quit() == 0


def test_quitting_with_a_request_shown_tells_the_agent_why(console_env, tmp_path):
    console = console_env.live_console()
    marker = tmp_path / "quit.marker"
    agent = console_env.agent(marker)
    console.wait_for_keys()
    _press(console, "q", "stopped")
    console.expect(pexpect.EOF)
    status, _, err = finish(agent)
    assert status == 77
    assert not marker.exists()
    assert "the reviewer closed guard review before answering" in denied_line(err)
    entry = console_env.entry_for("bot-1")
    assert (entry["decided_by"], entry["reviewer"]) == ("reviewer", "alice")


def test_approve_for_this_session_in_the_console(console_env, tmp_path):
    console = console_env.live_console()
    marker = tmp_path / "session.marker"
    agent = console_env.agent(marker)
    screen = console.wait_for_keys()
    assert "s approve for this session" in screen
    console.child.send("s")
    assert finish(agent)[0] == 0
    assert console.quit() == 0
    marker.unlink()
    # No console now: the same command in the same session still runs...
    assert finish(console_env.agent(marker))[0] == 0
    assert marker.exists()
    # ...but not for another agent (another session).
    other = tmp_path / "other.marker"
    assert finish(console_env.agent(other, agent="bot-2"))[0] == 77


def test_approve_and_remember_in_the_console(console_env, tmp_path):
    console = console_env.live_console()
    marker = tmp_path / "remember.marker"
    agent = console_env.agent(marker)
    console.wait_for_keys()
    console.child.send("a")
    screen = console.expect("Enter keeps it")
    assert "pattern to whitelist tool **" in screen
    console.child.sendline("")
    console.expect("lifetime")
    console.child.sendline("")
    console.expect("added to")
    assert finish(agent)[0] == 0
    assert console.quit() == 0
    rules = tomllib.loads(Path(console_env.env["GUARD_POLICY"]).read_text())["allow"]
    assert [(r["match"], r["agents"]) for r in rules] == [("tool **", ["bot-1"])]
    assert console_env.entries()[-1]["remembered"] == "tool **"
    later = tmp_path / "later.marker"
    assert finish(console_env.agent(later))[0] == 0  # no console needed any more
    assert finish(console_env.agent(tmp_path / "x", agent="bot-2"))[0] == 77


def test_scripted_console_answers_from_json_lines(console_env, tmp_path):
    console = subprocess.Popen(
        [GUARD, "review", "--script", "--reviewer", "robot"],
        env=console_env.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    console_env.children.append(console)
    give_up = time.monotonic() + TIMEOUT
    while not reviewqueue.console_live():
        assert time.monotonic() < give_up and console.poll() is None
        time.sleep(0.05)
    marker = tmp_path / "scripted.marker"
    agent = console_env.agent(marker)
    assert console.stdout is not None and console.stdin is not None
    shown = json.loads(console.stdout.readline())["request"]
    assert shown["command"] == f"tool {marker}"
    assert shown["suggestions"] == ["tool **"] and shown["pending"] == 1
    console.stdin.write(json.dumps({"id": shown["id"], "answer": "maybe"}) + "\n")
    console.stdin.flush()
    assert "error" in json.loads(console.stdout.readline())
    bad = {"id": shown["id"], "answer": "remember", "patterns": ["rm **"]}
    console.stdin.write(json.dumps(bad) + "\n")
    console.stdin.flush()
    assert "does not match" in json.loads(console.stdout.readline())["error"]
    good = {"id": shown["id"], "answer": "remember", "expires": "1h"}
    console.stdin.write(json.dumps(good) + "\n")
    console.stdin.flush()
    assert json.loads(console.stdout.readline()) == {"answered": shown["id"]}
    assert finish(agent)[0] == 0
    console.stdin.close()
    assert console.wait(timeout=TIMEOUT) == 0
    (rule,) = tomllib.loads(Path(console_env.env["GUARD_POLICY"]).read_text())["allow"]
    assert rule["match"] == "tool **" and rule["agents"] == ["bot-1"] and "expires" in rule
    assert rule["learned"]["by"] == "robot"
