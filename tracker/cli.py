"""The ``tracker`` command: a Flask command group, so web and database commands join it."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import click
from flask import current_app
from flask.cli import FlaskGroup, ScriptInfo, with_appcontext

from tracker.app import UnsafeConfiguration, create_app
from tracker.cli_support import fail, require_migrated
from tracker.db.account_models import ROLES
from tracker.db.migrate import current_revision, head_revision, upgrade
from tracker.db.session import engine_of, new_session
from tracker.domain.errors import InvalidTerms
from tracker.domain.json_document import MAX_DOCUMENT_BYTES, DocumentError, load_json_document
from tracker.domain.schedule import compute_schedule, index_trace
from tracker.domain.schedule_document import schedule_document
from tracker.domain.terms_parser import parse_terms
from tracker.report_cli import report_group
from tracker.reporting.schedule_formats import schedule_csv, schedule_table
from tracker.server import run_gunicorn
from tracker.services import accounts
from tracker.services.access import SYSTEM
from tracker.services.accounts import new_password
from tracker.services.errors import DuplicateName, NotFound
from tracker.services.health import refresh_all_health
from tracker.services.seed import DEMO_PASSWORD, database_is_empty, seed_demo
from tracker.services.seed_reports import ReportSigning


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=True)
def cli() -> None:
    """Multi-year service contracts: price curves, efficiency and reinvested margin."""


cli.add_command(report_group)


@cli.command("model")
@click.argument("terms_file", type=click.File("rb"), metavar="FILE|-")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json", "csv"]),
    default="table",
    show_default=True,
    help="table for a person, json as in the spec, csv one row per year.",
)
def model_command(terms_file: BinaryIO, output_format: str) -> None:
    """Print the yearly schedule of the contract terms in FILE (- for standard input)."""
    data = terms_file.read(MAX_DOCUMENT_BYTES + 1)
    try:
        terms = parse_terms(load_json_document(data))
    except DocumentError as exc:
        fail([f"document: {exc}"])
    except InvalidTerms as exc:
        fail([str(error) for error in exc.errors])
    schedule = compute_schedule(terms)
    if output_format == "json":
        click.echo(json.dumps(schedule_document(schedule), indent=2))
    elif output_format == "csv":
        click.echo(schedule_csv(schedule), nl=False)
    else:
        click.echo(schedule_table(terms, schedule, index_trace(terms)), nl=False)


@cli.group("db")
def db_group() -> None:
    """The database: migrate it to the schema this version needs."""


@db_group.command("upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Migrate the database to the newest schema (creates it when new)."""
    engine = engine_of(current_app)
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"Database {where} is up to date (revision {after}).")
    else:
        click.echo(f"Database {where} migrated from {before or 'empty'} to {after}.")


@db_group.command("current")
@with_appcontext
def db_current() -> None:
    """Print the schema revision of the database and the newest one known."""
    engine = engine_of(current_app)
    click.echo(f"database: {current_revision(engine) or 'not migrated'}")
    click.echo(f"newest:   {head_revision(engine)}")


@cli.command("seed")
@click.option("--if-empty", is_flag=True, help="Only when the database holds no contract at all.")
@with_appcontext
def seed_command(if_empty: bool) -> None:
    """Load the demo contracts; those already stored are left as they are."""
    require_migrated()
    session = new_session(current_app)
    if if_empty and not database_is_empty(session):
        click.echo("The database already holds contracts; no demo data added.")
        return
    result = seed_demo(session, signing=report_signing())
    for code in result.added:
        click.echo(f"added   {code}")
    if result.users:
        click.echo(f"added {len(result.users)} demo accounts, all with the password "
                   f"{DEMO_PASSWORD!r} (demo data only), for example:")  # fmt: skip
        for email in result.users[:3]:
            click.echo(f"  {email}")
    if result.present:
        click.echo(f"{len(result.present)} demo contracts were already there; unchanged.")


@cli.group("health")
def health_group() -> None:
    """Contract health: the scores the portfolio sorts by."""


@health_group.command("refresh")
@with_appcontext
def health_refresh_command() -> None:
    """Compute today's health of every signed contract that lacks it (run it nightly)."""
    require_migrated()
    session = new_session(current_app)
    try:
        count = refresh_all_health(session, datetime.now(UTC).date())
    finally:
        session.close()
    click.echo(f"Computed the health of {count} contract{'' if count == 1 else 's'}.")


def report_signing() -> ReportSigning:
    """What freezing a report needs, from the current application."""
    from tracker.reporting.report_pdf import report_pdf  # noqa: PLC0415  (WeasyPrint is heavy)

    static = Path(str(current_app.static_folder))
    return ReportSigning(
        functools.partial(report_pdf, current_app.jinja_env, static),
        Path(current_app.config["REPORTS_DIR"]),
    )


@cli.command("serve", with_appcontext=False)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes; about 2 x cores + 1 is usual.",
)
@click.pass_context
def serve_command(context: click.Context, host: str, port: int, workers: int) -> None:
    """Serve the application with gunicorn, a production WSGI server."""
    app = context.ensure_object(ScriptInfo).load_app()
    # Check inside a context of its own that ends before gunicorn forks: a context
    # still open in the workers would be shared by every request they serve.
    with app.app_context():
        require_migrated()
    click.echo(f"tracker at http://{host}:{port}/ ({workers} workers); Ctrl+C stops it.")
    run_gunicorn(app, host=host, port=port, workers=workers)


@cli.group("user")
def user_group() -> None:
    """Accounts: create, disable and reset the password of users."""


@user_group.command("create")
@click.argument("email")
@click.option("--name", required=True, help="The person's name.")
@click.option("--organisation", required=True, help="An existing organisation's exact name.")
@click.option("--role", type=click.Choice(ROLES), default="staff", show_default=True)
@with_appcontext
def user_create(email: str, name: str, organisation: str, role: str) -> None:
    """Create an account and print its password (shown once)."""
    require_migrated()
    password = new_password()
    _run(
        lambda: accounts.create_user(
            new_session(current_app),
            SYSTEM,
            email=email,
            name=name,
            password=password,
            organisation=organisation,
            role=role,
        )
    )
    click.echo(f"created {email.strip().lower()} ({role} at {organisation})")
    click.echo(f"password: {password}")


@user_group.command("disable")
@click.argument("email")
@with_appcontext
def user_disable(email: str) -> None:
    """Disable an account; its sessions end at once."""
    require_migrated()
    _run(lambda: accounts.set_disabled(new_session(current_app), SYSTEM, email, True))
    click.echo(f"disabled {email}")


@user_group.command("enable")
@click.argument("email")
@with_appcontext
def user_enable(email: str) -> None:
    """Let a disabled account sign in again."""
    require_migrated()
    _run(lambda: accounts.set_disabled(new_session(current_app), SYSTEM, email, False))
    click.echo(f"enabled {email}")


@user_group.command("reset-password")
@click.argument("email")
@with_appcontext
def user_reset_password(email: str) -> None:
    """Give an account a new password and print it; its sessions end."""
    require_migrated()
    password = new_password()
    _run(lambda: accounts.reset_password(new_session(current_app), SYSTEM, email, password))
    click.echo(f"new password for {email}: {password}")


@cli.group("org")
def org_group() -> None:
    """Organisations: the parties that users belong to."""


@org_group.command("create")
@click.argument("name")
@with_appcontext
def org_create(name: str) -> None:
    """Create an organisation (contracts also create their parties by name)."""
    require_migrated()
    _run(lambda: accounts.create_organisation(new_session(current_app), SYSTEM, name))
    click.echo(f"created organisation {name.strip()}")


def _run(action: Callable[[], object]) -> None:
    """Run a service; bad input prints its messages and exits with status 2."""
    try:
        action()
    except InvalidTerms as exc:
        fail([str(error) for error in exc.errors])
    except (DuplicateName, NotFound) as exc:
        fail([str(exc)])


def main() -> None:
    """Console-script entry point; unsafe production settings stop it with a message."""
    try:
        cli.main(prog_name="tracker")
    except UnsafeConfiguration as exc:
        fail([str(exc)])
