"""The application factory: configuration, then each part of the app, in named steps."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the tracker application; ``overrides`` replace configuration (tests)."""
    app = Flask(
        "tracker",
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(PROJECT_ROOT / "instance"),
    )
    configure(app, overrides)
    return app


def configure(app: Flask, overrides: Mapping[str, Any] | None) -> None:
    """Defaults, then ``TRACKER_*`` environment variables, then explicit overrides."""
    app.config.from_mapping(REPORTS_DIR=str(PROJECT_ROOT / "reports"))
    app.config.from_prefixed_env("TRACKER")
    if overrides:
        app.config.update(overrides)
    os.makedirs(app.instance_path, exist_ok=True)
