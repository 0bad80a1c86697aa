"""The one reader of the shell catalogue (the compiled form `shellspec.compile` returns).

Every other module of the analysis asks this layer, never the raw dict: when the catalogue's
source changes (one grammar per program), only this file follows it.
"""

from __future__ import annotations

from ..wildcard import match as wildcard_match

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The kinds of program the catalogue describes, each a table of entries by name.
KINDS = ("wrapper", "interpreter", "client", "writer")


class Spec:
    """Settings (`spec["max_depth"]`, `spec["eval"]`...) and program entries by kind."""

    __slots__ = ("_raw", "_settings")

    def __init__(self, raw: dict[str, Any]) -> None:
        from expacti_cli.shellspec import DEFAULTS

        self._raw = raw
        self._settings: dict[str, Any] = {**DEFAULTS, **raw.get("shell", {})}

    def __getitem__(self, key: str) -> Any:
        return self._settings[key]

    def entry(self, kind: str, prog: str) -> dict[str, Any] | None:
        """The catalogue entry of kind `kind` (see KINDS) for the program name `prog`."""
        entries = self._raw.get(kind + "s")
        if not entries:
            return None
        name = self._raw[kind + "_names"].get(prog)
        if name is None:
            for pattern, entry_name in self._raw[kind + "_globs"]:
                if wildcard_match(pattern, prog):
                    name = entry_name
                    break
            else:
                return None
        return entries[name]  # type: ignore[no-any-return]
