"""`env -S STRING`: the words GNU env makes of its string (coreutils manual, "env
invocation", -S/--split-string syntax; tests/test_shell_envsplit.py compares with the real
/usr/bin/env on generated strings).

- blanks (space, tab, newline, CR, FF, VT) separate words outside quotes; so does `\\_`;
- single quotes keep everything literal except `\\\\` and `\\'`;
- double quotes allow the escapes below; `\\_` is a space there; `\\c` is an error there;
- escapes: `\\f \\n \\r \\t \\v \\# \\$ \\\\ \\" \\'`; `\\c` ends the string (outside quotes);
  any other backslash sequence is an error (env runs nothing);
- `#` at the start of a word starts a comment to the end of the string;
- `${NAME}` is replaced by the variable's value (env's own environment); `$` otherwise is an
  error.

`split` returns the words, or None when env would fail (nothing runs, but guard does not
pretend to know) or the string expands a variable (its value is known only at run time).
"""

from __future__ import annotations

_BLANKS = " \t\n\r\f\v"
_ESCAPES = {
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "#": "#",
    "$": "$",
    "\\": "\\",
    '"': '"',
    "'": "'",
}


class _Unknown(Exception):
    """env fails on the string, or the words depend on its environment."""


class _Splitter:
    __slots__ = ("cur", "have", "i", "out", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.out: list[str] = []
        self.cur: list[str] = []
        self.have = False  # a word has started (possibly empty: `''`)

    def end_word(self) -> None:
        if self.have:
            self.out.append("".join(self.cur))
        self.cur, self.have = [], False

    def add(self, s: str) -> None:
        self.cur.append(s)
        self.have = True

    def run(self) -> list[str]:
        text, n = self.text, len(self.text)
        while self.i < n:
            c = text[self.i]
            if c in _BLANKS:
                self.end_word()
                self.i += 1
            elif c == "'":
                self.single()
            elif c == '"':
                self.double()
            elif c == "#" and not self.have:
                break  # a comment
            elif c == "$":
                raise _Unknown
            elif c == "\\":
                if self.escape(quoted=False):
                    break  # \c
            else:
                self.add(c)
                self.i += 1
        self.end_word()
        return self.out

    def single(self) -> None:
        text, n = self.text, len(self.text)
        self.have = True
        i = self.i + 1
        while i < n and text[i] != "'":
            if text[i] == "\\" and i + 1 < n and text[i + 1] in "\\'":
                i += 1
            self.cur.append(text[i])
            i += 1
        if i >= n:
            raise _Unknown  # unterminated
        self.i = i + 1

    def double(self) -> None:
        text, n = self.text, len(self.text)
        self.have = True
        self.i += 1
        while self.i < n and text[self.i] != '"':
            c = text[self.i]
            if c == "$":
                raise _Unknown
            if c == "\\":
                self.escape(quoted=True)
            else:
                self.cur.append(c)
                self.i += 1
        if self.i >= n:
            raise _Unknown  # unterminated
        self.i += 1

    def escape(self, quoted: bool) -> bool:
        """The backslash sequence at self.i; True when it ends the string (`\\c`)."""
        text = self.text
        if self.i + 1 >= len(text):
            raise _Unknown  # a backslash at the end
        e = text[self.i + 1]
        self.i += 2
        if e == "_":
            if quoted:
                self.add(" ")
            else:
                self.end_word()
        elif e == "c" and not quoted:
            return True
        elif e in _ESCAPES:
            self.add(_ESCAPES[e])
        else:
            raise _Unknown  # invalid sequence (and \c inside double quotes)
        return False


def split(text: str) -> list[str] | None:
    """The words of an `env -S` string; None if env fails on it or it expands a variable."""
    try:
        return _Splitter(text).run()
    except _Unknown:
        return None
