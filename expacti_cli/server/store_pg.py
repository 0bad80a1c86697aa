"""PostgreSQL storage for a fleet: several `guard serve` processes share one queue, one agent
registry and one audit chain.

Chain appends (and other read-modify-write transactions) take a transaction-scoped advisory
lock, so writers from every server are serialised and each entry's `prev` is the hash of the
one before it. Queue changes are announced with NOTIFY; every server LISTENs, so an answer
given on one server's console reaches the agent waiting on another at once.
"""

from __future__ import annotations

import contextlib
import sys
import threading

from .store import Store, StoreError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

LOCK_KEY = 0x67756172640A  # "guard\n": the one advisory lock of guard's tables
CHANNEL = "guard_queue"


class PgStore(Store):
    placeholder = "%s"
    long_poll = 15.0  # every server's changes are heard (NOTIFY)
    serial = "BIGSERIAL PRIMARY KEY"
    real = "DOUBLE PRECISION"

    def __init__(self, where: str) -> None:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise StoreError(
                "PostgreSQL storage needs psycopg: pip install 'expacti-cli[server]'"
            ) from None
        super().__init__(where)
        self._listener: threading.Thread | None = None

    def _create(self) -> None:
        """Nothing to create on disk: the tables are made by the first transaction."""

    def _connect(self) -> Any:
        import psycopg

        return psycopg.connect(self.where, autocommit=True, connect_timeout=10)

    def _begin(self, cur: Any, exclusive: bool) -> None:
        cur.execute("BEGIN")
        if exclusive:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))

    def _defer_sync(self, cur: Any, defer: bool) -> None:
        """PostgreSQL: every commit waits for its WAL flush (synchronous_commit)."""

    def sync(self, upto: int | None = None) -> None:
        """Nothing left to do: a commit here is already on disk."""

    def _notify(self) -> None:
        super()._notify()
        with contextlib.suppress(Exception), self._tx() as cur:
            cur.execute(f"NOTIFY {CHANNEL}")

    def listen(self) -> None:
        """Wake this process's waiters whenever any server changes the queue."""
        if self._listener is None:
            self._listener = threading.Thread(target=self._listen, daemon=True)
            self._listener.start()

    def _listen(self) -> None:
        import time

        import psycopg

        while True:
            try:
                with psycopg.connect(self.where, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    for _ in conn.notifies():
                        self._changed()
            except Exception as exc:  # reconnect; waiters still poll meanwhile
                sys.stderr.write(f"guard serve: LISTEN {CHANNEL} failed ({exc}); retrying\n")
                time.sleep(1)
