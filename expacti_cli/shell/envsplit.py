"""`env -S STRING`: the words env makes of its string."""

from __future__ import annotations


def split(text: str) -> list[str] | None:
    """Split an `env -S` string: whitespace, quotes and backslashes; None if it expands."""
    out: list[str] = []
    cur: list[str] = []
    have = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in " \t\n":
            if have:
                out.append("".join(cur))
                cur, have = [], False
            i += 1
        elif c == "'":
            j = text.find("'", i + 1)
            if j < 0:
                return None
            cur.append(text[i + 1 : j])
            have = True
            i = j + 1
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                if text[j] == "\\" and j + 1 < n:
                    j += 1
                elif text[j] == "$":
                    return None
                cur.append(text[j])
                j += 1
            if j >= n:
                return None
            have = True
            i = j + 1
        elif c == "\\" and i + 1 < n:
            cur.append(text[i + 1])
            have = True
            i += 2
        elif c in "$`":
            return None
        elif c == "#" and not have:
            break
        else:
            cur.append(c)
            have = True
            i += 1
    if have:
        out.append("".join(cur))
    return out
