"""Load the shell-line corpus in tests/corpus/ (format: tests/corpus/README.md).

`load("dangerous")` and `load("benign")` return `(line, label)` pairs: the shell line exactly
as written, and where it came from (`dangerous.txt:42`, `multiline/benign_003.sh:2`), for
test ids and failure messages. Nothing here runs the lines.
"""

from __future__ import annotations

from pathlib import Path

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
KINDS = ("dangerous", "benign")


def load(kind: str) -> list[tuple[str, str]]:
    """Return every entry of one kind: the one-line file first, then the multiline files."""
    if kind not in KINDS:
        raise ValueError(f"unknown corpus kind {kind!r}; expected one of {KINDS}")
    entries = _load_lines(CORPUS_DIR / f"{kind}.txt")
    for path in sorted((CORPUS_DIR / "multiline").glob(f"{kind}_*.sh")):
        entries.append(_load_multiline(path))
    return entries


def _load_lines(path: Path) -> list[tuple[str, str]]:
    """One entry per physical line; blank lines and lines starting with `#` are skipped."""
    entries = []
    text = path.read_text(encoding="utf-8")
    # split on "\n" only: str.splitlines() would also split on \f, \x1c or U+2028 inside a line
    for lineno, line in enumerate(text.split("\n"), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        entries.append((line, f"{path.name}:{lineno}"))
    return entries


def _load_multiline(path: Path) -> tuple[str, str]:
    """The first line is a `#` comment naming the source; the rest is the entry exactly,
    without the file's final newline."""
    text = path.read_text(encoding="utf-8")
    header, sep, body = text.partition("\n")
    if not header.startswith("#") or not sep or not body.strip():
        raise ValueError(f"{path}: expected a '#' source line followed by the shell line")
    if body.endswith("\n"):
        body = body[:-1]
    return body, f"multiline/{path.name}:2"
