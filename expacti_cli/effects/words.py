"""Reading the source text of a run-time word: the variables it expands, and which of them
it prints (effects/resolve.py)."""

from __future__ import annotations


def has_glob(word: str) -> bool:
    return any(c in word for c in "*?[")


def variables(word: str) -> list[str]:
    """The names of `$NAME` / `${NAME}` expansions in a word's source text."""
    names: list[str] = []
    i = word.find("$")
    while i >= 0:
        j = i + 1
        if word[j : j + 1] == "{":
            j += 1
        k = j
        while k < len(word) and (word[k].isalnum() or word[k] == "_"):
            k += 1
        if k > j:
            names.append(word[j:k])
        i = word.find("$", k)
    return names


def printed_variables(word: str) -> list[str]:
    """The variables whose values a printed word shows: not those only tested or measured
    inside it (`${#X}`, `${X:+set}`), nor those of a command substitution (`$(…)`, `…`), whose
    commands are parts of the line of their own. An unbalanced substitution hides nothing."""
    out: list[str] = []
    text, i = word, 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith("$((", i):
            i += 3
            continue
        end = substitution_end(text, i)
        if end > i:
            i = end
            continue
        if text.startswith("${#", i):
            i += 3
            continue
        if text[i] != "$":
            i += 1
            continue
        j = i + 1 + (text[i + 1 : i + 2] == "{")
        k = j
        while k < len(text) and (text[k].isalnum() or text[k] == "_"):
            k += 1
        braced = j > i + 1
        if k > j and not (braced and text.startswith((":+", "+"), k)):
            out.append(text[j:k])
        i = max(k, i + 1)
    return out


def substitution_end(text: str, i: int) -> int:
    """Where a command substitution starting at text[i] ends, or i if none (or unbalanced)."""
    if text.startswith("$(", i):
        depth, k = 0, i + 1
        while k < len(text):
            ch = text[k]
            if ch == "\\":
                k += 2
                continue
            depth += (ch == "(") - (ch == ")")
            k += 1
            if depth == 0:
                return k
        return i
    if text[i] == "`":
        k = text.find("`", i + 1)
        while k > 0 and text[k - 1] == "\\":
            k = text.find("`", k + 1)
        return k + 1 if k > 0 else i
    return i


def unquote(word: str) -> str:
    """A run-time word's source text without the double quotes around its parts."""
    return word.replace('"', "") if word[:1] == '"' else word
