"""What every ``tracker`` command shares: how bad input ends a command, and the check that
the database is at the schema this version needs."""

from __future__ import annotations

import sys
from typing import NoReturn

import click
from flask import current_app

from tracker.db.migrate import current_revision, head_revision
from tracker.db.session import engine_of

#: Exit status for bad input, as for a usage error.
BAD_INPUT = 2


def fail(messages: list[str]) -> NoReturn:
    """Print each message to standard error and exit with status 2 (bad input)."""
    for message in messages:
        click.echo(message, err=True)
    sys.exit(BAD_INPUT)


def require_migrated() -> None:
    """Exit with status 2 unless the current app's database is at the newest schema."""
    engine = engine_of(current_app)
    if current_revision(engine) != head_revision(engine):
        fail(["the database is not at the newest schema: run `tracker db upgrade` first"])
