"""Line state: what earlier commands of a line change for later ones (see walk.py)."""

from __future__ import annotations


class State:
    """The shell state a command sees: working directory (None when unknown)."""

    __slots__ = ("cwd",)

    def __init__(self, cwd: str | None) -> None:
        self.cwd = cwd

    def copy(self) -> State:
        return State(self.cwd)
