"""The syntax walk: tree-sitter's tree of a line -> simple commands, in the order bash runs them.

Every node kind is handled explicitly; an unknown kind, an ERROR or MISSING node, or a word
where tree-sitter and bash would split or expand differently is a concern, never an allow.
What a simple command does is commands.py's business; redirections are redirects.py's.
"""

from __future__ import annotations

from . import assign, binding, commands, control, redirects, sinks
from .frame import Frame, Source
from .lexer import Lexer, Tok, Word, braces, expand_tilde, has_glob, latin1_to_str, to_latin1
from .model import Fallback, TooComplex, Unanalysable
from .syntax import (
    CONTAINERS,
    EXPANSIONS,
    EXPRESSIONS,
    LOOPS,
    SKIP,
    STATEMENTS,
    SUBSTITUTIONS,
    TOKENS,
    VIEW_BYTES,
    WORDS,
    Span,
    backquoted_comments,
    coproc_mask,
    decode,
    encode,
    error_hint,
    false_comments,
    join_continuations,
    literal_texts,
    mask,
    mask_escapes,
    parser,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    # `last`: how to walk the last element of a list or pipeline (redirects.apply gives it
    # the redirections tree-sitter hung on the whole).
    Walker = Callable[[Any, Frame], None]

    from .model import Part, Redirect
    from .session import Session


def line(
    s: Session,
    text: str,
    fr: Frame,
    depth: int,
    *,
    owner: Part | None = None,
    share: bool = False,
) -> None:
    """Parse and walk one shell line (the top line or a nested shell string) at `depth`.
    `owner`: the part running it (a too-deep string is its concern); `share`: it runs in the
    frame's shell (its functions are the same)."""
    if s.plain:
        raise Fallback
    if depth > s.spec["max_depth"]:
        s.concern("too-deep", f"shell strings nested deeper than {s.spec['max_depth']}", owner)
        return
    src = encode(text)
    s.budget.add_bytes(len(src))
    root = _parse(src)
    if b"\\\n" in src:
        src, root = _joined(s, src, root)
    s.budget.expect_nodes(root.descendant_count)
    if root.has_error and not _ends_in_open_heredoc(root, len(src)):
        where = " in a nested shell string" if depth else ""
        s.concern("parse-error", f"the line does not parse{where}: {error_hint(root)}")
    source = Source(src, depth, fr.source.functions if share else None)
    inner = fr.but(source=source)
    with s.budget.nested():
        container(s, root, inner)
        # Functions defined but never called are still analysed (conservative).
        for name, (body, _, redirections) in list(source.functions.items()):
            if name not in source.called:
                source.called.add(name)
                redirects.apply(s, body, redirections, inner.but(stdin=None).isolated())


def _ends_in_open_heredoc(root: Any, size: int) -> bool:
    """Is the tree's only error a here-document end missing at the end of the line? bash reads
    such a document to the end ("here-document delimited by end-of-file", a warning) and runs
    the command; redirects.Extent still checks that bash finds no end line either."""
    stack, missing = [root], 0
    while stack:
        node = stack.pop()
        if node.type == "ERROR":
            return False
        if node.is_missing:
            if node.type != "heredoc_end" or node.start_byte < size:
                return False
            missing += 1
        elif node.has_error:
            stack.extend(node.children)
    return missing > 0


def _joined(s: Session, src: bytes, root: Any) -> tuple[bytes, Any]:
    """The line as bash reads it, without its line continuations, and its tree. Where joining
    changes what is read literally (a comment, a quoted string, a here-document), the two
    readings disagree: a concern."""
    joined = join_continuations(src, root)
    if joined is None:
        return src, root
    again = _parse(joined)
    if literal_texts(src, root) != literal_texts(joined, again):
        s.concern("parse-error", "a line continuation bash removes changes how the line parses")
    return joined, again


def _parse(src: bytes) -> Any:
    """tree-sitter parses a same-length view of `src` (offsets still index `src`, which the
    lexer reads). Bytes >= 0x80, \\v, \\f and \\r are masked (syntax.VIEW_BYTES): bash treats
    them as plain word characters (never blanks, never part of a name); tree-sitter-bash skips
    the last three as blanks and its scanner can crash on some of the others (`<>{` +
    U+E118C). So are escaped blanks and backquotes (syntax.mask_escapes), a `#` that does not
    start a word (syntax.false_comments) and a line of a here-document that tree-sitter takes
    for its end and bash does not (redirects.Extent). Two spellings it misreads are masked
    when that makes the parse clean: `\\rm` at the start of a line after a command (taken for
    an argument of that command) and `{rm,-rf,/}` starting a command (taken for a brace
    group)."""
    view = src.translate(VIEW_BYTES)
    if b"\\" in view:
        view = mask_escapes(view)
    view, root = _first_parse(view)
    if root.has_error and b"<<" in view and not view.endswith(b"\n"):
        # A here-document read to the end of a line without a final newline (bash warns and
        # runs it) is an error to tree-sitter-bash; a newline at the end changes nothing else.
        grown, retry = _first_parse(view + b"\n")
        if not retry.has_error or _ends_in_open_heredoc(retry, len(grown)):
            view, root = grown, retry
    rounds = 0
    while b"#" in view and (wrong := false_comments(view, root)):
        rounds += 1  # a `#` that is not a comment to bash is a word character
        if rounds > 8:
            raise TooComplex("comments the parser keeps misplacing")
        out = bytearray(view)
        for at in wrong:
            out[at] = 0x5F
        view, root = _first_parse(bytes(out))
    if b"\n\\" in view:
        retry = parser().parse(mask(view, braces=False)).root_node
        if not retry.has_error:
            root = retry
    if root.has_error and b"{" in view:
        retry = parser().parse(mask(view, braces=True)).root_node
        if not retry.has_error:
            root = retry
    if root.has_error and b"`" in view and b"#" in view:
        root = _backquoted_comments(view, root)
    if b"coproc" in view:
        masked = coproc_mask(view, parser().parse)
        retry = parser().parse(masked).root_node if masked is not None else None
        if retry is not None and not retry.has_error:
            root = retry
    return root


def _backquoted_comments(view: bytes, root: Any) -> Any:
    """The tree of `view` with its backquoted comments blanked (syntax.backquoted_comments),
    when that parses cleanly with each of them a substitution from backquote to backquote."""
    masked, pairs = backquoted_comments(view)
    if not pairs:
        return root
    retry = parser().parse(masked).root_node
    if retry.has_error:
        return root
    for start, end in pairs:
        node = retry.descendant_for_byte_range(start, end + 1)
        while node is not None and node.type != "command_substitution":
            node = node.parent
        if node is None or (node.start_byte, node.end_byte) != (start, end + 1):
            return root
    return retry


def _first_parse(view: bytes) -> tuple[bytes, Any]:
    if b"<<" in view:  # here-documents tree-sitter ends at a line bash reads as their text
        return redirects.mask_early_ends(view, parser().parse)
    return view, parser().parse(view).root_node


def bad(s: Session, node: Any, fr: Frame) -> None:
    if node.type == "ERROR" or node.is_missing:
        return  # reported once for the line as parse-error
    s.concern(
        "cannot-analyse",
        f"shell syntax guard does not analyse: {node.type} {fr.text(node)[:60]!r}",
    )


def container(s: Session, node: Any, fr: Frame) -> None:
    children = node.children
    for k, child in enumerate(children):
        background = k + 1 < len(children) and children[k + 1].type == "&"
        child_of(s, child, fr.isolated() if background else fr)


def child_of(s: Session, child: Any, fr: Frame) -> None:
    """One child of a container: a statement, a nested container, a word or an expression."""
    s.budget.tick()
    t = child.type
    if not child.is_named:
        if t not in TOKENS:
            bad(s, child, fr)
    elif t in STATEMENTS:
        stmt(s, child, fr)
    elif t in CONTAINERS:
        with s.budget.nested():
            if t == "case_statement":
                control.case(s, child, fr)
            else:
                container(s, child, fr)
    elif t in WORDS:
        words(s, child, fr)
    elif t in EXPRESSIONS:
        expr(s, child, fr)
    elif t not in SKIP and t != "heredoc_body":
        # (a misplaced heredoc_body belongs to an error already reported)
        bad(s, child, fr)


def stmt(s: Session, node: Any, fr: Frame) -> None:
    s.budget.tick()
    with s.budget.nested():
        t = node.type
        if t == "command":
            command(s, node, fr, extra=[], redirect_concerns=[])
        elif t == "redirected_statement":
            redirects.statement(s, node, fr)
        elif t == "pipeline":
            control.pipeline(s, node, fr)
        elif t == "subshell":
            container(s, node, fr.isolated())
        elif t == "list":
            control.and_or(s, node, fr)
        elif t == "if_statement":
            control.if_(s, node, fr)
        elif t in LOOPS:
            control.loop(s, node, fr)
        elif t == "function_definition":
            function(s, node, fr)
        elif t in ("declaration_command", "unset_command"):
            assign.declaration(s, node, fr)
        elif t == "variable_assignment":
            assign.assignment(s, node, fr, part=None, texts=None)
        elif t == "variable_assignments":
            for child in node.children:
                if child.type == "variable_assignment":
                    assign.assignment(s, child, fr, part=None, texts=None)
                else:
                    bad(s, child, fr)
        elif t == "test_command":
            arithmetic_assigns(node, fr)
            _test_sinks(s, node, fr)
            expr(s, node, fr)
        elif t == "case_statement":
            control.case(s, node, fr)
        elif t == "compound_statement" and node.child_count and node.children[0].type == "((":
            sinks.node(s, node, fr, None, "the arithmetic command")
            arithmetic_assigns(node, fr)
            container(s, node, fr)
        elif t in CONTAINERS:
            container(s, node, fr)
        else:
            bad(s, node, fr)


def stmt_or_container(s: Session, node: Any, fr: Frame) -> None:
    if node.type in STATEMENTS or node.type in CONTAINERS:
        stmt(s, node, fr)
    elif node.type != "comment":
        bad(s, node, fr)


def function(s: Session, node: Any, fr: Frame) -> None:
    name_node = node.child_by_field_name("name")
    body = node.child_by_field_name("body")
    if name_node is None or body is None:
        bad(s, node, fr)
        return
    name = fr.text(name_node)
    # Only a definition at the top of the line surely exists when a later call runs;
    # a call of a conditional definition may reach a program of that name instead.
    unconditional = node.parent is not None and node.parent.type == "program"
    # `f() { cat; } < FILE`: the redirections apply at each call (bash(1) FUNCTIONS).
    found = [
        node.children[k]
        for k in range(node.child_count)
        if node.field_name_for_child(k) == "redirect"
    ]
    fr.source.functions[name] = (body, unconditional, found)
    fr.source.called.discard(name)


# -- expressions and words ----------------------------------------------------------------


def expr(s: Session, node: Any, fr: Frame) -> None:
    """[[ ]], (( )), case patterns: run only the substitutions inside."""
    with s.budget.nested():
        for child in node.children:
            s.budget.tick()
            t = child.type
            if t in SUBSTITUTIONS:
                substitution(s, child, fr)
            elif not child.is_named:
                continue
            elif t in EXPRESSIONS or t == "test_command":
                if child.child_count:
                    expr(s, child, fr)
                elif t != "raw_string":
                    text = fr.text(child)
                    if "`" in text or "$(" in text:
                        s.concern("cannot-analyse", f"a substitution in {text[:60]!r}")
            else:
                bad(s, child, fr)


def _test_sinks(s: Session, node: Any, fr: Frame) -> None:
    """`[[ A -eq B ]]` evaluates A and B as arithmetic; `[[ -v NAME ]]` NAME's subscript."""
    stack = [node]
    while stack:
        cur = stack.pop()
        op = cur.child_by_field_name("operator")
        op_text = fr.text(op) if op is not None else ""
        if cur.type == "binary_expression" and op_text in sinks.ARITHMETIC_TESTS:
            sinks.node(s, cur, fr, None, f"the [[ {op_text} ]] operand")
        elif cur.type == "unary_expression" and op_text == "-v":
            for operand in cur.children:
                if operand.is_named and operand != op:
                    for w in words(s, operand, fr):
                        sinks.name(s, w, fr, None, "[[ -v ]]")
        stack.extend(c for c in cur.children if c.type not in SUBSTITUTIONS)


def arithmetic_assigns(node: Any, fr: Frame, safe: bool = True) -> None:
    """`(( x = 1 ))`, `$(( i++ ))`, `[[ $((x=1)) ]]`: variables an arithmetic context may set
    become unknown (numbers: `safe`; not so `${x:=text}`)."""
    text = node.text
    if b"=" not in text and b"++" not in text and b"--" not in text:
        return
    stack = [node]
    while stack:
        cur = stack.pop()
        if cur.type == "variable_name":
            fr.state.assign(fr.text(cur), None, safe=safe)
        stack.extend(cur.children)


def substitution(s: Session, node: Any, fr: Frame) -> None:
    """$(...), `...`, <(...), >(...): their commands run in a subshell of this shell."""
    fr = fr.isolated()
    if node.type == "process_substitution" and node.text[:1] == b">":
        fr = fr.but(stdin="pipe")
    first = len(s.analysis.parts)
    with s.budget.nested():
        if fr.source.src[node.start_byte] != 0x60 or not _backquoted(s, node, fr):  # `
            _substitution_body(s, node, fr)
    reads = node.type == "command_substitution" or node.text[:1] == b"<"  # $(…), `…`, <(…)
    if reads and len(s.analysis.parts) > first:
        s.analysis.parts[-1].prints_for = fr.text(node)


def _substitution_body(s: Session, node: Any, fr: Frame) -> None:
    for child in node.children:
        s.budget.tick()
        if child.type == "file_redirect" and _reads_file(child):
            # bash(1) Command Substitution: "$(cat file) can be replaced by the
            # equivalent but faster $(< file)": the file is read like `cat FILE`.
            line(s, "cat " + fr.text(child.children[-1]), fr, fr.depth, share=True)
        elif child.is_named:
            stmt_or_container(s, child, fr)
        elif child.type not in TOKENS and child.type not in ("$(", "`", "<(", ">("):
            bad(s, child, fr)


def _backquoted(s: Session, node: Any, fr: Frame) -> bool:
    """`...`, read as bash reads it (bash(1) Command Substitution): the body ends at the first
    unescaped backquote, whatever quotes or comments come before it, and is parsed only after
    `\\$`, `\\``, `\\\\` (and, inside double quotes, `\\"`) lose their backslash.
    tree-sitter-bash nests unescaped backquotes, reads an escaped one as a literal (bash
    runs `a \\`rm x\\``'s inner command) and lets a `#` comment run past the closing
    backquote. A body with a backslash or `#` is analysed from bash's text; an end that
    differs is a concern. False: tree-sitter's body is bash's (walk its nodes)."""
    src = fr.source.src
    end = backquote_end(src, node.start_byte + 1)
    if end + 1 != node.end_byte:
        if not node.has_error:  # (an unterminated one is the line's parse-error)
            s.concern("cannot-analyse", "a backquoted substitution bash ends elsewhere")
        return False
    body = src[node.start_byte + 1 : end]
    if b"\\" not in body and b"#" not in body:
        return False
    quoted = _in_double_quotes(node)
    line(s, decode(unescape_backquoted(body, quoted)), fr, fr.depth, share=True)
    return True


def backquote_end(src: bytes, i: int) -> int:
    """The index of the backquote that closes one opened before src[i] (len(src) if none)."""
    n = len(src)
    while i < n and src[i] != 0x60:
        i += 2 if src[i] == 0x5C else 1
    return min(i, n)


def unescape_backquoted(body: bytes, quoted: bool) -> bytes:
    keep = b'$`\\"' if quoted else b"$`\\"
    out = bytearray()
    i, n = 0, len(body)
    while i < n:
        if body[i] == 0x5C and i + 1 < n and body[i + 1] in keep:
            i += 1
        out.append(body[i])
        i += 1
    return bytes(out)


def _in_double_quotes(node: Any, heredoc: bool = False) -> bool:
    """Is this node inside a double-quoted string (not in a nested substitution)? `heredoc`: or
    in an unquoted here-document body, which bash expands as it would in double quotes."""
    kinds = ("string", "translated_string", "heredoc_body") if heredoc else ("string",)
    cur = node.parent
    while cur is not None and cur.type not in SUBSTITUTIONS and cur.type not in STATEMENTS:
        if cur.type in kinds or cur.type == "translated_string":
            return True
        cur = cur.parent
    return False


def _reads_file(redirect: Any) -> bool:
    """`< WORD` alone (no descriptor number, one word): the `$(< file)` form."""
    kids = redirect.children
    return len(kids) == 2 and kids[0].type == "<" and kids[1].type in WORDS


def words(
    s: Session,
    node: Any,
    fr: Frame,
    *,
    braces_: bool = True,
    home: bool = False,
    tilde: bool = False,
) -> list[Word]:
    """Resolve one word node to the words bash makes of it, running its substitutions.
    Variables the line state knows are substituted (`home`: $HOME too, if the line did not
    set it); `tilde`: an assignment value's `~` is expanded."""
    with s.budget.nested():
        ranges = _expansions(s, node, fr)
        text = fr.source.src[node.start_byte : node.end_byte].decode("latin-1")
        state = fr.state
        known: dict[str, str] = {}
        renames: dict[str, str] = {}
        if "$" in text:
            known = {k: to_latin1(v) for k, v in state.known().items()}
            if home and "HOME" not in state.vars:
                known["HOME"] = to_latin1(s.home)
            if state.positional is not None:
                known.update((k, to_latin1(v)) for k, v in binding.known(state).items())
            if state.namerefs or state.defaults or "${!" in text:
                renames = binding.renames(state, known, text)
        lexer = Lexer(text, ranges, known, "IFS" not in state.vars, renames)
        try:
            toks: list[Tok] | None = lexer.run()
        except Unanalysable as e:
            s.concern("cannot-analyse", f"{e}: {latin1_to_str(text)[:60]!r}")
            return [Word(latin1_to_str(text), False, node.start_byte, node.end_byte, True)]
        if tilde and toks:
            toks = expand_tilde(toks, s.home)
        if toks is None or any(k >= 2 for k, _ in toks):
            split = toks is None or any(k == 2 or (k == 3 and "@" in t) for k, t in toks)
            for start, end, meant in reversed(lexer.renamed):  # what is known of it
                text = text[:start] + meant + text[end:]
            return [Word(latin1_to_str(text), False, node.start_byte, node.end_byte, split)]
        expanded = braces(toks, s.spec["max_words"]) if braces_ else [toks]
        out = []
        for toks_ in expanded:
            if not toks_:
                continue  # an unquoted word that expanded to nothing is removed
            value = latin1_to_str("".join(t for _, t in toks_))
            w = Word(value, True, node.start_byte, node.end_byte)
            w.glob = has_glob(toks_)
            out.append(w)
        return out


def _expansions(s: Session, node: Any, fr: Frame) -> list[tuple[int, int]]:
    """Run the substitutions in a word; return the sorted byte ranges (relative to the word)
    of its expansions and substitutions, which the lexer must find exactly there."""
    ranges: list[tuple[int, int]] = []
    base = node.start_byte
    stack = [node]
    while stack:
        cur = stack.pop()
        s.budget.tick()
        t = cur.type
        if t in SUBSTITUTIONS:
            ranges.append((cur.start_byte - base, cur.end_byte - base))
            substitution(s, cur, fr)
            continue
        if t in EXPANSIONS:
            ranges.append((cur.start_byte - base, cur.end_byte - base))
            if t == "arithmetic_expansion":
                sinks.node(s, cur, fr, None, "the arithmetic expansion")
            elif t == "expansion":
                sinks.expansion(s, cur, fr)
            kept = binding.kept(fr.state, fr.text(cur)) if t == "expansion" else None
            if t != "simple_expansion":
                arithmetic_assigns(cur, fr, safe=t == "arithmetic_expansion")  # ${x:=v} too
            if t == "expansion":
                binding.default_assigned(fr.state, fr.text(cur), kept)
                _literal_single_quotes(s, cur, fr)
                _operand_code(s, cur, fr)
            expansion_inside(s, cur, fr)
            continue
        if cur.is_named and t not in WORDS and t != "string_content":
            bad(s, cur, fr)
        stack.extend(reversed(cur.children))
    ranges.sort()
    return ranges


_DEFAULTING = frozenset({"-", ":-", "=", ":=", "+", ":+", "?", ":?"})


def _literal_single_quotes(s: Session, node: Any, fr: Frame) -> None:
    """`"${x:-'$(cmd)'}"`: inside double quotes (or a here-document), bash keeps the single
    quotes of the word of ${x-…}, ${x=…}, ${x+…} and ${x?…} (with or without `:`) as
    characters, so what they enclose is expanded and run; tree-sitter-bash reads a quoted
    string there."""
    ops = [c.type for c in node.children if not c.is_named]
    if not _DEFAULTING.intersection(ops) or not _in_double_quotes(node, heredoc=True):
        return
    stack = list(node.children)
    while stack:
        cur = stack.pop()
        if cur.type in ("raw_string", "ansi_c_string"):  # ($'…' is no quote there either)
            body = fr.text(cur).removeprefix("$")[1:-1]
            if '"' in body:
                s.concern("cannot-analyse", f"a double quote in {fr.text(node)[:60]!r}")
            elif any(c in body for c in "$`\\"):
                line(s, 'v="' + body + '"', fr.isolated(), fr.depth, share=True)
        elif cur.type not in SUBSTITUTIONS:
            stack.extend(cur.children)


def _operand_code(s: Session, node: Any, fr: Frame) -> None:
    """Text of an expansion's operand that tree-sitter-bash leaves as a plain word or pattern
    (`${x-`cmd`}`, `${x#$(cmd)}`): bash expands operands, command substitution included, so a
    leaf with a backquote or `$(` is analysed as the value of an assignment (quotes as
    written: `${x#'$(c)'}` runs nothing)."""
    stack = list(node.children)
    while stack:
        cur = stack.pop()
        if cur.type in SUBSTITUTIONS or cur.type in ("raw_string", "ansi_c_string"):
            continue  # (their own analysis; single quotes: _literal_single_quotes)
        if cur.child_count:
            stack.extend(cur.children)
            continue
        text = fr.text(cur)
        if "`" in text or "$(" in text:
            line(s, "v=" + text, fr.isolated(), fr.depth, share=True)


def expansion_inside(s: Session, node: Any, fr: Frame) -> None:
    """${x:-$(cmd)}, $(( $(cmd) )): substitutions nested in an expansion run too."""
    limit = s.budget.nesting_left()
    stack = [(c, 1) for c in node.children]
    while stack:
        cur, depth = stack.pop()
        s.budget.tick()
        if depth > limit:
            raise TooComplex(f"nested deeper than {s.budget.max_nesting} levels")
        if cur.type in SUBSTITUTIONS:
            substitution(s, cur, fr)
        else:
            stack.extend((c, depth + 1) for c in cur.children)


# -- simple commands ------------------------------------------------------------------------


class _Pieces:
    """The children of one `command` node, sorted by what they are."""

    __slots__ = ("assigns", "words")

    def __init__(self) -> None:
        self.assigns: list[Any] = []
        self.words: list[Any] = []


def command(
    s: Session,
    node: Any,
    fr: Frame,
    *,
    extra: list[Any],
    redirect_concerns: list[tuple[str, str]],
    redirect_records: list[Redirect] | None = None,
) -> None:
    redirect_records = redirect_records or []
    info = redirects.Redirects(fr.stdin)
    children = split_at_newline(s, node, node.children, fr)
    pieces = _sort_children(s, node, children, fr, info)
    word_nodes = [*pieces.words, *extra, *info.extra]
    word_nodes.sort(key=lambda n: n.start_byte)
    word_nodes = join_continued(word_nodes, fr)
    concerns = list(redirect_concerns) + info.concerns
    fr = fr.but(stdin=info.stdin)
    texts: list[str] = []
    env = [assign.assignment(s, a, fr, part=commands.NO_PART, texts=texts) for a in pieces.assigns]
    ws: list[Word] = []
    for wn in word_nodes:
        ws.extend(words(s, wn, fr))
    for follow, follow_stdin in info.follow:
        stmt_or_container(s, follow, fr.but(stdin=follow_stdin))
    if not ws:
        for c in concerns:
            s.concern(c[0], c[1])
        for name, value in env:
            commands.code_variable(s, name, value, fr, part=None, prog="the shell")
            fr.state.assign(name.split("[", 1)[0], value if "[" not in name else None)
        return
    end = max(children[-1].end_byte, *(w.end for w in ws))
    text = fr.source.span(node.start_byte, end)
    commands.run(
        s,
        ws,
        fr,
        assignments=texts,
        env=env,
        concerns=concerns,
        text=text,
        top=True,
        redirects=[*redirect_records, *info.records],
    )


def _sort_children(
    s: Session, node: Any, children: list[Any], fr: Frame, info: redirects.Redirects
) -> _Pieces:
    pieces = _Pieces()
    merged = -1
    for idx, child in enumerate(children):
        t = child.type
        field = node.field_name_for_child(idx)
        if idx == merged:
            continue
        if t == "$" and idx + 1 < len(children) and children[idx + 1].type in WORDS:
            nxt = children[idx + 1]
            if nxt.start_byte == child.end_byte:
                # $"..." (locale translation): tree-sitter splits it, sometimes with the
                # text before the `$` in the `$` token: one word to bash.
                pieces.words.append(Span(child.start_byte, nxt.end_byte, [nxt]))
                merged = idx + 1
                continue
        if t == "variable_assignment" and field != "argument":
            pieces.assigns.append(child)
        elif t in ("file_redirect", "heredoc_redirect", "herestring_redirect"):
            redirects.redirect(s, child, fr, info)
        elif field == "name":
            named = [c for c in child.children if c.is_named]
            if len(named) != 1 or named[0].type not in WORDS:
                bad(s, child, fr)
                continue
            pieces.words.append(named[0])
        elif field == "argument" and t in WORDS:
            pieces.words.append(child)
        elif t != "comment":
            bad(s, child, fr)
    return pieces


def split_at_newline(s: Session, node: Any, children: list[Any], fr: Frame) -> list[Any]:
    """A newline ends a simple command, but tree-sitter sometimes reads on into the next
    line. Flag that, analyse the rest as the separate command(s) bash sees, and return the
    children before the newline."""
    src = fr.source.src
    for j in range(1, len(children)):
        gap = src[children[j - 1].end_byte : children[j].start_byte]
        if b"\n" in gap.replace(b"\\\n", b""):
            s.concern("cannot-analyse", "a newline inside one command: parsers disagree")
            rest = decode(src[children[j].start_byte : node.end_byte])
            line(s, rest, fr, fr.depth, share=True)
            return list(children[:j])
    return list(children)


def join_continued(nodes: list[Any], fr: Frame) -> list[Any]:
    """`x\\<newline>y` is one word `xy` to bash; tree-sitter makes two of it."""
    out: list[Any] = []
    for node in nodes:
        word = node
        if out:
            gap = fr.source.src[out[-1].end_byte : node.start_byte]
            if not gap.replace(b"\\\n", b""):
                prev = out.pop()
                kids = list(prev.children) if isinstance(prev, Span) else [prev]
                word = Span(prev.start_byte, node.end_byte, [*kids, node])
        out.append(word)
    return out
