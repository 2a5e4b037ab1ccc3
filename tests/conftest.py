"""Shared fixtures: test data, a migrated database (SQLite, or PostgreSQL when
TRACKER_TEST_DATABASE_URL is set), the application and its test client."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from tracker.app import create_app
from tracker.db.base import Base
from tracker.db.migrate import upgrade
from tracker.db.session import engine_of, new_session

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
        }
    )
    engine = engine_of(application)
    # Empty before as well as after: browser tests on the same database leave data.
    _empty(engine)
    yield application
    _empty(engine)
    engine.dispose()


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of the application (CSRF checks off; see csrf_app for them on)."""
    return app.test_client()


@pytest.fixture
def session(app: Flask) -> Iterator[Session]:
    """A database session of its own."""
    db_session = new_session(app)
    yield db_session
    db_session.close()


@pytest.fixture
def seeded(app: Flask) -> Flask:
    """The application with the demo contracts loaded."""
    from tracker.services.seed import seed_demo

    with new_session(app) as db_session:
        seed_demo(db_session)
    return app
