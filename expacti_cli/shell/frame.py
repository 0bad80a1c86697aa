"""Where the walker stands: the analysis budget, one parsed source, and a `Frame`.

A `Frame` replaces the (ctx, via, stdin) arguments once threaded through every method:
what a command at this point of the line sees. Frames are values: a change makes a copy
(`frame.but(stdin="pipe")`), so a sub-walk can never leak its view back to its caller.
"""

from __future__ import annotations

import time

from .model import TooComplex
from .syntax import decode

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .model import Redirect
    from .spec import Spec
    from .state import State


class Budget:
    """Limits on one analysis (catalogue settings `max_*`): nodes visited, nesting, bytes
    parsed, wall time. Exceeding one raises TooComplex. `with budget.nested():` counts a level
    of nesting for its body."""

    __slots__ = (
        "bytes",
        "deadline",
        "max_bytes",
        "max_nesting",
        "max_nodes",
        "max_seconds",
        "nesting",
        "nodes",
    )

    def __init__(self, spec: Spec) -> None:
        self.max_nodes = spec["max_nodes"]
        self.max_nesting = spec["max_nesting"]
        self.max_bytes = spec["max_bytes"]
        self.max_seconds = spec["max_seconds"]
        self.deadline = time.monotonic() + float(self.max_seconds)
        self.bytes = 0
        self.nodes = 0
        self.nesting = 0

    def tick(self) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise TooComplex(f"more than {self.max_nodes} syntax nodes")
        if not self.nodes & 255 and time.monotonic() > self.deadline:
            raise TooComplex(f"analysis took longer than {self.max_seconds} s")

    def expect_nodes(self, count: int) -> None:
        if self.nodes + count > self.max_nodes:
            raise TooComplex(f"more than {self.max_nodes} syntax nodes")

    def add_bytes(self, count: int) -> None:
        self.bytes += count
        if self.bytes > self.max_bytes:
            raise TooComplex(f"line longer than {self.max_bytes} bytes")

    def nesting_left(self) -> int:
        return int(self.max_nesting) - self.nesting

    def nested(self) -> Budget:
        return self

    def __enter__(self) -> None:
        self.nesting += 1
        if self.nesting > self.max_nesting:
            raise TooComplex(f"nested deeper than {self.max_nesting} levels")

    def __exit__(self, *exc: object) -> None:
        self.nesting -= 1


class Source:
    """One parsed source (the line, or a nested shell string): a shell process's view of its
    text and of the functions defined in it."""

    __slots__ = ("_latin1", "called", "calling", "depth", "functions", "src")

    def __init__(
        self,
        src: bytes,
        depth: int,
        functions: dict[str, tuple[Any, bool, list[Any]]] | None = None,
    ) -> None:
        self.src = src
        self.depth = depth
        # name -> (body, defined unconditionally, the redirections of its definition)
        self.functions: dict[str, tuple[Any, bool, list[Any]]] = (
            {} if functions is None else functions
        )
        self.calling: set[str] = set()
        self.called: set[str] = set()
        self._latin1: str | None = None

    def latin1(self) -> str:
        """The source's bytes as latin-1 text: one character per byte, at tree-sitter's offsets."""
        if self._latin1 is None:
            self._latin1 = self.src.decode("latin-1")
        return self._latin1

    def text(self, node: Any) -> str:
        return decode(self.src[node.start_byte : node.end_byte])

    def span(self, start: int, end: int) -> str:
        return decode(self.src[start:end])


class Frame:
    """What a command at this point sees: its source, the wrappers it runs under (`via`), what
    its stdin is (None: the line's own stdin), the line state (working directory,
    variables, aliases...) and the redirections of enclosing compound commands."""

    __slots__ = ("redirects", "source", "state", "stdin", "via")

    def __init__(
        self,
        source: Source,
        via: list[str],
        stdin: str | None,
        state: State,
        redirects: tuple[Redirect, ...] = (),
    ) -> None:
        self.source = source
        self.via = via
        self.stdin = stdin
        self.state = state
        self.redirects = redirects

    def but(self, **changes: Any) -> Frame:
        """A copy with some fields changed."""
        new = Frame(self.source, self.via, self.stdin, self.state, self.redirects)
        for key, value in changes.items():
            setattr(new, key, value)
        return new

    def isolated(self) -> Frame:
        """For a subshell, pipeline element, substitution or background job: what it changes
        in the state stays there."""
        return self.but(state=self.state.copy())

    @property
    def depth(self) -> int:
        return self.source.depth

    def text(self, node: Any) -> str:
        return self.source.text(node)
