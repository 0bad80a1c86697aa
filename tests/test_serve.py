"""`guard serve` with real Unix users: the server as one user, agents as others (issue 12).

Needs root (CI runs as root): users are made with `useradd`. Every agent's decision travels
through the socket; the kernel names the asker (SO_PEERCRED).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time
from pathlib import Path

import pytest
from serve_support import (
    GUARD,
    Server,
    base_dir,
    ensure_user,
    env_for,
    popen_as,
    run_as,
    traversable,
    user_dir,
)

pytestmark = pytest.mark.slow
GRACE = 2.0  # seconds a reviewer console counts as connected after it looked at the queue

POLICY = """
[settings]
review_timeout = "30s"

[[allow]]
id = "echo"
match = ["echo **", "true", "cat **"]

[[deny]]
id = "no-shutdown"
match = "reboot **"
reason = "never from an agent"
"""
NO_NPROC = """
[[deny]]
id = "no-nproc"
match = "nproc"
"""


@pytest.fixture(scope="module")
def world():
    if os.geteuid() != 0:
        pytest.fail("the guard serve tests run as root (they create Unix users), as CI does")
    users = {role: ensure_user(f"gsv-{role}") for role in ("server", "agent", "other")}
    base = base_dir()
    with traversable():
        run_dir = user_dir(base, "run", users["server"], 0o755)
        server = Server(users["server"], user_dir(base, "srv", users["server"]), run_dir, POLICY)
        homes = {r: user_dir(base, r, users[r]) for r in ("agent", "other")}
        tokens = {}
        for name, role in (("builder", "agent"), ("tester", "other")):
            out = server.guard("serve", "agent", "add", name, "--user", users[role].pw_name)
            assert out.returncode == 0, out.stderr
            tokens[name] = out.stdout.splitlines()[-1]
        secret = server.guard("reviewer", "add", "alice").stdout.splitlines()[-1]
        server.start("--console-grace", str(GRACE))
        try:
            yield {
                "users": users,
                "server": server,
                "homes": homes,
                "tokens": tokens,
                "secret": secret,
            }
        finally:
            server.stop()
            shutil.rmtree(base, ignore_errors=True)


def agent(world, role: str, *argv: str, timeout: float = 30, **env: str):
    home = world["homes"][role]
    extra = {"GUARD_SERVER": f"unix:{world['server'].socket}", **env}
    return run_as(world["users"][role], [GUARD, *argv], env_for(home, **extra), home, timeout)


def chain(world) -> list[dict]:
    out = world["server"].guard("serve", "export")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_the_agents_guard_gets_its_decisions_through_the_socket(world):
    before = len(chain(world))
    ok = agent(world, "agent", "--", "echo", "through the server")
    assert (ok.returncode, ok.stdout) == (0, "through the server\n"), ok.stderr
    shell = agent(world, "agent", "-c", "echo one && true")
    assert (shell.returncode, shell.stdout) == (0, "one\n"), shell.stderr
    denied = agent(world, "agent", "--", "reboot", "-f")
    assert denied.returncode == 77
    assert denied.stderr.startswith("guard: denied: reboot -f (rule no-shutdown")
    entries = chain(world)[before:]
    assert [e["decision"] for e in entries] == ["allowed", "allowed", "denied"]
    agent_user = world["users"]["agent"]
    # Who asked is what the kernel said, not what the request claimed.
    assert {(e["agent"], e["user"], e["peer_uid"]) for e in entries} == {
        ("builder", agent_user.pw_name, agent_user.pw_uid)
    }
    # The agent has no local audit log: its decisions live with the server only.
    assert not (world["homes"]["agent"] / "state" / "audit.jsonl").exists()
    verify = world["server"].guard("serve", "verify")
    assert verify.returncode == 0 and "chain intact" in verify.stdout, verify.stdout


def test_the_agent_cannot_read_or_write_the_servers_files(world):
    server = world["server"]
    db = server.home / "state" / "server" / "guard.db"
    owner = world["users"]["server"].pw_uid
    for path, mode in (
        (server.home, 0o700),
        (db.parent, 0o700),
        (db, 0o600),
        (server.policy, 0o600),
    ):
        st = os.stat(path)
        assert (stat.S_IMODE(st.st_mode), st.st_uid) == (mode, owner), path
    probe = (
        "import sys\n"
        "for path, how in [(p, m) for p in sys.argv[1:] for m in ('r', 'a')]:\n"
        "    try:\n"
        "        open(path, how).close()\n"
        "        print('OPENED', path, how)\n"
        "    except PermissionError:\n"
        "        pass\n"
    )
    home = world["homes"]["agent"]
    out = run_as(
        world["users"]["agent"],
        [
            os.path.realpath(os.sys.executable),
            "-c",
            probe,
            str(db),
            str(server.policy),
            str(server.home / "state" / "agents"),
        ],
        env_for(home),
        home,
    )
    assert out.returncode == 0, out.stderr
    assert "OPENED" not in out.stdout


def test_a_token_replayed_from_the_wrong_uid_is_refused(world):
    stolen = world["tokens"]["builder"]
    out = agent(world, "other", "--", "echo", "hi", GUARD_AGENT="builder", GUARD_AGENT_TOKEN=stolen)
    assert out.returncode == 77 and out.stdout == ""
    assert "the token of agent 'builder' was presented from uid" in out.stderr
    # The other user's own identity works, and only as its own agent.
    own = agent(world, "other", "--", "echo", "mine", GUARD_AGENT_TOKEN=world["tokens"]["tester"])
    assert (own.returncode, own.stdout) == (0, "mine\n"), own.stderr
    posing = agent(world, "other", "--", "echo", "hi", GUARD_AGENT="builder")
    assert posing.returncode == 77 and "is not mapped to agent 'builder'" in posing.stderr
    assert chain(world)[-1]["rule"] == "identity"


def test_revocation_takes_effect_on_the_next_request(world):
    server = world["server"]
    assert agent(world, "other", "--", "true").returncode == 0
    assert server.guard("serve", "agent", "revoke", "tester").returncode == 0
    try:
        out = agent(world, "other", "--", "true")
        assert out.returncode == 77 and "agent 'tester' has been revoked" in out.stderr
    finally:
        server.guard("serve", "agent", "enable", "tester")
    assert agent(world, "other", "--", "true").returncode == 0


def test_a_policy_change_is_picked_up_without_a_restart(world):
    server = world["server"]
    pid = server.proc.pid
    try:
        server.write_policy(POLICY + NO_NPROC)  # noticed by its changed stamp
        time.sleep(1.2)
        out = agent(world, "agent", "--", "nproc")
        assert out.returncode == 77 and "rule no-nproc" in out.stderr
        server.write_policy(POLICY)
        os.kill(pid, signal.SIGHUP)  # at once
        out = agent(world, "agent", "--", "nproc")
        assert out.returncode == 0 and out.stdout.strip().isdigit(), out.stderr
    finally:
        server.write_policy(POLICY)
    assert server.proc.pid == pid and server.proc.poll() is None


_CONSOLE = {"seen": 0.0}


def _answer_over_socket(world, body: dict) -> dict:
    _CONSOLE["seen"] = time.time()
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(world["server"].socket)
        s.sendall(json.dumps(body).encode() + b"\n")
        return json.loads(s.makefile().readline())


def _wait_pending(world, timeout: float = 15) -> str:
    """A reviewer's console polls the server's queue until a request shows up."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        queue = _answer_over_socket(world, {"op": "queue", "secret": world["secret"]})
        if queue["pending"]:
            assert world["server"].pending() == [queue["pending"][0]["id"]]
            return queue["pending"][0]["id"]
        time.sleep(0.05)
    raise AssertionError("no review reached the server's queue")


def test_a_reviewer_answers_over_the_socket_and_an_agent_token_cannot(world):
    home = world["homes"]["agent"]
    env = env_for(home, GUARD_SERVER=f"unix:{world['server'].socket}")
    _answer_over_socket(world, {"op": "queue", "secret": world["secret"]})  # a console is on
    proc = popen_as(
        world["users"]["agent"],
        [GUARD, "--", "sync", "-f", "."],
        env,
        home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        review_id = _wait_pending(world)
        as_agent = _answer_over_socket(
            world,
            {
                "op": "answer",
                "secret": world["tokens"]["builder"],
                "id": review_id,
                "answer": "once",
            },
        )
        assert as_agent["status"] == "refused"
        queue = _answer_over_socket(world, {"op": "queue", "secret": world["secret"]})
        shown = next(r for r in queue["pending"] if r["id"] == review_id)
        assert (shown["command"], shown["agent"], shown["cwd"]) == (
            "sync -f .",
            "builder",
            str(home),
        )
        done = _answer_over_socket(
            world,
            {
                "op": "answer",
                "secret": world["secret"],
                "id": review_id,
                "answer": "deny",
                "message": "not now",
            },
        )
        assert done == {"status": "ok", "answered": review_id}
        out, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 77 and out == ""
    assert "a human reviewer denied it: not now" in err
    last = chain(world)[-1]
    assert (last["decision"], last["reviewer"], last["decided_by"]) == (
        "denied",
        "alice",
        "reviewer",
    )


def test_killing_the_server_mid_review_denies_and_loses_no_entry(world):
    server = world["server"]
    before = len(chain(world))
    home = world["homes"]["agent"]
    env = env_for(home, GUARD_SERVER=f"unix:{server.socket}")
    _answer_over_socket(world, {"op": "queue", "secret": world["secret"]})  # a console is on
    proc = popen_as(
        world["users"]["agent"],
        [GUARD, "--", "sync", "-d", "."],
        env,
        home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_pending(world)
        started = time.monotonic()
        server.stop(signal.SIGKILL)
        out, err = proc.communicate(timeout=15)
        waited = time.monotonic() - started
    finally:
        proc.kill()
        server.start("--console-grace", str(GRACE))
    assert proc.returncode == 77 and out == ""
    assert "closed the connection without a decision" in err
    assert waited < 5
    entries = chain(world)[before:]
    # The restarted server recorded the review the killed one left waiting, as denied.
    assert [(e["command"], e["decision"], e["reason"]) for e in entries] == [
        ("sync -d .", "denied", "the server stopped while the review waited")
    ]
    verify = server.guard("serve", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr


def _fake_server(path: str, reply: bytes | None, delay: float) -> threading.Thread:
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    os.chmod(path, 0o666)  # noqa: S103 - any test user may connect, as to the real one
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        conn.recv(65536)
        time.sleep(delay)
        if reply is not None:
            with contextlib.suppress(OSError):  # the client may have given up already
                conn.sendall(reply)
        time.sleep(0.5)
        conn.close()
        listener.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("reply", "delay", "says"),
    [
        (b"HTTP/1.1 200 OK\r\n\r\n{}\n", 0, "answered garbage"),
        (b'{"status": "done", "decision": "yes"}\n', 0, "answered garbage"),
        (b'{"status": "done", "decision": "allowed"}\n', 3, "no answer within its budget"),
        (None, 0, "closed the connection without a decision"),
    ],
)
def test_a_broken_server_is_a_denial(world, reply, delay, says):
    path = str(world["server"].run_dir / "fake.sock")
    thread = _fake_server(path, reply, delay)
    try:
        started = time.monotonic()
        out = agent(
            world,
            "agent",
            "--",
            "echo",
            "must not run",
            GUARD_SERVER=f"unix:{path}",
            GUARD_SERVER_TIMEOUT="1",
        )
        assert time.monotonic() - started < 3
    finally:
        thread.join(5)
        Path(path).unlink(missing_ok=True)
    assert out.returncode == 77 and out.stdout == ""
    assert out.stderr.startswith("guard: denied: echo 'must not run' (") and says in out.stderr
    assert out.stderr.count("\n") == 1


def test_a_review_with_no_console_connected_is_denied_at_once(world):
    time.sleep(max(0.0, GRACE - (time.time() - _CONSOLE["seen"])))
    out = agent(world, "agent", "--", "sync")
    assert out.returncode == 77
    assert "no reviewer console is connected to the guard server" in out.stderr


def test_no_server_at_all_is_a_denial(world):
    out = agent(
        world,
        "agent",
        "-c",
        "echo must not run",
        GUARD_SERVER=f"unix:{world['server'].run_dir}/absent.sock",
    )
    assert out.returncode == 77 and out.stdout == ""
    assert "cannot reach the guard server" in out.stderr


def _review_env(world, secret: str) -> dict[str, str]:
    return {
        **os.environ,
        "GUARD_REVIEWER_SECRET": secret,
        "COLUMNS": "100",
        "GUARD_SERVER_TIMEOUT": "5",
    }


def test_guard_review_server_script_answers_with_a_reason(world):
    server = f"unix:{world['server'].socket}"
    console = subprocess.Popen(
        [GUARD, "review", "--server", server, "--script"],
        env=_review_env(world, world["secret"]),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    home = world["homes"]["agent"]
    env = env_for(home, GUARD_SERVER=server)
    proc = None
    try:
        time.sleep(0.5)  # the console has looked at the queue: a reviewer is there
        proc = popen_as(
            world["users"]["agent"],
            [GUARD, "-c", "sync && echo x"],
            env,
            home,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        shown = json.loads(console.stdout.readline())["request"]
        assert (shown["command"], shown["agent"]) == ("sync && echo x", "builder")
        assert [p["text"] for p in shown["parts"]] == ["sync", "echo x"]
        console.stdin.write(
            json.dumps({"id": shown["id"], "answer": "deny", "message": "not on a Friday"}) + "\n"
        )
        console.stdin.flush()
        assert json.loads(console.stdout.readline()) == {"answered": shown["id"]}
        out, err = proc.communicate(timeout=15)
    finally:
        console.kill()
        if proc:
            proc.kill()
    assert proc.returncode == 77 and out == ""
    assert "a human reviewer denied it: not on a Friday" in err


def test_guard_review_server_refuses_an_agent_token(world):
    out = subprocess.run(
        [GUARD, "review", "--server", f"unix:{world['server'].socket}", "--script", "--once"],
        env=_review_env(world, world["tokens"]["builder"]),
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert out.returncode == 77
    assert (
        out.stderr == "guard: the guard server refused: not a reviewer secret "
        "(guard reviewer add NAME)\n"
    )


def test_guard_review_server_in_a_terminal_approves(world):
    import pexpect

    server = f"unix:{world['server'].socket}"
    console = pexpect.spawn(
        GUARD,
        ["review", "--server", server],
        env=_review_env(world, world["secret"]),
        encoding="utf-8",
        timeout=15,
        dimensions=(40, 100),
    )
    home = world["homes"]["agent"]
    proc = None
    try:
        console.expect("answering the queue")
        time.sleep(0.3)
        proc = popen_as(
            world["users"]["agent"],
            [GUARD, "-c", "sync && echo approved"],
            env_for(home, GUARD_SERVER=server),
            home,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        console.expect("approve once")
        assert "sync && echo approved" in console.before
        console.send("y")
        console.expect("once: sent")
        out, err = proc.communicate(timeout=15)
        console.send("q")
        console.expect(pexpect.EOF)
    finally:
        console.close(force=True)
        if proc:
            proc.kill()
    assert (proc.returncode, out) == (0, "approved\n"), err
    assert chain(world)[-1]["reviewer"] == "alice"


# What client mode must not load: the server's stack, and what the allowed path avoids.
CLIENT_AVOIDS = (
    "json",
    "re",
    "enum",
    "click",
    "rich",
    "socket",
    "sqlite3",
    "starlette",
    "uvicorn",
    "psycopg",
    "anyio",
    "tomllib",
    "platformdirs",
    "typing",
)


def _imported(stderr: str) -> set[str]:
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_client_mode_loads_nothing_heavy(world):
    """Without site (no .pth files or editable finder), so every module seen is guard's doing."""
    python = os.path.realpath(os.sys.executable)
    home = world["homes"]["agent"]
    import expacti_cli

    source = os.path.dirname(os.path.dirname(expacti_cli.__file__))
    env = env_for(home, GUARD_SERVER=f"unix:{world['server'].socket}", PYTHONPATH=source)
    out = run_as(
        world["users"]["agent"],
        [python, "-S", "-X", "importtime", "-m", "expacti_cli", "--", "echo", "ok"],
        env,
        home,
    )
    assert (out.returncode, out.stdout) == (0, "ok\n"), out.stderr[-2000:]
    names = _imported(out.stderr)
    assert "expacti_cli.client" in names
    assert {n for n in names if n.split(".")[0] in CLIENT_AVOIDS} == set()
    assert chain(world)[-1]["command"] == "echo ok"


def test_entries_are_copied_to_syslog(world):
    """A second server on the same store, with --syslog at a datagram socket standing in for
    /dev/log: each decision arrives there as its audit line, tagged and with authpriv."""
    users = world["users"]
    first = world["server"]
    log_path = str(first.run_dir / "syslog.sock")
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(log_path)
    os.chmod(log_path, 0o666)  # noqa: S103 - the server's user sends to it
    receiver.settimeout(10)
    second = Server(users["server"], first.home, first.run_dir, POLICY)
    second.socket = str(first.run_dir / "second.sock")
    second.log = first.home / "second.log"
    try:
        second.start("--syslog", log_path)
        out = agent(world, "agent", "--", "echo", "to syslog", GUARD_SERVER=f"unix:{second.socket}")
        assert out.returncode == 0, out.stderr
        message = receiver.recv(65536).decode()
    finally:
        second.stop()
        receiver.close()
        os.unlink(log_path)
    # <PRI>: authpriv (10) * 8 + info (6) = 86
    assert message.startswith("<86>guard: {")
    entry = json.loads(message[len("<86>guard: ") :].rstrip("\x00"))
    assert (entry["command"], entry["decision"]) == ("echo 'to syslog'", "allowed")
    assert entry["hash"] == chain(world)[-1]["hash"]


def test_approve_for_this_session_holds_for_that_session_and_command_only(world):
    home = world["homes"]["agent"]
    server = f"unix:{world['server'].socket}"
    _answer_over_socket(world, {"op": "queue", "secret": world["secret"]})
    env = env_for(home, GUARD_SERVER=server, GUARD_SESSION="task-42")
    proc = popen_as(
        world["users"]["agent"],
        [GUARD, "--", "sync", "-d", "/"],
        env,
        home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        review_id = _wait_pending(world)
        reply = _answer_over_socket(
            world, {"op": "answer", "secret": world["secret"], "id": review_id, "answer": "session"}
        )
        assert reply["status"] == "ok"
        _, err = proc.communicate(timeout=15)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    # Same session, same command: no reviewer asked again.
    again = run_as(world["users"]["agent"], [GUARD, "--", "sync", "-d", "/"], env, home)
    assert again.returncode == 0, again.stderr
    last = chain(world)[-1]
    assert (last["decided_by"], last["reviewer"], last["session"]) == (
        "reviewer",
        "alice",
        "task-42",
    )
    # Another session: asked again (and with no console connected now, denied at once).
    time.sleep(max(0.0, GRACE - (time.time() - _CONSOLE["seen"])))
    other = agent(world, "agent", "--", "sync", "-d", "/", GUARD_SESSION="task-43")
    assert other.returncode == 77


def test_a_garbage_request_is_denied_and_the_server_keeps_serving(world):
    for garbage in (
        b"not json\n",
        b'{"op": "decide", "mode": "prefix", "argv": "rm"}\n',
        b'["op"]\n',
    ):
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(10)
            s.connect(world["server"].socket)
            s.sendall(garbage)
            reply = json.loads(s.makefile().readline())
        assert reply["decision"] == "denied", (garbage, reply)
    out = agent(world, "agent", "--", "echo", "still serving")
    assert (out.returncode, out.stdout) == (0, "still serving\n")


def test_an_invalid_policy_denies_everything_until_fixed(world):
    server = world["server"]
    try:
        server.write_policy(POLICY + "\n[[allow]]\nmatch = 'no id'\n")
        os.kill(server.proc.pid, signal.SIGHUP)
        out = agent(world, "agent", "--", "echo", "hi")
        assert out.returncode == 77 and out.stdout == ""
        assert "the server's policy is invalid" in out.stderr
    finally:
        server.write_policy(POLICY)
        os.kill(server.proc.pid, signal.SIGHUP)
    out = agent(world, "agent", "--", "echo", "hi")
    assert (out.returncode, out.stdout) == (0, "hi\n"), out.stderr


def test_the_agents_home_is_what_the_analysis_sees(world):
    """A secret under the agent's home is a secret read, though the server's HOME is not the
    agent's: the analysis runs with the agent's HOME."""
    home = world["homes"]["agent"]
    secret = f"{home}/.config/gcloud/credentials.db"
    time.sleep(max(0.0, GRACE - (time.time() - _CONSOLE["seen"])))  # no console: deny at once
    out = agent(world, "agent", "--", "cat", secret)
    assert out.returncode == 77 and out.stdout == ""
    last = chain(world)[-1]
    assert (last["command"], last["decision"]) == (f"cat {secret}", "denied")
    assert last["rule"] == "protected:secret", last
    # The same path outside any home is an ordinary read, allowed by `cat **`.
    plain = agent(world, "agent", "--", "cat", "/etc/hostname")
    assert plain.returncode == 0, plain.stderr


def test_guard_audit_reads_an_export_of_the_servers_chain(world):
    server = world["server"]
    export = server.home / "export.jsonl"
    out = server.guard("serve", "export", "--out", str(export))
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE(os.stat(export).st_mode) == 0o600
    lines = export.read_text().splitlines()
    verify = server.guard("audit", "verify", "--audit-log", str(export))
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"{len(lines)} entries" in verify.stdout
    summary = server.guard("audit", "summary", "--audit-log", str(export), "--json")
    assert summary.returncode == 0, summary.stderr
    assert json.loads(summary.stdout)["entries"] == len(lines)
    # An edited entry (an agent turning its own denial into an approval) breaks the chain.
    denied = next(i for i, line in enumerate(lines) if '"decision":"denied"' in line)
    lines[denied] = lines[denied].replace('"decision":"denied"', '"decision":"approved"')
    export.write_text("\n".join(lines) + "\n")
    broken = server.guard("audit", "verify", "--audit-log", str(export))
    assert broken.returncode == 65, broken.stdout + broken.stderr


def test_require_identity_in_the_servers_policy_asks_for_the_token_too(world):
    server = world["server"]
    try:
        server.write_policy(POLICY.replace("[settings]\n", "[settings]\nrequire_identity = true\n"))
        os.kill(server.proc.pid, signal.SIGHUP)
        bare = agent(world, "agent", "--", "echo", "hi")
        assert bare.returncode == 77 and "set GUARD_AGENT_TOKEN too" in bare.stderr
        own = agent(
            world, "agent", "--", "echo", "hi", GUARD_AGENT_TOKEN=world["tokens"]["builder"]
        )
        assert (own.returncode, own.stdout) == (0, "hi\n"), own.stderr
    finally:
        server.write_policy(POLICY)
        os.kill(server.proc.pid, signal.SIGHUP)
    assert agent(world, "agent", "--", "echo", "hi").returncode == 0


def test_a_request_in_another_protocol_version_is_refused(world):
    """The agents' protocol is versioned: a client of another version gets a denial that
    says so (never a decision it may misread), and the server keeps serving."""
    request = {"op": "decide", "v": 2, "mode": "prefix", "argv": ["echo", "x"], "cwd": "/"}
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(world["server"].socket)
        s.sendall(json.dumps(request).encode() + b"\n")
        reply = json.loads(s.makefile().readline())
    assert reply["decision"] == "denied"
    assert "protocol version 2" in reply["message"], reply
    out = agent(world, "agent", "--", "echo", "still serving")
    assert (out.returncode, out.stdout) == (0, "still serving\n")


def test_client_mode_loads_no_local_pipeline(world):
    """entry picks client mode before importing the local decision pipeline; an allowed
    answer is compared as bytes, so not even the JSON scanner loads."""
    python = os.path.realpath(os.sys.executable)
    home = world["homes"]["agent"]
    import expacti_cli

    source = os.path.dirname(os.path.dirname(expacti_cli.__file__))
    env = env_for(home, GUARD_SERVER=f"unix:{world['server'].socket}", PYTHONPATH=source)
    out = run_as(
        world["users"]["agent"],
        [python, "-S", "-X", "importtime", "-m", "expacti_cli", "--", "echo", "ok"],
        env,
        home,
    )
    assert (out.returncode, out.stdout) == (0, "ok\n"), out.stderr[-2000:]
    names = _imported(out.stderr)
    assert "expacti_cli.client" in names
    local = ("gate", "policy", "cache", "decide", "effects", "shell", "audit", "agentstate")
    assert {n for n in names if n.split(".")[:2] in (["expacti_cli", m] for m in local)} == set()
    assert {"zlib", "_json"} & names == set()


def test_a_pinned_program_is_checked_by_the_server(world):
    """[programs.NAME] sha256/path pins hold in client mode: the server checks the program the
    agent's guard found (it hashes the file itself), and denies another."""
    server = world["server"]
    cat = shutil.which("cat")
    assert cat is not None
    pid = server.proc.pid
    try:
        server.write_policy(POLICY + '\n[programs.cat]\nsha256 = "' + "0" * 64 + '"\n')
        os.kill(pid, signal.SIGHUP)
        time.sleep(0.5)
        denied = agent(world, "agent", "--", "cat", "/etc/hostname")
        assert denied.returncode == 77, denied.stderr
        assert "the policy pins" in denied.stderr and os.path.realpath(cat) in denied.stderr
        digest = hashlib.sha256(Path(os.path.realpath(cat)).read_bytes()).hexdigest()
        server.write_policy(POLICY + f'\n[programs.cat]\nsha256 = "{digest}"\n')
        os.kill(pid, signal.SIGHUP)
        time.sleep(0.5)
        ok = agent(world, "agent", "--", "cat", "/etc/hostname")
        assert ok.returncode == 0, ok.stderr
    finally:
        server.write_policy(POLICY)
        os.kill(pid, signal.SIGHUP)
        time.sleep(0.5)
    entries = chain(world)
    assert [e["decision"] for e in entries[-2:]] == ["denied", "allowed"]


def test_a_relative_path_is_judged_in_the_agents_working_directory(world):
    """The server decides in its own process, elsewhere: `>> authorized_keys` from the agent's
    ~/.ssh adds a login key, and the same words from its home write an ordinary file."""
    home = world["homes"]["agent"]
    user = world["users"]["agent"]
    ssh = home / ".ssh"
    ssh.mkdir(exist_ok=True)
    os.chown(ssh, user.pw_uid, user.pw_gid)
    env = env_for(home, GUARD_SERVER=f"unix:{world['server'].socket}")
    line = "echo 'ssh-ed25519 AAAA attacker' >> authorized_keys"
    time.sleep(max(0.0, GRACE - (time.time() - _CONSOLE["seen"])))  # no console: deny at once
    out = run_as(user, [GUARD, "-c", line], env, ssh)
    assert out.returncode == 77, out.stderr
    assert not (ssh / "authorized_keys").exists()
    last = chain(world)[-1]
    assert (last["decision"], last["cwd"]) == ("denied", str(ssh))
    assert last["rule"] == "sensitive-write", last
    plain = run_as(user, [GUARD, "-c", line], env, home)
    assert plain.returncode == 0, plain.stderr
