"""What SQL text does: admin statements and updates or deletes of every row change production.

A small statement splitter, not a parser: quotes, dollar quotes and comments are skipped so a
`;` or a keyword inside them splits nothing. Rows changed inside a transaction that the same
text rolls back stay as they were (nothing else is undone by it). Anything the splitter cannot
read goes the safe way (a change).
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
# Functions whose call changes the server: PostgreSQL 17 "System Administration Functions"
# (https://www.postgresql.org/docs/current/functions-admin.html: server signaling, backup and
# recovery control, replication management, index maintenance, adminpack file access), its
# statistics resets (monitoring-stats.html), sequence and large-object functions that write;
# SQLite load_extension() (https://sqlite.org/lang_corefunc.html#load_extension).
_ADMIN_CALLS = frozenset(
    [
        "PG_TERMINATE_BACKEND",
        "PG_CANCEL_BACKEND",
        "PG_RELOAD_CONF",
        "PG_ROTATE_LOGFILE",
        "PG_ROTATE_LOGFILE_OLD",
        "PG_PROMOTE",
        "PG_WAL_REPLAY_PAUSE",
        "PG_WAL_REPLAY_RESUME",
        "PG_CREATE_RESTORE_POINT",
        "PG_SWITCH_WAL",
        "PG_SWITCH_XLOG",
        "PG_BACKUP_START",
        "PG_BACKUP_STOP",
        "PG_START_BACKUP",
        "PG_STOP_BACKUP",
        "PG_CREATE_PHYSICAL_REPLICATION_SLOT",
        "PG_CREATE_LOGICAL_REPLICATION_SLOT",
        "PG_DROP_REPLICATION_SLOT",
        "PG_COPY_PHYSICAL_REPLICATION_SLOT",
        "PG_COPY_LOGICAL_REPLICATION_SLOT",
        "PG_LOGICAL_SLOT_GET_CHANGES",
        "PG_LOGICAL_SLOT_GET_BINARY_CHANGES",
        "PG_REPLICATION_SLOT_ADVANCE",
        "PG_REPLICATION_ORIGIN_CREATE",
        "PG_REPLICATION_ORIGIN_DROP",
        "PG_REPLICATION_ORIGIN_ADVANCE",
        "PG_REPLICATION_ORIGIN_SESSION_SETUP",
        "PG_REPLICATION_ORIGIN_XACT_SETUP",
        "PG_LOGICAL_EMIT_MESSAGE",
        "PG_SYNC_REPLICATION_SLOTS",
        "BRIN_SUMMARIZE_NEW_VALUES",
        "BRIN_SUMMARIZE_RANGE",
        "BRIN_DESUMMARIZE_RANGE",
        "GIN_CLEAN_PENDING_LIST",
        "PG_FILE_WRITE",
        "PG_FILE_UNLINK",
        "PG_FILE_RENAME",
        "PG_FILE_SYNC",
        "PG_WRITE_FILE",
        "PG_STAT_RESET",
        "PG_STAT_RESET_SHARED",
        "PG_STAT_RESET_SINGLE_TABLE_COUNTERS",
        "PG_STAT_RESET_SINGLE_FUNCTION_COUNTERS",
        "PG_STAT_RESET_SLRU",
        "PG_STAT_RESET_REPLICATION_SLOT",
        "PG_STAT_RESET_SUBSCRIPTION_STATS",
        "PG_STAT_STATEMENTS_RESET",
        "PG_RESTORE_RELATION_STATS",
        "PG_CLEAR_RELATION_STATS",
        "PG_RESTORE_ATTRIBUTE_STATS",
        "PG_CLEAR_ATTRIBUTE_STATS",
        "SETVAL",
        "LO_EXPORT",
        "LO_IMPORT",
        "LO_UNLINK",
        "SET_CONFIG",
        "DBLINK_EXEC",
        "LOAD_EXTENSION",
        # dblink (PostgreSQL contrib): the server connects to the one the connection string
        # names and sends it the query (its text can carry any table's rows); SQL Server
        # OPENROWSET/OPENDATASOURCE the same, xp_cmdshell runs an operating-system command;
        # MySQL lib_mysqludf_sys sys_exec/sys_eval the same.
        "DBLINK",
        "DBLINK_CONNECT",
        "DBLINK_CONNECT_U",
        "DBLINK_SEND_QUERY",
        "DBLINK_OPEN",
        "OPENROWSET",
        "OPENDATASOURCE",
        "XP_CMDSHELL",
        "SYS_EXEC",
        "SYS_EVAL",
    ]
)
_ADMIN_TEXT = (" INTO OUTFILE ", " INTO DUMPFILE ")


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
    if stmt.startswith("COPY "):
        return _copy(stmt)
    for key, why in _ADMIN.items():
        if stmt == key or stmt.startswith(key + " "):
            return why
    for call in _calls(stmt):
        if call in _ADMIN_CALLS:
            return f"calls {call.lower()}"
    for text in _ADMIN_TEXT:
        if text in f" {stmt} ":
            return f"writes a server file ({text.strip().lower()})"
    words = stmt.replace("(", " ").replace(")", " ").replace(",", " ").split()
    head = words[0] if words else ""
    if head in ("CALL", "EXEC", "EXECUTE"):
        return "runs a stored procedure or prepared statement the text does not show"
    if head in ("UPDATE", "DELETE") and _all_rows(stmt):
        return "updates every row" if head == "UPDATE" else "deletes every row"
    if head == "WITH" and any(w in ("UPDATE", "DELETE") for w in words) and "WHERE" not in words:
        return "updates or deletes every row"
    return None


def _calls(stmt: str) -> list[str]:
    """The names of the functions a statement calls (`NAME(`, schema dropped), upper case."""
    out = []
    at = stmt.find("(")
    while at > 0:
        end = at
        while end > 0 and stmt[end - 1] == " ":
            end -= 1
        start = end
        while start > 0 and (stmt[start - 1].isalnum() or stmt[start - 1] in "_.$"):
            start -= 1
        if start < end:
            out.append(stmt[start:end].rsplit(".", 1)[-1])
        at = stmt.find("(", at + 1)
    return out


def _outside_parens(text: str) -> str:
    """`text` without its parenthesised groups (a query or a column list)."""
    out, depth = [], 0
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(depth - 1, 0)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def _copy(stmt: str) -> str | None:
    """Server-side COPY (PostgreSQL COPY): `TO 'file'` / `FROM 'file'` make the server write
    or read a file of its own host, `PROGRAM 'cmd'` runs a command there; `STDOUT`/`STDIN`
    is the client's connection (a read, or rows inserted). The file name itself was a string
    literal, removed by the splitter: whatever is not STDIN/STDOUT/PROGRAM is a file."""
    words = _outside_parens(stmt[5:]).split()
    for i, word in enumerate(words):
        if word in ("TO", "FROM"):
            target = words[i + 1] if i + 1 < len(words) else ""
            if target == "PROGRAM":
                return "runs a program on the database host"
            if target in ("STDIN", "STDOUT"):
                return None
            if word == "TO":
                return "writes a file on the database host"
            return "loads a file of the database host into a table"
    return "copies to or from a place the text does not show"


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
        f"reads {t.lower()}"
        for stmt in _statements(text)
        for t in _SECRET_TABLES
        if t in stmt and not (t == "MYSQL.USER" and _names_columns_only(stmt))
    ][:1]


# MySQL 8.4 mysql.user: the password hash is `authentication_string` (`Password` before 5.7).
_HASH_COLUMNS = ("AUTHENTICATION_STRING", "PASSWORD", "*")


def _names_columns_only(stmt: str) -> bool:
    """`SELECT user, host FROM mysql.user`: a query of mysql.user whose select list names no
    password column and no `*` (the account names, not their hashes)."""
    head = stmt.split(" FROM ", 1)[0]
    if not head.startswith("SELECT ") or " FROM " not in stmt:
        return False
    return not any(c in head for c in _HASH_COLUMNS)


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


# What a ROLLBACK undoes: changes of rows. Not the rest: MySQL commits implicitly before DDL,
# GRANT, user and replication statements (MySQL 8.4, 15.3.3 "Statements That Cause an Implicit
# Commit"), and a signal, a server file or a procedure's own work is no row of the transaction.
_ROW_CHANGES = (
    "deletes every row",
    "updates every row",
    "updates or deletes every row",
    "loads a file of the database host into a table",
)


def changes(text: str) -> list[str]:
    """Why the SQL text changes production state (empty: it does not)."""
    if "\\gexec" in text:  # psql(1) \gexec: "each column of each row ... is executed as SQL"
        return ["runs the query's results as SQL statements (\\gexec)"]
    found: list[str] = []
    pending: list[str] = []
    in_tx = False
    prepared: dict[str, str | None] = {}
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
        elif head == "PREPARE" and " AS " in stmt:  # PostgreSQL PREPARE name [(types)] AS stmt
            name = stmt.split()[1].split("(", 1)[0] if len(stmt.split()) > 1 else ""
            prepared[name] = _one(stmt.split(" AS ", 1)[1])
        else:
            why = _executed(stmt, prepared) if head in ("EXECUTE", "EXEC") else _one(stmt)
            if why:
                (pending if in_tx and why in _ROW_CHANGES else found).append(why)
    return found + pending


def _executed(stmt: str, prepared: dict[str, str | None]) -> str | None:
    """EXECUTE of a statement the same text prepared is that statement; of any other name
    (MySQL's PREPARE … FROM 'text', a T-SQL procedure) it is code the text does not show."""
    words = stmt.split()
    name = words[1].split("(", 1)[0] if len(words) > 1 else ""
    if name in prepared:
        return prepared[name]
    return _one(stmt)


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
# Client commands whose argument is a command line the client runs on this machine: psql
# `\\! [command]`, mysql `system`/`\\!` and `pager` (mysql(1) "mysql Client Commands"), sqlite3
# `.shell`/`.system` (https://sqlite.org/cli.html), sqlcmd `!!` (sqlcmd utility, "Commands").
# Without one, psql's `\\!` starts an interactive shell.
_CLIENT_COMMANDS = ("\\!", "system", "pager", ".shell", ".system", "!!")
# Arguments that name no file (`.output stdout`, `.log off`).
_NO_FILE = ("stdout", "stderr", "off", "on", "-")


def files(text: str) -> list[tuple[str, str]]:
    """[(role, path)] of the files SQL text and client commands in it read or write: `role`
    is read, write, database, program (code it loads) or command (`.output |CMD`, `\\! CMD`,
    `\\copy … PROGRAM 'CMD'`)."""
    out: list[tuple[str, str]] = []
    for line in _client_lines(text):
        head = line.split(None, 1)[0] if line.split() else ""
        key = head if head[:1] == "\\" else head.lower()
        if key in _CLIENT_COMMANDS:
            rest = line[len(head) :].strip().rstrip(";").strip()
            if rest or key == "\\!":
                out.append(("command", rest or "sh"))
            continue
        if key == "\\copy":
            out += _client_copy(line[len(head) :])
            continue
        words = _client_words(line)
        spec = _CLIENT_FILES.get(key)
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
    if any(w in upper for w in ("VACUUM", "ATTACH", "READFILE", "WRITEFILE", "EDIT")):
        out += _statement_files(text)
    return out


def _client_lines(text: str) -> list[str]:
    """Where a client command may start: each line, each `;`-separated statement outside
    quotes (`select 1; pager cat`), and each psql backslash command outside quotes (`select 1
    \\g out.txt`), which runs to the next one. A command that runs a command line (`\\!`,
    `system`, sqlite3's dot-commands), and `\\copy`, take the rest of the line (psql(1)
    Meta-Commands; sqlite3 "Special commands")."""
    out: list[str] = []
    for line in text.split("\n"):
        start, quote, i = 0, "", 0
        while i < len(line):
            if quote:
                quote = "" if line[i] == quote else quote
            elif i == start or not line[start:i].strip():
                if _takes_the_line(line[i:]):
                    break
                if line[i] in "'\"`":
                    quote = line[i]
                i += 1 if line[i] != "\\" else 2  # a backslash command's name is its own
                continue
            elif line[i] in "'\"`":
                quote = line[i]
            elif line[i] == ";" or line[i] == "\\":
                out.append(line[start:i])
                start = i + (line[i] == ";")
                continue
            i += 1
        out.append(line[start:])
    return [x.strip() for x in out if x.strip()]


def _takes_the_line(segment: str) -> bool:
    head = segment.split(None, 1)[0] if segment.split() else ""
    key = head if head[:1] == "\\" else head.lower()
    return head[:1] == "." or key in _CLIENT_COMMANDS or key == "\\copy"


def _client_copy(rest: str) -> list[tuple[str, str]]:
    """psql `\\copy { table [ ( cols ) ] | ( query ) } { from | to } { 'file' | program 'cmd' |
    stdin | stdout | pstdin | pstdout }` (psql(1)): the client reads or writes the file on
    this machine, or runs the command here; nothing happens on the server's file system."""
    import shlex

    try:
        words = shlex.split(_after_query(rest))
    except ValueError:
        return [("command", rest)]  # unbalanced quotes: whatever it is, judged as a command
    lower = [w.lower() for w in words]
    for i, word in enumerate(lower):
        if word not in ("to", "from"):
            continue
        target = words[i + 1] if i + 1 < len(words) else ""
        if target.lower() == "program":
            return [("command", words[i + 2] if i + 2 < len(words) else "sh")]
        if target.lower() in ("stdin", "stdout", "pstdin", "pstdout", ""):
            return []
        return [("write" if word == "to" else "read", target)]
    return []


def _after_query(rest: str) -> str:
    """`rest` without a leading `( query )` (quotes inside it skipped)."""
    text = rest.lstrip()
    if not text.startswith("("):
        return text
    depth, quote = 0, ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return text[i + 1 :]
    return ""


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
    """`VACUUM [schema] INTO 'file'` writes file; `ATTACH [DATABASE] 'file' AS x` opens it;
    the sqlite3 shell's SQL functions (https://sqlite.org/cli.html, "File I/O Functions", "The
    edit() SQL function"): readfile('file') returns its content, writefile('file', data)
    writes it, edit(text, 'editor') runs the editor command."""
    import re

    out: list[tuple[str, str]] = []
    literal = r"""(?:'((?:[^']|'')*)'|"((?:[^"]|"")*)")"""
    forms = (
        ("write", rf"(?is)\bVACUUM\b[^;]*?\bINTO\s+{literal}"),
        ("database", rf"(?is)\bATTACH\s+(?:DATABASE\s+)?{literal}"),
        ("read", rf"(?is)\breadfile\s*\(\s*{literal}"),
        ("write", rf"(?is)\bwritefile\s*\(\s*{literal}"),
        ("command", rf"(?is)\bedit\s*\([^,()]*(?:\([^()]*\)[^,()]*)*,\s*{literal}"),
    )
    for role, form in forms:
        for m in re.finditer(form, text):
            out.append((role, m.group(1) if m.group(1) is not None else m.group(2) or ""))
    return [(role, path.replace("''", "'")) for role, path in out if path]
