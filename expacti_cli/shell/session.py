"""One analysis in progress: the catalogue, the budget, and where concerns and parts go."""

from __future__ import annotations

import os

from .frame import Budget
from .model import Concern
from .paths import SensitivePaths
from .spec import Spec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .frame import Frame
    from .model import Analysis, Part


class Session:
    """`plain`: the analysis of a plain line (plain.py), which must never need a parser."""

    __slots__ = ("analysis", "budget", "home", "paths", "plain", "spec")

    def __init__(self, raw_spec: dict[str, Any], analysis: Analysis, plain: bool = False) -> None:
        self.spec = Spec(raw_spec)
        self.analysis = analysis
        self.budget = Budget(self.spec)
        self.home = os.path.expanduser("~")
        self.paths = SensitivePaths(self.spec, self.home)
        self.plain = plain

    def concern(self, id: str, reason: str, part: Part | None = None) -> None:
        """Record a concern on `part`, or on the whole line."""
        c = Concern.of(id, reason)
        target = part.concerns if part is not None else self.analysis.concerns
        if c not in target:
            target.append(c)

    def add_part(self, part: Part, frame: Frame) -> None:
        part.order = len(self.analysis.parts)
        part.cwd = frame.state.cwd
        part.stdin = frame.stdin
        self.analysis.parts.append(part)
