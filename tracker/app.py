"""The application factory: configuration, then each part of the app, in named steps."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Bodies larger than this are refused with 413 before they are parsed.
MAX_BODY_BYTES = 2 * 1024 * 1024


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the tracker application; ``overrides`` replace configuration (tests)."""
    app = Flask(
        "tracker",
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    configure(app, overrides)
    init_database(app)
    init_web(app)
    check_system(app)
    return app


def configure(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Defaults, then ``TRACKER_*`` environment variables, then explicit overrides."""
    app.config.from_mapping(
        REPORTS_DIR=str(PROJECT_ROOT / "reports"),
        DATABASE_URL=None,
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
        MAX_FORM_MEMORY_SIZE=MAX_BODY_BYTES,
        BOOTSTRAP_SERVE_LOCAL=True,
        WTF_CSRF_TIME_LIMIT=None,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_NAME="tracker_session",
        PRODUCTION=False,
    )
    app.config.from_prefixed_env("TRACKER")
    if overrides:
        app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
    if app.config.get("PRODUCTION"):
        require_production_settings(app)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = instance_secret_key(Path(app.instance_path))


class UnsafeConfiguration(RuntimeError):
    """A production start with settings that would not be safe."""


def require_production_settings(app: Flask) -> None:
    """In production (TRACKER_PRODUCTION=1): a real secret key, secure cookies."""
    key = str(app.config.get("SECRET_KEY") or "")
    if len(key) < 32:
        raise UnsafeConfiguration(
            "TRACKER_PRODUCTION is set: set TRACKER_SECRET_KEY to a random value of at least "
            "32 characters (python3 -c 'import secrets; print(secrets.token_hex(32))')"
        )
    app.config["SESSION_COOKIE_SECURE"] = True
    app.config["REMEMBER_COOKIE_SECURE"] = True


def instance_secret_key(instance: Path) -> str:
    """A random key kept in the instance folder, made on first start (never committed)."""
    path = instance / "secret_key"
    if not path.exists():
        # O_EXCL: several workers starting at once agree on the first key written.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_hex(32))
    return path.read_text().strip()


def init_database(app: Flask) -> None:
    """The engine and the session per request."""
    from tracker.db import session  # noqa: PLC0415  (keeps `tracker model` light)

    session.init_app(app)


def check_system(app: Flask) -> None:
    """Warn in the log about missing system libraries that degrade the service."""
    from tracker.reporting.pdf_support import warn_without_font_subsetting  # noqa: PLC0415

    warn_without_font_subsetting(app.logger)


def init_web(app: Flask) -> None:
    """Blueprints, CSRF, error pages, template filters, the CSS library."""
    from tracker import web  # noqa: PLC0415  (keeps `tracker model` light)

    web.init_app(app)
