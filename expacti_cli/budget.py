"""A time budget for one decision: past it, the decision is a denial, never a hang.

Agent-controlled input reaches every matcher (regexes, globs, the shell analysis). They are
built to be linear, but a hook that hangs may let a command through in some harnesses, so the
policy evaluation (not the human review) runs under an alarm: `ITIMER_REAL` raises `Exceeded`
in the middle of the work, and a check of the elapsed time afterwards catches the case where
the alarm could not interrupt (a long C call, or a thread other than the main one, where Python
delivers no signal). `Exceeded` is a BaseException so that no `except Exception` on the way
swallows it. Uses `_signal` (loaded at interpreter start): `signal` would import `enum`.
"""

from __future__ import annotations

import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    import signal as _signal  # the same functions, with type stubs
    from collections.abc import Callable
    from typing import TypeVar

    T = TypeVar("T")
else:
    import _signal

DEFAULT_SECONDS = 1.0


class Exceeded(BaseException):
    """The decision took longer than its budget; the message says how long that was."""


def _alarm(signum: int, frame: object) -> None:
    raise Exceeded("alarm")


def run(seconds: float, work: Callable[..., T], *args: object) -> T:
    """`work(*args)` within `seconds`, else `Exceeded` (the work is interrupted when it can be)."""
    started = time.monotonic()
    armed = False
    try:
        previous = _signal.signal(_signal.SIGALRM, _alarm)
    except ValueError:  # not the main thread: no alarm, the elapsed-time check still holds
        previous = None
    else:
        armed = True
        _signal.setitimer(_signal.ITIMER_REAL, seconds)
    try:
        result = work(*args)
    except Exceeded:
        raise Exceeded(f"deciding took longer than its budget of {seconds:g} s") from None
    finally:
        if armed:
            _signal.setitimer(_signal.ITIMER_REAL, 0)  # never left armed across exec
            _signal.signal(_signal.SIGALRM, previous if previous is not None else _signal.SIG_DFL)
    elapsed = time.monotonic() - started
    if elapsed > seconds:
        raise Exceeded(f"deciding took {elapsed:.1f} s, over its budget of {seconds:g} s")
    return result
