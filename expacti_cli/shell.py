"""Shell line -> the simple commands bash would run, with what makes them unsafe to auto-allow.

`analyse(line, spec)` parses the line with tree-sitter-bash and walks the tree. Conservative by
construction:
- every node kind is handled explicitly; an unknown kind, an ERROR or MISSING node, or a word
  where tree-sitter and bash would split or expand differently is a concern, never an allow;
- tree-sitter only gives the structure; every word is re-read by `_lex`, which applies bash's
  quoting, ANSI-C and brace-expansion rules itself and checks that each `$...`, backtick and
  process substitution it meets is one tree-sitter analysed;
- knowledge about programs (wrappers, interpreters, clients, writers, sensitive paths) is data
  from the compiled catalogue (`shellspec.compile`), not code.

`analyse` never raises for bad input: budget overruns, recursion and unexpected exceptions come
back as line-level concerns (`too-complex`, `internal-error`), so the caller fails closed.
"""

from __future__ import annotations

import os
import time

from .wildcard import match as wildcard_match

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class Concern:
    """Why a part (or the whole line) must not be auto-allowed.

    `overridable`: an allow rule naming that exact command may lift it (opaque code a human
    already approved); otherwise it always goes to a human.
    """

    __slots__ = ("id", "overridable", "reason")

    def __init__(self, id: str, reason: str, overridable: bool) -> None:
        self.id = id
        self.reason = reason
        self.overridable = overridable

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Concern) and (self.id, self.reason, self.overridable) == (
            other.id,
            other.reason,
            other.overridable,
        )

    def __hash__(self) -> int:
        return hash((self.id, self.reason, self.overridable))

    def __repr__(self) -> str:
        return f"Concern({self.id!r}, {self.reason!r}, overridable={self.overridable})"


class Part:
    """One simple command. `dynamic` lists the indexes of argv words that are placeholders
    (source text of an expansion bash resolves only at run time)."""

    __slots__ = ("argv", "assignments", "concerns", "dynamic", "text", "via")

    def __init__(
        self,
        argv: list[str],
        text: str,
        assignments: list[str],
        via: list[str],
        dynamic: tuple[int, ...] = (),
    ) -> None:
        self.argv = argv
        self.text = text
        self.assignments = assignments
        self.concerns: list[Concern] = []
        self.via = via
        self.dynamic = dynamic

    def __repr__(self) -> str:
        return f"Part({self.argv!r}, via={self.via!r}, concerns={self.concerns!r})"


class Analysis:
    __slots__ = ("concerns", "parts")

    def __init__(self) -> None:
        self.parts: list[Part] = []
        self.concerns: list[Concern] = []

    def __repr__(self) -> str:
        return f"Analysis(parts={self.parts!r}, concerns={self.concerns!r})"


# ---------------------------------------------------------------------------------------------
# Parser: created once per process. The two extension modules are loaded directly because the
# packages' __init__ pull in `typing` and `importlib.resources` (~15 ms) for nothing we use.

_PARSER: Any = None


def _load_binding(package: str) -> Any:
    import sys

    name = package + "._binding"
    if name in sys.modules:
        return sys.modules[name]
    try:
        from importlib.machinery import (
            EXTENSION_SUFFIXES,
            ExtensionFileLoader,
            ModuleSpec,
            PathFinder,
        )

        found = PathFinder.find_spec(package)
        if found is None or not found.submodule_search_locations:
            raise ImportError(package)
        for base in found.submodule_search_locations:
            for suffix in EXTENSION_SUFFIXES:
                path = os.path.join(base, "_binding" + suffix)
                if os.path.exists(path):
                    loader = ExtensionFileLoader(name, path)
                    module = loader.create_module(ModuleSpec(name, loader, origin=path))
                    loader.exec_module(module)
                    return module
        raise ImportError(name)
    except ImportError:
        import importlib

        return importlib.import_module(name)


def _parser() -> Any:
    global _PARSER  # noqa: PLW0603 - one parser per process, built on first use
    if _PARSER is None:
        ts = _load_binding("tree_sitter")
        bash = _load_binding("tree_sitter_bash")
        _PARSER = ts.Parser(ts.Language(bash.language()))
    return _PARSER


# ---------------------------------------------------------------------------------------------
# Node kinds

_STATEMENTS = frozenset(
    {
        "command",
        "redirected_statement",
        "pipeline",
        "list",
        "subshell",
        "compound_statement",
        "negated_command",
        "if_statement",
        "while_statement",
        "for_statement",
        "c_style_for_statement",
        "case_statement",
        "function_definition",
        "declaration_command",
        "unset_command",
        "variable_assignment",
        "variable_assignments",
        "test_command",
    }
)
# Nodes whose named children are statements (or words / expressions, dispatched by kind).
_CONTAINERS = frozenset(
    {
        "program",
        "list",
        "subshell",
        "compound_statement",
        "negated_command",
        "if_statement",
        "elif_clause",
        "else_clause",
        "while_statement",
        "do_group",
        "for_statement",
        "c_style_for_statement",
        "case_statement",
        "case_item",
    }
)
_WORDS = frozenset(
    {
        "word",
        "string",
        "raw_string",
        "ansi_c_string",
        "translated_string",
        "concatenation",
        "simple_expansion",
        "expansion",
        "command_substitution",
        "process_substitution",
        "arithmetic_expansion",
        "number",
        "brace_expression",
    }
)
# Inside [[ ]], (( )), for ((;;)), case patterns: only substitutions run.
_EXPRESSIONS = frozenset(
    {
        "binary_expression",
        "unary_expression",
        "ternary_expression",
        "parenthesized_expression",
        "postfix_expression",
        "test_operator",
        "regex",
        "extglob_pattern",
        "variable_name",
        "special_variable_name",
        "subscript",
        "string_content",
        "variable_assignment",
        "array",
        "file_descriptor",
        "heredoc_content",
        *_WORDS,
    }
)
_SKIP = frozenset({"comment", "variable_name", "heredoc_start", "heredoc_end"})
_TOKENS = frozenset(
    {
        ";",
        ";;",
        ";&",
        ";;&",
        "&",
        "&&",
        "||",
        "|",
        "|&",
        "\n",
        "(",
        ")",
        "{",
        "}",
        "((",
        "))",
        "do",
        "done",
        "if",
        "then",
        "elif",
        "else",
        "fi",
        "for",
        "in",
        "while",
        "until",
        "case",
        "esac",
        "select",
        "function",
        "!",
        "[",
        "]",
        "[[",
        "]]",
        "=",
        "export",
        "declare",
        "typeset",
        "local",
        "readonly",
        "unset",
        "unsetenv",
    }
)
_SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})
_EXPANSIONS = frozenset({"simple_expansion", "expansion", "arithmetic_expansion"})
_OUTPUT_OPS = frozenset({">", ">>", ">|", "&>", "&>>", ">&", "&>|"})
_INPUT_OPS = frozenset({"<", "<&", "<&-", ">&-"})
_SPECIAL_PARAMS = "@*#?-$!0123456789_"
_NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_").__contains__
_METACHARS = " \t\n;&|()<>"

# overridable: an allow rule naming the exact command may lift the concern
_OVERRIDABLE = {
    "opaque-code": True,
    "hidden-input": True,
    "wrapper-option": True,
    "code-variable": True,
    "substituted-code": True,
}


class _TooComplex(Exception):
    pass


class _Unanalysable(Exception):
    pass


class _Word:
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


class _Ctx:
    """One parsed source (the line, or a nested shell string): a shell process's view."""

    __slots__ = ("called", "calling", "depth", "functions", "src", "subst")

    def __init__(self, src: bytes, depth: int, functions: dict[str, Any] | None = None) -> None:
        self.src = src
        self.depth = depth
        self.functions: dict[str, tuple[Any, bool]] = {} if functions is None else functions
        self.calling: set[str] = set()
        self.called: set[str] = set()
        self.subst: str | None = None


def _decode(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def _encode(s: str) -> bytes:
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogatepass")


def _quote(word: str) -> str:
    if word and all(c.isalnum() or c in "@%+=:,./-_" for c in word):
        return word
    return "'" + word.replace("'", "'\\''") + "'"


def _is_assignment(word: str) -> bool:
    name, eq, _ = word.partition("=")
    if not eq or not name:
        return False
    name = name.removesuffix("+")
    return (name[0].isalpha() or name[0] == "_") and all(c.isalnum() or c == "_" for c in name)


# ---------------------------------------------------------------------------------------------
# Globs (no `re`: see ARCHITECTURE.md, Speed)


def _path_match(pat: list[str], segs: list[str]) -> bool:
    """Match path segments; a `**` segment matches any number (zero included) of segments."""
    if not pat:
        return not segs
    if pat[0] == "**":
        return any(_path_match(pat[1:], segs[k:]) for k in range(len(segs) + 1))
    return bool(segs) and wildcard_match(pat[0], segs[0]) and _path_match(pat[1:], segs[1:])


def _name_lookup(spec: dict[str, Any], kind: str, prog: str) -> dict[str, Any] | None:
    entries = spec.get(kind + "s")
    if not entries:
        return None
    name = spec[kind + "_names"].get(prog)
    if name is None:
        for pattern, entry_name in spec[kind + "_globs"]:
            if wildcard_match(pattern, prog):
                name = entry_name
                break
        else:
            return None
    return entries[name]  # type: ignore[no-any-return]


# ---------------------------------------------------------------------------------------------
# Word lexing: bash quoting, ANSI-C strings, brace expansion. Works on the word's UTF-8 bytes
# decoded as latin-1, so character offsets are tree-sitter byte offsets.

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


def _ansi_c(s: str, i: int) -> tuple[str, int]:
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
    raise _Unanalysable("unterminated $'...' string")


# Tokens: (0, ch) unquoted literal char, (1, text) quoted literal, (2, src) unquoted expansion,
# (3, src) quoted expansion.
_Tok = tuple[int, str]


class _Lexer:
    __slots__ = ("home", "n", "ranges", "s", "toks")

    def __init__(self, s: str, ranges: list[tuple[int, int]], home: str | None) -> None:
        self.s = s
        self.n = len(s)
        self.ranges = ranges
        self.home = home
        self.toks: list[_Tok] = []

    def _range_end(self, i: int, what: str) -> int:
        for start, end in self.ranges:
            if start <= i < end:
                return end
        raise _Unanalysable(f"{what} that the parser did not see")

    def _dollar(self, i: int, quoted: bool) -> int | None:
        """At s[i] == '$': append an expansion token and return the index after it, or None
        when this `$` is literal."""
        s = self.s
        nxt = s[i + 1] if i + 1 < self.n else ""
        if not nxt or not (nxt in "({[" or _NAME_START(nxt) or nxt in _SPECIAL_PARAMS):
            return None
        if nxt == "(" and s.startswith("$((", i):
            what = "an arithmetic expansion"
        elif nxt == "(":
            what = "a command substitution"
        else:
            what = "an expansion"
        end = self._range_end(i, what)
        src = s[i:end].lstrip()
        if self.home is not None and src in ("$HOME", "${HOME}"):
            self.toks.append((1, self.home))
        else:
            self.toks.append((3 if quoted else 2, src))
        return end

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
        raise _Unanalysable("unterminated double quote")

    def run(self) -> list[_Tok]:
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
                    raise _Unanalysable("unterminated single quote")
                toks.append((1, s[i + 1 : j]))
                i = j + 1
            elif c == '"':
                i = self._double(i + 1)
            elif c == "$" and s.startswith("$'", i):
                text, i = _ansi_c(s, i + 2)
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
            elif c in _METACHARS:
                raise _Unanalysable(f"unquoted {c!r} inside a word")
            else:
                toks.append((0, c))
                i += 1
        return toks


def _sequence(toks: list[_Tok], limit: int) -> list[str] | None:
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
            raise _TooComplex("brace expansion makes too many words")
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


def _braces(toks: list[_Tok], limit: int) -> list[list[_Tok]]:
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
            seq = _sequence(toks[i + 1 : j], limit)
            if seq is None:
                continue
            alts = [[(0, ch) for ch in word] for word in seq]
        pre = toks[:i]
        post = _braces(toks[j + 1 :], limit)
        out: list[list[_Tok]] = []
        for alt in alts:
            for expanded in _braces(alt, limit):
                for tail in post:
                    out.append(pre + expanded + tail)
                    if len(out) > limit:
                        raise _TooComplex("brace expansion makes too many words")
        return out
    return [toks]


def _has_glob(toks: list[_Tok]) -> bool:
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


def _latin1_to_str(s: str) -> str:
    return _decode(s.encode("latin-1"))


# ---------------------------------------------------------------------------------------------


class _Analyser:
    def __init__(self, spec: dict[str, Any], analysis: Analysis) -> None:
        from expacti_cli.shellspec import DEFAULTS

        self.spec = spec
        self.sh: dict[str, Any] = {**DEFAULTS, **spec.get("shell", {})}
        self.analysis = analysis
        self.nodes = 0
        self.nesting = 0
        self.bytes = 0
        self.deadline = time.monotonic() + float(self.sh["max_seconds"])
        self.home = os.path.expanduser("~")
        self._patterns: tuple[list[list[str]], list[list[str]]] | None = None

    # -- bookkeeping ------------------------------------------------------------------------

    def concern(self, id: str, reason: str, part: Part | None = None) -> None:
        c = Concern(id, reason, _OVERRIDABLE.get(id, False))
        target = part.concerns if part is not None else self.analysis.concerns
        if c not in target:
            target.append(c)

    def tick(self) -> None:
        self.nodes += 1
        if self.nodes > self.sh["max_nodes"]:
            raise _TooComplex(f"more than {self.sh['max_nodes']} syntax nodes")
        if not self.nodes & 255 and time.monotonic() > self.deadline:
            raise _TooComplex(f"analysis took longer than {self.sh['max_seconds']} s")

    def enter(self) -> None:
        self.nesting += 1
        if self.nesting > self.sh["max_nesting"]:
            raise _TooComplex(f"nested deeper than {self.sh['max_nesting']} levels")

    def leave(self) -> None:
        self.nesting -= 1

    # -- lines -----------------------------------------------------------------------------

    def line(
        self,
        text: str,
        depth: int,
        via: list[str],
        stdin: str | None,
        *,
        owner: Part | None = None,
        functions: dict[str, Any] | None = None,
    ) -> None:
        """Parse and walk one shell line (the top line or a nested shell string)."""
        if depth > self.sh["max_depth"]:
            self.concern(
                "too-deep", f"shell strings nested deeper than {self.sh['max_depth']}", owner
            )
            return
        src = _encode(text)
        self.bytes += len(src)
        if self.bytes > self.sh["max_bytes"]:
            raise _TooComplex(f"line longer than {self.sh['max_bytes']} bytes")
        # tree-sitter parses a same-length view of `src` (offsets still index `src`, which the
        # lexer reads). Bytes >= 0x80 become "%": bash treats them as plain word characters
        # (never blanks, never part of a name), and tree-sitter-bash's scanner can crash on
        # some of them (`<>{` + U+E118C). Two spellings it misreads are masked when that makes
        # the parse clean: `\rm` at the start of a line after a command (taken for an argument
        # of that command) and `{rm,-rf,/}` starting a command (taken for a brace group).
        view = src if src.isascii() else src.translate(_HIGH_BYTES)
        root = _parser().parse(view).root_node
        if b"\n\\" in view:
            retry = _parser().parse(_mask(view, braces=False)).root_node
            if not retry.has_error:
                root = retry
        if root.has_error and b"{" in view:
            retry = _parser().parse(_mask(view, braces=True)).root_node
            if not retry.has_error:
                root = retry
        if self.nodes + root.descendant_count > self.sh["max_nodes"]:
            raise _TooComplex(f"more than {self.sh['max_nodes']} syntax nodes")
        if root.has_error:
            where = " in a nested shell string" if depth else ""
            self.concern("parse-error", f"the line does not parse{where}: {self._error_hint(root)}")
        ctx = _Ctx(src, depth, functions)
        self.enter()
        try:
            self.container(root, ctx, via, stdin)
            # Functions defined but never called are still analysed (conservative).
            for name, (body, _) in list(ctx.functions.items()):
                if name not in ctx.called:
                    ctx.called.add(name)
                    self.stmt(body, ctx, via, None)
        finally:
            self.leave()

    def _error_hint(self, root: Any) -> str:
        stack = [root]
        while stack:
            node = stack.pop()
            if node.type == "ERROR" or node.is_missing:
                row, col = node.start_point
                what = f"missing {node.type!r}" if node.is_missing else "syntax error"
                return f"{what} at line {row + 1}, column {col + 1}"
            if node.has_error:
                stack.extend(reversed(node.children))
        return "syntax error"

    def text(self, ctx: _Ctx, node: Any) -> str:
        return _decode(ctx.src[node.start_byte : node.end_byte])

    def words_text(self, ctx: _Ctx, words: list[_Word]) -> str:
        if words and all(w.start >= 0 for w in words):
            return _decode(ctx.src[words[0].start : words[-1].end])
        return " ".join(w.value if not w.static else _quote(w.value) for w in words)

    # -- statements ------------------------------------------------------------------------

    def bad(self, node: Any, ctx: _Ctx) -> None:
        if node.type == "ERROR" or node.is_missing:
            return  # reported once for the line as parse-error
        self.concern(
            "cannot-analyse",
            f"shell syntax guard does not analyse: {node.type} {self.text(ctx, node)[:60]!r}",
        )

    def container(self, node: Any, ctx: _Ctx, via: list[str], stdin: str | None) -> None:
        for child in node.children:
            self.tick()
            t = child.type
            if not child.is_named:
                if t not in _TOKENS:
                    self.bad(child, ctx)
                continue
            if t in _STATEMENTS:
                self.stmt(child, ctx, via, stdin)
            elif t in _CONTAINERS:
                self.enter()
                try:
                    self.container(child, ctx, via, stdin)
                finally:
                    self.leave()
            elif t in _WORDS:
                self.words(child, ctx, via, stdin)
            elif t in _EXPRESSIONS:
                self.expr(child, ctx, via, stdin)
            elif t in _SKIP:
                continue
            elif t == "heredoc_body":
                continue  # belongs to a heredoc_redirect tree-sitter misplaced: already an error
            else:
                self.bad(child, ctx)

    def stmt(self, node: Any, ctx: _Ctx, via: list[str], stdin: str | None) -> None:
        self.tick()
        self.enter()
        try:
            t = node.type
            if t == "command":
                self.command(node, ctx, via, stdin, extra=[], redirect_concerns=[])
            elif t == "redirected_statement":
                self.redirected(node, ctx, via, stdin)
            elif t == "pipeline":
                first = True
                for child in node.children:
                    if child.is_named:
                        self.stmt_or_container(child, ctx, via, stdin if first else "pipe")
                        first = False
                    elif child.type not in ("|", "|&"):
                        self.bad(child, ctx)
            elif t == "function_definition":
                self.function(node, ctx)
            elif t in ("declaration_command", "unset_command"):
                self.declaration(node, ctx, via, stdin)
            elif t == "variable_assignment":
                self.assignment(node, ctx, via, stdin, part=None, texts=None)
            elif t == "variable_assignments":
                for child in node.children:
                    if child.type == "variable_assignment":
                        self.assignment(child, ctx, via, stdin, part=None, texts=None)
                    else:
                        self.bad(child, ctx)
            elif t == "test_command":
                self.expr(node, ctx, via, stdin)
            elif t in _CONTAINERS:
                self.container(node, ctx, via, stdin)
            else:
                self.bad(node, ctx)
        finally:
            self.leave()

    def stmt_or_container(self, node: Any, ctx: _Ctx, via: list[str], stdin: str | None) -> None:
        if node.type in _STATEMENTS or node.type in _CONTAINERS:
            self.stmt(node, ctx, via, stdin)
        elif node.type != "comment":
            self.bad(node, ctx)

    def function(self, node: Any, ctx: _Ctx) -> None:
        name_node = node.child_by_field_name("name")
        body = node.child_by_field_name("body")
        if name_node is None or body is None:
            self.bad(node, ctx)
            return
        name = self.text(ctx, name_node)
        # Only a definition at the top of the line surely exists when a later call runs;
        # a call of a conditional definition may reach a program of that name instead.
        unconditional = node.parent is not None and node.parent.type == "program"
        ctx.functions[name] = (body, unconditional)
        ctx.called.discard(name)

    def declaration(self, node: Any, ctx: _Ctx, via: list[str], stdin: str | None) -> None:
        for child in node.children:
            t = child.type
            if not child.is_named:
                if t not in _TOKENS:
                    self.bad(child, ctx)
            elif t == "variable_assignment":
                self.assignment(child, ctx, via, stdin, part=None, texts=None)
            elif t in _WORDS:
                self.words(child, ctx, via, stdin)
            elif t not in ("variable_name", "comment"):
                self.bad(child, ctx)

    def assignment(
        self,
        node: Any,
        ctx: _Ctx,
        via: list[str],
        stdin: str | None,
        *,
        part: Part | None,
        texts: list[str] | None,
    ) -> tuple[str, str | None]:
        """Analyse NAME=value: substitutions in the value run; returns (name, static value)."""
        name_node = node.child_by_field_name("name")
        name = self.text(ctx, name_node) if name_node is not None else ""
        value: str | None = ""
        for child in node.children:
            if child == name_node or not child.is_named:
                continue
            if child.type in _WORDS:
                ws = self.words(child, ctx, via, stdin, braces=False)
                value = ws[0].value if len(ws) == 1 and ws[0].static else None
            elif child.type == "array":
                value = None
                for item in child.children:
                    if item.type in _WORDS:
                        self.words(item, ctx, via, stdin)
                    elif item.is_named and item.type != "comment":
                        self.bad(item, ctx)
            elif child.type == "subscript":
                value = None
                self.expr(child, ctx, via, stdin)
            else:
                self.bad(child, ctx)
        if texts is not None:
            texts.append(self.text(ctx, node))
        if part is None:
            self.code_variable(name, value, ctx, via=via, stdin=stdin, part=None, prog="export")
        return name, value

    def code_variable(
        self,
        name: str,
        value: str | None,
        ctx: _Ctx,
        *,
        via: list[str],
        stdin: str | None,
        part: Part | None,
        prog: str,
    ) -> None:
        if name in self.sh["code_variables"]:
            self.concern("code-variable", f"{name} holds a command line run by {prog}", part)
            if value is None:
                self.concern("dynamic-command", f"{name} is set to a dynamic command line", part)
            elif value:
                self.line(value, ctx.depth + 1, [*via, "$" + name], None, owner=part)
        elif name in self.sh["loader_variables"]:
            self.concern("code-variable", f"{name} makes {prog} load code from elsewhere", part)
        elif name in self.sh["shell_variables"] and part is None:
            # Set for one command only, these change nothing the line shows (the command's
            # words are expanded before the assignment); set in the shell, every later
            # expansion splits or resolves differently.
            self.concern("code-variable", f"{name} changes how the shell expands later words")

    # -- redirections ----------------------------------------------------------------------

    def redirected(self, node: Any, ctx: _Ctx, via: list[str], stdin: str | None) -> None:
        body = None
        redirects = []
        fields = [node.field_name_for_child(k) for k in range(node.child_count)]
        children = self.split_at_newline(node, node.children, ctx, via, stdin)
        for idx, child in enumerate(children):
            field = fields[idx]
            if field == "body":
                body = child
            elif child.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                redirects.append(child)
            elif (child.is_named and child.type != "comment") or (
                not child.is_named and child.type not in _TOKENS
            ):
                self.bad(child, ctx)
        info = _Redirects(stdin)
        for r in redirects:
            self.redirect(r, ctx, via, stdin, info)
        if body is not None and body.type == "command":
            self.command(
                body, ctx, via, info.stdin, extra=info.extra, redirect_concerns=info.concerns
            )
        else:
            if info.extra:
                self.concern("parse-error", "arguments after a redirection of a compound command")
            for c in info.concerns:
                self.concern(c[0], c[1])
            if body is not None:
                self.stmt_or_container(body, ctx, via, info.stdin)
        for follow, follow_stdin in info.follow:
            self.stmt_or_container(follow, ctx, via, follow_stdin)

    def redirect(
        self, node: Any, ctx: _Ctx, via: list[str], stdin: str | None, info: _Redirects
    ) -> None:
        self.tick()
        t = node.type
        if t == "herestring_redirect":
            for child in node.children:
                if child.type in _WORDS:
                    self.words(child, ctx, via, stdin)
                elif child.is_named:
                    self.bad(child, ctx)
            info.stdin = "a here-string"
            return
        if t == "heredoc_redirect":
            self.heredoc(node, ctx, via, stdin, info)
            return
        if t != "file_redirect":
            self.bad(node, ctx)
            return
        op = ""
        descriptor = None
        destinations = []
        for idx, child in enumerate(node.children):
            field = node.field_name_for_child(idx)
            if field == "descriptor":
                descriptor = self.text(ctx, child)
            elif field == "destination":
                destinations.append(child)
            elif not child.is_named:
                op = child.type
            elif child.type != "comment":
                self.bad(child, ctx)
        if not destinations:
            if op not in (">&-", "<&-"):  # closing a descriptor needs no target
                self.bad(node, ctx)
            return
        destinations = self.split_at_newline(node, destinations, ctx, via, stdin)
        target_node, extra = destinations[0], destinations[1:]
        info.extra.extend(extra)  # tree-sitter hangs later arguments on the redirection
        words = self.words(target_node, ctx, via, stdin, braces=True, home=True)
        target = words[0] if len(words) == 1 else None
        if op in ("<", "<&") and descriptor in (None, "0"):
            if target is not None and target.static and op == "<&" and target.value == "-":
                info.stdin = None
            elif target_node.type == "process_substitution":
                info.stdin = "a process substitution"
            else:
                info.stdin = "a file" if op == "<" else "another file descriptor"
            return
        if op not in _OUTPUT_OPS:
            return
        if (
            op in (">&", "<&")
            and target is not None
            and target.static
            and (target.value == "-" or target.value.isdigit())
        ):
            return  # duplicating or closing a descriptor
        if target_node.type == "process_substitution":
            return
        if target is None or not target.static:
            shown = self.text(ctx, target_node)
            info.concerns.append(("dynamic-redirect", f"writes to a dynamic path {shown}"))
            return
        matched = self.sensitive(target.value)
        if matched:
            info.concerns.append(
                ("sensitive-write", f"writes to {target.value} (sensitive path {matched})")
            )

    def heredoc(
        self, node: Any, ctx: _Ctx, via: list[str], stdin: str | None, info: _Redirects
    ) -> None:
        quoted = False
        for idx, child in enumerate(node.children):
            t = child.type
            field = node.field_name_for_child(idx)
            if t == "heredoc_start":
                quoted = any(c in self.text(ctx, child) for c in "'\"\\")
            elif t in ("file_redirect", "herestring_redirect"):
                self.redirect(child, ctx, via, stdin, info)
            elif field == "argument" or (t in _WORDS and field != "right"):
                info.extra.append(child)
            elif t == "heredoc_body":
                if not quoted:
                    self.heredoc_body(child, ctx, via, stdin)
            elif t == "pipeline":
                # `cat <<EOF | next`: tree-sitter puts the rest of the pipeline in here.
                for sub in child.children:
                    if sub.is_named:
                        info.follow.append((sub, "pipe"))
                    elif sub.type not in ("|", "|&"):
                        self.bad(sub, ctx)
            elif field == "right":
                info.follow.append((child, stdin))
            elif t in ("heredoc_end", "<<", "<<-", "&&", "||", ";", "&", "comment"):
                continue
            else:
                self.bad(child, ctx)
        info.stdin = "a heredoc"

    def heredoc_body(self, node: Any, ctx: _Ctx, via: list[str], stdin: str | None) -> None:
        """An unquoted heredoc body expands like a double-quoted string: analyse the
        substitutions tree-sitter found, and backticks (which it leaves as text) ourselves."""
        body = bytearray(ctx.src[node.start_byte : node.end_byte])
        for child in node.children:
            t = child.type
            if t in _SUBSTITUTIONS or t in _EXPANSIONS:
                self.words(child, ctx, via, stdin)
                a, b = child.start_byte - node.start_byte, child.end_byte - node.start_byte
                body[a:b] = b" " * (b - a)
            elif t != "heredoc_content":
                self.bad(child, ctx)
        s = body.decode("latin-1")
        i, n = 0, len(s)
        while i < n:
            c = s[i]
            if c == "\\":
                i += 2
                continue
            if c == "$" and s.startswith("$(", i):
                self.concern("cannot-analyse", "a command substitution in a heredoc")
            elif c == "`":
                j = i + 1
                inner: list[str] = []
                while j < n and s[j] != "`":
                    if s[j] == "\\" and j + 1 < n and s[j + 1] in "`$\\":
                        inner.append(s[j + 1])
                        j += 2
                        continue
                    inner.append(s[j])
                    j += 1
                if j >= n:
                    self.concern("parse-error", "unterminated backtick in a heredoc")
                    return
                code = _latin1_to_str("".join(inner))
                self.line(code, ctx.depth + 1, via, stdin, functions=ctx.functions)
                i = j
            i += 1

    # -- expressions and words ---------------------------------------------------------------

    def expr(self, node: Any, ctx: _Ctx, via: list[str], stdin: str | None) -> None:
        """[[ ]], (( )), case patterns: run only the substitutions inside."""
        self.enter()
        try:
            for child in node.children:
                self.tick()
                t = child.type
                if t in _SUBSTITUTIONS:
                    self.substitution(child, ctx, via, stdin)
                elif not child.is_named:
                    if t == "ERROR":
                        continue
                elif t in _EXPRESSIONS or t == "test_command":
                    if child.child_count:
                        self.expr(child, ctx, via, stdin)
                    elif t != "raw_string":
                        text = self.text(ctx, child)
                        if "`" in text or "$(" in text:
                            self.concern("cannot-analyse", f"a substitution in {text[:60]!r}")
                else:
                    self.bad(child, ctx)
        finally:
            self.leave()

    def substitution(self, node: Any, ctx: _Ctx, via: list[str], stdin: str | None) -> None:
        """$(...), `...`, <(...), >(...): their commands run in this shell."""
        inner_stdin = (
            "pipe" if node.type == "process_substitution" and node.text[:1] == b">" else stdin
        )
        self.enter()
        try:
            for child in node.children:
                self.tick()
                if child.is_named:
                    self.stmt_or_container(child, ctx, via, inner_stdin)
                elif child.type not in _TOKENS and child.type not in ("$(", "`", "<(", ">("):
                    self.bad(child, ctx)
        finally:
            self.leave()

    def words(
        self,
        node: Any,
        ctx: _Ctx,
        via: list[str],
        stdin: str | None,
        *,
        braces: bool = True,
        home: bool = False,
    ) -> list[_Word]:
        """Resolve one word node to the words bash makes of it, running its substitutions."""
        self.enter()
        try:
            ranges: list[tuple[int, int]] = []
            base = node.start_byte
            stack = [node]
            while stack:
                cur = stack.pop()
                self.tick()
                t = cur.type
                if t in _SUBSTITUTIONS:
                    ranges.append((cur.start_byte - base, cur.end_byte - base))
                    self.substitution(cur, ctx, via, stdin)
                    continue
                if t in _EXPANSIONS:
                    ranges.append((cur.start_byte - base, cur.end_byte - base))
                    self.expansion_inside(cur, ctx, via, stdin)
                    continue
                if cur.is_named and t not in _WORDS and t != "string_content":
                    self.bad(cur, ctx)
                stack.extend(reversed(cur.children))
            ranges.sort()
            text = ctx.src[node.start_byte : node.end_byte].decode("latin-1")
            try:
                toks = _Lexer(text, ranges, self.home if home else None).run()
            except _Unanalysable as e:
                self.concern("cannot-analyse", f"{e}: {_latin1_to_str(text)[:60]!r}")
                return [_Word(_latin1_to_str(text), False, node.start_byte, node.end_byte, True)]
            dynamic = any(k >= 2 for k, _ in toks)
            if dynamic:
                split = any(k == 2 or (k == 3 and "@" in t) for k, t in toks)
                word = _Word(_latin1_to_str(text), False, node.start_byte, node.end_byte, split)
                return [word]
            expanded = _braces(toks, self.sh["max_words"]) if braces else [toks]
            out = []
            for toks_ in expanded:
                if not toks_:
                    continue  # an unquoted word that expanded to nothing is removed
                w = _Word(
                    _latin1_to_str("".join(t for _, t in toks_)),
                    True,
                    node.start_byte,
                    node.end_byte,
                )
                w.glob = _has_glob(toks_)
                out.append(w)
            return out
        finally:
            self.leave()

    def expansion_inside(self, node: Any, ctx: _Ctx, via: list[str], stdin: str | None) -> None:
        """${x:-$(cmd)}, $(( $(cmd) )): substitutions nested in an expansion run too."""
        limit = self.sh["max_nesting"] - self.nesting
        stack = [(c, 1) for c in node.children]
        while stack:
            cur, depth = stack.pop()
            self.tick()
            if depth > limit:
                raise _TooComplex(f"nested deeper than {self.sh['max_nesting']} levels")
            if cur.type in _SUBSTITUTIONS:
                self.substitution(cur, ctx, via, stdin)
            else:
                stack.extend((c, depth + 1) for c in cur.children)

    # -- simple commands ---------------------------------------------------------------------

    def command(
        self,
        node: Any,
        ctx: _Ctx,
        via: list[str],
        stdin: str | None,
        *,
        extra: list[Any],
        redirect_concerns: list[tuple[str, str]],
    ) -> None:
        info = _Redirects(stdin)
        assigns: list[Any] = []
        word_nodes: list[Any] = []
        children = self.split_at_newline(node, node.children, ctx, via, stdin)
        merged = -1
        for idx, child in enumerate(children):
            t = child.type
            field = node.field_name_for_child(idx)
            if idx == merged:
                continue
            if t == "$" and idx + 1 < len(children) and children[idx + 1].type in _WORDS:
                nxt = children[idx + 1]
                if nxt.start_byte == child.end_byte:
                    # $"..." (locale translation): tree-sitter splits it, sometimes with the
                    # text before the `$` in the `$` token: one word to bash.
                    word_nodes.append(_Span(child.start_byte, nxt.end_byte, [nxt]))
                    merged = idx + 1
                    continue
            if t == "variable_assignment" and field != "argument":
                assigns.append(child)
            elif t in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
                self.redirect(child, ctx, via, stdin, info)
            elif field == "name":
                named = [c for c in child.children if c.is_named]
                if len(named) != 1 or named[0].type not in _WORDS:
                    self.bad(child, ctx)
                    continue
                word_nodes.append(named[0])
            elif field == "argument" and t in _WORDS:
                word_nodes.append(child)
            elif t == "comment":
                continue
            else:
                self.bad(child, ctx)
        word_nodes.extend(extra)
        word_nodes.extend(info.extra)
        word_nodes.sort(key=lambda n: n.start_byte)
        word_nodes = self.join_continued(word_nodes, ctx)
        concerns = list(redirect_concerns) + info.concerns
        stdin = info.stdin
        texts: list[str] = []
        env: list[tuple[str, str | None]] = []
        for a in assigns:
            env.append(self.assignment(a, ctx, via, stdin, part=_NO_PART, texts=texts))
        words: list[_Word] = []
        for wn in word_nodes:
            words.extend(self.words(wn, ctx, via, stdin))
        for f, f_stdin in info.follow:
            self.stmt_or_container(f, ctx, via, f_stdin)
        if not words:
            for c in concerns:
                self.concern(c[0], c[1])
            for name, value in env:
                self.code_variable(
                    name, value, ctx, via=via, stdin=stdin, part=None, prog="the shell"
                )
            return
        end = max(children[-1].end_byte, *(w.end for w in words))
        text = _decode(ctx.src[node.start_byte : end])
        self.run(
            words,
            ctx,
            via,
            stdin,
            assignments=texts,
            env=env,
            concerns=concerns,
            text=text,
            top=True,
        )

    def split_at_newline(
        self, node: Any, children: list[Any], ctx: _Ctx, via: list[str], stdin: str | None
    ) -> list[Any]:
        """A newline ends a simple command, but tree-sitter sometimes reads on into the next
        line. Flag that, analyse the rest as the separate command(s) bash sees, and return the
        children before the newline."""
        for j in range(1, len(children)):
            gap = ctx.src[children[j - 1].end_byte : children[j].start_byte]
            if b"\n" in gap.replace(b"\\\n", b""):
                self.concern("cannot-analyse", "a newline inside one command: parsers disagree")
                rest = _decode(ctx.src[children[j].start_byte : node.end_byte])
                self.line(rest, ctx.depth, via, stdin, functions=ctx.functions)
                return list(children[:j])
        return list(children)

    def join_continued(self, nodes: list[Any], ctx: _Ctx) -> list[Any]:
        """`x\\<newline>y` is one word `xy` to bash; tree-sitter makes two of it."""
        out: list[Any] = []
        for node in nodes:
            word = node
            if out:
                gap = ctx.src[out[-1].end_byte : node.start_byte]
                if not gap.replace(b"\\\n", b""):
                    prev = out.pop()
                    kids = list(prev.children) if isinstance(prev, _Span) else [prev]
                    word = _Span(prev.start_byte, node.end_byte, [*kids, node])
            out.append(word)
        return out

    def run(
        self,
        words: list[_Word],
        ctx: _Ctx,
        via: list[str],
        stdin: str | None,
        *,
        assignments: list[str],
        env: list[tuple[str, str | None]],
        concerns: list[tuple[str, str]],
        text: str,
        top: bool = False,
        subst: str | None = None,
    ) -> None:
        """One simple command: make its part, then look into what it runs."""
        self.tick()
        argv = [w.value for w in words]
        dynamic = tuple(k for k, w in enumerate(words) if not w.static)
        part = Part(argv, text, assignments, list(via), dynamic)
        for c in concerns:
            self.concern(c[0], c[1], part)
        head = words[0]
        if not head.static or head.glob:
            self.concern("dynamic-command", f"dynamic command name {head.value}", part)
            self.analysis.parts.append(part)
            return
        prog = argv[0].rsplit("/", 1)[-1] if "/" in argv[0].rstrip("/") else argv[0]
        if top and "/" not in argv[0] and argv[0] in ctx.functions:
            body, unconditional = ctx.functions[argv[0]]
            if not unconditional:
                self.analysis.parts.append(part)
            else:
                for moved in part.concerns:  # no part for the call: keep them for the line
                    self.concern(moved.id, moved.reason)
            if argv[0] not in ctx.calling:
                ctx.calling.add(argv[0])
                ctx.called.add(argv[0])
                try:
                    self.stmt(body, ctx, via, stdin)
                finally:
                    ctx.calling.discard(argv[0])
            return
        self.analysis.parts.append(part)
        if argv[0] in _RESERVED:
            self.concern(
                "cannot-analyse",
                f"the shell keyword {argv[0]!r} where a command name should be: parsers disagree",
                part,
            )
        for name, value in env:
            self.code_variable(name, value, ctx, via=via, stdin=stdin, part=part, prog=prog)
        sh = self.sh
        if prog in sh["coproc"]:
            self.coproc(words, ctx, via, stdin, part=part, prog=prog)
        if prog in sh["eval"]:
            self.eval(words, ctx, via, stdin, part=part, prog=prog)
        elif prog in sh["source"]:
            if len(words) > 1:
                self.concern("opaque-code", f"{prog} runs the file {argv[1]} in the shell", part)
        elif prog in sh["trap"]:
            self.trap(words, ctx, via, part, prog)
        elif prog in sh["alias"] and any("=" in a for a in argv[1:]):
            self.concern("opaque-code", "defines an alias", part)
        entry = _name_lookup(self.spec, "interpreter", prog)
        if entry is not None:
            self.interpreter(entry, words, part, stdin, prog)
        entry = _name_lookup(self.spec, "client", prog)
        if entry is not None and stdin is not None:
            self.client(entry, argv, part, stdin, prog)
        entry = _name_lookup(self.spec, "writer", prog)
        if entry is not None:
            self.writer(entry, words, part)
        entry = _name_lookup(self.spec, "wrapper", prog)
        if entry is not None:
            self.wrapper(entry, words, ctx, via=via, stdin=stdin, part=part, prog=prog, subst=subst)

    def eval(
        self,
        words: list[_Word],
        ctx: _Ctx,
        via: list[str],
        stdin: str | None,
        *,
        part: Part,
        prog: str,
    ) -> None:
        args = words[1:]
        if not args:
            return
        self.concern("opaque-code", f"{prog} runs its arguments as shell code", part)
        if any(not w.static for w in args):
            self.concern("dynamic-command", f"{prog} of dynamic text", part)
            return
        self.line(" ".join(w.value for w in args), ctx.depth + 1, [*via, prog], stdin, owner=part)

    def coproc(
        self,
        words: list[_Word],
        ctx: _Ctx,
        via: list[str],
        stdin: str | None,
        *,
        part: Part,
        prog: str,
    ) -> None:
        """`coproc CMD ARGS` runs CMD in the background; `coproc [NAME] { ...; }` runs a
        compound command, which tree-sitter reads as words: analyse what follows the keyword
        as a command and send the line to review."""
        rest = words[1:]
        for k in (0, 1):
            if len(rest) > k and rest[k].static and rest[k].value in _RESERVED:
                self.concern(
                    "cannot-analyse", f"{prog} with a compound command: parsers disagree", part
                )
                rest = rest[k + 1 :]
                break
        if rest:
            text = self.words_text(ctx, rest)
            self.run(rest, ctx, [*via, prog], stdin, assignments=[], env=[], concerns=[], text=text)

    def trap(self, words: list[_Word], ctx: _Ctx, via: list[str], part: Part, prog: str) -> None:
        args = words[1:]
        if args and args[0].static and args[0].value == "--":
            args = args[1:]
        if not args or (args[0].static and args[0].value in ("-", "", "-p", "-l", "-P")):
            return
        if len(args) == 1 and args[0].static and args[0].value.isdigit():
            return  # `trap 2` resets signal 2
        self.concern("opaque-code", f"{prog} sets a command to run later", part)
        if not args[0].static:
            self.concern("dynamic-command", f"{prog} with a dynamic command", part)
            return
        self.line(args[0].value, ctx.depth + 1, [*via, prog], None, owner=part)

    # -- catalogue: interpreters, clients, writers --------------------------------------------

    def interpreter(
        self,
        entry: dict[str, Any],
        words: list[_Word],
        part: Part,
        stdin: str | None,
        prog: str,
    ) -> None:
        unsafe = entry["unsafe_code"]

        def code(text: str, how: str) -> None:
            if unsafe and not any(u in text for u in unsafe):
                return
            self.concern("opaque-code", f"{prog} runs inline code ({how})", part)

        has_program = False
        i, n = 1, len(words)
        while i < n:
            w = words[i]
            a = w.value
            if not w.static:
                if entry["program_positional"] and not has_program:
                    code(a, "dynamic program")
                    self.concern("opaque-code", f"{prog} runs a dynamic program", part)
                has_program = True
                break
            if a == "--":
                i += 1
                if i < n and not has_program:
                    has_program = True
                    if entry["program_positional"]:
                        code(words[i].value, "program text")
                break
            if (entry["stdin_script"] is not None and a == entry["stdin_script"]) or (
                not a.startswith("-") and self.stdin_path(a)
            ):
                self.concern(
                    "opaque-code", f"{prog} reads its program from {stdin or 'stdin'}", part
                )
                return
            if a.startswith("-") and len(a) > 1:
                parsed = _options(entry, words, i, lenient=True)
                if parsed is None:
                    i += 1  # unknown options of interpreters are taken as flags
                    continue
                events, i = parsed
                for opt, kind, value in events:
                    if kind == "code":
                        has_program = True
                        code(value.value if value is not None else "", opt)
                    elif kind in ("end", "info"):
                        return
                    elif opt in entry["program_file_options"]:
                        has_program = True
                continue
            if entry["code_subcommands"] and not has_program:
                if a in entry["code_subcommands"]:
                    self.concern("opaque-code", f"{prog} {a} runs inline code", part)
                return
            if entry["program_positional"] and not has_program:
                code(a, "program text")
            has_program = True
            break
        if not has_program and entry["stdin_without_script"]:
            self.concern(
                "opaque-code",
                f"{prog} without a script reads its program from {stdin or 'stdin'}",
                part,
            )

    def client(
        self, entry: dict[str, Any], argv: list[str], part: Part, stdin: str, prog: str
    ) -> None:
        if entry["stdin_args"]:
            hit = False
            for seq in entry["stdin_args"]:
                k = len(seq)
                if any(tuple(argv[j : j + k]) == tuple(seq) for j in range(1, len(argv) - k + 1)):
                    hit = True
                    break
            if not hit:
                return
        self.concern(
            "hidden-input", f"{prog} reads input from {stdin} the reviewer cannot see", part
        )

    def writer(self, entry: dict[str, Any], words: list[_Word], part: Part) -> None:
        files: list[_Word] = []
        positionals: list[_Word] = []
        present: set[str] = set()
        i, n = 1, len(words)
        ended = False
        while i < n:
            w = words[i]
            a = w.value
            i += 1
            if w.static and not ended and a == "--":
                ended = True
                continue
            if w.static and not ended and a.startswith("-") and len(a) > 1:
                name, eq, value = a.partition("=")
                if name in entry["file_options"]:
                    if eq:
                        files.append(_Word(value, True))
                    elif i < n:
                        files.append(words[i])
                        i += 1
                    present.add(name)
                elif a in entry["value_options"]:
                    present.add(a)
                    i += 1
                elif entry["clusters"] and not a.startswith("--"):
                    # -qO FILE, -oFILE, -ni: short options in one word, getopt style.
                    for k in range(1, len(a)):
                        opt = "-" + a[k]
                        present.add(opt)
                        if opt in entry["file_options"] or opt in entry["value_options"]:
                            attached = a[k + 1 :]
                            if attached:
                                value_word = _Word(attached, True)
                            elif i < n:
                                value_word = words[i]
                                i += 1
                            else:
                                break
                            if opt in entry["file_options"]:
                                files.append(value_word)
                            break
                else:
                    present.add(name)
                continue
            if w.static:
                prefix = next((p for p in entry["file_prefixes"] if a.startswith(p)), None)
                if prefix is not None:
                    files.append(_Word(a[len(prefix) :], True))
                    continue
            positionals.append(w)
        if entry["only_with"]:
            # GNU getopt_long takes any unambiguous prefix: `--in-pl` is --in-place.
            held = any(
                opt in present
                or any(p.startswith("--") and len(p) > 2 and opt.startswith(p) for p in present)
                for opt in entry["only_with"]
            )
            if not held:
                return
        if entry["script_options"] and not present.intersection(entry["script_options"]):
            positionals = positionals[1:]  # the first operand is the script (sed 's/a/b/' f)
        if entry["files"] == "positional":
            files += positionals
        elif entry["files"] == "last" and len(positionals) >= 2:
            files.append(positionals[-1])
        for f in files:
            if not f.static:
                self.concern("dynamic-redirect", f"writes to a dynamic path {f.value}", part)
                continue
            path = f.value
            matched = self.sensitive(path)
            if matched:
                self.concern(
                    "sensitive-write", f"writes to {path} (sensitive path {matched})", part
                )

    # -- wrappers ----------------------------------------------------------------------------

    def wrapper(
        self,
        entry: dict[str, Any],
        words: list[_Word],
        ctx: _Ctx,
        *,
        via: list[str],
        stdin: str | None,
        part: Part,
        prog: str,
        subst: str | None,
    ) -> None:
        n = len(words)
        i = 1
        if entry["subcommands"]:
            i = _subcommand(entry, words)
            if i < 0:
                return
        inner_via = [*via, prog]
        inner_stdin = None if entry["consumes_stdin"] else stdin
        if entry["run"] == "embedded":
            self.embedded(entry, words, ctx, via=inner_via, stdin=inner_stdin, part=part)
            return
        run = entry["run"]
        opts = entry["options"]
        positionals: list[_Word] = []
        strings: list[_Word] = []
        assigns: list[str] = []
        env: list[tuple[str, str | None]] = []
        script_flag = stdin_flag = False
        replace = None
        ended = False
        while i < n:
            w = words[i]
            a = w.value
            options_allowed = not ended and (not positionals or entry["options_after_positionals"])
            looks_like_option = w.static and (
                (a.startswith("-") and len(a) > 1)
                or (entry["plus_options"] and a.startswith("+") and len(a) > 1)
                or a in opts
            )
            if options_allowed and looks_like_option:
                if a == "--":
                    ended = True
                    i += 1
                    continue
                parsed = _options(entry, words, i)
                if parsed is None:
                    self.concern(
                        "wrapper-option",
                        f"{prog}: option {a} is not in the catalogue, so where its command "
                        "starts is unknown",
                        part,
                    )
                    return
                events, i = parsed
                for opt, kind, value in events:
                    if kind in ("value", "split", "string", "code", "end", "replace"):
                        if value is None:
                            return  # missing argument: the wrapper fails, nothing runs
                        if not value.static and value.split:
                            self.concern(
                                "dynamic-command",
                                f"{prog}: dynamic argument {value.value} of {opt}",
                                part,
                            )
                            return
                    if kind == "stop":
                        return
                    if kind == "stdin":
                        stdin_flag = True
                    elif kind == "script":
                        script_flag = True
                    elif kind == "string" and value is not None:
                        strings.append(value)
                    elif kind == "argv":
                        run = "argv"
                    elif kind == "replace" and value is not None:
                        replace = value.value
                    elif kind == "attached_replace":
                        replace = value.value if value is not None and value.value else "{}"
                    elif kind == "split" and value is not None:
                        if not value.static:
                            self.concern(
                                "dynamic-command", f"{prog} {opt} of a dynamic string", part
                            )
                            return
                        split = _split_words(value.value)
                        if split is None:
                            self.concern(
                                "cannot-analyse", f"{prog} {opt}: cannot split {value.value!r}"
                            )
                            return
                        words = [*words[:i], *(_Word(s, True) for s in split), *words[i:]]
                        n = len(words)
                continue
            if not w.static and w.split and len(positionals) < entry["positionals"]:
                self.concern(
                    "dynamic-command", f"{prog}: dynamic argument {a} may be several words", part
                )
                return
            if (
                entry["assignments"]
                and not positionals
                and w.static
                and _is_assignment(a)
                and not ended
            ):
                assigns.append(a)
                var, _, var_value = a.partition("=")
                env.append((var.removesuffix("+"), var_value))
                i += 1
                continue
            if len(positionals) < entry["positionals"]:
                positionals.append(w)
                i += 1
                continue
            break
        rest = words[i:]
        if run == "joined" and entry["terminators"]:
            for k, w in enumerate(rest):
                if w.static and w.value in entry["terminators"]:
                    rest = rest[:k]
                    break
        for s in strings:
            self.shell_string(
                s,
                ctx,
                via=inner_via,
                stdin=inner_stdin,
                part=part,
                prog=prog,
                subst=subst or replace,
            )
        if strings:
            return
        if run == "argv":
            if rest:
                text = self.words_text(ctx, rest)
                if entry["fills"]:
                    rest, replace = _fill(rest, replace)
                self.run(
                    rest,
                    ctx,
                    inner_via,
                    inner_stdin,
                    assignments=assigns,
                    env=env,
                    concerns=[],
                    text=text,
                    subst=replace,
                )
                return
        elif run == "shell":
            if script_flag:
                if rest:
                    self.shell_string(
                        rest[0],
                        ctx,
                        via=inner_via,
                        stdin=inner_stdin,
                        part=part,
                        prog=prog,
                        subst=subst or replace,
                    )
                else:
                    self.concern(
                        "opaque-code",
                        f"{prog} -c without a command string: its code comes from arguments "
                        "added at run time",
                        part,
                    )
                return
            if not stdin_flag and rest:
                if entry["positionals"]:
                    self.concern("wrapper-option", f"{prog}: arguments passed on to a shell", part)
                elif not rest[0].static:
                    self.concern("opaque-code", f"{prog} runs a script from {rest[0].value}", part)
                elif self.stdin_path(rest[0].value):
                    self.concern(
                        "opaque-code",
                        f"{prog} reads the commands it runs from {stdin or 'stdin'} "
                        f"({rest[0].value})",
                        part,
                    )
                return
        elif run in ("remote", "joined") and rest:
            if any(not w.static for w in rest):
                self.concern("dynamic-command", f"{prog} runs a dynamic command line", part)
                return
            joined = _Word(" ".join(w.value for w in rest), True)
            self.shell_string(
                joined,
                ctx,
                via=inner_via,
                stdin=inner_stdin,
                part=part,
                prog=prog,
                subst=subst or replace,
            )
            return
        if stdin_flag or entry["no_command"] == "reads-stdin":
            self.concern(
                "opaque-code", f"{prog} reads the commands it runs from {stdin or 'stdin'}", part
            )
        elif entry["no_command"] == "reads-redirected-stdin" and stdin is not None:
            self.concern("opaque-code", f"{prog} reads the commands it runs from {stdin}", part)

    def shell_string(
        self,
        word: _Word,
        ctx: _Ctx,
        *,
        via: list[str],
        stdin: str | None,
        part: Part,
        prog: str,
        subst: str | None,
    ) -> None:
        if not word.static:
            self.concern(
                "dynamic-command", f"{prog} runs a dynamic command line {word.value}", part
            )
            return
        if subst and subst in word.value:
            self.concern(
                "substituted-code",
                f"{prog} runs shell code that {via[-2] if len(via) > 1 else prog} fills in "
                f"from its input ({subst})",
                part,
            )
        self.line(word.value, ctx.depth + 1, via, stdin, owner=part)

    def embedded(
        self,
        entry: dict[str, Any],
        words: list[_Word],
        ctx: _Ctx,
        *,
        via: list[str],
        stdin: str | None,
        part: Part,
    ) -> None:
        i, n = 1, len(words)
        while i < n:
            w = words[i]
            i += 1
            if not (w.static and w.value in entry["embedded_options"]):
                continue
            start = i
            while i < n:
                t = words[i]
                if (
                    t.static
                    and t.value in entry["embedded_terminators"]
                    and (t.value != "+" or (i > start and words[i - 1].value == entry["replace"]))
                ):
                    break
                i += 1
            cmd = words[start:i]
            i += 1
            if cmd:
                text = self.words_text(ctx, cmd)
                self.run(
                    cmd,
                    ctx,
                    via,
                    stdin,
                    assignments=[],
                    env=[],
                    concerns=[],
                    text=text,
                    subst=entry["replace"],
                )

    # -- sensitive paths ---------------------------------------------------------------------

    def patterns(self) -> tuple[list[list[str]], list[list[str]]]:
        if self._patterns is None:
            self._patterns = (
                [p for p in map(self._expand_pattern, self.sh["sensitive_paths"]) if p],
                [p for p in map(self._expand_pattern, self.sh["safe_paths"]) if p],
            )
        return self._patterns

    def _expand_pattern(self, pattern: str) -> list[str]:
        if pattern == "~" or pattern.startswith("~/"):
            pattern = self.home + pattern[1:]
        elif pattern.startswith("$"):
            head, sep, tail = pattern[1:].partition("/")
            name, dot, suffix = head.replace("{", "").replace("}", "").partition(".")
            base = _placeholder(name)
            if not base:
                return []
            pattern = os.path.normpath(base) + (dot + suffix) + sep + tail
        if not pattern.startswith("**"):
            pattern = os.path.normpath(pattern)
        return pattern.split("/")

    def stdin_path(self, path: str) -> bool:
        """Is `path` the standard input or another inherited descriptor (`/dev/stdin`)?"""
        if not path.startswith("/"):
            return False
        segs = os.path.normpath(path).split("/")
        return any(_path_match(p.split("/"), segs) for p in self.sh["stdin_paths"])

    def sensitive(self, path: str) -> str | None:
        """The sensitive pattern a write to `path` hits, or None."""
        if path.startswith("~"):
            path = os.path.expanduser(path)
        if not os.path.isabs(path):
            path = os.path.join(os.getcwd(), path)
        normal = os.path.normpath(path)
        sensitive, safe = self.patterns()
        if any(_path_match(p, normal.split("/")) for p in safe):
            return None
        candidates = [normal]
        try:
            real = os.path.realpath(normal)
        except (OSError, ValueError):
            real = normal
        if real != normal and not any(_path_match(p, real.split("/")) for p in safe):
            candidates.append(real)
        for c in candidates:
            segs = c.split("/")
            for p in sensitive:
                if _path_match(p, segs):
                    return "/".join(p)
        return None


class _Span:
    """A word tree-sitter split in pieces, seen as one word node."""

    __slots__ = ("children", "end_byte", "start_byte")
    type = "translated_string"
    is_named = True

    def __init__(self, start: int, end: int, children: list[Any]) -> None:
        self.start_byte = start
        self.end_byte = end
        self.children = children


# Shell reserved words: bash never runs a command by these names (unquoted), so one seen as a
# command name means tree-sitter read the line differently from bash.
_RESERVED = frozenset(
    (
        "{",
        "}",
        "!",
        "[[",
        "]]",
        "if",
        "then",
        "elif",
        "else",
        "fi",
        "case",
        "esac",
        "for",
        "select",
        "while",
        "until",
        "do",
        "done",
        "in",
        "function",
    )
)

_NO_PART = Part([], "", [], [])  # marks "a part will be made": assignment() defers checks


class _Redirects:
    """What the redirections of one statement do."""

    __slots__ = ("concerns", "extra", "follow", "stdin")

    def __init__(self, stdin: str | None) -> None:
        self.stdin = stdin
        self.extra: list[Any] = []
        self.concerns: list[tuple[str, str]] = []
        self.follow: list[tuple[Any, str | None]] = []


def _placeholder(name: str) -> str:
    from expacti_cli import paths

    if name == "HOME":
        return os.path.expanduser("~")
    getter = {
        "GUARD_CONFIG_DIR": paths.config_dir,
        "GUARD_STATE_DIR": paths.state_dir,
        "GUARD_CACHE_DIR": paths.cache_dir,
        "GUARD_POLICY": paths.user_policy,
        "GUARD_AUDIT_LOG": paths.audit_log,
        "GUARD_AGENTS_FILE": paths.agents_file,
        "GUARD_SHIM_DIR": paths.shim_dir,
        "GUARD_REVIEW_DIR": paths.review_dir,
        "GUARD_BUILTIN_POLICIES": paths.builtin_policies,
    }.get(name)
    return os.path.abspath(getter()) if getter is not None else ""


_TAKES_VALUE = frozenset({"value", "split", "string", "code", "end", "replace"})
_ATTACHED = frozenset({"attached", "attached_replace"})


def _options(
    entry: dict[str, Any], words: list[_Word], i: int, lenient: bool = False
) -> tuple[list[tuple[str, str, _Word | None]], int] | None:
    """Parse the option word words[i] (getopt style) against the entry's option kinds.

    Returns ([(option, kind, value word or None)], index after) or None for an unknown option;
    `lenient` takes unknown letters of a cluster for flags (interpreters have many).
    """
    w = words[i]
    a = w.value
    opts = entry["options"]

    def attached(text: str) -> _Word:
        return _Word(text, w.static)

    def following() -> tuple[_Word | None, int]:
        return (words[i + 1], i + 2) if i + 1 < len(words) else (None, i + 1)

    kind = opts.get(a)
    if kind is not None:
        if kind in _TAKES_VALUE:
            value, nxt = following()
            return [(a, kind, value)], nxt
        return [(a, kind, None)], i + 1
    if a.startswith("--"):
        name, eq, val = a.partition("=")
        kind = opts.get(name)
        if eq and kind is not None and (kind in _TAKES_VALUE or kind in _ATTACHED):
            return [(name, kind, attached(val))], i + 1
        return None
    if entry.get("numeric_flags") and a[1:].isdigit():
        return [(a, "flag", None)], i + 1
    if not entry["clusters"]:
        kind = opts.get(a[:2])
        if kind is not None and (kind in _TAKES_VALUE or kind in _ATTACHED):
            return [(a[:2], kind, attached(a[2:]))], i + 1
        return None
    out: list[tuple[str, str, _Word | None]] = []
    prefix = a[0]
    for k in range(1, len(a)):
        opt = prefix + a[k]
        kind = opts.get(opt)
        if kind is None:
            if lenient:
                continue
            return None
        rest = a[k + 1 :]
        if kind in _TAKES_VALUE:
            if rest:
                out.append((opt, kind, attached(rest)))
                return out, i + 1
            value, nxt = following()
            out.append((opt, kind, value))
            return out, nxt
        if kind in _ATTACHED:
            out.append((opt, kind, attached(rest)))
            return out, i + 1
        out.append((opt, kind, None))
    return out, i + 1


_HIGH_BYTES = bytes(range(128)) + b"%" * 128


def _mask(src: bytes, braces: bool) -> bytes:
    """Same-length copy of src with "\\" after a newline (and, if braces, a "{" that starts a
    word, not after "$") replaced by "_", a plain word character to tree-sitter."""
    out = bytearray(src)
    for k in range(len(out) - 1):
        c, nxt = out[k], out[k + 1]
        backslash = c == 0x5C and k > 0 and out[k - 1] == 0x0A and nxt != 0x0A
        brace = braces and c == 0x7B and (k == 0 or out[k - 1] != 0x24)
        if backslash or (brace and nxt not in b" \t\n;&|()<>}"):
            out[k] = 0x5F
    return bytes(out)


def _skip_globals(entry: dict[str, Any], words: list[_Word], i: int) -> int:
    """Index of the first word at or after i that is not a global option (or its value)."""
    values = entry["global_options"]
    n = len(words)
    while i < n:
        w = words[i]
        a = w.value
        if not w.static or not a.startswith("-") or a in ("-", "--"):
            break
        if a in values:
            i += 2
        else:  # --opt=value, -Hvalue, or a flag
            i += 1
    return i


def _subcommand(entry: dict[str, Any], words: list[_Word]) -> int:
    """Index after the entry's subcommand (`docker exec`, `docker compose -f x run`), global
    options allowed before each of its words; -1 when the command is not that subcommand."""
    for sub in entry["subcommands"]:
        i = 1
        for part in sub:
            i = _skip_globals(entry, words, i)
            if i >= len(words) or not words[i].static or words[i].value != part:
                break
            i += 1
        else:
            return i
    return -1


def _fill(words: list[_Word], replace: str | None) -> tuple[list[_Word], str | None]:
    """The command a wrapper completes with words from its input (xargs), as rules see it:
    each such word is `{}` (find's notation): the replace string normalised to it, or one
    dynamic `{}` word appended."""
    if replace is None:
        return [*words, _Word("{}", False, split=True)], None
    if replace == "{}":
        return words, replace
    out = []
    for w in words:
        if w.static and replace in w.value:
            filled = _Word(w.value.replace(replace, "{}"), True, w.start, w.end)
            filled.glob = w.glob
            out.append(filled)
        else:
            out.append(w)
    return out, "{}"


def _split_words(text: str) -> list[str] | None:
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


# ---------------------------------------------------------------------------------------------
# Plain lines, analysed without tree-sitter (loading it costs ~10 ms of a ~45 ms `guard -c`).
# A plain line is words of `_PLAIN` characters separated by spaces and joined by `&&`, `||`,
# `;` and `|` (with or without spaces: bash splits words at these). In it nothing expands (no
# quote, `\`, `$`, backtick, glob, brace, `~`, `#`, redirection, group or newline), so each
# word is its own text, and the only structure is simple commands in source order, each
# reading the pipe when it follows `|`. The full path takes any other line, and one where a
# reserved word or tree-sitter keyword appears, a command is empty, a command name has other
# characters than `_PLAIN_NAME` or starts with `-`, or tree-sitter would group the operators
# differently. tests/test_shell_fastpath.py checks that both paths give the same analysis.

_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./:=,@%+-")
# Command names: tree-sitter misreads some with `@`, `%` or `+:` (`a@`, `x+:y`); `=` would
# make an assignment.
_PLAIN_NAME = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./+-")
_PLAIN_OPS = frozenset(("&&", "||", ";", "|"))
# tests/test_shell_fastpath.py checks every sequence of up to 9 operators against tree-sitter.
_PLAIN_MAX_OPS = 9
# Never in a plain line: `==` is a test operator to tree-sitter, the rest are keywords.
_PLAIN_STOP = _RESERVED | {
    "==",
    "time",
    "coproc",
    "export",
    "declare",
    "typeset",
    "local",
    "readonly",
    "unset",
    "unsetenv",
}


class _Fallback(Exception):
    """The plain line needs what only the full path does (a nested shell string)."""


def _plain(line: str) -> list[tuple[list[tuple[int, int]], bool]] | None:
    """The commands of a plain line: (word spans, reads a pipe) each; None if not plain."""
    commands: list[tuple[list[tuple[int, int]], bool]] = []
    words: list[tuple[int, int]] = []
    piped = False
    # Per `;`-separated statement: tree-sitter groups `a | b | c && d` as `a | (b | c && d)`,
    # so a pipeline of three or more commands next to `&&` or `||` takes the full path.
    and_or = long_pipe = False
    pipes = 0
    i, n = 0, len(line)
    while i < n:
        c = line[i]
        if c == " ":
            i += 1
            continue
        j = i + 1
        if c in _PLAIN:
            while j < n and line[j] in _PLAIN:
                j += 1
            words.append((i, j))
        elif c in ";&|":
            while j < n and line[j] in ";&|":
                j += 1
            op = line[i:j]
            if op not in _PLAIN_OPS or not words or len(commands) >= _PLAIN_MAX_OPS:
                return None
            commands.append((words, piped))
            words, piped = [], op == "|"
            pipes = pipes + 1 if piped else 0
            long_pipe = long_pipe or pipes >= 2
            and_or = and_or or op in ("&&", "||")
            if and_or and long_pipe:
                return None
            if op == ";":
                and_or = long_pipe = False
        else:
            return None
        i = j
    if not words:
        return None
    commands.append((words, piped))
    for spans, _ in commands:
        head = line[spans[0][0] : spans[0][1]]
        if head[0] == "-" or not _PLAIN_NAME.issuperset(head):
            return None
        if any(line[a:b] in _PLAIN_STOP for a, b in spans):
            return None
    return commands


class _PlainAnalyser(_Analyser):
    def line(
        self,
        text: str,
        depth: int,
        via: list[str],
        stdin: str | None,
        *,
        owner: Part | None = None,
        functions: dict[str, Any] | None = None,
    ) -> None:
        raise _Fallback

    def plain(self, line: str, commands: list[tuple[list[tuple[int, int]], bool]]) -> None:
        """What `command` and `run` make of each command of the plain line."""
        src = line.encode("ascii")
        self.bytes = len(src)
        ctx = _Ctx(src, 0)
        for spans, piped in commands:
            words = [_Word(line[a:b], True, a, b) for a, b in spans]
            self.run(
                words,
                ctx,
                [],
                "pipe" if piped else None,
                assignments=[],
                env=[],
                concerns=[],
                text=line[spans[0][0] : spans[-1][1]],
                top=True,
            )


def _analyse_plain(line: str, spec: dict[str, Any]) -> Analysis | None:
    """The analysis of a plain line, or None when the full path must make it."""
    commands = _plain(line)
    if commands is None:
        return None
    analysis = Analysis()
    try:
        analyser = _PlainAnalyser(spec, analysis)
        sh = analyser.sh
        # Leave every budget to the full path unless it surely holds there: tree-sitter nests
        # `a && b && c` one level per operator and makes a few nodes per word or operator.
        if (
            len(line) > sh["max_bytes"]
            or len(commands) + 8 > sh["max_nesting"]
            or 32 * (len(line) + 1) > sh["max_nodes"]
        ):
            return None
        analyser.plain(line, commands)
    except Exception:  # _Fallback, or anything else: the full path decides (fails closed)
        return None
    return analysis


def analyse(line: str, spec: dict[str, Any], *, fast: bool = True) -> Analysis:
    """Every simple command `bash -c LINE` would run, with concerns; never raises for input.

    `fast=False` (tests only) analyses plain lines with tree-sitter too."""
    if fast:
        plain = _analyse_plain(line, spec)
        if plain is not None:
            return plain
    analysis = Analysis()
    try:
        analyser = _Analyser(spec, analysis)
        if "\0" in line:
            analyser.concern("nul-byte", "the line contains a NUL byte")
            line = line.replace("\0", " ")
        if len(line) > analyser.sh["max_bytes"]:
            raise _TooComplex(f"line longer than {analyser.sh['max_bytes']} bytes")
        analyser.line(line, 0, [], None)
    except _TooComplex as e:
        analysis.concerns.append(Concern("too-complex", f"too complex to analyse: {e}", False))
    except RecursionError:
        analysis.concerns.append(Concern("too-complex", "too complex to analyse: recursion", False))
    except Exception as e:
        analysis.concerns.append(
            Concern("internal-error", f"shell analysis failed: {type(e).__name__}: {e}", False)
        )
    return analysis
