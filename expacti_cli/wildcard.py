"""Shell-style glob matching of one string (`*`, `?`, `[abc]`, `[!a-z]`), like fnmatchcase,
and of a path's segments against segment globs with `**` (any number of segments).

Written out because `fnmatch` imports `re` (~10 ms), which the allowed path cannot afford.
A test compares it with `fnmatch.fnmatchcase` on generated inputs.

Both matchers are the classic two-pointer algorithm: on a mismatch only the most recent `*`
(or `**`) takes one more character (segment), never an earlier one. That is exact for globs (a
later star can absorb whatever an earlier one would) and costs at most len(text) x len(pattern)
steps, so a 1 MB agent-controlled argument against a policy glob stays linear in its length:
no backtracking over every way to split it among the stars.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    _Item = str | tuple[bool, tuple[tuple[str, str], ...]]

_SPECIAL = frozenset("*?[")

# A compiled glob: one item per pattern position: "*" and "?" stand for themselves, a class is
# (negated, ranges), a literal character c is "\0" + c. Cached: rules reuse few patterns.
_COMPILED: dict[str, list[_Item]] = {}


def is_glob(token: str) -> bool:
    return not _SPECIAL.isdisjoint(token)  # the scan runs in C


def _parse_class(pattern: str, i: int) -> tuple[int, bool, list[tuple[str, str]]] | None:
    """Parse `[...]` at pattern[i] == '[' exactly as `fnmatch.translate` reads it (Python 3.11),
    quirks included: a range whose ends are out of order is dropped with both its ends, and a
    class left as `!` matches any character. Return (index after ']', negated, ranges), or None
    when there is no closing bracket ('[' is then literal)."""
    n = len(pattern)
    start = j = i + 1
    if j < n and pattern[j] == "!":
        j += 1
    if j < n and pattern[j] == "]":
        j += 1
    while j < n and pattern[j] != "]":
        j += 1
    if j >= n:
        return None
    stuff = pattern[start:j]
    stuff = _join_ranges(pattern, start, j) if "-" in stuff else stuff.replace("\\", "\\\\")
    if not stuff:
        return j + 1, False, []  # an empty class: never matches
    negated = stuff[0] == "!"
    return j + 1, negated, _class_ranges(stuff[1:] if negated else stuff)


def _join_ranges(pattern: str, start: int, end: int) -> str:
    """fnmatch's chunking of a class with hyphens: the class text with literal hyphens escaped
    (as `\\-`, backslashes as `\\\\`) and out-of-order ranges removed."""
    chunks = []
    i = start
    k = i + 2 if pattern[i] == "!" else i + 1
    while True:
        k = pattern.find("-", k, end)
        if k < 0:
            break
        chunks.append(pattern[i:k])
        i = k + 1
        k = k + 3
    chunk = pattern[i:end]
    if chunk:
        chunks.append(chunk)
    else:
        chunks[-1] += "-"
    for k in range(len(chunks) - 1, 0, -1):
        if chunks[k - 1][-1] > chunks[k][0]:
            chunks[k - 1] = chunks[k - 1][:-1] + chunks[k][1:]
            del chunks[k]
    return "-".join(s.replace("\\", "\\\\").replace("-", "\\-") for s in chunks)


def _class_ranges(text: str) -> list[tuple[str, str]]:
    """The characters of a regex class body where only `\\x` escapes occur: `a-z` is a range,
    a `-` first or last is literal."""
    atoms: list[tuple[str, bool]] = []  # (char, is an unescaped hyphen)
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            atoms.append((text[i + 1], False))
            i += 2
        else:
            atoms.append((text[i], text[i] == "-"))
            i += 1
    ranges = []
    k = 0
    while k < len(atoms):
        if k + 2 < len(atoms) and atoms[k + 1][1]:
            ranges.append((atoms[k][0], atoms[k + 2][0]))
            k += 3
        else:
            ranges.append((atoms[k][0], atoms[k][0]))
            k += 1
    return ranges


def _compile(pattern: str) -> list[_Item]:
    cached = _COMPILED.get(pattern)
    if cached is not None:
        return cached
    items: list[_Item] = []
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "[":
            parsed = _parse_class(pattern, i)
            if parsed is not None:
                end, negated, ranges = parsed
                items.append((negated, tuple(ranges)))
                i = end
                continue
            items.append("\0[")  # a literal '[' (not to be confused with the class marker)
        elif c == "*":
            if not items or items[-1] != "*":  # `**` within one token is one star
                items.append("*")
        elif c == "?":
            items.append("?")
        else:
            items.append("\0" + c)
        i += 1
    if len(_COMPILED) < 4096:
        _COMPILED[pattern] = items
    return items


def _one(item: _Item, ch: str) -> bool:
    """Does one character match one non-star item?"""
    if isinstance(item, tuple):
        negated, ranges = item
        return any(lo <= ch <= hi for lo, hi in ranges) != negated
    return item == "?" or item[1] == ch


def match(pattern: str, text: str) -> bool:
    """True if `text` matches the glob `pattern` entirely (case-sensitive)."""
    if not is_glob(pattern):
        return pattern == text
    items = _compile(pattern)
    p = t = 0
    star_p = star_t = -1
    np, nt = len(items), len(text)
    while t < nt:
        if p < np:
            item = items[p]
            if item == "*":
                star_p, star_t = p, t
                p += 1
                continue
            if _one(item, text[t]):
                p += 1
                t += 1
                continue
        if star_p < 0:
            return False
        star_t += 1  # the last `*` swallows one more character
        p, t = star_p + 1, star_t
    while p < np and items[p] == "*":
        p += 1
    return p == np


def match_segments(
    pattern: Sequence[str],
    segments: Sequence[str],
    segment_match: Callable[[str, str], bool] = match,
) -> bool:
    """Path segments against segment globs, where a `**` segment matches any number (zero
    included) of segments: the same two-pointer walk as `match`, one level up."""
    p = s = 0
    star_p = star_s = -1
    np, ns = len(pattern), len(segments)
    literal = [not is_glob(seg) for seg in pattern]  # compared with ==, no call per segment
    while s < ns:
        if p < np:
            if pattern[p] == "**":
                star_p, star_s = p, s
                p += 1
                continue
            if pattern[p] == segments[s] if literal[p] else segment_match(pattern[p], segments[s]):
                p += 1
                s += 1
                continue
        if star_p < 0:
            return False
        star_s += 1
        p, s = star_p + 1, star_s
    while p < np and pattern[p] == "**":
        p += 1
    return p == np
