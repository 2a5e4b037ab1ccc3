"""Serving the application with gunicorn from the ``tracker serve`` command."""

from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication

from tracker.db.session import engine_of


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """A gunicorn application that serves an already-built Flask app."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application


def run_gunicorn(app: Flask, *, host: str, port: int, workers: int) -> None:
    """Serve ``app`` on host:port until interrupted."""
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "accesslog": "-",
        "errorlog": "-",
        "timeout": 60,
        # Workers are forked from this process: connections opened before the fork
        # must not be shared, so the engine's pool is reset in each worker.
        "post_fork": _reset_pool,
    }
    _Gunicorn(app, options).run()


def _reset_pool(_server: Any, worker: Any) -> None:
    engine_of(worker.app.application).dispose(close=False)
