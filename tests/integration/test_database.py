"""The database itself: exact money at the extremes, any text, migrations, the demo seed."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from flask import Flask
from sqlalchemy import create_engine, func, inspect, make_url, select, text
from sqlalchemy.orm import Session

from tracker.db import models  # noqa: F401  (registers every table on Base.metadata)
from tracker.db.base import Base
from tracker.db.migrate import current_revision, head_revision, upgrade
from tracker.db.models import Contract, ContractYear, Organisation, Scenario
from tracker.domain.errors import InvalidTerms
from tracker.domain.money import currency, from_minor_units
from tracker.domain.schedule_document import schedule_document
from tracker.services.access import SYSTEM
from tracker.services.contracts import contract_view, create_contract, delete_contract
from tracker.services.portfolio import PortfolioQuery, portfolio_page
from tracker.services.scenarios import create_scenario, scenario_view
from tracker.services.seed import SEED_DATA, seed_demo

POSTGRES_URL = os.environ.get("TRACKER_TEST_DATABASE_URL")
MANIFEST = json.loads((SEED_DATA / "portfolio.json").read_text("utf-8"))
DEMO_CODES = tuple(entry["code"] for entry in MANIFEST["contracts"])


def terms_document(**changes: Any) -> dict[str, Any]:
    """A one-year contract with nothing but a price, with ``changes`` laid over it."""
    document: dict[str, Any] = {
        "name": "Extremes",
        "buyer": "Big Buyer",
        "vendor": "Big Vendor",
        "currency": "EUR",
        "start_date": "2026-01-01",
        "term_years": 1,
        "price": {"base": "1.00", "escalation": {"method": "fixed", "rate": "0"}},
        "cost": {"baseline": "0"},
    }
    document.update(changes)
    return document


def priced(code: str, price: str, baseline: str = "0", **changes: Any) -> dict[str, Any]:
    return terms_document(
        currency=code,
        price={"base": price, "escalation": {"method": "fixed", "rate": "0"}},
        cost={"baseline": baseline},
        **changes,
    )


def stored_year_one(session: Session, contract_id: int) -> ContractYear:
    with session.begin():
        row = session.scalars(
            select(ContractYear)
            .where(ContractYear.contract_id == contract_id, ContractYear.year == 1)
            .execution_options(populate_existing=True)
        ).one()
        session.expunge(row)
        return row


def row_counts(session: Session) -> dict[str, int]:
    with session.begin():
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


# -- money at the extremes ----------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "price", "minor"),
    [
        ("EUR", "999999999999999.99", 99_999_999_999_999_999),
        ("KWD", "999999999999999.999", 999_999_999_999_999_999),
        ("JPY", "999999999999999", 999_999_999_999_999),
    ],
)
def test_the_largest_price_round_trips_exactly(
    session: Session, code: str, price: str, minor: int
) -> None:
    contract_id = create_contract(session, SYSTEM, priced(code, price))

    view = contract_view(session, SYSTEM, contract_id)
    money = currency(code)
    year = view.schedule.years[0]
    assert view.terms.base_price == Decimal(price)
    assert year.price == year.net_price == year.gross_margin == year.net_margin == minor
    assert from_minor_units(year.price, money) == Decimal(price)
    assert schedule_document(view.schedule)["years"][0]["price"] == price
    assert schedule_document(view.schedule)["totals"]["npv_net_margin"] == price
    stored = stored_year_one(session, contract_id)
    assert (stored.price, stored.baseline_cost, stored.net_margin) == (minor, 0, minor)
    with session.begin():
        totals = session.execute(
            select(Contract.total_price, Contract.total_net_margin, Contract.npv_net_margin).where(
                Contract.id == contract_id
            )
        ).one()
    assert tuple(totals) == (minor, minor, minor)


@pytest.mark.parametrize(
    ("code", "price", "baseline", "margin"),
    [
        ("EUR", "1.00", "999999999999999.99", "-999999999999998.99"),
        ("KWD", "0.001", "999999999999999.999", "-999999999999999.998"),
        ("JPY", "1", "999999999999999", "-999999999999998"),
    ],
)
def test_a_negative_margin_is_stored_negative_exactly(
    session: Session, code: str, price: str, baseline: str, margin: str
) -> None:
    contract_id = create_contract(session, SYSTEM, priced(code, price, baseline))

    view = contract_view(session, SYSTEM, contract_id)
    money = currency(code)
    year = view.schedule.years[0]
    assert from_minor_units(year.gross_margin, money) == Decimal(margin)
    assert from_minor_units(year.net_margin, money) == Decimal(margin)
    assert schedule_document(view.schedule)["totals"]["net_margin"] == margin
    stored = stored_year_one(session, contract_id)
    assert stored.net_margin == stored.gross_margin == year.net_margin < 0
    assert from_minor_units(stored.baseline_cost, money) == Decimal(baseline)
    with session.begin():
        total = session.scalar(select(Contract.total_net_margin).where(Contract.id == contract_id))
    assert total == year.net_margin


def test_the_largest_total_over_a_term_is_stored_exactly(session: Session) -> None:
    # Ten years just below a tenth of the limit: the total is just below the limit.
    contract_id = create_contract(
        session, SYSTEM, priced("KWD", "99999999999999.999", term_years=10)
    )

    totals = contract_view(session, SYSTEM, contract_id).schedule.totals
    assert totals.price == 10 * 99_999_999_999_999_999 == 999_999_999_999_999_990
    with session.begin():
        stored = session.scalar(select(Contract.total_price).where(Contract.id == contract_id))
    assert stored == totals.price
    assert from_minor_units(stored, currency("KWD")) == Decimal("999999999999999.990")


@pytest.mark.parametrize(
    ("document", "path"),
    [
        (priced("KWD", "999999999999999.999", term_years=10), "price.escalation"),
        (priced("EUR", "100000000000000.00", term_years=10), "price.escalation"),
        (priced("JPY", "1", "999999999999999", term_years=2), "cost.inflation"),
    ],
    ids=["kwd-price", "eur-price", "jpy-baseline"],
)
def test_terms_whose_total_reaches_the_money_limit_are_refused_and_nothing_stored(
    session: Session, document: dict[str, Any], path: str
) -> None:
    with pytest.raises(InvalidTerms) as caught:
        create_contract(session, SYSTEM, document)

    assert [error.path for error in caught.value.errors] == [path]
    assert "over the term" in caught.value.errors[0].message
    assert row_counts(session) == dict.fromkeys(Base.metadata.tables, 0)


# -- text ---------------------------------------------------------------------------


def test_text_with_accents_and_emoji_round_trips_unchanged(session: Session) -> None:
    name, buyer, vendor = "Ünïcødé — 合同 🚀", "Bűyér 𝔘 ñ", "Vëndør — 合同 ✓"
    contract_id = create_contract(
        session, SYSTEM, terms_document(name=name, buyer=buyer, vendor=vendor)
    )
    scenario_id = create_scenario(
        session, SYSTEM, contract_id, "Szenario 🚀 «größer»", terms_document()
    )

    view = contract_view(session, SYSTEM, contract_id)
    assert (view.terms.name, view.terms.buyer, view.terms.vendor) == (name, buyer, vendor)
    assert scenario_view(session, SYSTEM, scenario_id).name == "Szenario 🚀 «größer»"
    with session.begin():
        organisations = set(session.scalars(select(Organisation.name)))
        stored_terms = session.scalar(select(Contract.terms).where(Contract.id == contract_id))
        stored_name = session.scalar(select(Contract.name).where(Contract.id == contract_id))
    assert organisations == {buyer, vendor}
    assert stored_name == name
    assert stored_terms is not None
    assert name in stored_terms, "stored as the characters themselves, not escapes"
    rows = portfolio_page(session, SYSTEM, PortfolioQuery(search="合同")).rows
    assert [(row.name, row.buyer, row.vendor) for row in rows] == [(name, buyer, vendor)]


# -- migrations ---------------------------------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(
    request: pytest.FixtureRequest, tmp_path: Path, worker_id: str
) -> Iterator[str]:
    """A brand new database with nothing in it (PostgreSQL only when one is given)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/fresh.sqlite3"
        return
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL: set TRACKER_TEST_DATABASE_URL")
    base = make_url(POSTGRES_URL)
    # One per test worker, so that parallel workers do not drop each other's database.
    name = f"{base.database}_migrations_{worker_id}".replace("-", "_")
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def schema_differences(url: str) -> list[Any]:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))
    finally:
        engine.dispose()


def test_a_new_database_is_migrated_to_the_newest_revision(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    try:
        assert current_revision(engine) is None
        assert inspect(engine).get_table_names() == []

        upgrade(engine)

        head = head_revision(engine)
        assert head is not None
        assert current_revision(engine) == head
        assert set(inspect(engine).get_table_names()) == {
            *Base.metadata.tables,
            "alembic_version",
        }
    finally:
        engine.dispose()


def test_the_migrated_schema_matches_the_models_exactly(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    upgrade(engine)
    engine.dispose()

    assert schema_differences(empty_database_url) == []


def test_upgrading_twice_changes_nothing(empty_database_url: str) -> None:
    engine = create_engine(empty_database_url)
    try:
        upgrade(engine)
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO organisations (name, created_at) VALUES ('Kept', :now)"),
                {"now": "2026-01-01 00:00:00+00:00"},
            )

        upgrade(engine)

        assert current_revision(engine) == head_revision(engine)
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 1
            names = connection.scalars(text("SELECT name FROM organisations")).all()
        assert names == ["Kept"]
    finally:
        engine.dispose()
    assert schema_differences(empty_database_url) == []


# -- the demo seed ------------------------------------------------------------------


#: Audit events of the demo seed: one per contract, scenario and account created and per
#: delivery change (plans, actuals, KPIs, results, proposals, approvals, starts,
#: deliveries, drops, spending, the adjustment, year closes, report drafts,
#: commentaries and signatures), then the follow-up's (moves, dates, the amendment,
#: onboarding, concerns, pulse ratings, meetings and actions, the account map).
DELIVERY_EVENTS = (
    7 + 5 + 27 + 4 + 10 + 17 + 32 + 20 + 33 + 12 + 9 + 2 + 16 + 1 + 4 + 3 + 4 + 2
)  # fmt: skip
FOLLOW_UP_EVENTS = 495
#: The day the seed is run in these tests: what the demo holds depends on the day.
SEED_DAY = date(2026, 12, 7)


def test_seeding_twice_adds_nothing_the_second_time(app: Flask, session: Session) -> None:
    first = seed_demo(session, today=SEED_DAY)
    after_first = row_counts(session)

    second = seed_demo(session, today=SEED_DAY)

    assert first.added == DEMO_CODES
    assert first.present == ()
    assert len(first.users) == 9 * 3  # staff, finance and admin of every organisation
    assert second.added == ()
    assert second.present == DEMO_CODES
    assert second.users == ()
    assert row_counts(session) == after_first
    assert after_first == {
        "organisations": 9,
        "contracts": 7,
        "contract_years": 34,
        "scenarios": 5,
        "users": 27,
        "memberships": 27,
        "login_sessions": 0,
        # seed_data/delivery.json: four contracts with a volume driver or a commitment,
        "delivery_plans": 4,
        # a row per year with a planned volume (5 + 7 + 7 + 3) and CRE's year of actuals,
        "delivery_years": 22 + 1,
        "kpis": 17,
        # a target for every year of each KPI's contract,
        "kpi_years": 3 * 5 + 3 * 7 + 3 * 5 + 3 * 7 + 3 * 3 + 2 * 3,
        "initiatives": 20,
        "fund_entries": 16 + 1,  # spending and one adjustment
        "import_batches": 0,
        # reports of IFM-UK years 1 and 2 and SD-FR year 1; without the PDF renderer
        # IFM-UK year 1 stops at its first signature, so two signatures in all
        "annual_reports": 3,
        "report_signatures": 2,
        # seed_data/lifecycle, onboarding, concerns, meetings and account_map.json as of
        # SEED_DAY (what lies later is left out)
        "contract_moves": 23,
        "contract_follow_ups": 6,
        "contract_amendments": 1,
        "milestones": 80,
        "concerns": 27,
        "pulse_checks": 110,
        "meetings": 34,
        "meeting_actions": 58,
        "influences": 25,
        "alternatives": 18,
        "plan_actions": 15,
        "indicator_ratings": 41,
        "contract_health": 0,  # computed when first shown
        # none for the second run
        "audit_events": DELIVERY_EVENTS + FOLLOW_UP_EVENTS,
    }


def test_seeding_adds_back_only_a_missing_demo_contract(seeded: Flask, session: Session) -> None:
    with session.begin():
        draft = session.scalars(select(Contract).where(Contract.code == "WPS-US-2027")).one()
        draft_id, version = draft.id, draft.version
    delete_contract(session, SYSTEM, draft_id, expected_version=version)
    before = row_counts(session)

    result = seed_demo(session)

    assert result.added == ("WPS-US-2027",)
    assert result.present == tuple(code for code in DEMO_CODES if code != "WPS-US-2027")
    after = row_counts(session)
    assert after["contracts"] == before["contracts"] + 1
    assert after["scenarios"] == before["scenarios"] + 3
    assert after["contract_years"] == before["contract_years"] + 4
    assert after["organisations"] == before["organisations"]


def test_the_seeded_draft_has_three_scenarios(seeded: Flask, session: Session) -> None:
    with session.begin():
        contract_id = session.scalar(select(Contract.id).where(Contract.code == "WPS-US-2027"))
    assert contract_id is not None

    view = contract_view(session, SYSTEM, contract_id)

    assert view.status == "draft"
    assert view.terms_editable
    assert view.archived_at is None
    expected = next(e for e in MANIFEST["contracts"] if e["code"] == "WPS-US-2027")
    assert [s.name for s in view.scenarios] == [s["name"] for s in expected["scenarios"]]
    assert len(view.scenarios) == 3
    fixed = scenario_view(session, SYSTEM, view.scenarios[0].id)
    assert fixed.terms.escalation.method == "fixed"
    assert fixed.terms.name == view.terms.name
    with session.begin():
        assert (
            session.scalar(
                select(func.count())
                .select_from(Scenario)
                .where(Scenario.contract_id == contract_id)
            )
            == 3
        )
