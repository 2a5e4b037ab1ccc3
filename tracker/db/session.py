"""The engine per application and one session per request, closed when the request ends."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from tracker.db import health_invalidation  # noqa: F401  (registers its listener)
from tracker.db.functions import sqlite_lower

_EXTENSION = "tracker.db"


def database_url(app: Flask) -> str:
    """TRACKER_DATABASE_URL, or the embedded SQLite file in the instance folder."""
    url = app.config.get("DATABASE_URL")
    if url:
        return str(url)
    return f"sqlite:///{app.instance_path}/tracker.sqlite3"


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets foreign keys, WAL and a busy timeout for several workers."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    # The portfolio scans the contracts table; a 64 MB cache keeps it in memory.
    cursor.execute("PRAGMA cache_size = -65536")
    cursor.close()
    dbapi_connection.create_function("tracker_lower", 1, sqlite_lower, deterministic=True)


def init_app(app: Flask) -> None:
    """Create the engine and its session factory; close the request's session at teardown."""
    engine = make_engine(database_url(app))
    app.extensions[_EXTENSION] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine_of(app: Flask) -> Engine:
    """The application's engine."""
    factory: sessionmaker[Session] = app.extensions[_EXTENSION]
    bind = factory.kw["bind"]
    assert isinstance(bind, Engine)
    return bind


def new_session(app: Flask) -> Session:
    """A session of its own, for commands and background work."""
    factory: sessionmaker[Session] = app.extensions[_EXTENSION]
    return factory()


def request_session() -> Session:
    """The current request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = new_session(current_app)
    session: Session = g.db_session
    return session


def _close_session(_exc: BaseException | None) -> None:
    session = g.pop("db_session", None)
    if session is not None:
        session.close()
