"""Bash's reading of one word: quoting, ANSI-C `$'...'` strings, brace expansion.

tree-sitter gives only the structure; `Lexer` re-reads every word the way bash does and checks
that each `$...`, backtick and process substitution it meets is one tree-sitter analysed (their
byte ranges). It works on the word's UTF-8 bytes decoded as latin-1, so character offsets are
tree-sitter byte offsets.
"""

from __future__ import annotations

from .model import TooComplex, Unanalysable
from .syntax import METACHARS, NAME_START, SPECIAL_PARAMS, decode


class Word:
    """One word after expansion: `value` is the text bash passes, or for a dynamic word the
    source text as placeholder. `split`: a dynamic word that may become several words."""

    __slots__ = ("end", "glob", "split", "start", "static", "value")

    def __init__(
        self, value: str, static: bool, start: int = -1, end: int = -1, split: bool = False
    ) -> None:
        self.value = value
        self.static = static
        self.start = start
        self.end = end
        self.split = split
        self.glob = False


def quote(word: str) -> str:
    if word and all(c.isalnum() or c in "@%+=:,./-_" for c in word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def is_assignment(word: str) -> bool:
    name, eq, _ = word.partition("=")
    if not eq or not name:
        return False
    name = name.removesuffix("+")
    return (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name)


_ANSI_SIMPLE = {
    "a": "\a",
    "b": "\b",
    "e": "\x1b",
    "E": "\x1b",
    "f": "\f",
    "n": "\n",
    "r": "\r",
    "t": "\t",
    "v": "\v",
    "\\": "\\",
    "'": "'",
    '"': '"',
    "?": "?",
}
_HEX = "0123456789abcdefABCDEF"


def _utf8_latin1(cp: int) -> str:
    try:
        return chr(cp).encode("utf-8", "surrogatepass").decode("latin-1")
    except (ValueError, OverflowError):
        return ""


def ansi_c(s: str, i: int) -> tuple[str, int]:
    """Decode a $'...' body starting at s[i]; return (latin-1 text, index after the quote)."""
    out: list[str] = []
    n = len(s)
    while i < n:
        c = s[i]
        if c == "'":
            text = "".join(out)
            nul = text.find("\0")  # bash strings end at NUL
            return (text if nul < 0 else text[:nul]), i + 1
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        e = s[i + 1]
        i += 2
        if e in _ANSI_SIMPLE:
            out.append(_ANSI_SIMPLE[e])
        elif e in "01234567":
            j = i - 1
            while j < n and j < i + 2 and s[j] in "01234567":
                j += 1
            out.append(chr(int(s[i - 1 : j], 8) & 0xFF))
            i = j
        elif e in "xuU":
            limit = {"x": 2, "u": 4, "U": 8}[e]
            j = i
            while j < n and j < i + limit and s[j] in _HEX:
                j += 1
            if j == i:
                out.append("\\" + e)
            elif e == "x":
                out.append(chr(int(s[i:j], 16)))
            else:
                out.append(_utf8_latin1(int(s[i:j], 16)))
            i = j
        elif e == "c" and i < n:
            ch = s[i]
            out.append("\x7f" if ch == "?" else chr(ord(ch.upper()) & 0x1F))
            i += 1
        else:
            out.append("\\" + e)
    raise Unanalysable("unterminated $'...' string")


# Tokens: (0, ch) unquoted literal char, (1, text) quoted literal, (2, src) unquoted expansion,
# (3, src) quoted expansion.
Tok = tuple[int, str]


class Lexer:
    """Tokens of one word. `known`: variables whose value is statically known (latin-1 text,
    see `to_latin1`), substituted for `$NAME` / `${NAME}`; unquoted only when `splits` is
    False or the value has no blank or glob character (bash would split or glob it).
    `renames`: expansions that stand for another variable (`$r` of a name reference
    `declare -n r=NAME`, `${!v}` where v holds NAME): read as `${NAME}`. `renamed`: the
    spans of expansions read as another variable or as a known plain value, and their
    replacement, so that a run-time word's source text says what is known of it
    (`"$HOME/$1"` with $1 bound to `.pgpass` reads `"$HOME/.pgpass"`)."""

    __slots__ = ("known", "n", "ranges", "renamed", "renames", "s", "splits", "toks")

    def __init__(
        self,
        s: str,
        ranges: list[tuple[int, int]],
        known: dict[str, str] | None = None,
        splits: bool = True,
        renames: dict[str, str] | None = None,
    ) -> None:
        self.s = s
        self.n = len(s)
        self.ranges = ranges
        self.known = known or {}
        self.splits = splits
        self.renames = renames or {}
        self.renamed: list[tuple[int, int, str]] = []
        self.toks: list[Tok] = []

    def _range_end(self, i: int, what: str) -> int:
        for start, end in self.ranges:
            if start <= i < end:
                return end
        raise Unanalysable(f"{what} that the parser did not see")

    def _dollar(self, i: int, quoted: bool) -> int | None:
        """At s[i] == '$': append an expansion token and return the index after it, or None
        when this `$` is literal."""
        s = self.s
        nxt = s[i + 1] if i + 1 < self.n else ""
        if nxt == "\\" and s.startswith("\n", i + 2):
            # bash joins `$\<newline>(cmd)` into `$(cmd)` before reading it
            raise Unanalysable("a line continuation inside an expansion")
        if not nxt or not (nxt in "({[" or NAME_START(nxt) or nxt in SPECIAL_PARAMS):
            return None
        if nxt == "(" and s.startswith("$((", i):
            what = "an arithmetic expansion"
        elif nxt == "(":
            what = "a command substitution"
        else:
            what = "an expansion"
        end = self._range_end(i, what)
        src = s[i:end].lstrip()
        if self.renames:
            renamed = self._renamed(src)
            if renamed != src:
                self.renamed.append((i, end, renamed))
                src = renamed
        value = self._known(src, quoted)
        if value is not None:
            self.toks.append((1, value))
            if not any(c in value for c in "$`\"\\'"):
                self.renamed.append((i, end, value))
        else:
            self.toks.append((3 if quoted else 2, src))
        return end

    def _renamed(self, src: str) -> str:
        name = src[2:-1] if src.startswith("${") and src.endswith("}") else src[1:]
        target = self.renames.get(name)
        if target is None:
            return src
        return "${" + target + "}"

    def _known(self, src: str, quoted: bool) -> str | None:
        """The static text of the expansion `src` when it names a known variable."""
        if not self.known:
            return None
        name = src[2:-1] if src.startswith("${") and src.endswith("}") else src[1:]
        value = self.known.get(name)
        if value is None or quoted:
            return value
        if not value or (self.splits and any(c in value for c in " \t\n*?[")):
            return None  # bash would remove, split or glob it
        return value

    def _double(self, i: int) -> int:
        s, n = self.s, self.n
        buf: list[str] = []
        start = len(self.toks)
        while i < n:
            c = s[i]
            if c == '"':
                if buf or len(self.toks) == start:
                    self.toks.append((1, "".join(buf)))
                return i + 1
            if c == "\\" and i + 1 < n and s[i + 1] in '$`"\\\n':
                if s[i + 1] != "\n":
                    buf.append(s[i + 1])
                i += 2
                continue
            if c in "$`":
                if buf:
                    self.toks.append((1, "".join(buf)))
                    buf = []
                if c == "$":
                    end = self._dollar(i, True)
                    if end is None:
                        buf.append("$")
                        i += 1
                        continue
                    i = end
                else:
                    end = self._range_end(i, "a backtick substitution")
                    self.toks.append((3, s[i:end]))
                    i = end
                continue
            buf.append(c)
            i += 1
        raise Unanalysable("unterminated double quote")

    def run(self) -> list[Tok]:
        s, n, toks = self.s, self.n, self.toks
        i = 0
        while i < n:
            c = s[i]
            if c == "\\":
                if i + 1 >= n:
                    toks.append((0, "\\"))
                    i += 1
                elif s[i + 1] == "\n":
                    i += 2
                else:
                    toks.append((1, s[i + 1]))
                    i += 2
            elif c == "'":
                j = s.find("'", i + 1)
                if j < 0:
                    raise Unanalysable("unterminated single quote")
                toks.append((1, s[i + 1 : j]))
                i = j + 1
            elif c == '"':
                i = self._double(i + 1)
            elif c == "$" and s.startswith("$'", i):
                text, i = ansi_c(s, i + 2)
                toks.append((1, text))
            elif c == "$" and s.startswith('$"', i):
                i = self._double(i + 2)
            elif c == "$":
                end = self._dollar(i, False)
                if end is None:
                    toks.append((0, "$"))
                    i += 1
                else:
                    i = end
            elif c == "`":
                end = self._range_end(i, "a backtick substitution")
                toks.append((2, s[i:end]))
                i = end
            elif c in "<>" and s.startswith("(", i + 1):
                end = self._range_end(i, "a process substitution")
                toks.append((2, s[i:end]))
                i = end
            elif c in METACHARS:
                raise Unanalysable(f"unquoted {c!r} inside a word")
            else:
                toks.append((0, c))
                i += 1
        return toks


def sequence(toks: list[Tok], limit: int) -> list[str] | None:
    """The words of a brace sequence body like `1..5`, `a..e`, `01..10..2`; None if not one."""
    if any(k != 0 for k, _ in toks):
        return None
    parts = "".join(t for _, t in toks).split("..")
    if len(parts) not in (2, 3):
        return None

    def integer(x: str) -> int | None:
        body = x[1:] if x[:1] in "+-" else x
        return int(x) if body.isdigit() else None

    step = 1
    if len(parts) == 3:
        st = integer(parts[2])
        if st is None:
            return None
        step = abs(st) or 1
    a, b = parts[0], parts[1]
    ia, ib = integer(a), integer(b)
    if ia is not None and ib is not None:
        count = abs(ib - ia) // step + 1
        if count > limit:
            raise TooComplex("brace expansion makes too many words")
        width = 0
        for x in (a, b):
            body = x.lstrip("+-")
            if len(body) > 1 and body[0] == "0":
                width = max(len(a), len(b))
        direction = 1 if ib >= ia else -1
        out = []
        for k in range(count):
            v = ia + direction * k * step
            text = str(abs(v)).zfill(width - (1 if v < 0 else 0)) if width else str(abs(v))
            out.append(("-" if v < 0 else "") + text)
        return out
    if len(a) == 1 and len(b) == 1 and a.isascii() and b.isascii() and a.isalpha() and b.isalpha():
        oa, ob = ord(a), ord(b)
        direction = 1 if ob >= oa else -1
        return [chr(oa + direction * k) for k in range(0, abs(ob - oa) + 1, step)]
    return None


def braces(toks: list[Tok], limit: int) -> list[list[Tok]]:
    """Bash brace expansion over a token list (quoted tokens never take part)."""
    n = len(toks)
    for i in range(n):
        if toks[i] != (0, "{"):
            continue
        depth = 0
        commas: list[int] = []
        j = i
        while j < n:
            kind, ch = toks[j]
            if kind == 0:
                if ch == "{":
                    depth += 1
                elif ch == "}":
                    depth -= 1
                    if depth == 0:
                        break
                elif ch == "," and depth == 1:
                    commas.append(j)
            j += 1
        if j >= n:
            continue
        if commas:
            bounds = [i, *commas, j]
            alts = [toks[bounds[k] + 1 : bounds[k + 1]] for k in range(len(bounds) - 1)]
        else:
            seq = sequence(toks[i + 1 : j], limit)
            if seq is None:
                continue
            alts = [[(0, ch) for ch in word] for word in seq]
        pre = toks[:i]
        post = braces(toks[j + 1 :], limit)
        out: list[list[Tok]] = []
        for alt in alts:
            for expanded in braces(alt, limit):
                for tail in post:
                    out.append(pre + expanded + tail)
                    if len(out) > limit:
                        raise TooComplex("brace expansion makes too many words")
        return out
    return [toks]


def has_glob(toks: list[Tok]) -> bool:
    seen_bracket = False
    for kind, ch in toks:
        if kind != 0:
            continue
        if ch in "*?":
            return True
        if ch == "[":
            seen_bracket = True
        elif ch == "]" and seen_bracket:
            return True
    return False


def to_latin1(s: str) -> str:
    """The lexer's view of a str: its UTF-8 bytes as latin-1 characters."""
    return s.encode("utf-8", "surrogateescape").decode("latin-1")


def expand_tilde(toks: list[Tok], home: str) -> list[Tok] | None:
    """Tilde expansion of an assignment value: `~` or `~/...` at its start is home; any other
    unquoted `~` (`~user`, after `:`) is not statically known (None)."""
    if toks[:1] == [(0, "~")] and (len(toks) == 1 or toks[1] == (0, "/")):
        toks = [(1, to_latin1(home)), *toks[1:]]
    if any(t == (0, "~") for t in toks):
        return None
    return toks


def latin1_to_str(s: str) -> str:
    return decode(s.encode("latin-1"))
