"""chmod(1) modes and chown(1)/chgrp(1) owners that open a secret to other users.

A mode that grants read permission to the group or to others (`644`, `o+r`, `a+r`, `+r`,
`g=rw`) on a secret path (a private key, a credential file, a directory holding them with
`-R`) exposes the secret to every account on the machine: it is a secret exposure, judged like
a read of it. Narrowing modes (`600`, `go-r`) and public files (`id_rsa.pub`) are ordinary.
Giving a secret path to another owner or group (`chown nobody ~/.ssh/id_rsa`, `chgrp -R users
~/.aws`) hands its owner's or group's read permission to those accounts: the same exposure.
The user's own name, uid and groups (and `$USER`, `$(id -u)`, which expand to them), and the
superuser, who reads every file already, are ordinary owners.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..grammar.scan import Word
    from .roles import Command as _Command


def grants_read(mode: str) -> bool:
    """Does a chmod mode (octal or symbolic, chmod(1)) give read permission to group or other?
    A clause without `ugoa` applies to all (chmod(1): "as if a were given", less the umask,
    which ordinarily leaves read alone)."""
    if mode.isdigit():
        return len(mode) >= 3 and (int(mode[-1]) & 4 == 4 or int(mode[-2]) & 4 == 4)
    if _added_octal(mode, 0o044):
        return True
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
        hit = _secret_at(c, other.value)
        if hit:
            what = f"makes {other.value} readable by other users ({hit})"
            c.add("read", what, "secret", (other.value,))
            return


def given_away(c: _Command, w: Word) -> None:
    """`chown OWNER[:GROUP] FILE` / `chgrp GROUP FILE` (role `owner`: FILE) of a secret path
    to an account other than the user's: a secret exposure."""
    words = c.inv.words if c.inv else []
    spec = next((x.value for x in words if x.role == "value" and x.option is None), None)
    if spec is None:
        return
    spec = spec.strip("\"'")
    if os.path.basename(c.argv[0]) == "chgrp":
        owner, group = "", spec
    else:
        owner, _, group = spec.partition(":")
    others = [a for a in (owner, group) if a and not _mine(a)]
    if not others:
        return
    hit = _secret_at(c, w.value)
    if hit:
        what = f"gives {w.value} to {' and '.join(others)}, who may then read it ({hit})"
        c.add("read", what, "secret", (w.value,))


def _secret_at(c: _Command, word: str) -> str | None:
    """The secret class `word` names, or with -R one a directory it names holds."""
    hit = c.hit("secret", word)
    if not hit and c.recursive():
        where, cwd = c.locate(word)
        hit = c.ctx.classes.holds_secrets(where, cwd)
    return hit


_SELF = ("$USER", "${USER}", "$LOGNAME", "${LOGNAME}", "$(id -u)", "$(id -g)", "$(whoami)")


def _mine(account: str) -> bool:
    """Is an owner or group name (or number) this user's own, or the superuser's?"""
    if account in _SELF or account in ("root", "0"):
        return True
    import grp
    import pwd

    uid = os.getuid()
    try:
        me = pwd.getpwuid(uid).pw_name
    except KeyError:
        me = os.environ.get("USER", "")
    if account in (me, str(uid)):
        return True
    gids = {os.getgid(), *os.getgroups()}
    names = set()
    for gid in gids:
        try:
            names.add(grp.getgrgid(gid).gr_name)
        except KeyError:
            pass
    return account in names or account in {str(g) for g in gids}


def sets_id(mode: str) -> bool:
    """Does a chmod mode set the setuid or setgid bit (`4755`, `u+s`, `g=s`)?"""
    if mode.isdigit():
        return len(mode) >= 4 and int(mode[-4]) & 6 != 0
    if _added_octal(mode, 0o6000):
        return True
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
    if _added_octal(mode, 0o002):
        return True
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


def _added_octal(mode: str, bits: int) -> bool:
    """Does an operator numeric clause (`+4000`, `=4755`; GNU chmod "Operator Numeric Modes":
    an octal number after `+`, `-` or `=`, combinable with symbolic clauses) add any of `bits`?"""
    for clause in mode.split(","):
        op, digits = clause[:1], clause[1:]
        octal = digits and len(digits) <= 4 and set(digits) <= set("01234567")
        if op in ("+", "=") and octal and int(digits, 8) & bits:
            return True
    return False
