"""`tracker db upgrade`, `tracker db current` and `tracker seed` on a fresh SQLite file."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import create_engine, func, inspect, select

from tracker.cli import cli
from tracker.db.account_models import ROLES, User
from tracker.db.migrate import head_revision
from tracker.db.models import Contract, Scenario
from tracker.services.seed import DEMO_PASSWORD, SEED_DATA, demo_email

MANIFEST = json.loads((SEED_DATA / "portfolio.json").read_text("utf-8"))
DEMO_CODES = [entry["code"] for entry in MANIFEST["contracts"]]
Run = Callable[..., Result]


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    return tmp_path / "cli.sqlite3"


@pytest.fixture
def run(database_file: Path) -> Run:
    """``run("db", "upgrade")``: the command on the fresh database, as a person runs it."""
    env = {
        "TRACKER_DATABASE_URL": f"sqlite:///{database_file}",
        "TRACKER_SECRET_KEY": "cli test secret key",
    }
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    return invoke


@pytest.fixture
def head() -> str:
    engine = create_engine("sqlite://")
    revision = head_revision(engine)
    engine.dispose()
    assert revision is not None
    return revision


def count(database_file: Path, model: type[Contract] | type[Scenario] | type[User]) -> int:
    engine = create_engine(f"sqlite:///{database_file}")
    try:
        with engine.connect() as connection:
            return connection.scalar(select(func.count()).select_from(model)) or 0
    finally:
        engine.dispose()


def test_db_upgrade_migrates_a_new_database_then_says_it_is_up_to_date(
    run: Run, database_file: Path, head: str
) -> None:
    first = run("db", "upgrade")
    second = run("db", "upgrade")

    assert first.exit_code == 0, first.output
    assert first.stdout == f"Database sqlite:///{database_file} migrated from empty to {head}.\n"
    assert second.exit_code == 0, second.output
    assert second.stdout == f"Database sqlite:///{database_file} is up to date (revision {head}).\n"
    engine = create_engine(f"sqlite:///{database_file}")
    assert "contracts" in inspect(engine).get_table_names()
    engine.dispose()


def test_db_current_tells_the_database_and_the_newest_revision(run: Run, head: str) -> None:
    before = run("db", "current")
    run("db", "upgrade")
    after = run("db", "current")

    assert before.exit_code == 0
    assert before.stdout == f"database: not migrated\nnewest:   {head}\n"
    assert after.exit_code == 0
    assert after.stdout == f"database: {head}\nnewest:   {head}\n"


def test_seed_adds_the_demo_contracts_then_leaves_them_unchanged(
    run: Run, database_file: Path
) -> None:
    run("db", "upgrade")

    first = run("seed")
    second = run("seed")
    if_empty = run("seed", "--if-empty")

    assert first.exit_code == 0, first.output
    # The demo accounts follow the contracts: staff, finance and admin of each of the
    # 9 organisations, by name; the first organisation's three stand as examples.
    assert first.stdout.splitlines() == [
        *(f"added   {code}" for code in DEMO_CODES),
        f"added 27 demo accounts, all with the password {DEMO_PASSWORD!r} (demo data only), "
        "for example:",
        *(f"  {demo_email(role, 'Albion Facilities')}" for role in ROLES),
    ]
    assert second.exit_code == 0, second.output
    assert second.stdout == f"{len(DEMO_CODES)} demo contracts were already there; unchanged.\n"
    assert if_empty.exit_code == 0
    assert if_empty.stdout == "The database already holds contracts; no demo data added.\n"
    assert count(database_file, Contract) == 7
    assert count(database_file, Scenario) == 5
    assert count(database_file, User) == 27


def test_seed_before_db_upgrade_fails_with_status_2_and_says_what_to_run(
    run: Run, database_file: Path
) -> None:
    result = run("seed")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "`tracker db upgrade`" in result.stderr
    assert "Traceback" not in result.output
    engine = create_engine(f"sqlite:///{database_file}")
    assert inspect(engine).get_table_names() == []
    engine.dispose()
