"""`tracker org create`, `tracker user create|disable|enable|reset-password` and the demo
accounts of `tracker seed`, on a fresh SQLite file."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from tracker.cli import cli
from tracker.db.account_models import Membership, User
from tracker.db.audit_models import AuditEvent
from tracker.services import accounts
from tracker.services.seed import DEMO_PASSWORD

Run = Callable[..., Result]
PASSWORD_LINE = re.compile(r"^password: (\S+)$", re.M)


@pytest.fixture
def database_file(tmp_path: Path) -> Path:
    return tmp_path / "users.sqlite3"


@pytest.fixture
def run(database_file: Path) -> Run:
    """``run("user", "create", ...)`` on the fresh database, migrated first."""
    env = {
        "TRACKER_DATABASE_URL": f"sqlite:///{database_file}",
        "TRACKER_SECRET_KEY": "cli test secret key",
    }
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        return runner.invoke(cli, list(args), env=env, catch_exceptions=False)

    migrated = invoke("db", "upgrade")
    assert migrated.exit_code == 0, migrated.output
    return invoke


@pytest.fixture
def engine(database_file: Path, run: Run) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{database_file}")
    yield engine
    engine.dispose()


def authenticate(engine: Engine, email: str, password: str) -> int | None:
    with Session(engine) as session:
        return accounts.authenticate(session, email, password)


def user_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(User)) or 0


def created_password(result: Result) -> str:
    assert result.exit_code == 0, result.output
    found = PASSWORD_LINE.search(result.stdout)
    assert found is not None, result.stdout
    return found.group(1)


@pytest.fixture
def acme(run: Run) -> None:
    result = run("org", "create", "  Acme ")
    assert result.exit_code == 0, result.output
    assert result.stdout == "created organisation Acme\n"


def test_a_created_user_signs_in_with_the_printed_password(
    run: Run, engine: Engine, acme: None
) -> None:
    result = run(
        "user", "create", "Ana@Example.com", "--name", "Ana", "--organisation", "Acme",
        "--role", "finance",
    )  # fmt: skip

    password = created_password(result)
    assert result.stdout.splitlines()[0] == "created ana@example.com (finance at Acme)"
    assert len(password) >= 10
    user_id = authenticate(engine, "ana@example.com", password)
    assert user_id is not None
    assert authenticate(engine, "ana@example.com", password + "x") is None
    with engine.connect() as connection:
        role = connection.scalar(select(Membership.role).where(Membership.user_id == user_id))
        stored = connection.scalar(select(User.password_hash).where(User.id == user_id))
        actions = connection.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert role == "finance"
    assert stored is not None
    assert stored.startswith("$argon2")
    assert password not in stored
    assert actions == ["create", "create"]  # the organisation, then the user


def test_two_users_get_different_passwords(run: Run, acme: None) -> None:
    first = run("user", "create", "a@example.com", "--name", "A", "--organisation", "Acme")
    second = run("user", "create", "b@example.com", "--name", "B", "--organisation", "Acme")
    assert created_password(first) != created_password(second)
    assert "(staff at Acme)" in first.stdout  # the default role


def test_a_duplicate_address_exits_2_with_a_message(run: Run, engine: Engine, acme: None) -> None:
    created_password(
        run("user", "create", "ana@example.com", "--name", "Ana", "--organisation", "Acme")
    )

    again = run("user", "create", "ANA@example.com", "--name", "Ana 2", "--organisation", "Acme")

    assert again.exit_code == 2
    assert "ana@example.com already has an account" in again.stderr
    assert "password" not in again.stdout
    assert "Traceback" not in again.output
    assert user_count(engine) == 1


def test_an_unknown_organisation_exits_2_with_a_message(
    run: Run, engine: Engine, acme: None
) -> None:
    result = run("user", "create", "ana@example.com", "--name", "Ana", "--organisation", "Acne")

    assert result.exit_code == 2
    assert "organisation: no organisation is called Acne" in result.stderr
    assert result.stdout == ""
    assert user_count(engine) == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["not-an-address", "--name", "Ana"], "email: expected an e-mail address"),
        (["ana@example.com", "--name", "   "], "name:"),
    ],
)
def test_bad_values_exit_2_naming_the_field(
    run: Run, engine: Engine, acme: None, arguments: list[str], message: str
) -> None:
    result = run("user", "create", *arguments, "--organisation", "Acme")
    assert result.exit_code == 2
    assert message in result.stderr
    assert user_count(engine) == 0


def test_an_unknown_role_is_a_usage_error(run: Run, engine: Engine, acme: None) -> None:
    result = run(
        "user", "create", "ana@example.com", "--name", "Ana", "--organisation", "Acme",
        "--role", "owner",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "owner" in result.stderr
    assert user_count(engine) == 0


def test_a_duplicate_organisation_exits_2(run: Run, acme: None) -> None:
    result = run("org", "create", "Acme")
    assert result.exit_code == 2
    assert "an organisation is already called Acme" in result.stderr


def test_disable_enable_and_reset_password(run: Run, engine: Engine, acme: None) -> None:
    password = created_password(
        run("user", "create", "ana@example.com", "--name", "Ana", "--organisation", "Acme")
    )

    disabled = run("user", "disable", "ana@example.com")
    assert (disabled.exit_code, disabled.stdout) == (0, "disabled ana@example.com\n")
    assert authenticate(engine, "ana@example.com", password) is None

    enabled = run("user", "enable", "ana@example.com")
    assert (enabled.exit_code, enabled.stdout) == (0, "enabled ana@example.com\n")
    assert authenticate(engine, "ana@example.com", password) is not None

    reset = run("user", "reset-password", "ana@example.com")
    assert reset.exit_code == 0, reset.output
    found = re.fullmatch(r"new password for ana@example\.com: (\S+)\n", reset.stdout)
    assert found is not None, reset.stdout
    new_password = found.group(1)
    assert new_password != password
    assert authenticate(engine, "ana@example.com", password) is None
    assert authenticate(engine, "ana@example.com", new_password) is not None
    with engine.connect() as connection:
        actions = connection.scalars(
            select(AuditEvent.action).where(AuditEvent.entity == "user").order_by(AuditEvent.id)
        ).all()
    assert actions == ["create", "disable", "enable", "reset-password"]


@pytest.mark.parametrize("command", ["disable", "enable", "reset-password"])
def test_an_unknown_account_exits_2(run: Run, acme: None, command: str) -> None:
    result = run("user", command, "nobody@example.com")
    assert result.exit_code == 2
    assert "no account for nobody@example.com" in result.stderr
    assert "password:" not in result.stdout


def test_user_commands_need_a_migrated_database(tmp_path: Path) -> None:
    env = {
        "TRACKER_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "TRACKER_SECRET_KEY": "cli test secret key",
    }
    result = CliRunner().invoke(cli, ["org", "create", "Acme"], env=env)
    assert result.exit_code == 2
    assert "tracker db upgrade" in result.stderr


def test_seed_prints_the_demo_password_and_its_accounts_sign_in(run: Run, engine: Engine) -> None:
    result = run("seed")

    assert result.exit_code == 0, result.output
    line = next(line for line in result.stdout.splitlines() if "demo accounts" in line)
    assert re.fullmatch(
        rf"added \d+ demo accounts, all with the password {DEMO_PASSWORD!r} \(demo data only\), "
        "for example:",
        line,
    )
    accounts_added = int(line.split()[1])
    assert accounts_added == user_count(engine)
    assert accounts_added >= 4 * 3  # at least two buyers and two vendors, three roles each
    example = result.stdout.split("for example:\n")[1].splitlines()[0].strip()
    assert authenticate(engine, example, DEMO_PASSWORD) is not None

    again = run("seed")
    assert again.exit_code == 0
    assert "demo accounts" not in again.stdout
    assert user_count(engine) == accounts_added
