"""Start, reload and stop `guard serve`.

Everything the server creates is private to its user (umask 0o077: directories 0o700, files
0o600) except the socket, which any local user may connect to: the kernel tells the server who
connected. SIGHUP reloads the policy; SIGTERM and SIGINT stop the server.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

from ..errors import UsageError
from .service import Service
from .store import open_store

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

LOOPBACK = ("127.0.0.1", "::1", "localhost")


def parse_listen(listen: str, cert: str | None, key: str | None) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"--listen {listen!r}: give HOST:PORT")
    if (cert is None) != (key is None):
        raise UsageError("--cert and --key go together")
    if cert is None and host not in LOOPBACK:
        raise UsageError(
            f"--listen {listen}: plain HTTP is allowed only on loopback; give --cert and --key"
        )
    return host, int(port)


def run(
    socket_path: str | None,
    listen: str | None,
    cert: str | None,
    key: str | None,
    policy_path: str | None,
    db: str,
    console_grace: float = 10.0,
    syslog: str | None = None,
) -> None:
    address = parse_listen(listen, cert, key) if listen else None
    os.umask(0o077)
    store = open_store(db)
    service = Service(store, policy_path)
    service.console_grace = console_grace
    if syslog:
        from .forward import Syslog

        service.forward = Syslog(syslog).send
    store.listen()
    recovered = service.recover()
    if recovered:
        sys.stderr.write(f"guard serve: recorded {recovered} review(s) a stopped server left\n")
    signal.signal(signal.SIGHUP, lambda *_: setattr(service, "reload_requested", True))
    unix = None
    if socket_path:
        from .unixsock import UnixServer

        unix = UnixServer(socket_path, service)
        sys.stderr.write(f"guard serve: agents' socket {socket_path}\n")
    sys.stderr.flush()
    try:
        if address is None:
            assert unix is not None
            signal.signal(signal.SIGTERM, _stop)
            unix.serve_forever(poll_interval=0.2)
        else:
            if unix is not None:
                threading.Thread(target=unix.serve_forever, daemon=True).start()
            _serve_web(service, address, cert, key)
    except KeyboardInterrupt:
        pass
    finally:
        if unix is not None:
            unix.server_close()
            if socket_path:
                try:
                    os.unlink(socket_path)
                except OSError:
                    pass
        sys.stderr.write("guard serve: stopped\n")


def _stop(*_: Any) -> None:
    raise KeyboardInterrupt


def _serve_web(
    service: Service, address: tuple[str, int], cert: str | None, key: str | None
) -> None:
    try:
        import uvicorn
    except ImportError:
        raise UsageError(
            "the web console needs the server extra: pip install 'expacti-cli[server]'"
        ) from None
    from .web import app

    scheme = "https" if cert else "http"
    sys.stderr.write(f"guard serve: reviewer console {scheme}://{address[0]}:{address[1]}/\n")
    sys.stderr.flush()
    uvicorn.run(
        app(service, secure=cert is not None),
        host=address[0],
        port=address[1],
        ssl_certfile=cert,
        ssl_keyfile=key,
        log_level="warning",
        access_log=False,
    )
