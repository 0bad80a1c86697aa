"""When `guard serve`'s audit entry reaches the disk (issue 12; server/store.py, service.py).

The entry is committed before the answer leaves (it survives the server being killed). On the
Unix socket it is synced right after the answer, before the same agent's next request is
decided; over TLS (no `later` steps) before the answer. A sync that fails stops the chain
growing: decisions are denied until the disk works again. The real Service on a real SQLite
file; the store's sync call is watched to see which file was synced when.
"""

from __future__ import annotations

import errno
import json
import os
import pwd
import sqlite3
import threading

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
    real_sync = store_mod._datasync
    fail: list[OSError] = []
    slow: list[threading.Event] = []  # a disk that takes until the event is set

    def datasync(fd: int) -> None:
        if fail:
            raise fail[0]
        if slow:
            slow[0].wait(30)
        real_sync(fd)
        synced.append(os.readlink(f"/proc/self/fd/{fd}"))

    monkeypatch.setattr(store_mod, "_datasync", datasync)
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
        "slow": slow,
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
    assert _wal_syncs(world) == 0 and not _on_disk(world)  # ... and not yet forced to disk
    assert later, "the sync waits for the answer to leave"
    for step in later:
        step()
    assert _wal_syncs(world) == 1 and _on_disk(world)


def test_the_agents_next_answer_waits_for_its_previous_entry_on_disk(world):
    """At most one entry of an agent is not yet on disk: while the previous one's sync is
    still running, the next request is decided but not answered."""
    later: list = []
    assert _decide(world, 10, later)["decision"] == "allowed"
    disk = threading.Event()
    world["slow"].append(disk)
    steps = threading.Thread(target=lambda: [step() for step in later])
    steps.start()
    answers: list[dict] = []
    nxt = threading.Thread(target=lambda: answers.append(_decide(world, 11, [])))
    nxt.start()
    nxt.join(0.5)
    assert not answers, "answered before the agent's previous entry reached the disk"
    assert '"echo","11"' in _committed(world["db"])[-1]  # decided and committed meanwhile
    disk.set()
    nxt.join(30)
    steps.join(30)
    assert answers and answers[0]["decision"] == "allowed"
    assert _wal_syncs(world) >= 1


def _on_disk(world) -> bool:
    store = world["service"].store
    return store.synced == store.appended


def test_tls_answer_waits_for_the_disk(world):
    answer = _decide(world, 2, None)  # the TLS path passes no `later` steps
    assert answer["decision"] == "allowed"
    assert _on_disk(world)  # its commit synced the log (SQLite's own fsync)


def test_a_busy_server_syncs_at_commit_instead(world):
    """With other requests in flight the commit itself syncs: their syncs share the disk's
    time instead of queueing one each after their answers."""
    later: list = []
    with world["service"]._counted(1):  # another agent's request being decided
        assert _decide(world, 12, later)["decision"] == "allowed"
    assert _on_disk(world)
    for step in later:
        step()
    assert _wal_syncs(world) == 0  # nothing was left to sync after the answer


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
