"""Two `guard serve` processes on one real PostgreSQL (Debian's package; a throwaway cluster
made here with initdb): 8 agents x 200 decisions at once, 1,600 entries in one verifiable
chain, nothing lost or duplicated; an answer given on one server reaches an agent waiting on
the other."""

from __future__ import annotations

import glob
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
from collections import Counter

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

AGENTS, DECISIONS = 8, 200
POLICY = """
[settings]
review_timeout = "60s"

[[allow]]
id = "echo"
match = ["echo **"]
"""
# One agent: DECISIONS requests through the real client code, each its own connection.
AGENT = """
import sys
from expacti_cli import client
server, agent, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
for n in range(count):
    answer = client.ask(server, {"op": "decide", "mode": "prefix", "argv": ["echo", agent, str(n)],
                                 "line": None, "shell_argv": [], "cwd": "/", "agent": agent,
                                 "token": None, "session": "load", "program": "/bin/echo"})
    assert answer["decision"] == "allowed", answer
print("done", agent)
"""


def _pg_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail("Debian's postgresql package is not installed (tests/run installs it)")
    return found[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL cluster run as the `postgres` user, reached on a Unix socket."""
    if os.geteuid() != 0:
        pytest.fail("the guard serve tests run as root (they create Unix users), as CI does")
    pg = pwd.getpwnam("postgres") if _has_user("postgres") else ensure_user("postgres")
    base = base_dir()
    data = user_dir(base, "pgdata", pg)
    sockets = user_dir(base, "pgsock", pg, 0o755)
    port = _free_port()
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    out = run_as(
        pg,
        [_pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
        env,
        base,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    options = (
        f"-p {port} -k {sockets} -c listen_addresses='' -c fsync=off "
        "-c synchronous_commit=off -c max_connections=200"
    )
    out = run_as(
        pg,
        [_pg_bin("pg_ctl"), "-D", str(data), "-o", options, "-l", str(data / "log"), "-w", "start"],
        env,
        base,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr + out.stdout
    try:
        out = run_as(
            pg, [_pg_bin("createdb"), "-h", str(sockets), "-p", str(port), "guard"], env, base
        )
        assert out.returncode == 0, out.stderr
        yield f"postgresql://postgres@/guard?host={sockets}&port={port}"
    finally:
        run_as(
            pg,
            [_pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            env,
            base,
            timeout=60,
        )
        shutil.rmtree(base, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


@pytest.fixture(scope="module")
def fleet(postgres):
    users = {role: ensure_user(f"gsv-{role}") for role in ("server", "agent")}
    base = base_dir()
    with traversable():
        run_dir = user_dir(base, "run", users["server"], 0o755)
        servers = [
            Server(
                users["server"],
                user_dir(base, f"srv{i}", users["server"]),
                user_dir(run_dir, f"s{i}", users["server"], 0o755),
                POLICY,
                db=postgres,
            )
            for i in (1, 2)
        ]
        for i in range(AGENTS):
            out = servers[0].guard(
                "serve", "agent", "add", f"agent-{i}", "--user", users["agent"].pw_name
            )
            assert out.returncode == 0, out.stderr
        secret = servers[1].guard("reviewer", "add", "bob").stdout.splitlines()[-1]
        for s in servers:
            s.start()
        try:
            yield {
                "servers": servers,
                "users": users,
                "secret": secret,
                "home": user_dir(base, "agent", users["agent"]),
            }
        finally:
            for s in servers:
                s.stop()
            shutil.rmtree(base, ignore_errors=True)


def test_two_servers_one_chain_under_concurrent_agents(fleet):
    servers, home = fleet["servers"], fleet["home"]
    env = env_for(home)
    procs = [
        popen_as(
            fleet["users"]["agent"],
            [
                sys.executable,
                "-c",
                AGENT,
                f"unix:{servers[i % 2].socket}",
                f"agent-{i}",
                str(DECISIONS),
            ],
            env,
            home,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for i in range(AGENTS)
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=150)
        assert proc.returncode == 0, err
    exported = servers[1].guard("serve", "export")
    entries = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(entries) == AGENTS * DECISIONS
    assert len({e["id"] for e in entries}) == len(entries)
    # Nothing lost or duplicated: every agent's every request, exactly once.
    assert Counter(tuple(e["argv"][1:]) for e in entries) == Counter(
        (f"agent-{i}", str(n)) for i in range(AGENTS) for n in range(DECISIONS)
    )
    # Both servers wrote into the one chain.
    assert len({e["server"] for e in entries}) == 2
    verify = servers[0].guard("serve", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert f"{AGENTS * DECISIONS} entries" in verify.stdout


def test_an_answer_on_one_server_reaches_an_agent_waiting_on_the_other(fleet):
    servers, home = fleet["servers"], fleet["home"]
    env = env_for(home, GUARD_SERVER=f"unix:{servers[0].socket}", GUARD_AGENT="agent-0")
    _console(servers[1], fleet["secret"], {"op": "queue"})  # a reviewer is on server 2
    proc = popen_as(
        fleet["users"]["agent"],
        [GUARD, "--", "sync"],
        env,
        home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.time() + 15
        pending: list = []
        while not pending and time.time() < deadline:
            pending = _console(servers[1], fleet["secret"], {"op": "queue"})["pending"]
            time.sleep(0.05)
        assert [r["command"] for r in pending] == ["sync"]
        answered = time.monotonic()
        done = _console(
            servers[1], fleet["secret"], {"op": "answer", "id": pending[0]["id"], "answer": "once"}
        )
        assert done["status"] == "ok"
        _, err = proc.communicate(timeout=15)
        assert time.monotonic() - answered < 1.0  # NOTIFY, not a slow poll
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    last = json.loads(servers[0].guard("serve", "export").stdout.splitlines()[-1])
    assert (last["decision"], last["reviewer"], last["server"].split(":")[1]) == (
        "approved",
        "bob",
        str(servers[0].proc.pid),
    )


def _console(server: Server, secret: str, body: dict) -> dict:
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(10)
        s.connect(server.socket)
        s.sendall(json.dumps({**body, "secret": secret}).encode() + b"\n")
        return json.loads(s.makefile().readline())
