"""What SQL text does: admin statements and updates or deletes of every row change production.

A small statement splitter, not a parser: quotes, dollar quotes and comments are skipped so a
`;` or a keyword inside them splits nothing. Statements inside a transaction that the same text
rolls back change nothing. Anything the splitter cannot read goes the safe way (a change).
"""

from __future__ import annotations

_ADMIN = {
    "DROP": "drops a database object",
    "TRUNCATE": "empties a table",
    "ALTER": "alters a database object",
    "GRANT": "grants privileges",
    "REVOKE": "revokes privileges",
    "CREATE USER": "creates a database user",
    "CREATE ROLE": "creates a database role",
    "RENAME": "renames a database object",
    "REASSIGN": "reassigns ownership",
    "VACUUM FULL": "rewrites tables",
    "CLUSTER": "rewrites tables",
    "REINDEX": "rebuilds indexes",
    "FLUSH": "flushes server state",
    "RESET MASTER": "resets replication",
    "CHANGE MASTER": "changes replication",
    "CHANGE REPLICATION": "changes replication",
    "STOP REPLICA": "stops replication",
    "STOP SLAVE": "stops replication",
    "SET GLOBAL": "changes server settings",
    "SET PERSIST": "changes server settings",
    "SHUTDOWN": "shuts the server down",
    "KILL": "kills sessions",
    "LOAD DATA": "loads server-side files",
    "CREATE EXTENSION": "loads code into the server",
    "CREATE FUNCTION": "installs server-side code",
    "CREATE OR REPLACE FUNCTION": "installs server-side code",
    "CREATE PROCEDURE": "installs server-side code",
    "CREATE TRIGGER": "installs server-side code",
    "DO": "runs server-side code",
    "PRAGMA WRITABLE_SCHEMA": "edits the schema directly",
    "ATTACH": "opens another database file",
    "CREATE TABLE": "changes the schema",
    "CREATE INDEX": "changes the schema",
    "CREATE UNIQUE INDEX": "changes the schema",
    "CREATE VIEW": "changes the schema",
    "CREATE SCHEMA": "changes the schema",
    "CREATE DATABASE": "creates a database",
    "CREATE SEQUENCE": "changes the schema",
    "CREATE TYPE": "changes the schema",
    "CREATE POLICY": "changes row security",
    "COMMENT ON": "changes the schema",
    "SECURITY LABEL": "changes the schema",
}
# Functions whose call changes the server (PostgreSQL System Administration Functions, MySQL).
_ADMIN_CALLS = (
    "PG_TERMINATE_BACKEND",
    "PG_CANCEL_BACKEND",
    "PG_RELOAD_CONF",
    "PG_ROTATE_LOGFILE",
    "PG_PROMOTE",
    "PG_WRITE_FILE",
    "LO_EXPORT",
    "LO_IMPORT",
    "SET_CONFIG",
    "PG_CREATE_RESTORE_POINT",
    "DBLINK_EXEC",
    " INTO OUTFILE ",
    " INTO DUMPFILE ",
)
_CODE = ("COPY", "\\!", "\\COPY", "SYSTEM", ".SHELL", ".SYSTEM")


def _statements(text: str) -> list[str]:
    out: list[str] = []
    cur: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"`":
            j = text.find(c, i + 1)
            j = n if j < 0 else j
            cur.append(" ")
            i = j + 1
        elif text.startswith("--", i) or c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "$":
            end = text.find("$", i + 1)
            tag = text[i : end + 1] if end > 0 else ""
            if tag and all(ch.isalnum() or ch == "_" for ch in tag[1:-1]):
                j = text.find(tag, end + 1)
                i = n if j < 0 else j + len(tag)
                cur.append(" ")
            else:
                cur.append(c)
                i += 1
        elif c == ";" or (c == "\n" and "".join(cur).lstrip().startswith(("\\", "."))):
            out.append("".join(cur))
            cur = []
            i += 1
        else:
            cur.append(c)
            i += 1
    out.append("".join(cur))
    return [" ".join(s.split()).upper() for s in out if s.strip()]


# Statements whose loss no transaction of another session can undo: irreversible.
_IRREVERSIBLE = (
    "drops a database object",
    "empties a table",
    "deletes every row",
    "updates every row",
    "updates or deletes every row",
)


def irreversible(why: str) -> bool:
    return why in _IRREVERSIBLE


def _all_rows(stmt: str) -> bool:
    """No WHERE, or a WHERE that holds for every row (`WHERE 1=1`, `WHERE true`)."""
    padded = f" {stmt} "
    if " WHERE " not in padded:
        return True
    cond = padded.split(" WHERE ", 1)[1].replace(" ", "")
    cond = cond.split("RETURNING", 1)[0].split("LIMIT", 1)[0]
    return cond in ("1=1", "TRUE", "'1'='1'", "1", "NOT FALSE", "1<>0", "0=0")


def _one(stmt: str) -> str | None:
    for prefix in _CODE:
        if stmt.startswith(prefix) and (prefix != "COPY" or " PROGRAM " in f" {stmt} "):
            return "runs a program on the database host"
    for key, why in _ADMIN.items():
        if stmt == key or stmt.startswith(key + " "):
            return why
    for call in _ADMIN_CALLS:
        if call in f" {stmt} ":
            return f"calls {call.strip().lower()}"
    words = stmt.replace("(", " ").replace(")", " ").replace(",", " ").split()
    head = words[0] if words else ""
    if head in ("UPDATE", "DELETE") and _all_rows(stmt):
        return "updates every row" if head == "UPDATE" else "deletes every row"
    if head == "WITH" and any(w in ("UPDATE", "DELETE") for w in words) and "WHERE" not in words:
        return "updates or deletes every row"
    return None


_SECRET_TABLES = (
    "PG_SHADOW",
    "PG_AUTHID",
    "PG_USER_MAPPINGS",
    "MYSQL.USER",
    "AUTHENTICATION_STRING",
    "SYS.USER$",
    "PG_READ_FILE",
    "LOAD_FILE",
)


def secrets(text: str) -> list[str]:
    """Why the SQL text reads the server's credentials or files (empty: it does not)."""
    return [
        f"reads {t.lower()}" for stmt in _statements(text) for t in _SECRET_TABLES if t in stmt
    ][:1]


def _explained(stmt: str) -> str | None:
    """The statement that runs: EXPLAIN ANALYZE runs the one it explains, EXPLAIN none."""
    if not stmt.startswith(("EXPLAIN", "DESCRIBE", "DESC ")):
        return stmt
    if "ANALYZE" not in stmt:
        return None
    cut = [
        c for c in (stmt.find(k) for k in (" UPDATE ", " DELETE ", " INSERT ", " WITH ")) if c > 0
    ]
    return stmt[min(cut) + 1 :] if cut else stmt


def changes(text: str) -> list[str]:
    """Why the SQL text changes production state (empty: it does not)."""
    found: list[str] = []
    pending: list[str] = []
    in_tx = False
    for written in _statements(text):
        stmt = _explained(written)
        if stmt is None:
            continue  # EXPLAIN without ANALYZE: the plan only, nothing runs
        head = stmt.split()[0] if stmt.split() else ""
        if head in ("BEGIN", "START") or stmt.startswith("SET AUTOCOMMIT = 0"):
            in_tx, pending = True, []
        elif head in ("ROLLBACK", "ABORT") and not stmt.startswith("ROLLBACK TO"):
            in_tx, pending = False, []
        elif head in ("COMMIT", "END"):
            found += pending
            in_tx, pending = False, []
        else:
            why = _one(stmt)
            if why:
                (pending if in_tx else found).append(why)
    return found + pending


# Client commands that name a file, and what the client does with it: sqlite3 dot-commands
# (https://sqlite.org/cli.html), psql meta-commands (psql(1)), mysql client commands (mysql(1)
# "mysql Client Commands"). `first`/`last`: which argument names the file.
_CLIENT_FILES = {
    ".output": ("write", "first"),
    ".once": ("write", "first"),
    ".log": ("write", "first"),
    ".save": ("write", "first"),
    ".backup": ("write", "last"),
    ".clone": ("write", "first"),
    ".import": ("read", "first"),
    ".read": ("read", "first"),
    ".restore": ("read", "last"),
    ".open": ("database", "last"),
    ".load": ("program", "first"),
    "\\o": ("write", "first"),
    "\\out": ("write", "first"),
    "\\w": ("write", "first"),
    "\\write": ("write", "first"),
    "\\g": ("write", "first"),
    "\\i": ("read", "first"),
    "\\include": ("read", "first"),
    "\\ir": ("read", "first"),
    "\\include_relative": ("read", "first"),
    "tee": ("write", "first"),
    "\\T": ("write", "first"),
    "source": ("read", "first"),
    "\\.": ("read", "first"),
}
# Arguments that name no file (`.output stdout`, `.log off`).
_NO_FILE = ("stdout", "stderr", "off", "on", "-")


def files(text: str) -> list[tuple[str, str]]:
    """[(role, path)] of the files SQL text and client commands in it read or write: `role`
    is read, write, database, program (code it loads) or command (`.output |CMD`)."""
    out: list[tuple[str, str]] = []
    for line in text.split("\n"):
        words = _client_words(line)
        head = words[0] if words else ""
        spec = _CLIENT_FILES.get(head if head[:1] == "\\" else head.lower())
        if spec is None:
            continue
        args = [w for w in words[1:] if not w.startswith("-") or w == "-"]
        if not args:
            continue
        name = args[0] if spec[1] == "first" else args[-1]
        if name.startswith("|"):
            out.append(("command", " ".join(words[words.index(name) :])[1:].strip()))
        elif name.lower() not in _NO_FILE:
            out.append((spec[0], name))
    upper = text.upper()
    if "VACUUM" in upper or "ATTACH" in upper:
        out += _statement_files(text)
    return out


def _client_words(line: str) -> list[str]:
    import shlex

    parts = line.strip().rstrip(";").split(None, 1)
    if len(parts) < 2:
        return parts
    try:  # the command itself as written (`\\w`), its arguments as the client splits them
        return [parts[0], *shlex.split(parts[1])]
    except ValueError:
        return [parts[0], *parts[1].split()]


def _statement_files(text: str) -> list[tuple[str, str]]:
    """`VACUUM [schema] INTO 'file'` writes file; `ATTACH [DATABASE] 'file' AS x` opens it."""
    import re

    out: list[tuple[str, str]] = []
    literal = r"""(?:'((?:[^']|'')*)'|"((?:[^"]|"")*)")"""
    for m in re.finditer(rf"(?is)\bVACUUM\b[^;]*?\bINTO\s+{literal}", text):
        out.append(("write", (m.group(1) if m.group(1) is not None else m.group(2) or "")))
    for m in re.finditer(rf"(?is)\bATTACH\s+(?:DATABASE\s+)?{literal}", text):
        out.append(("database", (m.group(1) if m.group(1) is not None else m.group(2) or "")))
    return [(role, path.replace("''", "'")) for role, path in out if path]
