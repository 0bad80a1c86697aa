"""Shell-style glob matching of one string (`*`, `?`, `[abc]`, `[!a-z]`), like fnmatchcase.

Written out because `fnmatch` imports `re` (~10 ms), which the allowed path cannot afford.
A test compares it with `fnmatch.fnmatchcase` on generated inputs.
"""

from __future__ import annotations

_SPECIAL = frozenset("*?[")


def is_glob(token: str) -> bool:
    return any(c in _SPECIAL for c in token)


def _parse_class(pattern: str, i: int) -> tuple[int, bool, list[tuple[str, str]]] | None:
    """Parse `[...]` at pattern[i] == '['. Return (index after ']', negated, ranges)."""
    j = i + 1
    negated = False
    if j < len(pattern) and pattern[j] == "!":  # as fnmatch: `[^...]` is literal `^`
        negated = True
        j += 1
    ranges: list[tuple[str, str]] = []
    first = True
    while j < len(pattern):
        c = pattern[j]
        if c == "]" and not first:
            return j + 1, negated, ranges
        first = False
        if j + 2 < len(pattern) and pattern[j + 1] == "-" and pattern[j + 2] != "]":
            ranges.append((c, pattern[j + 2]))
            j += 3
        else:
            ranges.append((c, c))
            j += 1
    return None  # no closing bracket: '[' is literal


def match(pattern: str, text: str) -> bool:
    """True if `text` matches the glob `pattern` entirely (case-sensitive)."""
    p = t = 0
    star_p = star_t = -1
    np, nt = len(pattern), len(text)
    while t < nt:
        if p < np:
            c = pattern[p]
            if c == "*":
                star_p, star_t = p, t
                p += 1
                continue
            if c == "?":
                p += 1
                t += 1
                continue
            if c == "[":
                parsed = _parse_class(pattern, p)
                if parsed is not None:
                    end, negated, ranges = parsed
                    ch = text[t]
                    hit = any(lo <= ch <= hi for lo, hi in ranges)
                    if hit != negated:
                        p, t = end, t + 1
                        continue
                elif text[t] == "[":
                    p += 1
                    t += 1
                    continue
            elif c == text[t]:
                p += 1
                t += 1
                continue
        if star_p >= 0:  # backtrack: let the last `*` swallow one more character
            star_t += 1
            p, t = star_p + 1, star_t
            continue
        return False
    while p < np and pattern[p] == "*":
        p += 1
    return p == np
