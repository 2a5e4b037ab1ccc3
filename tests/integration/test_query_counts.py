"""SQL statements per request: the same for a handful of short contracts as for a
portfolio of long ones with scenarios (no query per row, year or scenario), and within
a small budget per page so that a regression shows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import add_user, sign_in
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from tracker.db.session import engine_of
from tracker.services.access import SYSTEM
from tracker.services.contracts import create_contract
from tracker.services.scenarios import create_scenario

DATA = Path(__file__).resolve().parents[1] / "data"
#: What being signed in costs every request: the login session, its user, and the
#: user's memberships (Flask-Login's user loader, tracker.services.accounts.actor_for_token).
#: Once a minute at most the session's last activity is written as well; the first
#: request of ``measure`` takes that one.
SIGNED_IN = 3
#: The most statements each page may cost: the page's own budget plus signing in.
BUDGET = {
    "portfolio": 6 + SIGNED_IN,
    "contract": 5 + SIGNED_IN,
    "schedule.csv": 5 + SIGNED_IN,
    "compare": 7 + SIGNED_IN,
    "edit": 5 + SIGNED_IN,
}
#: Every party the contracts below name: the signed-in person is staff of each of them.
PARTIES = tuple(f"Buyer {n}" for n in range(11)) + tuple(f"Vendor {n}" for n in range(7))


def terms(number: int, years: int) -> dict[str, Any]:
    """The fixed-5y example, renamed, with its own parties and ``years`` years."""
    document: dict[str, Any] = json.loads((DATA / "fixed-5y.json").read_text(encoding="utf-8"))
    return {
        **document,
        "name": f"Contract {number:03d}",
        "buyer": f"Buyer {number % 11}",
        "vendor": f"Vendor {number % 7}",
        "term_years": years,
    }


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Signed in as staff of every party of these contracts, so that all of them show."""
    add_user(app, "counter@example.test", PARTIES)
    return sign_in(app.test_client(), "counter@example.test")


@pytest.fixture
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the application's engine sends, in order."""
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])  # (connection, cursor, statement, parameters, context, many)

    engine = engine_of(app)
    event.listen(engine, "before_cursor_execute", count)
    yield seen
    event.remove(engine, "before_cursor_execute", count)


def measure(
    client: FlaskClient, statements: list[str], contract_id: int, scenario_ids: list[int]
) -> dict[str, int]:
    """How many statements each page costs, for one contract and the scenarios compared."""
    compared = "&".join(f"s={scenario}" for scenario in scenario_ids)
    pages = {
        "portfolio": "/",
        "contract": f"/contracts/{contract_id}",
        "schedule.csv": f"/contracts/{contract_id}/schedule.csv",
        "compare": f"/contracts/{contract_id}/compare?{compared}",
        "edit": f"/contracts/{contract_id}/edit",
    }
    # The first request of an application may set things up (and may refresh the
    # login session's last activity).
    client.get("/")
    counts = {}
    for page, url in pages.items():
        statements.clear()
        response = client.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        counts[page] = len(statements)
    return counts


def small_portfolio(session: Session) -> tuple[int, list[int]]:
    """Three contracts of three years; the first has one scenario."""
    ids = [create_contract(session, SYSTEM, terms(number, 3)) for number in range(3)]
    scenario = create_scenario(session, SYSTEM, ids[0], "Only one", terms(0, 3))
    return ids[0], [scenario]


def large_portfolio(session: Session) -> tuple[int, list[int]]:
    """Sixty more contracts of thirty years; the first of them has four scenarios."""
    ids = [create_contract(session, SYSTEM, terms(number, 30)) for number in range(100, 160)]
    scenarios = [
        create_scenario(session, SYSTEM, ids[0], f"Scenario {number}", terms(100, 30))
        for number in range(4)
    ]
    return ids[0], scenarios


def test_each_page_costs_the_same_queries_for_3_short_contracts_as_for_60_long_ones(
    app: Flask, client: FlaskClient, session: Session, statements: list[str]
) -> None:
    small = measure(client, statements, *small_portfolio(session))
    large = measure(client, statements, *large_portfolio(session))
    # The signed-in person sees every contract: the large portfolio is really listed.
    assert "63 contracts, page 1 of 3." in client.get("/").get_data(as_text=True)
    print(f"statements per page: 3 x 3 years {small}; 60 x 30 years {large}")
    assert small == large, f"statements per page: 3 x 3 years {small}; 60 x 30 years {large}"


def test_each_page_stays_within_its_query_budget(
    app: Flask, client: FlaskClient, session: Session, statements: list[str]
) -> None:
    small_portfolio(session)
    counts = measure(client, statements, *large_portfolio(session))
    over = {page: count for page, count in counts.items() if count > BUDGET[page]}
    assert not over, f"statements per page {counts}, budget {BUDGET}"


def test_the_statement_counter_sees_the_portfolio_queries(
    app: Flask, client: FlaskClient, statements: list[str]
) -> None:
    # Guards the two tests above against a listener that counts nothing.
    client.get("/")
    statements.clear()
    client.get("/")
    assert statements
    assert any("FROM contracts" in statement for statement in statements)
