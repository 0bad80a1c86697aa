"""Roles of transfer clients' own words, each from its program's documentation: where a
backup program stores what it reads (restic, borg), socat's addresses, and HTTPie's request
items. Each handler takes the command being resolved (`effects.roles.Command`) and the `Word`,
and hands the paths, hosts and command lines it finds back to the command's ordinary roles.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..grammar.scan import Word
    from .roles import Command as _Command


def _as(role: str, value: str, like: Word) -> Word:
    from ..grammar.scan import Word

    return Word(role, value, like.index, like.option)


def backup_repo(c: _Command, w: Word) -> None:
    """Where a backup program stores what it reads (`restic -r REPO backup PATH`, `borg create
    REPO::NAME PATH`, RESTIC_REPOSITORY, BORG_REPO): a repository on another host (`sftp:`,
    `rest:https://`, `s3:`, `user@host:path`, `ssh://`) receives every path the call backs up,
    the files its --files-from lists name, another repository copied in (`copy --from-repo`),
    and what stdin brings (`--stdin`, `--paths-from-stdin`). A local repository, or a call that
    stores nothing (`snapshots`, `restore`, `list`), sends nothing."""
    from .sends import _is_remote
    from .words import unquote

    inv = c.inv
    if inv is None:
        return
    value = unquote(w.value)
    if w.option is None and "::" not in value:
        # borg create's operands: the one with `::` is REPO::ARCHIVE, the others are paths
        # (an unknown option's value among them too); borg 2 names the repository with -r.
        c.read(_as("read", w.value, w))
        return
    repo = value.split("::", 1)[0]
    if w.option in _REPO_FILES:  # the repository is named in a file the line does not show
        repo = f"the repository named in {value}"
    elif not repo or not _is_remote(repo):
        return
    for x in inv.words:
        stored = x.role == "read" and (x.option is None or x.option in _BACKED_UP)
        if stored or (x.role == "backup-repo" and x.option is None and "::" not in x.value):
            c.pending_upload(x.value)
    if inv.has(*_FROM_STDIN):
        c.add("send", f"sends what it is given on stdin to {repo}", "exfiltration", ())


# restic --repository-file FILE, RESTIC_REPOSITORY_FILE: "file to read the repository location
# from" (restic docs): a location the line does not show may be on any host.
_REPO_FILES = ("--repository-file", "RESTIC_REPOSITORY_FILE")

# Options naming what a backup stores besides its operands: the files listed in a file (restic
# backup --files-from), another repository's snapshots (restic copy --from-repo); and the ones
# under which it stores what stdin brings (restic --stdin, borg --paths-from-stdin).
_BACKED_UP = (
    "--files-from",
    "--files-from-verbatim",
    "--files-from-raw",
    "--from-repo",
    "--from-repository-file",
)
_FROM_STDIN = (
    "--stdin",
    "--stdin-from-command",
    "--content-from-command",
    "--paths-from-stdin",
    "--paths-from-command",
)


# socat(1) ADDRESS TYPES: the ones that name a network peer, a listener, a program, a file.
_SOCAT_NET = frozenset(
    [
        "tcp",
        "tcp4",
        "tcp6",
        "udp",
        "udp4",
        "udp6",
        "sctp",
        "sctp4",
        "sctp6",
        "ssl",
        "openssl",
        "socks",
        "socks4",
        "socks4a",
        "socks5",
        "proxy",
        "dccp",
        "udp-sendto",
        "udp-datagram",
        "tcp-connect",
        "udp-connect",
        "openssl-connect",
        "proxy-connect",
        "socks4-connect",
        "socks5-connect",
        "dtls",
        "openssl-dtls-client",
        "ws",
        "wss",
        "ws-c",
        "ws-connect",
    ]
)
_SOCAT_LISTEN = frozenset(
    [
        "tcp-listen",
        "tcp4-listen",
        "tcp6-listen",
        "udp-listen",
        "udp4-listen",
        "udp6-listen",
        "ssl-listen",
        "openssl-listen",
        "sctp-listen",
        "udp-recv",
        "udp-recvfrom",
        "dccp-listen",
        "openssl-dtls-server",
        "dtls-listen",
        "tcp-l",
        "tcp4-l",
        "tcp6-l",
        "openssl-l",
        "udp-l",
        "ws-l",
        "ws-listen",
        "l-ws",
        "wss-l",
        "wss-listen",
    ]
)
# websocat(1) names the same kinds ws-l:, exec:, sh-c:, cmd: (and ws:// URLs).
_SOCAT_RUN = frozenset(("exec", "system", "shell", "sh-c", "cmd"))
_SOCAT_FILE = frozenset(("open", "file", "gopen", "create", "pipe", "unix-connect", "unix-client"))


def _socat_parts(value: str) -> tuple[str, str, dict[str, str]]:
    """socat ADDRESS `TYPE:PARAMS,OPTION=VALUE,...` as (type, params, options); a bare path
    is GOPEN, `-` and STDIO the standard streams."""
    kind, colon, rest = value.partition(":")
    if not colon:
        low = value.lower()
        return (low if low in ("-", "stdio", "stdin", "stdout") else "gopen", value, {})
    kind = kind.lower()
    rest = rest[2:] if rest.startswith("//") else rest  # websocat's ws://HOST:PORT/PATH
    params, *opts = rest.split(",")  # socat(1): "," ends a parameter unless escaped
    return kind, params, {k.lower(): v for k, _, v in (o.partition("=") for o in opts)}


def socat_address(c: _Command, w: Word) -> None:
    """One of socat's two addresses (socat(1) ADDRESS TYPES): EXEC/SYSTEM run a command line
    (its input from the other address: a listener or a peer is a remote shell), OPEN/FILE/
    GOPEN/CREATE name a file sent to a network peer and written with what comes back, TCP/
    SSL/SOCKS name the host, a *-LISTEN address on every interface exposes whatever the other
    address is (a local service, a file, a shell) to whoever connects."""
    from .model import LOOPBACK
    from .sends import _bound
    from .words import unquote

    inv = c.inv
    if inv is None:
        return
    both = [x for x in inv.words if x.role == "socat-address"]
    first = bool(both) and both[0] is w
    other = [_socat_parts(unquote(x.value)) for x in both if x is not w]
    peer = other[0] if other else ("-", "", {})
    kind, params, opts = _socat_parts(unquote(w.value))
    net = peer[0] in _SOCAT_NET or peer[0] in _SOCAT_LISTEN
    if kind in _SOCAT_RUN:
        c.command(_as("command", params, w))
        if net:
            what = f"runs {params} with its input from the network ({peer[0].upper()})"
            c.add("run", what, "network-code", ())
    elif kind in _SOCAT_LISTEN:
        # bind= is the address it listens on; range= which clients it accepts.
        host = _bound(opts.get("bind", "")) if opts.get("bind") else "*"
        if host == "*" and opts.get("range", "").startswith(("127.", "[::1]", "::1")):
            host = "127.0.0.1"
        if host == "*" or not host.lower().startswith(LOOPBACK):
            what = f"listens on every interface ({w.value}) and connects it to {peer[0] or '-'}"
            c.add("send", what, "exfiltration", (w.value,))
    elif kind in _SOCAT_NET:
        c.contact(_as("host", params.split(":", 1)[0], w))  # SOCKS4:server:…: the server first
    elif kind in _SOCAT_FILE and params:
        one_way = inv.has("-u") or inv.has("-U")
        sending = not one_way or (inv.has("-u") == first)
        if kind != "create" and sending:
            c.read(_as("read", params, w))
            if net:
                c.pending_upload(params)
        if kind == "create" or not one_way or not sending:
            c.write(_as("write", params, w))


_ITEM_SEPARATORS = (":=@", "=@", "==", ":=", "@", "=", ":")


def request_item(c: _Command, w: Word) -> None:
    """An HTTPie / xh request item (httpie.io docs, Request items): `field=@FILE` and
    `field:=@FILE` embed FILE's content, `field@FILE` uploads it (forms), `header:value`,
    `param==value` and `field=value` send the text (a secret variable in it goes out)."""
    from .words import unquote

    value = unquote(w.value)
    if c.sends_secret_variable(value):
        return
    at, sep = len(value), ""
    for s in _ITEM_SEPARATORS:
        k = value.find(s)
        while k > 0 and value[k - 1] == "\\":  # an escaped separator is part of the name
            k = value.find(s, k + 1)
        if 0 < k < at or (k == at and len(s) > len(sep)):
            at, sep = k, s
    if value[:1] == "@":  # `http URL @FILE`: the body is FILE ("Request data from a filename")
        at, sep = 0, "@"
    if sep in (":=@", "=@", "@"):
        path = value[at + len(sep) :].split(";", 1)[0]
        if path and path != "-":
            c.pending_upload(path)


def forward(c: _Command, w: Word) -> None:
    """ssh_config(5) LocalForward, RemoteForward, DynamicForward `[bind_address:]port ...`: a
    bind address of `*`, 0.0.0.0, an empty one (`:8080`) or another machine's listens where
    whoever reaches that interface connects through the tunnel (ssh(1) -L/-R/-D)."""
    from .model import LOOPBACK
    from .sends import _bound
    from .words import unquote

    spec = (unquote(w.value).split() or [""])[0]
    if spec.startswith("["):
        addr = spec[1:].split("]", 1)[0]
    elif ":" in spec:
        addr = spec.rsplit(":", 1)[0]
    else:
        return  # a port alone (or a socket path): the loopback address, ssh's default
    host = _bound(addr) if addr else "*"
    if host == "*" or not host.lower().startswith(LOOPBACK):
        c.add("send", f"opens a forwarded port on {addr or '*'} ({spec})", "exfiltration", ())


# lftp(1) / ftp(1) / smbclient(1) commands that send local files, and their options that take a
# value (`put -O BASE FILE`, `mirror -R --exclude X LOCAL REMOTE`).
_FTP_SENDS = ("put", "mput", "reput", "append", "mirror")
_FTP_VALUE_OPTIONS = ("-O", "-o", "-x", "-X", "--exclude", "--include", "-i", "-I", "-P", "-N")


def ftp_commands(c: _Command, w: Word) -> None:
    """The commands an FTP or SMB client runs (lftp -e/-c, smbclient -c), `;` or newline apart:
    `put`/`mput`/`reput`/`append FILE` and `mirror -R LOCAL` send local files to the server;
    `!CMD` and `shell CMD` run a shell command line; `source FILE` runs more commands."""
    from .words import unquote

    for line in unquote(w.value).replace("\n", ";").split(";"):
        text = line.strip()
        if text.startswith("!"):
            c.command(_as("command", text[1:], w))
            continue
        words = text.split()
        verb = words[0].lower() if words else ""
        if verb == "shell":
            c.command(_as("command", " ".join(words[1:]), w))
        elif verb == "source" and len(words) > 1:
            c.role(_as("config", words[-1], w))
        elif verb in _FTP_SENDS:
            operands, skip = [], False
            for word in words[1:]:
                if skip:
                    skip = False
                elif word.startswith("-"):
                    skip = word in _FTP_VALUE_OPTIONS
                else:
                    operands.append(word)
            if verb == "mirror" and not any(x in ("-R", "--reverse") for x in words):
                continue  # mirror without -R downloads
            for path in operands[:1] if verb == "mirror" else operands:
                c.read(_as("read", path, w))
                c.pending_upload(path)


def transfer_path(c: _Command, w: Word) -> None:
    """rclone copy/sync/move SOURCE DEST (rclone.org/commands): data flows from the first path
    to the later ones. Judged on the first such word for all of them, by where each is rather
    than by position alone (an unknown backend flag's value, `--s3-acl private`, is read as
    one more operand): a local first path with a remote (`name:path`, `:backend:path`) among
    the rest is sent there; a remote first path with a local one after it is written there."""
    from .sends import _is_remote
    from .words import unquote

    inv = c.inv
    paths = [x for x in inv.words if x.role == "transfer-path"] if inv else []
    if not paths or paths[0] is not w:
        return
    first, rest = paths[0], paths[1:]
    remote = [x for x in rest if _is_remote(unquote(x.value))]
    local = [x for x in rest if x not in remote]
    # copyto/moveto name the file written; copy, sync, move a directory filled with files of
    # the source's names.
    how = "write" if inv is not None and inv.command in ("copyto", "moveto") else "into"
    if _is_remote(unquote(first.value)):
        if local:
            c.role(_as(how, local[0].value, local[0]))
        return
    c.read(_as("read", first.value, first))
    for x in remote:
        c.remote_word(_as("remote", x.value, x))
    if remote:
        c.pending_upload(first.value)
    elif local:
        c.role(_as(how, local[-1].value, local[-1]))


def listen_address(c: _Command, w: Word) -> None:
    """The address a forwarder listens on (`fly proxy -b ADDR`): every interface (0.0.0.0, ::,
    *) or another machine's address exposes what it forwards to whoever reaches it."""
    from .model import LOOPBACK
    from .sends import _bound
    from .words import unquote

    host = _bound(unquote(w.value)) or "*"
    if host == "*" or not host.lower().startswith(LOOPBACK):
        c.add(
            "send",
            f"listens on {w.value} ({w.option}): reachable from the network",
            "exfiltration",
            (),
        )


HANDLERS = {
    "backup-repo": backup_repo,
    "socat-address": socat_address,
    "request-item": request_item,
    "forward": forward,
    "ftp-commands": ftp_commands,
    "transfer-path": transfer_path,
    "listen-address": listen_address,
}
