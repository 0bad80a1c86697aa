"""A time budget for one decision: past it, the decision is a denial, never a hang.

Agent-controlled input reaches every matcher (regexes, globs, the shell analysis). They are
built to be linear, but a hook that hangs may let a command through in some harnesses, so the
policy evaluation (not the human review) runs under two timers that raise `Exceeded` in the
middle of the work: the budget counts CPU time (`ITIMER_PROF`), which input built to stall
guard burns, while a busy machine's waiting does not deny an ordinary command; a wall-clock
backstop of WALL_FACTOR budgets (`ITIMER_REAL`) catches a wait that burns no CPU. Both are also
checked afterwards, for work a signal could not interrupt (a long C call, or a thread other than
the main one, where Python delivers no signal). `Exceeded` is a BaseException so that no
`except Exception` on the way swallows it. Uses `_signal` (loaded at interpreter start):
`signal` would import `enum`.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal  # the same functions, with type stubs
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar("T")
else:
    import _signal

DEFAULT_SECONDS = 1.0  # of CPU time
WALL_FACTOR = 5  # the wall-clock backstop, in budgets


class Exceeded(BaseException):
    """The decision took longer than its budget; the message says how long that was."""


def _alarm(signum: int, frame: object) -> None:
    raise Exceeded(signum)


def _arm(seconds: float, wall: float) -> list[tuple[Any, Any]] | None:
    """Start both timers; the handlers they replace, or None off the main thread."""
    replaced: list[tuple[Any, Any]] = []
    try:
        for signum in (_signal.SIGPROF, _signal.SIGALRM):
            replaced.append((signum, _signal.signal(signum, _alarm)))
    except ValueError:  # not the main thread: no signals, the checks afterwards still hold
        return None
    _signal.setitimer(_signal.ITIMER_PROF, seconds)
    _signal.setitimer(_signal.ITIMER_REAL, wall)
    return replaced


def _disarm(replaced: list[tuple[Any, Any]]) -> None:
    _signal.setitimer(_signal.ITIMER_PROF, 0)  # never left armed across exec
    _signal.setitimer(_signal.ITIMER_REAL, 0)
    for signum, handler in replaced:
        _signal.signal(signum, handler if handler is not None else _signal.SIG_DFL)


def run(seconds: float, work: Callable[..., T], *args: object) -> T:
    """`work(*args)` within `seconds` of CPU time (and WALL_FACTOR times that of wall-clock
    time), else `Exceeded` (the work is interrupted when it can be)."""
    wall = seconds * WALL_FACTOR
    cpu0, wall0 = time.process_time(), time.monotonic()
    replaced = _arm(seconds, wall)
    try:
        result = work(*args)
    except Exceeded as exc:
        which = exc.args[0] if exc.args else None
        if which == _signal.SIGALRM:
            raise Exceeded(f"deciding took longer than {wall:g} s") from None
        raise Exceeded(f"deciding used more than its budget of {seconds:g} s of CPU") from None
    finally:
        if replaced is not None:
            _disarm(replaced)
    cpu, elapsed = time.process_time() - cpu0, time.monotonic() - wall0
    if cpu > seconds:
        raise Exceeded(f"deciding used {cpu:.1f} s of CPU, over its budget of {seconds:g} s")
    if elapsed > wall:
        raise Exceeded(f"deciding took {elapsed:.1f} s, longer than {wall:g} s")
    return result
