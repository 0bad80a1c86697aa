"""Copies of the server's audit entries for a log pipeline: syslog (and journald, which reads
the syslog socket). The chain in the store is the record; a copy that cannot be sent is
reported on the server's stderr and never changes a decision.
"""

from __future__ import annotations

import sys

from .. import jsonline
from ..errors import UsageError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Syslog:
    """Each entry as one syslog message (facility authpriv, tag `guard`), its canonical JSON
    line as the text. ADDRESS: a Unix datagram socket path (`/dev/log`) or HOST:PORT (UDP)."""

    def __init__(self, address: str) -> None:
        import logging
        import logging.handlers

        where: Any = address
        if not address.startswith("/"):
            host, _, port = address.rpartition(":")
            if not host or not port.isdigit():
                raise UsageError(f"--syslog {address!r}: give a socket path or HOST:PORT")
            where = (host, int(port))
        self._logging = logging
        try:
            handler = logging.handlers.SysLogHandler(
                address=where, facility=logging.handlers.SysLogHandler.LOG_AUTHPRIV
            )
        except OSError as exc:
            raise UsageError(f"--syslog {address}: {exc.strerror or exc}") from None
        handler.ident = "guard: "
        handler.handleError = self._failed  # type: ignore[method-assign]
        self.handler = handler

    def _failed(self, record: Any) -> None:
        exc = sys.exc_info()[1]
        sys.stderr.write(f"guard serve: cannot send an audit entry to syslog: {exc}\n")

    def send(self, entry: dict[str, Any]) -> None:
        record = self._logging.LogRecord(
            "guard", self._logging.INFO, "", 0, jsonline.dumps(entry), None, None
        )
        self.handler.emit(record)
