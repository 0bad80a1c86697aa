"""When `guard serve`'s audit entry reaches the disk (issue 12; server/store.py, service.py).

The entry is committed before the answer leaves (it survives the server being killed). On the
Unix socket it is synced right after the answer, before the same agent's next request is
decided; over TLS (no `later` steps) before the answer. A sync that fails stops the chain
growing: decisions are denied until the disk works again. The real Service on a real SQLite
file; `os.fsync` is watched to see which file was synced when.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
import sqlite3

import pytest

from expacti_cli.server import service as service_mod
from expacti_cli.server import store as store_mod

POLICY = """
[audit]
fsync = {fsync}

[[allow]]
id = "echo"
match = ["echo **"]
"""


@pytest.fixture
def world(tmp_path, monkeypatch):
    synced: list[str] = []
    real_fsync = os.fsync
    fail: list[OSError] = []

    def fsync(fd: int) -> None:
        if fail:
            raise fail[0]
        real_fsync(fd)
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(os, "fsync", fsync)
    db = str(tmp_path / "srv" / "guard.db")
    store = store_mod.open_store(db)
    me = pwd.getpwuid(os.getuid()).pw_name
    store.add_agent("bot", [me])
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY.format(fsync="true"))
    service = service_mod.Service(store, str(policy))
    peer = service_mod.Peer(os.getpid(), os.getuid())
    yield {
        "service": service,
        "peer": peer,
        "db": db,
        "synced": synced,
        "fail": fail,
        "policy": policy,
    }
    store.close()


def _decide(world, n: int, later: list | None) -> dict:
    body = {
        "v": 1,
        "op": "decide",
        "mode": "prefix",
        "argv": ["echo", str(n)],
        "line": None,
        "shell_argv": [],
        "cwd": "/",
        "agent": "bot",
        "token": None,
        "session": "s",
        "program": "/bin/echo",
    }
    return world["service"].decide(world["peer"], body, lambda message: True, later)


def _committed(db: str) -> list[str]:
    """The chain as another process sees it (what survives the server being killed)."""
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT line FROM audit ORDER BY seq")]


def _wal_syncs(world) -> int:
    return sum(1 for path in world["synced"] if path == world["db"] + "-wal")


def test_socket_answer_is_committed_first_and_synced_before_the_next_request(world):
    later: list = []
    answer = _decide(world, 1, later)
    assert answer["decision"] == "allowed"
    assert '"echo","1"' in _committed(world["db"])[-1]  # committed before the answer
    assert _wal_syncs(world) == 0  # ... and not yet forced to disk
    assert later, "the sync waits for the answer to leave"
    for step in later:
        step()
    assert _wal_syncs(world) == 1


def test_tls_answer_waits_for_the_disk(world):
    answer = _decide(world, 2, None)  # the TLS path passes no `later` steps
    assert answer["decision"] == "allowed"
    assert _wal_syncs(world) == 1


def test_a_failed_sync_denies_until_the_disk_works_again(world, capsys):
    later: list = []
    assert _decide(world, 3, later)["decision"] == "allowed"
    world["fail"].append(OSError(errno.EIO, "Input/output error"))
    for step in later:
        step()
    assert "cannot sync the audit chain" in capsys.readouterr().err
    before = len(_committed(world["db"]))
    denied = _decide(world, 4, [])
    assert denied["decision"] == "denied"
    assert "cannot record" in denied["message"]
    assert len(_committed(world["db"])) == before  # the chain did not grow unsynced
    world["fail"].clear()
    later = []
    assert _decide(world, 5, later)["decision"] == "allowed"
    for step in later:
        step()
    assert '"echo","5"' in _committed(world["db"])[-1]


def test_fsync_false_in_the_servers_policy_leaves_syncing_to_sqlite(world):
    world["policy"].write_text(POLICY.format(fsync="false"))
    world["service"].reload_requested = True  # as SIGHUP does
    later: list = []
    assert _decide(world, 6, later)["decision"] == "allowed"
    for step in later:
        step()
    assert _decide(world, 7, None)["decision"] == "allowed"
    assert _wal_syncs(world) == 0


def test_an_entry_recorded_twice_is_stored_once_and_the_chain_verifies(world, tmp_path):
    """A review's draft entry and its final entry share an id (a restart records an orphaned
    review that was in fact settled): the chain keeps the first."""
    from expacti_cli import auditverify
    from expacti_cli.server.store import open_store

    store = open_store(world["db"])
    entry = {"id": "e-1", "agent": "bot", "decision": "denied", "ts": "2026-11-30T00:00:00Z"}
    store.append(dict(entry))
    store.append({**entry, "decision": "approved"})
    store.append({**entry, "id": "e-2"})
    lines = _committed(world["db"])
    assert [json.loads(x)["id"] for x in lines] == ["e-1", "e-2"]
    assert json.loads(lines[0])["decision"] == "denied"
    exported = tmp_path / "chain.jsonl"
    with open(exported, "w") as out:
        store.export(out)
    assert auditverify.verify(str(exported)).ok
    store.close()
