"""Redirections, here-documents and here-strings: what they feed a command and where it writes.

A write to a sensitive path (resolved against the line's tracked working directory) or to a
path known only at run time is a concern of the command; an input redirection changes what the
command's stdin is (which decides, e.g., whether `bash` reads its program from a file).
"""

from __future__ import annotations

from . import control, walk
from .lexer import Word, latin1_to_str
from .model import Redirect, reason
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
