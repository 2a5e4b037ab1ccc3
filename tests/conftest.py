"""Shared fixtures: test data, a migrated database (SQLite, or PostgreSQL when
TRACKER_TEST_DATABASE_URL is set), the application and its test client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, make_url, select, text
from sqlalchemy.orm import Session

from tracker.app import create_app
from tracker.db.base import Base
from tracker.db.migrate import upgrade
from tracker.db.session import engine_of, new_session
from tracker.services import accounts

# Cheap password hashing for tests: the production parameters cost ~0.1 s per hash.
accounts._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

DATA = Path(__file__).parent / "data"
PROJECT = Path(__file__).parent.parent
POSTGRES_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")


@pytest.fixture
def data_dir() -> Path:
    """The folder of the spec's worked examples and other test documents."""
    return DATA


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> str:
    """A database of this test worker's own, migrated to the newest schema."""
    if POSTGRES_URL:
        url = _worker_postgres_database(POSTGRES_URL, worker_id)
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db')}/tracker.sqlite3"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


def _worker_postgres_database(url: str, worker_id: str) -> str:
    # Workers run in parallel: each gets a fresh database beside the given one.
    base = make_url(url)
    name = f"{base.database}_{worker_id}".replace("-", "_")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """The application on an empty test database, emptied again afterwards."""
    application = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SECRET_KEY": "test secret key",
            "WTF_CSRF_ENABLED": False,
            "REPORTS_DIR": str(tmp_path / "reports"),
            "RATELIMIT_ENABLED": True,
        }
    )
    engine = engine_of(application)
    # Empty before as well as after: browser tests on the same database leave data.
    _empty(engine)
    yield application
    _empty(engine)
    engine.dispose()


def _empty(engine: Engine) -> None:
    # The audit trail refuses DELETE by trigger: tests lift the trigger to start afresh.
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            for verb in ("update", "delete"):
                connection.execute(text(f"DROP TRIGGER IF EXISTS audit_events_no_{verb}"))
            for table in reversed(Base.metadata.sorted_tables):
                connection.execute(table.delete())
            for verb in ("UPDATE", "DELETE"):
                connection.execute(
                    text(
                        f"CREATE TRIGGER audit_events_no_{verb.lower()} BEFORE {verb} ON "
                        "audit_events BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); "
                        "END"
                    )
                )
        else:
            names = ", ".join(table.name for table in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


#: Every party the web tests name: the signed-in tester is staff of each of them.
TEST_PARTIES = (
    "Nordlys IT", "Hospital Clinic Demo", "Gemeente Demo", "CleanOps BV", "Stadt Demo",
    "Sauber GmbH", "Filler Buyer", "Filler Vendor", "Big Buyer", "Big Vendor",
    "Mutuelle Atlantique", "Northbridge Borough Council", "Albion Facilities",
    "Meridian Global Bank", "Keystone Workplace Solutions", "Harbor Logistics Group",
    "Ledgerline BPO", "Vigilis Sécurité", "B", "V",
)  # fmt: skip
TESTER = "tester@example.test"
TEST_PASSWORD = "correct horse battery staple"


def add_user(app: Flask, email: str, organisations: tuple[str, ...], role: str = "staff") -> None:
    """An account with ``role`` in each organisation (created when missing)."""
    from tracker.db.account_models import Membership, User
    from tracker.db.models import Organisation

    now = datetime.now(UTC)
    with new_session(app) as db_session, db_session.begin():
        user = User(
            email=email, name=email, password_hash=accounts._HASHER.hash(TEST_PASSWORD),
            created_at=now, version=1,
        )  # fmt: skip
        db_session.add(user)
        for name in organisations:
            org = db_session.scalars(
                select(Organisation).where(Organisation.name == name)
            ).one_or_none()
            if org is None:
                org = Organisation(name=name, created_at=now)
                db_session.add(org)
            db_session.flush()
            db_session.add(Membership(user_id=user.id, organisation_id=org.id, role=role))


def sign_in(client: FlaskClient, email: str) -> FlaskClient:
    """Sign ``client`` in through the login page."""
    response = client.post("/login", data={"email": email, "password": TEST_PASSWORD})
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def anonymous(app: Flask) -> FlaskClient:
    """A test client nobody signed in on (CSRF checks off)."""
    return app.test_client()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client signed in as staff of every party the tests name (CSRF off)."""
    add_user(app, TESTER, TEST_PARTIES)
    return sign_in(app.test_client(), TESTER)


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A database session of its own."""
    db_session = new_session(app)
    yield db_session
    db_session.close()


@pytest.fixture
def seeded(app: Flask) -> Flask:
    """The application with the demo contracts loaded."""
    from tracker.reporting.report_pdf import report_pdf
    from tracker.services.seed import seed_demo
    from tracker.services.seed_reports import ReportSigning

    static = Path(str(app.static_folder))
    signing = ReportSigning(
        lambda content: report_pdf(app.jinja_env, static, content),
        Path(app.config["REPORTS_DIR"]),
    )
    with new_session(app) as db_session:
        seed_demo(db_session, signing=signing)
    return app
