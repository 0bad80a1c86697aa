"""Production change through a whitelisted deploy or migration CLI (red team R): what the
effect model adds to the grammar for it, checked as a user's policy would see it.

- A deploy CLI's default command with options only (`vercel --prod`) is its bare call.
- `effect_with` reads option values and variables (`dbt run --target prod`,
  `RAILS_ENV=production rails db:migrate`) and an ordinary effect replaces the declared one
  (`supabase db push --local`).
- A migration's database named by URL is production only on another machine (role
  database-url).
- An operation no subcommand names is lifted only by an allow rule spelling the whole command.
Nothing is run: the lines are only decided.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from effects_loader import load_policy

from expacti_cli import check, policy

WHITELIST = """
[settings]
decision_budget = "10s"
""" + "".join(
    f'\n[[allow]]\nid = "wl-{name}"\nmatch = "{name} **"\n'
    for name in ("vercel", "dbt", "rails", "supabase", "sqlx", "migrate", "cap")
)


@pytest.fixture(scope="module")
def whitelisted(tmp_path_factory: pytest.TempPathFactory) -> policy.Policy:
    root = tmp_path_factory.mktemp("production")
    path = root / "policy.toml"
    path.write_text(WHITELIST, encoding="utf-8")
    return load_policy(root / "cache", path)


def _verdict(p: policy.Policy, line: str) -> str:
    return check.check(p, line=line).verdict


@pytest.mark.parametrize(
    "line",
    [
        "vercel --prod",
        "vercel -y",
        "vercel ./dist --prod",
        "dbt run --target prod",
        "dbt run -tprod",
        "DBT_TARGET=prod dbt build",
        "rails db:migrate RAILS_ENV=production",
        "RAILS_ENV=production rails db:migrate",
        "export RAILS_ENV=production && rails db:migrate",
        "supabase db push",
        "sqlx migrate run --database-url postgres://u:p@db.prod.example.com/app",
        "DATABASE_URL=postgres://u:p@10.0.3.7/app sqlx migrate run",
        "migrate -database 'mysql://u:p@tcp(db.prod.example.com:3306)/app' -path m up",
        "cap production deploy",
    ],
)
def test_production_changes_are_reviewed_under_the_whitelist(
    whitelisted: policy.Policy, line: str
) -> None:
    assert _verdict(whitelisted, line) == "review", line


@pytest.mark.parametrize(
    "line",
    [
        "vercel --help",
        "vercel --version",
        "vercel dev",
        "dbt run",
        "dbt run --target dev",
        "rails db:migrate",
        "RAILS_ENV=test rails db:migrate",
        "supabase db push --local",
        "supabase db push --dry-run",
        "sqlx migrate run",
        "sqlx migrate run --database-url postgres://postgres@127.0.0.1/app",
        "DATABASE_URL=postgres://postgres:postgres@db:5432/app sqlx migrate run",
        'sqlx migrate run --database-url "$DATABASE_URL"',
        "migrate -database sqlite3://./dev.db -path m up",
        "migrate -database postgres://u:p@db.prod.example.com/app -path m version",
        "cap -T",
    ],
)
def test_their_development_and_read_only_calls_are_allowed(
    whitelisted: policy.Policy, line: str
) -> None:
    assert _verdict(whitelisted, line) == "allow", line


def test_an_operation_without_subcommand_is_lifted_by_the_whole_command_only(
    tmp_path: Path,
) -> None:
    """`vercel **` does not lift `vercel --prod`; an allow rule spelling it does, and only it
    (the program's name was the anchor before, so no allow rule could lift it)."""
    path = tmp_path / "policy.toml"
    path.write_text(
        WHITELIST
        + '\n[[allow]]\nid = "deploy"\nmatch = "vercel --prod"\n'
        + '\n[[allow]]\nid = "cap"\nmatch = "cap production deploy"\n',
        encoding="utf-8",
    )
    p = load_policy(tmp_path / "cache", path)
    assert _verdict(p, "vercel --prod") == "allow"
    assert _verdict(p, "vercel --prod --yes") == "review"
    assert _verdict(p, "cap production deploy") == "allow"
    assert _verdict(p, "cap staging deploy") == "review"
