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
from expacti_cli.effects.sql import changes

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
    assert changes("COPY t TO '/tmp/out.csv'") == []


def test_quotes_and_comments_hide_no_statement() -> None:
    assert changes("SELECT 1 -- ; DROP TABLE x") == []
    assert changes("SELECT $$; DROP TABLE x$$") == []
    assert changes("SELECT 1 /* ; TRUNCATE t */") == []
    assert changes("SELECT 1; DROP TABLE x") == ["drops a database object"]
