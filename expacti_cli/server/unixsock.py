"""The agents' Unix socket: one thread per connection, identity from SO_PEERCRED.

The socket itself is world-connectable (0o666): who connects is taken from the kernel, never
from the request, and a Unix user the server does not map to an agent is refused. Reviewers
use the same socket (`guard review --server unix:PATH`) with their reviewer secret.
"""

from __future__ import annotations

import os
import socket
import socketserver
import struct
import sys

from . import protocol
from .service import Peer, Service

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

REQUEST_TIMEOUT = 10.0  # seconds a client may take to send its request line


def peer_of(sock: socket.socket) -> Peer:
    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
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


class Handler(socketserver.BaseRequestHandler):
    server: UnixServer

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(REQUEST_TIMEOUT)
        try:
            peer = peer_of(sock)
            line = protocol.read_line(sock.recv, bytearray())
            if line is None:
                return
            body = protocol.decode(line)
            answer = self.server.dispatch(peer, body, sock)
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


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, path: str, service: Service) -> None:
        self.service = service
        if os.path.exists(path) and not os.path.isdir(path):
            os.unlink(path)  # a stale socket from an earlier run
        super().__init__(path, Handler)
        os.chmod(path, 0o666)  # noqa: S103 - identity comes from the kernel (SO_PEERCRED)

    def dispatch(self, peer: Peer, body: dict[str, Any], sock: socket.socket) -> dict[str, Any]:
        op = body.get("op")
        if op == "decide":

            def pending(message: dict[str, Any]) -> bool:
                if message:
                    try:
                        sock.sendall(protocol.encode(message))
                    except OSError:
                        return False
                return not _client_gone(sock)

            return self.service.decide(peer, body, pending)
        if op in ("queue", "answer"):
            from . import reviewapi

            return reviewapi.handle(self.service.store, body, self.service)
        return {"status": "done", "decision": "denied", "message": f"unknown op {op!r}"}

    def handle_error(self, request: Any, client_address: Any) -> None:
        import traceback

        sys.stderr.write("guard serve: error while handling a request:\n")
        traceback.print_exc()
