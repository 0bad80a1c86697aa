"""tree-sitter-bash, loaded on first use, and what the walker knows about its node kinds.

The two extension modules are loaded directly because the packages' __init__ pull in `typing`
and `importlib.resources` (~15 ms) for nothing we use. Nothing here loads them at import time:
plain lines (plain.py) never pay for tree-sitter.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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


def parser() -> Any:
    global _PARSER  # noqa: PLW0603 - one parser per process, built on first use
    if _PARSER is None:
        ts = _load_binding("tree_sitter")
        bash = _load_binding("tree_sitter_bash")
        _PARSER = ts.Parser(ts.Language(bash.language()))
    return _PARSER


STATEMENTS = frozenset(
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
CONTAINERS = frozenset(
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
WORDS = frozenset(
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
EXPRESSIONS = frozenset(
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
        *WORDS,
    }
)
SKIP = frozenset({"comment", "variable_name", "heredoc_start", "heredoc_end"})
TOKENS = frozenset(
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
# Statements whose body runs zero or more times.
LOOPS = frozenset({"while_statement", "for_statement", "c_style_for_statement"})
SUBSTITUTIONS = frozenset({"command_substitution", "process_substitution"})
EXPANSIONS = frozenset({"simple_expansion", "expansion", "arithmetic_expansion"})
OUTPUT_OPS = frozenset({">", ">>", ">|", "&>", "&>>", ">&", "&>|"})
INPUT_OPS = frozenset({"<", "<&", "<&-", ">&-"})
SPECIAL_PARAMS = "@*#?-$!0123456789_"
NAME_START = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_").__contains__
METACHARS = " \t\n;&|()<>"

# Shell reserved words: bash never runs a command by these names (unquoted), so one seen as a
# command name means tree-sitter read the line differently from bash.
RESERVED = frozenset(
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


class Span:
    """A word tree-sitter split in pieces, seen as one word node."""

    __slots__ = ("children", "end_byte", "start_byte")
    type = "translated_string"
    is_named = True

    def __init__(self, start: int, end: int, children: list[Any]) -> None:
        self.start_byte = start
        self.end_byte = end
        self.children = children


class Dropped(Span):
    """A word of the source that tree-sitter left out of its tree (redirects._dropped_words)."""

    __slots__ = ()
    type = "word"


def decode(b: bytes) -> str:
    return b.decode("utf-8", "surrogateescape")


def encode(s: str) -> bytes:
    try:
        return s.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return s.encode("utf-8", "surrogatepass")


# The bytes tree-sitter parses in place of the line's (same length; the lexer reads the line's).
# Bytes >= 0x80 become "%"; \v, \f and \r, which tree-sitter-bash skips as blanks and bash reads
# as word characters (only space, tab and newline separate words), become "." (a "%" ending a
# command name is an error to tree-sitter): to it, `echo x\r#y; rm -rf ~` was `echo x` and a
# comment.
VIEW_BYTES = bytes(range(11)) + b"..." + bytes(range(14, 128)) + b"%" * 128


_ESCAPED_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-")


def mask(src: bytes, braces: bool) -> bytes:
    """Same-length copy of src with "\\" after a newline before a letter, digit or `_./-` (and,
    if braces, a "{" that starts a word, not after "$") replaced by "_", a plain word character
    to tree-sitter. (Before a quote, `$` or a backquote, the backslash is what keeps it a
    character: unmasked, tree-sitter would read a substitution or string bash does not.)"""
    out = bytearray(src)
    for k in range(len(out) - 1):
        c, nxt = out[k], out[k + 1]
        word = nxt in _ESCAPED_WORD
        backslash = c == 0x5C and k > 0 and out[k - 1] == 0x0A and word
        brace = braces and c == 0x7B and (k == 0 or out[k - 1] != 0x24)
        if backslash or (brace and nxt not in b" \t\n;&|()<>}"):
            out[k] = 0x5F
    return bytes(out)


def mask_escapes(view: bytes) -> bytes:
    """Same-length copy of `view` where a backquote, space or tab escaped by a backslash (after
    an odd run of backslashes) is "_", and the backslash before a space or tab too: bash reads
    them as characters of a word wherever they are (in quotes, comments and here-documents
    they are text either way). tree-sitter-bash starts substitutions at some escaped
    backquotes (`"\\`\\`\\`"`), drops an escaped blank that starts a word (`\\ x` was `x`),
    splits a word at an escaped tab, and reads a comment after either (`echo \\ #; rm -rf ~`
    was `echo`). A backquoted body (walk._backquoted) is read from the line, escapes and all."""
    out = bytearray(view)
    at = view.find(b"\\")
    n = len(view)
    while 0 <= at < n - 1:
        run = at
        while run < n and view[run] == 0x5C:
            run += 1
        if (run - at) % 2 == 1 and run < n and view[run] in _MASKED_ESCAPES:
            out[run] = 0x5F
            if view[run] != 0x60:
                out[run - 1] = 0x5F
        at = view.find(b"\\", run)
    return bytes(out)


_MASKED_ESCAPES = frozenset(b" \t`")


def false_comments(view: bytes, root: Any) -> list[int]:
    """Where tree-sitter-bash starts a comment and bash does not: bash reads `#` as one only at
    the start of a word (bash(1) COMMENTS), after a blank, an operator character, a newline or
    a backquote (a backquoted body is parsed on its own); `[[ x =~ ]]# ]]; rm -rf ~` runs rm."""
    found = []
    at = view.find(b"#", 1)
    while at >= 0:
        if view[at - 1] not in _COMMENT_AFTER:
            node = root.descendant_for_byte_range(at, at + 1)
            if node is not None and node.type == "comment" and node.start_byte == at:
                found.append(at)
        at = view.find(b"#", at + 1)
    return found


_COMMENT_AFTER = frozenset(b" \t\n;&|()<>`")


def backquoted_comments(view: bytes) -> tuple[bytes, list[tuple[int, int]]]:
    r"""A copy of `view` where a comment inside a backquoted substitution is blanks and a `:` up
    to the closing backquote, and the (open, close) offsets of those substitutions; backquotes are
    paired in order (escaped ones are masked already). bash ends such a comment with the body
    (`echo x \`# note\` y`); tree-sitter-bash runs it to the end of the line. The caller keeps
    the result only where its tree has these substitutions exactly."""
    out = bytearray(view)
    pairs = []
    at = view.find(b"`")
    while at >= 0:
        close = view.find(b"`", at + 1)
        if close < 0:
            break
        k = at + 1
        while k < close and (view[k] != 0x23 or view[k - 1] not in _COMMENT_AFTER):  # '#'
            k += 1
        if k < close:
            # (tree-sitter rejects `  ` and nests a backquote after a blank)
            out[k:close] = b" " * (close - k - 1) + b":"
            pairs.append((at, close))
        at = view.find(b"`", close + 1)
    return bytes(out), pairs


def coproc_mask(src: bytes, parse: Any) -> bytes | None:
    """`coproc [NAME] { LIST; }` or `coproc [NAME] ( LIST )` (bash(1) Coprocesses), which
    tree-sitter-bash reads as words: a same-length copy where `coproc NAME` is blanks and the
    braces are parentheses, so the body parses as the subshell it runs in (asynchronously:
    nothing it changes reaches the line). None when there is no such coprocess."""
    out = bytearray(src)
    braces: set[int] = set()
    names = [
        n.start_byte
        for n in _nodes(parse(src).root_node)
        if n.type == "command_name" and n.text == b"coproc"
    ]
    for start in names:  # only where bash reads a command name
        j = _blanks(src, start + 6)
        if j == start + 6:
            continue
        name_end = j
        while name_end < len(src) and (chr(src[name_end]).isalnum() or src[name_end] == 0x5F):
            name_end += 1
        body = _blanks(src, name_end)
        if name_end != j and body == name_end:
            continue  # `coproc cat x`: a simple command
        body = body if name_end != j else j
        if body < len(src) and src[body] in b"{(":
            out[start:body] = b" " * (body - start)
            if src[body] == 0x7B:
                braces.add(body)
    if out == src:
        return None
    if braces:
        for node in _nodes(parse(bytes(out)).root_node):
            if node.type == "compound_statement" and node.start_byte in braces:
                out[node.start_byte] = 0x28  # (
                out[node.end_byte - 1] = 0x29  # )
    return bytes(out)


# What bash reads literally, backslash-newlines included: quoted strings, comments (which end at
# the newline) and here-document bodies (their own rules: redirects.Extent).
_LITERAL = frozenset({"raw_string", "ansi_c_string", "comment", "heredoc_body", "heredoc_end"})


def literal_texts(src: bytes, root: Any) -> list[bytes]:
    """The texts of the nodes bash reads literally, in order."""
    found = [n for n in _nodes(root) if n.type in _LITERAL]
    found.sort(key=lambda n: n.start_byte)
    return [src[n.start_byte : n.end_byte] for n in found]


def join_continuations(src: bytes, root: Any) -> bytes | None:
    """`src` without the backslash-newlines bash removes before it reads words (bash(1) QUOTING:
    "a non-quoted backslash followed by a newline is treated as a line continuation"), outside
    what `root` reads literally; None when there is none. tree-sitter-bash splits a word there
    (`> ~/.ba\\<newline>shrc` wrote to `~/.ba`), reads `x\\<newline>#y` as a comment and
    `PYTHON\\<newline>PATH=.` as a command name."""
    zones = sorted((n.start_byte, n.end_byte) for n in _nodes(root) if n.type in _LITERAL)
    out = bytearray()
    i, n, z = 0, len(src), 0
    while i < n:
        while z < len(zones) and zones[z][1] <= i:
            z += 1
        if z < len(zones) and zones[z][0] <= i:
            out += src[i : zones[z][1]]
            i = zones[z][1]
            continue
        c = src[i]
        if c == 0x5C and i + 1 < n:  # a backslash quotes the next byte, or joins the lines
            if src[i + 1] != 0x0A:
                out += src[i : i + 2]
            i += 2
            continue
        out.append(c)
        i += 1
    return bytes(out) if len(out) != n else None


def _blanks(src: bytes, i: int) -> int:
    while i < len(src) and src[i] in b" \t":
        i += 1
    return i


def _nodes(root: Any) -> list[Any]:
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(node.children)
    return out


def error_hint(root: Any) -> str:
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
