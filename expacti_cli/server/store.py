"""The server's storage: agents, reviewers, the audit chain, the review queue, session grants.

SQLite (stdlib) by default: one file, 0o600, in the server's private directory (0o700), WAL
journal. Every write is on disk (`synchronous=FULL`) when its transaction commits, except the
chain append: it commits before the answer leaves (from then on it survives the server being
killed) and reaches the disk when the caller calls `sync`, which the Unix socket does right
after the answer and before that agent's next request (service.py), and everything else before
its answer.
`store_pg.PgStore` is the same interface on PostgreSQL. Every method is safe to call from
several threads (one connection per thread) and several processes (the chain append is one
transaction that reads the last hash and inserts the next entry under an exclusive lock).

The audit chain is the audit log's format (audit.py): each row holds the canonical line with
`prev` and `hash`, so `export` writes a file that `guard audit verify` checks unchanged.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import threading
import time

from .. import audit, jsonline
from ..errors import GuardError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS agents (
    name TEXT PRIMARY KEY, users TEXT NOT NULL, digest TEXT NOT NULL, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviewers (
    name TEXT PRIMARY KEY, digest TEXT NOT NULL, status TEXT NOT NULL, seen {real});
CREATE TABLE IF NOT EXISTS audit (
    seq {serial}, id TEXT NOT NULL UNIQUE, agent TEXT, decision TEXT, ts TEXT,
    hash TEXT NOT NULL, line TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviews (
    id TEXT PRIMARY KEY, created {real} NOT NULL, deadline {real} NOT NULL, agent TEXT,
    server TEXT NOT NULL, status TEXT NOT NULL, request TEXT NOT NULL, entry TEXT NOT NULL,
    answer TEXT);
CREATE TABLE IF NOT EXISTS grants (
    agent TEXT NOT NULL, session TEXT NOT NULL, cwd TEXT NOT NULL, command TEXT NOT NULL,
    reviewer TEXT NOT NULL, expires {real} NOT NULL, PRIMARY KEY (agent, session, cwd, command));
CREATE TABLE IF NOT EXISTS logins (
    id TEXT PRIMARY KEY, reviewer TEXT NOT NULL, expires {real} NOT NULL);
"""
POOL = 16  # idle connections kept
GRANT_TTL = 12 * 3600.0
LOGIN_TTL = 12 * 3600.0
PENDING, APPROVED, DENIED, WITHDRAWN = "pending", "approved", "denied", "withdrawn"


class StoreError(GuardError):
    """The store cannot be opened or written: the decision is a denial."""


def digest(secret: str) -> str:
    return audit._sha256(secret.encode("utf-8", "surrogateescape"))


def valid_name(name: str) -> bool:
    return bool(name) and all(c.isascii() and (c.isalnum() or c in "._-@") for c in name)


def seal(entry: dict[str, Any], prev: str) -> str:
    """The audit line for `entry` chained after `prev` (sets its `prev` and `hash`)."""
    entry.pop("hash", None)
    entry["prev"] = prev
    text = jsonline.dumps_str_keyed(entry)  # audit.canonical's text: the keys are strings
    digest_ = audit.entry_hash(text)
    entry["hash"] = digest_
    return text[:-1] + ',"hash":"' + digest_ + '"}'


class Store:
    """SQLite storage. Subclasses change `_connect`, `_chain_lock` and the SQL dialect."""

    placeholder = "?"
    long_poll = 1.0  # seconds a console waits for a change: others' writes are not heard
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT"
    real = "REAL"

    def __init__(self, where: str) -> None:
        self.where = where
        self._create()
        self._pool: list[Any] = []
        self._pool_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._change = threading.Condition()
        self._version = 0
        self._unsynced: str | None = None  # why the last sync failed: appends are refused
        self._sync_lock = threading.Lock()
        self._appended = 0  # appends committed by this process
        self._synced = 0  # of which known to be on disk
        with self._tx() as cur:
            for statement in SCHEMA.format(serial=self.serial, real=self.real).split(";"):
                if statement.strip():
                    cur.execute(statement)

    # --- connections -----------------------------------------------------------------------

    def _create(self) -> None:
        """Make the database file 0o600 in a 0o700 directory (SQLite gives its journal files
        the database's mode). Only here, before this process has a connection: closing any
        descriptor of the file drops every POSIX lock the process holds on it, and another
        process could then checkpoint and delete the WAL under the server's feet."""
        directory = os.path.dirname(os.path.abspath(self.where))
        os.makedirs(directory, mode=0o700, exist_ok=True)
        fd = os.open(self.where, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            os.fchmod(fd, 0o600)
        finally:
            os.close(fd)

    def _connect(self) -> Any:
        import sqlite3

        conn = sqlite3.connect(
            self.where, timeout=30, isolation_level=None, check_same_thread=False
        )
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    def _take(self) -> Any:
        """A connection from the pool (or a new one): one per transaction in flight. One pool
        for every transaction: a connection whose own commit was the last one keeps its page
        cache, so the next request's reads start warm."""
        with self._pool_lock:
            if self._pool:
                return self._pool.pop()
        try:
            return self._connect()
        except Exception as exc:
            raise StoreError(f"cannot open the server store {self.where}: {exc}") from exc

    def _give(self, conn: Any) -> None:
        with self._pool_lock:
            if len(self._pool) < POOL:
                self._pool.append(conn)
                return
        conn.close()

    def _sql(self, sql: str) -> str:
        return sql if self.placeholder == "?" else sql.replace("?", self.placeholder)

    @contextlib.contextmanager
    def _tx(self, exclusive: bool = False) -> Iterator[Any]:
        if exclusive:  # this process's writers queue here, not in the database's busy loop
            with self._write_lock, self._tx_on(exclusive) as cur:
                yield cur
        else:
            with self._tx_on(exclusive) as cur:
                yield cur

    @contextlib.contextmanager
    def _tx_on(self, exclusive: bool, deferred: bool = False) -> Iterator[Any]:
        """A transaction; `deferred`: its commit is not synced to disk (see `sync`)."""
        conn = self._take()
        try:
            cur = conn.cursor()
            if deferred:
                self._defer_sync(cur, True)
            self._begin(cur, exclusive)
            try:
                yield _Cursor(cur, self._sql)
            except BaseException:
                cur.execute("ROLLBACK")
                raise
            cur.execute("COMMIT")
            if deferred:
                self._defer_sync(cur, False)
        except BaseException:
            conn.close()  # a connection in an unknown state is not reused
            raise
        self._give(conn)

    def _begin(self, cur: Any, exclusive: bool) -> None:
        cur.execute("BEGIN IMMEDIATE" if exclusive else "BEGIN")

    def _defer_sync(self, cur: Any, defer: bool) -> None:
        """SQLite: a commit in WAL mode with `synchronous=NORMAL` writes the log, no fsync."""
        cur.execute("PRAGMA synchronous=NORMAL" if defer else "PRAGMA synchronous=FULL")

    @property
    def appended(self) -> int:
        """Appends committed by this process so far (`sync(upto)` takes one)."""
        return self._appended

    @property
    def synced(self) -> int:
        """Of those, how many are known to be on disk."""
        return self._synced

    def sync(self, upto: int | None = None) -> None:
        """Put every append committed so far on disk: sync the write-ahead log's data and
        size, as SQLite's own commit would (fdatasync; any descriptor of a file flushes all of
        it, and SQLite locks the database and its -shm file, never the log, so opening and
        closing it here drops no lock). One sync at a time, and one that finds its appends
        already covered by another's returns at once: busy agents share syncs (group commit)
        instead of queueing a disk flush each. Raises StoreError, and refuses further appends
        until a sync succeeds: a chain that may not survive a power loss is not extended.
        `upto`: only the first `upto` appends need to be on disk (`appended` after them)."""
        wanted = self._appended if upto is None else upto
        with self._sync_lock:
            if self._synced >= wanted and not self._unsynced:
                return
            covered = self._appended  # every append committed by now is in the log
            try:
                self._sync_log()
            except OSError as exc:
                self._unsynced = exc.strerror or str(exc)
                raise StoreError(f"cannot sync the audit chain in {self.where}: {exc}") from exc
            self._unsynced = None
            self._synced = max(self._synced, covered)

    def _sync_log(self) -> None:
        try:
            fd = os.open(self.where + "-wal", os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            return  # no log: everything is checkpointed, and was synced then
        try:
            _datasync(fd)
        finally:
            os.close(fd)

    def _chain_lock(self, cur: Any) -> None:
        """Serialise chain appends (SQLite: BEGIN IMMEDIATE already holds the write lock)."""

    def _rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        """One SELECT on its own: the connection is in autocommit mode, so the statement is
        its own transaction (one consistent snapshot) without a BEGIN and COMMIT around it."""
        conn = self._take()
        try:
            cur = conn.cursor()
            cur.execute(self._sql(sql), args)
            rows = list(cur.fetchall())
        except BaseException:
            conn.close()  # a connection in an unknown state is not reused
            raise
        self._give(conn)
        return rows

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, []
        for conn in pool:
            conn.close()

    # --- agents and reviewers ------------------------------------------------------------

    def add_agent(self, name: str, users: list[str], *, rotate: bool = False) -> str:
        if not valid_name(name):
            raise StoreError(f"agent name {name!r}: use letters, digits and . _ - @")
        token = "gat_" + secrets.token_urlsafe(32)
        with self._tx(exclusive=True) as cur:
            cur.execute("SELECT users FROM agents WHERE name = ?", (name,))
            row = cur.fetchone()
            if row and not rotate:
                raise StoreError(f"agent {name!r} exists; --rotate gives it a new token")
            users = users or (row[0].split(",") if row else [])
            cur.execute("DELETE FROM agents WHERE name = ?", (name,))
            cur.execute(
                "INSERT INTO agents (name, users, digest, status) VALUES (?, ?, ?, 'active')",
                (name, ",".join(users), digest(token)),
            )
        return token

    def set_agent_status(self, name: str, status: str) -> None:
        with self._tx() as cur:
            cur.execute("UPDATE agents SET status = ? WHERE name = ?", (status, name))
            if cur.rowcount != 1:
                raise StoreError(f"no agent named {name!r}")

    def agents(self) -> list[tuple[str, list[str], str, str]]:
        """(name, Unix users, token digest, status) of every agent."""
        rows = self._rows("SELECT name, users, digest, status FROM agents ORDER BY name")
        return [(n, [u for u in us.split(",") if u], d, s) for n, us, d, s in rows]

    def add_reviewer(self, name: str, *, rotate: bool = False) -> str:
        if not valid_name(name):
            raise StoreError(f"reviewer name {name!r}: use letters, digits and . _ - @")
        secret = "grv_" + secrets.token_urlsafe(32)
        with self._tx(exclusive=True) as cur:
            cur.execute("SELECT name FROM reviewers WHERE name = ?", (name,))
            if cur.fetchone() and not rotate:
                raise StoreError(f"reviewer {name!r} exists; --rotate gives a new secret")
            cur.execute("DELETE FROM reviewers WHERE name = ?", (name,))
            cur.execute(
                "INSERT INTO reviewers (name, digest, status) VALUES (?, ?, 'active')",
                (name, digest(secret)),
            )
        return secret

    def reviewer_for(self, secret: str) -> str | None:
        """The active reviewer holding `secret` (agent tokens are never reviewer secrets)."""
        if not secret.startswith("grv_"):
            return None
        rows = self._rows(
            "SELECT name FROM reviewers WHERE digest = ? AND status = 'active'", digest(secret)
        )
        return str(rows[0][0]) if rows else None

    def reviewer_seen(self, reviewer: str) -> None:
        """A console of `reviewer` is looking at the queue now."""
        with self._tx() as cur:
            cur.execute("UPDATE reviewers SET seen = ? WHERE name = ?", (time.time(), reviewer))

    def reviewer_present(self, within: float) -> bool:
        """Has any reviewer's console looked at the queue in the last `within` seconds?"""
        rows = self._rows(
            "SELECT 1 FROM reviewers WHERE status = 'active' AND seen > ?", time.time() - within
        )
        return bool(rows)

    def new_login(self, reviewer: str) -> str:
        login = secrets.token_urlsafe(32)
        with self._tx() as cur:
            cur.execute("DELETE FROM logins WHERE expires < ?", (time.time(),))
            cur.execute(
                "INSERT INTO logins (id, reviewer, expires) VALUES (?, ?, ?)",
                (digest(login), reviewer, time.time() + LOGIN_TTL),
            )
        return login

    def login_reviewer(self, login: str) -> str | None:
        rows = self._rows(
            "SELECT l.reviewer FROM logins l JOIN reviewers r ON r.name = l.reviewer "
            "WHERE l.id = ? AND l.expires > ? AND r.status = 'active'",
            digest(login),
            time.time(),
        )
        return str(rows[0][0]) if rows else None

    # --- the audit chain -------------------------------------------------------------------

    def append(self, entry: dict[str, Any], *, synced: bool = True) -> dict[str, Any]:
        """Chain and store one entry (once: an id already stored is not stored again). With
        `synced`, it is on disk when this returns (and every append before it: the commit
        syncs the whole log); without, it is committed (it survives the server being killed)
        and reaches the disk with a later `sync`."""
        if self._unsynced:
            self.sync()  # the last one failed: this one must succeed first (raises)
        try:
            with self._write_lock:
                self._append(entry, synced)
                self._appended += 1  # committed: counted before the next append commits
                if synced:
                    self._synced = self._appended
        except StoreError:
            raise
        except Exception as exc:
            raise StoreError(f"cannot write the audit chain in {self.where}: {exc}") from exc
        return entry

    def _append(self, entry: dict[str, Any], synced: bool) -> None:
        with self._tx_on(True, deferred=not synced) as cur:
            self._chain_lock(cur)
            cur.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1")
            row = cur.fetchone()
            line = seal(entry, row[0] if row else audit.GENESIS)
            cur.execute(  # an id already stored (a review's draft recorded) stays as it is
                "INSERT INTO audit (id, agent, decision, ts, hash, line) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (
                    entry["id"],
                    entry.get("agent"),
                    entry.get("decision"),
                    entry.get("ts"),
                    entry["hash"],
                    line,
                ),
            )

    def lines(self, after: int = 0, limit: int = 10000) -> list[tuple[int, str]]:
        return [
            (int(s), str(t))
            for s, t in self._rows(
                "SELECT seq, line FROM audit WHERE seq > ? ORDER BY seq LIMIT ?", after, limit
            )
        ]

    def recent(self, limit: int) -> list[str]:
        """The newest `limit` audit lines, newest first."""
        rows = self._rows("SELECT line FROM audit ORDER BY seq DESC LIMIT ?", limit)
        return [str(r[0]) for r in rows]

    def export(self, out: Any) -> int:
        """Write the chain as audit-log lines to the text file `out`; return how many."""
        count, after = 0, 0
        while True:
            batch = self.lines(after)
            if not batch:
                return count
            for seq, line in batch:
                out.write(line + "\n")
                after = seq
            count += len(batch)

    # --- the review queue ------------------------------------------------------------------

    def submit(self, request: dict[str, Any], entry: dict[str, Any], server: str) -> None:
        with self._tx() as cur:
            cur.execute(
                "INSERT INTO reviews (id, created, deadline, agent, server, status, request, "
                "entry) VALUES (?, ?, ?, ?, ?, 'pending', ?, ?)",
                (
                    request["id"],
                    time.time(),
                    request["deadline"],
                    request["agent"],
                    server,
                    json.dumps(request, sort_keys=True),
                    json.dumps(entry, sort_keys=True),
                ),
            )
        self._notify()

    def _notify(self) -> None:
        """The queue changed: wake this process's waiters (PostgreSQL: NOTIFY the others)."""
        self._changed()

    def _changed(self) -> None:
        with self._change:
            self._version += 1
            self._change.notify_all()

    def listen(self) -> None:
        """Hear other processes' queue changes (SQLite: nothing to hear; waiters poll)."""

    def wait_change(self, seen: int, timeout: float) -> int:
        """Wait until the queue changes after version `seen` or `timeout` passes; return the
        version now. Changes made by other processes may only show when the wait ends."""
        with self._change:
            if self._version == seen:
                self._change.wait(timeout)
            return self._version

    def pending(self) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT request FROM reviews WHERE status = 'pending' AND deadline > ? "
            "ORDER BY created",
            time.time(),
        )
        return [json.loads(r[0]) for r in rows]

    def answer(
        self,
        review_id: str,
        approved: bool,
        reviewer: str,
        message: str,
        scope: str = "once",
        remembered: str | None = None,
    ) -> bool:
        """Answer a pending review; False if it is no longer pending (answered, gone)."""
        data = {
            "approved": approved,
            "reviewer": reviewer,
            "message": message,
            "scope": scope,
            "remembered": remembered,
        }
        with self._tx() as cur:
            cur.execute(
                "UPDATE reviews SET status = ?, answer = ? WHERE id = ? AND status = 'pending'",
                (APPROVED if approved else DENIED, json.dumps(data), review_id),
            )
            done: bool = cur.rowcount == 1
        self._notify()
        return done

    def review_state(self, review_id: str) -> tuple[str, dict[str, Any] | None]:
        rows = self._rows("SELECT status, answer FROM reviews WHERE id = ?", review_id)
        if not rows:
            return WITHDRAWN, None
        status, answer = rows[0]
        return str(status), json.loads(answer) if answer else None

    def close_review(self, review_id: str, status: str = WITHDRAWN) -> None:
        with self._tx() as cur:
            cur.execute(
                "UPDATE reviews SET status = ? WHERE id = ? AND status = 'pending'",
                (status, review_id),
            )
        self._notify()

    def settle(self, review_id: str) -> None:
        """The review's audit entry is in the chain: no restart needs to record it."""
        with self._tx() as cur:
            cur.execute("UPDATE reviews SET entry = '' WHERE id = ?", (review_id,))

    def orphans(self, server_prefix: str, grace: float) -> list[tuple[str, dict[str, Any]]]:
        """Reviews whose waiting server is gone: (id, draft audit entry). A review belongs to
        `host:pid`; one of this host whose pid is dead, or any past its deadline plus `grace`."""
        rows = self._rows("SELECT id, server, deadline, entry FROM reviews WHERE entry != ''")
        found = []
        for review_id, server, deadline, entry in rows:
            host, _, pid = str(server).rpartition(":")
            dead = host == server_prefix and pid.isdigit() and not _alive(int(pid))
            if dead or float(deadline) + grace < time.time():
                found.append((str(review_id), json.loads(entry)))
        return found

    # --- session grants --------------------------------------------------------------------

    def grant(self, agent: str, session: str, cwd: str, command: str, reviewer: str) -> None:
        with self._tx() as cur:
            cur.execute(
                "DELETE FROM grants WHERE agent = ? AND session = ? AND cwd = ? AND command = ?",
                (agent, session, cwd, command),
            )
            cur.execute(
                "INSERT INTO grants (agent, session, cwd, command, reviewer, expires) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (agent, session, cwd, command, reviewer, time.time() + GRANT_TTL),
            )

    def granted(self, agent: str, session: str, cwd: str, command: str) -> str | None:
        rows = self._rows(
            "SELECT reviewer FROM grants WHERE agent = ? AND session = ? AND cwd = ? "
            "AND command = ? AND expires > ?",
            agent,
            session,
            cwd,
            command,
            time.time(),
        )
        return str(rows[0][0]) if rows else None


class _Cursor:
    """A cursor that speaks `?` placeholders whatever the driver's style."""

    def __init__(self, cur: Any, sql: Any) -> None:
        self._cur, self._sqlf = cur, sql

    def execute(self, sql: str, args: tuple[Any, ...] = ()) -> None:
        self._cur.execute(self._sqlf(sql), args)

    def fetchone(self) -> Any:
        return self._cur.fetchone()

    def fetchall(self) -> Any:
        return self._cur.fetchall()

    @property
    def rowcount(self) -> int:
        return int(self._cur.rowcount)


_datasync = getattr(os, "fdatasync", os.fsync)  # fdatasync is Linux's (and other Unixes')


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def open_store(db: str) -> Store:
    """`postgresql://...` opens PostgreSQL; anything else is a SQLite file path."""
    if db.startswith(("postgresql://", "postgres://")):
        from .store_pg import PgStore

        return PgStore(db)
    return Store(db)
