"""Answer within a time budget, whatever the decision does.

The harness waits for the hook process, not for guard's good intentions: a catastrophic regex,
a FIFO where a file should be, or a reviewer console that never answers must not hold the
agent (or, in harnesses where a timed-out hook fails open, let the command through). So the
hook process forks a worker that does everything (read stdin, decide, audit), and waits for
its answer at most `budget` seconds. A C routine that never returns cannot be interrupted by a
signal handler in the same process; a separate process can always be killed.

The worker sends length-prefixed `marshal` messages on a pipe:
- `("call", {...})`: what was asked (so a budget denial can name it and be audited),
- `("audit", {...})`: the audit settings of the loaded policy (so that entry chains right),
- `("result", (exit_code, stdout, stderr))`: the answer.
"""

from __future__ import annotations

import marshal
import os
import select
import signal
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_HEADER = 4


class Worker:
    """The worker's end: send messages to the waiting parent."""

    __slots__ = ("_fd",)

    def __init__(self, fd: int) -> None:
        self._fd = fd

    def detach(self) -> None:
        """After the result: stdio to /dev/null and the pipe closed, so the harness (which
        waits for the hook's stdout to close) is not held by bookkeeping that follows."""
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        os.close(null)
        os.close(self._fd)

    def send(self, kind: str, value: Any) -> None:
        data = marshal.dumps((kind, value))
        view = memoryview(len(data).to_bytes(_HEADER, "big") + data)
        while view:
            view = view[os.write(self._fd, view) :]


class Outcome:
    """What the parent learned: the result, or what was known when the budget ran out."""

    __slots__ = ("audit", "call", "result", "timed_out")

    def __init__(self) -> None:
        self.call: dict[str, Any] | None = None
        self.audit: dict[str, Any] | None = None
        self.result: tuple[int, str, str] | None = None
        self.timed_out = False


def run(work: Callable[[Worker], None], budget: float) -> Outcome:
    """Run `work` in a forked worker; return within `budget` seconds (plus a kill)."""
    outcome = Outcome()
    read_fd, write_fd = os.pipe()
    for stream in (sys.stdout, sys.stderr):  # nothing buffered may be written twice
        if stream is not None:
            stream.flush()
    pid = os.fork()
    if pid == 0:  # the worker
        os.close(read_fd)
        code = 0
        try:
            work(Worker(write_fd))
        except BaseException:  # the parent answers (fail closed) on no result
            code = 70
        finally:
            os._exit(code)
    os.close(write_fd)
    deadline = time.monotonic() + budget
    buffer = b""
    try:
        while outcome.result is None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_fd], [], [], left)[0]:
                outcome.timed_out = True
                break
            chunk = os.read(read_fd, 65536)
            if not chunk:
                break  # the worker died without a result: the caller fails closed
            buffer += chunk
            buffer = _take_messages(buffer, outcome)
    finally:
        os.close(read_fd)
        if outcome.result is None:
            _kill(pid)
        else:  # it may still be keeping statistics, detached: reaped when we exit
            os.waitpid(pid, os.WNOHANG)
    return outcome


def _take_messages(buffer: bytes, outcome: Outcome) -> bytes:
    while len(buffer) >= _HEADER:
        size = int.from_bytes(buffer[:_HEADER], "big")
        if len(buffer) < _HEADER + size:
            break
        kind, value = marshal.loads(buffer[_HEADER : _HEADER + size])
        buffer = buffer[_HEADER + size :]
        if kind == "call":
            outcome.call = value
        elif kind == "audit":
            outcome.audit = value
        elif kind == "result":
            outcome.result = value
    return buffer


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
