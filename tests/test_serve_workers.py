"""`guard serve`'s fast path: pre-started workers, the program line, and what a request may
not choose (issue 12, speed).

Real processes: a `guard serve` of its own per test (as the test's user, root in CI), spoken
to through its socket the way `guard`'s client does (`client.ask`) or byte by byte.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import socket
import threading
import time

import pytest
from serve_support import GUARD, Server, base_dir, env_for, run_as

from expacti_cli import client

pytestmark = pytest.mark.slow

POLICY = """
[settings]
review_timeout = "30s"

[anomalies]
max_rate = {max_rate}

[[allow]]
id = "echo"
match = ["echo **", "true"]
"""


@pytest.fixture
def serve(request):
    """A server of the test's own user with agent `bot` (that user) and reviewer `alice`;
    the test may set `max_rate` with `@pytest.mark.parametrize("serve", [N], indirect=True)`."""
    me = pwd.getpwuid(os.getuid())
    base = base_dir()
    (base / "run").mkdir(mode=0o755)
    (base / "srv").mkdir(mode=0o700)
    policy = POLICY.format(max_rate=getattr(request, "param", 0))
    server = Server(me, base / "srv", base / "run", policy)
    assert server.guard("serve", "agent", "add", "bot", "--user", me.pw_name).returncode == 0
    secret = server.guard("reviewer", "add", "alice").stdout.splitlines()[-1]
    server.start("--console-grace", "30")
    try:
        yield {"server": server, "secret": secret, "url": f"unix:{server.socket}", "base": base}
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


def _decide(argv: list[str], **extra: object) -> dict:
    return {
        "op": "decide",
        "mode": "prefix",
        "argv": argv,
        "line": None,
        "shell_argv": [],
        "cwd": "/",
        "agent": "bot",
        "token": None,
        "session": "workers",
        "program": None,
        **extra,
    }


def _raw(path: str, data: bytes, *, close_write: bool = False) -> dict:
    """Send `data` as is, then read the server's one-line answer."""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(15)
        s.connect(path)
        s.sendall(data)
        if close_write:
            s.shutdown(socket.SHUT_WR)
        return json.loads(s.makefile("rb").readline())


def _chain(server: Server) -> list[dict]:
    out = server.guard("serve", "export")
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_a_request_cannot_choose_its_audit_entry(serve):
    """The server's own notes on a request (`_entry_id`, `_review_id`, `_server`) are the
    server's: a request carrying an old entry's id still gets an entry of its own."""
    server = serve["server"]
    assert client.ask(serve["url"], _decide(["echo", "first"]))["decision"] == "allowed"
    old = _chain(server)[-1]
    forged = _decide(
        ["echo", "unrecorded"],
        v=1,
        _entry_id=old["id"],
        _review_id="0" * 24,
        _server="elsewhere:1",
        _peer_user="root-of-all",
    )
    answer = _raw(server.socket, json.dumps(forged).encode() + b"\n")
    assert answer["decision"] == "allowed"
    entries = _chain(server)
    assert len(entries) == 2 and entries[0] == old
    last = entries[-1]
    assert last["command"] == "echo unrecorded" and last["id"] != old["id"]
    assert last["server"] != "elsewhere:1"
    assert last["user"] == pwd.getpwuid(os.getuid()).pw_name
    verify = server.guard("serve", "verify")
    assert verify.returncode == 0 and "chain intact" in verify.stdout, verify.stdout


def test_the_program_the_client_found_is_recorded_from_its_own_line(serve):
    """guard's client sends the program after the request (found while the server decides);
    the entry names it. A request that promises that line and never sends it, or sends
    something else, is denied and recorded."""
    server = serve["server"]
    home = serve["base"] / "srv"
    out = run_as(
        pwd.getpwuid(os.getuid()),
        [GUARD, "--", "echo", "found"],
        env_for(home, GUARD_SERVER=serve["url"], GUARD_AGENT="bot"),
        home,
    )
    assert (out.returncode, out.stdout) == (0, "found\n"), out.stderr
    echo = shutil.which("echo", path=env_for(home)["PATH"])
    assert _chain(server)[-1]["program"] == echo

    promise = json.dumps(_decide(["echo", "no line"], v=1, program_follows=True)).encode() + b"\n"
    gone = _raw(server.socket, promise, close_write=True)
    assert gone["decision"] == "denied"
    assert "went away before it sent its program line" in gone["message"]
    garbage = _raw(server.socket, promise + b"[1, 2]\n")
    assert garbage["decision"] == "denied" and "program line" in garbage["message"]
    wrong = _raw(server.socket, promise + b'{"program": 42}\n')
    assert wrong["decision"] == "denied" and "names no program" in wrong["message"]
    entries = _chain(server)[-3:]
    assert [(e["command"], e["decision"]) for e in entries] == [("echo 'no line'", "denied")] * 3
    # A program line that names a program is recorded, after a decision that may allow.
    sent = _raw(server.socket, promise + b'{"program": "/opt/echo"}\n')
    assert sent["decision"] == "allowed"
    assert _chain(server)[-1]["program"] == "/opt/echo"


def test_reviews_waiting_for_a_human_do_not_hold_up_other_agents(serve):
    """More reviews wait at once than the server starts workers with: each takes a worker,
    and another request is still answered at once."""
    server = serve["server"]
    console = {"op": "queue", "secret": serve["secret"]}
    assert "pending" in _raw(server.socket, json.dumps(console).encode() + b"\n")
    waiting: list[socket.socket] = []
    try:
        for n in range(8):  # unixsock.WORKERS is 4
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(15)
            s.connect(server.socket)
            request = _decide(["sync", "-f", f"/srv/w{n}"], v=1)
            s.sendall(json.dumps(request).encode() + b"\n")
            assert json.loads(s.makefile("rb").readline())["status"] == "pending"
            waiting.append(s)
        started = time.monotonic()
        answer = client.ask(serve["url"], _decide(["echo", "meanwhile"]))
        assert answer["decision"] == "allowed"
        assert time.monotonic() - started < 3
        assert len(server.pending()) == 8
    finally:
        for s in waiting:
            s.close()  # the agents go away: their reviews end, denied
    deadline = time.monotonic() + 15
    while server.pending() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert server.pending() == []


@pytest.mark.parametrize("serve", [5], indirect=True)
def test_each_request_sees_the_state_its_predecessors_left(serve):
    """The agent's anomaly state is written after the answer is sent, yet the agent's next
    request, sent the moment it has that answer, counts it: with max_rate = 5 the sixth
    command in a row is over the cap (and, no console being there, denied)."""
    answers = [client.ask(serve["url"], _decide(["true"]))["decision"] for _ in range(8)]
    assert answers == ["allowed"] * 5 + ["denied"] * 3
    flagged = _chain(serve["server"])[5]
    assert any(a.startswith("rate-spike: 6 commands") for a in flagged["anomalies"]), flagged


def test_many_agents_at_once_lose_no_decision(serve):
    """Concurrent clients (threads here, each its own connection): every decision answered,
    every one in the chain once."""
    errors: list[BaseException] = []

    def one_agent(n: int) -> None:
        try:
            for i in range(15):
                answer = client.ask(serve["url"], _decide(["echo", f"{n}-{i}"]))
                assert answer["decision"] == "allowed", answer
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one_agent, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    commands = [e["command"] for e in _chain(serve["server"])]
    assert sorted(commands) == sorted(f"echo {n}-{i}" for n in range(12) for i in range(15))
    verify = serve["server"].guard("serve", "verify")
    assert verify.returncode == 0 and "chain intact" in verify.stdout, verify.stdout
