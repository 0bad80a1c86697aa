"""Load the effect corpus in tests/effects/ (format: tests/effects/README.md).

`classes()` names every effect class (one `CLASS.txt` file each); `load(cls, kind)` returns
`(line, label)` pairs of one class and kind (`dangerous` or `lookalike`): the shell line exactly
as written, and where it came from (`runs-code.txt:42`, `multiline/runs-code.dangerous_001.sh`).
Nothing here runs the lines. Used by tests/test_effects_corpus.py and benchmarks/effects_report.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from expacti_cli.policy import Policy

EFFECTS_DIR = Path(__file__).resolve().parent / "effects"
WHITELIST = EFFECTS_DIR / "whitelist.toml"
KINDS = ("dangerous", "lookalike")
_SECTION = "## "  # `## dangerous` / `## lookalike` start a section of a class file


def classes() -> list[str]:
    """Every effect class: the stem of each `*.txt` file, sorted."""
    return sorted(path.stem for path in EFFECTS_DIR.glob("*.txt"))


def load(cls: str, kind: str) -> list[tuple[str, str]]:
    """Every entry of one class and kind: the class file first, then its multiline files."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")
    path = EFFECTS_DIR / f"{cls}.txt"
    entries = [(line, label) for k, line, label in _load_sections(path) if k == kind]
    for extra in sorted((EFFECTS_DIR / "multiline").glob(f"{cls}.{kind}_*.sh")):
        entries.append(_load_multiline(extra))
    return entries


def _load_sections(path: Path) -> list[tuple[str, str, str]]:
    """(kind, line, label) for each entry; `## KIND` lines switch the kind; other lines whose
    first non-blank character is `#` are comments; an entry before any section is an error."""
    entries = []
    kind = None
    text = path.read_text(encoding="utf-8")
    # split on "\n" only: str.splitlines() would also split on \f, \x1c or U+2028 inside a line
    for lineno, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if stripped.startswith(_SECTION) and stripped[len(_SECTION) :] in KINDS:
            kind = stripped[len(_SECTION) :]
            continue
        if not stripped or stripped.startswith("#"):
            continue
        if kind is None:
            raise ValueError(f"{path.name}:{lineno}: entry before a '## dangerous' section")
        entries.append((kind, line, f"{path.name}:{lineno}"))
    return entries


def _load_multiline(path: Path) -> tuple[str, str]:
    """The first line is a `#` comment naming the source; the rest is the entry exactly,
    without the file's final newline."""
    text = path.read_text(encoding="utf-8")
    header, sep, body = text.partition("\n")
    if not header.startswith("# source:") or not sep or not body.strip():
        raise ValueError(f"{path}: expected a '# source:' line followed by the shell line")
    if body.endswith("\n"):
        body = body[:-1]
    return body, f"multiline/{path.name}"


def load_policy(cache: Path, path: Path = WHITELIST) -> Policy:
    """The policy at `path` (the test whitelist by default), compiled into `cache`, not the
    user's cache directory."""
    import pytest

    from expacti_cli import policy

    mp = pytest.MonkeyPatch()
    mp.setenv("GUARD_CACHE_DIR", str(cache))
    try:
        return policy.load(str(path))
    finally:
        mp.undo()
