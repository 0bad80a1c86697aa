"""chmod(1) modes that open a secret to other users.

A mode that grants read permission to the group or to others (`644`, `o+r`, `a+r`, `+r`,
`g=rw`) on a secret path (a private key, a credential file, a directory holding them with
`-R`) exposes the secret to every account on the machine: it is a secret exposure, judged like
a read of it. Narrowing modes (`600`, `go-r`) and public files (`id_rsa.pub`) are ordinary.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..grammar.scan import Word
    from .resolve import _Command


def grants_read(mode: str) -> bool:
    """Does a chmod mode (octal or symbolic, chmod(1)) give read permission to group or other?
    A clause without `ugoa` applies to all (chmod(1): "as if a were given", less the umask,
    which ordinarily leaves read alone)."""
    if mode.isdigit():
        return len(mode) >= 3 and (int(mode[-1]) & 4 == 4 or int(mode[-2]) & 4 == 4)
    for clause in mode.split(","):
        rest = clause.lstrip("ugoa")
        who = clause[: len(clause) - len(rest)] or "a"
        op = ""
        for ch in rest:
            if ch in "+-=":
                op = ch
            elif ch == "r" and op in ("+", "=") and any(x in who for x in "goa"):
                return True
    return False


def exposed(c: _Command, mode: Word) -> None:
    """`chmod MODE FILE...` granting read to others on a secret path: a secret exposure."""
    if not grants_read(mode.value) or c.inv is None:
        return
    for other in c.inv.words:
        if other.role != "meta":
            continue
        hit = c.hit("secret", other.value)
        if not hit and c.recursive():
            where, cwd = c.locate(other.value)
            hit = c.ctx.classes.holds_secrets(where, cwd)
        if hit:
            what = f"makes {other.value} readable by other users ({hit})"
            c.add("read", what, "secret", (other.value,))
            return


def sets_id(mode: str) -> bool:
    """Does a chmod mode set the setuid or setgid bit (`4755`, `u+s`, `g=s`)?"""
    if mode.isdigit():
        return len(mode) >= 4 and int(mode[-4]) & 6 != 0
    for clause in mode.split(","):
        op = ""
        for ch in clause.lstrip("ugoa"):
            if ch in "+-=":
                op = ch
            elif ch == "s" and op in ("+", "="):
                return True
    return False


def world_writable(mode: str) -> bool:
    """Does a chmod mode (octal or symbolic, chmod(1)) give write permission to others?"""
    if mode.isdigit():
        return len(mode) >= 3 and int(mode[-1]) & 2 == 2
    for clause in mode.split(","):
        who = clause[: len(clause) - len(clause.lstrip("ugoa"))]
        rest = clause[len(who) :]
        op = ""
        for ch in rest:
            if ch in "+-=":
                op = ch
            elif ch == "w" and op in "+=" and op and ("o" in who or "a" in who):
                return True
    return False
