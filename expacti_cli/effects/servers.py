"""Servers that send a directory's files to whoever connects (`python3 -m http.server`, `php -S`):
what is below the directory they serve, a link made earlier in the line included, goes to
every client that can reach the address they bind."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from .roles import Command


def served(c: Command) -> None:
    """A server that sends a directory's files to whoever connects (an `upload` option beside a
    `bind` one: `python3 -m http.server -d DIR`, `php -S ADDR -t DIR`; the working directory
    when it names none, http.server's documented default): a secret below it, on disk or
    linked there earlier in the line (`ln -s ~/.aws/credentials static/c`), goes to every
    client. A loopback bind keeps it on this machine."""
    view, inv = c.view, c.inv
    if view is None or inv is None or c.cwd is None:
        return
    roles = view["options"].values()
    if "upload" not in roles or "bind" not in roles or c.loopback_only():
        return
    named = [w.value for w in inv.words if w.role == "upload"]
    where = c.path(named[-1]) if named else c.cwd
    if not where:
        return
    top = where.rstrip("/") + "/"
    for link, target in c.ctx.line.links.items():
        if link.startswith(top) and c.ctx.classes.hit("secret", target, None):
            what = f"serves {link}, a link to {target}, to whoever connects"
            c.add("send", what, "secret-exfiltration", ())
            return
    hit = c.ctx.classes.holds_secrets(where, None)
    if hit:
        c.add("send", f"serves {where} ({hit}) to whoever connects", "secret-exfiltration", ())
