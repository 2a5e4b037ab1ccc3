"""The ``tracker`` command: a Flask command group, so web and database commands join it."""

from __future__ import annotations

import json
import sys
from typing import BinaryIO, NoReturn

import click
from flask.cli import FlaskGroup

from tracker.app import create_app
from tracker.domain.errors import InvalidTerms
from tracker.domain.json_document import MAX_DOCUMENT_BYTES, DocumentError, load_json_document
from tracker.domain.schedule import compute_schedule, index_trace
from tracker.domain.schedule_document import schedule_document
from tracker.domain.terms_parser import parse_terms
from tracker.reporting.schedule_formats import schedule_csv, schedule_table

#: Exit status for bad input, as for a usage error.
BAD_INPUT = 2


@click.group(cls=FlaskGroup, create_app=create_app, add_default_commands=True)
def cli() -> None:
    """Multi-year service contracts: price curves, efficiency and reinvested margin."""


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
        _fail([f"document: {exc}"])
    except InvalidTerms as exc:
        _fail([str(error) for error in exc.errors])
    schedule = compute_schedule(terms)
    if output_format == "json":
        click.echo(json.dumps(schedule_document(schedule), indent=2))
    elif output_format == "csv":
        click.echo(schedule_csv(schedule), nl=False)
    else:
        click.echo(schedule_table(terms, schedule, index_trace(terms)), nl=False)


def _fail(messages: list[str]) -> NoReturn:
    for message in messages:
        click.echo(message, err=True)
    sys.exit(BAD_INPUT)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="tracker")
