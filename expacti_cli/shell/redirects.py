"""Redirections, here-documents and here-strings: what they feed a command and where it writes.

A write to a sensitive path (resolved against the line's tracked working directory) or to a
path known only at run time is a concern of the command; an input redirection changes what the
command's stdin is (which decides, e.g., whether `bash` reads its program from a file).
"""

from __future__ import annotations

from . import control, walk
from .lexer import Word, ansi_c, latin1_to_str
from .model import Redirect, Unanalysable, reason
from .paths import resolve
from .syntax import EXPANSIONS, OUTPUT_OPS, SUBSTITUTIONS, TOKENS, WORDS, Dropped

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from .frame import Frame
    from .session import Session


class Redirects:
    """What the redirections of one statement do: the stdin they give it, words tree-sitter
    hung on them (`extra`), concerns for the command, and statements tree-sitter nested in a
    heredoc (`follow`, with their stdin)."""

    __slots__ = ("concerns", "extra", "follow", "records", "stdin")

    def __init__(self, stdin: str | None) -> None:
        self.stdin = stdin
        self.records: list[Redirect] = []
        self.extra: list[Any] = []
        self.concerns: list[tuple[str, str]] = []
        self.follow: list[tuple[Any, str | None]] = []


def statement(s: Session, node: Any, fr: Frame) -> None:
    """A redirected_statement: a body (command or compound) with redirections."""
    body = None
    found = []
    fields = [node.field_name_for_child(k) for k in range(node.child_count)]
    children = walk.split_at_newline(s, node, node.children, fr)
    for idx, child in enumerate(children):
        if fields[idx] == "body":
            body = child
        elif child.type in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
            found.append(child)
        elif (child.is_named and child.type != "comment") or (
            not child.is_named and child.type not in TOKENS
        ):
            walk.bad(s, child, fr)
    apply(s, body, found, fr)


def apply(s: Session, body: Any, found: list[Any], fr: Frame) -> None:
    """Run `body` with the redirections `found`. tree-sitter hangs the redirections of the
    last command of a list or pipeline (`cd ~ && printf x >> .bashrc`) on the whole of it:
    bash applies them to that last command only, in the state the commands before it made."""
    if body is not None and body.type in ("list", "pipeline"):
        walker = control.and_or if body.type == "list" else control.pipeline
        walker(s, body, fr, last=lambda child, inner: apply(s, child, found, inner))
        return
    info = Redirects(fr.stdin)
    for r in found:
        redirect(s, r, fr, info)
    if body is not None and found:
        _dropped_words(s, body, found, fr, info)
    if body is not None and body.type == "command":
        walk.command(
            s,
            body,
            fr.but(stdin=info.stdin),
            extra=info.extra,
            redirect_concerns=info.concerns,
            redirect_records=info.records,
        )
    else:
        if info.extra:
            s.concern("parse-error", "arguments after a redirection of a compound command")
        for c in info.concerns:
            s.concern(c[0], c[1])
        if body is not None:
            inner = fr.but(stdin=info.stdin, redirects=(*fr.redirects, *info.records))
            walk.stmt_or_container(s, body, inner)
    for follow, follow_stdin in info.follow:
        walk.stmt_or_container(s, follow, fr.but(stdin=follow_stdin))


def _dropped_words(s: Session, body: Any, found: list[Any], fr: Frame, info: Redirects) -> None:
    """Text between the command and its redirections that no node holds: tree-sitter-bash
    drops a lone `-` before a heredoc (`crontab - <<EOF`, `git commit -F - <<EOF`), a word bash
    passes (for `-`, stdin). It is put back as a word; anything else unread is not analysed."""
    src = fr.source.src
    nodes = sorted([body, *found], key=lambda n: n.start_byte)
    for i in range(1, len(nodes)):
        before, after = nodes[i - 1], nodes[i]
        gap = src[before.end_byte : after.start_byte].replace(b"\\\n", b"  ")
        text = gap.strip()
        if not text or text.startswith(b"#"):
            continue
        start = before.end_byte + gap.index(text)
        if text == b"-" and body.type == "command":
            info.extra.append(Dropped(start, start + 1, []))
        else:
            s.concern("cannot-analyse", f"text the parser did not read: {text[:40]!r}")


def redirect(s: Session, node: Any, fr: Frame, info: Redirects) -> None:
    s.budget.tick()
    t = node.type
    if t == "herestring_redirect":
        texts: list[str] | None = []
        shown: list[str] = []
        for child in node.children:
            if child.type in WORDS:
                # bash(1) Here Strings: tilde, parameter and variable expansion, command
                # substitution, arithmetic expansion and quote removal; no splitting or globs.
                tilde = fr.text(child)[:1] == "~"
                ws = walk.words(s, child, fr, braces_=False, home=True, tilde=tilde)
                shown.extend(w.value for w in ws)
                plain = texts is not None and all(w.static for w in ws)
                texts = [*texts, *(w.value for w in ws)] if plain and texts is not None else None
            elif child.is_named:
                walk.bad(s, child, fr)
        info.stdin = "a here-string"
        text = " ".join(texts) if texts else None
        source = " ".join(shown) if text is None else None
        info.records.append(Redirect("<<<", 0, None, text, source))
    elif t == "heredoc_redirect":
        heredoc(s, node, fr, info)
    elif t == "file_redirect":
        file_redirect(s, node, fr, info)
    else:
        walk.bad(s, node, fr)


def file_redirect(s: Session, node: Any, fr: Frame, info: Redirects) -> None:
    op = ""
    descriptor = None
    destinations = []
    for idx, child in enumerate(node.children):
        field = node.field_name_for_child(idx)
        if field == "descriptor":
            descriptor = fr.text(child)
        elif field == "destination":
            destinations.append(child)
        elif not child.is_named:
            op = child.type
        elif child.type != "comment":
            walk.bad(s, child, fr)
    if not destinations:
        if op not in (">&-", "<&-"):  # closing a descriptor needs no target
            walk.bad(s, node, fr)
        return
    destinations = walk.split_at_newline(s, node, destinations, fr)
    target_node, extra = destinations[0], destinations[1:]
    info.extra.extend(extra)  # tree-sitter hangs later arguments on the redirection
    words = walk.words(s, target_node, fr, braces_=True, home=True)
    target = words[0] if len(words) == 1 else None
    rounds = _loop_rounds(target, fr) if op in OUTPUT_OPS and op not in (">&", "<&") else None
    if rounds is not None:  # `for t in a b; do echo x >> "$t"`: a write to a, then to b
        for value in rounds:
            info.records.append(_record(s, op, descriptor, Word(value, True), target_node, fr))
            matched = s.paths.hit(value, fr.state.cwd)
            if matched:
                why = reason("sensitive-write", path=value, pattern=matched)
                info.concerns.append(("sensitive-write", why))
        return
    info.records.append(_record(s, op, descriptor, target, target_node, fr))
    if op in ("<", "<&") and descriptor in (None, "0"):
        if target is not None and target.static and op == "<&" and target.value == "-":
            info.stdin = None
        elif target_node.type == "process_substitution":
            info.stdin = "a process substitution"
        else:
            info.stdin = "a file" if op == "<" else "another file descriptor"
        return
    if op not in OUTPUT_OPS:
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
        shown = fr.text(target_node)
        info.concerns.append(("dynamic-redirect", reason("dynamic-redirect", path=shown)))
        return
    matched = s.paths.hit(target.value, fr.state.cwd)
    if matched:
        info.concerns.append(
            ("sensitive-write", reason("sensitive-write", path=target.value, pattern=matched))
        )


def _loop_rounds(target: Word | None, fr: Frame) -> list[str] | None:
    """The words a redirection target that is a for loop's variable over plain words takes,
    one per round (no glob among them); None for any other target."""
    if target is None or target.static:
        return None
    text = target.value
    if len(text) > 1 and text[0] == text[-1] == '"':
        text = text[1:-1]
    name = text[2:-1] if text.startswith("${") and text.endswith("}") else text[1:]
    rounds = fr.state.loops.get(name) if text[:1] == "$" else None
    if rounds is None or any(c in w for w in rounds for c in "*?[\0$`"):
        return None  # a glob; or what `read` or a substitution gave: known only at run time
    return rounds


def _record(
    s: Session, op: str, descriptor: str | None, target: Word | None, node: Any, fr: Frame
) -> Redirect:
    """The Redirect of `[descriptor]op target`: the path resolved when it is a static file."""
    if descriptor is not None and descriptor.isdigit():
        fd = int(descriptor)
    elif descriptor is not None:
        fd = -1  # {name}>file: bash picks the descriptor
    else:
        fd = 0 if op.startswith("<") else 1
    path = None
    duplicate = (
        op in (">&", "<&")
        and target is not None
        and (target.value == "-" or target.value.isdigit())
    )
    static = target is not None and target.static
    if static and not duplicate and node.type != "process_substitution":
        path = resolve(target.value, fr.state.cwd, s.home)  # type: ignore[union-attr]
    if op == "<" and path is None and not duplicate:
        # `< "/proc/$PPID/environ"`, `< <(printf … ~/.ssh/id_rsa)`: the input's source text,
        # judged where it is read (effects.resolve)
        return Redirect(op, fd, None, source=fr.text(node))
    return Redirect(op, fd, path)


def heredoc(s: Session, node: Any, fr: Frame, info: Redirects) -> None:
    quoted = False
    text: str | None = None
    source: str | None = None
    for idx, child in enumerate(node.children):
        t = child.type
        field = node.field_name_for_child(idx)
        if t == "heredoc_start":
            quoted = any(c in fr.text(child) for c in "'\"\\")
        elif t in ("file_redirect", "herestring_redirect"):
            redirect(s, child, fr, info)
        elif field == "argument" or (t in WORDS and field != "right"):
            info.extra.append(child)
        elif t == "heredoc_body":
            body = fr.text(child)
            if not quoted:
                heredoc_body(s, child, fr)
            # The body as given: quoted, or with nothing bash would expand in it.
            text = body if quoted or not any(c in body for c in "$`\\") else None
            source = body if text is None else None
        elif t == "pipeline":
            # `cat <<EOF | next`: tree-sitter puts the rest of the pipeline in here.
            for sub in child.children:
                if sub.is_named:
                    info.follow.append((sub, "pipe"))
                elif sub.type not in ("|", "|&"):
                    walk.bad(s, sub, fr)
        elif field == "right":
            info.follow.append((child, fr.stdin))
        elif t not in ("heredoc_end", "<<", "<<-", "&&", "||", ";", "&", "comment"):
            walk.bad(s, child, fr)
    info.stdin = "a heredoc"
    info.records.append(Redirect("<<", 0, None, text, source))
    extent = Extent(fr.source.latin1(), node)
    if not extent.agrees():
        s.concern(
            "cannot-analyse",
            f"a here-document bash ends elsewhere than guard reads it ({extent.delim!r}): "
            "parsers disagree",
        )


def delimiter(word: str) -> str:
    """The line that ends a here-document started with `<<WORD`: bash(1) "Here Documents" does
    no expansion on the word and, when any part of it is quoted, removes the quotes (`E"O"F`,
    `\\EOF`, `'EOF'`, `$'E\\x4fF'` and `$"EOF"` all end at `EOF`); `$X`, `E{O,}F` and `~`
    stay as written. `word` is latin-1 text, as the source bytes."""
    out: list[str] = []
    i, n = 0, len(word)
    while i < n:
        c = word[i]
        if c == "\\" and i + 1 < n:
            out.append(word[i + 1])
            i += 2
        elif c == "'":
            end = word.find("'", i + 1)
            end = n if end < 0 else end
            out.append(word[i + 1 : end])
            i = end + 1
        elif c == "$" and word.startswith("$'", i):
            text, i = ansi_c(word, i + 2)
            out.append(text)
        elif c == '"' or (c == "$" and word.startswith('$"', i)):
            i += 2 if c == "$" else 1
            while i < n and word[i] != '"':
                if word[i] == "\\" and i + 1 < n and word[i + 1] in '$`"\\\n':
                    i += 1
                out.append(word[i])
                i += 1
            i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


class Extent:
    """Where bash ends one here-document, against where tree-sitter does. bash reads the body
    line by line from the line after the command line's next newline (a backslash-newline, or a
    newline inside quotes, is none) and ends it at the first line that is the delimiter, after
    joining a line ending in an unescaped backslash to the next when the word is unquoted and,
    for `<<-`, dropping the line's leading tabs (bash(1) "Here Documents"; parse.y
    make_here_document). tree-sitter-bash's scanner takes the word as written (`<<E"O"F` ends
    at `E"O"F`, bash ends at `EOF`), joins no lines (`EO\\<newline>F` ends bash's), may start
    the body a line late, and ends at a line that merely starts with the word (`EOF = 1`,
    ` EOF`, `EOFX`)."""

    __slots__ = ("_at", "_text", "bash", "dash", "delim", "same_start", "tree", "whole_line")

    def __init__(self, text: str, node: Any) -> None:
        """`text`: the source's bytes as latin-1 (so that offsets are tree-sitter's)."""
        ends = {c.type: c for c in reversed(node.children)}
        start, body = ends.get("heredoc_start"), ends.get("heredoc_body")
        end = ends.get("heredoc_end")
        self._text, self._at = text, -1
        self.delim: str | None = None
        self.bash: int | None = None  # where bash's end line starts (None: it runs to the end)
        self.dash = "<<-" in ends
        self.same_start = False
        if end is not None and (end.is_missing or end.start_byte == end.end_byte):
            end = None  # tree-sitter found no end line
        self.tree = None if end is None else end.start_byte  # where tree-sitter's end starts
        # (its end line is one line, to the line's end: not `EOF\ncmd;\nEOF`)
        self.whole_line = end is None or text.find("\n", end.start_byte) in (end.end_byte, -1)
        first = body or end
        if start is None or first is None:
            return  # `cat <<EOF` last on the line: not a document guard reads
        raw = text[start.start_byte : start.end_byte]
        if _word_end(text, start.start_byte) != start.end_byte:
            return  # tree-sitter's word is not bash's: `<<EOF;` (a shorter one), `<<'E'OF`
        try:
            self.delim = delimiter(raw)
        except Unanalysable:
            return
        tree_at = text.rfind("\n", 0, first.start_byte) + 1
        at = _body_start(text, start.end_byte)
        if at == -2:  # another here-document first on this line: tree-sitter orders them
            at = tree_at if text[:tree_at].rstrip("\n").endswith(_ended_lines(text, node)) else -1
        # (tree-sitter's body leaves out its leading blank lines)
        self.same_start = 0 <= at <= first.start_byte and not text[at : first.start_byte].strip()
        if at < 0:
            return
        self._at = at
        joins = not any(c in raw for c in "'\"\\") and text.find("\\\n", at) >= 0
        self.bash = self._joined_end(at) if joins or not self.delim else self._line_end(at)

    def _line_end(self, at: int) -> int | None:
        """bash's end line when no line joins the next: the first line that is the delimiter
        (after `<<-`'s tabs), found by searching for the delimiter itself."""
        text, delim = self._text, self.delim or ""
        k = at
        while (k := text.find(delim, k)) >= 0:
            head = text.rfind("\n", 0, k) + 1
            after = k + len(delim)
            whole = after == len(text) or text[after] == "\n"
            if whole and head >= at and (head == k or (self.dash and not text[head:k].strip("\t"))):
                return k
            k = after
        return None

    def _joined_end(self, at: int) -> int | None:
        """bash's end line, reading the body line by line and joining a line that ends in an
        unescaped backslash to the next (an unquoted word)."""
        text, delim = self._text, self.delim
        line, joined = at, ""
        while line <= len(text):
            stop = text.find("\n", line)
            stop = len(text) if stop < 0 else stop
            joined += text[line:stop]
            tail = len(joined) - len(joined.rstrip("\\"))
            if tail % 2 == 1 and stop < len(text):
                joined = joined[:-1]  # backslash-newline: the next line continues this one
            elif joined == delim or (self.dash and joined.lstrip("\t") == delim):
                return stop - len(delim or "")
            else:
                joined = ""
            line = stop + 1
        return None

    def agrees(self) -> bool:
        known = self.delim is not None and self.same_start and self.whole_line
        return known and self.bash == self.tree

    def early(self) -> list[int]:
        """When tree-sitter ends the document before bash does: the bytes to mask so that it
        reads on (the first of every body line that starts with the delimiter)."""
        if not self.delim or self.tree is None or not self.same_start or self._at < 0:
            return []
        if self.bash is not None and self.tree >= self.bash:
            return []
        text, stop = self._text, len(self._text) if self.bash is None else self.bash
        marks, line = [], self._at
        while line < stop:
            end = text.find("\n", line)
            end = len(text) if end < 0 else end
            lead = len(text[line:end]) - len(text[line:end].lstrip())
            if text.startswith(self.delim, line + lead):
                marks.append(line + lead)  # where tree-sitter may end it
            line = end + 1
        return marks


def mask_early_ends(view: bytes, parse: Any) -> tuple[bytes, Any]:
    """`view`, and its tree, after masking (one byte each, same length) the lines tree-sitter took
    for the end of a here-document that bash reads as its text, until it ends each where bash
    does or nothing more can be masked. The caller still checks every here-document."""
    from .syntax import _nodes

    root = parse(view).root_node
    out = bytearray(view)
    for _ in range(16):
        text = view.decode("latin-1")
        marks = [
            at
            for n in _nodes(root)
            if n.type == "heredoc_redirect"
            for at in Extent(text, n).early()
        ]
        if not marks:
            break
        for at in marks:
            out[at] = 0x5F if out[at] != 0x5F else 0x78  # "_" (or "x"): a word character
        view = bytes(out)
        root = parse(view).root_node
    return view, root


def _word_end(text: str, i: int) -> int:
    """Where the word starting at text[i] ends for bash: at the first blank, newline or operator
    character outside quotes (bash(1) DEFINITIONS, metacharacter). tree-sitter-bash's
    here-document scanner takes `EOF;` for the word of `cat <<EOF; rm x` and only `'E'` of
    `<<'E'OF`."""
    n = len(text)
    while i < n and text[i] not in " \t\n;&|()<>":
        c = text[i]
        if c == "\\":
            i += 2
        elif c == "'" or text.startswith("$'", i):
            i += 1 if c == "'" else 2
            while i < n and text[i] != "'":
                i += 2 if c == "$" and text[i] == "\\" else 1
            i += 1
        elif c == '"' or text.startswith('$"', i):
            i += 1 if c == '"' else 2
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
        else:
            i += 1
    return min(i, n)


def _body_start(text: str, i: int) -> int:
    """Where bash starts reading a here-document whose word ends at text[i]: after the next
    newline of the command line, skipping backslash-newlines, quoted strings and comments. -2
    when another here-document operator comes first on the line (its body comes first), -1 when
    the line nests a newline in a substitution or group, or never ends."""
    n, depth, tick = len(text), 0, False
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            i = text.find("'", i + 1)
            if i < 0:
                return -1
        elif text.startswith("$'", i):
            i += 2
            while i < n and text[i] != "'":
                i += 2 if text[i] == "\\" else 1
            if i >= n:
                return -1
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            if i >= n:
                return -1
        elif c == "#" and text[i - 1] in " \t\n;&|()<>":
            i = text.find("\n", i)
            if i < 0:
                return -1
            continue
        elif c == "(" or (c == "{" and text.startswith("${", i - 1)):
            depth += 1
        elif c in ")}" and depth:
            depth -= 1
        elif c == "`":
            tick = not tick
        elif text.startswith("<<", i) and not text.startswith("<<<", i):
            return -2
        elif c == "\n":
            return i + 1 if depth == 0 and not tick else -1
        i += 1
    return -1


def _ended_lines(text: str, node: Any) -> tuple[str, ...]:
    """The end lines of the here-documents tree-sitter read before this one on its line."""
    outer = node.parent
    ends: list[str] = []
    for sib in outer.children if outer is not None else ():
        if sib.start_byte >= node.start_byte:
            break
        ends += [text[c.start_byte : c.end_byte] for c in sib.children if c.type == "heredoc_end"]
    return tuple(ends) or ("\0",)


def heredoc_body(s: Session, node: Any, fr: Frame) -> None:
    """An unquoted heredoc body expands like a double-quoted string: analyse the
    substitutions tree-sitter found, and backticks (which it leaves as text) ourselves."""
    body = bytearray(fr.source.src[node.start_byte : node.end_byte])
    for child in node.children:
        t = child.type
        if t in SUBSTITUTIONS or t in EXPANSIONS:
            walk.words(s, child, fr)
            a, b = child.start_byte - node.start_byte, child.end_byte - node.start_byte
            body[a:b] = b" " * (b - a)
        elif t != "heredoc_content":
            walk.bad(s, child, fr)
    text = body.decode("latin-1")
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "$" and text.startswith("$(", i):
            s.concern("cannot-analyse", "a command substitution in a heredoc")
        elif c == "`":
            end = _backtick_end(text, i + 1)
            if end < 0:
                s.concern("parse-error", "unterminated backtick in a heredoc")
                return
            code = latin1_to_str(_unescape_backtick(text[i + 1 : end]))
            walk.line(s, code, fr, fr.depth + 1, share=True)
            i = end
        i += 1


def _backtick_end(text: str, i: int) -> int:
    """Index of the backtick closing one opened before text[i], or -1."""
    n = len(text)
    while i < n and text[i] != "`":
        i += 2 if text[i] == "\\" and i + 1 < n and text[i + 1] in "`$\\" else 1
    return i if i < n else -1


def _unescape_backtick(body: str) -> str:
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        if body[i] == "\\" and i + 1 < n and body[i + 1] in "`$\\":
            out.append(body[i + 1])
            i += 2
            continue
        out.append(body[i])
        i += 1
    return "".join(out)
