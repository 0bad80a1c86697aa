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

    __slots__ = ("_found", "_raw", "_settings")

    def __init__(self, raw: dict[str, Any]) -> None:
        from expacti_cli.shellspec import DEFAULTS

        self._raw = raw
        self._settings: dict[str, Any] = {**DEFAULTS, **raw.get("shell", {})}
        self._found = _found_for(raw)

    def __getitem__(self, key: str) -> Any:
        return self._settings[key]

    def entry(self, kind: str, prog: str) -> dict[str, Any] | None:
        """The catalogue entry of kind `kind` (see KINDS) for the program name `prog`."""
        key = (kind, prog)
        if key not in self._found:
            if len(self._found) >= _FOUND_MAX:
                self._found.clear()
            self._found[key] = self._lookup(kind, prog)
        return self._found[key]

    def _lookup(self, kind: str, prog: str) -> dict[str, Any] | None:
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


# Lookups (glob matching over program names) per compiled catalogue, kept across analyses in
# one process: a catalogue is held here (so its id is never reused) for the last few seen.
_FOUND: list[tuple[dict[str, Any], dict[tuple[str, str], dict[str, Any] | None]]] = []
_FOUND_MAX = 4096


def _found_for(raw: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any] | None]:
    for held, known in _FOUND:
        if held is raw:
            return known
    fresh: dict[tuple[str, str], dict[str, Any] | None] = {}
    _FOUND.insert(0, (raw, fresh))
    del _FOUND[4:]
    return fresh
