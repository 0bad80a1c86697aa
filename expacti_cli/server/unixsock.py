"""The agents' Unix socket: pre-started workers that accept and answer, identity from
SO_PEERCRED.

The socket itself is world-connectable (0o666): who connects is taken from the kernel, never
from the request, and a Unix user the server does not map to an agent is refused. Reviewers
use the same socket (`guard review --server unix:PATH`) with their reviewer secret.

Speed: each worker blocks in accept() and answers the connection it gets, so an allowed
request wakes one thread and starts none (a thread per connection cost ~0.1 ms and a hand-off
between threads, more on an idle host). A worker that takes the last idle place starts
another first, so a review that waits for a human never holds up the next agent; idle workers
beyond SPARE end. After the answer is sent, the worker does the request's remaining
bookkeeping (the agent's anomaly state: `Service.decide`'s `later`).
"""

from __future__ import annotations

import os
import socket
import struct
import sys
import threading

from .. import protocol
from .service import Peer, Service

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

REQUEST_TIMEOUT = 10.0  # seconds a client may take to send its request line
WORKERS = 4  # started at once
SPARE = 16  # idle workers kept after a burst
BACKLOG = 128
ACCEPT_RETRY = 0.05  # seconds before a worker tries accept() again after it failed
_CREDS = struct.calcsize("3i")


def peer_of(sock: socket.socket) -> Peer:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _CREDS)
    pid, uid, _gid = struct.unpack("3i", creds)
    return Peer(pid, uid)


def _client_gone(sock: socket.socket) -> bool:
    """Has the client closed its end (EOF readable without blocking)?"""
    import select

    try:
        readable, _, _ = select.select([sock], [], [], 0)
        if not readable:
            return False
        return sock.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


class UnixServer:
    """The listening socket and its workers (`serve_forever` until `shutdown`)."""

    def __init__(self, path: str, service: Service) -> None:
        self.service = service
        if os.path.exists(path) and not os.path.isdir(path):
            os.unlink(path)  # a stale socket from an earlier run
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.socket.bind(path)
            os.chmod(path, 0o666)  # noqa: S103 - identity comes from the kernel (SO_PEERCRED)
            self.socket.listen(BACKLOG)
        except BaseException:
            self.socket.close()
            raise
        self._lock = threading.Lock()
        self._idle = 0
        self._stopped = threading.Event()

    # --- the workers -------------------------------------------------------------------------

    def _start_worker(self) -> None:
        """Start one more idle worker (the caller holds `_lock`, so the new worker counts
        itself busy only after it was counted idle)."""
        try:
            threading.Thread(target=self._work, name="guard-serve-worker", daemon=True).start()
        except RuntimeError:  # the process may start no more threads: those there serve on
            return
        self._idle += 1

    def _work(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self.socket.accept()
            except OSError:  # shut down, a connection reset before it was accepted, EMFILE
                if self._stopped.wait(ACCEPT_RETRY):
                    break
                continue
            with self._lock:
                self._idle -= 1
                if self._idle == 0 and not self._stopped.is_set():
                    self._start_worker()
            try:
                self.handle(conn)
            except Exception:
                self.handle_error()
            finally:
                conn.close()
            with self._lock:
                if self._idle >= SPARE:
                    return
                self._idle += 1
        with self._lock:
            self._idle -= 1

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Start the workers and wait until `shutdown` (signals reach the calling thread)."""
        with self._lock:
            for _ in range(WORKERS):
                self._start_worker()
        while not self._stopped.wait(poll_interval):
            pass

    def shutdown(self) -> None:
        self._stopped.set()
        try:
            self.socket.shutdown(socket.SHUT_RDWR)  # wakes the workers blocked in accept
        except OSError:
            pass

    def server_close(self) -> None:
        self.shutdown()
        self.socket.close()

    # --- one connection ------------------------------------------------------------------

    def handle(self, sock: socket.socket) -> None:
        sock.settimeout(REQUEST_TIMEOUT)
        later: list[Callable[[], None]] = []
        try:
            try:
                peer = peer_of(sock)
                buffer = bytearray()
                line = protocol.read_line(sock.recv, buffer)
                if line is None:
                    return
                body = protocol.decode(line)
                answer = self.dispatch(peer, body, sock, later, buffer)
            except (protocol.ProtocolError, OSError) as exc:
                answer = {
                    "status": "done",
                    "decision": "denied",
                    "message": f"guard: denied: the server could not read the request ({exc})",
                }
            try:
                sock.sendall(protocol.encode(answer))
            except OSError:
                pass  # the client is gone; its guard denies on its own
        finally:
            for work in later:  # after the answer: the client is not kept waiting for it
                work()

    def dispatch(
        self,
        peer: Peer,
        body: dict[str, Any],
        sock: socket.socket,
        later: list[Callable[[], None]] | None = None,
        buffer: bytearray | None = None,
    ) -> dict[str, Any]:
        """The answer to one request; `buffer` holds what was read past its line."""
        op = body.get("op")
        if op == "decide":
            rest = bytearray() if buffer is None else buffer

            def follow() -> bytes | None:
                return protocol.read_line(sock.recv, rest)

            def pending(message: dict[str, Any]) -> bool:
                if message:
                    try:
                        sock.sendall(protocol.encode(message))
                    except OSError:
                        return False
                return not _client_gone(sock)

            return self.service.decide(peer, body, pending, later, follow)
        if op in ("queue", "answer"):
            from . import reviewapi

            return reviewapi.handle(self.service.store, body, self.service)
        return {"status": "done", "decision": "denied", "message": f"unknown op {op!r}"}

    def handle_error(self) -> None:
        import traceback

        sys.stderr.write("guard serve: error while handling a request:\n")
        traceback.print_exc()
