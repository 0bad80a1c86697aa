"""Control flow and the line state: which code shares the state, which gets a copy.

A pipeline element runs in a subshell (its copy is thrown away); the right side of `&&`/`||`,
a branch of `if`/`case` and a loop body may or may not run (their copies are merged back as
unknown, see state.State.merge); a loop body may run several times, so what it may change is
unknown inside it too (`forget_changes`).
"""

from __future__ import annotations

from . import sinks, walk
from .state import CHANGES_STATE, MAY_CHANGE_ANYTHING, hides_code
from .syntax import TOKENS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from .frame import Frame
    from .session import Session

    # `last`: how to walk the last element of a list or pipeline (redirects.apply gives it
    # the redirections tree-sitter hung on the whole).
    Walker = Callable[[Any, Frame], None]


def pipeline(s: Session, node: Any, fr: Frame, last: Walker | None = None) -> None:
    """Each element runs in a subshell of its own (what it changes in the state is lost)."""
    named = [c for c in node.children if c.is_named]
    for child in node.children:
        if child.is_named:
            element = fr.isolated() if child == named[0] else fr.but(stdin="pipe").isolated()
            if last is not None and child == named[-1]:
                last(child, element)
            else:
                walk.stmt_or_container(s, child, element)
        elif child.type not in ("|", "|&"):
            walk.bad(s, child, fr)


def and_or(s: Session, node: Any, fr: Frame, last: Walker | None = None) -> None:
    """`a && b || c`: `a` always runs; `b` maybe, after `a`; `c` maybe, after `a` or `b`.
    A chain of `&&` continues one branch (each runs only if the one before did); `||` starts
    a new one from what may hold then. What a branch changes is merged as unknown after it."""
    chain = _flatten(s, node, fr)
    maybe: Frame | None = None  # the branch the last element ran on
    for k, (op, child) in enumerate(chain):
        if maybe is not None and op != "&&":
            fr.state.merge(maybe.state)
            maybe = None
        if op in ("&&", "||") and maybe is None:
            maybe = fr.isolated()
        target = maybe if maybe is not None else fr
        if last is not None and k == len(chain) - 1:
            last(child, target)
        else:
            walk.stmt_or_container(s, child, target)
    if maybe is not None:
        fr.state.merge(maybe.state)


def _flatten(s: Session, node: Any, fr: Frame) -> list[tuple[str, Any]]:
    """The elements of a list with the operator before each ("" for the first): tree-sitter
    nests `a && b || c` as ((a && b) || c)."""
    lists = [node]  # the left spine, outermost first
    while True:
        first = next((c for c in lists[-1].children if c.is_named), None)
        if first is None or first.type != "list":
            break
        lists.append(first)
    out: list[tuple[str, Any]] = []
    for k, current in enumerate(reversed(lists)):
        op = ""
        for child in current.children:
            s.budget.tick()
            if not child.is_named:
                if child.type not in TOKENS:
                    walk.bad(s, child, fr)
                op = child.type
            elif not (k and child == lists[len(lists) - k]):  # not the nested list itself
                out.append((op, child))
    return out


def branch(s: Session, node: Any, fr: Frame, walker: Any) -> None:
    """Walk code that may or may not run: its changes to the state are merged as unknown."""
    inner = fr.isolated()
    walker(s, node, inner)
    fr.state.merge(inner.state)


def if_(s: Session, node: Any, fr: Frame) -> None:
    """The condition always runs; the then-body, each elif and the else maybe."""
    current: Frame | None = None
    branches: list[Frame] = []
    for idx, child in enumerate(node.children):
        s.budget.tick()
        field = node.field_name_for_child(idx)
        if not child.is_named:
            if child.type not in TOKENS:
                walk.bad(s, child, fr)
            elif child.type == "then":
                current = fr.isolated()
                branches.append(current)
            continue
        if field == "condition" or child.type == "comment":
            walk.stmt_or_container(s, child, fr)
        elif child.type in ("elif_clause", "else_clause"):
            clause = fr.isolated()
            branches.append(clause)
            with s.budget.nested():
                walk.container(s, child, clause)
        else:
            walk.stmt_or_container(s, child, current if current is not None else fr)
    for b in branches:
        fr.state.merge(b.state)


def case(s: Session, node: Any, fr: Frame) -> None:
    """Each case item maybe runs (with `;&` or `;;&`, several of them, one after another)."""
    items = [c for c in node.children if c.type == "case_item"]
    if any(t.type in (";&", ";;&") for item in items for t in item.children):
        forget_changes(node, fr)
    for child in node.children:
        if child.type == "case_item":
            branch(s, child, fr, walk.container)
        else:
            walk.child_of(s, child, fr)


def loop(s: Session, node: Any, fr: Frame) -> None:
    """A loop body runs zero or more times: what it may change is unknown inside it (from
    the second time round) and after it."""
    if node.type == "c_style_for_statement":
        sinks.node(s, node, fr, None, "the arithmetic loop")
    forget_changes(node, fr)
    if node.type == "for_statement":
        _loop_variable(node, fr)
    branch(s, node, fr, walk.container)


def _loop_variable(node: Any, fr: Frame) -> None:
    """`for x in WORDS`: x holds one of the words (safe when each is static plain text)."""
    var = node.child_by_field_name("variable")
    if var is None:
        return
    values = [c for k, c in enumerate(node.children) if node.field_name_for_child(k) == "value"]
    if not values and not any(c.type == "in" for c in node.children):
        _positional_loop(fr.text(var), fr)
        return
    plain = all(c.type in ("word", "number") and b"$" not in c.text for c in values)
    safe = bool(values) and plain and not any(hides_code(fr.text(c)) for c in values)
    fr.state.assign(fr.text(var), None, safe=safe)
    if values and all(fr.text(c).lstrip('"')[:1] not in "-*?[{$`\\'" for c in values):
        fr.state.operands.add(fr.text(var))  # each word starts with a literal, not `-`
    if safe and len(values) <= 16:
        words = [fr.text(c) for c in values]
        if not any(c in w for w in words for c in "\"'\\`{"):
            fr.state.loops[fr.text(var)] = words  # `for k in a b; do cat "$k"`: a, then b
    elif len(values) == 1 and values[0].type == "command_substitution":
        # `for f in $(find ~/.ssh -type f)`: f is each name it prints (effects.feed.substituted)
        fr.state.loops[fr.text(var)] = [fr.text(values[0])]


def _positional_loop(name: str, fr: Frame) -> None:
    """`for x; do`: x takes each positional parameter (bash(1) for: "as if in "$@""), known
    when they are (`bash -c CODE ARG0 ARGS`, a function's arguments)."""
    args = fr.state.positional[1:] if fr.state.positional is not None else None
    known = args is not None and len(args) <= 16 and all(w.static for w in args)
    safe = known and not any(hides_code(w.value) for w in args or ())
    fr.state.assign(name, None, safe=safe)
    if known and args:
        fr.state.loops[name] = [w.value for w in args]


def forget_changes(node: Any, fr: Frame) -> None:
    """Before code that may run several times or in any order: forget every variable it may
    set, and everything when it runs a builtin or function that changes the state."""
    state = fr.state
    stack = [node]
    while stack:
        cur = stack.pop()
        t = cur.type
        if t == "variable_name":
            parent = cur.parent
            kind = parent.type if parent is not None else ""
            use = kind in ("simple_expansion", "expansion")
            if not use or b"=" in parent.text:
                # set by arithmetic (a number) unless assigned text or looped over
                safe = kind not in ("variable_assignment", "for_statement", "expansion")
                state.assign(fr.text(cur), None, safe=safe)
        elif t == "command_name":
            name = fr.text(cur)
            if name in MAY_CHANGE_ANYTHING or name in fr.source.functions or name in state.aliases:
                state.forget()
                return
            if name in CHANGES_STATE:
                state.forget_vars()
        stack.extend(cur.children)


def forget_locals(body: Any, fr: Frame) -> None:
    """After a function call: its `local`/`declare`/`typeset` variables are gone, so what the
    line knew of those names before the call is not known any more."""
    stack = [body]
    while stack:
        cur = stack.pop()
        scoped = cur.child_count and cur.children[0].type in ("local", "declare", "typeset")
        if cur.type == "declaration_command" and scoped:
            for child in cur.children[1:]:
                name_node = child.child_by_field_name("name")
                if child.type == "variable_name":
                    fr.state.assign(fr.text(child), None)
                elif name_node is not None:
                    fr.state.assign(fr.text(name_node).split("[", 1)[0], None)
        stack.extend(cur.children)
